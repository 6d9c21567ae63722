/**
 * The messages of one System V queue, in arrival order, and msgrcv's rule for choosing one.
 * A linked list: the usual receive takes the head, a typed one unlinks from the middle.
 */

/** One queued message. */
export interface QueuedMessage {
  /** Its number in its queue, for the journal: increasing, never reused. */
  readonly seq: number;
  readonly type: number;
  readonly data: Buffer;
  readonly sendPid: number;
  readonly sendTime: number;
}

interface Node {
  readonly m: QueuedMessage;
  prev: Node | undefined;
  next: Node | undefined;
}

export class MessageList implements Iterable<QueuedMessage> {
  private head: Node | undefined;
  private tail: Node | undefined;
  private readonly nodes = new Map<QueuedMessage, Node>();

  get count(): number {
    return this.nodes.size;
  }

  push(m: QueuedMessage): void {
    const node: Node = { m, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.nodes.set(m, node);
  }

  remove(m: QueuedMessage): void {
    const node = this.nodes.get(m);
    if (node === undefined) return;
    this.nodes.delete(m);
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
  }

  clear(): void {
    this.head = this.tail = undefined;
    this.nodes.clear();
  }

  *[Symbol.iterator](): Iterator<QueuedMessage> {
    for (let n = this.head; n !== undefined; n = n.next) yield n.m;
  }
}

/** What a receive asks for: msgrcv's msgtyp, and MSG_EXCEPT. */
export interface Selector {
  type: number;
  except: boolean;
}

/** Does a message of `type` satisfy `sel`? (For a blocked receiver: the first that does is its.) */
export function matches(sel: Selector, type: number): boolean {
  if (sel.type === 0) return true;
  if (sel.type > 0) return sel.except ? type !== sel.type : type === sel.type;
  return type <= -sel.type;
}

/**
 * msgrcv's choice: type 0 the first message; > 0 the first of that type (with `except`, the
 * first of any other type); < 0 the first of the lowest type that is ≤ |type|.
 */
export function selectMessage(list: MessageList, sel: Selector): QueuedMessage | undefined {
  if (sel.type >= 0) {
    for (const m of list) if (matches(sel, m.type)) return m;
    return undefined;
  }
  let best: QueuedMessage | undefined;
  for (const m of list) {
    if (m.type <= -sel.type && (best === undefined || m.type < best.type)) {
      best = m;
      if (m.type === 1) break; // nothing is lower
    }
  }
  return best;
}

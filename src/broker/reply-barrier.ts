/**
 * The reply barrier of durable state: no reply leaves the object manager while writes the
 * store was given before that reply was produced are not yet durable. A reply is the only
 * way a client learns anything, so a client never sees an effect (a send resolved, a
 * message received) that a crash could undo. Each connection's replies keep their order;
 * while the store has nothing pending, replies go at once.
 */

/** What the barrier needs of the store. */
export interface Durability {
  /** Some write issued is not yet durable. */
  readonly dirty: boolean;
  /** Resolves when every write issued before the call is durable; rejects if one cannot be. */
  flushed(): Promise<void>;
}

interface Held {
  frame: Buffer;
  ready: boolean;
}

/** One connection's replies on their way out. */
export class Outbox {
  private readonly held: Held[] = [];
  private closed = false;

  constructor(
    private readonly barrier: ReplyBarrier,
    private readonly write: (frame: Buffer) => void,
  ) {}

  /** Send `frame` once what precedes it is durable, after every frame queued before it. */
  send(frame: Buffer): void {
    if (this.closed) return;
    const store = this.barrier.durability;
    if (store === undefined || (!store.dirty && this.held.length === 0)) {
      this.write(frame);
      return;
    }
    const entry: Held = { frame, ready: !store.dirty };
    this.held.push(entry);
    if (entry.ready) return; // behind replies still held; it goes when they do
    store.flushed().then(
      () => {
        entry.ready = true;
        this.drain();
      },
      (e: unknown) => this.barrier.failed(e as Error),
    );
  }

  /** The connection is gone: what is held is dropped. */
  close(): void {
    this.closed = true;
    this.held.length = 0;
  }

  private drain(): void {
    while (!this.closed && this.held.length > 0 && this.held[0]!.ready) this.write(this.held.shift()!.frame);
  }
}

export class ReplyBarrier {
  private failure: Error | undefined;

  constructor(
    /** The store; undefined when this object manager keeps nothing durable. */
    readonly durability: Durability | undefined,
    /** A write could not be made durable: replies that depend on it can never be sent. */
    private readonly onFailure: (error: Error) => void,
  ) {}

  outbox(write: (frame: Buffer) => void): Outbox {
    return new Outbox(this, write);
  }

  /** Run `work` once every reply produced so far has left (at once when none is held). */
  afterReplies(work: () => void): void {
    const store = this.durability;
    if (store === undefined || !store.dirty) work();
    // Flushes settle in order, and the held replies asked first, so they are written first.
    else void store.flushed().then(work, work);
  }

  /** Report a store failure, once. */
  failed(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.onFailure(error);
  }
}

/**
 * MessageQueue: a System V message queue (msgget, msgsnd, msgrcv, msgctl) kept by the object
 * manager. Messages are typed and bounded; senders block while the queue is full and
 * receivers while nothing they select is there. A queue is found by its key and lives until
 * it is removed, not until its last handle closes; a durable one also outlives the object
 * manager. Failures are IpcErrors with errno names: EEXIST, ENOENT, EACCES, EPERM, EINVAL,
 * EAGAIN, ENOMSG, E2BIG, EIDRM, ENOSPC, ENOMEM.
 */
import { randomInt } from 'node:crypto';
import { IpcError } from '../errors.ts';
import type { MessageQueueStat } from '../protocol/schema.ts';
import { IPC_PRIVATE, MessageQueueLimits } from '../protocol/message-queue.ts';
import type { Connection } from './connection.ts';
import { connectionOf, KernelHandle } from './handle.ts';
import { cancellable } from './wait.ts';

export { IPC_PRIVATE, MessageQueueLimits, type MessageQueueStat };

export interface MessageQueueGetOptions {
  /** The connection (thread) to use; default: this agent's own. */
  connection?: Connection;
  /** IPC_CREAT: make the queue if the key has none. */
  create?: boolean;
  /** IPC_EXCL: with `create`, fail EEXIST if the key has a queue already. */
  exclusive?: boolean;
  /**
   * Permission bits (0 to 0o777; x is ignored). A new queue gets them (default 0o600); for an
   * existing queue they are the rights asked for and checked against it, as msgget checks its
   * flags (default: none when not creating, so any caller opens it and send and receive check).
   */
  mode?: number;
  /** msg_qbytes of a new queue (default MSGMNB, 16384): how many bytes it holds. Ignored for an existing queue. */
  maxBytes?: number;
  /** Keep a new queue and its messages across restarts of the object manager. Ignored for an existing queue. */
  durable?: boolean;
}

export interface MessageQueueSendOptions {
  /** IPC_NOWAIT: fail EAGAIN rather than wait for room. */
  noWait?: boolean;
  /** Cancels a send that waits for room: it rejects with the signal's reason and the message is not sent. */
  signal?: AbortSignal;
}

export interface MessageQueueReceiveOptions {
  /** 0 (default) the first message; > 0 the first of that type; < 0 the first of the lowest type ≤ |type|. */
  type?: number;
  /** MSG_EXCEPT (with type > 0): the first message of any other type. */
  except?: boolean;
  /** IPC_NOWAIT: fail ENOMSG rather than wait for a message. */
  noWait?: boolean;
  /** The largest message accepted (default: any); a longer one fails E2BIG and stays queued, unless `truncate`. */
  maxBytes?: number;
  /** MSG_NOERROR: take a longer message cut to `maxBytes`, the rest discarded. */
  truncate?: boolean;
  /** Cancels a receive that waits: it rejects with the signal's reason and takes nothing. */
  signal?: AbortSignal;
}

export interface MessageQueueMessage {
  type: number;
  data: Buffer;
}

/**
 * Receipts of this process's receives from durable queues, by queue key: the tokens of
 * receives the object manager's death cut short (claimed by the next receive from that
 * queue, which then resolves with the message the cut-short one had taken, if it had), and
 * the tokens of resolved ones whose receipts the object manager may now drop.
 */
const claims = new Map<string, number[]>();
const acks = new Map<string, number[]>();
const keyId = (key: number | string) => `${typeof key === 'number' ? 'n' : 's'}:${key}`;

function take(book: Map<string, number[]>, id: string): number {
  return book.get(id)?.shift() ?? 0;
}

function keep(book: Map<string, number[]>, id: string, token: number): void {
  if (token === 0) return;
  let list = book.get(id);
  if (list === undefined) book.set(id, (list = []));
  list.push(token);
}

/** Numbers the wire cannot carry as asked are sent as NaN, which the object manager refuses (EINVAL). */
function num(n: unknown): number {
  return typeof n === 'number' ? n : NaN;
}

export class MessageQueue extends KernelHandle {
  /** True when this get() made the queue. */
  readonly created: boolean;
  /** True when the queue is kept across restarts of the object manager. */
  readonly durable: boolean;

  private constructor(connection: Connection, handle: number, objectId: number, readonly key: number | string, created: boolean, durable: boolean) {
    super(connection, handle, objectId, typeof key === 'string' ? key : undefined);
    this.created = created;
    this.durable = durable;
  }

  /**
   * msgget. `key` is an int32 (0 is IPC_PRIVATE: always a new queue no other get finds) or a
   * string of 1 to 255 characters; a number and a string never name the same queue.
   * Fails: ENOENT (no queue and no `create`); EEXIST (`create` and `exclusive`, and it
   * exists); EACCES (the queue's mode denies the bits of `mode`); EINVAL (a bad key, mode
   * or maxBytes, or a durable private queue); ENOSPC (MSGMNI queues exist); and, for a
   * durable queue, what the store reports (ENOSPC when full, ERROR_SHARING_VIOLATION when
   * another object manager holds its state directory).
   */
  static async get(key: number | string, opts: MessageQueueGetOptions = {}): Promise<MessageQueue> {
    const c = await connectionOf(opts);
    const create = opts.create ?? false;
    const r = await c.request('mqGet', {
      name: typeof key === 'string' ? key : undefined,
      key: typeof key === 'number' ? key : typeof key === 'string' ? IPC_PRIVATE : NaN,
      create,
      exclusive: opts.exclusive ?? false,
      mode: opts.mode === undefined ? (create ? 0o600 : 0) : Number.isInteger(opts.mode) && opts.mode >= 0 && opts.mode <= 0xffff_ffff ? opts.mode : 0xffff_ffff,
      maxBytes: opts.maxBytes === undefined ? -1 : typeof opts.maxBytes === 'number' && opts.maxBytes >= 0 ? opts.maxBytes : NaN,
      durable: opts.durable ?? false,
    });
    return new MessageQueue(c, r.handle, r.objectId, key, r.created, r.durable);
  }

  /**
   * msgsnd: queue a message of `type` (an integer ≥ 1) holding `data` (a string is sent as
   * UTF-8), at most MSGMAX (8192) bytes. Waits while the queue has no room for it (blocked
   * senders go in arrival order as room is made). Resolves once the message is queued (or
   * handed to a waiting receiver); for a durable queue, once it is on disk.
   * Fails: EINVAL (type or size); EACCES (no write permission); EAGAIN (full and `noWait`);
   * EIDRM (the queue was removed, also while waiting); ENOMEM (the object manager's memory
   * for messages is used up); ENOSPC (a durable queue's store is full).
   */
  async send(type: number, data: Uint8Array | string, opts: MessageQueueSendOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await cancellable(this.connection, 'mqSend', { handle: this.handle, type: num(type), data: bytes, noWait: opts.noWait ?? false }, opts.signal);
  }

  /**
   * msgrcv: take a message as `type` selects it, waiting until there is one. For a durable
   * queue it resolves once the message's removal is on disk; and if an earlier receive from
   * the queue in this process failed ERROR_CONNECTION_ABORTED because the object manager
   * died after it had taken a message, the first receive after the restart resolves with
   * that message, whatever it selects (so a message is received once even then).
   * Fails: ENOMSG (none and `noWait`); E2BIG (longer than `maxBytes` without `truncate`:
   * the message stays queued); EACCES (no read permission); EINVAL (a bad type or maxBytes);
   * EIDRM (the queue was removed, also while waiting).
   */
  async receive(opts: MessageQueueReceiveOptions = {}): Promise<MessageQueueMessage> {
    opts.signal?.throwIfAborted();
    const id = keyId(this.key);
    const token = this.durable ? randomInt(1, 2 ** 48) : 0;
    const claim = this.durable ? take(claims, id) : 0;
    const ack = this.durable ? take(acks, id) : 0;
    let r;
    try {
      r = await cancellable(
        this.connection,
        'mqReceive',
        {
          handle: this.handle,
          type: num(opts.type ?? 0),
          maxBytes: opts.maxBytes === undefined ? Infinity : num(opts.maxBytes),
          noWait: opts.noWait ?? false,
          truncate: opts.truncate ?? false,
          except: opts.except ?? false,
          token,
          claim,
          ack,
        },
        opts.signal,
      );
    } catch (e) {
      // Cut short: this receive may have taken a message (its receipt tells), and what it
      // claimed and acknowledged may not have been seen. Any other answer settles them.
      if (e instanceof IpcError && e.code === 'ERROR_CONNECTION_ABORTED') {
        keep(claims, id, claim);
        keep(claims, id, token);
        keep(acks, id, ack);
      }
      throw e;
    }
    keep(acks, id, r.claimed ? claim : token);
    return { type: r.type, data: Buffer.from(r.data) };
  }

  /** msgctl(IPC_STAT). Fails EACCES without read permission, EIDRM once removed. */
  async stat(): Promise<MessageQueueStat> {
    return (await this.connection.request('mqStat', { handle: this.handle })).stat;
  }

  /**
   * msgctl(IPC_SET): change the byte limit (0 to 16 MiB) and the mode. A larger limit lets
   * waiting senders in; a waiting sender or receiver that loses its permission fails EACCES.
   * Fails: EINVAL (bad numbers); EPERM (not the owner, the creator or root); EIDRM.
   */
  async set(changes: { maxBytes?: number; mode?: number }): Promise<void> {
    const maxBytes = changes.maxBytes === undefined ? -1 : typeof changes.maxBytes === 'number' && changes.maxBytes >= 0 ? changes.maxBytes : NaN;
    const mode = changes.mode === undefined ? -1 : Number.isInteger(changes.mode) && changes.mode >= 0 && changes.mode <= 0x7fff_ffff ? changes.mode : 0x7fff_ffff;
    await this.connection.request('mqSet', { handle: this.handle, maxBytes, mode });
  }

  /**
   * msgctl(IPC_RMID): destroy the queue and its messages now. Every waiting sender and
   * receiver fails EIDRM, so do later operations on any handle to it, and the key is free
   * for a new queue. Fails EPERM (not the owner, the creator or root), EIDRM.
   */
  async remove(): Promise<void> {
    await this.connection.request('mqRemove', { handle: this.handle });
  }
}

/**
 * The writes of one pipe end, from write() to resolution: the credit gate (a write goes out
 * once the bytes sent before it and not yet read fit the peer's buffer), the commit (the
 * socket has taken it) and resolution in call order. Owns no socket: frames go through the
 * Outbox, credit and commits come in from the channel.
 */
import { ProtocolError } from '../protocol/fields.ts';
import { MAX_DATA_FRAME } from '../protocol/pipe-wire.ts';
import type { Outbox } from './pipe-outbox.ts';

interface PendingWrite {
  data: Buffer;
  /** A later part of a long write: its first part (the write counts as sent from there). */
  first: PendingWrite | undefined;
  /** Set on a write's last part only (a long byte-pipe write goes as several parts). */
  resolve: ((n: number) => void) | undefined;
  reject: (e: Error) => void;
  result: number;
  /** TransactNamedPipe's write does not wait for room in the peer's buffer. */
  transact: boolean;
  /** The bytes sent on this channel, this write's included. */
  sentThrough: number;
  /** The outbox batch that carries its last frame. */
  batch: number;
  /** Its number among this end's writes (the peer counts them too). */
  seq: number;
}

const noop = (): void => {};

/**
 * A first-in first-out line with O(1) shift (Array#shift copies once the array is large,
 * and a fast writer keeps thousands of small writes in flight).
 */
class Line<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Everything in the line, taken out. */
  drain(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

// The executor of every write's promise, without a closure per write: it hands its
// functions over here and the write picks them up at once.
let nextResolve: (n: number) => void = noop;
let nextReject: (e: Error) => void = noop;
function capture(resolve: (n: number) => void, reject: (e: Error) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

function pendingWrite(data: Buffer, resolve: PendingWrite['resolve'], reject: PendingWrite['reject'], result: number, transact: boolean, first: PendingWrite | undefined): PendingWrite {
  return { data, first, resolve, reject, result, transact, sentThrough: 0, batch: 0, seq: 0 };
}

export class PipeWrites {
  private readonly unsent = new Line<PendingWrite>();
  private readonly inflight = new Line<PendingWrite>();
  /** Zero-length messages sent past writes that wait for room: they wait only for the socket. */
  private readonly zeros = new Line<PendingWrite>();
  private sentBytes = 0;
  /** Bytes of every write and transaction request so far, sent or not. */
  private issuedBytes = 0;
  private credited = 0;
  /** flush() calls waiting for the peer to have read through `through` bytes, in order. */
  private readonly flushes: { through: number; resolve(): void }[] = [];
  private writesSent = 0;
  private committedBatch = 0;

  constructor(
    private readonly outbox: Outbox,
    /** The peer's buffer: what it holds unread before a write waits. */
    private readonly peerQuota: number,
    /** A byte pipe: a long write may go as parts. */
    private readonly byteStream: boolean,
  ) {}

  /** Something waits here (to be sent, committed or read). */
  get busy(): boolean {
    return this.unsent.length > 0 || this.inflight.length > 0 || this.zeros.length > 0 || this.flushes.length > 0;
  }

  /** WriteFile's bytes (checked by the caller): resolves with `buf.length` as write() does. */
  write(buf: Buffer): Promise<number> {
    const n = buf.length;
    this.issuedBytes += n;
    const promise = new Promise<number>(capture);
    const resolve = nextResolve;
    const reject = nextReject;
    {
      if (n === 0 && this.unsent.length === 0) {
        // An empty message takes no room: it goes at once, even past a write that waits for
        // the reader, and resolves as soon as the socket has it.
        const w = pendingWrite(buf, resolve, reject, 0, false, undefined);
        this.send(w);
        this.zeros.push(w);
      } else if (this.byteStream && n > MAX_DATA_FRAME) {
        // A byte stream has no boundaries to keep: a long write goes as parts, each waiting
        // for room, so the reader never holds more than its buffer and one part.
        let first: PendingWrite | undefined;
        for (let pos = 0; pos < n; pos += MAX_DATA_FRAME) {
          const last = pos + MAX_DATA_FRAME >= n;
          const part = pendingWrite(buf.subarray(pos, pos + MAX_DATA_FRAME), last ? resolve : undefined, reject, n, false, first);
          first ??= part;
          this.unsent.push(part);
        }
        this.pump();
      } else {
        const w = pendingWrite(buf, resolve, reject, n, false, undefined);
        if (this.unsent.length === 0 && this.fits()) {
          this.send(w);
          this.inflight.push(w);
        } else {
          this.unsent.push(w);
        }
      }
    }
    return promise;
  }

  /**
   * A transaction's request: in line with the writes, but once sent it is done with (its
   * reply tells the rest), so it has no promise and does not wait for room.
   */
  transact(buf: Buffer): void {
    this.issuedBytes += buf.length;
    this.unsent.push(pendingWrite(buf, undefined, noop, buf.length, true, undefined));
    this.pump();
  }

  /** The peer has read `n` more bytes. A credit for bytes never sent breaks the protocol. */
  credit(n: number): void {
    if (!Number.isInteger(n) || n < 0 || this.credited + n > this.sentBytes) throw new ProtocolError(`credit of ${n} bytes`);
    this.credited += n;
    this.pump();
    this.settle();
    while (this.flushes.length > 0 && this.flushes[0]!.through <= this.credited) this.flushes.shift()!.resolve();
  }

  /**
   * FlushFileBuffers: resolves once the peer has read every byte written so far; null when it
   * has already (nothing to wait for). The peer is asked to report its reads at once meanwhile.
   */
  flush(): Promise<void> | null {
    if (this.issuedBytes === this.credited) return null;
    return new Promise<void>((resolve) => this.flushes.push({ through: this.issuedBytes, resolve }));
  }

  /** A flush() waits. */
  get flushing(): boolean {
    return this.flushes.length > 0;
  }

  /** Resolve every flush() still waiting: the other end will read nothing more. */
  endFlushes(): void {
    for (const f of this.flushes.splice(0)) f.resolve();
  }

  /** The socket has taken the outbox's batches up to `batch`. */
  committed(batch: number): void {
    this.committedBatch = batch;
    while (this.zeros.length > 0 && this.zeros.first()!.batch <= batch) this.zeros.shift().resolve!(0);
    this.settle();
  }

  /** Fail every write not yet resolved; nothing more is sent of them. */
  fail(error: () => Error): void {
    const writes = [...this.inflight.drain(), ...this.zeros.drain(), ...this.unsent.drain()];
    for (const w of writes) w.reject(error());
  }

  /**
   * How many of this end's writes, counted as the peer counts them, resolved before the
   * first one that has not (a long byte write's parts all belong to its first).
   */
  writesThatResolved(): number {
    let first = this.writesSent + 1;
    for (const w of [this.inflight.first(), this.unsent.first(), this.zeros.first()]) {
      const seq = w === undefined ? 0 : (w.first ?? w).seq;
      if (seq > 0) first = Math.min(first, seq);
    }
    return first - 1;
  }

  /** The bytes sent and not yet read fit the peer's buffer: the next write may go. */
  private fits(): boolean {
    return this.sentBytes - this.credited <= this.peerQuota;
  }

  /** Send the writes the peer has room for: each once the one before it fits. */
  private pump(): void {
    while (this.unsent.length > 0 && this.fits()) {
      const w = this.unsent.shift();
      this.send(w);
      if (!w.transact) this.inflight.push(w);
    }
  }

  private send(w: PendingWrite): void {
    // Only a write with a promise needs to hear from the socket; parts before it are
    // committed with it (the socket takes batches in order).
    this.outbox.data(w.data, w.resolve !== undefined);
    this.sentBytes += w.data.length;
    w.sentThrough = this.sentBytes;
    w.batch = this.outbox.batch;
    w.seq = ++this.writesSent;
  }

  /** Resolve, in order, the writes that are committed and fit the peer's buffer. */
  private settle(): void {
    while (this.inflight.length > 0) {
      const w = this.inflight.first()!;
      if (w.batch > this.committedBatch || w.sentThrough - this.credited > this.peerQuota) break;
      this.inflight.shift();
      w.resolve?.(w.result);
    }
  }
}

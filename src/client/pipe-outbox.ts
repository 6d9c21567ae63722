/**
 * The sending side of a pipe connection: frames queued during one turn of the event loop
 * go to the socket together at the end of it (one write, or one writev when large payloads
 * are passed by reference), and each batch reports when the socket has taken it: the
 * moment its bytes are in the peer's receive queue.
 */
import type net from 'node:net';
import { CONSUMED_FRAME, FRAME_HEADER, MAX_DATA_FRAME, writeConsumed, writeDataHeader } from '../protocol/pipe-wire.ts';

/** Payloads up to this size are copied into the batch; larger ones are sent from the caller's buffer. */
const COPY_LIMIT = 16 * 1024;
/** A write up to this size is one frame copied into the batch: any Uint8Array does (no Buffer needed). */
export const SMALL_WRITE = COPY_LIMIT;
const SLAB = 64 * 1024;

export class Outbox {
  /** The batch being filled; batches are numbered from 1 in the order they are written. */
  batch = 1;
  private slab = Buffer.allocUnsafe(SLAB);
  private slabStart = 0;
  private slabPos = 0;
  private pieces: Buffer[] = [];
  private scheduled = false;
  private lazy = false;
  /** Something in the batch being filled waits for the socket to take it. */
  private wanted = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    /** Called with a batch's number once the socket has taken it. */
    private readonly onCommit: (batch: number) => void,
    /** Called just before a batch goes out: the last moment to add frames to it. */
    private readonly beforeFlush: () => void,
  ) {}

  /** A control frame, encoded. */
  control(frame: Buffer): void {
    this.room(frame.length);
    frame.copy(this.slab, this.slabPos);
    this.slabPos += frame.length;
    this.schedule();
  }

  /** A credit frame. */
  consumed(bytes: number): void {
    this.room(CONSUMED_FRAME);
    writeConsumed(this.slab, this.slabPos, bytes);
    this.slabPos += CONSUMED_FRAME;
    this.schedule();
  }

  /** One write's bytes as data frames, the last marked as its write's end; `commit`: report when the socket has them. */
  data(payload: Buffer, commit = true): void {
    if (commit) this.wanted = true;
    const length = payload.length;
    if (length <= COPY_LIMIT) {
      // One frame, copied into the slab: the common case of small writes.
      if (this.slabPos + FRAME_HEADER + length > this.slab.length) this.room(FRAME_HEADER + length);
      const at = this.slabPos;
      writeDataHeader(this.slab, at, length, true);
      this.slab.set(payload, at + FRAME_HEADER);
      this.slabPos = at + FRAME_HEADER + length;
      if (!this.scheduled) this.schedule();
      return;
    }
    let pos = 0;
    do {
      const n = Math.min(MAX_DATA_FRAME, payload.length - pos);
      const end = pos + n === payload.length;
      const copy = n <= COPY_LIMIT;
      this.room(FRAME_HEADER + (copy ? n : 0));
      writeDataHeader(this.slab, this.slabPos, n, end);
      this.slabPos += FRAME_HEADER;
      if (copy) {
        this.slab.set(n === payload.length ? payload : payload.subarray(pos, pos + n), this.slabPos);
        this.slabPos += n;
      } else {
        this.seal();
        this.pieces.push(n === payload.length ? payload : payload.subarray(pos, pos + n));
      }
      pos += n;
    } while (pos < payload.length);
    this.schedule();
  }

  /** Flush at the end of this turn (before promise callbacks run). */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    process.nextTick(this.flush);
  }

  /**
   * Flush at the end of this turn after every promise callback it runs: what only reports
   * progress (a credit) waits there for a frame of data to travel with (the reply that the
   * code a read resumes writes), rather than costing a write of its own. (A tick scheduled
   * from a microtask runs once the microtask queue is empty.)
   */
  scheduleLazy(): void {
    if (this.lazy || this.scheduled || this.closed) return;
    this.lazy = true;
    queueMicrotask(this.scheduleFromMicrotask);
  }

  private readonly scheduleFromMicrotask = (): void => {
    this.lazy = false;
    this.schedule();
  };

  /** Send what is queued now. */
  readonly flush = (): void => {
    if (this.closed) return;
    this.beforeFlush();
    this.scheduled = false;
    this.seal();
    const pieces = this.pieces;
    if (pieces.length === 0) return;
    this.pieces = [];
    const batch = this.batch++;
    const wanted = this.wanted;
    this.wanted = false;
    const done = wanted
      ? (err?: Error | null) => {
          if (!err) this.onCommit(batch);
        }
      : undefined;
    if (pieces.length === 1) {
      this.socket.write(pieces[0]!, done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < pieces.length - 1; i++) this.socket.write(pieces[i]!);
    this.socket.write(pieces[pieces.length - 1]!, done);
    this.socket.uncork();
  };

  /** Nothing more is sent (queued frames are dropped). */
  close(): void {
    this.closed = true;
    this.pieces = [];
    this.slabStart = this.slabPos;
  }

  /** Close the slab's current run into a piece of the batch. */
  private seal(): void {
    if (this.slabPos > this.slabStart) this.pieces.push(this.slab.subarray(this.slabStart, this.slabPos));
    this.slabStart = this.slabPos;
  }

  /** Make room for `n` more bytes in the slab; what the socket may still hold of the old one is left alone. */
  private room(n: number): void {
    if (this.slabPos + n <= this.slab.length) return;
    this.seal();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB, n));
    this.slabStart = 0;
    this.slabPos = 0;
  }
}

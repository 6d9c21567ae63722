/**
 * The reading side of an OS pipe end in this process: ReadFile and PeekNamedPipe over a
 * non-blocking open file description of its own, so the fd handed to children keeps its
 * blocking mode. It takes from the pipe only what reads ask for (and what a peek shows):
 * nothing is read ahead, so an end used here can then be handed to a child that gets the rest.
 *
 * While a read waits on an empty pipe, a socket reading one byte at a time (net.Socket's
 * `onread` with a 1-byte buffer) tells when data arrives: that byte and whatever follows it
 * go to the waiting read. The socket is paused whenever no read waits.
 */
import fs from 'node:fs';
import net from 'node:net';
import { IpcError } from '../errors.ts';
import { POLLERR, POLLHUP, POLLIN, bytesInPipe, openPipeDescription, pipeFailure, pipeSize, pollNow } from '../native/pipe.ts';

const WAIT = Symbol('wait');

type ReadRequest = {
  /** Where to read to; null: everything there is. */
  into: Uint8Array | null;
  resolve(outcome: number | Buffer): void;
  reject(e: unknown): void;
  /** Stop listening to the request's AbortSignal. */
  done?: () => void;
};

export class OsPipeReader {
  /** This process's own non-blocking description of the pipe. */
  readonly #fd: number;
  /** Data taken from the pipe and not yet read: what a peek showed, or the watcher's byte. */
  #queue: Buffer[] = [];
  #queued = 0;
  #pending: ReadRequest[] = [];
  #watcher: net.Socket | undefined;
  readonly #watchByte = Buffer.alloc(1);
  #closed = false;

  /** A reader of the pipe `source` (an fd of its read end, which stays as it is). */
  constructor(readonly source: number) {
    this.#fd = openPipeDescription(source, 'read');
  }

  /**
   * ReadFile: resolves once the pipe holds data with the bytes read into `into` (a 0-byte
   * buffer: 0, leaving the data), or with a Buffer of everything there is when `into` is null.
   * Requests are served in call order. Every writer gone and nothing left: ERROR_BROKEN_PIPE.
   * `signal` cancels a waiting request (it rejects with the signal's reason; nothing is taken).
   */
  read(into: Uint8Array | null, signal?: AbortSignal): Promise<number | Buffer> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const r: ReadRequest = { into, resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.#pending.indexOf(r);
          if (i >= 0) this.#pending.splice(i, 1);
          if (this.#pending.length === 0) this.#watcher?.pause();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        r.done = () => signal.removeEventListener('abort', onAbort);
      }
      this.#pending.push(r);
      if (this.#serve()) this.#watch();
    });
  }

  /**
   * PeekNamedPipe: never waits, takes nothing. `data`: up to `maxBytes` of what is there, at
   * most the pipe's size (so peeks alone never hold more here than the pipe does);
   * `bytesAvailable`: all of it. Every writer gone and nothing left: ERROR_BROKEN_PIPE.
   */
  peek(maxBytes: number): { data: Buffer; bytesAvailable: number } {
    const room = Math.min(maxBytes, pipeSize(this.#fd)) - this.#queued;
    if (room > 0) {
      const take = Math.min(room, bytesInPipe(this.#fd));
      if (take > 0) {
        const got = Buffer.allocUnsafe(take);
        const n = this.#readNow(got, 0);
        if (n > 0) this.#enqueue(got.subarray(0, n));
      }
    }
    this.#serve(); // reads already waiting come first
    const bytesAvailable = this.#queued + bytesInPipe(this.#fd);
    if (bytesAvailable === 0 && this.#ended()) throw new IpcError('ERROR_BROKEN_PIPE', 'PeekNamedPipe');
    const data = Buffer.allocUnsafe(Math.min(maxBytes, this.#queued));
    let at = 0;
    for (const chunk of this.#queue) {
      if (at === data.length) break;
      at += chunk.copy(data, at, 0, Math.min(chunk.length, data.length - at));
    }
    return { data, bytesAvailable };
  }

  /** Fail every waiting request with `reason` and let go of the pipe. */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(reason);
    this.#watcher?.destroy();
    fs.closeSync(this.#fd);
    this.#queue = [];
    this.#queued = 0;
  }

  /** Serve waiting requests in order while the pipe can; true when some still wait for data. */
  #serve(): boolean {
    while (this.#pending.length > 0) {
      const r = this.#pending[0]!;
      let outcome: number | Buffer | typeof WAIT;
      try {
        outcome = this.#attempt(r.into);
      } catch (e) {
        this.#pending.shift();
        r.done?.();
        r.reject(e);
        continue;
      }
      if (outcome === WAIT) return true;
      this.#pending.shift();
      r.done?.();
      r.resolve(outcome);
    }
    return false;
  }

  /** One request without waiting: its outcome, WAIT, or a throw (ERROR_BROKEN_PIPE…). */
  #attempt(into: Uint8Array | null): number | Buffer | typeof WAIT {
    if (into === null) {
      const there = this.#queued + bytesInPipe(this.#fd);
      if (there === 0) return this.#waitOrEnd();
      const out = Buffer.allocUnsafe(there);
      const n = this.#take(out);
      return n > 0 ? out.subarray(0, n) : this.#waitOrEnd();
    }
    if (into.length === 0) return this.#queued > 0 || pollNow(this.#fd, POLLIN) & POLLIN ? 0 : this.#waitOrEnd();
    const n = this.#take(into);
    return n > 0 ? n : this.#waitOrEnd();
  }

  /** Fill `into` from the queue, then from the pipe; the byte count (0: nothing there, or the end). */
  #take(into: Uint8Array): number {
    let at = 0;
    while (this.#queue.length > 0 && at < into.length) {
      const chunk = this.#queue[0]!;
      const n = Math.min(chunk.length, into.length - at);
      into.set(chunk.subarray(0, n), at);
      at += n;
      this.#queued -= n;
      if (n === chunk.length) this.#queue.shift();
      else this.#queue[0] = chunk.subarray(n);
    }
    return at < into.length ? at + this.#readNow(into, at) : at;
  }

  /** read(2) on the non-blocking description: bytes read, 0 for nothing there or the end. */
  #readNow(into: Uint8Array, at: number): number {
    try {
      return fs.readSync(this.#fd, into, at, into.length - at, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 0;
      throw pipeFailure(code, 'ReadFile');
    }
  }

  /** Whether every writer is gone and nothing is left in the pipe. */
  #ended(): boolean {
    const ev = pollNow(this.#fd, POLLIN);
    return (ev & POLLIN) === 0 && (ev & (POLLHUP | POLLERR)) !== 0;
  }

  #waitOrEnd(): typeof WAIT {
    if (this.#queued === 0 && this.#ended()) throw new IpcError('ERROR_BROKEN_PIPE', 'ReadFile');
    return WAIT;
  }

  #enqueue(chunk: Buffer): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
  }

  #failAll(e: unknown): void {
    for (const r of this.#pending.splice(0)) {
      r.done?.();
      r.reject(e);
    }
  }

  /** Have the watcher wake the waiting requests when the pipe becomes readable or ends. */
  #watch(): void {
    if (this.#watcher !== undefined && !this.#watcher.destroyed) {
      this.#watcher.resume();
      return;
    }
    let fd: number;
    try {
      fd = openPipeDescription(this.source, 'read');
    } catch (e) {
      this.#failAll(e);
      return;
    }
    const options = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: this.#watchByte,
        // Returning false pauses the socket: done when no request waits any more.
        callback: (n: number) => {
          if (n > 0) this.#enqueue(Buffer.from(this.#watchByte.subarray(0, n)));
          return this.#serve();
        },
      },
    } as net.SocketConstructorOpts;
    const watcher = new net.Socket(options);
    // At the end of the pipe the socket ends (and closes its own fd); the requests see the end through #fd.
    watcher.on('end', () => {
      if (!this.#closed && this.#serve()) this.#watch();
    });
    watcher.on('error', (e: NodeJS.ErrnoException) => this.#failAll(pipeFailure(e.code ?? 'EIO', 'ReadFile')));
    this.#watcher = watcher;
  }
}

/**
 * Anonymous pipes (CreatePipe): a real OS pipe, one way, whose ends are plain fds that
 * `child_process.spawn` takes in its stdio array as they are. No object manager is involved.
 *
 * The fds handed out stay blocking, as programs given them as stdin or stdout expect. This
 * process reads and writes through descriptions of its own (non-blocking, opened lazily on
 * the first read or write), so its I/O never changes the mode a child sees. Reads take data
 * only when asked: nothing is read ahead of `read()` calls, so an end can be used here and
 * then handed to a child without this process having swallowed what the child should get.
 */
import fs from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { IpcError } from '../errors.ts';
import { POLLERR, POLLOUT, createOsPipe, describeFd, openPipeDescription, pipeFailure, pipeSize, pollNow, setPipeSize } from '../native/pipe.ts';
import { OsPipeReader } from './os-pipe-reader.ts';

/** Which way an end goes: the read end or the write end. */
export type PipeAccess = 'read' | 'write';

export interface CreatePipeOptions {
  /**
   * Suggested buffer size in bytes (CreatePipe's nSize): an integer from 0 to 2³² − 1.
   * 0 or absent: the system's default (64 KiB on Linux). Linux rounds up to a power-of-two
   * number of pages and grants at most /proc/sys/fs/pipe-max-size (1 MiB by default).
   */
  bufferSize?: number;
}

/** ReadFile's outcome, shaped as named pipes' read: byte pipes never have `moreData`. */
export interface PipeReadResult {
  bytesRead: number;
  moreData: boolean;
}

/** PeekNamedPipe's outcome. `messageBytesLeft` is 0 on a byte pipe. */
export interface PipePeekResult {
  data: Buffer;
  bytesAvailable: number;
  messageBytesLeft: number;
}

/**
 * GetNamedPipeInfo of an anonymous pipe: the read end is the server end (AP-01). The buffer
 * sizes are the bufferSize asked for, verbatim, as Windows reports them; `pipeSize` is what
 * the system actually gave (the only figure for the default size, or for an adopted fd).
 */
export interface PipeInfo {
  type: 'byte';
  end: 'server' | 'client';
  maxInstances: number;
  outBufferSize: number;
  inBufferSize: number;
  /** The pipe's real capacity in bytes (F_GETPIPE_SZ). */
  pipeSize: number;
}

export interface PipeStreamOptions {
  /** Close the end when the stream ends, finishes or is destroyed. Default true. */
  autoClose?: boolean;
}

/** The Node stream an end gives: a Readable for the read end, a Writable for the write end. */
export type PipeStream<A extends PipeAccess> = A extends 'read' ? Readable : A extends 'write' ? Writable : Readable | Writable;

/**
 * CreatePipe: a new OS pipe. Resolves with its two ends; both are open until closed, and only
 * in this process until an fd is handed to a child.
 * Fails: ERROR_INVALID_PARAMETER (a bad bufferSize), ERROR_NOT_ENOUGH_QUOTA (out of fds),
 * ERROR_NOT_SUPPORTED (not Linux).
 */
export async function createPipe(opts: CreatePipeOptions = {}): Promise<{ read: PipeEnd<'read'>; write: PipeEnd<'write'> }> {
  if (typeof opts !== 'object' || opts === null) throw new IpcError('ERROR_INVALID_PARAMETER', 'CreatePipe', undefined, 'options must be an object');
  const size = opts.bufferSize === undefined ? 0 : opts.bufferSize;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 0xffff_ffff) {
    throw new IpcError('ERROR_INVALID_PARAMETER', 'CreatePipe', undefined, `bufferSize must be an integer from 0 to 2^32-1, not ${String(opts.bufferSize)}`);
  }
  const fds = createOsPipe();
  try {
    if (size > 0) setPipeSize(fds.write, size);
  } catch (e) {
    fs.closeSync(fds.read);
    fs.closeSync(fds.write);
    throw e;
  }
  const read = PipeEnd.from(fds.read, 'read');
  const write = PipeEnd.from(fds.write, 'write');
  askedSize.set(read, size).set(write, size);
  return { read, write };
}

/** The bufferSize each end's pipe was created with (0: the default), for info(). */
const askedSize = new WeakMap<PipeEnd, number>();

/** The syscall names errors carry, as Windows' calls are named. */
const calls = { read: 'ReadFile', write: 'WriteFile', peek: 'PeekNamedPipe', info: 'GetNamedPipeInfo' } as const;

/**
 * One end of an anonymous pipe. `fd` stands in spawn()'s stdio array as it is; close() this
 * process's copy afterwards so that the other side sees the end of the pipe when the child's
 * copy goes.
 */
export class PipeEnd<A extends PipeAccess = PipeAccess> implements AsyncDisposable {
  #fd: number;
  /** This process's reads (made on first use). */
  #reader: OsPipeReader | undefined;
  /** This process's writes: a socket over a non-blocking description of its own (made on first use). */
  #writer: net.Socket | undefined;
  /** Aborters of the writes not yet resolved. */
  readonly #writing = new Set<() => void>();
  #stream: Readable | Writable | undefined;

  private constructor(
    fd: number,
    /** 'read' or 'write': which end this is. */
    readonly access: A,
  ) {
    this.#fd = fd;
  }

  /**
   * Adopt `fd`, an end of a pipe (or FIFO) open for `access`, e.g. one a parent handed to
   * this process in its stdio array. The PipeEnd owns it from then on: close() closes it.
   * Fails ERROR_INVALID_PARAMETER (bad arguments), ERROR_INVALID_HANDLE (not an open pipe),
   * ERROR_ACCESS_DENIED (the fd is not open that way).
   */
  static from<A extends PipeAccess>(fd: number, access: A): PipeEnd<A> {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) throw new IpcError('ERROR_INVALID_PARAMETER', 'PipeEnd.from', undefined, `bad fd ${String(fd)}`);
    if (access !== 'read' && access !== 'write') throw new IpcError('ERROR_INVALID_PARAMETER', 'PipeEnd.from', undefined, `access must be 'read' or 'write'`);
    const d = describeFd(fd);
    if (!d.pipe) throw new IpcError('ERROR_INVALID_HANDLE', 'PipeEnd.from', undefined, `fd ${fd} is not a pipe`);
    if (d.access !== 'readwrite' && d.access !== access) throw new IpcError('ERROR_ACCESS_DENIED', 'PipeEnd.from', undefined, `fd ${fd} is open for ${d.access}ing only`);
    return new PipeEnd(fd, access);
  }

  /** The fd, blocking, for a child's stdio array; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * ReadFile: waits until the pipe holds data, then reads what there is, up to `buf`'s length.
   * A 0-byte buffer also waits for data, then reads nothing. Reads are served in call order.
   * Once every write end is closed (in every process): what is left, then ERROR_BROKEN_PIPE.
   * `signal` cancels a waiting read (it rejects with the signal's reason; nothing is taken).
   * Fails: ERROR_ACCESS_DENIED on the write end, ERROR_INVALID_HANDLE once closed,
   * ERROR_OPERATION_ABORTED when closed while waiting, ERROR_INVALID_PARAMETER (not a buffer).
   */
  async read(buf: ArrayBufferView, opts?: { signal?: AbortSignal }): Promise<PipeReadResult> {
    this.#check('read');
    if (!ArrayBuffer.isView(buf)) throw new IpcError('ERROR_INVALID_PARAMETER', calls.read, undefined, 'buf must be a Uint8Array or another ArrayBufferView');
    const into = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return { bytesRead: (await this.#ownReader().read(into, opts?.signal)) as number, moreData: false };
  }

  /** What there is, once there is something (a byte pipe has no messages): as read() with a buffer that fits it. */
  async readMessage(opts?: { signal?: AbortSignal }): Promise<Buffer> {
    this.#check('read');
    return (await this.#ownReader().read(null, opts?.signal)) as Buffer;
  }

  /** Everything until every write end is closed; the ERROR_BROKEN_PIPE that ends it is not an error here. */
  async readAll(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for (;;) {
      try {
        chunks.push(await this.readMessage());
      } catch (e) {
        if ((e as IpcError).code === 'ERROR_BROKEN_PIPE') return Buffer.concat(chunks);
        throw e;
      }
    }
  }

  /**
   * PeekNamedPipe: never waits, takes nothing. `data`: up to `maxBytes` of what is there (at
   * most the pipe's buffer size); `bytesAvailable`: all of it. Every write end closed and
   * nothing left: ERROR_BROKEN_PIPE. Fails as read().
   */
  async peek(maxBytes = Infinity): Promise<PipePeekResult> {
    this.#check('peek');
    if (!(Number.isInteger(maxBytes) || maxBytes === Infinity) || maxBytes < 0) {
      throw new IpcError('ERROR_INVALID_PARAMETER', calls.peek, undefined, 'maxBytes must be an integer ≥ 0 or Infinity');
    }
    const { data, bytesAvailable } = this.#ownReader().peek(maxBytes);
    return { data, bytesAvailable, messageBytesLeft: 0 };
  }

  /**
   * WriteFile: resolves with the byte count once every byte is in the pipe, waiting while the
   * pipe is full. Writes go in call order. 0 bytes: resolves 0 at once. Do not change `data`
   * before it resolves. With no read end left anywhere: ERROR_NO_DATA (never a SIGPIPE).
   * Fails: ERROR_ACCESS_DENIED on the read end, ERROR_INVALID_HANDLE once closed,
   * ERROR_OPERATION_ABORTED when closed meanwhile, ERROR_INVALID_PARAMETER (not bytes or a string).
   */
  async write(data: ArrayBufferView | string): Promise<number> {
    this.#check('write');
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else throw new IpcError('ERROR_INVALID_PARAMETER', calls.write, undefined, 'data must be a Uint8Array, another ArrayBufferView or a string');
    if (bytes.length === 0) {
      if (pollNow(this.#fd, POLLOUT) & POLLERR) throw new IpcError('ERROR_NO_DATA', calls.write);
      return 0;
    }
    const socket = this.#ownWriter();
    return new Promise((resolve, reject) => {
      const abort = () => reject(new IpcError('ERROR_OPERATION_ABORTED', calls.write));
      this.#writing.add(abort);
      socket.write(bytes, (err) => {
        // A write close() has aborted is settled already (Node reports writes cut short by destroy() as done).
        if (!this.#writing.delete(abort)) return;
        if (!err) return resolve(bytes.length);
        const code = (err as NodeJS.ErrnoException).code ?? 'EPIPE';
        // A socket destroyed by an earlier write's EPIPE fails the writes queued behind it so.
        reject(pipeFailure(code === 'ERR_STREAM_DESTROYED' ? 'EPIPE' : code, calls.write));
      });
    });
  }

  /**
   * GetNamedPipeInfo: a byte pipe of one instance; in and out buffer sizes are both the
   * bufferSize createPipe was given, or the real size when that was 0 or the end was adopted.
   */
  async info(): Promise<PipeInfo> {
    this.#check('info');
    const real = pipeSize(this.#fd);
    const size = askedSize.get(this) || real;
    return { type: 'byte', end: this.access === 'read' ? 'server' : 'client', maxInstances: 1, outBufferSize: size, inBufferSize: size, pipeSize: real };
  }

  /**
   * A Readable (read end) or Writable (write end) over this end, for stream.pipeline. The
   * Readable ends when every write end is closed; the Writable's end() closes this end, so the
   * reader then sees the end of the data. With `autoClose` (default) ending or destroying the
   * stream closes the end. The same stream each call (made with the first call's options);
   * do not mix it with read() or write() on this end.
   */
  stream(opts: PipeStreamOptions = {}): PipeStream<A> {
    this.#check(this.access === 'read' ? 'read' : 'write');
    this.#stream ??= this.access === 'read' ? this.#readable(opts.autoClose ?? true) : this.#writable(opts.autoClose ?? true);
    return this.#stream as PipeStream<A>;
  }

  /**
   * CloseHandle: closes this process's fds of the end. Reads and writes still waiting fail
   * ERROR_OPERATION_ABORTED; data already written stays in the pipe. A second close does nothing.
   */
  async close(): Promise<void> {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    this.#reader?.close(new IpcError('ERROR_OPERATION_ABORTED', calls.read));
    for (const abort of this.#writing) abort();
    this.#writing.clear();
    this.#writer?.destroy();
    fs.closeSync(fd);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #check(op: keyof typeof calls): void {
    if (this.#fd < 0) throw new IpcError('ERROR_INVALID_HANDLE', calls[op], undefined, 'the pipe end is closed');
    const needs = op === 'write' ? 'write' : op === 'info' ? this.access : 'read';
    if (needs !== this.access) throw new IpcError('ERROR_ACCESS_DENIED', calls[op], undefined, `this is the ${this.access} end of the pipe`);
  }

  #ownReader(): OsPipeReader {
    this.#reader ??= new OsPipeReader(this.#fd);
    return this.#reader;
  }

  #ownWriter(): net.Socket {
    if (this.#writer === undefined || this.#writer.destroyed) {
      // A FIFO with no reader left refuses this open (ERROR_NO_DATA, as the write would fail).
      const fd = openPipeDescription(this.#fd, 'write');
      const socket = new net.Socket({ fd, readable: false, writable: true });
      socket.on('error', () => {}); // each write's callback reports it
      this.#writer = socket;
    }
    return this.#writer;
  }

  #readable(autoClose: boolean): Readable {
    let cancel: AbortController | undefined;
    const stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        cancel = new AbortController();
        this.readMessage({ signal: cancel.signal }).then(
          (chunk) => stream.destroyed || stream.push(chunk),
          (e: IpcError) => {
            if (stream.destroyed) return;
            if (e.code === 'ERROR_BROKEN_PIPE') stream.push(null);
            else stream.destroy(e);
          },
        );
      },
      destroy: (err, callback) => {
        cancel?.abort();
        if (!autoClose) return callback(err);
        this.close().then(() => callback(err), callback);
      },
    });
    return stream;
  }

  #writable(autoClose: boolean): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      writev: (chunks, callback) => {
        this.write(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => callback(), callback);
      },
      final: (callback) => {
        if (!autoClose) return callback();
        this.close().then(() => callback(), callback);
      },
      destroy: (err, callback) => {
        if (!autoClose) return callback(err);
        this.close().then(() => callback(err), callback);
      },
    });
  }
}

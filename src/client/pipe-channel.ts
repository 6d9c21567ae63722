/**
 * One connected end of a named pipe: the bytes between a server process and a client
 * process, over their own Unix socket (the object manager never sees them). It keeps
 * ReadFile's, WriteFile's, PeekNamedPipe's and TransactNamedPipe's semantics: messages,
 * read modes, the reader's buffer as flow control, disconnect, and the other end gone.
 *
 * Flow control is by credit: a write's bytes go out at once, and the write resolves when
 * the socket has taken them and the peer's unread bytes, these included, fit the peer's
 * buffer (its `receiveQuota`). The peer reports what it has read in `consumed` frames,
 * coalesced per turn of its event loop and sent as window updates are: with its own data,
 * after half the buffer is read, or when the writer may be waiting for them (see
 * credit()). A write starts only once the one before it fits,
 * so a reader that stops reading holds at most its buffer plus one write.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { IpcError, type StatusCode } from '../errors.ts';
import { ProtocolError } from '../protocol/fields.ts';
import { encodeControl, MAX_DATA_FRAME, MAX_MESSAGE, type ControlFrame, type FrameSink, type PipeFrameParser } from '../protocol/pipe-wire.ts';
import { Outbox, SMALL_WRITE } from './pipe-outbox.ts';
import { PipeWrites } from './pipe-writes.ts';
import { ReceiveQueue } from './pipe-receive-queue.ts';
import { channelStream } from './pipe-stream.ts';

export type PipeType = 'byte' | 'message';
export type ReadMode = 'byte' | 'message';

export interface ChannelConfig {
  /** The pipe's type (fixed by its first instance). */
  type: PipeType;
  end: 'server' | 'client';
  /** This end's initial read mode (a client always starts in 'byte'). */
  readMode: ReadMode;
  /** Direction: the server of an outbound pipe cannot read, and so on. */
  canRead: boolean;
  canWrite: boolean;
  /**
   * Bytes this end holds of the peer's unread writes before the peer's write() waits: the
   * server end's inBufferSize, the client end's outBufferSize (0: every write waits until
   * it is read). Told to the peer at the handshake.
   */
  receiveQuota: number;
}

/**
 * 'connected'; 'broken': the peer closed or died (what it wrote can still be read);
 * 'disconnected': the server disconnected; 'closed': this end was closed.
 */
export type ChannelState = 'connected' | 'broken' | 'disconnected' | 'closed';

/** How long disconnect() waits for the client's acknowledgement before it stops waiting. */
const DISCONNECT_ACK_TIMEOUT_MS = 10_000;

/** What a read takes from the queue: ReadFile into a buffer, a whole message, a stream chunk, a transaction's reply. */
const ReadKind = { into: 0, message: 1, chunk: 2, reply: 3 } as const;
type ReadKind = (typeof ReadKind)[keyof typeof ReadKind];

interface PendingRead {
  kind: ReadKind;
  buf: Uint8Array | undefined;
  /** A reply's most bytes. */
  max: number;
  resolve(value: unknown): void;
  reject(e: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class PipeChannel implements FrameSink {
  /** The peer process (SO_PEERCRED at the handshake). */
  readonly peerPid: number;
  /** Resolves when the peer is gone ('broken') or the channel is disconnected or closed. */
  readonly ended: Promise<ChannelState>;

  private currentState: ChannelState = 'connected';
  private currentReadMode: ReadMode;
  private readonly messageType: boolean;
  /** config.receiveQuota and config.canRead, at hand for the paths run per message. */
  private readonly quota: number;
  private readonly canRead: boolean;

  // Receiving.
  private readonly queue = new ReceiveQueue();
  private readonly readers: PendingRead[] = [];
  /** The peer's write being received: its bytes so far (shown only once it is whole). */
  private incoming: Buffer[] | null = null;
  private incomingBytes = 0;
  private writesReceived = 0;
  /** Bytes read since the last `consumed` frame. */
  private pendingCredit = 0;
  /** The peer waits in flush(): credit goes out every turn until everything here is read. */
  private peerFlushing = false;

  // Sending.
  private readonly outbox: Outbox;
  private readonly writes: PipeWrites;

  private resolveEnded!: (state: ChannelState) => void;
  private disconnecting: { resolve(): void; timer: NodeJS.Timeout } | undefined;
  private duplex: Duplex | undefined;
  private refed = true;

  /**
   * @internal Made by pipe-endpoint.ts once the handshake is done; `parser` already reads
   * `socket` and is handed over here.
   */
  constructor(
    private readonly socket: net.Socket,
    private readonly parser: PipeFrameParser,
    readonly config: Readonly<ChannelConfig>,
    peer: { pid: number; quota: number },
  ) {
    this.peerPid = peer.pid;
    this.messageType = config.type === 'message';
    this.quota = config.receiveQuota;
    this.canRead = config.canRead;
    this.currentReadMode = this.messageType ? config.readMode : 'byte';
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.outbox = new Outbox(
      socket,
      (batch) => {
        this.writes.committed(batch);
        this.updateRef();
      },
      () => this.sendCredit(),
    );
    this.writes = new PipeWrites(this.outbox, peer.quota, !this.messageType);
    parser.sink = this;
    socket.on('close', () => this.socketClosed());
    socket.on('error', () => {}); // 'close' follows
    this.updateRef();
  }

  get state(): ChannelState {
    return this.currentState;
  }

  get readMode(): ReadMode {
    return this.currentReadMode;
  }

  /**
   * WriteFile. Resolves with the bytes written once they are committed (in the peer's
   * socket receive queue: they survive this process's death) and the peer's unread bytes,
   * these included, fit its buffer. Writes run one at a time, in call order. Message pipe:
   * one write is one message, 0 bytes is a message; byte pipe: 0 bytes resolves 0 at once.
   * The bytes are sent from `data` itself: leave it unchanged until the write resolves.
   * Fails ERROR_NO_DATA (the peer is gone), ERROR_PIPE_NOT_CONNECTED (disconnected),
   * ERROR_ACCESS_DENIED (this end cannot write), ERROR_INVALID_HANDLE (closed),
   * ERROR_NOT_ENOUGH_QUOTA (a message over 64 MiB); a write pending when this end is closed
   * fails ERROR_OPERATION_ABORTED and is not delivered.
   */
  write(data: Uint8Array): Promise<number> {
    if (this.currentState === 'connected' && this.config.canWrite && data instanceof Uint8Array && data.length > 0 && data.length <= SMALL_WRITE) {
      // The common case, nothing to refuse: what the rest does, without its detours. (A
      // small write is copied as it goes out, so any Uint8Array will do as it is; and
      // `instanceof Buffer` costs more than all the rest here.)
      const written = this.writes.write(data as Buffer);
      if (!this.refed) this.updateRef();
      return written;
    }
    const syscall = 'WriteFile';
    const refused = this.writeRefusal(syscall) ?? this.dataRefusal(data, syscall);
    if (refused) return Promise.reject(refused);
    const n = data.length;
    if (n === 0 && !this.messageType) return Promise.resolve(0);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, n);
    const written = this.writes.write(buf);
    this.updateRef();
    return written;
  }

  /**
   * ReadFile into `buf`. Message read mode: from the head message only, the part that
   * fits, `moreData` when some is left (it stays for the next read); byte read mode joins
   * messages and never reports moreData. Waits while nothing is there (a 0-byte `buf`
   * too, then returns 0 and leaves the data). Pending reads are served in call order; an
   * aborted `signal` takes a pending read out (rejecting with the signal's reason), having
   * consumed nothing. The peer gone: what is left, then ERROR_BROKEN_PIPE. Fails also
   * ERROR_PIPE_NOT_CONNECTED, ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE (see write()).
   */
  read(buf: Uint8Array, opts?: { signal?: AbortSignal }): Promise<{ bytesRead: number; moreData: boolean }> {
    const syscall = 'ReadFile';
    const refused = this.readRefusal(syscall) ?? (buf instanceof Uint8Array ? undefined : this.err('ERROR_INVALID_PARAMETER', syscall, 'the buffer must be a Uint8Array'));
    if (refused) return Promise.reject(refused);
    return this.startRead(ReadKind.into, buf, 0, opts?.signal, syscall);
  }

  /**
   * FlushFileBuffers: resolves once the other end has read everything this end wrote before
   * the call (a server may then disconnect without losing data), or has gone (closed: there
   * is nothing left to wait for, as on Windows). Fails ERROR_INVALID_HANDLE (closed),
   * ERROR_ACCESS_DENIED (this end cannot write), ERROR_PIPE_NOT_CONNECTED (a disconnected client).
   */
  flush(): Promise<void> {
    const syscall = 'FlushFileBuffers';
    const refused =
      this.closedRefusal(syscall) ??
      (this.config.canWrite ? undefined : this.err('ERROR_ACCESS_DENIED', syscall, 'this end of the pipe cannot write')) ??
      (this.currentState === 'disconnected' && this.config.end === 'client' ? this.notConnected(syscall) : undefined);
    if (refused) return Promise.reject(refused);
    if (this.currentState !== 'connected') return Promise.resolve();
    const flushed = this.writes.flush();
    if (flushed === null) return Promise.resolve();
    this.outbox.control(encodeControl('flush', {}));
    this.updateRef();
    return flushed;
  }

  /** A whole message (message read mode), or whatever is there (byte read mode). Fails as read(). */
  readMessage(opts?: { signal?: AbortSignal }): Promise<Buffer> {
    if (this.queue.count > 0 && this.readers.length === 0 && this.canRead && (opts === undefined || opts.signal?.aborted !== true)) {
      // Something is there and no read waits before this one (so the end is connected or
      // broken: the other states empty the queue): what startRead() does, without its detour.
      const before = this.queue.bytes;
      const value = this.queue.takeMessage(this.currentReadMode === 'message');
      this.credit(before - this.queue.bytes);
      return Promise.resolve(value);
    }
    const syscall = 'ReadFile';
    const refused = this.readRefusal(syscall);
    if (refused) return Promise.reject(refused);
    return this.startRead(ReadKind.message, undefined, 0, opts?.signal, syscall);
  }

  /**
   * @internal For stream(): the next bytes there as they lie (no copy), zero-length
   * messages skipped. Fails as read().
   */
  readChunk(signal?: AbortSignal): Promise<Buffer> {
    const syscall = 'ReadFile';
    const refused = this.readRefusal(syscall);
    if (refused) return Promise.reject(refused);
    return this.startRead(ReadKind.chunk, undefined, 0, signal, syscall);
  }

  /**
   * PeekNamedPipe: never waits, never consumes. `data`: up to `maxBytes` (default: no
   * limit) of the head message on a message pipe, whatever the read mode, or of all the
   * bytes there on a byte pipe; `bytesAvailable`: all the bytes there; `messageBytesLeft`:
   * what is left of the head message after `data` (0 on byte pipes). Fails
   * ERROR_BROKEN_PIPE (the peer gone and nothing left), ERROR_PIPE_NOT_CONNECTED,
   * ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE.
   */
  peek(maxBytes = Infinity): { data: Buffer; bytesAvailable: number; messageBytesLeft: number } {
    const syscall = 'PeekNamedPipe';
    const refused = this.readRefusal(syscall);
    if (refused) throw refused;
    if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) throw this.err('ERROR_INVALID_PARAMETER', syscall, `maxBytes ${String(maxBytes)}`);
    if (this.currentState === 'broken' && this.queue.count === 0) throw this.brokenPipe(syscall);
    return this.queue.peek(maxBytes, this.messageType);
  }

  /**
   * TransactNamedPipe: write `data` as one message (it does not wait for room in the
   * peer's buffer), then read one message: the part that fits `maxReplyBytes`, `moreData`
   * when the rest stays queued. Only a message pipe in message read mode, connected (else
   * ERROR_BAD_PIPE); a message already queued here: ERROR_PIPE_BUSY, and it stays.
   */
  transact(data: Uint8Array, maxReplyBytes = Infinity): Promise<{ data: Buffer; moreData: boolean }> {
    const syscall = 'TransactNamedPipe';
    const refused =
      this.closedRefusal(syscall) ??
      (this.config.canRead && this.config.canWrite ? undefined : this.err('ERROR_ACCESS_DENIED', syscall, 'transact needs a duplex end')) ??
      (this.currentState === 'disconnected' ? this.notConnected(syscall) : undefined) ??
      (this.currentState === 'broken' ? this.err('ERROR_BAD_PIPE', syscall, 'the other end has closed the pipe') : undefined) ??
      (this.messageType && this.currentReadMode === 'message' ? undefined : this.err('ERROR_BAD_PIPE', syscall, 'transact needs a message pipe in message read mode')) ??
      (this.queue.count > 0 ? this.err('ERROR_PIPE_BUSY', syscall, 'a message is already waiting to be read') : undefined) ??
      this.dataRefusal(data, syscall) ??
      (typeof maxReplyBytes === 'number' && maxReplyBytes >= 0 ? undefined : this.err('ERROR_INVALID_PARAMETER', syscall, `maxReplyBytes ${String(maxReplyBytes)}`));
    if (refused) return Promise.reject(refused);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    // The reply's fate is the transaction's: a failed request shows there as the peer gone or this end closed.
    const reply = this.startRead<{ data: Buffer; moreData: boolean }>(ReadKind.reply, undefined, maxReplyBytes, undefined, syscall);
    this.writes.transact(buf);
    this.updateRef();
    return reply;
  }

  /** This end's read mode (the peer keeps its own). 'message' on a byte pipe: ERROR_INVALID_PARAMETER. */
  setReadMode(mode: ReadMode): void {
    const syscall = 'SetNamedPipeHandleState';
    if (mode !== 'byte' && mode !== 'message') throw this.err('ERROR_INVALID_PARAMETER', syscall, `read mode ${String(mode)}`);
    if (mode === 'message' && !this.messageType) throw this.err('ERROR_INVALID_PARAMETER', syscall, 'a byte pipe cannot be read in message mode');
    this.currentReadMode = mode;
  }

  /**
   * DisconnectNamedPipe, server end only (a client: ERROR_INVALID_FUNCTION): unread data is
   * discarded both ways, pending reads and writes here and at the client fail
   * ERROR_PIPE_NOT_CONNECTED, and so does everything the client does next. Resolves once
   * the client process has seen it (or is gone). Twice: ERROR_PIPE_NOT_CONNECTED.
   */
  disconnect(): Promise<void> {
    const syscall = 'DisconnectNamedPipe';
    const refused =
      this.closedRefusal(syscall) ??
      (this.config.end === 'server' ? undefined : this.err('ERROR_INVALID_FUNCTION', syscall, 'only the server end disconnects')) ??
      (this.currentState === 'disconnected' ? this.notConnected(syscall) : undefined);
    if (refused) return Promise.reject(refused);
    const wasConnected = this.currentState === 'connected';
    this.enterDisconnected();
    if (!wasConnected) {
      this.parser.stop();
      this.socket.destroy();
      return Promise.resolve();
    }
    this.outbox.control(encodeControl('disconnect', {}));
    this.outbox.flush();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.finishDisconnect(), DISCONNECT_ACK_TIMEOUT_MS);
      timer.unref();
      this.disconnecting = { resolve, timer };
      this.updateRef();
    });
  }

  /**
   * Close this end. The peer reads what is left, then ERROR_BROKEN_PIPE, and its writes
   * fail ERROR_NO_DATA. Writes that resolved are delivered; reads and writes still pending
   * here fail ERROR_OPERATION_ABORTED, and those writes are taken back (the peer drops
   * what it has not read of them). Everything after: ERROR_INVALID_HANDLE. Idempotent.
   */
  close(): void {
    if (this.currentState === 'closed') return;
    const was = this.currentState;
    const writes = this.writes.writesThatResolved();
    this.currentState = 'closed';
    this.failAll('ERROR_OPERATION_ABORTED', 'the pipe end was closed');
    this.queue.clear();
    this.incoming = null;
    if (was === 'connected') {
      this.outbox.control(encodeControl('close', { writes }));
      this.outbox.flush();
      this.socket.end();
    } else {
      this.socket.destroy();
    }
    this.outbox.close();
    this.parser.stop();
    this.finishDisconnect();
    this.resolveEnded('closed');
    this.updateRef();
  }

  /** A Duplex over this end for byte streams (pipeline()); 'end' when the peer closes. The same one each time. */
  stream(): Duplex {
    if (this.duplex === undefined || this.duplex.destroyed) this.duplex = channelStream(this);
    return this.duplex;
  }

  // ── frames from the peer ──

  /** @internal */
  data(bytes: Buffer): void {
    if (this.currentState !== 'connected') return;
    if (this.incoming === null) this.beginIncoming(true);
    this.incomingBytes += bytes.length;
    const max = this.messageType ? MAX_MESSAGE : MAX_DATA_FRAME;
    if (this.incomingBytes > max) throw new ProtocolError(`a write of more than ${max} bytes`);
    this.incoming!.push(bytes);
    if (this.pendingCredit > 0) this.arrived();
  }

  /** @internal A whole write in one slice: what data(bytes) then dataEnd(true) do. */
  message(bytes: Buffer): void {
    if (this.incoming !== null) {
      this.data(bytes);
      this.dataEnd(true);
      return;
    }
    if (this.currentState !== 'connected') return;
    if (this.queue.bytes > this.quota) throw new ProtocolError("a write beyond the reader's buffer");
    // (A frame is at most MAX_DATA_FRAME bytes, within both bounds data() checks.)
    this.queue.pushOne(bytes, ++this.writesReceived);
    if (this.pendingCredit > 0) this.arrived();
    if (this.readers.length > 0) this.serve();
  }

  /** @internal */
  dataEnd(last: boolean): void {
    if (!last || this.currentState !== 'connected') return;
    // An empty message takes no room: it may come past a write that waits for the reader.
    if (this.incoming === null) this.beginIncoming(false);
    this.queue.push(this.incoming!, this.incomingBytes, ++this.writesReceived);
    this.incoming = null;
    if (this.pendingCredit > 0) this.arrived();
    if (this.readers.length > 0) this.serve();
  }

  /** @internal */
  control(frame: ControlFrame): void {
    switch (frame.name) {
      case 'consumed':
        if (this.currentState !== 'connected') return;
        this.writes.credit(frame.body.bytes);
        // Still flushing: ask again, after whatever this credit let go out.
        if (this.writes.flushing) this.outbox.control(encodeControl('flush', {}));
        this.updateRef();
        return;
      case 'flush':
        if (this.currentState !== 'connected') return;
        this.peerFlushing = true;
        if (this.pendingCredit > 0) this.outbox.schedule();
        return;
      case 'close':
        if (this.currentState === 'connected') {
          this.queue.dropAfter(frame.body.writes);
          this.peerGone();
        }
        this.parser.stop();
        this.socket.destroy();
        return;
      case 'disconnect':
        if (this.config.end !== 'client') throw new ProtocolError('disconnect sent to a server');
        if (this.currentState !== 'connected') return;
        this.enterDisconnected();
        this.outbox.control(encodeControl('disconnectAck', {}));
        this.outbox.flush();
        this.outbox.close();
        this.parser.stop();
        this.socket.end();
        return;
      case 'disconnectAck':
        if (this.config.end !== 'server') throw new ProtocolError('disconnect acknowledged to a client');
        this.finishDisconnect();
        return;
      default:
        throw new ProtocolError(`${frame.name} after the handshake`);
    }
  }

  /** @internal A peer that breaks the protocol counts as gone: its whole writes stay readable. */
  fail(_error: Error): void {
    this.parser.stop();
    this.socket.destroy();
    if (this.currentState === 'connected') this.peerGone();
  }

  // ── internals ──

  /** A new write of the peer begins: the peer may start one only while what it wrote before fits this end's buffer. */
  private beginIncoming(check: boolean): void {
    if (check && this.queue.bytes > this.config.receiveQuota) throw new ProtocolError("a write beyond the reader's buffer");
    this.incoming = [];
    this.incomingBytes = 0;
  }

  private sendCredit(): void {
    if (this.pendingCredit === 0 || this.currentState !== 'connected') return;
    this.outbox.consumed(this.pendingCredit);
    this.pendingCredit = 0;
    if (this.peerFlushing && this.queue.bytes === 0 && this.incoming === null) this.peerFlushing = false;
  }

  /**
   * `n` more bytes read: the peer's writer gets to know, as TCP's window updates go. Half
   * the peer's room read: this turn. Otherwise only when its writer may be waiting for it
   * (creditAwaited()), at the end of this turn; else the credit rides with our next frame
   * and costs no write (and no wake-up of the peer) of its own.
   */
  private credit(n: number): void {
    if (n > 0 && this.currentState === 'connected') {
      this.pendingCredit += n;
      if (this.peerFlushing || this.pendingCredit * 2 >= this.quota) this.outbox.schedule();
      else if (this.creditAwaited()) this.outbox.scheduleLazy();
    }
  }

  /**
   * The peer counts as unread here every byte it sent that we have not credited: those in
   * the socket, those arrived (queued, or part of a write still coming) and those read
   * since the last credit. Its next write, or the resolution of one, waits only while that
   * count is over our quota. Bytes still in the socket arrive in a later turn, which asks
   * again; so when what has arrived plus the credit held back fits the quota, nothing of
   * the peer's waits for that credit. (Reading does not change this sum; arrivals raise it.)
   */
  private creditAwaited(): boolean {
    return this.queue.bytes + (this.incoming === null ? 0 : this.incomingBytes) + this.pendingCredit > this.quota;
  }

  /** Bytes arrived: credit held back may now be awaited by the peer. */
  private arrived(): void {
    if (this.pendingCredit > 0 && this.creditAwaited()) this.outbox.scheduleLazy();
  }

  /** A read: at once when something is there and no read waits before it, else it waits its turn. */
  private startRead<T>(kind: ReadKind, buf: Uint8Array | undefined, max: number, signal: AbortSignal | undefined, syscall: string): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.readers.length === 0 && this.queue.count > 0) {
      const value = this.take(kind, buf, max);
      if (value !== null) return Promise.resolve(value as T);
    }
    if (this.currentState === 'broken') return Promise.reject(this.brokenPipe(syscall));
    return new Promise<T>((resolve, reject) => {
      const r: PendingRead = { kind, buf, max, resolve: resolve as (v: unknown) => void, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        r.onAbort = () => this.abortRead(r);
        signal.addEventListener('abort', r.onAbort, { once: true });
      }
      this.readers.push(r);
      this.updateRef();
    });
  }

  /** Take what a read of `kind` takes from the queue (not empty), counting it for the peer's credit; null: nothing for it. */
  private take(kind: ReadKind, buf: Uint8Array | undefined, max: number): unknown {
    const before = this.queue.bytes;
    const message = this.currentReadMode === 'message';
    let value: unknown;
    switch (kind) {
      case ReadKind.into:
        value = this.queue.readInto(buf!, message);
        break;
      case ReadKind.message:
        value = this.queue.takeMessage(message);
        break;
      case ReadKind.chunk:
        value = this.queue.takeChunk();
        break;
      default:
        value = this.queue.readHead(max);
    }
    this.credit(before - this.queue.bytes);
    return value;
  }

  /** An aborted signal takes its read out of the line, having consumed nothing. */
  private abortRead(r: PendingRead): void {
    const at = this.readers.indexOf(r);
    if (at < 0) return;
    this.readers.splice(at, 1);
    this.updateRef();
    r.reject(r.signal!.reason);
  }

  /** Serve pending reads, in order, while there is something; with the peer gone and nothing left, fail the rest. */
  private serve(): void {
    while (this.readers.length > 0 && this.queue.count > 0) {
      const r = this.readers[0]!;
      const value = this.take(r.kind, r.buf, r.max);
      if (value === null) break;
      this.readers.shift();
      if (r.onAbort !== undefined) r.signal!.removeEventListener('abort', r.onAbort);
      r.resolve(value);
    }
    if (this.readers.length > 0 && this.queue.count === 0 && this.currentState === 'broken') this.failReaders(this.brokenPipe('ReadFile'));
    this.updateRef();
  }

  private failReaders(e: IpcError): void {
    for (const r of this.readers.splice(0)) {
      if (r.onAbort !== undefined) r.signal!.removeEventListener('abort', r.onAbort);
      r.reject(e);
    }
  }

  private peerGone(): void {
    if (this.currentState !== 'connected') return;
    this.currentState = 'broken';
    // A write cut short by the peer's end is never shown in part.
    this.incoming = null;
    this.pendingCredit = 0;
    this.writes.endFlushes();
    this.failWrites(() => this.err('ERROR_NO_DATA', 'WriteFile', 'the other end has closed the pipe'));
    this.serve();
    this.resolveEnded('broken');
  }

  private enterDisconnected(): void {
    this.currentState = 'disconnected';
    this.queue.clear();
    this.incoming = null;
    this.pendingCredit = 0;
    this.failAll('ERROR_PIPE_NOT_CONNECTED', 'the server disconnected the pipe');
    this.resolveEnded('disconnected');
  }

  private finishDisconnect(): void {
    const d = this.disconnecting;
    if (d === undefined) return;
    this.disconnecting = undefined;
    clearTimeout(d.timer);
    this.parser.stop();
    this.outbox.close();
    this.socket.destroy();
    d.resolve();
    this.updateRef();
  }

  private socketClosed(): void {
    this.parser.stop();
    this.outbox.close();
    this.peerGone();
    this.finishDisconnect();
    this.updateRef();
  }

  private failAll(code: StatusCode, detail: string): void {
    this.failWrites(() => this.err(code, 'WriteFile', detail));
    this.failReaders(this.err(code, 'ReadFile', detail));
  }

  private failWrites(error: () => IpcError): void {
    this.writes.fail(error);
    // A flush has nothing left to wait for once nothing more can be read (NP-BR09: ok).
    this.writes.endFlushes();
  }

  /** Keep the process alive only while something here waits. */
  private updateRef(): void {
    const busy = this.currentState !== 'closed' && (this.readers.length > 0 || this.writes.busy || this.disconnecting !== undefined);
    if (busy === this.refed) return;
    this.refed = busy;
    if (busy) this.socket.ref();
    else this.socket.unref();
  }

  private closedRefusal(syscall: string): IpcError | undefined {
    return this.currentState === 'closed' ? this.err('ERROR_INVALID_HANDLE', syscall, 'the pipe end is closed') : undefined;
  }

  private readRefusal(syscall: string): IpcError | undefined {
    return (
      this.closedRefusal(syscall) ??
      (this.config.canRead ? undefined : this.err('ERROR_ACCESS_DENIED', syscall, 'this end of the pipe cannot read')) ??
      (this.currentState === 'disconnected' ? this.notConnected(syscall) : undefined)
    );
  }

  private writeRefusal(syscall: string): IpcError | undefined {
    return (
      this.closedRefusal(syscall) ??
      (this.config.canWrite ? undefined : this.err('ERROR_ACCESS_DENIED', syscall, 'this end of the pipe cannot write')) ??
      (this.currentState === 'disconnected' ? this.notConnected(syscall) : undefined) ??
      (this.currentState === 'broken' ? this.err('ERROR_NO_DATA', syscall, 'the other end has closed the pipe') : undefined)
    );
  }

  private dataRefusal(data: Uint8Array, syscall: string): IpcError | undefined {
    if (!(data instanceof Uint8Array)) return this.err('ERROR_INVALID_PARAMETER', syscall, 'data must be a Uint8Array');
    if (this.messageType && data.length > MAX_MESSAGE) return this.err('ERROR_NOT_ENOUGH_QUOTA', syscall, `a message is at most ${MAX_MESSAGE} bytes`);
    return undefined;
  }

  private notConnected(syscall: string): IpcError {
    return this.err('ERROR_PIPE_NOT_CONNECTED', syscall, 'the server disconnected the pipe');
  }

  private brokenPipe(syscall: string): IpcError {
    return this.err('ERROR_BROKEN_PIPE', syscall, 'the other end has closed the pipe');
  }

  private err(code: StatusCode, syscall: string, detail: string): IpcError {
    return new IpcError(code, syscall, undefined, detail);
  }
}

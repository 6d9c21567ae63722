/**
 * Named pipes: NamedPipeServer (one instance), NamedPipe (a client), waitNamedPipe and
 * callNamedPipe. The object manager names the pipe, counts its instances, keeps each
 * instance's state and matches a client to a listening instance; the client then connects
 * to the server process directly and the bytes never pass through the object manager
 * (pipe-channel.ts carries them), so a connected pipe keeps working if the object manager stops.
 */
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { IpcError, type StatusCode } from '../errors.ts';
import { parseDeviceName } from '../names.ts';
import { Access } from '../protocol/access.ts';
import { PipeAccess, PipeDirection, PipeLimits, PipeMode, PipeState, type PipeDirectionName, type PipeModeName, type PipeStateName } from '../protocol/named-pipe.ts';
import type { ReplyOf } from '../protocol/schema.ts';
import type { Connection } from './connection.ts';
import { connectionOf, KernelHandle, type HandleOptions } from './handle.ts';
import type { ChannelConfig, PipeChannel } from './pipe-channel.ts';
import { dialPipe, newPipeToken, pipeEndpoint, type PipeEndpoint } from './pipe-endpoint.ts';
import { cancellable, checkTimeout } from './wait.ts';

/**
 * The most a receiving end holds of its peer's unread writes, whatever buffer size was asked
 * for: a larger size is reported as given, but the writer waits once this much is unread.
 */
export const MAX_PIPE_QUOTA = 16 * 1024 * 1024;

export interface NamedPipeServerOptions extends Omit<HandleOptions, 'access'> {
  /** Which way data flows: 'duplex' (default), 'inbound' (client to server), 'outbound' (server to client). */
  access?: PipeDirectionName;
  /** 'byte' (default) or 'message'. */
  type?: PipeModeName;
  /** This end's read mode: 'byte' (default) or 'message' (message pipes only). */
  readMode?: PipeModeName;
  /** 1 to 255; 255 is 'unlimited' (PIPE_UNLIMITED_INSTANCES), the default. */
  maxInstances?: number | 'unlimited';
  /** Bytes of server-to-client data the client holds unread before the server's write waits (default 4096). */
  outBufferSize?: number;
  /** Bytes of client-to-server data the server holds unread before the client's write waits (default 4096). */
  inBufferSize?: number;
  /** What waitNamedPipe(name, 'default') waits; 0 (the default) means 50 ms. */
  defaultTimeoutMs?: number;
}

export interface NamedPipeOpenOptions extends Omit<HandleOptions, 'access'> {
  /**
   * 'readwrite' (default: GENERIC_READ | GENERIC_WRITE), 'read' (GENERIC_READ |
   * FILE_WRITE_ATTRIBUTES, so that setState works), 'write' (GENERIC_WRITE |
   * FILE_READ_ATTRIBUTES, so that state() works), or a mask of rights ({@link NamedPipeAccess},
   * {@link Access}); 0 opens with no right at all.
   */
  access?: 'read' | 'write' | 'readwrite' | number;
}

/** GetNamedPipeInfo: the instance's creation values, verbatim. */
export interface NamedPipeInfo {
  type: PipeModeName;
  end: 'server' | 'client';
  maxInstances: number | 'unlimited';
  /** Server-to-client buffer, as created. */
  outBufferSize: number;
  /** Client-to-server buffer, as created. */
  inBufferSize: number;
}

/** GetNamedPipeHandleState, and the instance's state and processes. */
export interface NamedPipeState {
  /** This end's read mode. */
  readMode: PipeModeName;
  /** The instance's state ('closing': the other end has closed). */
  state: PipeStateName;
  currentInstances: number;
  maxInstances: number | 'unlimited';
  serverPid: number;
  /** The client's pid; null while no client is connected (GetNamedPipeClientProcessId's ERROR_NOT_FOUND). */
  clientPid: number | null;
}

const DEFAULT_BUFFER = 4096;
const modeName = (code: number): PipeModeName => (code === PipeMode.message ? 'message' : 'byte');
const stateName = Object.fromEntries(Object.entries(PipeState).map(([k, v]) => [v, k])) as Record<number, PipeStateName>;
const maxName = (n: number): number | 'unlimited' => (n === PipeLimits.UNLIMITED_INSTANCES ? 'unlimited' : n);
const quota = (size: number) => Math.min(size, MAX_PIPE_QUOTA);

/** A u32 option, or a value the object manager refuses; sizes that are not u32s fail here. */
function u32(value: number, what: string, syscall: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, `${what} ${String(value)}`);
  return value;
}

/**
 * A pipe name as the object manager takes it: `\\.\pipe\PATH`, with this machine's own name
 * (os.hostname(), or its first label; case-insensitive) turned into `.`. Another machine:
 * ERROR_BAD_NETPATH. A name that does not parse goes as it is, for the object manager's error.
 */
function localPipeName(name: string, syscall: string): string {
  let host: string;
  let path: string;
  try {
    ({ host, path } = parseDeviceName(name, 'pipe'));
  } catch {
    return name;
  }
  if (host === '.') return name;
  const me = os.hostname().toLowerCase();
  const h = host.toLowerCase();
  if (h === me || h === me.split('.')[0]) return `\\\\.\\pipe\\${path}`;
  throw new IpcError('ERROR_BAD_NETPATH', syscall, name, 'pipes on other machines are not reachable');
}

/** What both ends of a named pipe share: the data operations over their channel, info and state. */
export abstract class NamedPipeEnd extends KernelHandle {
  abstract readonly end: 'server' | 'client';
  /** The connected channel, once there is one. */
  protected channel: PipeChannel | undefined;
  protected currentReadMode: PipeModeName;
  protected closedLocally = false;

  protected constructor(
    connection: Connection,
    handle: number,
    objectId: number,
    name: string,
    /** The instance's type. */
    readonly type: PipeModeName,
    protected readonly created: Omit<NamedPipeInfo, 'end' | 'type'>,
    readMode: PipeModeName,
  ) {
    super(connection, handle, objectId, name);
    this.currentReadMode = readMode;
  }

  /** The error of an operation with no channel (a server listening or disconnected). */
  protected abstract noChannel(op: 'data' | 'peek', syscall: string): IpcError;

  protected fail(code: StatusCode, syscall: string, detail?: string): IpcError {
    return new IpcError(code, syscall, this.name, detail);
  }

  /** Why an operation has no channel to go to (what use() throws; the data operations reject with it instead). */
  protected refusal(op: 'data' | 'peek', syscall: string): IpcError {
    return this.closedLocally ? this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed') : this.noChannel(op, syscall);
  }

  /** The channel for an operation, or its failure. */
  protected use(op: 'data' | 'peek', syscall: string): PipeChannel {
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed');
    const ch = this.channel;
    if (ch === undefined) throw this.noChannel(op, syscall);
    return ch;
  }

  /**
   * WriteFile. Resolves with the bytes written once they are committed to the other end and
   * fit its buffer; a message pipe takes one write as one message (0 bytes is a message).
   * Fails ERROR_NO_DATA (the other end closed), ERROR_PIPE_NOT_CONNECTED (disconnected),
   * ERROR_PIPE_LISTENING (a server with no client yet), ERROR_ACCESS_DENIED (not this
   * end's direction), ERROR_INVALID_HANDLE (closed).
   */
  write(data: Uint8Array): Promise<number> {
    // Not async: the channel's promise is handed back as it is (an async wrapper would cost
    // every write two more promise jobs); a refusal here still comes as a rejection.
    const ch = this.channel;
    return ch !== undefined && !this.closedLocally ? ch.write(data) : Promise.reject(this.refusal('data', 'WriteFile'));
  }

  /**
   * FlushFileBuffers. Resolves once the other end has read every byte this end wrote before
   * the call, so that a server may then disconnect() (which discards unread data) without
   * cutting a client short; at once when there is nothing to wait for: nothing unread, the
   * other end gone, a server with no client (NP-BR09). Fails ERROR_INVALID_HANDLE (closed),
   * ERROR_ACCESS_DENIED (this end cannot write), ERROR_PIPE_NOT_CONNECTED (a disconnected client).
   */
  flush(): Promise<void> {
    const ch = this.channel;
    if (ch !== undefined && !this.closedLocally) return ch.flush();
    // A server's instance with no client (listening, disconnected) has nothing to flush.
    if (!this.closedLocally && this instanceof NamedPipeServer) return Promise.resolve();
    return Promise.reject(this.refusal('data', 'FlushFileBuffers'));
  }

  /**
   * ReadFile into `buf`. In message read mode, a message larger than `buf` gives the part
   * that fits with `moreData: true` (ERROR_MORE_DATA) and the rest stays for the next read;
   * byte read mode joins messages. Waits while nothing is there. The other end closed:
   * what is left, then ERROR_BROKEN_PIPE. Fails as write() otherwise.
   */
  read(buf: Uint8Array, opts?: { signal?: AbortSignal }): Promise<{ bytesRead: number; moreData: boolean }> {
    const ch = this.channel;
    return ch !== undefined && !this.closedLocally ? ch.read(buf, opts) : Promise.reject(this.refusal('data', 'ReadFile'));
  }

  /** A whole message (message read mode), or whatever is there (byte read mode). */
  readMessage(opts?: { signal?: AbortSignal }): Promise<Buffer> {
    const ch = this.channel;
    return ch !== undefined && !this.closedLocally ? ch.readMessage(opts) : Promise.reject(this.refusal('data', 'ReadFile'));
  }

  /**
   * PeekNamedPipe: never waits, never consumes. `data`: up to `maxBytes` of the first
   * message (message pipes) or of everything there (byte pipes); `bytesAvailable`: all
   * bytes there; `messageBytesLeft`: the rest of the first message (0 on byte pipes).
   * Fails ERROR_BAD_PIPE on a server with no client, ERROR_BROKEN_PIPE when the other end
   * closed and nothing is left, ERROR_PIPE_NOT_CONNECTED on a disconnected client.
   */
  async peek(maxBytes?: number): Promise<{ data: Buffer; bytesAvailable: number; messageBytesLeft: number }> {
    return this.use('peek', 'PeekNamedPipe').peek(maxBytes);
  }

  /**
   * TransactNamedPipe: write `data` as one message and read one reply message: the part that
   * fits `maxReplyBytes`, `moreData` when the rest stays queued for read(). Only a message
   * pipe in message read mode (else ERROR_BAD_PIPE); a reply already queued before the
   * write: ERROR_PIPE_BUSY.
   */
  transact(data: Uint8Array, maxReplyBytes = Infinity): Promise<{ data: Buffer; moreData: boolean }> {
    if (this.closedLocally) return Promise.reject(this.fail('ERROR_INVALID_HANDLE', 'TransactNamedPipe', 'the pipe handle is closed'));
    if (this.channel === undefined && (this.type !== 'message' || this.currentReadMode !== 'message')) {
      return Promise.reject(this.fail('ERROR_BAD_PIPE', 'TransactNamedPipe', 'transact needs a message pipe in message read mode'));
    }
    const ch = this.channel;
    return ch !== undefined ? ch.transact(data, maxReplyBytes) : Promise.reject(this.refusal('data', 'TransactNamedPipe'));
  }

  /**
   * SetNamedPipeHandleState: this end's read mode (the other end keeps its own). 'message'
   * on a byte pipe, or any other value: ERROR_INVALID_PARAMETER.
   */
  async setState(state: { readMode?: PipeModeName }): Promise<void> {
    const syscall = 'SetNamedPipeHandleState';
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed');
    const mode = state?.readMode;
    if (mode === undefined) return;
    if (mode !== 'byte' && mode !== 'message') throw this.fail('ERROR_INVALID_PARAMETER', syscall, `read mode ${String(mode)}`);
    if (mode === 'message' && this.type === 'byte') throw this.fail('ERROR_INVALID_PARAMETER', syscall, 'a byte pipe cannot be read in message mode');
    this.checkSetState(syscall);
    this.channel?.setReadMode(mode);
    this.currentReadMode = mode;
  }

  protected checkSetState(_syscall: string): void {}

  /** GetNamedPipeInfo: the instance's creation values, verbatim (no request is made). */
  async info(): Promise<NamedPipeInfo> {
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', 'GetNamedPipeInfo', 'the pipe handle is closed');
    return { type: this.type, end: this.end, ...this.created };
  }

  /**
   * GetNamedPipeHandleState with the instance's state and both pids, from the object
   * manager. Needs FILE_READ_ATTRIBUTES; a client whose server disconnected it fails
   * ERROR_PIPE_NOT_CONNECTED.
   */
  async state(): Promise<NamedPipeState> {
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', 'GetNamedPipeHandleState', 'the pipe handle is closed');
    const r = await this.connection.request('queryNamedPipe', { handle: this.handle });
    return {
      readMode: this.currentReadMode,
      state: stateName[r.pipeState]!,
      currentInstances: r.currentInstances,
      maxInstances: maxName(r.maxInstances),
      serverPid: r.serverPid,
      clientPid: r.clientPid === 0 ? null : r.clientPid,
    };
  }

  /** A Node Duplex over this end for byte streams (pipeline()): 'end' when the other end closes. */
  stream(): Duplex {
    return this.use('data', 'stream').stream();
  }

  /**
   * CloseHandle. The other end reads what is left and then ERROR_BROKEN_PIPE, and its writes
   * fail ERROR_NO_DATA; the last instance of a pipe takes its name. A second close does nothing.
   */
  override close(): Promise<void> {
    if (!this.closedLocally) {
      this.closedLocally = true;
      this.closeLocal();
    }
    return super.close();
  }

  protected closeLocal(): void {
    this.channel?.close();
  }
}

/** One listening generation of a server instance: the token a client presents, and its channel. */
interface Generation {
  readonly token: string;
  readonly expectation: { channel: Promise<PipeChannel>; cancel(): void };
}

/**
 * One instance of a named pipe (CreateNamedPipe). It listens from the moment it is created:
 * a client may connect before connect() is called.
 */
export class NamedPipeServer extends NamedPipeEnd {
  readonly end = 'server' as const;
  /** True when other instances of the pipe existed (ERROR_ALREADY_EXISTS on Windows). */
  existed = false;
  /** The state as this process last made it: 'listening' or 'disconnected' when there is no channel. */
  private listenState: 'listening' | 'disconnected' = 'listening';
  private generation: Generation | undefined;

  private constructor(
    connection: Connection,
    r: ReplyOf<'createNamedPipe'>,
    name: string,
    type: PipeModeName,
    created: Omit<NamedPipeInfo, 'end' | 'type'>,
    readMode: PipeModeName,
    private readonly endpoint: PipeEndpoint,
    private readonly direction: number,
  ) {
    super(connection, r.handle, r.objectId, name, type, created, readMode);
    this.existed = r.existed;
  }

  /**
   * CreateNamedPipe: one instance of the pipe `\\.\pipe\NAME`, listening. The first instance
   * fixes the pipe's direction and maximum; later ones must have the same direction
   * (ERROR_ACCESS_DENIED) and fail ERROR_PIPE_BUSY past the maximum. Fails
   * ERROR_INVALID_NAME (not `\\.\pipe\NAME`, over 256 characters), ERROR_INVALID_PARAMETER
   * (a byte pipe read in message mode, a maximum outside 1–255, a bad size or option).
   */
  static async create(name: string, opts: NamedPipeServerOptions = {}): Promise<NamedPipeServer> {
    const syscall = 'CreateNamedPipe';
    const dirName = opts.access ?? 'duplex';
    const direction = Object.hasOwn(PipeDirection, dirName) ? PipeDirection[dirName] : 0xff;
    const type = opts.type ?? 'byte';
    const readMode = opts.readMode ?? 'byte';
    const typeCode = Object.hasOwn(PipeMode, type) ? PipeMode[type] : 0xff;
    const readCode = Object.hasOwn(PipeMode, readMode) ? PipeMode[readMode] : 0xff;
    const max = opts.maxInstances ?? 'unlimited';
    const maxInstances = max === 'unlimited' ? PipeLimits.UNLIMITED_INSTANCES : Number.isInteger(max) && max >= 1 && max <= PipeLimits.UNLIMITED_INSTANCES ? max : 0;
    const outBufferSize = u32(opts.outBufferSize ?? DEFAULT_BUFFER, 'outBufferSize', syscall);
    const inBufferSize = u32(opts.inBufferSize ?? DEFAULT_BUFFER, 'inBufferSize', syscall);
    const defaultTimeoutMs = opts.defaultTimeoutMs ?? 0;
    checkTimeout(defaultTimeoutMs, syscall);
    if (typeof name !== 'string') throw new IpcError('ERROR_INVALID_NAME', syscall, undefined, 'the pipe name must be a string');
    const c = await connectionOf({ connection: opts.connection });
    const endpoint = await pipeEndpoint();
    const token = newPipeToken();
    const config: ChannelConfig = {
      type: modeName(typeCode),
      end: 'server',
      readMode: modeName(readCode),
      canRead: (direction & PipeDirection.inbound) !== 0,
      canWrite: (direction & PipeDirection.outbound) !== 0,
      receiveQuota: quota(inBufferSize),
    };
    const expectation = endpoint.expect(token, config);
    let r: ReplyOf<'createNamedPipe'>;
    try {
      r = await c.request('createNamedPipe', {
        name, direction, pipeType: typeCode, readMode: readCode, maxInstances, outBufferSize, inBufferSize, defaultTimeoutMs, endpoint: endpoint.address, token,
      });
    } catch (e) {
      expectation.channel.catch(() => {});
      expectation.cancel();
      throw e;
    }
    const created = { maxInstances: maxName(r.maxInstances), outBufferSize, inBufferSize };
    const s = new NamedPipeServer(c, r, name, modeName(typeCode), created, modeName(readCode), endpoint, direction);
    s.listen({ token, expectation });
    return s;
  }

  /** Start a listening generation: its channel becomes this end's when the client arrives. */
  private listen(gen: Generation): void {
    this.generation = gen;
    this.listenState = 'listening';
    gen.expectation.channel.then(
      (ch) => {
        if (this.generation !== gen || this.closedLocally) {
          // Disconnected or closed meanwhile: the late client is told so.
          void ch.disconnect().catch(() => {}).finally(() => ch.close());
          return;
        }
        if (ch.readMode !== this.currentReadMode) ch.setReadMode(this.currentReadMode);
        this.channel = ch;
      },
      () => {},
    );
  }

  private channelConfig(): ChannelConfig {
    return {
      type: this.type,
      end: 'server',
      readMode: this.currentReadMode,
      canRead: (this.direction & PipeDirection.inbound) !== 0,
      canWrite: (this.direction & PipeDirection.outbound) !== 0,
      receiveQuota: quota(this.created.inBufferSize),
    };
  }

  protected noChannel(op: 'data' | 'peek', syscall: string): IpcError {
    if (op === 'peek') return this.fail('ERROR_BAD_PIPE', syscall, `the instance is ${this.listenState}`);
    return this.listenState === 'listening'
      ? this.fail('ERROR_PIPE_LISTENING', syscall, 'no client has connected')
      : this.fail('ERROR_PIPE_NOT_CONNECTED', syscall, 'the instance is disconnected');
  }

  /**
   * ConnectNamedPipe: resolves once a client is connected — at once when one already is
   * (`alreadyConnected`, ERROR_PIPE_CONNECTED on Windows, is success here). A disconnected
   * instance starts listening again. Fails ERROR_NO_DATA when a client came and closed
   * (disconnect first), ERROR_PIPE_NOT_CONNECTED when disconnect() is called meanwhile,
   * ERROR_BROKEN_PIPE when the instance is closed meanwhile. An aborted `signal` rejects
   * with its reason; the instance stays listening.
   */
  async connect(opts: { signal?: AbortSignal } = {}): Promise<{ alreadyConnected: boolean }> {
    const syscall = 'ConnectNamedPipe';
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed');
    opts.signal?.throwIfAborted();
    let token = '';
    if (this.listenState === 'disconnected') {
      token = newPipeToken();
      this.listen({ token, expectation: this.endpoint.expect(token, this.channelConfig()) });
    }
    const gen = this.generation!;
    let r: ReplyOf<'connectNamedPipe'>;
    try {
      r = await cancellable(this.connection, 'connectNamedPipe', { handle: this.handle, token }, opts.signal);
    } catch (e) {
      // Refused before listening (the handle, the connection): the new generation never began.
      const code = (e as IpcError).code;
      const keeps = opts.signal?.aborted || code === 'ERROR_OPERATION_ABORTED' || code === 'ERROR_PIPE_NOT_CONNECTED' || code === 'ERROR_BROKEN_PIPE';
      if (token !== '' && !keeps && this.generation === gen) {
        this.generation = undefined;
        this.listenState = 'disconnected';
        gen.expectation.cancel();
      }
      throw e;
    }
    // The client confirmed its channel before the object manager answered: it is here or arriving.
    await gen.expectation.channel;
    return { alreadyConnected: r.alreadyConnected };
  }

  /**
   * DisconnectNamedPipe: the client is cut off (its reads and writes then fail
   * ERROR_PIPE_NOT_CONNECTED) and unread data both ways is discarded; resolves once the
   * client process has seen it or is gone. The instance refuses clients (ERROR_PIPE_BUSY)
   * until connect(). Already disconnected: ERROR_PIPE_NOT_CONNECTED.
   */
  async disconnect(): Promise<void> {
    const syscall = 'DisconnectNamedPipe';
    if (this.closedLocally) throw this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed');
    await this.connection.request('disconnectNamedPipe', { handle: this.handle });
    const gen = this.generation;
    const ch = this.channel;
    this.generation = undefined;
    this.channel = undefined;
    this.listenState = 'disconnected';
    gen?.expectation.cancel();
    if (ch !== undefined) await ch.disconnect();
  }

  protected override closeLocal(): void {
    super.closeLocal();
    this.generation?.expectation.cancel();
    this.generation = undefined;
  }
}

const openAccesses = {
  read: (Access.GENERIC_READ | PipeAccess.FILE_WRITE_ATTRIBUTES) >>> 0,
  write: (Access.GENERIC_WRITE | PipeAccess.FILE_READ_ATTRIBUTES) >>> 0,
  readwrite: (Access.GENERIC_READ | Access.GENERIC_WRITE) >>> 0,
};

/** A client's end of a named pipe (CreateFile on `\\.\pipe\NAME`). It starts in byte read mode. */
export class NamedPipe extends NamedPipeEnd {
  readonly end = 'client' as const;
  /** The rights of this handle ({@link NamedPipeAccess}). */
  readonly access: number;

  private constructor(connection: Connection, r: ReplyOf<'openNamedPipe'>, name: string, channel: PipeChannel) {
    const created = { maxInstances: maxName(r.maxInstances), outBufferSize: r.outBufferSize, inBufferSize: r.inBufferSize };
    super(connection, r.handle, r.objectId, name, modeName(r.pipeType), created, 'byte');
    this.access = r.access;
    this.channel = channel;
  }

  /**
   * Connect to the first listening instance of `\\.\pipe\NAME` (or `\\HOSTNAME\pipe\NAME` of
   * this machine). Resolves once the server process has the connection. Fails
   * ERROR_FILE_NOT_FOUND (no such pipe), ERROR_PIPE_BUSY (no instance listening: see
   * waitNamedPipe), ERROR_ACCESS_DENIED (the access against the pipe's direction),
   * ERROR_BAD_NETPATH (another machine), ERROR_INVALID_NAME; ERROR_PIPE_NOT_CONNECTED or
   * ERROR_BROKEN_PIPE when the server went away while the connection was being made.
   */
  static async open(name: string, opts: NamedPipeOpenOptions = {}): Promise<NamedPipe> {
    const syscall = 'CreateFile';
    const a = opts.access ?? 'readwrite';
    const access = typeof a === 'number' ? a : Object.hasOwn(openAccesses, a) ? openAccesses[a] : -1;
    if (!Number.isInteger(access) || access < 0 || access > 0xffff_ffff) throw new IpcError('ERROR_INVALID_PARAMETER', syscall, name, `access ${String(a)}`);
    if (typeof name !== 'string') throw new IpcError('ERROR_INVALID_NAME', syscall, undefined, 'the pipe name must be a string');
    const local = localPipeName(name, syscall);
    const c = await connectionOf({ connection: opts.connection });
    const r = await c.request('openNamedPipe', { name: local, access });
    const config: ChannelConfig = {
      type: modeName(r.pipeType),
      end: 'client',
      readMode: 'byte',
      canRead: (r.access & PipeAccess.FILE_READ_DATA) !== 0,
      canWrite: (r.access & PipeAccess.FILE_WRITE_DATA) !== 0,
      receiveQuota: quota(r.outBufferSize),
    };
    let channel: PipeChannel;
    try {
      channel = await dialPipe(r.endpoint, r.token, r.serverPid, config);
      await c.request('confirmNamedPipe', { handle: r.handle }).catch((e: unknown) => {
        channel.close();
        throw e;
      });
    } catch (e) {
      await c.request('closeHandle', { handle: r.handle }).catch(() => {});
      throw e;
    }
    return new NamedPipe(c, r, name, channel);
  }

  protected noChannel(_op: 'data' | 'peek', syscall: string): IpcError {
    return this.fail('ERROR_INVALID_HANDLE', syscall, 'the pipe handle is closed');
  }

  protected override checkSetState(syscall: string): void {
    if ((this.access & PipeAccess.FILE_WRITE_ATTRIBUTES) === 0) throw this.fail('ERROR_ACCESS_DENIED', syscall, 'the handle lacks FILE_WRITE_ATTRIBUTES');
  }
}

/** A timeout for waitNamedPipe and callNamedPipe: ms, Infinity, or the pipe's default. */
export type PipeWaitTimeout = number | 'default';

/**
 * WaitNamedPipe: resolves when an instance of the pipe is listening (at once if one is).
 * `'default'` waits the pipe's default timeout (50 ms for a pipe created with 0); 0 only
 * looks. Another client may still take the instance first. Fails ERROR_SEM_TIMEOUT,
 * ERROR_FILE_NOT_FOUND (no such pipe), ERROR_PATH_NOT_FOUND (not a pipe name),
 * ERROR_BAD_NETPATH (another machine). An aborted `signal` rejects with its reason.
 */
export async function waitNamedPipe(name: string, timeoutMs: PipeWaitTimeout = 'default', opts: Omit<HandleOptions, 'access'> & { signal?: AbortSignal } = {}): Promise<void> {
  const syscall = 'WaitNamedPipe';
  const useDefault = timeoutMs === 'default';
  if (!useDefault) checkTimeout(timeoutMs, syscall);
  if (typeof name !== 'string') throw new IpcError('ERROR_PATH_NOT_FOUND', syscall, undefined, 'the pipe name must be a string');
  const local = localPipeName(name, syscall);
  const c = await connectionOf({ connection: opts.connection });
  await cancellable(c, 'waitNamedPipe', { name: local, timeoutMs: useDefault ? 0 : timeoutMs, useDefault }, opts.signal);
}

/**
 * CallNamedPipe: open the pipe (waiting up to `timeoutMs` once if every instance is busy),
 * switch to message read mode, transact `data` for a reply of up to `maxReplyBytes`
 * (`moreData` when the reply was longer; the rest is discarded), close. `timeoutMs` 0 means
 * 0 ms here, not Win32's "use the default" ('default' is that). Fails as open(),
 * waitNamedPipe(), setState() (a byte pipe: ERROR_INVALID_PARAMETER) and transact().
 */
export async function callNamedPipe(
  name: string,
  data: Uint8Array,
  maxReplyBytes: number,
  timeoutMs: PipeWaitTimeout,
  opts: Omit<HandleOptions, 'access'> = {},
): Promise<{ data: Buffer; moreData: boolean }> {
  let pipe: NamedPipe;
  try {
    pipe = await NamedPipe.open(name, opts);
  } catch (e) {
    if ((e as IpcError).code !== 'ERROR_PIPE_BUSY') throw e;
    await waitNamedPipe(name, timeoutMs, opts);
    pipe = await NamedPipe.open(name, opts);
  }
  try {
    await pipe.setState({ readMode: 'message' });
    return await pipe.transact(data, maxReplyBytes);
  } finally {
    await pipe.close();
  }
}

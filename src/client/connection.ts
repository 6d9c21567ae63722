/**
 * A connection to the object manager. A connection is a thread in the NT sense: mutex
 * ownership belongs to it, and when it closes (or the process dies) the mutexes it owns
 * are abandoned. Each JS agent (main thread, worker) has its own default connection.
 */
import { IpcError, statusFromWire } from '../errors.ts';
import { decodeFrame, encodeRequest, type Frame } from '../protocol/codec.ts';
import { PROTOCOL_VERSION, type ReplyOf, type RequestName, type RequestOf } from '../protocol/schema.ts';
import type { Transport } from '../transport/transport.ts';
import { connectUnix } from '../transport/unix-socket.ts';
import { socketPath as defaultSocketPath } from '../transport/paths.ts';
import { ensureBroker } from './launch.ts';
import { threadId as workerThreadId } from 'node:worker_threads';

interface Pending {
  name: RequestName;
  resolve(body: unknown): void;
  reject(error: Error): void;
}

export interface ConnectOptions {
  /** The object manager's socket; default from NTIPC_SOCKET / NTIPC_NAMESPACE. */
  socketPath?: string;
  /** Start an object manager when none answers (default: true unless NTIPC_NO_START=1). */
  autoStart?: boolean;
  /** A transport already connected (tests use loopback). */
  transport?: Transport;
}

/** A FIFO of async holders, for serialising async callers inside one thread. */
class Gate {
  private tail: Promise<void> = Promise.resolve();
  holders = 0;
  enter(): { ready: Promise<void>; leave: () => void } {
    let leave!: () => void;
    const left = new Promise<void>((r) => (leave = r));
    const ready = this.tail;
    this.tail = ready.then(() => left);
    this.holders++;
    let done = false;
    return {
      ready,
      leave: () => {
        if (done) return;
        done = true;
        this.holders--;
        leave();
      },
    };
  }
}

export class Connection {
  /** The thread id the object manager gave this connection. */
  threadId = 0;
  /** The object manager's pid. */
  brokerPid = 0;
  readonly closed: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly gates = new Map<number, Gate>();
  private isClosed = false;
  private resolveClosed!: () => void;

  private constructor(private readonly transport: Transport) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    transport.onFrame = (frame) => this.receive(frame);
    transport.onClose = () => this.onClosed();
    transport.setKeepAlive(false);
  }

  /** Say hello over a connected transport. */
  static async over(transport: Transport, agent = `node:${workerThreadId}`): Promise<Connection> {
    const c = new Connection(transport);
    try {
      const { threadId, brokerPid } = await c.request('hello', { version: PROTOCOL_VERSION, pid: process.pid, agent });
      c.threadId = threadId;
      c.brokerPid = brokerPid;
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Send a request and await its reply; a failure rejects with IpcError. */
  request<K extends RequestName>(name: K, body: RequestOf<K>): Promise<ReplyOf<K>> {
    return this.send(name, body).reply;
  }

  /** Send a request; its id (for cancel) and its reply. */
  send<K extends RequestName>(name: K, body: RequestOf<K>): { id: number; reply: Promise<ReplyOf<K>> } {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_fffe ? 1 : this.nextId + 1;
    if (this.isClosed) {
      return { id, reply: Promise.reject(new IpcError('ERROR_CONNECTION_ABORTED', name, undefined, 'connection closed')) };
    }
    let frame: Buffer;
    try {
      frame = encodeRequest(id, name, body);
    } catch (e) {
      // A value the wire cannot carry (wrong type, too large): refused here, nothing sent.
      return { id, reply: Promise.reject(new IpcError('ERROR_INVALID_PARAMETER', name, undefined, (e as Error).message)) };
    }
    const reply = new Promise<ReplyOf<K>>((resolve, reject) => {
      this.pending.set(id, { name, resolve: resolve as (b: unknown) => void, reject });
    });
    if (this.pending.size === 1) this.transport.setKeepAlive(true);
    this.transport.send(frame);
    return { id, reply };
  }

  /** The FIFO that serialises async lock() callers of one object within this thread. */
  gate(objectId: number): { ready: Promise<void>; leave: () => void } {
    let gate = this.gates.get(objectId);
    if (gate === undefined) this.gates.set(objectId, (gate = new Gate()));
    const entry = gate.enter();
    const g = gate;
    return {
      ready: entry.ready,
      leave: () => {
        entry.leave();
        if (g.holders === 0 && this.gates.get(objectId) === g) this.gates.delete(objectId);
      },
    };
  }

  /** Resolves when the connection has closed, keeping the process alive until then. */
  async waitClosed(): Promise<void> {
    if (this.isClosed) return;
    this.transport.setKeepAlive(true);
    await this.closed;
  }

  /** Close the connection: this thread ends, its owned mutexes are abandoned. */
  close(): void {
    this.transport.close();
  }

  private receive(bytes: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      this.close();
      return;
    }
    const p = this.pending.get(frame.requestId);
    if (p === undefined || frame.kind === 'request') return;
    this.pending.delete(frame.requestId);
    if (this.pending.size === 0) this.transport.setKeepAlive(false);
    if (frame.kind === 'reply') p.resolve(frame.body);
    else {
      const code = statusFromWire(frame.status) ?? 'ERROR_INVALID_FUNCTION';
      p.reject(new IpcError(code, p.name, undefined, frame.detail || undefined));
    }
  }

  private onClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const p of this.pending.values()) {
      p.reject(new IpcError('ERROR_CONNECTION_ABORTED', p.name, undefined, 'connection to the object manager closed'));
    }
    this.pending.clear();
    this.resolveClosed();
  }
}

/** Connect to the object manager, starting one if none answers and `autoStart` allows. */
export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  if (options.transport) return Connection.over(options.transport);
  const path = options.socketPath ?? defaultSocketPath();
  const autoStart = options.autoStart ?? process.env.NTIPC_NO_START !== '1';
  const transport = autoStart ? await ensureBroker(path) : await connectOrFail(path);
  return Connection.over(transport);
}

async function connectOrFail(path: string): Promise<Transport> {
  try {
    return await connectUnix(path);
  } catch (e) {
    throw new IpcError('ERROR_SERVICE_NOT_ACTIVE', 'connect', path, `no object manager answers (${(e as NodeJS.ErrnoException).code})`);
  }
}

let defaultConn: Promise<Connection> | undefined;

/** This JS agent's own connection, opened on first use and again after it closes. */
export function defaultConnection(): Promise<Connection> {
  if (defaultConn === undefined) {
    const p = connect();
    defaultConn = p;
    p.then(
      (c) => void c.closed.then(() => defaultConn === p && (defaultConn = undefined)),
      () => defaultConn === p && (defaultConn = undefined),
    );
  }
  return defaultConn;
}

/** Use `c` as this agent's default connection (tests, embedding). */
export function setDefaultConnection(c: Connection | undefined): void {
  defaultConn = c === undefined ? undefined : Promise.resolve(c);
}

/** The running object manager's status; ERROR_SERVICE_NOT_ACTIVE when none answers. */
export async function brokerStatus(socketPath?: string): Promise<import('../protocol/schema.ts').BrokerStatus> {
  const c = await connect({ socketPath, autoStart: false });
  try {
    return (await c.request('status', {})).status;
  } finally {
    c.close();
  }
}

/** Ask the running object manager to stop (its clients' connections close, their mutexes are abandoned). */
export async function stopBroker(socketPath?: string): Promise<void> {
  const c = await connect({ socketPath, autoStart: false });
  try {
    await c.request('shutdown', {});
    await c.waitClosed();
  } finally {
    c.close();
  }
}

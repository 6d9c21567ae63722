/**
 * The object manager: the kernel plus I/O at its edges. It accepts transports, runs a
 * session on each, fires the kernel's deadlines on a timer, polls the pids it watches,
 * and, when started on demand, lingers once idle and then exits.
 */
import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { IpcError } from '../errors.ts';
import { PROTOCOL_VERSION, type BrokerStatus } from '../protocol/schema.ts';
import { Kernel, type Clock, type Host } from '../kernel/kernel.ts';
import { pollProcesses, watchingProcesses } from '../kernel/objects/process.ts';
import { createLoopback } from '../transport/loopback.ts';
import { ensurePrivateDir, lockName } from '../transport/paths.ts';
import type { Listener, Transport } from '../transport/transport.ts';
import { listenUnix } from '../transport/unix-socket.ts';
import { osHost } from './host.ts';
import { Session } from './session.ts';

export interface BrokerOptions {
  /** Print every request and reply, one line each. */
  trace?: (line: string) => void;
  /** Diagnostics (protocol violations, internal errors). */
  log?: (line: string) => void;
  /** Exit this long after the last client and object are gone; Infinity never. */
  lingerMs?: number;
  clock?: Clock;
  host?: Host;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_DELAY = 0x7fff_ffff;

/** How often watched pids that are not clients are looked at. */
const PROCESS_POLL_MS = 50;

export const realClock: Clock = { now: () => performance.now(), wallNow: () => Date.now() };

export class Broker {
  readonly kernel: Kernel;
  readonly tracer: ((line: string) => void) | undefined;
  readonly closed: Promise<void>;
  private readonly started = performance.now();
  private readonly transports = new Set<Transport>();
  private listener: Listener | undefined;
  private lock: net.Server | undefined;
  private sessions = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt: number | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: () => void;
  private stopping = false;

  private constructor(private readonly options: BrokerOptions) {
    this.kernel = new Kernel(options.clock ?? realClock, options.host ?? osHost);
    this.tracer = options.trace;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /**
   * Listen on a Unix socket. Only one broker may serve a socket path: a second one fails
   * with ERROR_ALREADY_EXISTS. A socket file left by a broker that died is replaced.
   */
  static async listen(socketPath: string, options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    broker.lock = await holdLock(lockName(socketPath, 'broker'));
    try {
      ensurePrivateDir(socketPath);
      fs.rmSync(socketPath, { force: true });
      broker.listener = await listenUnix(socketPath, (t) => broker.accept(t));
      fs.chmodSync(socketPath, 0o600);
    } catch (e) {
      broker.lock.close();
      throw e;
    }
    broker.maybeLinger();
    return broker;
  }

  /** An in-process broker reached through loopback transports (tests). */
  static loopback(options: BrokerOptions = {}): Broker & { connect(pid?: number): Transport } {
    const broker = new Broker({ lingerMs: Infinity, ...options });
    const loop = createLoopback((t) => broker.accept(t));
    broker.listener = loop;
    return Object.assign(broker, { connect: (pid?: number) => loop.connect(pid) });
  }

  get address(): string {
    return this.listener?.address ?? '';
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  private accept(transport: Transport): void {
    if (this.stopping) {
      transport.close();
      return;
    }
    this.transports.add(transport);
    const session = new Session(this, transport);
    const onClose = transport.onClose;
    transport.onClose = (e) => {
      this.transports.delete(transport);
      onClose.call(session, e);
    };
  }

  sessionOpened(): void {
    this.sessions++;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  sessionClosed(): void {
    this.sessions--;
    this.maybeLinger();
  }

  /** After every request or disconnect: re-arm the deadline timer and the process poll. */
  afterRequest(): void {
    this.scheduleDeadline();
    const watching = this.kernel.processObjects.size > 0 && watchingProcesses(this.kernel);
    if (watching && !this.pollTimer) {
      this.pollTimer = setInterval(() => this.guarded('process poll', () => pollProcesses(this.kernel)), PROCESS_POLL_MS).unref();
    } else if (!watching && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private scheduleDeadline(): void {
    const next = this.kernel.nextDeadline();
    if (next === this.deadlineAt) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineAt = next;
    if (next === undefined) return;
    // setTimeout turns a delay past 2^31-1 ms into 1 ms; wake early and re-arm instead.
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, Math.ceil(next - this.kernel.clock.now())));
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.deadlineAt = undefined;
      this.guarded('deadline', () => this.kernel.tick());
    }, delay).unref();
  }

  /** Run kernel work outside a request: an unexpected exception is logged, never fatal. */
  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (e) {
      this.log(`internal error in ${what}: ${(e as Error).stack ?? e}`);
    }
    this.afterRequest();
  }

  private maybeLinger(): void {
    const linger = this.options.lingerMs ?? Infinity;
    if (linger === Infinity || this.sessions > 0 || this.kernel.objects.size > 0 || this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      if (this.sessions === 0 && this.kernel.objects.size === 0) {
        this.log('idle: no clients and no objects, exiting');
        this.shutdown();
      }
    }, linger);
  }

  status(): BrokerStatus {
    return {
      pid: process.pid,
      protocolVersion: PROTOCOL_VERSION,
      socketPath: this.address,
      uptimeMs: Math.round(performance.now() - this.started),
      processes: this.kernel.processes.size,
      threads: this.kernel.threadCount,
      objects: this.kernel.objects.size,
      handles: this.kernel.handleCount,
      pendingWaits: this.kernel.waits.pending + this.kernel.pending.count,
    };
  }

  /** Stop: refuse new clients, close every connection, release the socket and the lock. */
  shutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.transports) t.close();
    for (const timer of [this.deadlineTimer, this.lingerTimer]) if (timer) clearTimeout(timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    const listener = this.listener;
    void (async () => {
      await listener?.close();
      if (listener && listener.address !== 'loopback') fs.rmSync(listener.address, { force: true });
      this.lock?.close();
      this.resolveClosed();
    })();
  }
}

/** Listen on an abstract socket name as a lock; fails ERROR_ALREADY_EXISTS when held. */
function holdLock(name: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new IpcError('ERROR_ALREADY_EXISTS', 'listen', undefined, 'an object manager already serves this socket') : e);
    });
    server.listen(name, () => resolve(server));
  });
}

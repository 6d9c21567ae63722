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
import { deliverMailslotMessage } from '../kernel/objects/mailslot.ts';
import { pollProcesses, watchingProcesses } from '../kernel/objects/process.ts';
import { createLoopback } from '../transport/loopback.ts';
import { ensurePrivateDir, lockName } from '../transport/paths.ts';
import type { Listener, Transport } from '../transport/transport.ts';
import { listenUnix } from '../transport/unix-socket.ts';
import { resolveConfig, type BrokerConfig } from './config.ts';
import { restoreMessageQueues } from '../kernel/objects/message-queue-restore.ts';
import { osHost } from './host.ts';
import { StoreJournal } from './queue-journal.ts';
import { ReplyBarrier } from './reply-barrier.ts';
import { MailslotNetwork, type Delivery } from './mailslot-network.ts';
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
  /**
   * Who this machine is and how mailslot messages reach other machines (main.ts reads it
   * with loadConfig). Default: this host's name, WORKGROUP, no network.
   */
  network?: Pick<BrokerConfig, 'host' | 'domain' | 'mailslotNetwork'>;
  /**
   * The state directory, where durable message queues are kept (main.ts: --state-dir).
   * Absent: nothing outlives this object manager, and durable queues live in memory only.
   */
  stateDir?: string;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_DELAY = 0x7fff_ffff;

/** How often watched pids that are not clients are looked at. */
const PROCESS_POLL_MS = 50;

export const realClock: Clock = { now: () => performance.now(), wallNow: () => Date.now() };

export class Broker {
  readonly kernel: Kernel;
  readonly mailslots: MailslotNetwork;
  /** Durable message queues' store, when there is a state directory. */
  readonly journal: StoreJournal | undefined;
  /** Holds replies until the durable writes before them are on disk. */
  readonly barrier: ReplyBarrier;
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
    const network = options.network ?? resolveConfig(undefined, {});
    this.mailslots = new MailslotNetwork({
      host: network.host,
      domain: network.domain,
      network: network.mailslotNetwork,
      deliver: (key, data) => this.deliverMailslot(key, data),
      log: (line) => this.log(line),
    });
    this.journal = options.stateDir === undefined ? undefined : new StoreJournal(options.stateDir, (work) => this.guarded('queue store', work));
    this.barrier = new ReplyBarrier(this.journal, (e) => {
      // Replies that follow a write that cannot be made durable must never leave: stop, and
      // let the next object manager start from what is on disk.
      this.log(`durable state could not be written, stopping: ${e.message}`);
      this.shutdown();
    });
    this.kernel = new Kernel(options.clock ?? realClock, withJournal(withMailslots(options.host ?? osHost, this.mailslots), this.journal));
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
      await broker.restoreQueues();
      ensurePrivateDir(socketPath);
      fs.rmSync(socketPath, { force: true });
      await broker.mailslots.start();
      broker.listener = await listenUnix(socketPath, (t) => broker.accept(t));
      fs.chmodSync(socketPath, 0o600);
    } catch (e) {
      await broker.mailslots.close();
      await broker.journal?.close().catch(() => {});
      broker.lock.close();
      throw e;
    }
    broker.maybeLinger();
    return broker;
  }

  /**
   * Durable queues come back before any client can ask for them. A store that cannot be
   * opened (corrupt, held by another object manager) is reported and left as it is: this
   * object manager serves without it, and creating a durable queue then fails with the
   * store's error.
   */
  private async restoreQueues(): Promise<void> {
    if (this.journal === undefined) return;
    let stored;
    try {
      stored = await this.journal.openExisting();
    } catch (e) {
      this.log(`durable message queues not restored from ${this.journal.dir}: ${(e as Error).message}`);
      return;
    }
    for (const problem of restoreMessageQueues(this.kernel, stored)) this.log(problem);
  }

  /** An in-process broker reached through loopback transports (tests); its mailslots reach this machine only. */
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

  /** A mailslot message from the network or a write to `\\*`: into the local mailslot, outside any request. */
  private deliverMailslot(key: string, data: Uint8Array): Delivery {
    let result: Delivery = 'no-mailslot';
    this.guarded('mailslot delivery', () => (result = deliverMailslotMessage(this.kernel, key, data)));
    return result;
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
      mailslotNetwork: this.mailslots.status(),
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
      await Promise.all([listener?.close(), this.mailslots.close()]);
      await this.journal?.close().catch((e: Error) => this.log(`closing the queue store: ${e.message}`));
      if (listener && listener.address !== 'loopback') fs.rmSync(listener.address, { force: true });
      this.lock?.close();
      this.resolveClosed();
    })();
  }
}

/**
 * The kernel's host with a way out for mailslot messages addressed to other machines (a
 * host given with its own sendMailslot keeps it).
 */
function withMailslots(host: Host, mailslots: MailslotNetwork): Host {
  if (host.sendMailslot !== undefined) return host;
  const composed: Host = Object.create(host) as Host;
  composed.sendMailslot = (target, path, data) => mailslots.send(target, path, data);
  return composed;
}

/** The kernel's host with the journal of durable queues, when there is one. */
function withJournal(host: Host, journal: StoreJournal | undefined): Host {
  if (journal === undefined || host.journal !== undefined) return host;
  const composed: Host = Object.create(host) as Host;
  composed.journal = journal;
  return composed;
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

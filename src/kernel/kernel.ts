/**
 * The kernel: namespace, processes and threads, the wait engine and the handler table.
 * Pure and synchronous: no I/O, the clock and the view of OS processes are injected.
 * A request runs to completion inside `dispatch`; a wait that cannot complete at once is
 * a record in the objects' queues, and the thread's sink hears of its end later.
 */
import { StatusError, check } from '../errors.ts';
import { objectNameKey } from '../names.ts';
import type { ObjectInfo, ReplyOf, RequestName, RequestOf } from '../protocol/schema.ts';
import { grantedAccess } from './access.ts';
import { Deadlines } from './deadlines.ts';
import { MAX_OBJECTS, Namespace } from './namespace.ts';
import { describeObject, type KernelObject, type ObjectType } from './object.ts';
import { ClientProcess, Thread, type CompletionSink } from './process.ts';
import { PendingRequests } from './pending.ts';
import { WaitEngine, type WaitBlock } from './wait.ts';
import { breakDeadlocks, deadlockOf } from './wait-for.ts';
import { inspect, parseInspectFilter } from './inspect.ts';
import { eventHandlers } from './objects/event.ts';
import { mailslotHandlers } from './objects/mailslot.ts';
import { abandonOwned, mutexHandlers } from './objects/mutex.ts';
import { messageQueueHandlers, type QueueJournal } from './objects/message-queue.ts';
import { namedPipeHandlers } from './objects/named-pipe.ts';
import { processExitNoticed, processHandlers, type ProcessObject } from './objects/process.ts';
import { releaseViews, sectionHandlers } from './objects/section.ts';
import { semaphoreHandlers } from './objects/semaphore.ts';
import { timerHandlers } from './objects/timer.ts';
import { waitHandlers } from './wait-handlers.ts';

/** Time as the kernel sees it, injected so that tests drive it. */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Milliseconds since the epoch (for absolute due times). */
  wallNow(): number;
}

/** What the kernel may ask of the OS, injected. */
export interface Host {
  processAlive(pid: number): boolean;
  parentPid(pid: number): number | undefined;
  /**
   * Create a POSIX shared memory object of `size` bytes for a section and return its name
   * (as shm_open takes it). Fails with StatusError (ERROR_NOT_ENOUGH_MEMORY, …).
   */
  createSharedMemory(size: number): string;
  /** Remove a shared memory object's name; processes that have it mapped keep the memory. */
  unlinkSharedMemory(name: string): void;
  /**
   * Send a mailslot message to other machines: `target` is `*` (the primary domain), a
   * domain or a host name as written in `\\TARGET\mailslot\PATH`. Unreliable, as on
   * Windows: it returns once the datagram is handed on. Throws StatusError when it cannot
   * be sent at all (too long for the target). Absent: this object manager has no network,
   * and only this machine's mailslots can be reached.
   */
  sendMailslot?(target: string, path: string, data: Uint8Array): void;
  /**
   * Where durable message queues are written, synchronously and in order (the broker's
   * store). Absent: this object manager keeps nothing across restarts, and a queue asked
   * to be durable lives in memory only.
   */
  journal?: QueueJournal;
}

/**
 * Hears of the kernel's changes once per unit of work (a request, a disconnect, a tick, a
 * delivery from outside): the ids of the objects whose state, handles, waiters or activity
 * changed (destroyed ones included: they are no longer found), and whether any process,
 * thread, handle table or thread's waits changed. It must not call into the kernel but to read it.
 */
export type KernelObserver = (changedObjectIds: ReadonlySet<number>, processesChanged: boolean) => void;

/** A handler's answer when the reply will come later through the thread's sink. */
export const PENDING = Symbol('pending');

/** The requests the kernel answers (hello, status and shutdown belong to the broker). */
export type KernelRequest = Exclude<RequestName, 'hello' | 'status' | 'shutdown'>;

export interface RequestContext {
  readonly kernel: Kernel;
  readonly thread: Thread;
  readonly process: ClientProcess;
  readonly requestId: number;
}

export type Handler<K extends KernelRequest> = (ctx: RequestContext, req: RequestOf<K>) => ReplyOf<K> | typeof PENDING;
export type Handlers = { [K in KernelRequest]: Handler<K> };

const coreHandlers = {
  ping: () => ({}),
  closeHandle(ctx, { handle }) {
    ctx.kernel.closeHandle(ctx.process, handle);
    return {};
  },
  queryObject(ctx, { handle }) {
    const obj = ctx.process.handles.get(handle, 0);
    ctx.process.handles.get(handle, obj.type.queryRight);
    return { info: describeObject(obj, ctx.thread) };
  },
  listObjects(ctx, { type }) {
    const objects: ObjectInfo[] = [];
    for (const obj of ctx.kernel.objects.values()) {
      if (type === undefined || obj.type.name === type) objects.push(describeObject(obj));
    }
    return { objects };
  },
  inspect(ctx, req) {
    return { snapshot: inspect(ctx.kernel, parseInspectFilter(req), ctx.thread) };
  },
} satisfies Partial<Handlers>;

/** The handler table; a request without a handler is a compile error here. */
const handlers: Handlers = {
  ...coreHandlers,
  ...waitHandlers,
  ...mutexHandlers,
  ...semaphoreHandlers,
  ...eventHandlers,
  ...timerHandlers,
  ...processHandlers,
  ...sectionHandlers,
  ...mailslotHandlers,
  ...namedPipeHandlers,
  ...messageQueueHandlers,
};

export class Kernel {
  readonly namespace = new Namespace();
  readonly processes = new Map<number, ClientProcess>();
  readonly objects = new Map<number, KernelObject>();
  readonly deadlines = new Deadlines();
  /** Process objects by pid: one object per OS process, as on Windows. */
  readonly processObjects = new Map<number, ProcessObject>();
  readonly waits: WaitEngine;
  readonly pending: PendingRequests;
  threadCount = 0;
  handleCount = 0;
  private readonly observers: KernelObserver[] = [];
  /** Objects changed in the current unit of work; kept only while someone observes. */
  private changedIds = new Set<number>();
  private processesChanged = false;
  /** Nesting of units of work: observers hear at the end of the outermost. */
  private depth = 0;

  constructor(
    readonly clock: Clock,
    readonly host: Host,
  ) {
    const engineHost = {
      deadlines: this.deadlines,
      now: () => this.clock.now(),
      ref: (o: KernelObject) => this.ref(o),
      unref: (o: KernelObject) => this.unref(o),
      changed: (o: KernelObject) => this.changed(o),
      threadsChanged: () => this.threadsChanged(),
      deadlockOf: (b: WaitBlock) => deadlockOf(this, b),
    };
    this.waits = new WaitEngine(engineHost);
    this.pending = new PendingRequests(engineHost);
  }

  /** A new thread (connection) of process `pid`. */
  connect(pid: number, sink: CompletionSink, agent = ''): Thread {
    return this.batch(() => {
      this.threadsChanged();
      let process = this.processes.get(pid);
      if (process === undefined) {
        process = new ClientProcess(pid);
        this.processes.set(pid, process);
      }
      const thread = new Thread(process, sink, agent);
      process.threads.add(thread);
      this.threadCount++;
      return thread;
    });
  }

  /**
   * A thread is gone (its connection closed, however it closed): its waits vanish, the
   * mutexes it owns are abandoned, and with its process's last thread the handles close
   * and its views of sections are let go.
   */
  disconnect(thread: Thread): void {
    if (!thread.alive) return;
    this.batch(() => this.end(thread));
  }

  private end(thread: Thread): void {
    thread.alive = false;
    this.threadsChanged();
    this.threadCount--;
    this.waits.dropAll(thread);
    this.pending.dropAll(thread);
    abandonOwned(this, thread);
    const process = thread.process;
    process.threads.delete(thread);
    if (process.threads.size > 0) return;
    this.processes.delete(process.pid);
    for (const obj of process.handles.clear()) this.dropHandle(obj);
    releaseViews(this, process);
    processExitNoticed(this, process.pid);
  }

  /** Run one request. Throws StatusError for a failed request. */
  dispatch<K extends KernelRequest>(thread: Thread, requestId: number, name: K, body: RequestOf<K>): ReplyOf<K> | typeof PENDING {
    check(thread.alive, 'ERROR_INVALID_HANDLE', 'thread has ended');
    const handler = handlers[name] as Handler<K> | undefined;
    if (handler === undefined) throw new StatusError('ERROR_INVALID_FUNCTION', `no handler for ${String(name)}`);
    // A unit of work (batch), written out: this is every request's path.
    this.depth++;
    try {
      return handler({ kernel: this, thread, process: thread.process, requestId }, body);
    } finally {
      if (--this.depth === 0) this.settle();
    }
  }

  /** Fire every deadline that is due. */
  tick(): void {
    this.batch(() => this.deadlines.fireDue(this.clock.now()));
  }

  /**
   * Run `work` as one unit of work: at the end of the outermost unit, waiters that asked for
   * deadlock detection and are now deadlocked are failed, then observers hear of what
   * changed, once. dispatch, disconnect and tick are units; so must be any other work done
   * on the kernel from outside (a delivery, a poll).
   */
  batch<T>(work: () => T): T {
    this.depth++;
    try {
      return work();
    } finally {
      if (--this.depth === 0) this.settle();
    }
  }

  /**
   * Hear of changes at the end of every unit of work (see KernelObserver). Returns the
   * unsubscribe function. With no observer, changes are not even collected.
   */
  observe(listener: KernelObserver): () => void {
    this.observers.push(listener);
    return () => {
      const i = this.observers.indexOf(listener);
      if (i >= 0) this.observers.splice(i, 1);
      if (this.observers.length === 0) {
        this.changedIds.clear();
        this.processesChanged = false;
      }
    };
  }

  /** `obj`'s state, handles, waiters or activity changed (for observers; free when there are none). */
  changed(obj: KernelObject): void {
    if (this.observers.length > 0) this.changedIds.add(obj.id);
  }

  /** A process, thread, handle table, or a thread's waits or owned objects changed (for observers). */
  threadsChanged(): void {
    if (this.observers.length > 0) this.processesChanged = true;
  }

  /** Every pending wait of every thread. */
  *waitBlocks(): IterableIterator<WaitBlock> {
    for (const p of this.processes.values()) for (const t of p.threads) yield* t.waits.values();
  }

  private settle(): void {
    if (this.waits.detecting > 0 && this.waits.graphChanged) breakDeadlocks(this);
    this.waits.graphChanged = false;
    if (this.observers.length === 0 || (this.changedIds.size === 0 && !this.processesChanged)) return;
    const ids = this.changedIds;
    const processes = this.processesChanged;
    this.changedIds = new Set();
    this.processesChanged = false;
    for (const listener of [...this.observers]) {
      try {
        listener(ids, processes);
      } catch (e) {
        // An observer's bug must not fail the request that has already happened: report it apart.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /** When `tick` next has work, on the kernel clock. */
  nextDeadline(): number | undefined {
    return this.deadlines.next();
  }

  /**
   * Create a named or unnamed object of `type`, or open the existing one of that name
   * (`existed`; the creation parameters are then ignored, as on Windows).
   */
  createObject<O extends KernelObject>(
    ctx: RequestContext,
    type: ObjectType<O>,
    name: string | undefined,
    desiredAccess: number,
    make: () => O,
  ): { handle: number; objectId: number; existed: boolean; object: O } {
    const key = name === undefined ? undefined : objectNameKey(name);
    const access = grantedAccess(desiredAccess, type.access);
    const existing = key === undefined ? undefined : this.namespace.get(key);
    if (existing !== undefined) {
      check(existing.type === type, 'ERROR_INVALID_HANDLE', `${name} is a ${existing.type.name}`);
      const handle = this.addHandle(ctx.process, existing, access);
      return { handle, objectId: existing.id, existed: true, object: existing as O };
    }
    check(this.objects.size < MAX_OBJECTS, 'ERROR_NOT_ENOUGH_QUOTA', 'too many objects');
    const obj = make();
    const handle = this.addHandle(ctx.process, obj, access);
    if (key !== undefined) this.namespace.insert(key, obj);
    this.objects.set(obj.id, obj);
    return { handle, objectId: obj.id, existed: false, object: obj };
  }

  /** Open the object called `name`, which must be of `type`. */
  openObject(ctx: RequestContext, type: ObjectType, name: string, desiredAccess: number): { handle: number; objectId: number } {
    check(typeof name === 'string', 'ERROR_INVALID_PARAMETER', 'open needs a name');
    const key = objectNameKey(name);
    const obj = this.namespace.get(key);
    check(obj !== undefined, 'ERROR_FILE_NOT_FOUND', name);
    check(obj.type === type, 'ERROR_INVALID_HANDLE', `${name} is a ${obj.type.name}`);
    const access = grantedAccess(desiredAccess, type.access);
    check(access !== 0, 'ERROR_ACCESS_DENIED', 'no access requested');
    return { handle: this.addHandle(ctx.process, obj, access), objectId: obj.id };
  }

  /** Register an object that has no name and may already exist (process objects). */
  adopt(obj: KernelObject): void {
    check(this.objects.size < MAX_OBJECTS, 'ERROR_NOT_ENOUGH_QUOTA', 'too many objects');
    this.objects.set(obj.id, obj);
    this.changed(obj);
  }

  addHandle(process: ClientProcess, obj: KernelObject, access: number): number {
    const handle = process.handles.add(obj, access);
    obj.handleCount++;
    this.handleCount++;
    this.ref(obj);
    this.changed(obj);
    this.threadsChanged();
    return handle;
  }

  closeHandle(process: ClientProcess, handle: number): void {
    this.dropHandle(process.handles.remove(handle));
  }

  private dropHandle(obj: KernelObject): void {
    obj.handleCount--;
    this.handleCount--;
    this.changed(obj);
    this.threadsChanged();
    // The name goes with the last handle, as on Windows, even if a pending wait keeps the
    // object itself alive: a later create makes a new object, a later open finds nothing.
    if (obj.handleCount === 0) this.namespace.remove(obj);
    this.unref(obj);
  }

  ref(obj: KernelObject): void {
    obj.refs++;
  }

  /** Drop a reference; the last one destroys the object and frees its name. */
  unref(obj: KernelObject): void {
    if (--obj.refs > 0) return;
    this.changed(obj);
    this.namespace.remove(obj);
    this.objects.delete(obj.id);
    obj.type.destroy(obj, this);
  }
}

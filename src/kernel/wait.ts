/**
 * The wait engine: wait-any, wait-all, timeouts, cancellation and wake-up, written once
 * over the two verbs every type provides (isSignaled, satisfy).
 *
 * Invariants:
 * - A pending wait block sits in the wait queue of each distinct object it waits on, in
 *   arrival order, and holds one reference on each, so a waited-on object outlives its
 *   handles (closing them neither wakes nor fails the wait).
 * - A block is satisfied all at once: wait-all checks every object before it touches any,
 *   and a request runs to completion in one turn, so no partial acquisition is ever seen.
 * - After any state change the engine re-examines the queues of every object touched,
 *   oldest waiter first, until nothing more can be satisfied (FIFO wake order).
 */
import { StatusError, check, type StatusCode } from '../errors.ts';
import type { RequestName, WaitStatus } from '../protocol/schema.ts';
import { WaitStatusCode } from '../protocol/schema.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import type { KernelObject } from './object.ts';
import type { Thread } from './process.ts';

/** WaitForMultipleObjects' limit. */
export const MAXIMUM_WAIT_OBJECTS = 64;

/** Most waits one thread may have pending at once (a bound on what a client can make us hold). */
export const MAX_WAITS_PER_THREAD = 1 << 16;

export interface WaitResult {
  status: number;
  index: number;
}

/** Arrival order of waits and other pending requests, across every object (inspection lists waiters by it). */
let arrivals = 0;
export const nextArrival = (): number => ++arrivals;

/** One pending wait of one thread. */
export class WaitBlock {
  deadline: Deadline | undefined;
  done = false;
  readonly seq = nextArrival();
  constructor(
    readonly thread: Thread,
    readonly requestId: number,
    readonly request: Extract<RequestName, 'wait' | 'signalAndWait'>,
    readonly objects: readonly KernelObject[],
    readonly all: boolean,
    /** The waiter asked to fail ERROR_POSSIBLE_DEADLOCK rather than block in a deadlock. */
    readonly detectDeadlock: boolean,
    /** When it began, on the kernel's monotonic clock. */
    readonly startedAt: number,
  ) {}
}

/** Validate a timeout in ms: a number ≥ 0, Infinity for no timeout. */
export function checkTimeout(timeoutMs: number): void {
  check(typeof timeoutMs === 'number' && !Number.isNaN(timeoutMs) && timeoutMs >= 0, 'ERROR_INVALID_PARAMETER', `bad timeout ${timeoutMs}`);
}

/** The objects without repeats, in order (a wait-any may name one object twice). */
export function distinct(objects: readonly KernelObject[]): readonly KernelObject[] {
  return objects.length === 1 ? objects : [...new Set(objects)];
}

function result(status: WaitStatus, index: number): WaitResult {
  return { status: WaitStatusCode[status], index };
}

/** Satisfy `block` if it can be satisfied now, with every side effect; else undefined. */
function trySatisfy(objects: readonly KernelObject[], all: boolean, thread: Thread): WaitResult | undefined {
  if (all) {
    for (const o of objects) if (!o.type.isSignaled(o, thread)) return undefined;
    let abandoned = false;
    for (const o of objects) if (o.type.satisfy(o, thread) === 'abandoned') abandoned = true;
    return result(abandoned ? 'abandoned' : 'signaled', 0);
  }
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    if (o.type.isSignaled(o, thread)) return result(o.type.satisfy(o, thread), i);
  }
  return undefined;
}

export interface WaitEngineHost {
  readonly deadlines: Deadlines;
  now(): number;
  ref(obj: KernelObject): void;
  unref(obj: KernelObject): void;
  /** An object's state, waiters or activity changed (for observers). */
  changed(obj: KernelObject): void;
  /** A thread's waits or owned objects changed (for observers). */
  threadsChanged(): void;
  /** Would queueing `block` leave it blocked in a deadlock? A description of the cycle, or undefined. */
  deadlockOf(block: WaitBlock): string | undefined;
}

export class WaitEngine {
  private readonly dirty: KernelObject[] = [];
  private draining = false;
  /** Pending wait blocks, for status. */
  pending = 0;
  /** Pending blocks that asked for deadlock detection. */
  detecting = 0;
  /**
   * The wait-for graph may have gained an edge since this was last cleared: a wait blocked, or
   * a wait was satisfied (an owner changed). The kernel clears it after looking for deadlocks.
   */
  graphChanged = false;

  constructor(private readonly host: WaitEngineHost) {}

  /**
   * Begin a wait. Returns the result when it completes at once (satisfied, or timeout 0),
   * else queues it and returns undefined: the thread's sink hears of it later.
   */
  begin(
    thread: Thread,
    requestId: number,
    request: WaitBlock['request'],
    objects: KernelObject[],
    all: boolean,
    timeoutMs: number,
    detectDeadlock = false,
  ): WaitResult | undefined {
    checkTimeout(timeoutMs);
    check(objects.length > 0 && objects.length <= MAXIMUM_WAIT_OBJECTS, 'ERROR_INVALID_PARAMETER', `wait on ${objects.length} objects`);
    if (all) check(distinct(objects).length === objects.length, 'ERROR_INVALID_PARAMETER', 'the same object twice in a wait-all');
    check(!thread.waits.has(requestId) && !thread.pending.has(requestId), 'ERROR_INVALID_PARAMETER', `request id ${requestId} already waiting`);
    const now = trySatisfy(objects, all, thread);
    if (now !== undefined) {
      this.acquired(objects, all, now);
      this.touched(objects);
      return now;
    }
    if (timeoutMs === 0) return result('timeout', -1);
    check(thread.waits.size + thread.pending.size < MAX_WAITS_PER_THREAD, 'ERROR_NOT_ENOUGH_QUOTA', 'too many pending waits in this thread');

    const block = new WaitBlock(thread, requestId, request, objects, all, detectDeadlock, this.host.now());
    if (detectDeadlock) {
      // Before anything changes: a wait that would close a cycle fails and leaves no trace.
      const cycle = this.host.deadlockOf(block);
      if (cycle !== undefined) throw new StatusError('ERROR_POSSIBLE_DEADLOCK', cycle);
      this.detecting++;
    }
    for (const o of distinct(objects)) {
      o.waiters.push(block);
      this.host.ref(o);
      this.host.changed(o);
    }
    thread.waits.set(requestId, block);
    this.pending++;
    this.graphChanged = true;
    this.host.threadsChanged();
    if (timeoutMs !== Infinity) {
      block.deadline = this.host.deadlines.add(this.host.now() + timeoutMs, () => {
        this.finish(block);
        block.thread.sink.reply(block.requestId, block.request, result('timeout', -1));
      });
    }
    return undefined;
  }

  /** An object's state changed in a way that may satisfy waiters: wake whom it can. */
  signaled(obj: KernelObject): void {
    this.host.changed(obj);
    this.dirty.push(obj);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty.length > 0) this.wakeQueue(this.dirty.pop()!);
    } finally {
      this.draining = false;
    }
  }

  /** Cancel a pending wait of `thread`; false when there is none (already completed). */
  cancel(thread: Thread, requestId: number, code: StatusCode = 'ERROR_OPERATION_ABORTED', detail?: string): boolean {
    const block = thread.waits.get(requestId);
    if (block === undefined) return false;
    this.finish(block);
    thread.sink.fail(requestId, block.request, code, detail);
    return true;
  }

  /** Drop every pending wait of a thread that is gone, telling nobody. */
  dropAll(thread: Thread): void {
    for (const block of [...thread.waits.values()]) this.finish(block);
  }

  private wakeQueue(obj: KernelObject): void {
    const queue = obj.waiters;
    let i = 0;
    while (i < queue.length) {
      const block = queue[i]!;
      const res = trySatisfy(block.objects, block.all, block.thread);
      if (res === undefined) {
        i++;
        continue;
      }
      this.finish(block);
      this.acquired(block.objects, block.all, res);
      // Acquiring a mutex makes it signaled for its new owner's other waits.
      this.touched(block.objects, obj);
      block.thread.sink.reply(block.requestId, block.request, res);
      i = 0;
    }
  }

  /** Re-examine the queues of objects a satisfied wait acquired (except `skip`). */
  private touched(objects: readonly KernelObject[], skip?: KernelObject): void {
    for (const o of objects) if (o !== skip && o.waiters.length > 0) this.dirty.push(o);
    if (!this.draining && this.dirty.length > 0) this.signaled(this.dirty.pop()!);
  }

  /** A wait was satisfied: count it on what it took, which has changed. */
  private acquired(objects: readonly KernelObject[], all: boolean, res: WaitResult): void {
    this.graphChanged = true;
    this.host.threadsChanged();
    if (!all) {
      const o = objects[res.index]!;
      o.activity.waits++;
      this.host.changed(o);
      return;
    }
    for (const o of objects) {
      o.activity.waits++;
      this.host.changed(o);
    }
  }

  /** Take a block out of every queue, drop its references and deadline. */
  private finish(block: WaitBlock): void {
    if (block.done) throw new StatusError('ERROR_INVALID_FUNCTION', 'wait block finished twice');
    block.done = true;
    this.pending--;
    if (block.detectDeadlock) this.detecting--;
    this.host.threadsChanged();
    this.host.deadlines.cancel(block.deadline);
    block.thread.waits.delete(block.requestId);
    for (const o of distinct(block.objects)) {
      const at = o.waiters.indexOf(block);
      if (at >= 0) o.waiters.splice(at, 1);
      this.host.changed(o);
      this.host.unref(o);
    }
  }
}

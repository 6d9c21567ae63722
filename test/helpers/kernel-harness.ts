/**
 * The kernel driven directly, for unit tests: a clock that moves only when told, a host
 * whose processes live and die when told, and threads whose sinks record every late reply.
 * No sockets and no real time: every timeout and expiry happens at an exact `advance`.
 */
import assert from 'node:assert/strict';
import { StatusError, type StatusCode } from '../../src/errors.ts';
import { Kernel, PENDING, type Clock, type Host, type KernelRequest } from '../../src/kernel/kernel.ts';
import type { CompletionSink, Thread } from '../../src/kernel/process.ts';
import { Access } from '../../src/protocol/access.ts';
import { WaitStatusCode, type ObjectInfo, type ReplyOf, type RequestName, type RequestOf, type WaitStatus } from '../../src/protocol/schema.ts';

export class FakeClock implements Clock {
  /** Monotonic ms. */
  t = 1_000;
  /** Wall-clock ms at t = 0. */
  readonly epoch = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.epoch + this.t;
  }
}

export class FakeHost implements Host {
  readonly alive = new Set<number>();
  readonly parents = new Map<number, number>();
  processAlive(pid: number): boolean {
    return this.alive.has(pid);
  }
  parentPid(pid: number): number | undefined {
    return this.parents.get(pid);
  }
  /** Shared memory objects that exist, by name, with their sizes. */
  readonly sharedMemory = new Map<string, number>();
  private nextShm = 1;
  createSharedMemory(size: number): string {
    const name = `/fake-${this.nextShm++}`;
    this.sharedMemory.set(name, size);
    return name;
  }
  unlinkSharedMemory(name: string): void {
    this.sharedMemory.delete(name);
  }
}

/** How a request ended: a wait status, another reply, or a failure. */
export type Outcome =
  | { kind: 'wait'; status: WaitStatus; index: number }
  | { kind: 'reply'; reply: unknown }
  | { kind: 'error'; code: StatusCode };

const statusNames = Object.fromEntries(Object.entries(WaitStatusCode).map(([k, v]) => [v, k])) as Record<number, WaitStatus>;

function toOutcome(reply: unknown): Outcome {
  const r = reply as { status?: unknown; index?: unknown };
  if (typeof r.status === 'number' && typeof r.index === 'number') return { kind: 'wait', status: statusNames[r.status]!, index: r.index };
  return { kind: 'reply', reply };
}

/** Records every completion the kernel delivers late, by request id. */
export class RecordingSink implements CompletionSink {
  readonly completions: { requestId: number; name: RequestName; outcome: Outcome }[] = [];
  reply<K extends RequestName>(requestId: number, name: K, reply: ReplyOf<K>): void {
    this.completions.push({ requestId, name, outcome: toOutcome(reply) });
  }
  fail(requestId: number, name: RequestName, code: StatusCode): void {
    this.completions.push({ requestId, name, outcome: { kind: 'error', code } });
  }
  of(requestId: number): Outcome[] {
    return this.completions.filter((c) => c.requestId === requestId).map((c) => c.outcome);
  }
}

/** A request in flight: its immediate answer, or whatever the sink heard of it since. */
export class Ticket {
  constructor(
    private readonly sink: RecordingSink,
    readonly requestId: number,
    private readonly immediate: Outcome | undefined,
  ) {}
  /** The one outcome, or undefined while pending (a second completion fails the test). */
  get outcome(): Outcome | undefined {
    if (this.immediate) return this.immediate;
    const late = this.sink.of(this.requestId);
    assert.ok(late.length <= 1, `request ${this.requestId} completed ${late.length} times`);
    return late[0];
  }
  get pending(): boolean {
    return this.outcome === undefined;
  }
  /** The wait status; fails the test if the wait is still pending or failed. */
  get status(): WaitStatus {
    const o = this.outcome;
    assert.ok(o !== undefined, `request ${this.requestId} is still pending`);
    assert.equal(o.kind, 'wait', `request ${this.requestId} ended with ${JSON.stringify(o)}`);
    return (o as { status: WaitStatus }).status;
  }
  get index(): number {
    const o = this.outcome;
    assert.ok(o?.kind === 'wait');
    return o.index;
  }
  /** The failure's code; undefined while pending or once answered. */
  get error(): StatusCode | undefined {
    const o = this.outcome;
    return o?.kind === 'error' ? o.code : undefined;
  }
  /** The reply; fails the test if the request is still pending or failed. */
  get reply(): unknown {
    const o = this.outcome;
    assert.equal(o?.kind, 'reply', `expected a reply, got ${JSON.stringify(o)}`);
    return (o as { reply: unknown }).reply;
  }
}

let nextRequestId = 1;

/** A thread of the kernel under test, with convenience calls. */
export class TestThread {
  readonly sink = new RecordingSink();
  readonly thread: Thread;
  constructor(
    readonly kernel: Kernel,
    pid: number,
  ) {
    this.thread = kernel.connect(pid, this.sink, 'test');
  }

  get id(): number {
    return this.thread.id;
  }

  /** Dispatch; returns the reply, or PENDING. */
  dispatch<K extends KernelRequest>(name: K, body: RequestOf<K>, requestId = nextRequestId++): ReplyOf<K> | typeof PENDING {
    return this.kernel.dispatch(this.thread, requestId, name, body);
  }

  /** A request that must complete at once. */
  call<K extends KernelRequest>(name: K, body: RequestOf<K>): ReplyOf<K> {
    const r = this.dispatch(name, body);
    assert.notEqual(r, PENDING, `${name} did not complete at once`);
    return r as ReplyOf<K>;
  }

  /** A request that must fail at once; returns its status code. */
  fails<K extends KernelRequest>(name: K, body: RequestOf<K>): StatusCode {
    try {
      this.dispatch(name, body);
    } catch (e) {
      if (e instanceof StatusError) return e.code;
      throw e;
    }
    assert.fail(`${name} did not fail`);
  }

  /** A request that may be deferred (a read, a connect): its reply or failure now, or later through the sink. */
  start<K extends KernelRequest>(name: K, body: RequestOf<K>, outcome: (reply: unknown) => Outcome = (reply) => ({ kind: 'reply', reply })): Ticket {
    const requestId = nextRequestId++;
    let immediate: Outcome | undefined;
    try {
      const r = this.dispatch(name, body, requestId);
      immediate = r === PENDING ? undefined : outcome(r);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      immediate = { kind: 'error', code: e.code };
    }
    return new Ticket(this.sink, requestId, immediate);
  }

  /** A wait; one that fails at once (ERROR_POSSIBLE_DEADLOCK, …) is a ticket with that error. */
  wait(handles: number | number[], opts: { all?: boolean; timeoutMs?: number; detectDeadlock?: boolean } = {}): Ticket {
    return this.start('wait', {
      handles: typeof handles === 'number' ? [handles] : handles,
      all: opts.all ?? false,
      timeoutMs: opts.timeoutMs ?? Infinity,
      detectDeadlock: opts.detectDeadlock ?? false,
    }, toOutcome);
  }

  signalAndWait(signal: number, waitOn: number, timeoutMs = Infinity, detectDeadlock = false): Ticket {
    return this.start('signalAndWait', { signal, waitOn, timeoutMs, detectDeadlock }, toOutcome);
  }

  cancel(ticket: Ticket): boolean {
    return this.call('cancel', { requestId: ticket.requestId }).cancelled;
  }

  info(handle: number): ObjectInfo {
    return this.call('queryObject', { handle }).info;
  }

  mutex(name?: string, initialOwner = false): number {
    return this.call('createMutex', { name, initialOwner, access: Access.MAXIMUM_ALLOWED }).handle;
  }
  semaphore(initialCount: number, maximumCount: number, name?: string): number {
    return this.call('createSemaphore', { name, initialCount, maximumCount, access: Access.MAXIMUM_ALLOWED }).handle;
  }
  event(manualReset: boolean, initialState = false, name?: string): number {
    return this.call('createEvent', { name, manualReset, initialState, access: Access.MAXIMUM_ALLOWED }).handle;
  }
  timer(manualReset: boolean, name?: string): number {
    return this.call('createTimer', { name, manualReset, access: Access.MAXIMUM_ALLOWED }).handle;
  }
  close(handle: number): void {
    this.call('closeHandle', { handle });
  }
  /** End this thread (its connection closed). */
  end(): void {
    this.kernel.disconnect(this.thread);
  }
}

/** A kernel on a fake clock and host. */
export class KernelHarness {
  readonly clock = new FakeClock();
  readonly host = new FakeHost();
  readonly kernel = new Kernel(this.clock, this.host);

  /** A new thread of process `pid` (a new connection). */
  thread(pid = 100): TestThread {
    this.host.alive.add(pid);
    return new TestThread(this.kernel, pid);
  }

  /** Move the clock forward and fire what is due, the way the broker's timer would. */
  advance(ms: number): void {
    this.clock.t += ms;
    this.kernel.tick();
  }

  /** Move the clock to an exact monotonic time and fire what is due. */
  advanceTo(t: number): void {
    assert.ok(t >= this.clock.t, 'the clock does not go back');
    this.clock.t = t;
    this.kernel.tick();
  }
}

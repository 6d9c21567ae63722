/**
 * Requests that wait for something other than an object's signal: a pipe instance's client,
 * a listening instance, a mailslot message, room in a message queue. Each object type keeps
 * its own queue of them (FIFO, its own rules); what is written once here is the rest: the
 * timeout, cancellation, the reference that keeps the object alive, and what happens when
 * the thread goes away.
 */
import { StatusError, check, type StatusCode } from '../errors.ts';
import type { ReplyOf, RequestName } from '../protocol/schema.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import type { KernelObject } from './object.ts';
import type { Thread } from './process.ts';
import { MAX_WAITS_PER_THREAD, nextArrival } from './wait.ts';

/** One pending request of one thread. */
export class PendingRequest<K extends RequestName = RequestName> {
  deadline: Deadline | undefined;
  done = false;
  readonly seq = nextArrival();
  constructor(
    readonly thread: Thread,
    readonly requestId: number,
    readonly request: K,
    readonly object: KernelObject | undefined,
    /** Take it out of the owner's queue; called once, however it ends. */
    readonly detach: () => void,
    /** The object it waits on, referenced or not (inspection lists it among that object's waiters). */
    readonly subject: KernelObject | undefined,
    /** When it began, on the kernel's monotonic clock. */
    readonly startedAt: number,
  ) {}
}

export interface PendingOptions<K extends RequestName> {
  /** The object it waits on: referenced while it is pending, so it outlives its handles. */
  object?: KernelObject;
  /** The object it waits on without referencing it (a mailslot read, a pipe connect), for inspection. */
  subject?: KernelObject;
  /** Infinity for none. */
  timeoutMs: number;
  /** What a timeout answers (after the request is detached). */
  onTimeout: (p: PendingRequest<K>) => { fail: StatusCode; detail?: string } | { reply: ReplyOf<K> };
  /** Take it out of the owner's queue. */
  detach: (p: PendingRequest<K>) => void;
}

export interface PendingHost {
  readonly deadlines: Deadlines;
  now(): number;
  ref(obj: KernelObject): void;
  unref(obj: KernelObject): void;
  /** An object's waiters or activity changed (for observers). */
  changed(obj: KernelObject): void;
  /** A thread's pending requests changed (for observers). */
  threadsChanged(): void;
}

export class PendingRequests {
  /** Pending requests, for status. */
  count = 0;

  constructor(private readonly host: PendingHost) {}

  /** Record a request that will be answered later; the caller queues it where it belongs. */
  begin<K extends RequestName>(thread: Thread, requestId: number, request: K, opts: PendingOptions<K>): PendingRequest<K> {
    check(!thread.waits.has(requestId) && !thread.pending.has(requestId), 'ERROR_INVALID_PARAMETER', `request id ${requestId} already pending`);
    check(thread.waits.size + thread.pending.size < MAX_WAITS_PER_THREAD, 'ERROR_NOT_ENOUGH_QUOTA', 'too many pending requests in this thread');
    const subject = opts.object ?? opts.subject;
    const p: PendingRequest<K> = new PendingRequest(thread, requestId, request, opts.object, () => opts.detach(p), subject, this.host.now());
    thread.pending.set(requestId, p);
    this.count++;
    if (subject !== undefined) this.host.changed(subject);
    this.host.threadsChanged();
    if (opts.object !== undefined) this.host.ref(opts.object);
    if (opts.timeoutMs !== Infinity) {
      p.deadline = this.host.deadlines.add(this.host.now() + opts.timeoutMs, () => {
        const outcome = opts.onTimeout(p);
        if ('fail' in outcome) this.fail(p, outcome.fail, outcome.detail);
        else this.complete(p, outcome.reply);
      });
    }
    return p;
  }

  /** Answer it. */
  complete<K extends RequestName>(p: PendingRequest<K>, reply: ReplyOf<K>): void {
    this.finish(p);
    if (p.subject !== undefined) p.subject.activity.waits++;
    p.thread.sink.reply(p.requestId, p.request, reply);
  }

  /** Fail it. */
  fail(p: PendingRequest, code: StatusCode, detail?: string): void {
    this.finish(p);
    p.thread.sink.fail(p.requestId, p.request, code, detail);
  }

  /** Cancel a pending request of `thread`; false when there is none. */
  cancel(thread: Thread, requestId: number, code: StatusCode = 'ERROR_OPERATION_ABORTED'): boolean {
    const p = thread.pending.get(requestId);
    if (p === undefined) return false;
    this.fail(p, code);
    return true;
  }

  /** Drop every pending request of a thread that is gone, telling nobody. */
  dropAll(thread: Thread): void {
    for (const p of [...thread.pending.values()]) this.finish(p);
  }

  private finish(p: PendingRequest): void {
    if (p.done) throw new StatusError('ERROR_INVALID_FUNCTION', 'pending request finished twice');
    p.done = true;
    this.count--;
    this.host.deadlines.cancel(p.deadline);
    p.thread.pending.delete(p.requestId);
    p.detach();
    if (p.subject !== undefined) this.host.changed(p.subject);
    this.host.threadsChanged();
    if (p.object !== undefined) this.host.unref(p.object);
  }
}

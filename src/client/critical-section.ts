/**
 * CriticalSection: a recursive lock for the threads of one process (worker_threads), its
 * state in a SharedArrayBuffer so that every thread given that buffer shares it. No object
 * manager is involved: an uncontended enter and leave are a few atomic instructions.
 */
import { threadId } from 'node:worker_threads';
import { IpcError } from '../errors.ts';

/*
 * The state, four Int32 words:
 *   OWNER      threadId + 1 of the owning thread, 0 when free. It is the lock itself: entering
 *              is compareExchange(OWNER, 0, self), and a thread recognises its own recursion by
 *              finding itself there. Waiters sleep on this word.
 *   RECURSION  the owner's recursion count. Only the owner reads or writes it (plain
 *              accesses); the atomic operations on OWNER order it between owners.
 *   WAITERS    threads (and async callers) between deciding to sleep and acquiring; leave()
 *              notifies only when it is not 0.
 *   SPIN       the spin count, shared so that every thread spins alike.
 *
 * No lost wake-up: a waiter adds itself to WAITERS before it tries OWNER and sleeps only while
 * OWNER still holds the value it saw. A leaver stores 0 to OWNER and then reads WAITERS; these
 * are all sequentially consistent, so either the leaver sees the waiter and notifies, or the
 * waiter's next try sees OWNER free (or a later owner, whose own leave will notify).
 */
const OWNER = 0;
const RECURSION = 1;
const WAITERS = 2;
const SPIN = 3;
const WORDS = 4;

/** A spin count above this fails ERROR_INVALID_PARAMETER: far beyond any useful spin. */
const MAX_SPIN_COUNT = 0x00ff_ffff;

/** This thread's owner word: threadId is unique among the threads of a process; 0 is the main thread. */
const self = threadId + 1;

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// ES2024 library typing, which this project's `lib` setting predates; Node has had it since 16.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const noop = (): void => {};

/** The state of a critical section as it travels to other threads: a SharedArrayBuffer, or an Int32Array of 4 over one. */
export type CriticalSectionState = SharedArrayBuffer | Int32Array;

export class CriticalSection {
  readonly #state: Int32Array;
  readonly #shared: CriticalSectionState;

  private constructor(state: Int32Array, shared: CriticalSectionState) {
    this.#state = state;
    this.#shared = shared;
  }

  /**
   * InitializeCriticalSectionAndSpinCount: a new, free critical section. `spinCount`
   * (default 0: sleep at once) is how many times a contended enter re-reads the state
   * before it sleeps; an integer from 0 to 0xFFFFFF, else ERROR_INVALID_PARAMETER.
   */
  static create(opts: { spinCount?: number } = {}): CriticalSection {
    const spinCount = checkSpinCount(opts.spinCount ?? 0, 'InitializeCriticalSectionAndSpinCount');
    const sab = new SharedArrayBuffer(WORDS * 4);
    const cs = new CriticalSection(new Int32Array(sab), sab);
    cs.#state[SPIN] = spinCount;
    return cs;
  }

  /**
   * The critical section whose {@link sharedState} this is, typically in another worker
   * thread (received through `workerData` or `postMessage`). Also accepts an Int32Array of
   * exactly 4 elements over a SharedArrayBuffer, zero-filled for a new free critical section,
   * to keep the state inside a buffer of one's own. Anything else: ERROR_INVALID_PARAMETER.
   */
  static from(sharedState: CriticalSectionState): CriticalSection {
    if (sharedState instanceof SharedArrayBuffer && sharedState.byteLength === WORDS * 4) {
      return new CriticalSection(new Int32Array(sharedState), sharedState);
    }
    if (sharedState instanceof Int32Array && sharedState.buffer instanceof SharedArrayBuffer && sharedState.length === WORDS) {
      return new CriticalSection(sharedState, sharedState);
    }
    throw new IpcError('ERROR_INVALID_PARAMETER', 'CriticalSection.from', undefined, `not the state of a critical section (a SharedArrayBuffer of ${WORDS * 4} bytes)`);
  }

  /** What to give another thread for {@link CriticalSection.from}: it survives postMessage and workerData. */
  get sharedState(): CriticalSectionState {
    return this.#shared;
  }

  /** The threadId of the owning thread, or null when free (a snapshot: it may change at once). */
  get owner(): number | null {
    const o = Atomics.load(this.#state, OWNER);
    return o === 0 ? null : o - 1;
  }

  /** The owner's recursion count (0 when free); exact only when read by the owner. */
  get recursionCount(): number {
    return Atomics.load(this.#state, OWNER) === 0 ? 0 : Atomics.load(this.#state, RECURSION);
  }

  /**
   * Threads and async callers waiting to enter (a snapshot; Windows shows the like in the
   * LockCount field of CRITICAL_SECTION).
   */
  get waiterCount(): number {
    return Atomics.load(this.#state, WAITERS);
  }

  /** The spin count shared by every thread using this critical section. */
  get spinCount(): number {
    return Atomics.load(this.#state, SPIN);
  }

  /** SetCriticalSectionSpinCount: set it for every thread and return the previous one. */
  setSpinCount(spinCount: number): number {
    return Atomics.exchange(this.#state, SPIN, checkSpinCount(spinCount, 'SetCriticalSectionSpinCount'));
  }

  /**
   * EnterCriticalSection: acquire for the calling thread, or one recursion more if it owns
   * it already. Blocks the thread with Atomics.wait until the owner leaves, so on the main
   * thread it blocks the event loop: use {@link enterAsync} there.
   */
  enter(): void {
    const s = this.#state;
    const o = Atomics.compareExchange(s, OWNER, 0, self);
    if (o === 0) s[RECURSION] = 1;
    else if (o === self) s[RECURSION]!++;
    else this.#enterContended();
  }

  /** TryEnterCriticalSection: enter without waiting; false when another thread owns it. */
  tryEnter(): boolean {
    const s = this.#state;
    const o = Atomics.compareExchange(s, OWNER, 0, self);
    if (o === 0) s[RECURSION] = 1;
    else if (o === self) s[RECURSION]!++;
    else return false;
    return true;
  }

  /**
   * Enter without blocking the event loop: sleeps in Atomics.waitAsync, and keeps the
   * process alive while it waits. Ownership belongs to the thread, as for {@link enter}: if
   * this thread owns it (another async task of the thread included) it resolves at once with
   * one recursion more. With `signal`: already aborted, it rejects at once with the signal's
   * reason; aborted while waiting, it rejects with it having acquired nothing.
   */
  async enterAsync(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = opts;
    signal?.throwIfAborted();
    if (this.tryEnter() || this.#spin()) return;
    const s = this.#state;
    Atomics.add(s, WAITERS, 1);
    // A pending Atomics.waitAsync does not keep Node alive; this timer does, until we are done.
    const keepAlive = setInterval(noop, 0x7fff_ffff);
    let orphaned = false;
    try {
      for (;;) {
        const o = Atomics.compareExchange(s, OWNER, 0, self);
        if (o === 0) {
          s[RECURSION] = 1;
          return;
        }
        if (o === self) {
          s[RECURSION]!++;
          return;
        }
        const w = waitAsync(s, OWNER, o);
        if (!w.async) continue;
        if (signal === undefined) await w.value;
        else {
          orphaned = true;
          await untilAborted(w.value, signal);
          orphaned = false;
        }
      }
    } finally {
      Atomics.sub(s, WAITERS, 1);
      clearInterval(keepAlive);
      // An aborted waitAsync stays queued and would swallow the wake-up meant for a real
      // waiter: wake everyone on the word (they re-check and sleep again), flushing it.
      if (orphaned) Atomics.notify(s, OWNER);
    }
  }

  /**
   * LeaveCriticalSection: one recursion down; at 0 the critical section is free and one
   * sleeping thread, if any, is woken. Not the owning thread: ERROR_NOT_OWNER, and nothing
   * changes (on Windows this is undefined behaviour).
   */
  leave(): void {
    const s = this.#state;
    if (Atomics.load(s, OWNER) !== self) throw new IpcError('ERROR_NOT_OWNER', 'LeaveCriticalSection');
    const r = s[RECURSION]! - 1;
    s[RECURSION] = r;
    if (r > 0) return;
    Atomics.store(s, OWNER, 0);
    if (Atomics.load(s, WAITERS) > 0) Atomics.notify(s, OWNER, 1);
  }

  #enterContended(): void {
    if (this.#spin()) return;
    const s = this.#state;
    Atomics.add(s, WAITERS, 1);
    try {
      for (;;) {
        const o = Atomics.compareExchange(s, OWNER, 0, self);
        if (o === 0) break;
        Atomics.wait(s, OWNER, o);
      }
    } finally {
      Atomics.sub(s, WAITERS, 1);
    }
    s[RECURSION] = 1;
  }

  /** Re-read the owner word up to the spin count, taking it if it comes free; true when acquired. */
  #spin(): boolean {
    const s = this.#state;
    for (let i = Atomics.load(s, SPIN); i > 0; i--) {
      if (Atomics.load(s, OWNER) === 0 && Atomics.compareExchange(s, OWNER, 0, self) === 0) {
        s[RECURSION] = 1;
        return true;
      }
    }
    return false;
  }
}

function checkSpinCount(n: number, syscall: string): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SPIN_COUNT) {
    throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, `spin count must be an integer from 0 to ${MAX_SPIN_COUNT}, not ${String(n)}`);
  }
  return n;
}

/** `p`, or a rejection with the signal's reason when it aborts first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

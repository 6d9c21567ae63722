/**
 * The wait engine driven directly: timeouts at their exact deadline, cancellation, FIFO
 * wake order, wait-any and wait-all rules, and wait-all atomicity under interleaving.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Access } from '../../src/protocol/access.ts';
import { KernelHarness } from '../helpers/kernel-harness.ts';

describe('wait timeouts (kernel, fake clock)', () => {
  test('a timed wait ends with timeout exactly at its deadline, not a millisecond before', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    const start = k.clock.t;
    const w = a.wait(e, { timeoutMs: 100 });
    k.advanceTo(start + 99);
    assert.ok(w.pending);
    k.advanceTo(start + 100);
    assert.equal(w.status, 'timeout');
    assert.equal(w.index, -1);
    assert.equal(a.info(e).waiters, 0);
  });

  test('timeout 0 polls: it answers at once and queues nothing', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    assert.equal(a.wait(e, { timeoutMs: 0 }).status, 'timeout');
    assert.equal(a.info(e).waiters, 0);
    assert.equal(k.kernel.waits.pending, 0);
    a.call('setEvent', { handle: e });
    assert.equal(a.wait(e, { timeoutMs: 0 }).status, 'signaled');
  });

  test('an infinite wait sets no deadline and never times out', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    const w = a.wait(e);
    assert.equal(k.kernel.nextDeadline(), undefined);
    k.advance(1e12);
    assert.ok(w.pending);
  });

  test('a wait satisfied before its deadline is answered once, and its deadline is dropped', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const e = a.event(false);
    const w = b.wait(e, { timeoutMs: 100 });
    k.advance(50);
    a.call('setEvent', { handle: e });
    assert.equal(w.status, 'signaled');
    assert.equal(k.kernel.nextDeadline(), undefined);
    k.advance(100);
    assert.equal(b.sink.of(w.requestId).length, 1);
  });

  test('waits with different timeouts end in deadline order', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(), k.thread(), k.thread()];
    const e = a.event(true);
    const wa = a.wait(e, { timeoutMs: 30 });
    const wb = b.wait(e, { timeoutMs: 10 });
    const wc = c.wait(e, { timeoutMs: 20 });
    k.advance(10);
    assert.deepEqual([wa.pending, wb.pending, wc.pending], [true, false, true]);
    k.advance(10);
    assert.deepEqual([wa.pending, wc.pending], [true, false]);
    k.advance(10);
    assert.equal(wa.status, 'timeout');
  });

  test('negative and NaN timeouts fail ERROR_INVALID_PARAMETER and queue nothing', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    for (const timeoutMs of [-1, -Infinity, NaN]) {
      assert.equal(a.fails('wait', { handles: [e], all: false, timeoutMs, detectDeadlock: false }), 'ERROR_INVALID_PARAMETER');
      assert.equal(a.fails('signalAndWait', { signal: e, waitOn: e, timeoutMs, detectDeadlock: false }), 'ERROR_INVALID_PARAMETER');
    }
    assert.equal(a.info(e).waiters, 0);
    assert.equal(a.info(e).signaled, false, 'a failed signalAndWait signals nothing');
  });
});

describe('wait cancellation (kernel)', () => {
  test('cancel fails the wait with ERROR_OPERATION_ABORTED and the object is not acquired afterwards', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const e = a.event(false);
    const m = a.mutex(undefined, true);
    const we = b.wait(e);
    const wm = b.wait(m, { timeoutMs: 1_000 });
    assert.equal(b.cancel(we), true);
    assert.equal(b.cancel(wm), true);
    assert.deepEqual(we.outcome, { kind: 'error', code: 'ERROR_OPERATION_ABORTED' });
    assert.deepEqual(wm.outcome, { kind: 'error', code: 'ERROR_OPERATION_ABORTED' });
    a.call('setEvent', { handle: e });
    a.call('releaseMutex', { handle: m });
    assert.equal(a.info(e).signaled, true, 'the auto-reset event was not consumed by the cancelled wait');
    assert.equal(a.info(m).state.owner, null);
    assert.equal(k.kernel.nextDeadline(), undefined, 'the cancelled wait left no deadline');
    k.advance(2_000);
    assert.equal(b.sink.completions.length, 2, 'nothing more was delivered');
  });

  test('cancel of a wait that already completed says false and changes nothing', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false, true);
    const w = a.wait(e, { timeoutMs: 0 });
    assert.equal(w.status, 'signaled');
    assert.equal(a.cancel(w), false);
    assert.equal(a.call('cancel', { requestId: 123_456 }).cancelled, false);
  });

  test('a thread cannot cancel another thread’s wait', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const e = a.event(false);
    const w = b.wait(e);
    assert.equal(a.cancel(w), false);
    assert.ok(w.pending);
  });
});

describe('wake order (kernel)', () => {
  test('waiters of an auto-reset event are released one per set, first come first served', () => {
    const k = new KernelHarness();
    const threads = [k.thread(), k.thread(), k.thread(), k.thread()];
    const e = threads[0]!.event(false);
    const waits = threads.map((t) => t.wait(e));
    for (let i = 0; i < threads.length; i++) {
      threads[0]!.call('setEvent', { handle: e });
      assert.deepEqual(waits.map((w) => !w.pending), waits.map((_, j) => j <= i), `after set ${i + 1}`);
      assert.equal(threads[0]!.info(e).signaled, false);
    }
  });

  test('a semaphore release of n wakes the first n waiters, one unit each', () => {
    const k = new KernelHarness();
    const threads = [k.thread(), k.thread(), k.thread(), k.thread()];
    const s = threads[0]!.semaphore(0, 10);
    const waits = threads.map((t) => t.wait(s));
    threads[0]!.call('releaseSemaphore', { handle: s, count: 3 });
    assert.deepEqual(waits.map((w) => w.pending), [false, false, false, true]);
    assert.equal(threads[0]!.info(s).state.count, 0);
  });

  test('a mutex is handed to its waiters in arrival order, each becoming the owner', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(), k.thread(), k.thread()];
    const m = a.mutex(undefined, true);
    const [wb, wc] = [b.wait(m), c.wait(m)];
    a.call('releaseMutex', { handle: m });
    assert.equal(wb.status, 'signaled');
    assert.ok(wc.pending);
    assert.equal(a.info(m).state.owner, b.id);
    b.call('releaseMutex', { handle: m });
    assert.equal(wc.status, 'signaled');
    assert.equal(a.info(m).state.owner, c.id);
  });

  test('a waiter that cannot be satisfied does not hold up the ones behind it', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(), k.thread(), k.thread()];
    const e = a.event(false);
    const never = a.semaphore(0, 1);
    const wb = b.wait([e, never], { all: true });
    const wc = c.wait(e);
    a.call('setEvent', { handle: e });
    assert.ok(wb.pending);
    assert.equal(wc.status, 'signaled');
  });

  test('releasing a recursive mutex once does not wake its waiter; the last release hands it over', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const m = a.mutex(undefined, true);
    assert.equal(a.wait(m, { timeoutMs: 0 }).status, 'signaled');
    const s = a.semaphore(0, 3);
    const w = b.wait([s, m]);
    assert.equal(a.call('releaseMutex', { handle: m }).previousCount, 2);
    assert.ok(w.pending);
    a.call('releaseMutex', { handle: m });
    assert.equal(w.status, 'signaled');
    assert.equal(w.index, 1);
    assert.deepEqual(a.info(m).state, { owner: b.id, ownerPid: 100, recursion: 1, abandoned: false });
  });
});

describe('wait-any and wait-all rules (kernel)', () => {
  test('wait-any takes the lowest signaled index and consumes only that object', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const [e0, e1, e2] = [a.event(false), a.event(false, true), a.event(false, true)];
    const w = a.wait([e0, e1, e2], { timeoutMs: 0 });
    assert.equal(w.status, 'signaled');
    assert.equal(w.index, 1);
    assert.equal(a.info(e1).signaled, false);
    assert.equal(a.info(e2).signaled, true);
  });

  test('the same semaphore twice in a wait-any consumes one unit', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const s = a.semaphore(2, 3);
    const w = a.wait([s, s], { timeoutMs: 0 });
    assert.equal(w.index, 0);
    assert.equal(a.info(s).state.count, 1);
  });

  test('a pending wait-any on the same object twice is queued once and woken once', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    const w = a.wait([e, e]);
    assert.equal(a.info(e).waiters, 1);
    a.call('setEvent', { handle: e });
    assert.equal(w.index, 0);
  });

  test('wait-all refuses duplicates (the same handle, or two handles to one object), 0 and 65 objects', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(true, true, 'dup');
    const again = a.call('openEvent', { name: 'dup', access: Access.MAXIMUM_ALLOWED }).handle;
    const many = (n: number) => Array.from({ length: n }, () => a.event(true, true));
    for (const handles of [[e, e], [e, again], [], many(65)]) {
      assert.equal(a.fails('wait', { handles, all: true, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_PARAMETER', `${handles.length} handles`);
    }
    assert.equal(a.fails('wait', { handles: [], all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_PARAMETER');
    assert.equal(a.fails('wait', { handles: many(65), all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_PARAMETER');
    assert.equal(a.wait(many(64), { all: true, timeoutMs: 0 }).status, 'signaled');
    assert.equal(a.wait([e, again], { timeoutMs: 0 }).status, 'signaled', 'duplicates are allowed in a wait-any');
  });

  test('wait-all never partially acquires: nothing changes when one object is not signaled', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const s = a.semaphore(1, 3);
    const m = b.mutex(undefined, true);
    assert.equal(a.wait([s, m], { all: true, timeoutMs: 0 }).status, 'timeout');
    assert.equal(a.info(s).state.count, 1);
    assert.equal(a.info(m).state.owner, b.id);
    assert.equal(a.info(m).state.recursion, 1);
  });

  test('a blocked wait-all does not grab objects as they trickle in, then takes all at once', () => {
    const k = new KernelHarness();
    const [t, owner, other] = [k.thread(), k.thread(), k.thread()];
    const sem = t.semaphore(0, 3);
    const mutex = owner.mutex(undefined, true);
    const manual = t.event(true, true);
    const auto = t.event(false, true);
    const w = t.wait([sem, mutex, manual, auto], { all: true });

    t.call('releaseSemaphore', { handle: sem, count: 1 });
    assert.ok(w.pending);
    assert.equal(other.wait(sem, { timeoutMs: 0 }).status, 'signaled', 'the unit is still there for someone else');
    owner.call('releaseMutex', { handle: mutex });
    assert.ok(w.pending);
    assert.equal(t.info(mutex).state.owner, null, 'the free mutex was not taken by the blocked wait-all');
    t.call('resetEvent', { handle: manual });
    t.call('releaseSemaphore', { handle: sem, count: 2 });
    assert.ok(w.pending);
    t.call('resetEvent', { handle: auto });
    t.call('setEvent', { handle: manual });
    assert.ok(w.pending);
    t.call('setEvent', { handle: auto });
    assert.equal(w.status, 'signaled');
    assert.equal(t.info(sem).state.count, 1);
    assert.equal(t.info(mutex).state.owner, t.id);
    assert.equal(t.info(manual).signaled, true);
    assert.equal(t.info(auto).signaled, false);
  });

  test('under interleaving, contending wait-all blocks are each satisfied whole, the first that can complete first', () => {
    const k = new KernelHarness();
    const threads = [k.thread(), k.thread(), k.thread(), k.thread()];
    const [a, b, c] = [threads[0]!.mutex(), threads[0]!.mutex(), threads[0]!.mutex()];
    const owner = k.thread();
    for (const m of [a, b, c]) assert.equal(owner.wait(m, { timeoutMs: 0 }).status, 'signaled');
    // Overlapping sets: ab, bc, ca, abc.
    const sets = [[a, b], [b, c], [c, a], [a, b, c]];
    const waits = threads.map((t, i) => t.wait(sets[i]!, { all: true }));
    const owners = () => [a, b, c].map((m) => owner.info(m).state.owner);
    const done: number[] = [];
    // Free the mutexes one at a time, in an order that tempts a partial grab.
    for (const m of [b, c, a]) owner.call('releaseMutex', { handle: m });
    for (let round = 0; round < threads.length; round++) {
      const finished = waits.findIndex((w, i) => !w.pending && !done.includes(i));
      assert.ok(finished >= 0, `round ${round}: someone finished`);
      done.push(finished);
      const mine = sets[finished]!.map((m) => owner.info(m).state.owner);
      assert.ok(mine.every((o) => o === threads[finished]!.id), `thread ${finished} owns all of its set`);
      const others = owners().filter((o) => o !== threads[finished]!.id);
      assert.ok(others.every((o) => o === null), `no partial acquisition by anyone else: ${owners()}`);
      for (const m of sets[finished]!) threads[finished]!.call('releaseMutex', { handle: m });
    }
    // Freeing c completes bc (ab still lacks a); bc's release completes ab (ca lacks a), and so on.
    assert.deepEqual(done, [1, 0, 2, 3]);
  });
});

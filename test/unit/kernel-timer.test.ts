/**
 * Waitable timers on a clock that moves only when the test says so: every expiry is
 * checked at the exact millisecond it is due and the one before.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KernelHarness, type TestThread } from '../helpers/kernel-harness.ts';

function setTimer(t: TestThread, handle: number, due: number, opts: { absolute?: boolean; periodMs?: number } = {}): boolean {
  return t.call('setTimer', { handle, due, absolute: opts.absolute ?? false, periodMs: opts.periodMs ?? 0 }).wasSignaled;
}
const signaled = (t: TestThread, h: number) => t.info(h).signaled;
const expirations = (t: TestThread, h: number) => t.info(h).state.expirations;

describe('waitable timer (kernel, fake clock)', () => {
  test('a new timer is not signaled and not armed', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    assert.equal(signaled(a, tm), false);
    assert.equal(a.info(tm).state.armed, false);
    assert.equal(k.kernel.nextDeadline(), undefined);
    assert.equal(a.wait(tm, { timeoutMs: 0 }).status, 'timeout');
  });

  test('a relative due time expires exactly at now + due, not a millisecond before', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    const start = k.clock.t;
    setTimer(a, tm, 100);
    const w = a.wait(tm);
    k.advanceTo(start + 99);
    assert.equal(signaled(a, tm), false);
    assert.ok(w.pending);
    k.advanceTo(start + 100);
    assert.equal(w.status, 'signaled');
    assert.equal(signaled(a, tm), true);
  });

  test('an absolute due time is read on the wall clock', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    const start = k.clock.t;
    setTimer(a, tm, k.clock.wallNow() + 250, { absolute: true });
    k.advanceTo(start + 249);
    assert.equal(signaled(a, tm), false);
    k.advanceTo(start + 250);
    assert.equal(signaled(a, tm), true);
  });

  test('due times already past expire at once, relative 0 and absolute in the past', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const rel = a.timer(true);
    const abs = a.timer(true);
    setTimer(a, rel, 0);
    setTimer(a, abs, k.clock.wallNow() - 60_000, { absolute: true });
    assert.equal(signaled(a, rel), true);
    assert.equal(signaled(a, abs), true);
    assert.equal(k.kernel.nextDeadline(), undefined);
  });

  test('a manual-reset timer releases every waiter and stays signaled until set again', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(), k.thread(), k.thread()];
    const tm = a.timer(true);
    setTimer(a, tm, 10);
    const waits = [a.wait(tm), b.wait(tm), c.wait(tm)];
    k.advance(10);
    for (const w of waits) assert.equal(w.status, 'signaled');
    assert.equal(a.wait(tm, { timeoutMs: 0 }).status, 'signaled');
    assert.equal(setTimer(a, tm, 10), true, 'set reports it was signaled');
    assert.equal(signaled(a, tm), false, 'setting it again resets it');
  });

  test('an auto-reset timer releases exactly one waiter per expiry, in arrival order', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(), k.thread(), k.thread()];
    const tm = a.timer(false);
    const waits = [a.wait(tm), b.wait(tm), c.wait(tm)];
    setTimer(a, tm, 5, { periodMs: 5 });
    k.advance(5);
    assert.deepEqual(waits.map((w) => w.pending), [false, true, true]);
    assert.equal(signaled(a, tm), false, 'the expiry was consumed by the waiter');
    k.advance(5);
    assert.deepEqual(waits.map((w) => w.pending), [false, false, true]);
    k.advance(5);
    assert.deepEqual(waits.map((w) => w.status), ['signaled', 'signaled', 'signaled']);
    k.advance(5);
    assert.equal(signaled(a, tm), true, 'an expiry with no waiter stays signaled');
    assert.equal(a.wait(tm, { timeoutMs: 0 }).status, 'signaled');
    assert.equal(a.wait(tm, { timeoutMs: 0 }).status, 'timeout', 'expiries do not accumulate');
  });

  test('a period re-arms from the due time: one expiry per period, exactly on the boundaries', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    const start = k.clock.t;
    setTimer(a, tm, 100, { periodMs: 30 });
    for (const [at, count] of [[99, 0], [100, 1], [129, 1], [130, 2], [159, 2], [160, 3], [190, 4]] as const) {
      k.advanceTo(start + at);
      assert.equal(expirations(a, tm), count, `expirations at +${at}`);
    }
  });

  test('a tick that comes several periods late fires once and keeps the phase', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(false);
    const start = k.clock.t;
    setTimer(a, tm, 10, { periodMs: 10 });
    const [w1, w2] = [a.wait(tm), a.wait(tm)];
    k.advanceTo(start + 45);
    assert.equal(expirations(a, tm), 1, 'missed expiries collapse into one');
    assert.equal(w1.status, 'signaled');
    assert.ok(w2.pending, 'an auto-reset timer released one waiter for that one expiry');
    assert.equal(k.kernel.nextDeadline(), start + 50);
    k.advanceTo(start + 50);
    assert.equal(w2.status, 'signaled');
  });

  test('a periodic timer set with a due time far in the past expires once at once', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(false);
    const start = k.clock.t;
    setTimer(a, tm, k.clock.wallNow() - 1_000, { absolute: true, periodMs: 100 });
    assert.equal(expirations(a, tm), 1);
    assert.equal(k.kernel.nextDeadline(), start + 100);
  });

  test('set replaces an earlier due time', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    const start = k.clock.t;
    setTimer(a, tm, 10);
    setTimer(a, tm, 50);
    k.advanceTo(start + 49);
    assert.equal(signaled(a, tm), false);
    k.advanceTo(start + 50);
    assert.equal(signaled(a, tm), true);
    assert.equal(expirations(a, tm), 1);
  });

  test('cancel disarms the timer and keeps its signaled state', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const armed = a.timer(true);
    setTimer(a, armed, 10, { periodMs: 10 });
    assert.equal(a.call('cancelTimer', { handle: armed }).wasSignaled, false);
    k.advance(1_000);
    assert.equal(signaled(a, armed), false);
    assert.equal(expirations(a, armed), 0);
    assert.equal(a.info(armed).state.armed, false);

    const fired = a.timer(true);
    setTimer(a, fired, 10, { periodMs: 10 });
    k.advance(10);
    assert.equal(a.call('cancelTimer', { handle: fired }).wasSignaled, true);
    assert.equal(signaled(a, fired), true, 'cancel does not reset a signaled timer');
    k.advance(1_000);
    assert.equal(expirations(a, fired), 1);
  });

  test('a waiter on a cancelled timer is not released by the cancelled expiry', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(false);
    setTimer(a, tm, 10);
    const w = a.wait(tm, { timeoutMs: 100 });
    a.call('cancelTimer', { handle: tm });
    k.advance(99);
    assert.ok(w.pending);
    k.advance(1);
    assert.equal(w.status, 'timeout');
  });

  test('closing the last handle of an armed timer drops its deadline', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    setTimer(a, tm, 10, { periodMs: 10 });
    assert.notEqual(k.kernel.nextDeadline(), undefined);
    a.close(tm);
    assert.equal(k.kernel.nextDeadline(), undefined);
    assert.equal(k.kernel.objects.size, 0);
  });

  test('a periodic timer whose handles are closed keeps running for a waiter on it', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const tm = a.timer(false);
    setTimer(a, tm, 10, { periodMs: 10 });
    const w = b.wait(tm);
    a.close(tm);
    k.advance(10);
    assert.equal(w.status, 'signaled');
    assert.equal(k.kernel.objects.size, 0, 'gone with its last waiter');
    assert.equal(k.kernel.nextDeadline(), undefined);
  });

  test('bad due times and periods fail ERROR_INVALID_PARAMETER', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const tm = a.timer(true);
    const bad = [
      { due: -1, absolute: false, periodMs: 0 },
      { due: NaN, absolute: false, periodMs: 0 },
      { due: Infinity, absolute: true, periodMs: 0 },
      { due: 10, absolute: false, periodMs: -5 },
      { due: 10, absolute: false, periodMs: NaN },
    ];
    for (const b of bad) assert.equal(a.fails('setTimer', { handle: tm, ...b }), 'ERROR_INVALID_PARAMETER', JSON.stringify(b));
    assert.equal(a.info(tm).state.armed, false);
  });
});

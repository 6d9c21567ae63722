/**
 * Waitable timers over real time: short due times, and only outcomes and their order are
 * asserted, never how long anything took (the kernel unit tests check exact times).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WaitableTimer } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

/** Long enough never to expire during a test. */
const FAR = 10 * 60_000;
const info = async (t: WaitableTimer) => (await t.query()).state;

for (const backendName of backendNames) {
  describe(`WaitableTimer (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    let c: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
      c = await backend.thread();
    });
    after(() => backend.close());

    test('a new timer is neither signaled nor armed, of either kind', async () => {
      for (const manualReset of [false, true]) {
        const t = await WaitableTimer.create(undefined, { connection: a, manualReset });
        assert.equal(await t.wait(0), 'timeout');
        assert.deepEqual(await info(t), { manualReset, signaled: false, armed: false, periodMs: 0, expirations: 0 });
        await t.close();
      }
    });

    test('a due time already past expires at once: 0 ms, or a Date in the past', async () => {
      for (const due of [0, new Date(Date.now() - 60_000)]) {
        const t = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
        await t.set(due);
        assert.equal(await t.wait(0), 'signaled', String(due));
        await t.close();
      }
    });

    test('a relative due time expires, and a manual-reset timer then stays signaled', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
      await t.set(5);
      assert.equal(await t.wait(), 'signaled');
      assert.equal(await t.wait(0), 'signaled');
      assert.equal(await t.wait(0), 'signaled');
      assert.equal((await info(t)).expirations, 1);
      await t.close();
    });

    test('a Date due time expires', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
      await t.set(new Date(Date.now() + 20));
      assert.equal(await t.wait(), 'signaled');
      await t.close();
    });

    test('a wait shorter than the due time times out first', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a });
      await t.set(FAR);
      assert.equal(await t.wait(10), 'timeout');
      await t.close();
    });

    test('setting a timer again resets it and replaces the earlier due time', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
      await t.set(0);
      assert.equal(await t.wait(0), 'signaled');
      await t.set(5);
      await t.set(FAR);
      assert.equal(await t.wait(0), 'timeout', 'set reset the signaled timer');
      assert.equal(await t.wait(20), 'timeout', 'the earlier due time is gone');
      await t.close();
    });

    test('an auto-reset timer releases one waiter per expiry, in arrival order', async () => {
      const t = await WaitableTimer.create('tm-auto', { connection: a });
      const tb = await WaitableTimer.open('tm-auto', { connection: b });
      const tc = await WaitableTimer.open('tm-auto', { connection: c });
      const wb = await started(b, tb.wait());
      const wc = await started(c, tc.wait());
      await t.set(5);
      assert.equal(await wb.promise, 'signaled');
      assert.deepEqual(await pendingOf([c], [wc]), [true]);
      assert.equal((await info(t)).signaled, false, 'the expiry went to the waiter');
      await t.set(5);
      assert.equal(await wc.promise, 'signaled');
      for (const h of [tc, tb, t]) await h.close();
    });

    test('an auto-reset timer that expires with no waiter stays signaled for one wait', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a });
      await t.set(0);
      assert.equal(await t.wait(0), 'signaled');
      assert.equal(await t.wait(0), 'timeout');
      await t.close();
    });

    test('a manual-reset timer releases every waiter at its expiry', async () => {
      const t = await WaitableTimer.create('tm-manual', { connection: a, manualReset: true });
      const tb = await WaitableTimer.open('tm-manual', { connection: b });
      const tc = await WaitableTimer.open('tm-manual', { connection: c });
      const wb = await started(b, tb.wait());
      const wc = await started(c, tc.wait());
      await t.set(5);
      assert.equal(await wb.promise, 'signaled');
      assert.equal(await wc.promise, 'signaled');
      for (const h of [tc, tb, t]) await h.close();
    });

    test('a period re-arms the timer: an auto-reset timer releases a wait at each expiry', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a });
      await t.set(1, 5);
      for (let i = 0; i < 3; i++) assert.equal(await t.wait(), 'signaled');
      const s = await info(t);
      assert.equal(s.armed, true);
      assert.equal(s.periodMs, 5);
      assert.ok((s.expirations as number) >= 3);
      await t.cancel();
      assert.equal((await info(t)).armed, false);
      await t.close();
    });

    test('cancel disarms the timer without changing its signaled state', async () => {
      const fired = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
      await fired.set(0);
      await fired.cancel();
      assert.equal(await fired.wait(0), 'signaled', 'cancel does not reset');
      const armed = await WaitableTimer.create(undefined, { connection: a, manualReset: true });
      await armed.set(FAR, 1_000);
      await armed.cancel();
      assert.deepEqual(await info(armed), { manualReset: true, signaled: false, armed: false, periodMs: 1_000, expirations: 0 });
      assert.equal(await armed.wait(0), 'timeout');
      await fired.close();
      await armed.close();
    });

    test('bad due times and periods fail ERROR_INVALID_PARAMETER', async () => {
      const t = await WaitableTimer.create(undefined, { connection: a });
      for (const due of [-1, NaN, Infinity, new Date(NaN)]) {
        await assert.rejects(t.set(due), { code: 'ERROR_INVALID_PARAMETER' }, String(due));
      }
      await assert.rejects(t.set(10, -1), { code: 'ERROR_INVALID_PARAMETER' });
      await assert.rejects(t.set(10, NaN), { code: 'ERROR_INVALID_PARAMETER' });
      assert.equal((await info(t)).armed, false);
      await t.close();
    });

    test('named timers: create again opens it, names are case-sensitive', async () => {
      const t = await WaitableTimer.create('Test WaitableTimer', { connection: a });
      const again = await WaitableTimer.create('Test WaitableTimer', { connection: a, manualReset: true });
      assert.equal(again.existed, true);
      assert.equal((await info(again)).manualReset, false);
      const other = await WaitableTimer.create('TEST WAITABLETIMER', { connection: a });
      assert.equal(other.existed, false);
      assert.notEqual(other.objectId, t.objectId);
      await assert.rejects(WaitableTimer.open('test waitabletimer', { connection: a }), { code: 'ERROR_FILE_NOT_FOUND' });
      const opened = await WaitableTimer.open('Test WaitableTimer', { connection: a });
      assert.equal(opened.objectId, t.objectId);
      for (const h of [opened, other, again, t]) await h.close();
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Access, Event, Mutex, Semaphore, waitAll, waitAny } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

const signaled = async (e: Event) => (await e.query()).state.signaled;
let unique = 0;

for (const backendName of backendNames) {
  describe(`Event (${backendName})`, () => {
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

    /** A named event and a handle to it on each of the given threads. */
    async function eventOn(threads: Connection[], opts: { manualReset?: boolean; initialState?: boolean }): Promise<Event[]> {
      const name = `ev-${++unique}`;
      const first = await Event.create(name, { connection: threads[0]!, ...opts });
      const rest = await Promise.all(threads.slice(1).map((t) => Event.open(name, { connection: t })));
      return [first, ...rest];
    }
    const closeAll = async (hs: { close(): Promise<void> }[]) => {
      for (const h of hs) await h.close();
    };

    test('a manual-reset event stays signaled through waits until it is reset', async () => {
      const e = await Event.create(undefined, { connection: a, manualReset: true });
      assert.equal(await signaled(e), false);
      await e.set();
      await e.set();
      assert.equal(await e.wait(0), 'signaled');
      assert.equal(await e.wait(0), 'signaled');
      assert.equal(await signaled(e), true);
      await e.reset();
      await e.reset();
      assert.equal(await e.wait(0), 'timeout');
      await e.close();
    });

    test('an auto-reset event is consumed by exactly one wait, and set does not accumulate', async () => {
      const e = await Event.create(undefined, { connection: a });
      await e.set();
      await e.set();
      assert.equal(await e.wait(0), 'signaled');
      assert.equal(await e.wait(0), 'timeout');
      assert.equal(await signaled(e), false);
      await e.close();
    });

    test('an auto-reset event created signaled releases one wait', async () => {
      const e = await Event.create(undefined, { connection: a, initialState: true });
      assert.equal(await e.wait(0), 'signaled');
      assert.equal(await e.wait(0), 'timeout');
      await e.close();
    });

    test('set on an auto-reset event with a blocked waiter hands the signal over and leaves it reset', async () => {
      const [ea, eb] = await eventOn([a, b], {});
      const sem = await Semaphore.create('ev-handover-sem', { connection: b, initialCount: 0, maximumCount: 1 });
      const waiting = await started(b, waitAny([sem, eb!]));
      await ea!.set();
      assert.deepEqual(await waiting.promise, { status: 'signaled', index: 1 });
      assert.equal(await signaled(ea!), false);
      await closeAll([ea!, eb!, sem]);
    });

    test('set on an auto-reset event releases one of two waiters, the first to arrive', async () => {
      const [ea, eb, ec] = await eventOn([a, b, c], {});
      const wb = await started(b, eb!.wait());
      const wc = await started(c, ec!.wait());
      await ea!.set();
      assert.deepEqual(await pendingOf([b, c], [wb, wc]), [false, true]);
      assert.equal(await signaled(ea!), false);
      await ea!.set();
      assert.equal(await wc.promise, 'signaled');
      await closeAll([ea!, eb!, ec!]);
    });

    test('set on a manual-reset event releases every waiter and it stays signaled', async () => {
      const [ea, eb, ec] = await eventOn([a, b, c], { manualReset: true });
      const wb = await started(b, eb!.wait());
      const wc = await started(c, ec!.wait());
      await ea!.set();
      assert.equal(await wb.promise, 'signaled');
      assert.equal(await wc.promise, 'signaled');
      assert.equal(await signaled(ea!), true);
      await closeAll([ea!, eb!, ec!]);
    });

    test('pulse on a manual-reset event releases every current waiter and leaves it reset', async () => {
      const [ea, eb, ec] = await eventOn([a, b, c], { manualReset: true });
      const wb = await started(b, eb!.wait());
      const wc = await started(c, ec!.wait());
      await ea!.pulse();
      assert.equal(await wb.promise, 'signaled');
      assert.equal(await wc.promise, 'signaled');
      assert.equal(await signaled(ea!), false);
      const late = await started(b, eb!.wait());
      assert.deepEqual(await pendingOf([b], [late]), [true], 'a waiter arriving after the pulse is not released');
      await ea!.set();
      assert.equal(await late.promise, 'signaled');
      await closeAll([ea!, eb!, ec!]);
    });

    test('pulse on an auto-reset event releases exactly one waiter, the first, and leaves it reset', async () => {
      const [ea, eb, ec] = await eventOn([a, b, c], {});
      const wb = await started(b, eb!.wait());
      const wc = await started(c, ec!.wait());
      await ea!.pulse();
      assert.deepEqual(await pendingOf([b, c], [wb, wc]), [false, true]);
      assert.equal(await wb.promise, 'signaled');
      assert.equal(await signaled(ea!), false);
      await ea!.pulse();
      assert.equal(await wc.promise, 'signaled');
      await closeAll([ea!, eb!, ec!]);
    });

    test('a pulse with no waiters is lost, for both kinds', async () => {
      for (const manualReset of [false, true]) {
        const e = await Event.create(undefined, { connection: a, manualReset });
        await e.pulse();
        assert.equal(await signaled(e), false);
        assert.equal(await e.wait(0), 'timeout');
        await e.close();
      }
    });

    test('pulse on a signaled manual-reset event leaves it reset', async () => {
      const e = await Event.create(undefined, { connection: a, manualReset: true, initialState: true });
      await e.pulse();
      assert.equal(await e.wait(0), 'timeout');
      await e.close();
    });

    test('a pulse does not complete a wait-all that still lacks another object', async () => {
      const [ea, eb] = await eventOn([a, b], { manualReset: true });
      const sem = await Semaphore.create('ev-pulse-all-sem', { connection: b, initialCount: 0, maximumCount: 1 });
      const waiting = await started(b, waitAll([eb!, sem]));
      await ea!.pulse();
      await sem.release();
      assert.deepEqual(await pendingOf([b], [waiting]), [true], 'the pulse is gone by the time the semaphore comes');
      await ea!.set();
      assert.equal(await waiting.promise, 'signaled');
      await closeAll([ea!, eb!, sem]);
    });

    test('set, reset and pulse answer the previous state on the wire', async () => {
      const e = await Event.create(undefined, { connection: a, manualReset: true });
      const op = async (name: 'setEvent' | 'resetEvent' | 'pulseEvent') => (await a.request(name, { handle: e.handle })).previousState;
      assert.deepEqual([await op('setEvent'), await op('setEvent'), await op('resetEvent'), await op('resetEvent')], [false, true, true, false]);
      assert.deepEqual([await op('pulseEvent'), await op('setEvent'), await op('pulseEvent'), await op('setEvent')], [false, false, true, false]);
      await e.close();
    });

    test('create of an existing name opens it and keeps its reset kind and state', async () => {
      const first = await Event.create('ev-reopen', { connection: a, manualReset: false, initialState: false });
      const second = await Event.create('ev-reopen', { connection: b, manualReset: true, initialState: true });
      assert.equal(first.existed, false);
      assert.equal(second.existed, true);
      assert.equal(second.objectId, first.objectId);
      assert.deepEqual((await second.query()).state, { manualReset: false, signaled: false });
      const opened = await Event.open('ev-reopen', { connection: c });
      assert.equal(opened.objectId, first.objectId);
      await first.set();
      assert.equal(await opened.wait(0), 'signaled');
      assert.equal(await second.wait(0), 'timeout', 'still auto-reset');
      await closeAll([opened, second, first]);
    });

    test('event operations on a handle of another type fail ERROR_INVALID_HANDLE', async () => {
      const m = await Mutex.create(undefined, { connection: a });
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 0, maximumCount: 1 });
      for (const handle of [m.handle, s.handle]) {
        for (const op of ['setEvent', 'resetEvent', 'pulseEvent'] as const) {
          await assert.rejects(a.request(op, { handle }), { code: 'ERROR_INVALID_HANDLE', errno: 6 }, op);
        }
      }
      assert.equal((await m.query()).state.owner, null);
      assert.equal((await s.query()).state.count, 0);
      await m.close();
      await s.close();
    });

    test('set, reset and pulse need the modify right; a handle opened for waiting only is refused', async () => {
      const e = await Event.create('ev-access', { connection: a, manualReset: true });
      const waitOnly = await Event.open('ev-access', { connection: a, access: Access.SYNCHRONIZE });
      for (const op of [() => waitOnly.set(), () => waitOnly.reset(), () => waitOnly.pulse()]) {
        await assert.rejects(op(), { code: 'ERROR_ACCESS_DENIED', errno: 5 });
      }
      await e.set();
      assert.equal(await waitOnly.wait(0), 'signaled');
      await waitOnly.close();
      await e.close();
    });
  });
}

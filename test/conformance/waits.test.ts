import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Access, Event, Mutex, Semaphore, WaitableTimer, signalAndWait, waitAll, waitAny, type KernelHandle } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

const state = async (h: KernelHandle) => (await h.query()).state;
const closeAll = async (hs: KernelHandle[]) => {
  for (const h of hs) await h.close();
};
let unique = 0;
const name = (prefix: string) => `${prefix}-${++unique}`;

for (const backendName of backendNames) {
  describe(`Waits (${backendName})`, () => {
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

    describe('wait-any', () => {
      test('returns the lowest signaled index and consumes only that object', async () => {
        const e0 = await Event.create(undefined, { connection: a });
        const s1 = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 1 });
        const e2 = await Event.create(undefined, { connection: a, initialState: true });
        assert.deepEqual(await waitAny([e0, s1, e2], 0), { status: 'signaled', index: 1 });
        assert.equal((await state(s1)).count, 0);
        assert.equal((await state(e2)).signaled, true, 'the later signaled object is untouched');
        assert.deepEqual(await waitAny([e0, s1, e2], 0), { status: 'signaled', index: 2 });
        assert.deepEqual(await waitAny([e0, s1, e2], 0), { status: 'timeout', index: -1 });
        await closeAll([e0, s1, e2]);
      });

      test('a blocked wait-any is completed by whichever object is signaled, with its index', async () => {
        const n = name('any-block');
        const events = await Promise.all([0, 1, 2].map((i) => Event.create(`${n}-${i}`, { connection: a })));
        const theirs = await Promise.all([0, 1, 2].map((i) => Event.open(`${n}-${i}`, { connection: b })));
        const waiting = await started(b, waitAny(theirs));
        await events[2]!.set();
        assert.deepEqual(await waiting.promise, { status: 'signaled', index: 2 });
        assert.equal((await state(events[2]!)).signaled, false);
        await closeAll([...events, ...theirs]);
      });

      test('an abandoned mutex in a wait-any reports abandoned with its index', async () => {
        const owner = await backend.thread();
        const n = name('any-abandoned');
        await Mutex.create(n, { connection: owner, initialOwner: true });
        const e = await Event.create(undefined, { connection: a });
        const m = await Mutex.open(n, { connection: a });
        const waiting = await started(a, waitAny([e, m]));
        owner.close();
        assert.deepEqual(await waiting.promise, { status: 'abandoned', index: 1 });
        assert.equal((await state(m)).owner, a.threadId);
        await m.release();
        await closeAll([e, m]);
      });

      test('the same object twice is allowed and satisfied once', async () => {
        const e = await Event.create(undefined, { connection: a, initialState: true });
        assert.deepEqual(await waitAny([e, e], 0), { status: 'signaled', index: 0 });
        assert.equal(await e.wait(0), 'timeout', 'consumed once');
        await e.close();
      });
    });

    describe('wait-all', () => {
      test('acquires every object at once: units taken, auto-reset consumed, mutex owned', async () => {
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 2, maximumCount: 2 });
        const auto = await Event.create(undefined, { connection: a, initialState: true });
        const manual = await Event.create(undefined, { connection: a, manualReset: true, initialState: true });
        const m = await Mutex.create(undefined, { connection: a });
        assert.equal(await waitAll([s, auto, manual, m], 0), 'signaled');
        assert.equal((await state(s)).count, 1);
        assert.equal((await state(auto)).signaled, false);
        assert.equal((await state(manual)).signaled, true);
        assert.equal((await state(m)).owner, a.threadId);
        await m.release();
        await closeAll([s, auto, manual, m]);
      });

      test('never acquires part: with one object not signaled, nothing changes', async () => {
        const n = name('all-partial');
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 3 });
        const held = await Mutex.create(n, { connection: b, initialOwner: true });
        const m = await Mutex.open(n, { connection: a });
        assert.equal(await waitAll([s, m], 0), 'timeout');
        assert.equal(await waitAll([s, m], 10), 'timeout');
        assert.equal((await state(s)).count, 1);
        assert.deepEqual(await state(m), { owner: b.threadId, ownerPid: process.pid, recursion: 1, abandoned: false });
        await held.release();
        await closeAll([s, m, held]);
      });

      test('a blocked wait-all does not grab objects as they trickle in, and completes at once at the end', async () => {
        const n = name('trickle');
        const owner = await backend.thread();
        const sem = await Semaphore.create(`${n}-sem`, { connection: a, initialCount: 0, maximumCount: 3 });
        const mutex = await Mutex.create(`${n}-mutex`, { connection: owner, initialOwner: true });
        const manual = await Event.create(`${n}-manual`, { connection: a, manualReset: true, initialState: true });
        const auto = await Event.create(`${n}-auto`, { connection: a, initialState: true });
        const theirs = [
          await Semaphore.open(`${n}-sem`, { connection: b }),
          await Mutex.open(`${n}-mutex`, { connection: b }),
          await Event.open(`${n}-manual`, { connection: b }),
          await Event.open(`${n}-auto`, { connection: b }),
        ];
        const other = await Semaphore.open(`${n}-sem`, { connection: c });
        const t = await started(b, waitAll(theirs));
        const stillBlocked = async (step: string) => assert.deepEqual(await pendingOf([b], [t]), [true], step);

        await sem.release(1);
        await stillBlocked('semaphore released');
        assert.equal(await other.wait(0), 'signaled', 'the unit is still there for another thread');
        await mutex.release();
        await stillBlocked('mutex released');
        assert.equal((await state(mutex)).owner, null, 'the free mutex was not taken');
        await manual.reset();
        await sem.release(2);
        await stillBlocked('manual reset, semaphore up');
        await auto.reset();
        await manual.set();
        await stillBlocked('auto reset, manual set');
        await auto.set();
        assert.equal(await t.promise, 'signaled');
        assert.equal((await state(sem)).count, 1);
        assert.equal((await state(mutex)).owner, b.threadId);
        assert.equal((await state(manual)).signaled, true);
        assert.equal((await state(auto)).signaled, false);
        await (theirs[1] as Mutex).release();
        await closeAll([other, ...theirs, sem, mutex, manual, auto]);
      });

      test('an abandoned mutex in a wait-all reports abandoned, and every object is acquired', async () => {
        const n = name('all-abandoned');
        const owner = await backend.thread();
        const held = await Mutex.create(n, { connection: owner, initialOwner: true });
        assert.equal(await held.wait(0), 'signaled');
        assert.equal(await held.wait(0), 'signaled');
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 2, maximumCount: 3 });
        const m = await Mutex.open(n, { connection: a });
        const waiting = await started(a, waitAll([s, m]));
        owner.close();
        assert.equal(await waiting.promise, 'abandoned');
        assert.equal((await state(s)).count, 1);
        assert.deepEqual(await state(m), { owner: a.threadId, ownerPid: process.pid, recursion: 1, abandoned: false });
        await m.release();
        await closeAll([s, m]);
      });
    });

    describe('wait arguments', () => {
      test('no objects fails ERROR_INVALID_PARAMETER, in the client and in the object manager', async () => {
        await assert.rejects(waitAny([]), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(waitAll([]), { code: 'ERROR_INVALID_PARAMETER' });
        for (const all of [false, true]) {
          await assert.rejects(a.request('wait', { handles: [], all, timeoutMs: 0, detectDeadlock: false }), { code: 'ERROR_INVALID_PARAMETER' });
        }
      });

      test('64 objects are allowed, 65 fail ERROR_INVALID_PARAMETER', async () => {
        const events = await Promise.all(Array.from({ length: 65 }, () => Event.create(undefined, { connection: a, manualReset: true, initialState: true })));
        assert.equal(await waitAll(events.slice(0, 64), 0), 'signaled');
        assert.deepEqual(await waitAny(events.slice(0, 64), 0), { status: 'signaled', index: 0 });
        await assert.rejects(waitAll(events, 0), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(waitAny(events, 0), { code: 'ERROR_INVALID_PARAMETER' });
        await closeAll(events);
      });

      test('the same object twice in a wait-all fails ERROR_INVALID_PARAMETER, by one handle or two', async () => {
        const n = name('dup');
        const e = await Event.create(n, { connection: a, manualReset: true, initialState: true });
        const again = await Event.open(n, { connection: a });
        await assert.rejects(waitAll([e, e], 0), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(waitAll([e, again], 0), { code: 'ERROR_INVALID_PARAMETER' });
        assert.deepEqual(await waitAny([e, again], 0), { status: 'signaled', index: 0 });
        await closeAll([e, again]);
      });

      test('timeout 0 polls: a timeout when not signaled, the object when signaled', async () => {
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 0, maximumCount: 1 });
        assert.equal(await s.wait(0), 'timeout');
        assert.equal((await s.query()).waiters, 0, 'a poll leaves no waiter behind');
        await s.release();
        assert.equal(await s.wait(0), 'signaled');
        assert.equal((await state(s)).count, 0);
        await s.close();
      });

      test('negative and NaN timeouts fail ERROR_INVALID_PARAMETER, in the client and in the object manager', async () => {
        const e = await Event.create(undefined, { connection: a, initialState: true });
        for (const t of [-1, -Infinity, NaN]) {
          await assert.rejects(e.wait(t), { code: 'ERROR_INVALID_PARAMETER' }, `wait ${t}`);
          await assert.rejects(waitAny([e], t), { code: 'ERROR_INVALID_PARAMETER' });
          await assert.rejects(waitAll([e], t), { code: 'ERROR_INVALID_PARAMETER' });
          await assert.rejects(signalAndWait(e, e, t), { code: 'ERROR_INVALID_PARAMETER' });
          await assert.rejects(a.request('wait', { handles: [e.handle], all: false, timeoutMs: t, detectDeadlock: false }), { code: 'ERROR_INVALID_PARAMETER' });
          await assert.rejects(a.request('signalAndWait', { signal: e.handle, waitOn: e.handle, timeoutMs: t, detectDeadlock: false }), { code: 'ERROR_INVALID_PARAMETER' });
        }
        assert.equal((await state(e)).signaled, true, 'no failed wait consumed it');
        await e.close();
      });

      test('an invalid handle among several fails the whole wait and acquires nothing', async () => {
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 1 });
        const gone = await Event.create(undefined, { connection: a, initialState: true });
        await gone.close();
        await assert.rejects(waitAny([s, gone], 0), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(waitAll([s, gone], 0), { code: 'ERROR_INVALID_HANDLE' });
        assert.equal((await state(s)).count, 1);
        await s.close();
      });

      test('a handle that is not one fails ERROR_INVALID_HANDLE, whatever its low bits', async () => {
        for (const tag of [0, 1, 2, 3]) {
          await assert.rejects(a.request('wait', { handles: [0xdeadbee0 | tag], all: false, timeoutMs: 0, detectDeadlock: false }), { code: 'ERROR_INVALID_HANDLE' });
        }
      });
    });

    describe('cancellation', () => {
      test('an AbortSignal cancels a pending wait: it rejects with the signal’s reason and acquires nothing', async () => {
        const n = name('abort');
        const e = await Event.create(n, { connection: a });
        const mine = await Event.open(n, { connection: b });
        const controller = new AbortController();
        const reason = new Error('no longer needed');
        const waiting = await started(b, mine.wait(Infinity, { signal: controller.signal }));
        controller.abort(reason);
        await assert.rejects(waiting.promise, (err) => err === reason);
        assert.equal((await e.query()).waiters, 0);
        await e.set();
        assert.equal((await state(e)).signaled, true, 'the cancelled wait did not consume the event');
        assert.equal(await e.wait(0), 'signaled');
        await closeAll([mine, e]);
      });

      test('a cancelled wait for a mutex does not take it when it is released', async () => {
        const m = await Mutex.create(undefined, { connection: a, initialOwner: true });
        const controller = new AbortController();
        const waiting = await started(b, m.on(b).wait(Infinity, { signal: controller.signal }));
        controller.abort();
        await assert.rejects(waiting.promise, { name: 'AbortError' });
        await m.release();
        assert.equal((await state(m)).owner, null);
        await m.close();
      });

      test('an AbortSignal cancels a pending wait-any and wait-all too', async () => {
        const e = await Event.create(undefined, { connection: a });
        const s = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 1 });
        const waits: ((signal: AbortSignal) => Promise<unknown>)[] = [
          (signal) => waitAny([e], Infinity, { signal }),
          (signal) => waitAll([e, s], Infinity, { signal }),
        ];
        for (const wait of waits) {
          const controller = new AbortController();
          const waiting = await started(a, wait(controller.signal));
          controller.abort('stop');
          await assert.rejects(waiting.promise, (err) => err === 'stop');
        }
        assert.equal((await state(s)).count, 1);
        assert.equal((await e.query()).waiters, 0);
        await closeAll([e, s]);
      });

      test('an already-aborted signal rejects at once and nothing is waited on or signaled', async () => {
        const e = await Event.create(undefined, { connection: a, initialState: true });
        const toSignal = await Event.create(undefined, { connection: a });
        const reason = new Error('too late');
        const signal = AbortSignal.abort(reason);
        await assert.rejects(e.wait(Infinity, { signal }), (err) => err === reason);
        await assert.rejects(waitAny([e], 0, { signal }), (err) => err === reason);
        await assert.rejects(waitAll([e], 0, { signal }), (err) => err === reason);
        await assert.rejects(signalAndWait(toSignal, e, 0, { signal }), (err) => err === reason);
        assert.equal((await state(e)).signaled, true, 'still signaled: nothing consumed it');
        assert.equal((await state(toSignal)).signaled, false, 'nothing was signaled');
        await closeAll([e, toSignal]);
      });

      test('an abort after the wait completed changes nothing', async () => {
        const e = await Event.create(undefined, { connection: a, initialState: true });
        const controller = new AbortController();
        assert.equal(await e.wait(Infinity, { signal: controller.signal }), 'signaled');
        controller.abort();
        assert.equal((await state(e)).signaled, false);
        await e.close();
      });
    });

    describe('handles closed under a wait', () => {
      test('closing the handle a timed wait uses neither wakes nor fails it: it ends in a plain timeout', async () => {
        const e = await Event.create(undefined, { connection: a });
        const waiting = await started(a, e.wait(30));
        await e.close();
        assert.equal(await waiting.promise, 'timeout');
      });

      test('the waited-on object outlives its handles, and goes with the wait', async () => {
        const n = name('outlive');
        const e = await Event.create(n, { connection: a });
        const controller = new AbortController();
        const waiting = await started(b, e.wait(Infinity, { signal: controller.signal }));
        await e.close();
        assert.deepEqual(await pendingOf([b], [waiting]), [true]);
        const listed = async () => (await a.request('listObjects', { type: 'Event' })).objects.filter((o) => o.id === e.objectId);
        assert.deepEqual((await listed()).map((o) => [o.handles, o.waiters]), [[0, 1]]);
        await assert.rejects(Event.open(n, { connection: a }), { code: 'ERROR_FILE_NOT_FOUND' }, 'its name went with its last handle');
        controller.abort();
        await assert.rejects(waiting.promise, { name: 'AbortError' });
        assert.deepEqual(await listed(), []);
      });
    });

    describe('signalAndWait', () => {
      test('on the same auto-reset event a thousand times: each wait takes the signal it just set', async () => {
        const e = await Event.create(undefined, { connection: a });
        for (let i = 0; i < 1000; i++) assert.equal(await signalAndWait(e, e, 0), 'signaled');
        assert.equal(await e.wait(0), 'timeout');
        await e.close();
      });

      test('a full semaphore fails ERROR_TOO_MANY_POSTS and no wait is performed', async () => {
        const sem0 = await Semaphore.create(undefined, { connection: a, initialCount: 0, maximumCount: 1 });
        const sem1 = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 1 });
        assert.equal(await signalAndWait(sem0, sem1, 0), 'signaled');
        assert.deepEqual([(await state(sem0)).count, (await state(sem1)).count], [1, 0]);
        await assert.rejects(signalAndWait(sem0, sem1, Infinity), { code: 'ERROR_TOO_MANY_POSTS' });
        assert.equal((await sem1.query()).waiters, 0);
        await assert.rejects(sem0.release(), { code: 'ERROR_TOO_MANY_POSTS' });
        assert.equal(await sem1.release(), 0);
        await closeAll([sem0, sem1]);
      });

      test('a mutex the thread does not own fails ERROR_NOT_OWNER and no wait is performed', async () => {
        const m = await Mutex.create(undefined, { connection: b, initialOwner: true });
        const e = await Event.create(undefined, { connection: a, initialState: true });
        await assert.rejects(signalAndWait(m.on(a), e, Infinity), { code: 'ERROR_NOT_OWNER' });
        assert.equal((await state(e)).signaled, true, 'the event was not waited on');
        assert.equal((await state(m)).owner, b.threadId);
        await m.release();
        await closeAll([m, e]);
      });

      test('releases a mutex to its waiter and waits for the answer, as one step', async () => {
        const n = name('soaw');
        const m = await Mutex.create(n, { connection: a, initialOwner: true });
        const reply = await Event.create(`${n}-reply`, { connection: a });
        const theirM = await Mutex.open(n, { connection: b });
        const theirReply = await Event.open(`${n}-reply`, { connection: b });
        const taking = await started(b, theirM.wait());
        const asking = await started(a, signalAndWait(m, reply));
        assert.equal(await taking.promise, 'signaled');
        assert.equal((await state(m)).owner, b.threadId);
        assert.deepEqual(await pendingOf([a], [asking]), [true]);
        await theirReply.set();
        assert.equal(await asking.promise, 'signaled');
        await theirM.release();
        await closeAll([theirReply, theirM, reply, m]);
      });

      test('an object that cannot be signaled this way fails ERROR_INVALID_HANDLE', async () => {
        const t = await WaitableTimer.create(undefined, { connection: a });
        const e = await Event.create(undefined, { connection: a, initialState: true });
        await assert.rejects(signalAndWait(t, e, 0), { code: 'ERROR_INVALID_HANDLE' });
        assert.equal((await state(e)).signaled, true);
        await closeAll([t, e]);
      });
    });

    describe('access', () => {
      test('waiting needs SYNCHRONIZE: a handle opened for read and write cannot wait, one for execute can', async () => {
        const n = name('sync-right');
        const m = await Mutex.create(n, { connection: a });
        const rw = await Mutex.open(n, { connection: a, access: Access.GENERIC_READ | Access.GENERIC_WRITE });
        await assert.rejects(rw.wait(0), { code: 'ERROR_ACCESS_DENIED', errno: 5 });
        await assert.rejects(waitAny([m, rw], 0), { code: 'ERROR_ACCESS_DENIED' });
        await assert.rejects(waitAll([rw], 0), { code: 'ERROR_ACCESS_DENIED' });
        assert.equal((await state(m)).owner, null, 'the failed wait-any acquired nothing');
        const x = await Mutex.open(n, { connection: a, access: Access.GENERIC_EXECUTE });
        assert.equal(await x.wait(0), 'signaled');
        await x.release();
        await closeAll([x, rw, m]);
      });

      test('signalAndWait on a handle that cannot wait fails before it signals anything', async () => {
        const n = name('soaw-right');
        const e = await Event.create(n, { connection: a });
        const noSync = await Event.open(n, { connection: a, access: Access.GENERIC_READ });
        const toSignal = await Event.create(undefined, { connection: a });
        await assert.rejects(signalAndWait(toSignal, noSync, 0), { code: 'ERROR_ACCESS_DENIED' });
        assert.equal((await state(toSignal)).signaled, false);
        await closeAll([toSignal, noSync, e]);
      });
    });

    describe('wake order', () => {
      test('threads blocked on one mutex get it in the order they came, each as its owner', async () => {
        const n = name('fifo');
        const threads = [b, c, await backend.thread()];
        const m = await Mutex.create(n, { connection: a, initialOwner: true });
        const views = await Promise.all(threads.map((t) => Mutex.open(n, { connection: t })));
        const waits = [];
        for (const [i, t] of threads.entries()) waits.push(await started(t, views[i]!.wait()));
        let releaser: Mutex = m;
        for (let i = 0; i < threads.length; i++) {
          await releaser.release();
          assert.equal(await waits[i]!.promise, 'signaled');
          assert.equal((await state(m)).owner, threads[i]!.threadId);
          assert.deepEqual(await pendingOf(threads, waits), threads.map((_, j) => j > i));
          releaser = views[i]!;
        }
        await releaser.release();
        await closeAll([...views, m]);
      });
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Access, Event, Mutex, waitAll, waitAny } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { flush, pendingOf, started, track } from '../helpers/pending.ts';

const state = async (m: Mutex) => (await m.query()).state;

for (const backendName of backendNames) {
  describe(`Mutex (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('recursive ownership is counted exactly, one more release fails ERROR_NOT_OWNER', async () => {
      const m = await Mutex.create('rec', { connection: a });
      const viaExecute = await Mutex.open('rec', { connection: a, access: Access.GENERIC_EXECUTE });
      assert.equal(await viaExecute.wait(0), 'signaled');
      for (let i = 0; i < 31; i++) assert.equal(await m.wait(0), 'signaled');
      assert.equal((await state(m)).recursion, 32);
      for (let i = 0; i < 16; i++) await m.release();
      for (let i = 0; i < 16; i++) await viaExecute.release();
      await assert.rejects(m.release(), { code: 'ERROR_NOT_OWNER', errno: 288 });
      assert.deepEqual(await state(m), { owner: null, ownerPid: null, recursion: 0, abandoned: false });
      await viaExecute.close();
      await m.close();
    });

    test('a thread that does not own it cannot acquire it while another thread does', async () => {
      const m = await Mutex.create(undefined, { connection: a, initialOwner: true });
      assert.equal(await m.on(b).wait(0), 'timeout');
      assert.equal(await m.on(b).wait(20), 'timeout');
      await m.release();
      await m.close();
    });

    test('release by a thread that does not own it fails ERROR_NOT_OWNER and changes nothing', async () => {
      const m = await Mutex.create(undefined, { connection: a, initialOwner: true });
      assert.equal(await m.wait(0), 'signaled');
      const before = await state(m);
      await assert.rejects(m.on(b).release(), { code: 'ERROR_NOT_OWNER' });
      assert.deepEqual(await state(m), before);
      assert.equal(before.owner, a.threadId);
      assert.equal(before.recursion, 2);
      await m.release();
      await m.release();
      await assert.rejects(m.release(), { code: 'ERROR_NOT_OWNER' }, 'a free mutex has no owner to release it');
      await m.close();
    });

    test('release needs no access right: an owner may release through a handle opened for reading', async () => {
      const m = await Mutex.create('release-rights', { connection: a, initialOwner: true });
      const readOnly = await Mutex.open('release-rights', { connection: a, access: Access.GENERIC_READ });
      await readOnly.release();
      assert.equal((await state(m)).owner, null);
      await assert.rejects(readOnly.release(), { code: 'ERROR_NOT_OWNER' });
      await readOnly.close();
      await m.close();
    });

    test('a wait-all that includes a mutex the thread owns counts one more recursion', async () => {
      const m = await Mutex.create(undefined, { connection: a, initialOwner: true });
      const e = await Event.create(undefined, { connection: a, initialState: true });
      assert.equal(await waitAll([m, e], 0), 'signaled');
      assert.equal((await state(m)).recursion, 2);
      assert.deepEqual(await waitAny([m, e], 0), { status: 'signaled', index: 0 });
      assert.equal((await state(m)).recursion, 3);
      for (let i = 0; i < 3; i++) await m.release();
      await e.close();
      await m.close();
    });

    test('initialOwner makes the creating thread the owner', async () => {
      const m = await Mutex.create('initial-owner', { connection: a, initialOwner: true });
      assert.equal(m.existed, false);
      assert.deepEqual(await state(m), { owner: a.threadId, ownerPid: process.pid, recursion: 1, abandoned: false });
      assert.equal(await m.on(b).wait(0), 'timeout');
      await m.release();
      assert.equal(await m.on(b).wait(0), 'signaled');
      await m.on(b).release();
      await m.close();
    });

    test('create of an existing name opens it and ignores initialOwner', async () => {
      const first = await Mutex.create('ignore-initial', { connection: a });
      const second = await Mutex.create('ignore-initial', { connection: b, initialOwner: true });
      assert.equal(second.existed, true);
      assert.equal(second.objectId, first.objectId);
      assert.equal((await state(second)).owner, null);
      await assert.rejects(second.release(), { code: 'ERROR_NOT_OWNER' });
      await second.close();
      await first.close();
    });

    test('closing the owner’s handle neither releases nor abandons the mutex', async () => {
      const m = await Mutex.create('close-keeps', { connection: a, initialOwner: true });
      const theirs = await Mutex.open('close-keeps', { connection: b });
      const waiting = await started(b, theirs.wait());
      await m.close();
      assert.deepEqual(await pendingOf([b], [waiting]), [true], 'the waiter is neither woken nor failed');
      assert.deepEqual(await state(theirs), { owner: a.threadId, ownerPid: process.pid, recursion: 1, abandoned: false });
      const again = await Mutex.open('close-keeps', { connection: a });
      await again.release();
      assert.equal(await waiting.promise, 'signaled', 'released, not abandoned');
      await theirs.release();
      await again.close();
      await theirs.close();
    });

    test('a release that leaves recursion does not wake a waiter; the last one hands the mutex over', async () => {
      const m = await Mutex.create(undefined, { connection: a, initialOwner: true });
      assert.equal(await m.wait(0), 'signaled');
      const waiting = await started(b, m.on(b).wait());
      await m.release();
      assert.deepEqual(await pendingOf([b], [waiting]), [true]);
      await m.release();
      assert.equal(await waiting.promise, 'signaled');
      assert.equal((await state(m)).owner, b.threadId);
      await m.on(b).release();
      await m.close();
    });

    test('a waiter in another thread gets abandoned when the owner thread ends, and then owns it', async () => {
      const owner = await backend.thread();
      const m = await Mutex.create(undefined, { connection: owner, initialOwner: true });
      const other = m.on(b);
      const pending = other.wait();
      assert.equal(await other.wait(0), 'timeout');
      owner.close();
      assert.equal(await pending, 'abandoned');
      const state = (await other.query()).state;
      assert.equal(state.abandoned, false);
      assert.equal(state.recursion, 1);
      await other.release();
    });

    test('abandonment is reported once: the new owner’s next acquisition and the next owner’s are signaled', async () => {
      const owner = await backend.thread();
      await Mutex.create('abandon-once', { connection: owner, initialOwner: true });
      const mine = await Mutex.open('abandon-once', { connection: a });
      const first = await started(a, mine.wait());
      const second = await started(b, mine.on(b).wait());
      owner.close();
      assert.equal(await first.promise, 'abandoned');
      assert.equal(await mine.wait(0), 'signaled');
      await mine.release();
      assert.deepEqual(await pendingOf([b], [second]), [true]);
      await mine.release();
      assert.equal(await second.promise, 'signaled');
      await mine.on(b).release();
      await mine.close();
    });

    test('an abandoned mutex nobody waits for is free and flagged until the next acquisition', async () => {
      const owner = await backend.thread();
      const m = await Mutex.create(undefined, { connection: owner, initialOwner: true });
      assert.equal(await m.wait(0), 'signaled');
      owner.close();
      await owner.closed;
      // The handle belongs to the process, which lives on in the threads a and b.
      const mine = m.on(a);
      // Nothing tells another thread when the owner's end reached the object manager: look until it has.
      let s = await state(mine);
      while (s.owner !== null) s = (await flush(a), await state(mine));
      assert.deepEqual(s, { owner: null, ownerPid: null, recursion: 0, abandoned: true });
      assert.equal(await mine.wait(0), 'abandoned');
      await mine.release();
      assert.equal(await mine.on(b).wait(0), 'signaled');
      await mine.on(b).release();
      await mine.close();
    });

    test('lock() serialises async callers of one thread: the second resolves after the first releases', async () => {
      const m = await Mutex.create(undefined, { connection: a });
      const first = await m.lock();
      const second = track(m.lock());
      assert.deepEqual(await pendingOf([a], [second]), [true]);
      assert.equal((await state(m)).recursion, 1, 'the second caller did not take it by recursion');
      await first.release();
      const lock2 = await second.promise;
      assert.equal(lock2.abandoned, false);
      assert.equal((await state(m)).recursion, 1);
      await lock2[Symbol.asyncDispose]();
      await lock2.release(); // a second release does nothing
      assert.equal((await state(m)).owner, null);
      await m.close();
    });

    test('lock() times out with ERROR_TIMEOUT, whether another thread or another caller holds it', async () => {
      const m = await Mutex.create(undefined, { connection: a });
      const held = await m.on(b).lock();
      await assert.rejects(m.lock(10), { code: 'ERROR_TIMEOUT' });
      await assert.rejects(m.on(b).lock(10), { code: 'ERROR_TIMEOUT' });
      await assert.rejects(m.lock(0), { code: 'ERROR_TIMEOUT' });
      await held.release();
      const l = await m.lock(0);
      assert.equal((await state(m)).owner, a.threadId);
      await l.release();
      const again = await m.on(b).lock(0);
      await again.release();
      await m.close();
    });

    test('lock() reports an abandoned mutex and then owns it', async () => {
      const owner = await backend.thread();
      await Mutex.create('lock-abandoned', { connection: owner, initialOwner: true });
      const mine = await Mutex.open('lock-abandoned', { connection: a });
      const locking = await started(a, mine.lock());
      owner.close();
      const l = await locking.promise;
      assert.equal(l.abandoned, true);
      assert.equal((await state(mine)).owner, a.threadId);
      await l.release();
      const next = await mine.lock();
      assert.equal(next.abandoned, false);
      await next.release();
      await mine.close();
    });
  });
}

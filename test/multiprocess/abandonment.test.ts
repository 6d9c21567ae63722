import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Event, Mutex, Semaphore, waitAll, waitAny } from '../../src/client/index.ts';
import { withDaemon } from '../fixtures/world.ts';

test('an owner killed with SIGKILL abandons the mutex; a waiter in another process gets abandoned and owns it', async (t) => {
  const { agent, local } = await withDaemon(t);
  const owner = await agent();
  await owner.call('createMutex', 'm', 'mp-abandon', true);
  const m = await Mutex.open('mp-abandon', { connection: local });
  const pending = m.wait();
  assert.equal(await m.wait(0), 'timeout');
  await owner.kill('SIGKILL');
  assert.equal(await pending, 'abandoned');
  assert.equal((await m.query()).state.ownerPid, process.pid);
  await m.release();
  assert.equal(await m.wait(0), 'signaled');
  await m.release();
  await m.close();
});

test('an owner killed holding the mutex three times deep: the next owner starts at recursion 1 and one release frees it', async (t) => {
  const { agent, local, thread } = await withDaemon(t);
  const owner = await agent();
  await owner.call('createMutex', 'm', 'mp-abandon-deep', true);
  await owner.call('wait', 'm');
  await owner.call('wait', 'm');
  const m = await Mutex.open('mp-abandon-deep', { connection: local });
  assert.equal((await m.query()).state.recursion, 3);
  const pending = m.wait();
  await owner.kill('SIGKILL');
  assert.equal(await pending, 'abandoned');
  const state = (await m.query()).state;
  assert.equal(state.recursion, 1);
  assert.equal(state.abandoned, false);
  await m.release();
  // Free now: another thread takes it plainly, the abandonment reported once only.
  assert.equal(await m.on(await thread()).wait(0), 'signaled');
});

test('a wait-all that includes a mutex whose owner is killed completes with abandoned and acquires everything', async (t) => {
  const { agent, local } = await withDaemon(t);
  const owner = await agent();
  await owner.call('createMutex', 'm', 'mp-abandon-all', true);
  const m = await Mutex.open('mp-abandon-all', { connection: local });
  const sem = await Semaphore.create('mp-abandon-all-sem', { connection: local, initialCount: 1, maximumCount: 1 });
  const ev = await Event.create('mp-abandon-all-ev', { connection: local, manualReset: true, initialState: true });
  const pending = waitAll([sem, m, ev]);
  assert.equal((await sem.query()).state.count, 1, 'nothing taken while the mutex is held');
  await owner.kill('SIGKILL');
  assert.equal(await pending, 'abandoned');
  assert.equal((await m.query()).state.ownerPid, process.pid);
  assert.equal((await sem.query()).state.count, 0);
  assert.equal((await ev.query()).signaled, true, 'a manual-reset event stays signaled');
  await m.release();
});

test('an owner killed while itself waiting on another mutex: its mutex is abandoned and its wait vanishes', async (t) => {
  const { agent, local, thread } = await withDaemon(t);
  const mine = await Mutex.create('mp-abandon-held', { connection: local, initialOwner: true });
  const owner = await agent();
  await owner.call('createMutex', 'theirs', 'mp-abandon-theirs', true);
  await owner.call('openMutex', 'mine', 'mp-abandon-held');
  await owner.call('startWait', 'mine');
  await owner.call('barrier');
  assert.equal((await mine.query()).waiters, 1);
  const theirs = await Mutex.open('mp-abandon-theirs', { connection: local });
  const pending = theirs.wait();
  await owner.kill('SIGKILL');
  assert.equal(await pending, 'abandoned');
  assert.equal((await mine.query()).waiters, 0);
  // Releasing ours hands it to nobody dead: another thread of ours gets it at once.
  await mine.release();
  assert.equal(await mine.on(await thread()).wait(0), 'signaled');
  assert.equal((await mine.query()).state.ownerPid, process.pid);
});

test('a killed owner of several mutexes abandons each; every waiter (any, all, one) hears abandoned once', async (t) => {
  const { agent, thread } = await withDaemon(t);
  const owner = await agent();
  for (const k of ['a', 'b', 'c']) await owner.call('createMutex', k, `mp-abandon-many-${k}`, true);
  const [t1, t2, t3] = [await thread(), await thread(), await thread()];
  const a = await Mutex.open('mp-abandon-many-a', { connection: t1 });
  const b = await Mutex.open('mp-abandon-many-b', { connection: t2 });
  const c = await Mutex.open('mp-abandon-many-c', { connection: t3 });
  const one = a.wait();
  const any = waitAny([b.on(t2), c.on(t2)]);
  await t2.request('ping', {}); // t2's wait is queued before t3's
  const all = waitAll([c.on(t3), b.on(t3)]);
  await owner.kill('SIGKILL');
  assert.equal(await one, 'abandoned');
  assert.deepEqual(await any, { status: 'abandoned', index: 0 });
  await b.release();
  assert.equal(await all, 'abandoned', 'c was abandoned, b was taken plainly after t2 released it');
  assert.equal((await c.query()).state.owner, t3.threadId);
  assert.equal((await b.query()).state.owner, t3.threadId);
});

test('the object manager keeps serving other processes after owners are killed', async (t) => {
  const { agent, local } = await withDaemon(t);
  for (let round = 0; round < 3; round++) {
    const owner = await agent();
    await owner.call('createMutex', 'm', 'mp-abandon-serve', true);
    const m = await Mutex.open('mp-abandon-serve', { connection: local });
    const pending = m.wait();
    await owner.kill('SIGKILL');
    assert.equal(await pending, 'abandoned');
    await m.release();
    await m.close();
  }
  const [x, y] = [await agent(), await agent()];
  await x.call('createEvent', 'e', 'mp-abandon-serve-ev');
  await y.call('createEvent', 'e', 'mp-abandon-serve-ev');
  await y.call('startWait', 'e');
  await y.call('barrier');
  await x.call('set', 'e');
  assert.equal(await y.call('waitResult', 'e'), 'signaled');
  assert.equal((await local.request('status', {})).status.pendingWaits, 0);
});

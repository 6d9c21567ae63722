import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex } from '../../src/client/index.ts';
import { withDaemon } from '../fixtures/world.ts';

test('a named mutex passes from process to process in the order they began to wait', async (t) => {
  const world = await withDaemon(t);
  const [a, b, c] = [await world.agent(), await world.agent(), await world.agent()];
  assert.equal(await a.call('createMutex', 'm', 'mp-own-pass', true), false);
  const m = await Mutex.open('mp-own-pass', { connection: world.local });
  const owner = async () => (await m.query()).state.ownerPid;

  // B queues first, then C (each barrier proves its wait reached the object manager).
  await b.call('openMutex', 'm', 'mp-own-pass');
  await b.call('startWait', 'm');
  await b.call('barrier');
  await c.call('openMutex', 'm', 'mp-own-pass');
  await c.call('startWait', 'm');
  await c.call('barrier');
  assert.equal(await owner(), a.pid);
  assert.equal((await m.query()).waiters, 2);

  await a.call('release', 'm');
  assert.equal(await b.call('waitResult', 'm'), 'signaled');
  assert.equal(await owner(), b.pid);
  assert.equal((await m.query()).state.recursion, 1);
  assert.equal((await m.query()).waiters, 1);

  // The previous owner has nothing left to release, and neither does a waiter.
  await assert.rejects(a.call('release', 'm'), { code: 'ERROR_NOT_OWNER' });
  await assert.rejects(c.call('release', 'm'), { code: 'ERROR_NOT_OWNER' });
  assert.equal(await owner(), b.pid);

  await b.call('release', 'm');
  assert.equal(await c.call('waitResult', 'm'), 'signaled');
  assert.equal(await owner(), c.pid);
  assert.equal(await m.wait(0), 'timeout');

  await c.call('release', 'm');
  assert.equal(await owner(), null);
  assert.equal(await m.wait(0), 'signaled');
  assert.equal(await owner(), process.pid);
  await m.release();
});

test('a waiter that gave up (timeout) is skipped and the mutex goes to the next process in line', async (t) => {
  const world = await withDaemon(t);
  const m = await Mutex.create('mp-own-skip', { connection: world.local, initialOwner: true });
  const [b, c] = [await world.agent(), await world.agent()];
  await b.call('openMutex', 'm', 'mp-own-skip');
  await c.call('openMutex', 'm', 'mp-own-skip');
  // B's wait times out while the mutex is still held; C waits without a limit.
  assert.equal(await b.call('wait', 'm', 20), 'timeout');
  await c.call('startWait', 'm');
  await c.call('barrier');
  await m.release();
  assert.equal(await c.call('waitResult', 'm'), 'signaled');
  assert.equal((await m.query()).state.ownerPid, c.pid);
  assert.equal(await b.call('wait', 'm', 0), 'timeout');
  await c.call('release', 'm');
  assert.equal(await b.call('wait', 'm', 0), 'signaled');
  assert.equal((await m.query()).state.ownerPid, b.pid);
  await b.call('release', 'm');
});

test('recursive ownership in one process must be released as many times before another process gets it', async (t) => {
  const world = await withDaemon(t);
  const a = await world.agent();
  await a.call('createMutex', 'm', 'mp-own-recursive', true);
  assert.equal(await a.call('wait', 'm'), 'signaled');
  assert.equal(await a.call('wait', 'm'), 'signaled');
  const m = await Mutex.open('mp-own-recursive', { connection: world.local });
  assert.equal((await m.query()).state.recursion, 3);
  const pending = m.wait();
  await a.call('release', 'm');
  await a.call('release', 'm');
  assert.equal((await m.query()).state.ownerPid, a.pid);
  assert.equal((await m.query()).state.recursion, 1);
  await a.call('release', 'm');
  assert.equal(await pending, 'signaled');
  assert.equal((await m.query()).state.ownerPid, process.pid);
  await m.release();
});

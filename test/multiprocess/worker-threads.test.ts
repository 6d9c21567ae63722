import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { defaultConnection, Mutex } from '../../src/client/index.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { fixture } from '../fixtures/scripts.ts';
import { spawnThreadAgent, type ThreadAgent } from '../helpers/thread-agent.ts';

// Each worker finds the object manager as an application would, from its environment.
// This file runs in its own process, so pointing the environment at our daemon is safe.
let daemon: Daemon;
before(async () => {
  daemon = await startDaemon();
  process.env.NTIPC_SOCKET = daemon.socketPath;
  process.env.NTIPC_NO_START = '1';
});
after(async () => {
  (await defaultConnection()).close();
  await daemon.stop();
});

const spawnThread = (): Promise<ThreadAgent> => spawnThreadAgent(pathToFileURL(fixture('thread-agent.ts')).href);

test('each worker thread has its own connection and thread identity', async (t) => {
  const [w1, w2] = [await spawnThread(), await spawnThread()];
  t.after(() => Promise.all([w1.worker.terminate(), w2.worker.terminate()]));
  const main = (await defaultConnection()).threadId;
  const ids = [main, await w1.call<number>('threadId'), await w2.call<number>('threadId')];
  assert.equal(new Set(ids).size, 3, `thread ids ${ids.join(', ')}`);
});

test('a mutex owned by the main thread is not signaled for a worker of the same process', async (t) => {
  const w = await spawnThread();
  t.after(() => w.worker.terminate());
  const m = await Mutex.create('mp-wt-main-owned', { initialOwner: true });
  await w.call('openMutex', 'm', 'mp-wt-main-owned');
  assert.equal(await w.call('wait', 'm', 0), 'timeout');
  await assert.rejects(w.call('release', 'm'), { code: 'ERROR_NOT_OWNER' });
  // The main thread's own recursion is still signaled for it.
  assert.equal(await m.wait(0), 'signaled');
  await w.call('startWait', 'm');
  await m.release();
  await m.release();
  assert.equal(await w.call('waitResult', 'm'), 'signaled');
  const { state } = await m.query();
  assert.equal(state.ownerPid, process.pid, 'same process');
  assert.equal(state.owner, await w.call('threadId'), 'but the worker thread');
  assert.equal(await m.wait(0), 'timeout');
  await w.call('release', 'm');
  await m.close();
});

test('a worker that is terminated while owning a mutex abandons it', async () => {
  const w = await spawnThread();
  await w.call('createMutex', 'm', 'mp-wt-abandon', true);
  const m = await Mutex.open('mp-wt-abandon');
  const pending = m.wait();
  assert.equal(await m.wait(0), 'timeout');
  await w.worker.terminate();
  assert.equal(await pending, 'abandoned');
  assert.equal((await m.query()).state.owner, (await defaultConnection()).threadId);
  await m.release();
  // The process lives on, so its handles do too (handles belong to the process, not the thread).
  assert.equal((await m.query()).handles, 2);
  await m.close();
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, ProcessHandle, waitAll, waitAny } from '../../src/client/index.ts';
import { withDaemon } from '../fixtures/world.ts';

/** A child that exits with `code` when a line arrives on its stdin. */
const exitOnInput = (code: number) => ['-e', `process.stdin.once('data', () => process.exit(${code}))`];

test('waitAny over a mutex held by another process and a spawned child: the child exits, index 1', async (t) => {
  const { agent, local } = await withDaemon(t);
  const owner = await agent();
  await owner.call('createMutex', 'm', 'mp-ph-mutex', true);
  const m = await Mutex.open('mp-ph-mutex', { connection: local });
  const child = await ProcessHandle.spawn(process.execPath, exitOnInput(7), { connection: local, stdio: ['pipe', 'ignore', 'inherit'] });
  t.after(() => child.child?.kill('SIGKILL'));
  const pending = waitAny([m, child]);
  await local.request('ping', {});
  assert.equal(await child.wait(0), 'timeout');
  child.child!.stdin!.end('go\n');
  assert.deepEqual(await pending, { status: 'signaled', index: 1 });
  assert.equal(child.exitCode, 7);
  assert.equal((await child.query()).state.exitCode, 7);
  // The mutex was not touched: still its owner's.
  assert.equal((await m.query()).state.ownerPid, owner.pid);
  // A process stays signaled once exited.
  assert.equal(await child.wait(0), 'signaled');
});

test('a process handle opened by pid in another process is signaled when that process is killed', async (t) => {
  const { agent, local } = await withDaemon(t);
  const [watcher, victim] = [await agent(), await agent()];
  await watcher.call('createMutex', 'm', 'mp-ph-open', false);
  const held = await Mutex.create('mp-ph-open', { connection: local });
  assert.equal(await held.wait(0), 'signaled');
  await watcher.call('openProcess', 'p', victim.pid);
  await watcher.call('startWaitAny', 'any', ['m', 'p']);
  await watcher.call('barrier');
  const mine = await ProcessHandle.open(victim.pid, { connection: local });
  await victim.kill('SIGKILL');
  assert.deepEqual(await watcher.call('waitResult', 'any'), { status: 'signaled', index: 1 });
  assert.equal(await mine.wait(), 'signaled');
  assert.equal((await mine.query()).state.exited, true);
  await held.release();
});

test('waitAll over the process handles of several children completes only when the last one exits', async (t) => {
  const { local } = await withDaemon(t);
  const children = await Promise.all(
    [0, 1, 2].map((i) => ProcessHandle.spawn(process.execPath, exitOnInput(i), { connection: local, stdio: ['pipe', 'ignore', 'inherit'] })),
  );
  t.after(() => children.forEach((c) => c.child?.kill('SIGKILL')));
  const all = waitAll(children);
  children[0]!.child!.stdin!.end('go\n');
  children[2]!.child!.stdin!.end('go\n');
  assert.equal(await children[0]!.wait(), 'signaled');
  assert.equal(await children[2]!.wait(), 'signaled');
  assert.equal(await waitAll(children, 0), 'timeout');
  children[1]!.child!.stdin!.end('go\n');
  assert.equal(await all, 'signaled');
  assert.deepEqual(
    children.map((c) => c.exitCode),
    [0, 1, 2],
  );
});

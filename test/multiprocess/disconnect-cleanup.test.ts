import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Event, Mutex } from '../../src/client/index.ts';
import type { Agent } from '../helpers/agent.ts';
import { withDaemon, type World } from '../fixtures/world.ts';

/**
 * Give `agent` a mutex it owns that the test process also waits on, so that the test
 * learns exactly when the object manager has finished with the agent's death: the
 * disconnect is handled in one step, and this wait completes inside it.
 */
async function deathWatch(world: World, agent: Agent, tag: string): Promise<() => Promise<void>> {
  const name = `mp-dc-watch-${tag}`;
  await agent.call('createMutex', '__watch', name, true);
  const watch = await Mutex.open(name, { connection: world.local });
  const gone = watch.wait();
  await world.local.request('ping', {});
  return async () => {
    await agent.kill('SIGKILL');
    assert.equal(await gone, 'abandoned');
    await watch.release();
    await watch.close();
  };
}

async function assertGone(world: World, ...names: string[]): Promise<void> {
  for (const name of names) {
    await assert.rejects(Mutex.open(name, { connection: world.local }), { code: 'ERROR_FILE_NOT_FOUND' }, name);
  }
}

test('a process killed during a pending wait leaves no waiter behind', async (t) => {
  const world = await withDaemon(t);
  const held = await Mutex.create('mp-dc-held', { connection: world.local, initialOwner: true });
  const baseline = await world.status();
  const agent = await world.agent();
  const kill = await deathWatch(world, agent, 'wait');
  await agent.call('openMutex', 'm', 'mp-dc-held');
  await agent.call('createEvent', 'e', 'mp-dc-wait-own');
  await agent.call('startWait', 'm');
  await agent.call('startWaitAny', 'any', ['e', 'm']);
  await agent.call('barrier');
  assert.equal((await held.query()).waiters, 2);
  await kill();
  assert.deepEqual(await world.status(), baseline);
  assert.equal((await held.query()).waiters, 0);
  assert.equal((await held.query()).handles, 1);
  await assertGone(world, 'mp-dc-wait-own');
  // The mutex is still ours, and releasing it wakes no ghost.
  await held.release();
  assert.equal((await held.query()).state.owner, null);
});

test('a process killed during a wait-all leaves no waiter behind and acquired nothing', async (t) => {
  const world = await withDaemon(t);
  const held = await Mutex.create('mp-dc-all-held', { connection: world.local, initialOwner: true });
  const free = await Event.create('mp-dc-all-free', { connection: world.local, initialState: true });
  const baseline = await world.status();
  const agent = await world.agent();
  const kill = await deathWatch(world, agent, 'all');
  await agent.call('openMutex', 'held', 'mp-dc-all-held');
  await agent.call('createEvent', 'free', 'mp-dc-all-free');
  await agent.call('createSemaphore', 's', 'mp-dc-all-sem', 1, 1);
  await agent.call('startWaitAll', 'all', ['s', 'free', 'held']);
  await agent.call('startSignalAndWait', 'saw', 's', 'held');
  await agent.call('barrier');
  await kill();
  assert.deepEqual(await world.status(), baseline);
  assert.equal((await held.query()).waiters, 0);
  assert.equal((await free.query()).signaled, true, 'the auto-reset event was not consumed');
  await assertGone(world, 'mp-dc-all-sem');
  await held.release();
});

test('a process killed owning several mutexes and holding many handles leaves only what others hold', async (t) => {
  const world = await withDaemon(t);
  const shared = await Mutex.create('mp-dc-shared', { connection: world.local });
  const baseline = await world.status();
  const agent = await world.agent();
  const kill = await deathWatch(world, agent, 'many');
  await agent.call('wait', '__watch');
  for (const k of ['a', 'b', 'c']) await agent.call('createMutex', k, `mp-dc-own-${k}`, true);
  await agent.call('wait', 'b');
  await agent.call('openMutex', 'shared', 'mp-dc-shared');
  await agent.call('wait', 'shared');
  await agent.call('openMany', 'shared', 'mp-dc-shared', 300);
  await agent.call('createMany', 'mp-dc-ev', 300);
  await agent.call('createMutex', 'anon', '', true);
  const during = await world.status();
  assert.ok(during.handles >= baseline.handles + 600, `handles ${during.handles}`);
  assert.ok(during.objects >= baseline.objects + 300, `objects ${during.objects}`);
  await kill();
  assert.deepEqual(await world.status(), baseline);
  assert.equal(await shared.wait(0), 'abandoned');
  assert.equal((await shared.query()).handles, 1);
  await shared.release();
  await assertGone(world, 'mp-dc-own-a', 'mp-dc-own-b', 'mp-dc-own-c');
  await assert.rejects(Event.open('mp-dc-ev-0', { connection: world.local }), { code: 'ERROR_FILE_NOT_FOUND' });
  await assert.rejects(Event.open('mp-dc-ev-299', { connection: world.local }), { code: 'ERROR_FILE_NOT_FOUND' });
});

test('processes killed at random moments of random work leave nothing behind', { timeout: 120_000 }, async (t) => {
  const world = await withDaemon(t);
  const shared = await Mutex.create('mp-dc-churn', { connection: world.local });
  const baseline = await world.status();
  for (let round = 0; round < 6; round++) {
    const agent = await world.agent();
    const kill = await deathWatch(world, agent, `churn-${round}`);
    await agent.call('churn', `mp-dc-churn-${round}`, 'mp-dc-churn');
    // Kill it after a random amount of work, wherever that leaves it.
    await agent.call('churned', 1 + Math.floor(Math.random() * 300));
    await kill();
    assert.deepEqual(await world.status(), baseline, `round ${round}`);
    const { objects } = await world.local.request('listObjects', { type: undefined });
    assert.deepEqual(
      objects.filter((o) => o.name?.includes('churn-')),
      [],
      `round ${round}: objects of the dead process`,
    );
    const state = (await shared.query()).state;
    assert.equal(state.owner, null, `round ${round}: shared mutex owner`);
    if (state.abandoned) assert.equal(await shared.wait(0), 'abandoned');
    else assert.equal(await shared.wait(0), 'signaled');
    await shared.release();
    assert.equal((await shared.query()).waiters, 0);
  }
});

/**
 * Deadlocks between real processes: the object manager's snapshot shows the cycle, and a
 * waiter that asked for detection is failed ERROR_POSSIBLE_DEADLOCK instead of hanging.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect, Mutex, type Snapshot } from '../../src/client/index.ts';
import type { Agent } from '../helpers/agent.ts';
import { withDaemon, type World } from '../fixtures/world.ts';

/** Agents 0…n-1, agent i owning mutex `${prefix}-i` (kept as `m${i}`) and holding a handle to the next one (`next`). */
async function ring(world: World, prefix: string, n: number): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (let i = 0; i < n; i++) agents.push(await world.agent());
  for (let i = 0; i < n; i++) await agents[i]!.call('createMutex', `m${i}`, `${prefix}-${i}`, true);
  for (let i = 0; i < n; i++) await agents[i]!.call('openMutex', 'next', `${prefix}-${(i + 1) % n}`);
  return agents;
}

/** Each cycle as the set of pids in it. */
const cyclePids = (s: Snapshot) => s.cycles.map((c) => c.threads.map((t) => t.pid).sort((x, y) => x - y));

test('two processes each holding the mutex the other waits on: inspect shows the cycle, and a detecting waiter fails', async (t) => {
  const world = await withDaemon(t);
  const [a, b] = await ring(world, 'dl-pair', 2);
  const pids = [a!.pid, b!.pid].sort((x, y) => x - y);

  await a!.call('startWait', 'next');
  await a!.call('barrier');
  assert.deepEqual((await inspect({ connection: world.local })).cycles, []);
  await b!.call('startWait', 'next');
  await b!.call('barrier');

  const s = await inspect({ connection: world.local });
  assert.deepEqual(cyclePids(s), [pids]);
  const ids = s.objects.filter((o) => o.name?.startsWith('dl-pair-')).map((o) => o.id);
  assert.deepEqual([...s.cycles[0]!.objectIds].sort((x, y) => x - y), ids.sort((x, y) => x - y));
  for (const o of s.objects.filter((x) => x.name?.startsWith('dl-pair-'))) {
    assert.equal(o.waiters, 1);
    assert.ok(o.owner !== null && pids.includes(o.owner.pid));
  }
  const edges = s.edges.filter((e) => pids.includes(e.waiter.pid));
  assert.equal(edges.length, 2);
  for (const e of edges) assert.notEqual(e.holder?.pid, e.waiter.pid);

  // A third process that asks before waiting into the deadlock is refused at once.
  const c = await world.agent();
  await c.call('openMutex', 'm', 'dl-pair-0');
  await assert.rejects(c.call('waitDetect', 'm'), { code: 'ERROR_POSSIBLE_DEADLOCK' });

  // A dies: its mutex is abandoned to B, whose wait completes; the cycle is gone.
  await a!.kill('SIGKILL');
  assert.equal(await b!.call('waitResult', 'next'), 'abandoned');
  const after = await inspect({ connection: world.local });
  assert.deepEqual(after.cycles, []);
  assert.ok(!after.processes.some((p) => p.pid === a!.pid), 'the dead process is gone');
});

test('the wait that would close the cycle fails at once when it asks, and B goes on once A releases', async (t) => {
  const world = await withDaemon(t);
  const [a, b] = await ring(world, 'dl-ask', 2);
  await a!.call('startWait', 'next');
  await a!.call('barrier');
  await assert.rejects(b!.call('waitDetect', 'next'), { code: 'ERROR_POSSIBLE_DEADLOCK' });
  assert.deepEqual((await inspect({ connection: world.local })).cycles, []);
  // Nothing changed: B still owns its mutex and releases it; A's wait completes.
  await b!.call('release', 'm1');
  assert.equal(await a!.call('waitResult', 'next'), 'signaled');
});

test('three processes in a ring: inspect shows one cycle of three, and the waiter that asked is the one failed', async (t) => {
  const world = await withDaemon(t);
  const [a, b, c] = await ring(world, 'dl-ring', 3);
  await a!.call('startWaitDetect', 'w', 'next');
  await a!.call('barrier');
  await b!.call('startWait', 'next');
  await b!.call('barrier');
  const before = await inspect({ connection: world.local });
  assert.deepEqual(before.cycles, []);
  assert.equal(before.edges.filter((e) => e.holder !== null).length, 2);

  // C closes the ring without asking: A, which asked, is the victim; B and C stay blocked.
  await c!.call('startWait', 'next');
  assert.deepEqual(await a!.call('waitOutcome', 'w'), { code: 'ERROR_POSSIBLE_DEADLOCK' });
  await c!.call('barrier');
  const s = await inspect({ connection: world.local });
  assert.deepEqual(s.cycles, []);
  assert.equal(s.edges.filter((e) => e.holder !== null).length, 2);

  // A lets go of its mutex: C takes it, releases its own, B takes that, and so on.
  await a!.call('release', 'm0');
  assert.equal(await c!.call('waitResult', 'next'), 'signaled');
  await c!.call('release', 'm2');
  assert.equal(await b!.call('waitResult', 'next'), 'signaled');
});

test('three processes in a ring without detection: the cycle across the three is reported with their pids', async (t) => {
  const world = await withDaemon(t);
  const agents = await ring(world, 'dl-three', 3);
  for (const x of agents) {
    await x.call('startWait', 'next');
    await x.call('barrier');
  }
  const s = await inspect({ connection: world.local });
  assert.deepEqual(cyclePids(s), [agents.map((x) => x.pid).sort((p, q) => p - q)]);
  assert.equal(s.cycles[0]!.objectIds.length, 3);
  // The test process sees the cycle's mutexes, and its own wait into it, with detection, fails.
  const m = await Mutex.open('dl-three-0', { connection: world.local });
  await assert.rejects(m.wait(Infinity, { detectDeadlock: true }), { code: 'ERROR_POSSIBLE_DEADLOCK' });
  await m.close();
});

/** The dashboard's deltas: applying the difference of two snapshots to the first gives the second. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDelta, diffSnapshots } from '../../src/protocol/dashboard-events.ts';
import type { InspectedObject, Snapshot } from '../../src/protocol/inspection.ts';

const mutex = (id: number, name: string, owner: number | null, waits = 0): InspectedObject => ({
  id,
  type: 'Mutex',
  name,
  signaled: owner === null,
  handles: 1,
  waiters: 0,
  state: { owner, recursion: owner === null ? 0 : 1 },
  owner: owner === null ? null : { pid: owner, threadId: 1 },
  waiting: [],
  activity: { waits, signals: 0, messages: 0, bytes: 0 },
});

const before: Snapshot = {
  at: 1,
  objects: [mutex(1, 'A', null), mutex(2, 'B', 10), mutex(3, 'C', null)],
  processes: [{ pid: 10, threads: [{ threadId: 1, agent: 't', owns: [2], waits: [] }], handles: [] }],
  edges: [],
  cycles: [],
};

const after: Snapshot = {
  at: 2,
  objects: [mutex(1, 'A', null), mutex(2, 'B', 10, 1), mutex(4, 'D', 11)],
  processes: [
    { pid: 10, threads: [{ threadId: 1, agent: 't', owns: [2], waits: [{ objectIds: [4], all: false, sinceMs: 5, request: 'wait' }] }], handles: [] },
    { pid: 11, threads: [{ threadId: 1, agent: 'u', owns: [4], waits: [{ objectIds: [2], all: false, sinceMs: 3, request: 'wait' }] }], handles: [] },
  ],
  edges: [
    { waiter: { pid: 10, threadId: 1 }, objectId: 4, holder: { pid: 11, threadId: 1 } },
    { waiter: { pid: 11, threadId: 1 }, objectId: 2, holder: { pid: 10, threadId: 1 } },
  ],
  cycles: [{ threads: [{ pid: 10, threadId: 1 }, { pid: 11, threadId: 1 }], objectIds: [4, 2] }],
};

test('a delta carries only what changed, and applying it gives the new snapshot', () => {
  const delta = diffSnapshots(before, after)!;
  assert.deepEqual(delta.objects.upsert.map((o) => o.id), [2, 4]);
  assert.deepEqual(delta.objects.remove, [3]);
  assert.deepEqual(delta.processes.upsert.map((p) => p.pid), [10, 11]);
  assert.equal(delta.edges.upsert.length, 2);
  assert.equal(delta.cycles.upsert.length, 1);
  assert.deepEqual(applyDelta(before, delta), { ...after, edges: [...after.edges].sort((x, y) => x.waiter.pid - y.waiter.pid) });
});

test('removals undo additions, and no change is no delta', () => {
  const back = diffSnapshots(after, before)!;
  assert.deepEqual(back.edges.remove.sort(), ['10.1>4', '11.1>2']);
  assert.deepEqual(back.cycles.remove, ['10.1,11.1|4,2']);
  assert.deepEqual(applyDelta(after, back), before);
  assert.equal(diffSnapshots(after, { ...after, at: 3 }), null);
});

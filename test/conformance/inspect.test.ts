/**
 * Inspection and deadlock detection through the public client, over both backends:
 * semantics.md, "Inspection and deadlock detection".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Event, Mutex, inspect, type Snapshot } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { started } from '../helpers/pending.ts';

let unique = 0;
const name = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
const ref = (c: Connection) => c.threadId;
const cycleThreads = (s: Snapshot) => s.cycles.map((c) => c.threads.map((t) => t.threadId));

for (const backendName of backendNames) {
  describe(`Inspection (${backendName})`, () => {
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

    /** Mutexes owned by a and b, each also opened by the other thread. */
    async function pair() {
      const [n1, n2] = [name('insp-m1'), name('insp-m2')];
      const m1 = await Mutex.create(n1, { connection: a, initialOwner: true });
      const m2 = await Mutex.create(n2, { connection: b, initialOwner: true });
      return { n1, n2, m1, m2, m2a: await Mutex.open(n2, { connection: a }), m1b: await Mutex.open(n1, { connection: b }) };
    }

    test('the snapshot shows an object, its owner, its waiter, both threads and the edge between them', async () => {
      const { n1, m1, m2, m2a, m1b } = await pair();
      const w = await started(b, m1b.wait());
      const s = await inspect({ connection: c, pattern: n1 });
      assert.equal(s.objects.length, 1);
      const o = s.objects[0]!;
      assert.deepEqual([o.id, o.type, o.name, o.handles, o.waiters], [m1.objectId, 'Mutex', n1, 2, 1]);
      assert.equal(o.owner?.threadId, ref(a));
      assert.deepEqual(o.waiting.map((t) => t.threadId), [ref(b)]);
      const threads = s.processes.flatMap((p) => p.threads);
      assert.deepEqual(threads.find((t) => t.threadId === ref(a))?.owns.includes(m1.objectId), true);
      assert.deepEqual(threads.find((t) => t.threadId === ref(b))?.waits.map((x) => x.objectIds), [[m1.objectId]]);
      assert.ok(s.edges.some((e) => e.waiter.threadId === ref(b) && e.objectId === m1.objectId && e.holder?.threadId === ref(a)));
      assert.ok(Math.abs(s.at - Date.now()) < 60_000);
      await m1.release();
      assert.equal(await w.promise, 'signaled');
      await m1b.release();
      for (const h of [m1, m2, m2a, m1b]) await h.close();
    });

    test('filters: type, pattern, pid; an unknown type fails ERROR_INVALID_PARAMETER', async () => {
      const prefix = name('insp-f');
      const e = await Event.create(`${prefix}.ready`, { connection: a });
      const m = await Mutex.create(`${prefix}.lock`, { connection: a });
      const byPattern = await inspect({ connection: b, pattern: `${prefix.toUpperCase()}.*` });
      assert.deepEqual(byPattern.objects.map((o) => o.id).sort(), [e.objectId, m.objectId].sort());
      const byType = await inspect({ connection: b, pattern: `${prefix}.*`, type: 'Event' });
      assert.deepEqual(byType.objects.map((o) => o.id), [e.objectId]);
      const pid = byPattern.processes.find((p) => p.threads.some((t) => t.threadId === ref(a)))!.pid;
      const byPid = await inspect({ connection: b, pid, pattern: `${prefix}.*` });
      assert.deepEqual(byPid.processes.map((p) => p.pid), [pid]);
      assert.equal(byPid.objects.length, 2);
      assert.deepEqual((await inspect({ connection: b, ids: [m.objectId] })).objects.map((o) => o.id), [m.objectId]);
      await assert.rejects(inspect({ connection: b, type: 'Mutant' as 'Mutex' }), { code: 'ERROR_INVALID_PARAMETER' });
      await e.close();
      await m.close();
    });

    test('a deadlock of two threads is a cycle in the snapshot', async () => {
      const { m1, m2, m2a, m1b } = await pair();
      const wa = await started(a, m2a.wait());
      const wb = await started(b, m1b.wait());
      const s = await inspect({ connection: c });
      assert.deepEqual(cycleThreads(s), [[ref(a), ref(b)].sort((x, y) => x - y)]);
      const cycle = s.cycles[0]!;
      assert.deepEqual(cycle.objectIds, cycle.threads[0]!.threadId === ref(a) ? [m2.objectId, m1.objectId] : [m1.objectId, m2.objectId]);
      // A gives up: its wait is cancelled by closing nothing — it releases, B takes m1, the cycle is gone.
      await m1.release();
      assert.equal(await wb.promise, 'signaled');
      assert.deepEqual((await inspect({ connection: c })).cycles, []);
      await m1b.release();
      await m2.release();
      assert.equal(await wa.promise, 'signaled');
      await m2a.release();
      for (const h of [m1, m2, m2a, m1b]) await h.close();
    });

    test('a wait with detectDeadlock that would close a cycle rejects ERROR_POSSIBLE_DEADLOCK and changes nothing', async () => {
      const { m1, m2, m2a, m1b } = await pair();
      const wa = await started(a, m2a.wait());
      await assert.rejects(m1b.wait(Infinity, { detectDeadlock: true }), { code: 'ERROR_POSSIBLE_DEADLOCK', syscall: 'wait' });
      assert.equal((await m1.query()).waiters, 0);
      assert.deepEqual((await inspect({ connection: c })).cycles, []);
      await m2.release();
      assert.equal(await wa.promise, 'signaled');
      await m2a.release();
      await m1.release();
      for (const h of [m1, m2, m2a, m1b]) await h.close();
    });

    test('a waiter that asked is failed when another thread\'s wait closes the cycle', async () => {
      const { m1, m2, m2a, m1b } = await pair();
      const wa = await started(a, m2a.wait(Infinity, { detectDeadlock: true }));
      const wb = await started(b, m1b.wait());
      await assert.rejects(wa.promise, { code: 'ERROR_POSSIBLE_DEADLOCK' });
      assert.equal(wb.settled, false);
      await m1.release();
      assert.equal(await wb.promise, 'signaled');
      await m1b.release();
      await m2.release();
      for (const h of [m1, m2, m2a, m1b]) await h.close();
    });

    test('a snapshot larger than a frame fails ERROR_INSUFFICIENT_BUFFER; a narrower filter succeeds', async () => {
      const prefix = name('insp-big');
      const long = 'x'.repeat(200);
      const events = await Promise.all(Array.from({ length: 4000 }, (_, i) => Event.create(`${prefix}-${long}-${i}`, { connection: c })));
      await assert.rejects(inspect({ connection: c }), { code: 'ERROR_INSUFFICIENT_BUFFER' });
      assert.equal((await inspect({ connection: c, pattern: `${prefix}-*-1` })).objects.length, 1);
      await Promise.all(events.map((e) => e.close()));
    });
  });
}

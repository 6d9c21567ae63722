/**
 * Inspection in the kernel, on a fake clock: the snapshot's objects, processes, threads and
 * handles, its filters, the wait-for graph and its cycles, deadlock detection for the waits
 * that ask for it, activity counters, and the change hook's coalescing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KernelHarness, type TestThread } from '../helpers/kernel-harness.ts';
import { inspect } from '../../src/kernel/inspect.ts';
import type { InspectFilter, Snapshot, ThreadRef } from '../../src/protocol/inspection.ts';

const ref = (t: TestThread): ThreadRef => ({ pid: t.thread.process.pid, threadId: t.id });
const objectId = (t: TestThread, handle: number) => t.info(handle).id;
const snap = (k: KernelHarness, filter: InspectFilter = {}): Snapshot => inspect(k.kernel, filter);
const objectOf = (s: Snapshot, id: number) => {
  const o = s.objects.find((x) => x.id === id);
  assert.ok(o, `object ${id} is in the snapshot`);
  return o;
};
const threadOf = (s: Snapshot, t: TestThread) => {
  const th = s.processes.find((p) => p.pid === t.thread.process.pid)?.threads.find((x) => x.threadId === t.id);
  assert.ok(th, `thread ${t.id} is in the snapshot`);
  return th;
};

/** Threads of processes 1…n, each owning a mutex named m1…mn (all threads see every mutex). */
function owners(n: number) {
  const k = new KernelHarness();
  const threads = Array.from({ length: n }, (_, i) => k.thread(i + 1));
  const handles = threads.map((t, i) => t.mutex(`m${i + 1}`, true));
  /** `threads[i]`'s handle to mutex m{j+1}. */
  const h = (i: number, j: number) => (i === j ? handles[i]! : threads[i]!.call('openMutex', { name: `m${j + 1}`, access: 0x02000000 }).handle);
  const ids = threads.map((t, i) => objectId(t, handles[i]!));
  return { k, threads, h, ids };
}

describe('the snapshot (kernel)', () => {
  test('an owned mutex shows its owner and its waiters in arrival order; the owner and waiters show it too', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(1), k.thread(2), k.thread(3)];
    const m = a.mutex('inspect-m', true);
    const mb = b.call('openMutex', { name: 'inspect-m', access: 0x02000000 }).handle;
    const mc = c.call('openMutex', { name: 'inspect-m', access: 0x02000000 }).handle;
    k.clock.t += 5;
    c.wait(mc);
    k.clock.t += 7;
    b.wait(mb);
    const id = objectId(a, m);
    const s = snap(k);
    assert.equal(s.at, k.clock.wallNow());
    const o = objectOf(s, id);
    assert.equal(o.type, 'Mutex');
    assert.equal(o.name, 'inspect-m');
    assert.equal(o.handles, 3);
    assert.equal(o.waiters, 2);
    assert.deepEqual(o.owner, ref(a));
    assert.deepEqual(o.waiting, [ref(c), ref(b)]);
    assert.equal(o.state.recursion, 1);
    assert.deepEqual(threadOf(s, a).owns, [id]);
    assert.equal(threadOf(s, a).agent, 'test');
    assert.deepEqual(threadOf(s, c).waits, [{ objectIds: [id], all: false, sinceMs: k.clock.wallNow() - 7, request: 'wait' }]);
    assert.deepEqual(threadOf(s, b).waits, [{ objectIds: [id], all: false, sinceMs: k.clock.wallNow(), request: 'wait' }]);
    const handles = s.processes.find((p) => p.pid === 2)!.handles;
    assert.deepEqual(handles, [{ handle: mb, objectId: id, type: 'Mutex', name: 'inspect-m', access: handles[0]!.access }]);
    assert.ok(handles[0]!.access > 0);
  });

  test('every process and thread is listed with its handles; an unowned object has no owner', () => {
    const k = new KernelHarness();
    const [a1, a2, b] = [k.thread(10), k.thread(10), k.thread(20)];
    const e = a1.event(true, false, 'inspect-e');
    b.call('openEvent', { name: 'inspect-e', access: 0x02000000 });
    const s = snap(k);
    assert.deepEqual(s.processes.map((p) => [p.pid, p.threads.map((t) => t.threadId)]), [[10, [a1.id, a2.id]], [20, [b.id]]]);
    const o = objectOf(s, objectId(a1, e));
    assert.equal(o.owner, null);
    assert.deepEqual(o.waiting, []);
    assert.equal(s.processes[0]!.handles.length, 1);
    assert.equal(s.processes[1]!.handles.length, 1);
  });

  test('a process whose threads have all ended vanishes, and the mutex it owned is abandoned, with no owner', () => {
    const { k, threads, h, ids } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    b.wait(h(1, 0));
    a.end();
    const s = snap(k);
    assert.deepEqual(s.processes.map((p) => p.pid), [2]);
    // B took A's abandoned mutex.
    const m1 = objectOf(s, ids[0]!);
    assert.deepEqual(m1.owner, ref(b));
    b.call('releaseMutex', { handle: h(1, 0) });
    assert.equal(objectOf(snap(k), ids[0]!).owner, null);
    b.end();
    const after = snap(k);
    assert.deepEqual(after.processes, []);
    assert.deepEqual(after.objects, []);
  });
});

describe('filters (kernel)', () => {
  function world() {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const ids = {
      lockA: objectId(a, a.mutex('App.Lock.A')),
      lockB: objectId(b, b.mutex('app.lock.b', true)),
      ready: objectId(a, a.event(true, false, 'app.ready')),
      sem: objectId(b, b.semaphore(1, 2, 'jobs')),
      unnamed: objectId(b, b.mutex()),
    };
    return { k, a, b, ids };
  }
  const idsOf = (s: Snapshot) => s.objects.map((o) => o.id);

  test('by type', () => {
    const { k, ids } = world();
    assert.deepEqual(idsOf(snap(k, { type: 'Mutex' })), [ids.lockA, ids.lockB, ids.unnamed]);
    assert.deepEqual(idsOf(snap(k, { type: 'Semaphore' })), [ids.sem]);
    assert.deepEqual(idsOf(snap(k, { type: 'Section' })), []);
  });

  test('by a glob on the name, case-insensitive; an unnamed object never matches', () => {
    const { k, ids } = world();
    assert.deepEqual(idsOf(snap(k, { pattern: 'app.lock.*' })), [ids.lockA, ids.lockB]);
    assert.deepEqual(idsOf(snap(k, { pattern: 'APP.*' })), [ids.lockA, ids.lockB, ids.ready]);
    assert.deepEqual(idsOf(snap(k, { pattern: 'app.lock.?' })), [ids.lockA, ids.lockB]);
    assert.deepEqual(idsOf(snap(k, { pattern: 'app.lock' })), []);
    assert.deepEqual(idsOf(snap(k, { pattern: 'j(bs' })), [], 'regular expression characters are literal');
    assert.deepEqual(idsOf(snap(k, { pattern: '*' })), [ids.lockA, ids.lockB, ids.ready, ids.sem]);
    assert.deepEqual(idsOf(snap(k, { pattern: 'app.*', type: 'Event' })), [ids.ready]);
  });

  test('type and pattern narrow each process\'s handles to the objects selected, not the processes', () => {
    const { k, ids } = world();
    const s = snap(k, { type: 'Semaphore' });
    assert.deepEqual(s.processes.map((p) => [p.pid, p.handles.map((h) => h.objectId)]), [[1, []], [2, [ids.sem]]]);
    assert.deepEqual(snap(k).processes.map((p) => p.handles.length), [2, 3]);
  });

  test('by process: its objects (handles, waits, owned) and only it among processes; the graph stays whole', () => {
    const { k, a, b, ids } = world();
    const s = snap(k, { pid: 1 });
    assert.deepEqual(idsOf(s), [ids.lockA, ids.ready]);
    assert.deepEqual(s.processes.map((p) => p.pid), [1]);
    assert.deepEqual(idsOf(snap(k, { pid: 3 })), []);
    // A waits on B's mutex through its own handle; the edge is there under B's filter too.
    const h = a.call('openMutex', { name: 'app.lock.b', access: 0x02000000 }).handle;
    a.wait(h);
    const s2 = snap(k, { pid: 2 });
    assert.deepEqual(s2.edges, [{ waiter: ref(a), objectId: ids.lockB, holder: ref(b) }]);
  });

  test('by ids; an empty list selects no object', () => {
    const { k, ids } = world();
    assert.deepEqual(idsOf(snap(k, { ids: [ids.sem, ids.lockA, 9_999_999] })), [ids.sem, ids.lockA]);
    assert.deepEqual(idsOf(snap(k, { ids: [] })), []);
  });

  test('the inspect request: an unknown type fails ERROR_INVALID_PARAMETER, pid 0 is no filter', () => {
    const { a, ids } = world();
    assert.equal(a.fails('inspect', { type: 'Mutant', pattern: undefined, pid: 0 }), 'ERROR_INVALID_PARAMETER');
    const all = a.call('inspect', { type: undefined, pattern: undefined, pid: 0 }).snapshot;
    assert.equal(all.objects.length, 5);
    assert.equal(all.processes.length, 2);
    const some = a.call('inspect', { type: 'Mutex', pattern: 'app.*', pid: 2 }).snapshot;
    assert.deepEqual(idsOf(some), [ids.lockB]);
  });
});

describe('the wait-for graph (kernel)', () => {
  test('a wait-all names only the objects not yet available to it; an event has no holder', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const free = a.mutex('g-free');
    const held = b.mutex('g-held', true);
    const e = a.event(true, false, 'g-e');
    const heldA = a.call('openMutex', { name: 'g-held', access: 0x02000000 }).handle;
    a.wait([free, heldA, e], { all: true });
    const s = snap(k);
    assert.deepEqual(s.edges, [
      { waiter: ref(a), objectId: objectId(b, held), holder: ref(b) },
      { waiter: ref(a), objectId: objectId(a, e), holder: null },
    ]);
    assert.deepEqual(s.cycles, []);
  });

  test('a pending mailslot read is an edge to its mailslot with no holder, and the mailslot lists its reader waiting', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    const slot = a.call('createMailslot', { name: '\\\\.\\mailslot\\g', maxMessageSize: 0, readTimeoutMs: Infinity }).handle;
    const read = a.start('readMailslot', { handle: slot, maxBytes: Infinity });
    assert.ok(read.pending);
    const s = snap(k);
    const id = objectId(a, slot);
    assert.deepEqual(s.edges, [{ waiter: ref(a), objectId: id, holder: null }]);
    assert.deepEqual(objectOf(s, id).waiting, [ref(a)]);
    assert.deepEqual(threadOf(s, a).waits.map((w) => [w.objectIds, w.request]), [[[id], 'readMailslot']]);
  });

  test('two threads each owning the mutex the other waits on make one cycle, reported once', () => {
    const { k, threads, h, ids } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    a.wait(h(0, 1));
    assert.deepEqual(snap(k).cycles, []);
    b.wait(h(1, 0));
    const s = snap(k);
    assert.deepEqual(s.cycles, [{ threads: [ref(a), ref(b)], objectIds: [ids[1], ids[0]] }]);
    assert.equal(s.edges.length, 2);
  });

  test('three processes in a ring make one cycle of three, starting at the lowest thread', () => {
    const { k, threads, h, ids } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    c.wait(h(2, 0));
    b.wait(h(1, 2));
    assert.deepEqual(snap(k).cycles, []);
    a.wait(h(0, 1));
    assert.deepEqual(snap(k).cycles, [{ threads: [ref(a), ref(b), ref(c)], objectIds: [ids[1], ids[2], ids[0]] }]);
  });

  test('a wait-all on a mutex held by a deadlocked pair closes a cycle through each object not yet available', () => {
    const { k, threads, h, ids } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    const e = a.event(true, true, 'g-set');
    // A waits for its own event (available) and B's mutex; B waits for A's mutex.
    a.wait([e, h(0, 1)], { all: true });
    b.wait(h(1, 0));
    assert.deepEqual(snap(k).cycles, [{ threads: [ref(a), ref(b)], objectIds: [ids[1], ids[0]] }]);
  });

  test('a wait-any that an unowned object may complete is no deadlock; one on owned mutexes only is', () => {
    const { k, threads, h } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    const e = a.event(true, false, 'g-any');
    a.wait([h(0, 1), e]);
    b.wait(h(1, 0));
    assert.deepEqual(snap(k).cycles, [], 'an event may still end A\'s wait');
    // C waits for either of A's and B's mutexes: both are held by the two stuck threads only if A's wait is stuck.
    c.wait([h(2, 0), h(2, 1)]);
    a.wait(h(0, 2));
    const s = snap(k);
    assert.equal(s.cycles.length, 1);
    assert.deepEqual(new Set(s.cycles[0]!.threads.map((t) => t.threadId)).size, s.cycles[0]!.threads.length);
  });

  test('ending one thread of a cycle breaks it', () => {
    const { k, threads, h } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    a.wait(h(0, 1));
    const bw = b.wait(h(1, 0));
    a.end();
    assert.equal(bw.status, 'abandoned');
    assert.deepEqual(snap(k).cycles, []);
  });
});

describe('deadlock detection (kernel)', () => {
  test('a wait that would close a cycle fails ERROR_POSSIBLE_DEADLOCK at once and changes nothing', () => {
    const { k, threads, h, ids } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    a.wait(h(0, 1));
    const bm1 = h(1, 0);
    const before = snap(k);
    const w = b.wait(bm1, { detectDeadlock: true });
    assert.equal(w.error, 'ERROR_POSSIBLE_DEADLOCK');
    const after = snap(k);
    assert.deepEqual({ ...after, at: 0 }, { ...before, at: 0 });
    assert.equal(objectOf(after, ids[0]!).waiters, 0);
    // Without the flag the same wait blocks.
    assert.ok(b.wait(bm1).pending);
  });

  test('a wait that would not close a cycle blocks as usual, and completes', () => {
    const { threads, h } = owners(2);
    const [a, b] = threads as [TestThread, TestThread];
    const w = b.wait(h(1, 0), { detectDeadlock: true });
    assert.ok(w.pending);
    a.call('releaseMutex', { handle: h(0, 0) });
    assert.equal(w.status, 'signaled');
  });

  test('a three-process ring: the wait that closes it fails, the two others stay blocked', () => {
    const { threads, h } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    const wa = a.wait(h(0, 1), { detectDeadlock: true });
    const wb = b.wait(h(1, 2), { detectDeadlock: true });
    const wc = c.wait(h(2, 0), { detectDeadlock: true });
    assert.equal(wc.error, 'ERROR_POSSIBLE_DEADLOCK');
    assert.ok(wa.pending && wb.pending);
  });

  test('a wait on a thread already deadlocked with others fails too', () => {
    const { threads, h } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    a.wait(h(0, 1));
    b.wait(h(1, 0));
    assert.equal(c.wait(h(2, 0), { detectDeadlock: true }).error, 'ERROR_POSSIBLE_DEADLOCK');
    assert.ok(c.wait(h(2, 0), { timeoutMs: 10 }).pending);
  });

  test('a cycle closed by a wait that did not ask fails the youngest waiter of the cycle that did; the rest goes on', () => {
    const { threads, h, k, ids } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    const wa = a.wait(h(0, 1), { detectDeadlock: true });
    const wb = b.wait(h(1, 2), { detectDeadlock: true });
    const wc = c.wait(h(2, 0));
    assert.equal(wb.error, 'ERROR_POSSIBLE_DEADLOCK', 'B is the youngest that asked');
    assert.ok(wa.pending && wc.pending);
    assert.deepEqual(snap(k).cycles, []);
    assert.equal(k.kernel.waits.detecting, 1);
    // B, told, gives up its mutex: A gets it, then A lets go of its own and C gets that.
    b.call('releaseMutex', { handle: h(1, 1) });
    assert.equal(wa.status, 'signaled');
    assert.deepEqual(objectOf(snap(k), ids[1]!).owner, ref(a));
    assert.ok(wc.pending);
    a.call('releaseMutex', { handle: h(0, 0) });
    assert.equal(wc.status, 'signaled');
    assert.equal(k.kernel.waits.detecting, 0);
  });

  test('a cycle nobody asked about stays, and a waiter that asked and waits into it later fails', () => {
    const { threads, h, k } = owners(3);
    const [a, b, c] = threads as [TestThread, TestThread, TestThread];
    const wc = c.wait(h(2, 0), { detectDeadlock: true });
    assert.ok(wc.pending);
    a.wait(h(0, 1));
    b.wait(h(1, 0));
    assert.equal(wc.error, 'ERROR_POSSIBLE_DEADLOCK', 'C waits on a thread deadlocked for good');
    assert.equal(snap(k).cycles.length, 1);
  });

  test('a cycle formed when a wait is satisfied (a new owner) is found too', () => {
    const k = new KernelHarness();
    const [a, b, c] = [k.thread(1), k.thread(2), k.thread(3)];
    const m1 = a.mutex('sat-1', true);
    const m2 = c.mutex('sat-2', true);
    const bm1 = b.call('openMutex', { name: 'sat-1', access: 0x02000000 }).handle;
    const bm2 = b.call('openMutex', { name: 'sat-2', access: 0x02000000 }).handle;
    const am2 = a.call('openMutex', { name: 'sat-2', access: 0x02000000 }).handle;
    const wb1 = b.wait(bm1, { detectDeadlock: true });
    const wb2 = b.wait(bm2);
    a.wait(am2);
    // C lets go of sat-2: B's second wait takes it, so A now waits on B, which waits on A.
    c.call('releaseMutex', { handle: m2 });
    assert.equal(wb2.status, 'signaled');
    assert.equal(wb1.error, 'ERROR_POSSIBLE_DEADLOCK');
    void m1;
  });
});

describe('activity (kernel)', () => {
  test('waits, releases, sets, pulses and expiries are counted where they happen', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const m = a.mutex('act-m');
    a.wait(m);
    a.wait(m);
    a.call('releaseMutex', { handle: m });
    a.call('releaseMutex', { handle: m });
    const e = a.event(false);
    a.call('setEvent', { handle: e });
    a.call('pulseEvent', { handle: e });
    a.wait(e, { timeoutMs: 0 });
    const s = a.semaphore(0, 5);
    a.call('releaseSemaphore', { handle: s, count: 3 });
    b.call('ping', {});
    const t = a.timer(true);
    a.call('setTimer', { handle: t, due: 10, absolute: false, periodMs: 10 });
    k.advance(10);
    k.advance(10);
    k.advance(10);
    const snapshot = snap(k);
    assert.deepEqual(objectOf(snapshot, objectId(a, m)).activity, { waits: 2, signals: 2, messages: 0, bytes: 0 });
    assert.deepEqual(objectOf(snapshot, objectId(a, e)).activity, { waits: 0, signals: 2, messages: 0, bytes: 0 });
    assert.deepEqual(objectOf(snapshot, objectId(a, s)).activity, { waits: 0, signals: 1, messages: 0, bytes: 0 });
    assert.deepEqual(objectOf(snapshot, objectId(a, t)).activity, { waits: 0, signals: 3, messages: 0, bytes: 0 });
  });

  test('mailslot messages and bytes are counted on the mailslot and on the writer; a completed read is a wait', () => {
    const k = new KernelHarness();
    const [r, w] = [k.thread(1), k.thread(2)];
    const name = '\\\\.\\mailslot\\act';
    const slot = r.call('createMailslot', { name, maxMessageSize: 0, readTimeoutMs: Infinity }).handle;
    const read = r.start('readMailslot', { handle: slot, maxBytes: Infinity });
    const wh = w.call('openMailslot', { name }).handle;
    w.call('writeMailslot', { handle: wh, data: new Uint8Array(5) });
    w.call('writeMailslot', { handle: wh, data: new Uint8Array(7) });
    assert.ok(!read.pending);
    const s = snap(k);
    assert.deepEqual(objectOf(s, objectId(r, slot)).activity, { waits: 1, signals: 0, messages: 2, bytes: 12 });
    assert.deepEqual(objectOf(s, w.call('queryObject', { handle: wh }).info.id).activity, { waits: 0, signals: 0, messages: 2, bytes: 12 });
  });
});

describe('observing changes (kernel)', () => {
  test('one call per request, with every object it changed; none for a request that changes nothing', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const m = a.mutex('obs-m', true);
    const bm = b.call('openMutex', { name: 'obs-m', access: 0x02000000 }).handle;
    const e = a.event(true, false, 'obs-e');
    const be = b.call('openEvent', { name: 'obs-e', access: 0x02000000 }).handle;
    b.wait([bm, be], { all: true });
    const calls: [number[], boolean][] = [];
    const stop = k.kernel.observe((ids, processes) => calls.push([[...ids].sort((x, y) => x - y), processes]));
    a.call('ping', {});
    assert.deepEqual(calls, []);
    a.call('setEvent', { handle: e });
    assert.deepEqual(calls, [[[objectId(a, e)], false]]);
    // One release wakes B's wait-all: the mutex and the event change, and B's thread, in one call.
    a.call('releaseMutex', { handle: m });
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1], [[objectId(a, m), objectId(a, e)].sort((x, y) => x - y), true]);
    stop();
    a.call('resetEvent', { handle: e });
    assert.equal(calls.length, 2, 'no call after unsubscribing');
  });

  test('a tick that fires several timers is one call; a disconnect is one call with processes changed', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    const t1 = a.timer(true);
    const t2 = a.timer(true);
    a.call('setTimer', { handle: t1, due: 10, absolute: false, periodMs: 0 });
    a.call('setTimer', { handle: t2, due: 12, absolute: false, periodMs: 0 });
    const ids = [objectId(a, t1), objectId(a, t2)];
    const calls: [number[], boolean][] = [];
    k.kernel.observe((changed, processes) => calls.push([[...changed], processes]));
    k.advance(20);
    assert.deepEqual(calls, [[ids, false]]);
    a.end();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]![0].sort((x, y) => x - y), ids, 'the timers lost their handles and went');
    assert.equal(calls[1]![1], true);
  });

  test('a new connection and a handle opened report the processes changed', () => {
    const k = new KernelHarness();
    const calls: [number[], boolean][] = [];
    k.kernel.observe((changed, processes) => calls.push([[...changed], processes]));
    const a = k.thread(1);
    assert.deepEqual(calls, [[[], true]]);
    const m = a.mutex('obs-new');
    assert.deepEqual(calls[1], [[objectId(a, m)], true]);
  });
});

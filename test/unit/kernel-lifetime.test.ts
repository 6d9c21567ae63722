/**
 * Threads, processes, handles and names in the kernel: what a thread's end abandons and
 * drops, what a process's end closes, and how long objects and their names live.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Access } from '../../src/protocol/access.ts';
import { KernelHarness } from '../helpers/kernel-harness.ts';

describe('thread end (kernel)', () => {
  test('the next waiter gets abandoned once and owns the mutex; later acquisitions are signaled', () => {
    const k = new KernelHarness();
    const [owner, a, b] = [k.thread(1), k.thread(2), k.thread(2)];
    owner.mutex('abandon-me', true);
    const h = a.call('openMutex', { name: 'abandon-me', access: Access.MAXIMUM_ALLOWED }).handle;
    const wa = a.wait(h);
    const wb = b.wait(h);
    owner.end();
    assert.equal(wa.status, 'abandoned');
    assert.ok(wb.pending);
    assert.deepEqual(a.info(h).state, { owner: a.id, ownerPid: 2, recursion: 1, abandoned: false });
    assert.equal(a.wait(h, { timeoutMs: 0 }).status, 'signaled', 'the owner acquiring again: signaled');
    a.call('releaseMutex', { handle: h });
    a.call('releaseMutex', { handle: h });
    assert.equal(wb.status, 'signaled', 'reported once: the next owner sees signaled');
  });

  test('an abandoned mutex with no waiter is free and flagged, its recursion gone, until the next acquisition', () => {
    const k = new KernelHarness();
    const [owner, a] = [k.thread(1), k.thread(2)];
    const m = owner.mutex('flagged', true);
    assert.equal(owner.wait(m, { timeoutMs: 0 }).status, 'signaled', 'recursion 2');
    const h = a.call('openMutex', { name: 'flagged', access: Access.MAXIMUM_ALLOWED }).handle;
    owner.end();
    assert.deepEqual(a.info(h).state, { owner: null, ownerPid: null, recursion: 0, abandoned: true });
    assert.equal(a.info(h).signaled, true);
    assert.equal(a.wait(h, { timeoutMs: 0 }).status, 'abandoned');
    a.call('releaseMutex', { handle: h });
    assert.equal(a.wait(h, { timeoutMs: 0 }).status, 'signaled');
  });

  test('an abandoned mutex in a wait-any reports abandoned with its index', () => {
    const k = new KernelHarness();
    const [owner, a] = [k.thread(1), k.thread(2)];
    owner.mutex('any-abandoned', true);
    const e = a.event(false);
    const h = a.call('openMutex', { name: 'any-abandoned', access: Access.MAXIMUM_ALLOWED }).handle;
    const w = a.wait([e, h]);
    owner.end();
    assert.equal(w.status, 'abandoned');
    assert.equal(w.index, 1);
  });

  test('an abandoned mutex in a wait-all reports abandoned, and every object is acquired', () => {
    const k = new KernelHarness();
    const [owner, a] = [k.thread(1), k.thread(2)];
    owner.mutex('all-abandoned', true);
    const s = a.semaphore(2, 3);
    const h = a.call('openMutex', { name: 'all-abandoned', access: Access.MAXIMUM_ALLOWED }).handle;
    const w = a.wait([s, h], { all: true });
    owner.end();
    assert.equal(w.status, 'abandoned');
    assert.equal(a.info(s).state.count, 1);
    assert.deepEqual(a.info(h).state, { owner: a.id, ownerPid: 2, recursion: 1, abandoned: false });
  });

  test('a thread’s pending waits vanish with it: no reply, no waiter left, nothing consumed', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    const e = a.event(false);
    const w = b.wait(e, { timeoutMs: 100 });
    const w2 = b.wait([e], { all: true });
    b.end();
    assert.equal(a.info(e).waiters, 0);
    assert.equal(k.kernel.waits.pending, 0);
    assert.equal(k.kernel.nextDeadline(), undefined);
    a.call('setEvent', { handle: e });
    k.advance(1_000);
    assert.ok(w.pending && w2.pending);
    assert.equal(b.sink.completions.length, 0);
    assert.equal(a.info(e).signaled, true);
  });

  test('a thread’s end keeps its process’s handles open for the process’s other threads', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(7), k.thread(7)];
    const e = a.event(true, false, 'shared-handles');
    a.end();
    assert.equal(b.info(e).handles, 1);
    b.call('setEvent', { handle: e });
    assert.equal(b.wait(e, { timeoutMs: 0 }).status, 'signaled');
  });

  test('an ended thread can make no more requests', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(), k.thread()];
    a.end();
    assert.equal(a.fails('ping', {}), 'ERROR_INVALID_HANDLE');
    a.end(); // a second end is harmless
    assert.equal(k.kernel.threadCount, 1);
    assert.deepEqual(b.call('ping', {}), {}, 'the other thread is unaffected');
  });
});

describe('process end (kernel)', () => {
  test('the last thread’s end closes the process’s handles, destroys its objects and frees their names', () => {
    const k = new KernelHarness();
    const [a1, a2] = [k.thread(1), k.thread(1)];
    a1.mutex('p-mutex', true);
    a1.event(true, false, 'p-event');
    a2.semaphore(0, 1, 'p-sem');
    a2.timer(false);
    a1.end();
    assert.equal(k.kernel.objects.size, 4);
    a2.end();
    assert.equal(k.kernel.objects.size, 0);
    assert.equal(k.kernel.namespace.size, 0);
    assert.equal(k.kernel.handleCount, 0);
    assert.equal(k.kernel.processes.size, 0);
    const b = k.thread(2);
    assert.equal(b.fails('openEvent', { name: 'p-event', access: Access.MAXIMUM_ALLOWED }), 'ERROR_FILE_NOT_FOUND');
    assert.equal(b.call('createMutex', { name: 'p-mutex', initialOwner: false, access: Access.MAXIMUM_ALLOWED }).existed, false);
  });

  test('another process’s handle keeps the object and its name alive', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const e = a.event(true, false, 'kept');
    const hb = b.call('openEvent', { name: 'kept', access: Access.MAXIMUM_ALLOWED }).handle;
    a.call('setEvent', { handle: e });
    a.end();
    assert.equal(b.info(hb).handles, 1);
    assert.equal(b.info(hb).signaled, true, 'same object, state kept');
    assert.equal(b.call('createEvent', { name: 'kept', manualReset: false, initialState: false, access: Access.MAXIMUM_ALLOWED }).existed, true);
  });
});

describe('handles and names (kernel)', () => {
  test('a closed handle is invalid for every operation; a second close fails too', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(false);
    a.close(e);
    for (const [name, body] of [
      ['setEvent', { handle: e }],
      ['queryObject', { handle: e }],
      ['closeHandle', { handle: e }],
      ['wait', { handles: [e], all: false, timeoutMs: 0, detectDeadlock: false }],
    ] as const) {
      assert.equal(a.fails(name, body as never), 'ERROR_INVALID_HANDLE', name);
    }
  });

  test('a handle of one process means nothing in another', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const e = a.event(false);
    assert.equal(b.fails('setEvent', { handle: e }), 'ERROR_INVALID_HANDLE');
  });

  test('the low two bits of a handle are ignored, as on Windows', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const e = a.event(true, true);
    for (const tag of [1, 2, 3]) assert.equal(a.info(e | tag).signaled, true);
  });

  test('a name disappears with the last handle even while a pending wait keeps the object alive', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    const e = a.event(false, false, 'fleeting');
    const hb = b.call('openEvent', { name: 'fleeting', access: Access.MAXIMUM_ALLOWED }).handle;
    const w = b.wait(hb);
    b.close(hb);
    a.close(e);
    assert.equal(k.kernel.objects.size, 1, 'the waited-on object lives');
    assert.equal(a.fails('openEvent', { name: 'fleeting', access: Access.MAXIMUM_ALLOWED }), 'ERROR_FILE_NOT_FOUND');
    const fresh = a.call('createEvent', { name: 'fleeting', manualReset: true, initialState: false, access: Access.MAXIMUM_ALLOWED });
    assert.equal(fresh.existed, false);
    a.call('setEvent', { handle: fresh.handle });
    assert.ok(w.pending, 'the new object is another object');
    b.end();
    assert.equal(k.kernel.objects.size, 1, 'the old object went with its last waiter');
    assert.equal(a.info(fresh.handle).name, 'fleeting');
  });

  test('an unnamed object whose handles are all closed lives on for its waiter, unseen', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const s = a.semaphore(0, 1);
    const w = a.wait(s, { timeoutMs: 50 });
    a.close(s);
    assert.equal(k.kernel.objects.size, 1);
    k.advance(50);
    assert.equal(w.status, 'timeout', 'closing the handle neither woke nor failed the wait');
    assert.equal(k.kernel.objects.size, 0);
  });

  test('a name held by another type fails ERROR_INVALID_HANDLE for create and open, for every pair of types', () => {
    const k = new KernelHarness();
    const a = k.thread();
    const access = Access.MAXIMUM_ALLOWED;
    a.mutex('n-mutex');
    a.semaphore(0, 1, 'n-sem');
    a.event(false, false, 'n-event');
    a.timer(false, 'n-timer');
    const creates = {
      mutex: (name: string) => a.fails('createMutex', { name, initialOwner: false, access }),
      sem: (name: string) => a.fails('createSemaphore', { name, initialCount: 0, maximumCount: 1, access }),
      event: (name: string) => a.fails('createEvent', { name, manualReset: false, initialState: false, access }),
      timer: (name: string) => a.fails('createTimer', { name, manualReset: false, access }),
    };
    const opens = {
      mutex: (name: string) => a.fails('openMutex', { name, access }),
      sem: (name: string) => a.fails('openSemaphore', { name, access }),
      event: (name: string) => a.fails('openEvent', { name, access }),
      timer: (name: string) => a.fails('openTimer', { name, access }),
    };
    for (const held of ['mutex', 'sem', 'event', 'timer'] as const) {
      for (const other of ['mutex', 'sem', 'event', 'timer'] as const) {
        if (held === other) continue;
        assert.equal(creates[other](`n-${held}`), 'ERROR_INVALID_HANDLE', `create ${other} over ${held}`);
        assert.equal(opens[other](`n-${held}`), 'ERROR_INVALID_HANDLE', `open ${other} over ${held}`);
      }
    }
  });
});

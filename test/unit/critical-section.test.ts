/**
 * CriticalSection within one thread: ownership and recursion, leave by a non-owner, the
 * shared state and its validation, the spin count. Behaviour between threads is in
 * test/multiprocess/critical-section-workers.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { CriticalSection } from '../../src/client/index.ts';

const notOwner = { name: 'IpcError', code: 'ERROR_NOT_OWNER', errno: 288, syscall: 'LeaveCriticalSection' };
const invalid = { name: 'IpcError', code: 'ERROR_INVALID_PARAMETER', errno: 87 };

/** Owner (a threadId or null) and recursion count in one line. */
const state = (cs: CriticalSection) => ({ owner: cs.owner, recursion: cs.recursionCount });
const free = { owner: null, recursion: 0 };

test('a new critical section is free and nobody waits on it', () => {
  const cs = CriticalSection.create();
  assert.deepEqual(state(cs), free);
  assert.equal(cs.waiterCount, 0);
  assert.equal(cs.spinCount, 0);
});

test('enter makes the calling thread the owner; leave frees it', () => {
  const cs = CriticalSection.create();
  cs.enter();
  assert.deepEqual(state(cs), { owner: threadId, recursion: 1 });
  cs.leave();
  assert.deepEqual(state(cs), free);
});

test('the owner enters again by recursion and must leave as many times', async () => {
  const cs = CriticalSection.create();
  cs.enter();
  cs.enter();
  assert.equal(cs.tryEnter(), true);
  await cs.enterAsync();
  assert.deepEqual(state(cs), { owner: threadId, recursion: 4 });
  for (const left of [3, 2, 1]) {
    cs.leave();
    assert.deepEqual(state(cs), { owner: threadId, recursion: left });
  }
  cs.leave();
  assert.deepEqual(state(cs), free);
});

test('tryEnter and enterAsync on a free critical section acquire it at once', async () => {
  const cs = CriticalSection.create();
  assert.equal(cs.tryEnter(), true);
  assert.deepEqual(state(cs), { owner: threadId, recursion: 1 });
  cs.leave();
  await cs.enterAsync();
  assert.deepEqual(state(cs), { owner: threadId, recursion: 1 });
  cs.leave();
  assert.deepEqual(state(cs), free);
});

test('leave of a free critical section fails ERROR_NOT_OWNER and changes nothing', () => {
  const cs = CriticalSection.create();
  assert.throws(() => cs.leave(), notOwner);
  assert.deepEqual(state(cs), free);
  // Entering still works afterwards: the failed leave did not disturb the state.
  assert.equal(cs.tryEnter(), true);
  cs.leave();
});

test('one leave more than the enters fails ERROR_NOT_OWNER', () => {
  const cs = CriticalSection.create();
  cs.enter();
  cs.enter();
  cs.leave();
  cs.leave();
  assert.throws(() => cs.leave(), notOwner);
  assert.deepEqual(state(cs), free);
});

test('from(sharedState) is the same critical section', () => {
  const a = CriticalSection.create({ spinCount: 7 });
  const b = CriticalSection.from(a.sharedState);
  assert.ok(a.sharedState instanceof SharedArrayBuffer);
  a.enter();
  assert.deepEqual(state(b), { owner: threadId, recursion: 1 });
  // Same thread, so b's enter is one recursion more of the same ownership.
  b.enter();
  assert.equal(a.recursionCount, 2);
  b.leave();
  a.leave();
  assert.deepEqual(state(b), free);
  assert.equal(b.spinCount, 7);
});

test('the shared state survives structured cloning, as postMessage and workerData do it', () => {
  const a = CriticalSection.create();
  const b = CriticalSection.from(structuredClone(a.sharedState));
  a.enter();
  assert.equal(b.owner, threadId);
  a.leave();
  assert.equal(b.owner, null);
});

test('the state can live in four words of a SharedArrayBuffer of ones own', () => {
  const sab = new SharedArrayBuffer(64);
  const words = new Int32Array(sab, 16, 4);
  const cs = CriticalSection.from(words);
  cs.enter();
  assert.equal(cs.sharedState, words);
  const again = CriticalSection.from(structuredClone(cs.sharedState));
  assert.equal(again.owner, threadId);
  cs.leave();
  assert.equal(again.owner, null);
  // The words around it are untouched.
  assert.deepEqual([...new Int32Array(sab, 0, 4), ...new Int32Array(sab, 32, 8)], new Array(12).fill(0));
});

test('from() refuses anything but the state of a critical section', () => {
  const bad: unknown[] = [
    undefined,
    null,
    {},
    new ArrayBuffer(16), // not shared: other threads would get a copy
    new SharedArrayBuffer(8),
    new SharedArrayBuffer(32),
    new Int32Array(4), // over a plain ArrayBuffer
    new Int32Array(new SharedArrayBuffer(32), 0, 3),
    new Uint32Array(new SharedArrayBuffer(16)),
  ];
  for (const x of bad) {
    assert.throws(() => CriticalSection.from(x as SharedArrayBuffer), invalid, String(x));
  }
});

test('the spin count is validated and shared; setSpinCount returns the previous one', () => {
  for (const spinCount of [-1, 1.5, NaN, Infinity, 0x100_0000]) {
    assert.throws(() => CriticalSection.create({ spinCount }), invalid, String(spinCount));
  }
  const cs = CriticalSection.create({ spinCount: 0xff_ffff });
  const other = CriticalSection.from(cs.sharedState);
  assert.equal(cs.setSpinCount(4000), 0xff_ffff);
  assert.equal(other.spinCount, 4000);
  assert.throws(() => cs.setSpinCount(-5), invalid);
  assert.equal(other.spinCount, 4000);
});

test('enterAsync with a signal already aborted rejects at once with its reason, acquiring nothing', async () => {
  const cs = CriticalSection.create();
  const reason = new Error('stop');
  await assert.rejects(cs.enterAsync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  assert.deepEqual(state(cs), free);
  // The owner too: the signal is checked before the recursion is counted.
  cs.enter();
  await assert.rejects(cs.enterAsync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  assert.deepEqual(state(cs), { owner: threadId, recursion: 1 });
  cs.leave();
});

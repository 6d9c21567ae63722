/**
 * CriticalSection between worker threads of one process: ownership per thread, blocking and
 * async entry, cancellation, a thread that ends holding it, and a counter kept exact under
 * contention from many threads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { CriticalSection } from '../../src/client/index.ts';
import { spawnCsThread, until, type CsThread } from '../helpers/critical-section-threads.ts';
import { track } from '../helpers/pending.ts';
import { fixture } from '../fixtures/scripts.ts';

const run = promisify(execFile);

/** `n` threads attached to `cs`, terminated when the test ends. */
async function threads(t: TestContext, cs: CriticalSection, n: number): Promise<CsThread[]> {
  const ts = await Promise.all(Array.from({ length: n }, () => spawnCsThread(cs.sharedState)));
  t.after(() => Promise.all(ts.map((w) => w.worker.terminate())));
  return ts;
}

interface State {
  owner: number | null;
  recursion: number;
  waiters: number;
}
const stateOf = (cs: CriticalSection): State => ({ owner: cs.owner, recursion: cs.recursionCount, waiters: cs.waiterCount });

test('a worker can neither enter nor leave a critical section the main thread holds', async (t) => {
  const cs = CriticalSection.create();
  const [w] = (await threads(t, cs, 1)) as [CsThread];
  cs.enter();
  assert.equal(await w.call('tryEnter'), false);
  await assert.rejects(w.call('leave'), { code: 'ERROR_NOT_OWNER' });
  // The worker sees the main thread as the owner, with its recursion untouched.
  assert.deepEqual(await w.call('state'), { owner: threadId, recursion: 1, waiters: 0 });
  cs.leave();

  // And the other way round.
  assert.equal(await w.call('tryEnter'), true);
  assert.equal(cs.tryEnter(), false);
  assert.throws(() => cs.leave(), { code: 'ERROR_NOT_OWNER' });
  assert.deepEqual(stateOf(cs), { owner: w.threadId, recursion: 1, waiters: 0 });
  await w.call('leave');
  assert.deepEqual(stateOf(cs), { owner: null, recursion: 0, waiters: 0 });
});

test('each worker is its own owner: recursion counts only for the thread that holds it', async (t) => {
  const cs = CriticalSection.create();
  const [a, b] = (await threads(t, cs, 2)) as [CsThread, CsThread];
  await a.call('enter');
  await a.call('enter');
  assert.equal(await b.call('tryEnter'), false);
  assert.deepEqual(await b.call('state'), { owner: a.threadId, recursion: 2, waiters: 0 });
  await a.call('leave');
  assert.equal(await b.call('tryEnter'), false);
  await a.call('leave');
  assert.equal(await b.call('tryEnter'), true);
  assert.equal(cs.owner, b.threadId);
  await b.call('leave');
});

test('a worker blocked in enter() gets the critical section when the owner leaves', { timeout: 60_000 }, async (t) => {
  const cs = CriticalSection.create();
  const [w] = (await threads(t, cs, 1)) as [CsThread];
  cs.enter();
  const entering = track(w.call('enter'));
  await until(() => cs.waiterCount === 1);
  assert.equal(entering.settled, false);
  assert.equal(cs.owner, threadId);
  cs.leave();
  await entering.promise;
  assert.deepEqual(stateOf(cs), { owner: w.threadId, recursion: 1, waiters: 0 });
  await w.call('leave');
});

test('enterAsync on the main thread waits without blocking the event loop', { timeout: 60_000 }, async (t) => {
  const cs = CriticalSection.create();
  const [w] = (await threads(t, cs, 1)) as [CsThread];
  await w.call('enter');
  const entering = track(cs.enterAsync());
  // The event loop still runs: the worker answers while the main thread waits.
  assert.deepEqual(await w.call('state'), { owner: w.threadId, recursion: 1, waiters: 1 });
  assert.equal(entering.settled, false);
  await w.call('leave');
  await entering.promise;
  assert.deepEqual(stateOf(cs), { owner: threadId, recursion: 1, waiters: 0 });
  // A worker now waits for the main thread in turn, and gets it when it leaves.
  const workerEntering = track(w.call('enterAsync'));
  await until(() => cs.waiterCount === 1);
  cs.leave();
  await workerEntering.promise;
  assert.equal(cs.owner, w.threadId);
  await w.call('leave');
});

test('an enterAsync aborted while waiting acquires nothing and takes no wake-up from another waiter', { timeout: 60_000 }, async (t) => {
  const cs = CriticalSection.create();
  const [holder, other] = (await threads(t, cs, 2)) as [CsThread, CsThread];
  await holder.call('enter');
  const ac = new AbortController();
  const aborted = track(cs.enterAsync({ signal: ac.signal }));
  await until(() => cs.waiterCount === 1);
  // The worker queues behind the main thread's wait on the same word.
  const otherEntering = track(other.call('enter'));
  await until(() => cs.waiterCount === 2);
  const reason = new Error('given up');
  ac.abort(reason);
  await assert.rejects(aborted.promise, (e) => e === reason);
  assert.equal(cs.owner, holder.threadId);
  await until(() => cs.waiterCount === 1);
  // The holder's leave wakes one waiter: it must be the worker, not the abandoned wait.
  await holder.call('leave');
  await otherEntering.promise;
  assert.deepEqual(stateOf(cs), { owner: other.threadId, recursion: 1, waiters: 0 });
  await other.call('leave');
});

test('a worker that ends while holding the critical section leaves it held, as on Windows', async (t) => {
  const cs = CriticalSection.create();
  const [w] = (await threads(t, cs, 1)) as [CsThread];
  await w.call('enter');
  const gone = w.threadId;
  await w.worker.terminate();
  assert.equal(cs.tryEnter(), false);
  assert.deepEqual(stateOf(cs), { owner: gone, recursion: 1, waiters: 0 });
});

test('a process whose only work is a pending enterAsync stays alive until it enters', { timeout: 60_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture('critical-section-enter-async.ts')]);
  assert.equal(stdout.trim(), 'entered (owner 0)');
});

/**
 * Workers each add one `perWorker` times to a plain (non-atomic) counter word under the
 * critical section, in the ways given by `hows`, while the main thread adds `onMain` through
 * enterAsync; the total must be exact.
 */
async function contend(t: TestContext, opts: { spinCount: number; hows: string[]; perWorker: number; onMain: number }): Promise<void> {
  const cs = CriticalSection.create({ spinCount: opts.spinCount });
  const workers = await threads(t, cs, opts.hows.length);
  const counter = new SharedArrayBuffer(4);
  const c = new Int32Array(counter);
  const mainAdds = (async () => {
    for (let i = 0; i < opts.onMain; i++) {
      await cs.enterAsync();
      const v = c[0]!;
      // Let other tasks of this thread run while it is held; the workers must still wait.
      if (i % 64 === 0) await Promise.resolve();
      c[0] = v + 1;
      cs.leave();
    }
  })();
  const added = await Promise.all([...workers.map((w, i) => w.call<number>('count', counter, opts.perWorker, opts.hows[i])), mainAdds]);
  const expected = opts.hows.length * opts.perWorker + opts.onMain;
  assert.equal(added.slice(0, -1).reduce((a, b) => (a as number) + (b as number), 0), opts.hows.length * opts.perWorker);
  assert.equal(Atomics.load(c, 0), expected);
  assert.deepEqual(stateOf(cs), { owner: null, recursion: 0, waiters: 0 });
}

test('8 workers × 100,000 enter/leave and the main thread through enterAsync keep a plain counter exact', { timeout: 300_000 }, async (t) => {
  await contend(t, { spinCount: 0, hows: new Array(8).fill('enter'), perWorker: 100_000, onMain: 10_000 });
});

test('with a spin count, tryEnter loops and recursive entries mixed in, the counter stays exact', { timeout: 300_000 }, async (t) => {
  const hows = ['enter', 'tryEnter', 'recursive', 'enter', 'tryEnter', 'recursive'];
  await contend(t, { spinCount: 200, hows, perWorker: 20_000, onMain: 5_000 });
});

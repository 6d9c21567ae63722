import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Semaphore, waitAny } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

const INT_MAX = 0x7fff_ffff;
const count = async (s: Semaphore) => (await s.query()).state.count;

for (const backendName of backendNames) {
  describe(`Semaphore (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('creation needs 0 ≤ initial ≤ maximum and maximum ≥ 1, else ERROR_INVALID_PARAMETER', async () => {
      const invalid: [number, number][] = [[-1, 1], [1, -1], [-1, -1], [2, 1], [0, 0], [1, 0], [0, -1], [1.5, 2], [0, INT_MAX + 1]];
      for (const [initialCount, maximumCount] of invalid) {
        await assert.rejects(Semaphore.create(undefined, { connection: a, initialCount, maximumCount }), { code: 'ERROR_INVALID_PARAMETER', errno: 87 }, `(${initialCount}, ${maximumCount})`);
      }
      const valid: [number, number][] = [[1, 2], [0, 10], [INT_MAX - 1, INT_MAX], [INT_MAX, INT_MAX], [0, 1]];
      for (const [initialCount, maximumCount] of valid) {
        const s = await Semaphore.create(undefined, { connection: a, initialCount, maximumCount });
        assert.deepEqual((await s.query()).state, { count: initialCount, maximum: maximumCount });
        await s.close();
      }
    });

    test('invalid counts fail even when the name exists', async () => {
      const s = await Semaphore.create('sem-exists', { connection: a, initialCount: 0, maximumCount: 1 });
      await assert.rejects(Semaphore.create('sem-exists', { connection: a, initialCount: 2, maximumCount: 1 }), { code: 'ERROR_INVALID_PARAMETER' });
      await s.close();
    });

    test('release reports the previous count; past the maximum fails ERROR_TOO_MANY_POSTS and the count is unchanged', async () => {
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 2 });
      assert.equal(await s.wait(0), 'signaled');
      assert.equal(await count(s), 0);
      await assert.rejects(s.release(3), { code: 'ERROR_TOO_MANY_POSTS', errno: 298 });
      assert.equal(await count(s), 0);
      assert.equal(await s.release(1), 0);
      assert.equal(await s.release(1), 1);
      await assert.rejects(s.release(1), { code: 'ERROR_TOO_MANY_POSTS' });
      assert.deepEqual((await s.query()).state, { count: 2, maximum: 2 });
      await s.close();
    });

    test('a release of 0 or a negative count fails ERROR_INVALID_PARAMETER; a closed handle ERROR_INVALID_HANDLE', async () => {
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 1, maximumCount: 5 });
      for (const n of [0, -1, 1.5, -0x8000_0000]) await assert.rejects(s.release(n), { code: 'ERROR_INVALID_PARAMETER' }, String(n));
      assert.equal(await count(s), 1);
      await s.close();
      await assert.rejects(s.release(1), { code: 'ERROR_INVALID_HANDLE' });
    });

    test('each satisfied wait takes one unit, and an empty semaphore is not signaled', async () => {
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 3, maximumCount: 3 });
      for (const expected of [2, 1, 0]) {
        assert.equal(await s.wait(0), 'signaled');
        assert.equal(await count(s), expected);
      }
      assert.equal(await s.wait(0), 'timeout');
      assert.equal((await s.query()).signaled, false);
      await s.close();
    });

    test('a semaphore has no owner: any thread may release what another took', async () => {
      const s = await Semaphore.create('sem-no-owner', { connection: a, initialCount: 1, maximumCount: 1 });
      const theirs = await Semaphore.open('sem-no-owner', { connection: b });
      assert.equal(await s.wait(0), 'signaled');
      assert.equal(await theirs.release(), 0);
      assert.equal(await theirs.wait(0), 'signaled');
      await theirs.close();
      await s.close();
    });

    test('the same semaphore twice in a wait-any consumes one unit', async () => {
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 2, maximumCount: 3 });
      assert.deepEqual(await waitAny([s, s], 0), { status: 'signaled', index: 0 });
      assert.equal(await count(s), 1);
      await s.close();
    });

    test('waiting threads are served first come first served, one unit each', async () => {
      const threads = [a, b, await backend.thread(), await backend.thread()];
      const s = await Semaphore.create('sem-fifo', { connection: a, initialCount: 0, maximumCount: 10 });
      const views = await Promise.all(threads.map((t) => Semaphore.open('sem-fifo', { connection: t })));
      const waits = [];
      for (const [i, t] of threads.entries()) waits.push(await started(t, views[i]!.wait()));
      assert.equal(await s.release(2), 0);
      assert.deepEqual(await pendingOf(threads, waits), [false, false, true, true]);
      assert.equal(await count(s), 0);
      await s.release(1);
      assert.deepEqual(await pendingOf(threads, waits), [false, false, false, true]);
      await s.release(2);
      assert.deepEqual(await pendingOf(threads, waits), [false, false, false, false]);
      assert.equal(await count(s), 1, 'the unit nobody waited for stays');
      for (const w of waits) assert.equal(await w.promise, 'signaled');
      for (const v of views) await v.close();
      await s.close();
    });

    test('create of an existing name opens it and ignores the counts', async () => {
      const first = await Semaphore.create('sem-reopen', { connection: a, initialCount: 1, maximumCount: 4 });
      const second = await Semaphore.create('sem-reopen', { connection: b, initialCount: 0, maximumCount: 9 });
      assert.equal(second.existed, true);
      assert.deepEqual((await second.query()).state, { count: 1, maximum: 4 });
      const opened = await Semaphore.open('sem-reopen', { connection: b });
      assert.equal(opened.objectId, first.objectId);
      for (const s of [opened, second, first]) await s.close();
    });
  });
}

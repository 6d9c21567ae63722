import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, type Connection } from '../../src/client/index.ts';
import { withDaemon } from '../fixtures/world.ts';

/** One critical section: check nobody else is inside, read, yield, write back. */
function guarded(shared: { inside: number; counter: number; overlaps: number }) {
  return async () => {
    if (shared.inside++ !== 0) shared.overlaps++;
    const read = shared.counter;
    // Let every other connection's messages in before the write: a lost update shows.
    await new Promise((r) => setImmediate(r));
    shared.counter = read + 1;
    shared.inside--;
  };
}

test('eight connections × 400 loops on one mutex over the real object manager: mutual exclusion and an exact count', { timeout: 60_000 }, async (t) => {
  const world = await withDaemon(t);
  const threads: Connection[] = [world.local];
  for (let i = 1; i < 8; i++) threads.push(await world.thread());
  const m = await Mutex.create('stress-counter', { connection: world.local });
  const shared = { inside: 0, counter: 0, overlaps: 0 };
  const body = guarded(shared);
  const loops = 400;
  let abandoned = 0;
  await Promise.all(
    threads.map(async (c) => {
      const mine = m.on(c);
      for (let i = 0; i < loops; i++) {
        const status = await mine.wait();
        if (status !== 'signaled') abandoned++;
        await body();
        await mine.release();
      }
    }),
  );
  assert.equal(shared.overlaps, 0);
  assert.equal(abandoned, 0);
  assert.equal(shared.counter, threads.length * loops);
  assert.equal((await m.query()).state.owner, null);
  assert.equal((await m.query()).waiters, 0);
});

test('several async callers per connection through lock(), over four connections: one at a time, exact count', { timeout: 60_000 }, async (t) => {
  const world = await withDaemon(t);
  const threads: Connection[] = [world.local];
  for (let i = 1; i < 4; i++) threads.push(await world.thread());
  const m = await Mutex.create('stress-lock', { connection: world.local });
  const shared = { inside: 0, counter: 0, overlaps: 0 };
  const body = guarded(shared);
  const callersPerThread = 3;
  const loops = 150;
  await Promise.all(
    threads.flatMap((c) =>
      Array.from({ length: callersPerThread }, async () => {
        const mine = m.on(c);
        for (let i = 0; i < loops; i++) {
          await using lock = await mine.lock();
          assert.equal(lock.abandoned, false);
          await body();
        }
      }),
    ),
  );
  assert.equal(shared.overlaps, 0);
  assert.equal(shared.counter, threads.length * callersPerThread * loops);
  assert.equal((await m.query()).state.owner, null);
});

test('a mutex handed around with waits timing out under contention keeps its count exact', { timeout: 60_000 }, async (t) => {
  const world = await withDaemon(t);
  const threads: Connection[] = [world.local];
  for (let i = 1; i < 6; i++) threads.push(await world.thread());
  const m = await Mutex.create('stress-timeouts', { connection: world.local });
  const shared = { inside: 0, counter: 0, overlaps: 0 };
  const body = guarded(shared);
  let acquired = 0;
  let timedOut = 0;
  await Promise.all(
    threads.map(async (c, k) => {
      const mine = m.on(c);
      for (let i = 0; i < 300; i++) {
        // Short timeouts race the hand-over: a wait either times out and owns nothing, or owns it.
        const status = await mine.wait((i + k) % 3 === 0 ? 0 : (i % 5) / 2);
        if (status === 'timeout') {
          timedOut++;
          continue;
        }
        acquired++;
        await body();
        await mine.release();
      }
    }),
  );
  assert.equal(shared.overlaps, 0);
  assert.equal(shared.counter, acquired);
  assert.ok(acquired > 0);
  t.diagnostic(`acquired ${acquired}, timed out ${timedOut}`);
  assert.equal((await m.query()).state.owner, null);
  assert.equal((await world.status()).pendingWaits, 0);
});

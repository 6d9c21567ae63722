import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Mutex, Semaphore } from '../../src/client/index.ts';
import { runScript } from '../fixtures/scripts.ts';
import { withDaemon } from '../fixtures/world.ts';

test('four processes contending with wait-all over two mutexes and a semaphore never hold a partial set', { timeout: 120_000 }, async (t) => {
  const world = await withDaemon(t);
  const { local } = world;
  const m1 = await Mutex.create('wa-m1', { connection: local });
  const m2 = await Mutex.create('wa-m2', { connection: local });
  const s = await Semaphore.create('wa-s', { connection: local, initialCount: 1, maximumCount: 1 });
  const dir = world.daemon.dir;
  for (const key of ['m1', 'm2', 's']) fs.writeFileSync(path.join(dir, `${key}.count`), '0');

  const iterations = 300;
  const results = await Promise.all(
    [0, 1, 2, 3].map(async (i) => {
      const { stdout } = await runScript('wait-all-worker.ts', [String(i), String(iterations), dir], {
        NTIPC_SOCKET: world.daemon.socketPath,
        NTIPC_NO_START: '1',
      });
      return JSON.parse(stdout) as { violations: string[]; violationCount: number; counts: Record<string, number> };
    }),
  );
  for (const r of results) assert.deepEqual(r.violations, []);
  for (const key of ['m1', 'm2', 's']) {
    const expected = results.reduce((sum, r) => sum + r.counts[key]!, 0);
    assert.equal(Number(fs.readFileSync(path.join(dir, `${key}.count`), 'utf8')), expected, `${key} count`);
    assert.ok(expected >= iterations, `${key} was contended (${expected} acquisitions)`);
  }
  // Everything was given back.
  assert.equal((await m1.query()).state.owner, null);
  assert.equal((await m2.query()).state.owner, null);
  assert.equal((await s.query()).state.count, 1);
  assert.equal((await m1.query()).state.abandoned, false);
});

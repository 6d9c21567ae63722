import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Mutex } from '../../src/client/index.ts';
import { runScript } from '../fixtures/scripts.ts';
import { withDaemon } from '../fixtures/world.ts';

test('four processes each adding 2,000 to a counter in a file under one named mutex leave exactly 8,000', { timeout: 120_000 }, async (t) => {
  const world = await withDaemon(t);
  const file = path.join(world.daemon.dir, 'counter');
  fs.writeFileSync(file, '0');
  const workers = 4;
  const iterations = 2_000;
  const results = await Promise.all(
    Array.from({ length: workers }, () =>
      runScript('counter-worker.ts', ['mp-file-counter', file, String(iterations)], { NTIPC_SOCKET: world.daemon.socketPath, NTIPC_NO_START: '1' }),
    ),
  );
  assert.equal(Number(fs.readFileSync(file, 'utf8')), workers * iterations);
  for (const r of results) assert.deepEqual(JSON.parse(r.stdout), { abandoned: 0 });
  // Every worker closed its handle: the name is gone with the last one.
  await assert.rejects(Mutex.open('mp-file-counter', { connection: world.local }), { code: 'ERROR_FILE_NOT_FOUND' });
});

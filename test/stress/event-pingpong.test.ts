import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Event } from '../../src/client/index.ts';
import { runScript } from '../fixtures/scripts.ts';
import { withDaemon } from '../fixtures/world.ts';

test('four pairs of processes ping-pong over auto-reset events: every round seen once, in order', { timeout: 60_000 }, async (t) => {
  const world = await withDaemon(t);
  const pairs = 4;
  const rounds = 300;
  const events: Event[] = [];
  for (let p = 0; p < pairs; p++) {
    for (const side of ['ping', 'pong']) events.push(await Event.create(`stress-pp${p}-${side}`, { connection: world.local }));
  }
  const env = { NTIPC_SOCKET: world.daemon.socketPath, NTIPC_NO_START: '1' };
  const runs = [];
  for (let p = 0; p < pairs; p++) {
    // Half the pairs set and wait in two calls, half in one signalAndWait.
    const mode = p % 2 === 0 ? [] : ['--signal-and-wait'];
    for (const role of ['ping', 'pong']) {
      runs.push(runScript('pingpong-worker.ts', [role, `stress-pp${p}`, String(rounds), world.daemon.dir, ...mode], env));
    }
  }
  const results = (await Promise.all(runs)).map((r) => JSON.parse(r.stdout) as { errors: string[]; errorCount: number });
  for (const r of results) assert.deepEqual(r, { errors: [], errorCount: 0 });
  // No set was left over: every auto-reset event was consumed exactly as often as it was set.
  for (const e of events) assert.equal(await e.wait(0), 'timeout', e.name);
  assert.equal((await world.status()).pendingWaits, 0);
});

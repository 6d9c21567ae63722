/**
 * The critical-section-counter example, run as its README says (`npx tsx
 * examples/critical-section-counter/main.ts ARGS`). It needs no object manager: it is run
 * with auto-start off and a socket path where none listens, so any attempt to reach one fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/daemon.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));

test('the critical-section-counter example: worker threads and the main thread add under one critical section and the total is exact', async (t) => {
  const dir = tempDir();
  const proc = spawn(process.execPath, [tsxCli, path.join('examples', 'critical-section-counter', 'main.ts'), '3', '20000'], {
    cwd: root,
    env: { ...process.env, NTIPC_SOCKET: path.join(dir, 'none.sock'), NTIPC_NO_START: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = await once(proc, 'close');
  assert.equal(code, 0, `exited with ${code}\n${out}\n${err}`);
  const workers = out.split('\n').filter((l) => /^worker \d \(thread \d+\) added 20000$/.test(l));
  assert.deepEqual(workers.map((l) => l.split(' ')[1]), ['0', '1', '2'], out);
  assert.match(out, /^main thread added 20000 through enterAsync$/m);
  assert.match(out, /^total: 80000 \(expected 80000: 3 workers and the main thread × 20000\)$/m);
  // Nothing was created beside it: no object manager, no socket.
  assert.deepEqual(fs.readdirSync(dir), []);
});

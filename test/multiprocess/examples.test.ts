import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/daemon.ts';
import { brokersGone, endBrokers } from '../fixtures/os-processes.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));

/**
 * Run an example as its README says (`npx tsx examples/NAME/main.ts ARGS`), on an object
 * manager of its own that it starts on demand and that lingers only briefly; afterwards
 * that object manager is gone and the directory removed.
 */
async function runExample(t: TestContext, name: string, args: string[] = []): Promise<string> {
  const dir = tempDir();
  const socket = path.join(dir, 'ntipc.sock');
  let child: ChildProcess | undefined;
  t.after(async () => {
    try {
      // SIGTERM, which the tsx launcher passes on to the example it runs.
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await endBrokers(socket);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const env: NodeJS.ProcessEnv = { ...process.env, NTIPC_SOCKET: socket, NTIPC_LINGER_MS: '100' };
  delete env.NTIPC_NO_START;
  delete env.NTIPC_NAMESPACE;
  const proc = spawn(process.execPath, [tsxCli, path.join('examples', name, 'main.ts'), ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = await once(proc, 'close'); // after its output is all read
  assert.equal(code, 0, `${name} exited with ${code}\n${out}\n${err}`);
  // The object manager it started leaves by itself once every process is done with it.
  await brokersGone(socket);
  assert.equal(fs.existsSync(socket), false);
  return out;
}

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

test('the mutex-counter example: workers add under a named mutex and the total is exact', async (t) => {
  const out = await runExample(t, 'mutex-counter', ['3', '150']);
  assert.equal(lines(out, /^worker \d \(pid \d+\) added 150$/).length, 3, out);
  assert.match(out, /^total: 450 \(expected 450: 3 workers × 150\)$/m);
});

test('the semaphore-pool example: never more resources in use than the pool holds', async (t) => {
  const out = await runExample(t, 'semaphore-pool', ['2', '5', '3']);
  const uses = lines(out, /^worker \d uses resource \d \(\d in use\)$/);
  assert.equal(uses.length, 15, out);
  for (const l of uses) {
    const [, slot, inUse] = /resource (\d) \((\d) in use\)/.exec(l)!;
    assert.ok(Number(slot) < 2 && Number(inUse) <= 2, l);
  }
  assert.match(out, /^uses: 15 \(expected 15\); peak in use: [12] of 2$/m);
  assert.match(out, /^semaphore count back to 2 of 2$/m);
  assert.match(out, /^never more than 2 in use at once$/m);
});

test('the event-gate example: one set() of a manual-reset event releases every waiting process', async (t) => {
  const out = await runExample(t, 'event-gate', ['4']);
  assert.match(out, /^4 workers waiting at the gate; opening it$/m);
  const through = lines(out, /^worker \d \(pid \d+\) went through the gate \(signaled\)$/);
  assert.equal(through.length, 4, out);
  assert.deepEqual(through.map((l) => l.split(' ')[1]).sort(), ['0', '1', '2', '3']);
  // Nobody went through before the gate opened.
  assert.ok(out.indexOf('opening it') < out.indexOf('went through'), out);
  assert.match(out, /^all 4 workers released by one set\(\); the gate is still open$/m);
});

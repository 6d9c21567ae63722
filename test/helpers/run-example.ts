/**
 * Run an example as its README says (`npx tsx examples/NAME/main.ts ARGS`), on an object
 * manager of its own that it starts on demand and that lingers only briefly. Resolves with
 * its stdout once it has exited 0 and that object manager is gone; the test's `after`
 * stops whatever is left and removes the directory.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './daemon.ts';
import { brokersGone, endBrokers } from '../fixtures/os-processes.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));

export async function runExample(t: TestContext, name: string, args: string[] = [], dir = tempDir()): Promise<string> {
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

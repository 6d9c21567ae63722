import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/daemon.ts';

// After `npm run build` (npm test builds first), `import ... from 'ntipc'` works inside the
// repository (package self-reference) and from a project that has it in node_modules.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const program = (socket: string) => `
  import { Mutex, waitAll, Event, stopBroker } from 'ntipc';
  const m = await Mutex.create('pkg');
  const e = await Event.create(undefined, { manualReset: true, initialState: true });
  console.log(await waitAll([m, e], 0));
  await m.release();
  await stopBroker(${JSON.stringify(socket)});
`;

test('a file inside the repository imports the package by its own name', async () => {
  const socket = path.join(dir, 'self.sock');
  const file = path.join(root, 'test', 'fixtures', `.self-reference-${process.pid}.mjs`);
  fs.writeFileSync(file, program(socket));
  try {
    const { stdout } = await run(process.execPath, [file], { env: { ...process.env, NTIPC_SOCKET: socket } });
    assert.equal(stdout.trim(), 'signaled');
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('a project that installs it imports it from node_modules', async () => {
  const project = path.join(dir, 'project');
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  fs.symlinkSync(root, path.join(project, 'node_modules', 'ntipc'), 'dir');
  const socket = path.join(dir, 'dep.sock');
  fs.writeFileSync(path.join(project, 'main.js'), program(socket));
  const { stdout } = await run(process.execPath, ['main.js'], { cwd: project, env: { ...process.env, NTIPC_SOCKET: socket } });
  assert.equal(stdout.trim(), 'signaled');
});

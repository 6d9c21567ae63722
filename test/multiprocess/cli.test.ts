import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/daemon.ts';

// The command as a user runs it: the built binary (npm test builds first).
const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = tempDir();
const socket = path.join(dir, 'cli.sock');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function ntipc(...args: string[]) {
  return run(process.execPath, [bin, '--socket', socket, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

test('serve prints where it listens and how to try it; status reports it; stop ends it', async () => {
  const serve = spawn(process.execPath, [bin, '--socket', socket, 'serve', '--trace'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve) =>
    serve.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('Stop with')) resolve();
    }),
  );
  assert.match(out, new RegExp(`listening on ${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(out, /Try it/);

  const status = await ntipc('status', '--json');
  assert.equal(status.code, 0);
  const s = JSON.parse(status.stdout) as { socketPath: string; objects: number };
  assert.equal(s.socketPath, socket);
  assert.equal(s.objects, 0);

  const exited = once(serve, 'close');
  assert.equal((await ntipc('stop')).code, 0);
  const [code] = await exited;
  assert.equal(code, 0);
  // --trace printed the status request and its reply through the schema.
  assert.match(out, /> #\d+ status/);
  assert.match(out, /< #\d+ status = status=/);
});

test('status with no object manager fails with one clear line and exit code 1', async () => {
  const r = await ntipc('status');
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /no object manager serves/);
});

test('an unknown command is a usage error, exit code 2', async () => {
  const r = await ntipc('frobnicate');
  assert.equal(r.code, 2);
});

test('serve --config with a file that is not valid configuration exits 1 with one clear line', async () => {
  const config = path.join(dir, 'bad.json');
  fs.writeFileSync(config, '{ "mailslotNetwork": ');
  const r = await ntipc('serve', '--config', config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ntipc: bad configuration: /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('serve --state-dir keeps a durable message queue there across a restart of the object manager', async () => {
  const stateDir = path.join(dir, 'state');
  const start = () => {
    const serve = spawn(process.execPath, [bin, '--socket', socket, 'serve', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise<typeof serve>((resolve) => serve.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('Stop with') && resolve(serve)));
  };
  const client = (code: string) =>
    run(process.execPath, ['--input-type=module', '-e', `import { MessageQueue } from ${JSON.stringify(path.resolve('dist/client/index.js'))};\n${code}`], {
      env: { ...process.env, NTIPC_SOCKET: socket, NTIPC_NO_START: '1' },
    });
  let serve = await start();
  await client(`const q = await MessageQueue.get('cli-durable', { create: true, durable: true }); await q.send(7, Buffer.from('kept')); await q.close();`);
  let exited = once(serve, 'close');
  assert.equal((await ntipc('stop')).code, 0);
  await exited;
  assert.ok(fs.readdirSync(stateDir).length > 0, 'the store is in the state directory');

  serve = await start();
  const { stdout } = await client(
    `const q = await MessageQueue.get('cli-durable', {}); const m = await q.receive({ noWait: true }); console.log(m.type, m.data.toString()); await q.remove(); await q.close();`,
  );
  assert.equal(stdout.trim(), '7 kept');
  exited = once(serve, 'close');
  assert.equal((await ntipc('stop')).code, 0);
  await exited;
});

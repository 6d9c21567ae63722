import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, Event, Mutex, Semaphore, type Connection, type InspectedObject, type InspectedProcess } from '../../src/client/index.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { cli, HOLD, startCli } from '../helpers/ntipc-cli.ts';

// ls, ps, pipes, why through the built binary, against objects made by the test and by other ntipc processes.
let daemon: Daemon;
let conn: Connection;
const ntipc = (...args: string[]) => cli(daemon.socketPath, args);
const json = async <T>(...args: string[]): Promise<T> => {
  const r = await ntipc(...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
};

before(async () => {
  daemon = await startDaemon();
  conn = await connect({ socketPath: daemon.socketPath, autoStart: false });
});
after(async () => {
  conn.close();
  await daemon.stop();
});

test('ls lists objects with their state, handles and waiters; --type and PATTERN narrow it; --json parses', async () => {
  const holder = startCli(daemon.socketPath, ['mutex', 'run', 'cli-ls-lock', '--', ...HOLD], { input: null });
  await holder.waitFor(/held/);
  const s = await Semaphore.create('cli-ls-slots', { connection: conn, initialCount: 1, maximumCount: 3 });
  const e = await Event.create('other-event', { connection: conn, manualReset: true });

  const table = await ntipc('ls', 'cli-ls-*');
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /^TYPE\s+NAME\s+STATE\s+HANDLES\s+WAITERS$/);
  assert.match(table.stdout, new RegExp(`Mutex\\s+cli-ls-lock\\s+owned by pid ${holder.proc.pid} thread \\d+\\s+1\\s+0`));
  assert.match(table.stdout, /Semaphore\s+cli-ls-slots\s+count 1\/3\s+1\s+0/);
  assert.doesNotMatch(table.stdout, /other-event/);

  const mutexes = await json<InspectedObject[]>('ls', '--type', 'mutex', '--json');
  assert.deepEqual(mutexes.map((o) => o.name), ['cli-ls-lock']);
  assert.equal(mutexes[0]!.owner?.pid, holder.proc.pid);

  const bad = await ntipc('ls', '--type', 'spoon');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^ntipc: unknown type "spoon"; types: Mutex, Semaphore/);
  assert.equal((await ntipc('ls', 'nothing-matches-*')).stdout, 'no objects\n');

  holder.proc.stdin!.end();
  await holder.done;
  await s.close();
  await e.close();
});

test('ps lists processes with their threads and handles; --pid narrows; an unknown pid is one line, exit 1', async () => {
  const m = await Mutex.create('cli-ps-mutex', { connection: conn, initialOwner: true });
  const text = await ntipc('ps', '--pid', String(process.pid));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^pid ${process.pid}: 1 thread, \\d+ handles?`));
  assert.match(text.stdout, /thread \d+ \(node:\d+\), owns Mutex "cli-ps-mutex"/);
  assert.match(text.stdout, /handle 0x[0-9a-f]+\s+Mutex\s+cli-ps-mutex/);

  const all = await json<InspectedProcess[]>('ps', '--json');
  const me = all.find((p) => p.pid === process.pid)!;
  assert.ok(me.handles.some((h) => h.name === 'cli-ps-mutex' && h.type === 'Mutex'));

  const none = await ntipc('ps', '--pid', '999999999');
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'ntipc: no process 999999999 is connected to the object manager\n');
  await m.release();
  await m.close();
});

test('pipes lists each named pipe with its instances', async () => {
  const server = startCli(daemon.socketPath, ['pipe', 'serve', '--message', '--no-stdin', 'cli-listed'], { input: null });
  await server.waitFor(/waiting for a client/, 'stderr');
  const pipes = await json<{ name: string; instances: number; listening: number; type: string; ends: { serverPid: number }[] }[]>('pipes', '--json');
  const p = pipes.find((x) => x.name === '\\\\.\\pipe\\cli-listed')!;
  assert.equal(p.instances, 1);
  assert.equal(p.listening, 1);
  assert.equal(p.type, 'message');
  assert.equal(p.ends[0]!.serverPid, server.proc.pid);
  const table = await ntipc('pipes', '*cli-listed');
  assert.match(table.stdout, /^PIPE\s+INSTANCES\s+MAX\s+LISTENING/);
  assert.match(table.stdout, /\\\\\.\\pipe\\cli-listed\s+1\s+1\s+1\s+message\s+duplex\s+listening \(server pid \d+\)/);
  server.proc.kill();
  await server.done;
});

test('why follows the chain from a waiting process to the holder, and reports a deadlock cycle across processes', async () => {
  // This process's thread owns A; a child process owns B and waits on A; then this thread waits on B: a cycle.
  await Mutex.create('cli-why-a', { connection: conn, initialOwner: true });
  const client = fileURLToPath(new URL('../../dist/client/index.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Mutex } from ${JSON.stringify(client)};
       const b = await Mutex.create('cli-why-b', { initialOwner: true });
       const a = await Mutex.open('cli-why-a');
       const waiting = a.wait();
       console.log('waiting');
       await waiting;`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NTIPC_SOCKET: daemon.socketPath, NTIPC_NO_START: '1' } },
  );
  await once(child.stdout.setEncoding('utf8'), 'data');

  const chain = await ntipc('why', String(child.pid));
  assert.equal(chain.code, 0, chain.stderr);
  assert.match(chain.stdout, new RegExp(`pid ${child.pid} thread \\d+ \\(node:0\\) waits on Mutex "cli-why-a" for [\\d.]+ s`));
  assert.match(chain.stdout, new RegExp(`Mutex "cli-why-a" is owned by pid ${process.pid} thread \\d+, which waits on nothing`));
  assert.doesNotMatch(chain.stdout, /DEADLOCK/);

  const b = await Mutex.open('cli-why-b', { connection: conn });
  const cycle = b.wait().catch(() => 'closed' as const);
  const r = await ntipc('why', String(child.pid));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Mutex "cli-why-a" is owned by pid ${process.pid} thread \\d+ \\(node:\\d+\\), which waits on Mutex "cli-why-b"`));
  assert.match(r.stdout, /already on this chain: DEADLOCK/);
  assert.match(r.stdout, new RegExp(`^DEADLOCK: pid \\d+ thread \\d+ → Mutex "cli-why-[ab]" → pid \\d+ thread \\d+ → Mutex "cli-why-[ab]" → pid \\d+ thread \\d+$`, 'm'));
  const report = await json<{ pid: number; cycles: { threads: { pid: number }[] }[] }>('why', String(child.pid), '--json');
  assert.equal(report.cycles.length, 1);
  assert.deepEqual(report.cycles[0]!.threads.map((t) => t.pid).sort(), [child.pid, process.pid].sort());

  // Undo it: this thread's connection goes, so A is abandoned to the child, which then exits (abandoning B to us).
  const exited = once(child, 'exit');
  conn.close();
  await exited;
  assert.equal(await cycle, 'closed');
  conn = await connect({ socketPath: daemon.socketPath, autoStart: false });

  const idle = await ntipc('why', String(process.pid));
  assert.match(idle.stdout, new RegExp(`^pid ${process.pid} waits on nothing`));
  const none = await ntipc('why', '999999999');
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'ntipc: no process 999999999 is connected to the object manager\n');
});

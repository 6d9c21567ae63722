import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, Event, Mutex, Semaphore, type Connection } from '../../src/client/index.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { cli, HOLD, startCli } from '../helpers/ntipc-cli.ts';

// wait, event, mutex run, sem run through the built binary, on a private object manager.
let daemon: Daemon;
let conn: Connection;
const ntipc = (...args: string[]) => cli(daemon.socketPath, args);
const oneLine = (stderr: string) => assert.equal(stderr.trim().split('\n').length, 1, stderr);

before(async () => {
  daemon = await startDaemon();
  conn = await connect({ socketPath: daemon.socketPath, autoStart: false });
});
after(async () => {
  conn.close();
  await daemon.stop();
});

test('mutex run: runs the command holding the mutex and exits with its code', async () => {
  const r = await ntipc('mutex', 'run', 'cli-exit', '--', 'sh', '-c', 'echo inside; exit 7');
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'inside\n');
});

test('mutex run: another taker times out with exit code 4; a SIGKILLed holder abandons it, and the next taker exits 5 once', async () => {
  const holder = startCli(daemon.socketPath, ['mutex', 'run', 'cli-lock', '--', ...HOLD], { input: null });
  await holder.waitFor(/held/);

  const busy = await ntipc('mutex', 'run', '--timeout', '100', 'cli-lock', '--', 'echo', 'ran');
  assert.equal(busy.code, 4);
  assert.equal(busy.stdout, '');
  oneLine(busy.stderr);
  assert.match(busy.stderr, /^ntipc: timed out after 100 ms waiting for mutex cli-lock \(owned by pid \d+\)/);

  // Our own handle keeps the mutex alive after the holder's goes (the last handle would destroy it).
  const m = await Mutex.open('cli-lock', { connection: conn });
  holder.proc.kill('SIGKILL');
  await holder.done;
  holder.proc.stdin!.end(); // its command (our HOLD) ends with its stdin

  const next = await ntipc('mutex', 'run', 'cli-lock', '--', 'echo', 'ran');
  assert.equal(next.code, 5);
  assert.equal(next.stdout, '', 'the command does not run on an abandoned mutex');
  oneLine(next.stderr);
  assert.match(next.stderr, /mutex cli-lock was abandoned/);

  const after = await ntipc('mutex', 'run', 'cli-lock', '--', 'echo', 'ran');
  assert.equal(after.code, 0);
  assert.equal(after.stdout, 'ran\n');
  await m.close();
});

test('mutex run --run-if-abandoned runs the command and tells it so', async () => {
  const holder = startCli(daemon.socketPath, ['mutex', 'run', 'cli-lock2', '--', ...HOLD], { input: null });
  await holder.waitFor(/held/);
  const m = await Mutex.open('cli-lock2', { connection: conn });
  holder.proc.kill('SIGKILL');
  await holder.done;
  holder.proc.stdin!.end();
  const r = await ntipc('mutex', 'run', '--run-if-abandoned', 'cli-lock2', '--', 'sh', '-c', 'echo "abandoned=$NTIPC_ABANDONED"');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'abandoned=1\n');
  await m.close();
});

test('sem run --max 2: two commands at once, a third waits (times out), and gets in when one ends', async () => {
  const a = startCli(daemon.socketPath, ['sem', 'run', '--max', '2', 'cli-jobs', '--', ...HOLD], { input: null });
  const b = startCli(daemon.socketPath, ['sem', 'run', '--max', '2', 'cli-jobs', '--', ...HOLD], { input: null });
  await Promise.all([a.waitFor(/held/), b.waitFor(/held/)]);
  const third = await ntipc('sem', 'run', '--max', '2', '--timeout', '100', 'cli-jobs', '--', 'echo', 'ran');
  assert.equal(third.code, 4);
  oneLine(third.stderr);
  assert.match(third.stderr, /timed out after 100 ms waiting for semaphore cli-jobs/);

  const waiting = startCli(daemon.socketPath, ['sem', 'run', 'cli-jobs', '--', 'echo', 'ran'], { input: null });
  a.proc.stdin!.end();
  assert.equal((await a.done).code, 0);
  const w = await waiting.done;
  assert.equal(w.code, 0);
  assert.equal(w.stdout, 'ran\n');
  b.proc.stdin!.end();
  assert.equal((await b.done).code, 0);
  // Every unit came back: the semaphore is full again (or gone with its last handle).
  const s = await Semaphore.create('cli-jobs', { connection: conn, initialCount: 2, maximumCount: 2 });
  assert.equal((await s.query()).state.count, 2);
  await s.close();
});

test('mutex run / sem run with a command that cannot start: 127 and one line', async () => {
  const r = await ntipc('mutex', 'run', 'cli-x', '--', 'no-such-command-ntipc');
  assert.equal(r.code, 127);
  oneLine(r.stderr);
  assert.match(r.stderr, /cannot run no-such-command-ntipc: ENOENT/);
  const noCommand = await ntipc('sem', 'run', 'cli-x');
  assert.equal(noCommand.code, 2);
});

test('wait event:NAME returns when another ntipc sets it; prints which object it was', async () => {
  const e = await Event.create('cli-go', { connection: conn, manualReset: true });
  const waiting = startCli(daemon.socketPath, ['wait', 'event:cli-go', '--timeout', '20000'], { input: null }).done;
  assert.equal((await ntipc('event', 'set', 'cli-go')).code, 0);
  const r = await waiting;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'event:cli-go\n');
  assert.equal((await e.wait(0)), 'signaled');
  assert.equal((await ntipc('event', 'reset', 'cli-go')).code, 0);
  assert.equal(await e.wait(0), 'timeout');
  assert.equal((await ntipc('event', 'pulse', 'cli-go')).code, 0);
  await e.close();
});

test('wait --timeout: exit code 4 and one line; --all takes every object at once and gives mutexes back', async () => {
  const t = await ntipc('wait', '--timeout', '50', 'event:cli-quiet');
  assert.equal(t.code, 4);
  oneLine(t.stderr);
  assert.match(t.stderr, /timed out after 50 ms/);

  const m = await Mutex.create('cli-all-m', { connection: conn });
  const s = await Semaphore.create('cli-all-s', { connection: conn, initialCount: 1, maximumCount: 1 });
  const r = await ntipc('wait', '--all', '--timeout', '1000', 'mutex:cli-all-m', 'cli-all-s');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await m.query()).state.owner, null, 'the mutex was released, not abandoned');
  assert.equal((await s.query()).state.count, 0, 'the semaphore unit was taken, as a wait takes it');
  await m.close();
  await s.close();
});

test('event and wait fail with one line on unknown objects, wrong types and bad names', async () => {
  const m = await Mutex.create('cli-a-mutex', { connection: conn });
  const cases: [string[], RegExp, number][] = [
    [['event', 'set', 'cli-nothing'], /^ntipc: no event named cli-nothing$/, 1],
    [['wait', 'cli-nothing'], /^ntipc: no object named cli-nothing$/, 1],
    [['wait', 'sem:cli-a-mutex'], /^ntipc: cli-a-mutex is not a semaphore/, 1],
    [['event', 'set', 'cli-a-mutex'], /^ntipc: cli-a-mutex is not an event/, 1],
    [['event', 'set', 'bad\\name'], /^ntipc: bad event name "bad\\\\name"/, 1],
    [['wait', 'event:'], /no name after the type/, 2],
    [['wait', 'process:abc'], /a process is named by its pid/, 2],
    [['wait', '--timeout', 'soon', 'x'], /--timeout takes an integer/, 2],
  ];
  for (const [args, pattern, code] of cases) {
    const r = await ntipc(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    oneLine(r.stderr);
    assert.match(r.stderr.trim(), pattern);
  }
  await m.close();
});

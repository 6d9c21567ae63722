import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import { cli } from '../helpers/ntipc-cli.ts';

// Help, usage errors, --no-start, examples and bench through the built binary. No object manager
// runs on this socket, and none may be started.
const dir = tempDir();
const socket = path.join(dir, 'none.sock');
const ntipc = (...args: string[]) => cli(socket, args);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const COMMANDS = [
  'serve', 'status', 'stop', 'ls', 'ps', 'pipes', 'why', 'wait', 'event set', 'event reset', 'event pulse', 'mutex run', 'sem run',
  'pipe serve', 'pipe cat', 'pipe send', 'mailslot listen', 'mailslot send', 'mq send', 'mq recv', 'mq rm', 'bench', 'examples',
];

test('every command has help with an example', async () => {
  const results = await Promise.all(COMMANDS.map((c) => ntipc(...c.split(' '), '--help')));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, COMMANDS[i]);
    assert.match(r.stdout, /\nExamples?:\n {2}\$ ntipc /, `${COMMANDS[i]} has an example`);
  });
  const top = await ntipc('--help');
  for (const c of new Set(COMMANDS.map((x) => x.split(' ')[0]!))) assert.match(top.stdout, new RegExp(`\\n  ${c}\\b`));
  assert.match(top.stdout, /Exit codes: 0 ok, 1 failure, 2 usage, 3 already serving \(serve\), 4 timeout, 5 abandoned mutex/);
});

test('--no-start (and NTIPC_NO_START=1): one line, exit 1, and no object manager is started', async () => {
  for (const args of [['--no-start', 'ls'], ['--no-start', 'mutex', 'run', 'x', '--', 'true'], ['--no-start', 'mq', 'send', 'k', '1', 'x']]) {
    const r = await ntipc(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, `ntipc: no object manager serves ${socket} (--no-start: none was started)\n`);
    assert.equal(r.stdout, '');
  }
  const env = await cli(socket, ['event', 'set', 'x'], { env: { NTIPC_NO_START: '1' } });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /^ntipc: no object manager serves .*\n$/);
  assert.equal(fs.existsSync(socket), false);
});

test('usage errors exit 2: unknown command or option, missing or malformed argument', async () => {
  for (const args of [['frobnicate'], ['ls', '--frob'], ['wait'], ['mutex', 'run', 'x'], ['why', 'abc'], ['mq', 'send', 'k', 'one', 'x'], ['sem', 'run', '--max', '0', 's', '--', 'true']]) {
    const r = await ntipc('--no-start', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^ntipc: [^\n]+\n$/, `one line: ${r.stderr}`);
  }
});

test('examples lists the examples from their READMEs and runs one with progress on stderr', async () => {
  const list = await ntipc('examples', '--json');
  assert.equal(list.code, 0, list.stderr);
  const examples = JSON.parse(list.stdout) as { name: string; title: string; command: string }[];
  assert.ok(examples.length >= 10);
  assert.deepEqual(examples.find((e) => e.name === 'mutex-counter'), { name: 'mutex-counter', title: 'Mutex counter', command: 'npx tsx examples/mutex-counter/main.ts' });
  const table = await ntipc('examples');
  assert.match(table.stdout, /^EXAMPLE\s+WHAT\s+RUN\n/);
  assert.match(table.stdout, /semaphore-pool\s+Semaphore pool\s+npx tsx examples\/semaphore-pool\/main.ts/);

  const run = await ntipc('examples', 'critical-section-counter');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^ntipc: example critical-section-counter: started\n/);
  assert.match(run.stderr, /ntipc: example critical-section-counter: done after [\d.]+ s\n$/);
  assert.notEqual(run.stdout, '');

  const none = await ntipc('examples', 'no-such-example');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^ntipc: no example named no-such-example; there are: .*mutex-counter/);
});

test('bench passes its usage error through (exit 2) with progress lines around it', async () => {
  const r = await ntipc('bench', 'no-such-benchmark');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ntipc: bench no-such-benchmark: started\n/);
  assert.match(r.stderr, /unknown benchmark no-such-benchmark/);
  assert.match(r.stderr, /ntipc: bench no-such-benchmark: failed, exit code 2 after/);
  const bad = await ntipc('bench', '--rounds', '0');
  assert.equal(bad.code, 2);
});

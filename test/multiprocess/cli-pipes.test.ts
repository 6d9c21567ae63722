import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { cli, startCli } from '../helpers/ntipc-cli.ts';

// pipe serve|cat|send, mailslot listen|send, mq send|recv|rm through the built binary.
let daemon: Daemon;
const ntipc = (...args: string[]) => cli(daemon.socketPath, args);
const oneLine = (stderr: string) => assert.equal(stderr.trim().split('\n').length, 1, stderr);

before(async () => {
  daemon = await startDaemon();
});
after(() => daemon.stop());

test('pipe serve sends its stdin to pipe cat, which prints it; both end when stdin ends', async () => {
  const server = startCli(daemon.socketPath, ['pipe', 'serve', 'cli-bytes'], { input: 'hello\nworld\n' });
  await server.waitFor(/waiting for a client/, 'stderr');
  const cat = await ntipc('pipe', 'cat', 'cli-bytes');
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'hello\nworld\n');
  assert.equal((await server.done).code, 0);
});

test('pipe send --message: each stdin line is one message, which pipe serve --message prints as a line', async () => {
  const server = startCli(daemon.socketPath, ['pipe', 'serve', '--message', '--no-stdin', 'cli-msgs'], { input: null });
  await server.waitFor(/waiting for a client/, 'stderr');
  const send = await cli(daemon.socketPath, ['pipe', 'send', '--message', 'cli-msgs'], { input: 'one\ntwo words\n' });
  assert.equal(send.code, 0, send.stderr);
  const r = await server.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo words\n');
});

test('pipe send DATA to a full name; pipe cat --message reads a message pipe message by message', async () => {
  const server = startCli(daemon.socketPath, ['pipe', 'serve', '--message', 'cli-full'], { input: 'a\nb\n' });
  await server.waitFor(/waiting for a client/, 'stderr');
  const cat = await ntipc('pipe', 'cat', '--message', '\\\\.\\pipe\\cli-full');
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'a\nb\n');
  assert.equal((await server.done).code, 0);

  const server2 = startCli(daemon.socketPath, ['pipe', 'serve', '--no-stdin', 'cli-data'], { input: null });
  await server2.waitFor(/waiting for a client/, 'stderr');
  assert.equal((await ntipc('pipe', 'send', '\\\\.\\pipe\\cli-data', 'exactly this')).code, 0);
  assert.equal((await server2.done).stdout, 'exactly this');
});

test('pipe commands fail with one line: no such pipe, bad name, --message on a byte pipe, a busy instance with --timeout', async () => {
  const none = await ntipc('pipe', 'send', 'cli-nobody', 'x');
  assert.equal(none.code, 1);
  oneLine(none.stderr);
  assert.match(none.stderr, /^ntipc: no pipe named \\\\\.\\pipe\\cli-nobody$/m);

  const bad = await ntipc('pipe', 'cat', '\\\\.\\nopipe\\x');
  assert.equal(bad.code, 1);
  oneLine(bad.stderr);
  assert.match(bad.stderr, /^ntipc: bad pipe name/);

  const server = startCli(daemon.socketPath, ['pipe', 'serve', '--no-stdin', 'cli-byte'], { input: null });
  await server.waitFor(/waiting for a client/, 'stderr');
  const first = startCli(daemon.socketPath, ['pipe', 'cat', 'cli-byte'], { input: null });
  await server.waitFor(/client pid \d+ connected/, 'stderr');
  const busy = await ntipc('pipe', 'cat', '--timeout', '100', 'cli-byte');
  assert.equal(busy.code, 4);
  oneLine(busy.stderr);
  assert.match(busy.stderr, /timed out after 100 ms: every instance of pipe \\\\\.\\pipe\\cli-byte is busy/);
  first.proc.kill();
  await first.done;
  await server.done;

  const server2 = startCli(daemon.socketPath, ['pipe', 'serve', '--no-stdin', 'cli-byte2'], { input: null });
  await server2.waitFor(/waiting for a client/, 'stderr');
  const msg = await ntipc('pipe', 'cat', '--message', 'cli-byte2');
  assert.equal(msg.code, 1);
  oneLine(msg.stderr);
  assert.match(msg.stderr, /is a byte pipe: --message needs a message pipe/);
  await server2.done;
});

test('mailslot listen prints each message (--json: one object per line); mailslot send to no reader fails', async () => {
  const listener = startCli(daemon.socketPath, ['mailslot', 'listen', '--json', '--count', '2', 'cli-box'], { input: null });
  await listener.waitFor(/listening on/, 'stderr');
  assert.equal((await ntipc('mailslot', 'send', 'cli-box', 'hello')).code, 0);
  assert.equal((await cli(daemon.socketPath, ['mailslot', 'send', '\\\\.\\mailslot\\cli-box'], { input: 'from stdin\n' })).code, 0);
  const r = await listener.done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown),
    [
      { bytes: 5, data: 'hello' },
      { bytes: 10, data: 'from stdin' },
    ],
  );

  const plain = startCli(daemon.socketPath, ['mailslot', 'listen', '--count', '1', 'cli-box'], { input: null });
  await plain.waitFor(/listening on/, 'stderr');
  const dup = await ntipc('mailslot', 'listen', 'cli-box');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^ntipc: mailslot \\\\\.\\mailslot\\cli-box has a reader already\n$/);
  await ntipc('mailslot', 'send', 'cli-box', 'line');
  assert.equal((await plain.done).stdout, 'line\n');

  const none = await ntipc('mailslot', 'send', 'cli-nobox', 'x');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^ntipc: no mailslot named \\\\\.\\mailslot\\cli-nobox\n$/);
});

test('mq send and recv: typed messages, --type selection, --json, --no-wait and --timeout exit 4, rm', async () => {
  assert.equal((await ntipc('mq', 'send', 'cli-q', '2', 'normal')).code, 0);
  assert.equal((await ntipc('mq', 'send', 'cli-q', '1', 'urgent')).code, 0);
  const first = await ntipc('mq', 'recv', 'cli-q', '--type', '-2', '--json');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { type: 1, data: 'urgent' });
  const second = await ntipc('mq', 'recv', 'cli-q');
  assert.equal(second.stdout, 'normal\n');

  const empty = await ntipc('mq', 'recv', 'cli-q', '--no-wait');
  assert.equal(empty.code, 4);
  assert.match(empty.stderr, /^ntipc: no message in queue cli-q\n$/);
  const late = await ntipc('mq', 'recv', 'cli-q', '--timeout', '50');
  assert.equal(late.code, 4);
  assert.match(late.stderr, /^ntipc: timed out after 50 ms waiting for a message in queue cli-q\n$/);

  // A receiver waiting first gets the message sent after it; a numeric key is its own queue.
  const waiting = startCli(daemon.socketPath, ['mq', 'recv', '4242'], { input: null });
  assert.equal((await ntipc('mq', 'send', '4242', '7', 'seven')).code, 0);
  assert.equal((await waiting.done).stdout, 'seven\n');

  assert.equal((await ntipc('mq', 'rm', 'cli-q')).code, 0);
  const gone = await ntipc('mq', 'rm', 'cli-q');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^ntipc: no message queue named cli-q\n$/);
  assert.equal((await ntipc('mq', 'send', 'cli-q', '0', 'x')).code, 2);
  assert.equal((await ntipc('mq', 'send', '0', '1', 'x')).code, 2);
  await ntipc('mq', 'rm', '4242');
});

/**
 * Named pipes across real processes: a server in one process and clients in others; either
 * side killed with SIGKILL mid-transfer; the object manager stopped under a connected pipe;
 * WaitNamedPipe woken from another process; a reader that stops reading and the writer's
 * memory staying bounded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Mutex, NamedPipe } from '../../src/client/index.ts';
import { withPipeAgents } from '../helpers/pipe-agents.ts';

let n = 0;
const pipeName = (tag: string) => `\\\\.\\pipe\\ntipc-mp-${tag}-${process.pid}-${++n}`;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Drained {
  messages: { length: number; sha256: string; head: string }[];
  code: string;
}

test('a server in one process and clients in two others: messages both ways, pids and listings across processes', async (t) => {
  const { pipeAgent, local } = await withPipeAgents(t);
  const name = pipeName('two');
  const server = await pipeAgent();
  const [x, y] = [await pipeAgent(), await pipeAgent()];
  assert.equal(await server.call('createServer', 's1', name, { type: 'message', readMode: 'message', maxInstances: 2 }), false);
  assert.equal(await server.call('createServer', 's2', name, { type: 'message', readMode: 'message' }), true);
  await x.call('open', 'c', name);
  await y.call('open', 'c', name);
  await x.call('write', 'c', 'from x');
  await y.call('write', 'c', 'from y');
  assert.equal(await server.call('readMessage', 's1'), 'from x', 'the first client went to the first instance');
  assert.equal(await server.call('readMessage', 's2'), 'from y');
  await server.call('write', 's1', 'to x');
  await server.call('write', 's2', 'to y');
  assert.equal(await x.call('readMessage', 'c'), 'to x');
  assert.equal(await y.call('readMessage', 'c'), 'to y');
  assert.deepEqual(await x.call('state', 'c'), { readMode: 'byte', state: 'connected', currentInstances: 2, maxInstances: 2, serverPid: server.pid, clientPid: x.pid });
  assert.equal(((await server.call('state', 's2')) as { clientPid: number }).clientPid, y.pid);
  const listed = (await local.request('listObjects', { type: 'NamedPipe' })).objects.filter((o) => o.name === name);
  assert.deepEqual(
    listed.map((o) => [o.state.end, o.state.state, o.state.serverPid, o.state.clientPid]).sort(),
    [['client', 'connected', server.pid, x.pid], ['client', 'connected', server.pid, y.pid], ['server', 'connected', server.pid, x.pid], ['server', 'connected', server.pid, y.pid]].sort(),
  );
});

test('a client killed mid-transfer: the server drains whole messages, then ERROR_BROKEN_PIPE; connect fails ERROR_NO_DATA; disconnect and connect serve the next client', async (t) => {
  const { pipeAgent, local } = await withPipeAgents(t);
  const name = pipeName('kill-client');
  const mutexName = `mp-pipe-kill-client-${process.pid}`;
  const server = await pipeAgent();
  await server.call('createServer', 's', name, { type: 'message', readMode: 'message', maxInstances: 1, inBufferSize: 64 * 1024 });
  const client = await pipeAgent();
  await client.call('holdMutex', mutexName);
  await client.call('open', 'c', name);
  for (const m of ['one', 'two', 'three']) await client.call('write', 'c', m);
  await client.call('startWriteBytes', 'big', 'c', 1_000_000, 7);
  const died = (await Mutex.open(mutexName, { connection: local })).wait();
  await client.kill('SIGKILL');
  assert.equal(await died, 'abandoned', 'the object manager has seen the client die');
  const drained = (await server.call('drain', 's')) as Drained;
  assert.equal(drained.code, 'ERROR_BROKEN_PIPE');
  assert.deepEqual(drained.messages.slice(0, 3).map((m) => m.head), ['one', 'two', 'three']);
  const rest = drained.messages.slice(3);
  assert.ok(rest.length <= 1, 'at most the big message follows');
  if (rest.length === 1) assert.equal(rest[0]!.sha256, sha256(Buffer.alloc(1_000_000, 7)), 'a message is delivered whole or not at all');
  await assert.rejects(server.call('connect', 's'), { code: 'ERROR_NO_DATA' });
  assert.equal(((await server.call('state', 's')) as { state: string }).state, 'closing');
  await server.call('disconnect', 's');
  await server.call('startConnect', 'next', 's');
  const next = await pipeAgent();
  await next.call('open', 'c', name);
  assert.deepEqual(await server.call('result', 'next'), { alreadyConnected: false });
  await next.call('write', 'c', 'next client');
  assert.equal(await server.call('readMessage', 's'), 'next client');
});

test('a server killed mid-transfer: the client drains, then ERROR_BROKEN_PIPE and ERROR_NO_DATA; the name is gone', async (t) => {
  const { pipeAgent, local } = await withPipeAgents(t);
  const name = pipeName('kill-server');
  const mutexName = `mp-pipe-kill-server-${process.pid}`;
  const server = await pipeAgent();
  await server.call('holdMutex', mutexName);
  await server.call('createServer', 's', name, { type: 'message', readMode: 'message', outBufferSize: 64 * 1024 });
  const c = await NamedPipe.open(name, { connection: local });
  await c.setState({ readMode: 'message' });
  await server.call('write', 's', 'first');
  await server.call('write', 's', 'second');
  await server.call('startWriteBytes', 'big', 's', 1_000_000, 9);
  const died = (await Mutex.open(mutexName, { connection: local })).wait();
  await server.kill('SIGKILL');
  assert.equal(await died, 'abandoned');
  assert.equal((await c.readMessage()).toString(), 'first');
  assert.equal((await c.readMessage()).toString(), 'second');
  let code: string | undefined;
  for (;;) {
    try {
      const m = await c.readMessage();
      assert.equal(sha256(m), sha256(Buffer.alloc(1_000_000, 9)), 'a message is delivered whole or not at all');
    } catch (e) {
      code = (e as { code?: string }).code;
      break;
    }
  }
  assert.equal(code, 'ERROR_BROKEN_PIPE');
  await assert.rejects(c.write(Buffer.from('anyone?')), { code: 'ERROR_NO_DATA' });
  assert.equal((await c.state()).state, 'closing');
  await assert.rejects(NamedPipe.open(name, { connection: local }), { code: 'ERROR_FILE_NOT_FOUND' });
  await c.close();
});

test('the object manager stopped under a connected pipe: data still flows both ways; the control plane is gone', async (t) => {
  const { pipeAgent, daemon } = await withPipeAgents(t);
  const name = pipeName('no-broker');
  const server = await pipeAgent();
  const client = await pipeAgent();
  await server.call('createServer', 's', name, { type: 'message', readMode: 'message' });
  await client.call('open', 'c', name);
  await client.call('write', 'c', 'before');
  await daemon.stop();
  await client.call('write', 'c', 'after the object manager');
  assert.equal(await server.call('readMessage', 's'), 'before');
  assert.equal(await server.call('readMessage', 's'), 'after the object manager');
  for (let i = 0; i < 20; i++) {
    await server.call('write', 's', `reply ${i}`);
    assert.equal(await client.call('readMessage', 'c'), `reply ${i}`);
    await client.call('write', 'c', `request ${i}`);
    assert.equal(await server.call('readMessage', 's'), `request ${i}`);
  }
  await assert.rejects(server.call('state', 's'), { code: 'ERROR_CONNECTION_ABORTED' });
  await client.call('close', 'c');
  assert.deepEqual(await server.call('drain', 's'), { messages: [], code: 'ERROR_BROKEN_PIPE' });
  await server.call('close', 's');
});

test('WaitNamedPipe in one process is woken by a disconnect and connect in another', async (t) => {
  const { pipeAgent, local } = await withPipeAgents(t);
  const name = pipeName('wait');
  const server = await pipeAgent();
  await server.call('createServer', 's', name, { maxInstances: 1 });
  const holder = await NamedPipe.open(name, { connection: local });
  const waiter = await pipeAgent();
  await waiter.call('startWaitNamedPipe', 'w', name, Infinity);
  await waiter.call('barrier');
  assert.equal(await waiter.call('settled', 'w'), false);
  await holder.close();
  await server.call('disconnect', 's');
  await waiter.call('barrier');
  assert.equal(await waiter.call('settled', 'w'), false, 'a disconnected instance is not listening');
  await server.call('startConnect', 'c', 's');
  await waiter.call('result', 'w');
  await waiter.call('open', 'c', name);
  assert.deepEqual(await server.call('result', 'c'), { alreadyConnected: false });
});

test("a reader that stops reading: the writer's writes wait and its memory stays bounded; all arrives once read", async (t) => {
  const { pipeAgent } = await withPipeAgents(t);
  const name = pipeName('stalled');
  const QUOTA = 64 * 1024;
  const CHUNK = 64 * 1024;
  const COUNT = 1024; // 64 MiB attempted
  const reader = await pipeAgent();
  await reader.call('createServer', 's', name, { inBufferSize: QUOTA });
  const writer = await pipeAgent();
  await writer.call('open', 'c', name);
  await writer.call('flood', 'c', CHUNK, COUNT);
  for (let i = 0; i < 5; i++) await writer.call('barrier');
  const status = (await writer.call('floodStatus')) as { attempted: number; resolved: number; failed: string | null; arrayBuffers: number; rss: number };
  t.diagnostic(`writer: ${status.resolved} of ${status.attempted} bytes written, ${status.arrayBuffers} more bytes of buffers, rss ${status.rss}`);
  assert.equal(status.attempted, CHUNK * COUNT);
  assert.equal(status.failed, null);
  assert.ok(status.resolved <= QUOTA, `writes past the reader's buffer resolved: ${status.resolved} bytes`);
  assert.ok(status.arrayBuffers < 16 * 1024 * 1024, `the writer holds ${status.arrayBuffers} more bytes of buffers for 64 MiB attempted`);
  const digest = await reader.call('readBytes', 's', CHUNK * COUNT);
  assert.equal(digest, sha256(Buffer.alloc(CHUNK * COUNT, 0x5a)));
  assert.deepEqual(await writer.call('floodDone'), { attempted: CHUNK * COUNT, resolved: CHUNK * COUNT, failed: null });
});

/**
 * The named-pipe data plane between real processes: this process and a peer process
 * (test/fixtures/pipe-channel-peer.ts) joined through their pipe endpoints, with no object
 * manager. Messages and streams both ways, SIGKILL of either side mid-transfer, a stalled
 * reader, disconnect seen across processes, and bad bytes sent to another process's endpoint.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test, type TestContext } from 'node:test';
import type { ChannelConfig, PipeChannel } from '../../src/client/pipe-channel.ts';
import { dialPipe, newPipeToken, pipeEndpoint } from '../../src/client/pipe-endpoint.ts';
import { encodeControl, PIPE_WIRE_VERSION } from '../../src/protocol/pipe-wire.ts';
import { track } from '../helpers/pending.ts';
import { numbered, spawnPeer, type Peer } from '../helpers/pipe-peer.ts';
import { rawHandshake } from '../helpers/pipe-raw.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const hex = (s: string) => Buffer.from(s).toString('hex');

function config(end: 'server' | 'client', type: 'byte' | 'message', receiveQuota: number, readMode: 'byte' | 'message' = type): ChannelConfig {
  return { type, end, readMode, canRead: true, canWrite: true, receiveQuota };
}

async function peer(t: TestContext): Promise<Peer> {
  const p = await spawnPeer();
  t.after(() => p.kill());
  return p;
}

/** This process is the server; the peer dials in. */
async function peerDialsUs(t: TestContext, p: Peer, server: ChannelConfig, client: ChannelConfig): Promise<PipeChannel> {
  const ep = await pipeEndpoint();
  const token = newPipeToken();
  const expected = ep.expect(token, server);
  await p.call('dial', 'c', ep.address, token, process.pid, client);
  const s = await expected.channel;
  t.after(() => s.close());
  return s;
}

/** The peer is the server; this process dials in. */
async function weDialPeer(t: TestContext, p: Peer, server: ChannelConfig, client: ChannelConfig): Promise<PipeChannel> {
  const { address, token, pid } = await p.call<{ address: string; token: string; pid: number }>('listen', 's', server);
  const c = await dialPipe(address, token, pid, client);
  await p.call('accepted', 's');
  t.after(() => c.close());
  return c;
}

test('two processes: messages both ways, each end knows the real pid of the other, read modes per end', async (t) => {
  const p = await peer(t);
  const s = await peerDialsUs(t, p, config('server', 'message', 4096), config('client', 'message', 4096, 'byte'));
  assert.equal(s.peerPid, p.pid);
  await s.write(Buffer.from('Bit Bucket\0'));
  await s.write(Buffer.from('More bits\0'));
  await p.call('waitAvailable', 'c', 21);
  assert.equal(await p.call('readMessage', 'c'), hex('Bit Bucket\0More bits\0'), 'the client starts in byte read mode');
  await p.call('setReadMode', 'c', 'message');
  await s.write(Buffer.from('one'));
  await s.write(new Uint8Array(0));
  await s.write(Buffer.from('two'));
  assert.equal(await p.call('readMessage', 'c'), hex('one'));
  assert.equal(await p.call('readMessage', 'c'), '');
  assert.equal(await p.call('readMessage', 'c'), hex('two'));
  assert.equal(await p.call('write', 'c', hex('from the peer')), 13);
  assert.equal((await s.readMessage()).toString(), 'from the peer');
});

test('stream() pipelines 8 MiB each way between two processes with small buffers; the checksums match', async (t) => {
  const p = await peer(t);
  const c = await weDialPeer(t, p, config('server', 'byte', 16 * 1024), config('client', 'byte', 16 * 1024));
  // Peer → us.
  const received = createHash('sha256');
  let length = 0;
  const collecting = pipeline(
    c.stream(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        received.update(chunk);
        length += chunk.length;
        cb();
      },
    }),
  );
  const total = 8 * 1024 * 1024 + 3;
  const sent = await p.call<string>('streamSend', 's', 12345, total);
  // Its writes resolved: at most our buffer's worth is left for the collector to take.
  while (length < total) await turn();
  // Us → peer; closing our end then ends the peer's stream, and our own.
  const data = randomBytes(8 * 1024 * 1024);
  const peerReceiving = p.call<{ sha: string; length: number }>('streamReceive', 's');
  await pipeline(Readable.from([data.subarray(0, 5_000_000), data.subarray(5_000_000)]), c.stream());
  c.close();
  assert.deepEqual(await peerReceiving, { sha: createHash('sha256').update(data).digest('hex'), length: data.length });
  await collecting;
  assert.equal(length, total);
  assert.equal(received.digest('hex'), sent);
});

test('the writing process killed with SIGKILL mid-transfer: the reader drains whole messages in order, then ERROR_BROKEN_PIPE', async (t) => {
  const p = await peer(t);
  const SIZE = 256 * 1024;
  const c = await weDialPeer(t, p, config('server', 'message', 64 * 1024), config('client', 'message', 64 * 1024));
  await p.call('startWriting', 's', SIZE);
  for (let seq = 0; seq < 8; seq++) assert.ok((await c.readMessage()).equals(numbered(seq, SIZE)));
  await p.kill('SIGKILL');
  let seq = 8;
  for (;;) {
    let m: Buffer;
    try {
      m = await c.readMessage();
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'ERROR_BROKEN_PIPE');
      break;
    }
    assert.ok(m.equals(numbered(seq, SIZE)), `message ${seq} is whole and in order`);
    seq++;
  }
  assert.equal(c.state, 'broken');
  await assert.rejects(c.write(Buffer.from('anyone?')), { code: 'ERROR_NO_DATA' });
  assert.throws(() => c.peek(), { code: 'ERROR_BROKEN_PIPE' });
});

test("the reading process killed with SIGKILL: the writer's pending write fails ERROR_NO_DATA, and so does the next", async (t) => {
  const p = await peer(t);
  const SIZE = 100_000;
  const s = await peerDialsUs(t, p, config('server', 'message', 4096), config('client', 'message', 4096));
  await Promise.all([s.write(numbered(0, SIZE)), s.write(numbered(1, SIZE)), s.write(numbered(2, SIZE)), p.call('readNumbered', 'c', 3, SIZE)]);
  const pending = track(s.write(numbered(3, SIZE)));
  await p.call('waitAvailable', 'c', SIZE);
  assert.equal(pending.settled, false, 'unread: it waits for room');
  await p.kill('SIGKILL');
  await assert.rejects(pending.promise, { code: 'ERROR_NO_DATA' });
  await assert.rejects(s.write(Buffer.from('x')), { code: 'ERROR_NO_DATA' });
  await assert.rejects(s.read(new Uint8Array(1)), { code: 'ERROR_BROKEN_PIPE' });
});

test('a stalled reader: the write it does not read never resolves, and it holds at most its buffer plus one write', async (t) => {
  const p = await peer(t);
  const QUOTA = 64 * 1024;
  const WRITE = 1024 * 1024;
  const COUNT = 32;
  const s = await peerDialsUs(t, p, config('server', 'message', QUOTA), config('client', 'message', QUOTA));
  const before = await p.call<NodeJS.MemoryUsage>('memory');
  const writes = Array.from({ length: COUNT }, (_, seq) => track(s.write(numbered(seq, WRITE))));
  // The first write is all there; the reader has not read a byte of it.
  assert.equal(await p.call('waitAvailable', 'c', WRITE), WRITE);
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(await p.call('available', 'c'), WRITE, 'nothing more was sent');
  assert.ok(writes.every((w) => !w.settled), 'no write resolves while the reader holds more than its buffer');
  const during = await p.call<NodeJS.MemoryUsage>('memory');
  assert.ok(during.arrayBuffers - before.arrayBuffers < 8 * WRITE, `the reader holds ${during.arrayBuffers - before.arrayBuffers} bytes for ${COUNT} MiB attempted`);
  // Once it reads, everything arrives whole and every write resolves.
  await p.call('readNumbered', 'c', COUNT, WRITE);
  assert.deepEqual(await Promise.all(writes.map((w) => w.promise)), Array(COUNT).fill(WRITE));
});

test('disconnect across processes: once it resolves, the client process has dropped its data and fails ERROR_PIPE_NOT_CONNECTED', async (t) => {
  const p = await peer(t);
  const c = await weDialPeer(t, p, config('server', 'byte', 4096), config('client', 'byte', 4096));
  await c.write(Buffer.from('stale'));
  await p.call('write', 's', hex('stale too'));
  while (c.peek(0).bytesAvailable < 9) await turn();
  await p.call('waitAvailable', 's', 5);
  await p.call('disconnect', 's');
  // The server's disconnect resolved only after this process acknowledged it.
  assert.equal(c.state, 'disconnected');
  assert.throws(() => c.peek(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(c.read(new Uint8Array(16)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(c.write(Buffer.from('x')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  assert.equal(await p.call('state', 's'), 'disconnected');
  await assert.rejects(p.call('readMessage', 's'), { code: 'ERROR_PIPE_NOT_CONNECTED' });
});

test("bad bytes to another process's endpoint are refused; that process keeps serving", async (t) => {
  const p = await peer(t);
  const { address, token, pid } = await p.call<{ address: string; token: string; pid: number }>('listen', 's', config('server', 'byte', 4096));
  for (const bad of [Buffer.from('garbage that is not a frame at all'), Buffer.from([0xff, 0xff, 0xff, 0xff, 2]), Buffer.alloc(64 * 1024, 0x11)]) {
    assert.deepEqual(await rawHandshake(address, bad), { replies: [], closed: true, socket: undefined });
  }
  const wrongToken = await rawHandshake(address, encodeControl('hello', { version: PIPE_WIRE_VERSION, token: newPipeToken(), pid: process.pid, quota: 1 }));
  assert.deepEqual(wrongToken.replies.map((r) => r.name), ['refuse']);
  const otherVersion = await rawHandshake(address, encodeControl('hello', { version: PIPE_WIRE_VERSION + 1, token, pid: process.pid, quota: 1 }));
  assert.deepEqual(otherVersion.replies.map((r) => r.name), ['refuse']);
  // The real token still works: the refusals above did not use it up.
  const c = await dialPipe(address, token, pid, config('client', 'byte', 4096));
  t.after(() => c.close());
  await p.call('accepted', 's');
  await c.write(Buffer.from('still serving'));
  await p.call('waitAvailable', 's', 13);
  assert.equal(await p.call('readMessage', 's'), hex('still serving'));
});

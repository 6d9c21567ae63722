/**
 * The named-pipe data plane in one process: a server channel and a client channel joined
 * through this process's pipe endpoint over a real Unix socket, with no object manager.
 * Byte and message semantics, read modes, peek, transact, flow control, disconnect, close,
 * cancellation, stream(), and what the endpoint and a channel do with bad frames.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import type { ChannelConfig, PipeChannel } from '../../src/client/pipe-channel.ts';
import { dialPipe, newPipeToken, pipeEndpoint } from '../../src/client/pipe-endpoint.ts';
import { once } from 'node:events';
import { rawHandshake } from '../helpers/pipe-raw.ts';
import { DataKind, encodeControl, MAX_DATA_FRAME, MAX_MESSAGE, PIPE_WIRE_VERSION } from '../../src/protocol/pipe-wire.ts';
import { track } from '../helpers/pending.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => Buffer.from(s);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface PairOptions {
  type?: 'byte' | 'message';
  serverReadMode?: 'byte' | 'message';
  clientReadMode?: 'byte' | 'message';
  /** What the server holds of the client's unread writes (inBufferSize). */
  serverQuota?: number;
  /** What the client holds of the server's unread writes (outBufferSize). */
  clientQuota?: number;
  direction?: 'duplex' | 'inbound' | 'outbound';
}

/** A connected server channel and client channel in this process. */
async function pair(o: PairOptions = {}): Promise<{ s: PipeChannel; c: PipeChannel; close(): void }> {
  const type = o.type ?? 'byte';
  const dir = o.direction ?? 'duplex';
  const server: ChannelConfig = {
    type,
    end: 'server',
    readMode: o.serverReadMode ?? (type === 'message' ? 'message' : 'byte'),
    canRead: dir !== 'outbound',
    canWrite: dir !== 'inbound',
    receiveQuota: o.serverQuota ?? 4096,
  };
  const client: ChannelConfig = {
    type,
    end: 'client',
    readMode: o.clientReadMode ?? 'byte',
    canRead: dir !== 'inbound',
    canWrite: dir !== 'outbound',
    receiveQuota: o.clientQuota ?? 4096,
  };
  const ep = await pipeEndpoint();
  const token = newPipeToken();
  const expected = ep.expect(token, server);
  const c = await dialPipe(ep.address, token, process.pid, client);
  const s = await expected.channel;
  return {
    s,
    c,
    close() {
      c.close();
      s.close();
    },
  };
}

/** Until `n` bytes written to `end` have arrived there (the reader's event loop takes them in). */
async function arrived(end: PipeChannel, n: number): Promise<void> {
  while (end.peek(0).bytesAvailable < n) await turn();
}

/**
 * Until `end` has noticed its peer is gone. (An idle channel does not keep the process
 * alive, and neither does awaiting `ended`: the loop turns here while the socket closes.)
 */
async function noticed(end: PipeChannel): Promise<void> {
  while (end.state === 'connected') await turn();
  assert.equal(await end.ended, 'broken');
}

async function readExactly(end: PipeChannel, n: number): Promise<Buffer> {
  const out = Buffer.alloc(n);
  let got = 0;
  while (got < n) got += (await end.read(out.subarray(got))).bytesRead;
  return out;
}

test('the handshake joins the two ends: both connected, each knows the peer pid, bytes flow both ways', async () => {
  const { s, c, close } = await pair();
  assert.equal(s.state, 'connected');
  assert.equal(c.state, 'connected');
  assert.equal(s.peerPid, process.pid);
  assert.equal(c.peerPid, process.pid);
  assert.equal(await c.write(bytes('Bit Bucket\0')), 11);
  assert.equal(text(await readExactly(s, 11)), 'Bit Bucket\0');
  assert.equal(await s.write(bytes('More bits\0')), 10);
  assert.equal(text(await readExactly(c, 10)), 'More bits\0');
  close();
});

test('message read mode: a short buffer gets the part that fits with moreData, the rest stays for the next read', async () => {
  const { s, c, close } = await pair({ type: 'message', clientReadMode: 'message' });
  await s.write(bytes('0123456789'));
  await s.write(bytes('next'));
  const buf = new Uint8Array(4);
  assert.deepEqual(await c.read(buf), { bytesRead: 4, moreData: true });
  assert.equal(text(buf), '0123');
  assert.deepEqual(c.peek(), { data: bytes('456789'), bytesAvailable: 10, messageBytesLeft: 0 });
  assert.deepEqual(await c.read(buf), { bytesRead: 4, moreData: true });
  assert.equal(text(buf), '4567');
  const big = new Uint8Array(100);
  assert.deepEqual(await c.read(big), { bytesRead: 2, moreData: false }, 'the rest of the message, not the next one');
  assert.equal(text(big.subarray(0, 2)), '89');
  assert.equal(text(await c.readMessage()), 'next');
  close();
});

test('byte read mode on a message pipe joins messages and never reports moreData', async () => {
  const { s, c, close } = await pair({ type: 'message' });
  assert.equal(c.readMode, 'byte', 'a client starts in byte read mode');
  await s.write(bytes('Bit Bucket\0'));
  await s.write(bytes('More bits\0'));
  await arrived(c, 21);
  const buf = new Uint8Array(4);
  assert.deepEqual(await c.read(buf), { bytesRead: 4, moreData: false });
  const rest = new Uint8Array(32);
  assert.deepEqual(await c.read(rest), { bytesRead: 17, moreData: false });
  assert.equal(text(rest.subarray(0, 17)), 'Bucket\0More bits\0');
  c.setReadMode('message');
  await s.write(bytes('Bit Bucket\0'));
  await s.write(bytes('More bits\0'));
  assert.equal(text(await c.readMessage()), 'Bit Bucket\0');
  assert.equal(text(await c.readMessage()), 'More bits\0');
  close();
});

test('readMessage in byte read mode takes everything that is there', async () => {
  const { s, c, close } = await pair({ type: 'message' });
  await s.write(bytes('ab'));
  await s.write(bytes('cd'));
  await arrived(c, 4);
  assert.equal(text(await c.readMessage()), 'abcd');
  close();
});

test('zero-length messages are real messages; a zero-length write on a byte pipe is a no-op', async () => {
  const m = await pair({ type: 'message', clientReadMode: 'message' });
  assert.equal(await m.s.write(new Uint8Array(0)), 0);
  assert.equal(await m.s.write(bytes('x')), 1);
  assert.equal((await m.c.readMessage()).length, 0);
  assert.deepEqual(await m.c.read(new Uint8Array(0)), { bytesRead: 0, moreData: true }, 'a 0-byte read of a 1-byte message leaves it');
  assert.equal(text(await m.c.readMessage()), 'x');
  // A 0-byte read of a 0-byte message consumes it.
  await m.s.write(new Uint8Array(0));
  await m.s.write(bytes('y'));
  assert.deepEqual(await m.c.read(new Uint8Array(0)), { bytesRead: 0, moreData: false });
  assert.equal(text(await m.c.readMessage()), 'y');
  m.close();

  const b = await pair();
  assert.equal(await b.s.write(new Uint8Array(0)), 0);
  await b.s.write(bytes('z'));
  await arrived(b.c, 1);
  assert.equal(b.c.peek().bytesAvailable, 1);
  assert.equal(text(await b.c.readMessage()), 'z', 'nothing was queued for the empty write');
  b.close();
});

test('a zero-length read waits for data, returns 0 and leaves it; in message read mode with moreData', async () => {
  const { s, c, close } = await pair({ type: 'message' });
  const zero = track(c.read(new Uint8Array(0)));
  const one = track(c.read(new Uint8Array(1000)));
  await turn();
  assert.equal(zero.settled, false, 'it waits while nothing is there');
  await s.write(bytes('!'));
  assert.deepEqual(await zero.promise, { bytesRead: 0, moreData: false });
  assert.deepEqual(await one.promise, { bytesRead: 1, moreData: false });
  c.setReadMode('message');
  const zeroMessage = c.read(new Uint8Array(0));
  await s.write(bytes('?'));
  assert.deepEqual(await zeroMessage, { bytesRead: 0, moreData: true });
  assert.equal(text(await c.readMessage()), '?');
  close();
});

test('a pending read completes with whatever arrives; pending reads are served in call order', async () => {
  const { s, c, close } = await pair();
  const a = new Uint8Array(2);
  const first = c.read(a);
  const second = c.read(new Uint8Array(5));
  await s.write(bytes('1'));
  assert.deepEqual(await first, { bytesRead: 1, moreData: false });
  await s.write(bytes('23'));
  assert.deepEqual(await second, { bytesRead: 2, moreData: false });
  close();
});

test('an aborted pending read rejects with the reason and consumes nothing; the other read gets the byte', async () => {
  const { s, c, close } = await pair();
  const ac = new AbortController();
  const first = track(c.read(new Uint8Array(1)));
  const second = c.read(new Uint8Array(1), { signal: ac.signal });
  ac.abort(new Error('not this one'));
  await assert.rejects(second, /not this one/);
  await s.write(bytes('!'));
  assert.deepEqual(await first.promise, { bytesRead: 1, moreData: false });
  // Already aborted: refused at once, nothing consumed.
  await s.write(bytes('#'));
  await arrived(c, 1);
  await assert.rejects(c.readMessage({ signal: AbortSignal.abort(new Error('early')) }), /early/);
  assert.equal(text(await c.readMessage()), '#');
  close();
});

test('peek on a byte pipe: everything there, messageBytesLeft 0; peek never consumes and never waits', async () => {
  const { s, c, close } = await pair();
  assert.deepEqual(c.peek(0), { data: Buffer.alloc(0), bytesAvailable: 0, messageBytesLeft: 0 });
  await s.write(bytes('Bit Bucket\0'));
  await s.write(bytes('More bits\0'));
  await arrived(c, 21);
  const p = c.peek(4);
  assert.deepEqual([text(p.data), p.bytesAvailable, p.messageBytesLeft], ['Bit ', 21, 0]);
  const all = c.peek(32);
  assert.deepEqual([text(all.data), all.bytesAvailable], ['Bit Bucket\0More bits\0', 21]);
  assert.equal(text(await readExactly(c, 21)), 'Bit Bucket\0More bits\0');
  close();
});

test('peek on a message pipe stops at the head message whatever the read mode, and counts what is left of it', async () => {
  const { s, c, close } = await pair({ type: 'message' });
  await s.write(bytes('Bit Bucket\0'));
  await s.write(bytes('More bits\0'));
  await arrived(c, 21);
  const p = c.peek(32);
  assert.deepEqual([text(p.data), p.bytesAvailable, p.messageBytesLeft], ['Bit Bucket\0', 21, 0]);
  const q = c.peek(4);
  assert.deepEqual([text(q.data), q.bytesAvailable, q.messageBytesLeft], ['Bit ', 21, 7]);
  c.setReadMode('message');
  await c.read(new Uint8Array(4));
  const r = c.peek(32);
  assert.deepEqual([text(r.data), r.bytesAvailable, r.messageBytesLeft], ['Bucket\0', 17, 0]);
  close();
});

test('transact needs a message pipe in message read mode, else ERROR_BAD_PIPE', async () => {
  const b = await pair();
  await assert.rejects(b.c.transact(bytes('x'), 10), { code: 'ERROR_BAD_PIPE', errno: 230 });
  b.close();
  const m = await pair({ type: 'message' });
  await assert.rejects(m.c.transact(bytes('x'), 10), { code: 'ERROR_BAD_PIPE' }, 'the client is in byte read mode');
  assert.equal(m.s.peek().bytesAvailable, 0, 'nothing was written');
  m.close();
});

test('transact with a message already queued fails ERROR_PIPE_BUSY; the message stays readable', async () => {
  const { s, c, close } = await pair({ type: 'message', clientReadMode: 'message' });
  await s.write(bytes('1'));
  await arrived(c, 1);
  await assert.rejects(c.transact(bytes('12'), 1), { code: 'ERROR_PIPE_BUSY', errno: 231 });
  assert.equal(text(await c.readMessage()), '1');
  close();
});

test('transact: a reply longer than maxReplyBytes comes cut with moreData, the rest stays for read()', async () => {
  const { s, c, close } = await pair({ type: 'message', clientReadMode: 'message' });
  const calleeRead = s.read(new Uint8Array(10));
  const transacting = c.transact(bytes('12345'), 6);
  assert.deepEqual(await calleeRead, { bytesRead: 5, moreData: false });
  await s.write(bytes('abcdefghij'));
  assert.deepEqual(await transacting, { data: bytes('abcdef'), moreData: true });
  const rest = new Uint8Array(10);
  assert.deepEqual(await c.read(rest), { bytesRead: 4, moreData: false });
  assert.equal(text(rest.subarray(0, 4)), 'ghij');
  // The whole reply (the default), and a transact answering a transact.
  const calling = c.transact(bytes('ping'));
  assert.equal(text(await s.readMessage()), 'ping');
  const answering = s.transact(bytes('pong'), 100);
  assert.deepEqual(await calling, { data: bytes('pong'), moreData: false });
  await c.write(bytes('next'));
  assert.deepEqual(await answering, { data: bytes('next'), moreData: false });
  close();
});

test("transact's request does not wait for room in the peer's buffer", async () => {
  const { s, c, close } = await pair({ type: 'message', clientReadMode: 'message', serverQuota: 0 });
  const transacting = c.transact(bytes('request'), 100);
  assert.equal(text(await s.readMessage()), 'request');
  await s.write(bytes('reply'));
  assert.deepEqual(await transacting, { data: bytes('reply'), moreData: false });
  close();
});

test("flow control: a write waits while the reader's buffer is full and resolves once the reader has read enough", async () => {
  const B = 1024;
  const { s, c, close } = await pair({ serverQuota: B });
  const data = randomBytes(B + 2000);
  const writing = track(c.write(data));
  const first = await readExactly(s, 1999);
  assert.equal(writing.settled, false, 'B + 1 bytes are still unread');
  const second = await readExactly(s, 1);
  assert.equal(await writing.promise, B + 2000);
  const last = await readExactly(s, B);
  assert.ok(Buffer.concat([first, second, last]).equals(data));
  close();
});

test('writes run one at a time in call order; a write starts only once the one before fits', async () => {
  const { s, c, close } = await pair({ type: 'message', serverQuota: 10 });
  const one = track(c.write(Buffer.alloc(100, 1)));
  const two = track(c.write(Buffer.alloc(5, 2)));
  await arrived(s, 100);
  await turn();
  assert.equal(s.peek().bytesAvailable, 100, 'the second write is held back, not sent');
  assert.equal(one.settled, false);
  assert.equal((await s.readMessage()).length, 100);
  assert.equal(await one.promise, 100);
  assert.equal(await two.promise, 5);
  assert.deepEqual(await s.readMessage(), Buffer.alloc(5, 2));
  close();
});

test('with a buffer of 0 every write waits until it is read; zero-length writes never wait', async () => {
  const { s, c, close } = await pair({ type: 'message', serverQuota: 0, clientQuota: 0 });
  assert.equal(await c.write(new Uint8Array(0)), 0);
  assert.equal(await s.write(new Uint8Array(0)), 0);
  const writing = track(c.write(bytes('abc')));
  await arrived(s, 3);
  await turn();
  assert.equal(writing.settled, false, 'unread');
  assert.equal(await c.write(new Uint8Array(0)).then(() => 'done', () => 'failed'), 'done', 'a zero-length message behind it does not wait either');
  assert.equal((await s.readMessage()).length, 0);
  assert.equal(text(await s.readMessage()), 'abc');
  assert.equal(await writing.promise, 3);
  assert.equal((await s.readMessage()).length, 0);
  assert.equal((await c.readMessage()).length, 0);
  close();
});

test("peek counts a pending write's data once it has arrived", async () => {
  const { s, c, close } = await pair({ type: 'message', serverQuota: 1024 });
  await c.write(Buffer.alloc(1000, 1));
  const writing = track(c.write(Buffer.alloc(3000, 2)));
  await arrived(s, 4000);
  assert.deepEqual([s.peek(0).bytesAvailable, s.peek(0).messageBytesLeft], [4000, 1000]);
  assert.equal(writing.settled, false);
  assert.equal((await s.readMessage()).length, 1000);
  assert.equal((await s.readMessage()).length, 3000);
  assert.equal(await writing.promise, 3000);
  close();
});

test('a message longer than a data frame arrives whole, in order with its neighbours; a byte write that long too', async () => {
  const m = await pair({ type: 'message', serverQuota: 4096 });
  const big = randomBytes(MAX_DATA_FRAME * 2 + 12345);
  const writes = Promise.all([m.c.write(bytes('before')), m.c.write(big), m.c.write(bytes('after'))]);
  assert.equal(text(await m.s.readMessage()), 'before');
  assert.ok((await m.s.readMessage()).equals(big));
  assert.equal(text(await m.s.readMessage()), 'after');
  assert.deepEqual(await writes, [6, big.length, 5]);
  m.close();
  const b = await pair({ serverQuota: 4096 });
  const writing = b.c.write(big);
  assert.equal(sha(await readExactly(b.s, big.length)), sha(big));
  assert.equal(await writing, big.length);
  b.close();
});

test('a message over the size limit is refused ERROR_NOT_ENOUGH_QUOTA and nothing is sent', async () => {
  const { s, c, close } = await pair({ type: 'message' });
  await assert.rejects(c.write(Buffer.allocUnsafe(MAX_MESSAGE + 1)), { code: 'ERROR_NOT_ENOUGH_QUOTA' });
  await c.write(bytes('ok'));
  assert.equal(text(await s.readMessage()), 'ok');
  close();
});

test('the direction: an end that cannot read or write is refused ERROR_ACCESS_DENIED', async () => {
  const { s, c, close } = await pair({ direction: 'inbound' });
  await assert.rejects(s.write(bytes('x')), { code: 'ERROR_ACCESS_DENIED' });
  await assert.rejects(c.read(new Uint8Array(1)), { code: 'ERROR_ACCESS_DENIED' });
  assert.throws(() => c.peek(), { code: 'ERROR_ACCESS_DENIED' });
  await c.write(bytes('in'));
  assert.equal(text(await readExactly(s, 2)), 'in');
  close();
});

test('read modes are per end; message read mode on a byte pipe is ERROR_INVALID_PARAMETER', async () => {
  const m = await pair({ type: 'message', serverReadMode: 'byte' });
  m.c.setReadMode('message');
  assert.equal(m.s.readMode, 'byte');
  assert.throws(() => m.c.setReadMode('stream' as never), { code: 'ERROR_INVALID_PARAMETER' });
  m.close();
  const b = await pair();
  assert.throws(() => b.c.setReadMode('message'), { code: 'ERROR_INVALID_PARAMETER', errno: 87 });
  assert.equal(b.c.readMode, 'byte');
  b.close();
});

test('disconnect discards unread data both ways; the client then fails ERROR_PIPE_NOT_CONNECTED, its pending read too', async () => {
  const { s, c } = await pair();
  await c.write(bytes('stale'));
  await s.write(bytes('stale too'));
  await arrived(s, 5);
  await arrived(c, 9);
  assert.equal(text(await c.readMessage()), 'stale too');
  const pendingOnClient = c.read(new Uint8Array(100));
  await s.write(bytes('unread'));
  await s.disconnect();
  // Resolved: the client has seen it, in this process as in another.
  assert.equal(c.state, 'disconnected');
  assert.equal(s.state, 'disconnected');
  await assert.rejects(pendingOnClient.then(() => c.read(new Uint8Array(100))), { code: 'ERROR_PIPE_NOT_CONNECTED', errno: 233 });
  await assert.rejects(c.write(bytes('x')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  assert.throws(() => c.peek(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(c.transact(bytes('x')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(s.read(new Uint8Array(8)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(s.disconnect(), { code: 'ERROR_PIPE_NOT_CONNECTED' }, 'twice');
  assert.equal(await c.ended, 'disconnected');
  c.close();
  s.close();
});

test("disconnect fails the server's own pending reads and writes ERROR_PIPE_NOT_CONNECTED; a client cannot disconnect", async () => {
  const { s, c } = await pair({ clientQuota: 0 });
  await assert.rejects(c.disconnect(), { code: 'ERROR_INVALID_FUNCTION' });
  const reading = assert.rejects(s.read(new Uint8Array(4)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  const writing = assert.rejects(s.write(bytes('waits for the client')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await s.disconnect();
  await reading;
  await writing;
  await assert.rejects(c.readMessage(), { code: 'ERROR_PIPE_NOT_CONNECTED' }, 'what reached the client is gone');
  c.close();
  s.close();
});

test('disconnect after the client has gone resolves at once', async () => {
  const { s, c } = await pair();
  c.close();
  await noticed(s);
  await s.disconnect();
  assert.equal(s.state, 'disconnected');
  s.close();
});

test('close: the peer reads what is left, then ERROR_BROKEN_PIPE; its writes fail ERROR_NO_DATA', async () => {
  const { s, c } = await pair({ type: 'message', clientReadMode: 'message' });
  await s.write(bytes('Hello World\0'));
  await s.write(new Uint8Array(0));
  s.close();
  await noticed(c);
  assert.deepEqual(c.peek(), { data: bytes('Hello World\0'), bytesAvailable: 12, messageBytesLeft: 0 });
  assert.equal(text(await c.readMessage()), 'Hello World\0');
  assert.equal((await c.readMessage()).length, 0, 'the empty message too');
  await assert.rejects(c.read(new Uint8Array(0)), { code: 'ERROR_BROKEN_PIPE', errno: 109 });
  assert.throws(() => c.peek(0), { code: 'ERROR_BROKEN_PIPE' });
  await assert.rejects(c.write(bytes('anyone?')), { code: 'ERROR_NO_DATA', errno: 232 });
  await assert.rejects(c.transact(bytes('anyone?')), { code: 'ERROR_BAD_PIPE' });
  c.close();
});

test('a pending read fails ERROR_BROKEN_PIPE when the peer closes; a pending write fails ERROR_NO_DATA', async () => {
  const { s, c } = await pair({ serverQuota: 0 });
  const reading = assert.rejects(c.read(new Uint8Array(8)), { code: 'ERROR_BROKEN_PIPE' });
  const writing = assert.rejects(c.write(bytes('never read')), { code: 'ERROR_NO_DATA' });
  s.close();
  await reading;
  await writing;
  assert.equal(c.state, 'broken');
  c.close();
});

test('closing this end: pending operations fail ERROR_OPERATION_ABORTED, the next ones ERROR_INVALID_HANDLE, close twice does nothing', async () => {
  const { s, c } = await pair({ serverQuota: 0 });
  const reading = assert.rejects(c.read(new Uint8Array(8)), { code: 'ERROR_OPERATION_ABORTED', errno: 995 });
  const writing = assert.rejects(c.write(bytes('taken back')), { code: 'ERROR_OPERATION_ABORTED' });
  await arrived(s, 10);
  c.close();
  c.close();
  await reading;
  await writing;
  assert.equal(await c.ended, 'closed');
  await assert.rejects(c.write(bytes('x')), { code: 'ERROR_INVALID_HANDLE' });
  await assert.rejects(c.read(new Uint8Array(1)), { code: 'ERROR_INVALID_HANDLE' });
  assert.throws(() => c.peek(), { code: 'ERROR_INVALID_HANDLE' });
  await assert.rejects(c.disconnect(), { code: 'ERROR_INVALID_HANDLE' });
  // The write that never resolved is taken back even though its bytes had arrived.
  await noticed(s);
  await assert.rejects(s.read(new Uint8Array(100)), { code: 'ERROR_BROKEN_PIPE' });
  s.close();
});

test('stream(): a byte pipe carries a pipeline with backpressure and ends when the peer closes', async () => {
  const { s, c } = await pair({ serverQuota: 16 * 1024, clientQuota: 16 * 1024 });
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const received = createHash('sha256');
  let total = 0;
  const collect = pipeline(
    s.stream(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        received.update(chunk);
        total += chunk.length;
        setImmediate(cb); // a slow consumer: the pipe's buffer holds the writer back
      },
    }),
  );
  assert.equal(s.stream(), s.stream(), 'one stream per channel');
  const chunks = function* () {
    for (let i = 0; i < data.length; i += 50_000) yield data.subarray(i, i + 50_000);
  };
  await pipeline(Readable.from(chunks()), c.stream());
  c.close();
  await collect;
  assert.equal(total, data.length);
  assert.equal(received.digest('hex'), sha(data));
  s.close();
});

test('stream(): write errors surface as IpcError; a destroyed stream leaves unread bytes in the pipe', async () => {
  const { s, c } = await pair();
  const st = s.stream();
  st.resume(); // a read is now pending in the pipe
  await turn();
  st.destroy();
  await once(st, 'close');
  await c.write(bytes('still here'));
  assert.equal(text(await readExactly(s, 10)), 'still here');
  c.close();
  await noticed(s);
  const w = s.stream();
  const failed = new Promise<Error>((resolve) => w.once('error', resolve));
  w.write(bytes('x'));
  const e = await failed;
  assert.equal((e as { code?: string }).code, 'ERROR_NO_DATA');
  s.close();
});

test('the endpoint: a cancelled expectation rejects ERROR_OPERATION_ABORTED and its token is then refused', async () => {
  const ep = await pipeEndpoint();
  const token = newPipeToken();
  const config: ChannelConfig = { type: 'byte', end: 'server', readMode: 'byte', canRead: true, canWrite: true, receiveQuota: 10 };
  const e = ep.expect(token, config);
  e.cancel();
  await assert.rejects(e.channel, { code: 'ERROR_OPERATION_ABORTED' });
  await assert.rejects(dialPipe(ep.address, token, process.pid, { ...config, end: 'client' }), { code: 'ERROR_PIPE_NOT_CONNECTED' });
  await assert.rejects(dialPipe(ep.address, newPipeToken(), process.pid, { ...config, end: 'client' }), { code: 'ERROR_PIPE_NOT_CONNECTED' }, 'a token never expected');
  assert.throws(() => ep.expect('', config), { code: 'ERROR_INVALID_PARAMETER' });
});

test('the dialer refuses an endpoint held by another process than the server it was told of, and a dead endpoint', async () => {
  const ep = await pipeEndpoint();
  const token = newPipeToken();
  const config: ChannelConfig = { type: 'byte', end: 'server', readMode: 'byte', canRead: true, canWrite: true, receiveQuota: 10 };
  const e = ep.expect(token, config);
  await assert.rejects(dialPipe(ep.address, token, process.pid + 1, { ...config, end: 'client' }), { code: 'ERROR_ACCESS_DENIED' });
  e.cancel();
  await assert.rejects(dialPipe(`\0ntipc-pipe-nobody-${newPipeToken()}`, token, process.pid, { ...config, end: 'client' }), { code: 'ERROR_PIPE_NOT_CONNECTED' });
});

test('bad bytes to the endpoint close that connection only; the endpoint keeps serving', async () => {
  const ep = await pipeEndpoint();
  const attempts: Buffer[] = [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'), // an unknown kind
    Buffer.from([0xff, 0xff, 0xff, 0x7f, 1]), // a control frame far too long
    Buffer.from([8, 0, 0, 0, 1, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // a hello whose token overruns it
    (() => {
      const d = Buffer.alloc(5 + 3);
      d.writeUInt32LE(3, 0);
      d[4] = DataKind.end;
      return d;
    })(), // data before the handshake
    encodeControl('welcome', { pid: 1, quota: 1 }), // the wrong side's frame
  ];
  for (const bad of attempts) {
    const { replies, closed } = await rawHandshake(ep.address, bad);
    assert.equal(closed, true, `closed after ${bad.toString('hex').slice(0, 24)}`);
    assert.deepEqual(replies, [], 'nothing said back');
  }
  // A well-formed hello with a token nobody expects is refused, with a reason.
  const refused = await rawHandshake(ep.address, encodeControl('hello', { version: PIPE_WIRE_VERSION, token: newPipeToken(), pid: process.pid, quota: 0 }));
  assert.deepEqual(refused.replies.map((r) => r.name), ['refuse']);
  assert.equal(refused.closed, true);
  const { c, s, close } = await pair();
  await c.write(bytes('fine'));
  assert.equal(text(await readExactly(s, 4)), 'fine');
  close();
});

test('bad frames after the handshake break that channel only: whole messages stay readable, a torn one never shows', async () => {
  const ep = await pipeEndpoint();
  const config: ChannelConfig = { type: 'message', end: 'server', readMode: 'message', canRead: true, canWrite: true, receiveQuota: 100 };
  const frame = (kind: number, payload: Buffer) => {
    const h = Buffer.alloc(5);
    h.writeUInt32LE(payload.length, 0);
    h[4] = kind;
    return Buffer.concat([h, payload]);
  };
  const cases: { name: string; bytes: Buffer; whole: string[] }[] = [
    { name: 'a torn message, then the peer gone', bytes: Buffer.concat([frame(DataKind.end, bytes('whole')), frame(DataKind.more, bytes('torn'))]), whole: ['whole'] },
    { name: 'an unknown kind', bytes: Buffer.concat([frame(DataKind.end, bytes('one')), frame(99, bytes('?'))]), whole: ['one'] },
    { name: 'a data frame too long', bytes: Buffer.concat([frame(DataKind.end, bytes('a')), Buffer.from([0, 0, 0x20, 0, DataKind.end])]), whole: ['a'] },
    { name: 'an empty middle frame', bytes: Buffer.concat([frame(DataKind.end, bytes('b')), frame(DataKind.more, Buffer.alloc(0))]), whole: ['b'] },
    { name: 'a write past the buffer', bytes: Buffer.concat([frame(DataKind.end, Buffer.alloc(101)), frame(DataKind.end, bytes('c'))]), whole: [Buffer.alloc(101).toString()] },
    { name: 'credit for bytes never sent', bytes: Buffer.concat([frame(DataKind.end, bytes('d')), encodeControl('consumed', { bytes: 5 })]), whole: ['d'] },
    { name: 'a disconnect sent to a server', bytes: Buffer.concat([frame(DataKind.end, bytes('e')), encodeControl('disconnect', {})]), whole: ['e'] },
    { name: 'a second hello', bytes: Buffer.concat([frame(DataKind.end, bytes('f')), encodeControl('hello', { version: 1, token: 't', pid: 1, quota: 1 })]), whole: ['f'] },
  ];
  for (const k of cases) {
    const token = newPipeToken();
    const expected = ep.expect(token, config);
    const raw = await rawHandshake(ep.address, encodeControl('hello', { version: PIPE_WIRE_VERSION, token, pid: process.pid, quota: 100 }), { keepOpen: true });
    assert.deepEqual(raw.replies.map((r) => r.name), ['welcome'], k.name);
    const s = await expected.channel;
    raw.socket!.end(k.bytes);
    await noticed(s);
    const got: string[] = [];
    for (;;) {
      try {
        got.push((await s.readMessage()).toString());
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'ERROR_BROKEN_PIPE', k.name);
        break;
      }
    }
    assert.deepEqual(got, k.whole, k.name);
    s.close();
  }
  // Meanwhile every other channel is untouched.
  const { c, s, close } = await pair();
  await c.write(bytes('unaffected'));
  assert.equal(text(await readExactly(s, 10)), 'unaffected');
  close();
});

test('a peer that closes with a write unresolved takes it back, even when its bytes had arrived', async () => {
  const ep = await pipeEndpoint();
  const config: ChannelConfig = { type: 'message', end: 'server', readMode: 'message', canRead: true, canWrite: true, receiveQuota: 100 };
  const token = newPipeToken();
  const expected = ep.expect(token, config);
  const raw = await rawHandshake(ep.address, encodeControl('hello', { version: PIPE_WIRE_VERSION, token, pid: process.pid, quota: 0 }), { keepOpen: true });
  const s = await expected.channel;
  const msg = (p: string) => {
    const h = Buffer.alloc(5);
    h.writeUInt32LE(p.length, 0);
    h[4] = DataKind.end;
    return Buffer.concat([h, bytes(p)]);
  };
  // Two whole writes, then a close saying only the first resolved.
  raw.socket!.end(Buffer.concat([msg('kept'), msg('taken back'), encodeControl('close', { writes: 1 })]));
  await noticed(s);
  assert.equal(text(await s.readMessage()), 'kept');
  await assert.rejects(s.readMessage(), { code: 'ERROR_BROKEN_PIPE' });
  s.close();
});

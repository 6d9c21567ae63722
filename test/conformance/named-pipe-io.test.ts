/**
 * Named pipes, the data: byte and message reads, zero-length messages and reads, flow
 * control against the reader's buffer, pending reads, peek, transact, the other end gone,
 * per-end read modes and stream(). Run over both backends (the object manager only matches
 * the ends; the bytes always flow over their own connection).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { NamedPipe, NamedPipeServer, type NamedPipeServerOptions } from '../../src/client/index.ts';
import type { NamedPipeEnd } from '../../src/client/named-pipe.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { track } from '../helpers/pending.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => Buffer.from(s);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Wait until `n` bytes that were already written to `end` have arrived there. A write
 * resolves once its bytes are committed to the reader's connection; this lets the reader's
 * process take them in (it yields to the event loop; it never sleeps).
 */
async function arrived(end: NamedPipeEnd, n: number): Promise<void> {
  while ((await end.peek(0)).bytesAvailable < n) await turn();
}

/** Read exactly `n` bytes (byte read mode). */
async function readExactly(end: NamedPipeEnd, n: number): Promise<Buffer> {
  const out = Buffer.alloc(n);
  let got = 0;
  while (got < n) got += (await end.read(out.subarray(got))).bytesRead;
  return out;
}

for (const backendName of backendNames) {
  describe(`NamedPipe data (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    let n = 0;
    /** A connected server and client on a fresh pipe. */
    async function pair(opts: NamedPipeServerOptions = {}, access?: 'read' | 'write' | 'readwrite') {
      const name = `\\\\.\\pipe\\ntipc-io-${process.pid}-${++n}`;
      const s = await NamedPipeServer.create(name, { connection: a, ...opts });
      const c = await NamedPipe.open(name, { connection: b, access });
      return { s, c, name, close: () => Promise.all([c.close(), s.close()]) };
    }
    const message: NamedPipeServerOptions = { type: 'message', readMode: 'message' };
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('a client of a message pipe starts in byte read mode and joins messages; in message read mode it reads them one by one', async () => {
      const { s, c, close } = await pair(message);
      await s.write(bytes('Bit Bucket\0'));
      await s.write(bytes('More bits\0'));
      await arrived(c, 21);
      const buf = new Uint8Array(32);
      assert.deepEqual(await c.read(buf), { bytesRead: 21, moreData: false });
      assert.equal(text(buf.subarray(0, 21)), 'Bit Bucket\0More bits\0');
      await c.setState({ readMode: 'message' });
      await s.write(bytes('Bit Bucket\0'));
      await s.write(bytes('More bits\0'));
      await arrived(c, 21);
      assert.deepEqual(await c.read(buf), { bytesRead: 11, moreData: false });
      assert.deepEqual(await c.read(buf), { bytesRead: 10, moreData: false });
      await close();
    });

    test('byte read mode never reports moreData, even on a message pipe', async () => {
      const { s, c, close } = await pair(message);
      await s.write(bytes('More bits\0'));
      await arrived(c, 10);
      assert.deepEqual(await c.read(new Uint8Array(4)), { bytesRead: 4, moreData: false });
      assert.deepEqual(await c.read(new Uint8Array(32)), { bytesRead: 6, moreData: false });
      await close();
    });

    test('message read mode: a short buffer gets the part that fits with moreData, and the rest stays for the next read', async () => {
      const { s, c, close } = await pair(message);
      await c.write(bytes('Bit Bucket\0'));
      await c.write(bytes('More bits\0'));
      await arrived(s, 21);
      const buf = new Uint8Array(4);
      assert.deepEqual(await s.read(buf), { bytesRead: 4, moreData: true });
      assert.equal(text(buf), 'Bit ');
      assert.deepEqual(await s.peek(32).then((p) => [text(p.data), p.bytesAvailable, p.messageBytesLeft]), ['Bucket\0', 17, 0]);
      const rest = new Uint8Array(32);
      assert.deepEqual(await s.read(rest), { bytesRead: 7, moreData: false });
      assert.equal(text(rest.subarray(0, 7)), 'Bucket\0');
      assert.equal(text(await s.readMessage()), 'More bits\0');
      await close();
    });

    test('zero-length messages are real on message pipes; a zero-length write on a byte pipe is nothing', async () => {
      const m = await pair(message);
      assert.equal(await m.c.write(new Uint8Array(0)), 0);
      await m.c.write(bytes('after'));
      await arrived(m.s, 5);
      assert.equal((await m.s.readMessage()).length, 0);
      assert.equal(text(await m.s.readMessage()), 'after');
      await m.close();
      const p = await pair({ type: 'byte' });
      assert.equal(await p.c.write(new Uint8Array(0)), 0);
      await p.c.write(bytes('data'));
      await arrived(p.s, 4);
      assert.deepEqual(await p.s.read(new Uint8Array(16)), { bytesRead: 4, moreData: false });
      await p.close();
    });

    test('a zero-length read with data there returns 0 and leaves the data; on an empty pipe it waits for data', async () => {
      const { s, c, close } = await pair();
      const waiting = track(s.read(new Uint8Array(0)));
      const after = track(s.read(new Uint8Array(1000)));
      await c.write(bytes('x'));
      assert.deepEqual(await waiting.promise, { bytesRead: 0, moreData: false });
      assert.deepEqual(await after.promise, { bytesRead: 1, moreData: false });
      await c.write(bytes('yz'));
      await arrived(s, 2);
      assert.deepEqual(await s.read(new Uint8Array(0)), { bytesRead: 0, moreData: false });
      assert.equal((await s.peek(0)).bytesAvailable, 2);
      await close();
    });

    test('a pending read completes with whatever arrives', async () => {
      const { s, c, close } = await pair();
      const reading = s.read(new Uint8Array(2));
      await c.write(bytes('1'));
      assert.deepEqual(await reading, { bytesRead: 1, moreData: false });
      await close();
    });

    test("a write larger than the reader's buffer stays pending until the remainder fits", async () => {
      const B = 1024;
      const { s, c, close } = await pair({ inBufferSize: B });
      const data = randomBytes(B + 2000);
      const writing = track(c.write(data));
      const first = await readExactly(s, 1999);
      assert.equal(writing.settled, false, 'B + 1 bytes are still unread');
      const second = await readExactly(s, 1);
      assert.equal(await writing.promise, B + 2000);
      const last = await readExactly(s, B);
      assert.ok(Buffer.concat([first, second, last]).equals(data));
      await close();
    });

    test('with a buffer of 0 every write waits until it is read; zero-length writes never wait', async () => {
      const { s, c, close } = await pair({ ...message, inBufferSize: 0, outBufferSize: 0 });
      assert.equal(await c.write(new Uint8Array(0)), 0);
      assert.equal(await s.write(new Uint8Array(0)), 0);
      const writing = track(c.write(bytes('abc')));
      assert.equal((await s.readMessage()).length, 0);
      assert.equal(text(await s.readMessage()), 'abc');
      assert.equal(await writing.promise, 3);
      await close();
    });

    test('pending reads are served in order; an aborted one rejects with its reason and the other gets the byte', async () => {
      const { s, c, close } = await pair();
      const ac = new AbortController();
      const first = track(s.read(new Uint8Array(1)));
      const second = s.read(new Uint8Array(1), { signal: ac.signal });
      ac.abort(new Error('not this one'));
      await assert.rejects(second, /not this one/);
      await c.write(bytes('!'));
      assert.deepEqual(await first.promise, { bytesRead: 1, moreData: false });
      await close();
    });

    test('peek on a byte pipe: everything there, without consuming; messageBytesLeft is 0', async () => {
      const { s, c, close } = await pair();
      await s.write(bytes('Bit Bucket\0'));
      await arrived(c, 11);
      assert.deepEqual(await c.peek(0), { data: Buffer.alloc(0), bytesAvailable: 11, messageBytesLeft: 0 });
      await readExactly(c, 11);
      await s.write(bytes('More bits\0'));
      await arrived(c, 10);
      const p = await c.peek(4);
      assert.deepEqual([text(p.data), p.bytesAvailable, p.messageBytesLeft], ['More', 10, 0]);
      await s.write(bytes('Bit Bucket\0'));
      await arrived(c, 21);
      const all = await c.peek(32);
      assert.deepEqual([all.data.length, all.bytesAvailable], [21, 21]);
      assert.equal(text(await readExactly(c, 21)), 'More bits\0Bit Bucket\0');
      await close();
    });

    test('peek on a message pipe sees only the first message, whatever the read mode', async () => {
      const { s, c, close } = await pair(message);
      await s.write(bytes('Bit Bucket\0'));
      await s.write(bytes('More bits\0'));
      await arrived(c, 21);
      const p = await c.peek(32);
      assert.deepEqual([text(p.data), p.bytesAvailable, p.messageBytesLeft], ['Bit Bucket\0', 21, 0]);
      const q = await c.peek(4);
      assert.deepEqual([text(q.data), q.bytesAvailable, q.messageBytesLeft], ['Bit ', 21, 7]);
      await close();
    });

    test("peek counts the data of a write still pending on the reader's buffer", async () => {
      const { s, c, close } = await pair({ type: 'message', readMode: 'message', inBufferSize: 1024 });
      await c.write(Buffer.alloc(1000, 1));
      const writing = track(c.write(Buffer.alloc(3000, 2)));
      await arrived(s, 4000);
      const p = await s.peek(0);
      assert.deepEqual([p.bytesAvailable, p.messageBytesLeft], [4000, 1000]);
      assert.equal(writing.settled, false);
      assert.equal((await s.readMessage()).length, 1000);
      assert.equal((await s.readMessage()).length, 3000);
      assert.equal(await writing.promise, 3000);
      await close();
    });

    test('transact needs a message pipe in message read mode, else ERROR_BAD_PIPE', async () => {
      const p = await pair({ type: 'byte' });
      await assert.rejects(p.c.transact(bytes('x'), 10), { code: 'ERROR_BAD_PIPE', errno: 230 });
      await assert.rejects(p.s.transact(bytes('x'), 10), { code: 'ERROR_BAD_PIPE' });
      await p.close();
      const m = await pair(message);
      await assert.rejects(m.c.transact(bytes('x'), 10), { code: 'ERROR_BAD_PIPE' }, 'the client is in byte read mode');
      await m.close();
    });

    test('transact with a reply already queued fails ERROR_PIPE_BUSY and the reply stays readable', async () => {
      const { s, c, close } = await pair(message);
      await c.setState({ readMode: 'message' });
      await s.write(bytes('1'));
      await arrived(c, 1);
      await assert.rejects(c.transact(bytes('12'), 1), { code: 'ERROR_PIPE_BUSY', errno: 231 });
      assert.equal(text(await c.readMessage()), '1');
      await close();
    });

    test("transact: the callee reads the request; a reply longer than the caller's buffer is cut with moreData and the rest stays queued", async () => {
      const { s, c, close } = await pair(message);
      await c.setState({ readMode: 'message' });
      const calleeRead = s.read(new Uint8Array(10));
      const transacting = c.transact(bytes('12345'), 6);
      assert.deepEqual(await calleeRead, { bytesRead: 5, moreData: false });
      await s.write(bytes('abcdefghij'));
      assert.deepEqual(await transacting, { data: bytes('abcdef'), moreData: true });
      const rest = new Uint8Array(10);
      assert.deepEqual(await c.read(rest), { bytesRead: 4, moreData: false });
      assert.equal(text(rest.subarray(0, 4)), 'ghij');
      await close();
    });

    test("a callee's own transact answers the caller's", async () => {
      const { s, c, close } = await pair(message);
      await c.setState({ readMode: 'message' });
      const calling = c.transact(bytes('ping'), 100);
      assert.equal(text(await s.readMessage()), 'ping');
      const answering = s.transact(bytes('pong'), 100);
      assert.deepEqual(await calling, { data: bytes('pong'), moreData: false });
      await c.write(bytes('next'));
      assert.deepEqual(await answering, { data: bytes('next'), moreData: false });
      await close();
    });

    test('the server closing with an unread message: the client reads it, then ERROR_BROKEN_PIPE; writes fail ERROR_NO_DATA', async () => {
      const { s, c } = await pair(message);
      await s.write(bytes('Hello World\0'));
      await s.close();
      await arrived(c, 12);
      assert.deepEqual(await c.read(new Uint8Array(0)), { bytesRead: 0, moreData: false });
      assert.equal((await c.peek(0)).bytesAvailable, 12);
      const buf = new Uint8Array(32);
      assert.deepEqual(await c.read(buf), { bytesRead: 12, moreData: false });
      await c.setState({ readMode: 'message' });
      await assert.rejects(c.read(new Uint8Array(0)), { code: 'ERROR_BROKEN_PIPE', errno: 109 });
      await assert.rejects(c.peek(0), { code: 'ERROR_BROKEN_PIPE' });
      await assert.rejects(c.write(bytes('Hello World\0')), { code: 'ERROR_NO_DATA', errno: 232 });
      await c.close();
    });

    test('the client closing: the server drains its messages, the empty one included, then ERROR_BROKEN_PIPE', async () => {
      const { s, c } = await pair(message);
      await c.write(bytes('Hello World\0'));
      await c.write(new Uint8Array(0));
      await c.close();
      assert.equal(text(await s.readMessage()), 'Hello World\0');
      assert.equal((await s.readMessage()).length, 0);
      await assert.rejects(s.read(new Uint8Array(32)), { code: 'ERROR_BROKEN_PIPE' });
      await assert.rejects(s.peek(0), { code: 'ERROR_BROKEN_PIPE' });
      await assert.rejects(s.write(bytes('x')), { code: 'ERROR_NO_DATA' });
      await s.close();
    });

    test('a pending read fails ERROR_BROKEN_PIPE when the other end closes', async () => {
      const { s, c } = await pair();
      const reading = track(c.read(new Uint8Array(8)));
      await s.close();
      await assert.rejects(reading.promise, { code: 'ERROR_BROKEN_PIPE' });
      await c.close();
    });

    test('disconnect discards unread data both ways and fails pending reads ERROR_PIPE_NOT_CONNECTED', async () => {
      const { s, c, name } = await pair({ maxInstances: 1 });
      await c.write(bytes('stale'));
      await s.write(bytes('stale too'));
      await arrived(s, 5);
      await arrived(c, 9);
      const pendingOnClient = track(c.read(new Uint8Array(100)).then(() => c.read(new Uint8Array(100))));
      await s.disconnect();
      await assert.rejects(pendingOnClient.promise, { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(s.read(new Uint8Array(8)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      const connecting = s.connect();
      const c2 = await NamedPipe.open(name, { connection: b });
      await connecting;
      await c2.write(bytes('fresh'));
      assert.equal(text(await s.readMessage()), 'fresh', 'what the first client wrote is gone');
      await Promise.all([c.close(), c2.close(), s.close()]);
    });

    test('flush() resolves once the other end has read everything written before it; a disconnect then loses nothing', async () => {
      const { s, c, close } = await pair({ ...message, outBufferSize: 64 });
      await s.flush(); // nothing written: at once
      await c.setState({ readMode: 'message' });
      const lines = ['one', 'two', 'three'];
      for (const l of lines) await s.write(bytes(l));
      const flushed = track(s.flush());
      await arrived(c, 11);
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(flushed.settled, false, 'nothing read yet: the flush waits');
      const got: string[] = [];
      for (let i = 0; i < lines.length; i++) got.push(text(await c.readMessage()));
      await flushed.promise;
      assert.deepEqual(got, lines);
      await s.disconnect();
      await assert.rejects(c.readMessage(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await close();
    });

    test('flush() in every state (NP-BR09): the other end gone ends a waiting flush; listening and disconnected servers have nothing to flush; a disconnected client fails', async () => {
      const { s, c, close } = await pair({ ...message, outBufferSize: 4096 });
      await s.write(bytes('never read'));
      const flushed = track(s.flush());
      await arrived(c, 10);
      assert.equal(flushed.settled, false);
      await c.close();
      await flushed.promise; // nothing more will be read: nothing to wait for
      await s.flush(); // closing, data or not: ok
      await s.disconnect();
      await s.flush(); // a disconnected server: ok
      await s.close();
      await assert.rejects(s.flush(), { code: 'ERROR_INVALID_HANDLE' });
      await close();

      const p = await pair();
      await p.s.disconnect();
      await assert.rejects(p.c.flush(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await p.close();
      const name = `\\\\.\\pipe\\ntipc-io-${process.pid}-listening-${++n}`;
      const listening = await NamedPipeServer.create(name, { connection: a });
      await listening.flush(); // listening: ok
      await listening.close();
      const inbound = await pair({ access: 'inbound' }, 'write');
      await assert.rejects(inbound.s.flush(), { code: 'ERROR_ACCESS_DENIED' });
      await inbound.close();
    });

    test('read modes are per end: the client switching leaves the server as it was; message mode on a byte pipe is refused', async () => {
      const m = await pair({ type: 'message', readMode: 'byte' });
      await m.c.setState({ readMode: 'message' });
      assert.equal((await m.c.state()).readMode, 'message');
      assert.equal((await m.s.state()).readMode, 'byte');
      await m.s.setState({ readMode: 'message' });
      await m.c.setState({ readMode: 'byte' });
      assert.equal((await m.s.state()).readMode, 'message');
      await assert.rejects(m.c.setState({ readMode: 'stream' as never }), { code: 'ERROR_INVALID_PARAMETER' });
      await m.close();
      const p = await pair({ type: 'byte' });
      await assert.rejects(p.c.setState({ readMode: 'message' }), { code: 'ERROR_INVALID_PARAMETER', errno: 87 });
      await assert.rejects(p.s.setState({ readMode: 'message' }), { code: 'ERROR_INVALID_PARAMETER' });
      await p.close();
    });

    test('a message larger than both buffers arrives whole, in order with its neighbours', async () => {
      const { s, c, close } = await pair({ ...message, inBufferSize: 4096 });
      const big = randomBytes(300_000);
      const writes = Promise.all([c.write(bytes('before')), c.write(big), c.write(bytes('after'))]);
      assert.equal(text(await s.readMessage()), 'before');
      assert.ok((await s.readMessage()).equals(big));
      assert.equal(text(await s.readMessage()), 'after');
      assert.deepEqual(await writes, [6, big.length, 5]);
      await close();
    });

    test('stream(): a byte pipe carries a pipeline both ways and ends when the other end closes', async () => {
      const { s, c } = await pair({ inBufferSize: 16 * 1024, outBufferSize: 16 * 1024 });
      const data = randomBytes(2 * 1024 * 1024);
      const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      const received: Buffer[] = [];
      const collect = pipeline(
        s.stream(),
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            received.push(chunk);
            cb();
          },
        }),
      );
      const chunks = function* () {
        for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
      };
      const clientStream = c.stream();
      await pipeline(Readable.from(chunks()), clientStream);
      await c.close();
      await collect;
      assert.equal(hash(Buffer.concat(received)), hash(data));
      await s.close();
    });
  });
}

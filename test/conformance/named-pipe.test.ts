/**
 * Named pipes, the control plane: names and instances, the instance lifecycle (listening,
 * connected, closing, disconnected) and its error codes, WaitNamedPipe, access against the
 * pipe's direction, info and state, listings, CallNamedPipe. Run over both backends; the
 * data between server and client always flows over their own connection.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Access, NamedPipe, NamedPipeServer, callNamedPipe, waitNamedPipe, type NamedPipeServerOptions } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { started, pendingOf } from '../helpers/pending.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => Buffer.from(s);

for (const backendName of backendNames) {
  describe(`NamedPipe lifecycle (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    let n = 0;
    const pipeName = (tag: string) => `\\\\.\\pipe\\ntipc-conf-${tag}-${process.pid}-${++n}`;
    const serve = (name: string, opts: NamedPipeServerOptions = {}) => NamedPipeServer.create(name, { connection: a, ...opts });
    const open = (name: string, access?: 'read' | 'write' | 'readwrite' | number) => NamedPipe.open(name, { connection: b, access });
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('a name not under \\\\.\\pipe\\ fails ERROR_INVALID_NAME, and so does creating one on another machine', async () => {
      for (const name of ['not a named pipe', '\\\\.\\pipe\\', '\\\\.\\pipes\\x', `\\\\.\\pipe\\${'x'.repeat(250)}`, '\\\\otherhost\\pipe\\x']) {
        await assert.rejects(serve(name), { code: 'ERROR_INVALID_NAME', errno: 123 }, JSON.stringify(name));
      }
    });

    test('a byte pipe read in message mode, or a bad maximum, size or option, fails ERROR_INVALID_PARAMETER', async () => {
      const name = pipeName('params');
      const bad: NamedPipeServerOptions[] = [
        { type: 'byte', readMode: 'message' },
        { maxInstances: 0 }, { maxInstances: 256 }, { maxInstances: 1.5 }, { maxInstances: -1 },
        { outBufferSize: -1 }, { inBufferSize: 2 ** 32 }, { defaultTimeoutMs: NaN },
        { type: 'stream' as never }, { access: 'both' as never }, { readMode: 'messages' as never },
      ];
      for (const opts of bad) await assert.rejects(serve(name, opts), { code: 'ERROR_INVALID_PARAMETER', errno: 87 }, JSON.stringify(opts));
      await assert.rejects(open(name), { code: 'ERROR_FILE_NOT_FOUND' }, 'nothing was created');
    });

    test('the maximum is enforced: one instance too many fails ERROR_PIPE_BUSY; existed says whether the pipe was there', async () => {
      const name = pipeName('max');
      const one = await serve(name, { maxInstances: 1 });
      assert.equal(one.existed, false);
      await assert.rejects(serve(name, { maxInstances: 1 }), { code: 'ERROR_PIPE_BUSY', errno: 231 });
      await one.close();
      const name2 = pipeName('max2');
      const x = await serve(name2, { maxInstances: 2 });
      const y = await serve(name2, { maxInstances: 2 });
      assert.deepEqual([x.existed, y.existed], [false, true]);
      await assert.rejects(serve(name2, { maxInstances: 2 }), { code: 'ERROR_PIPE_BUSY' });
      await Promise.all([x.close(), y.close()]);
    });

    test('later instances may differ in everything but the direction (ERROR_ACCESS_DENIED)', async () => {
      const name = pipeName('differ');
      const first = await serve(name, { type: 'byte', maxInstances: 4, outBufferSize: 1024, inBufferSize: 1024 });
      const second = await serve(name, { type: 'message', readMode: 'message', maxInstances: 3, outBufferSize: 102, inBufferSize: 24, defaultTimeoutMs: 1234 });
      assert.equal(second.existed, true);
      await assert.rejects(serve(name, { access: 'inbound' }), { code: 'ERROR_ACCESS_DENIED', errno: 5 });
      await assert.rejects(serve(name, { access: 'outbound' }), { code: 'ERROR_ACCESS_DENIED' });
      assert.deepEqual(await second.info(), { type: 'message', end: 'server', maxInstances: 4, outBufferSize: 102, inBufferSize: 24 });
      await Promise.all([first.close(), second.close()]);
    });

    test('info() reports the creation values verbatim', async () => {
      const cases: [NamedPipeServerOptions, object][] = [
        [{ type: 'byte', maxInstances: 1, outBufferSize: 1024, inBufferSize: 1024 }, { type: 'byte', end: 'server', maxInstances: 1, outBufferSize: 1024, inBufferSize: 1024 }],
        [{ type: 'message', maxInstances: 3, outBufferSize: 1024, inBufferSize: 1024 }, { type: 'message', end: 'server', maxInstances: 3, outBufferSize: 1024, inBufferSize: 1024 }],
        [{ outBufferSize: 0, inBufferSize: 0 }, { type: 'byte', end: 'server', maxInstances: 'unlimited', outBufferSize: 0, inBufferSize: 0 }],
        [{ outBufferSize: 0xf000, inBufferSize: 0xf000 }, { type: 'byte', end: 'server', maxInstances: 'unlimited', outBufferSize: 0xf000, inBufferSize: 0xf000 }],
      ];
      for (const [opts, expect] of cases) {
        const s = await serve(pipeName('info'), opts);
        assert.deepEqual(await s.info(), expect);
        await s.close();
      }
      const name = pipeName('info-client');
      const s = await serve(name, { type: 'message', maxInstances: 2, outBufferSize: 300, inBufferSize: 200 });
      const c = await open(name);
      assert.deepEqual(await c.info(), { type: 'message', end: 'client', maxInstances: 2, outBufferSize: 300, inBufferSize: 200 });
      await Promise.all([c.close(), s.close()]);
    });

    test('a fresh instance takes a client before connect(); I/O works both ways; connect() then resolves at once', async () => {
      const name = pipeName('fresh');
      const s = await serve(name);
      const c = await open(name);
      assert.equal(await c.write(bytes('Bit Bucket\0')), 11);
      const buf = new Uint8Array(32);
      assert.deepEqual(await s.read(buf), { bytesRead: 11, moreData: false });
      assert.equal(text(buf.subarray(0, 11)), 'Bit Bucket\0');
      assert.equal(await s.write(bytes('More bits\0')), 10);
      assert.deepEqual(await c.read(buf), { bytesRead: 10, moreData: false });
      assert.deepEqual(await s.connect(), { alreadyConnected: true });
      await Promise.all([c.close(), s.close()]);
    });

    test('a pending connect() completes when a client opens the pipe', async () => {
      const name = pipeName('pending');
      const s = await serve(name);
      const c0 = await open(name);
      await c0.close();
      await s.disconnect();
      const connecting = await started(a, s.connect());
      assert.deepEqual(await pendingOf([a], [connecting]), [true]);
      const c = await open(name);
      assert.deepEqual(await connecting.promise, { alreadyConnected: false });
      await c.write(bytes('hello'));
      assert.equal(text(await s.readMessage()), 'hello');
      await Promise.all([c.close(), s.close()]);
    });

    test('I/O on a server that never had a client fails ERROR_PIPE_LISTENING; peek ERROR_BAD_PIPE', async () => {
      const s = await serve(pipeName('listening'));
      await assert.rejects(s.write(bytes('x')), { code: 'ERROR_PIPE_LISTENING', errno: 536 });
      await assert.rejects(s.read(new Uint8Array(4)), { code: 'ERROR_PIPE_LISTENING' });
      await assert.rejects(s.peek(4), { code: 'ERROR_BAD_PIPE', errno: 230 });
      await s.close();
    });

    test('disconnect twice fails ERROR_PIPE_NOT_CONNECTED; a disconnected server reads and writes ERROR_PIPE_NOT_CONNECTED and peeks ERROR_BAD_PIPE', async () => {
      const name = pipeName('disc');
      const s = await serve(name);
      const c = await open(name);
      await s.disconnect();
      await assert.rejects(s.disconnect(), { code: 'ERROR_PIPE_NOT_CONNECTED', errno: 233 });
      await assert.rejects(s.read(new Uint8Array(1)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(s.write(bytes('x')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(s.peek(), { code: 'ERROR_BAD_PIPE' });
      await assert.rejects(c.read(new Uint8Array(1)), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(c.write(bytes('x')), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(c.peek(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await assert.rejects(c.state(), { code: 'ERROR_PIPE_NOT_CONNECTED' });
      await Promise.all([c.close(), s.close()]);
    });

    test('a disconnected instance refuses clients with ERROR_PIPE_BUSY until connect() is called again', async () => {
      const name = pipeName('refuse');
      const s = await serve(name, { maxInstances: 1 });
      await s.disconnect();
      await assert.rejects(open(name), { code: 'ERROR_PIPE_BUSY' });
      const connecting = await started(a, s.connect());
      const c = await open(name);
      assert.deepEqual(await connecting.promise, { alreadyConnected: false });
      await assert.rejects(open(name), { code: 'ERROR_PIPE_BUSY' }, 'its one instance is taken');
      await Promise.all([c.close(), s.close()]);
    });

    test('a client that came and closed: connect() fails ERROR_NO_DATA, disconnect() succeeds, connect() listens again', async () => {
      const name = pipeName('closing');
      const s = await serve(name);
      const c = await open(name);
      await c.write(bytes('left behind'));
      await c.close();
      await assert.rejects(s.connect(), { code: 'ERROR_NO_DATA', errno: 232 });
      assert.equal((await s.state()).state, 'closing');
      assert.equal(text(await s.readMessage()), 'left behind', 'what the client wrote is still there');
      await assert.rejects(s.read(new Uint8Array(4)), { code: 'ERROR_BROKEN_PIPE', errno: 109 });
      await assert.rejects(s.write(bytes('x')), { code: 'ERROR_NO_DATA' });
      await s.disconnect();
      const connecting = s.connect();
      assert.equal((await s.state()).state, 'listening');
      const c2 = await open(name);
      await connecting;
      await Promise.all([c2.close(), s.close()]);
    });

    test('a serve loop: connect, read, echo, wait for the client to close, disconnect — eight clients in turn', async () => {
      const name = pipeName('loop');
      const s = await serve(name, { maxInstances: 1, type: 'message', readMode: 'message' });
      const loop = (async () => {
        for (let i = 0; i < 8; i++) {
          await s.connect();
          const m = await s.readMessage();
          await s.write(m);
          await assert.rejects(s.read(new Uint8Array(1)), { code: 'ERROR_BROKEN_PIPE' });
          await s.disconnect();
        }
      })();
      for (let i = 0; i < 8; i++) {
        let c: NamedPipe;
        for (;;) {
          try {
            c = await open(name);
            break;
          } catch (e) {
            assert.equal((e as { code: string }).code, 'ERROR_PIPE_BUSY');
            await waitNamedPipe(name, Infinity, { connection: b });
          }
        }
        await c.setState({ readMode: 'message' });
        await c.write(bytes(`Bit Bucket ${i}`));
        assert.equal(text(await c.readMessage()), `Bit Bucket ${i}`);
        await c.close();
      }
      await loop;
      await s.close();
    });

    test('an aborted connect() rejects with the reason; the instance keeps listening', async () => {
      const name = pipeName('abort');
      const s = await serve(name);
      const c0 = await open(name);
      await c0.close();
      await s.disconnect();
      const ac = new AbortController();
      const connecting = await started(a, s.connect({ signal: ac.signal }));
      ac.abort(new Error('enough'));
      await assert.rejects(connecting.promise, /enough/);
      const c = await open(name);
      assert.deepEqual(await s.connect(), { alreadyConnected: true });
      await Promise.all([c.close(), s.close()]);
      await assert.rejects(s.connect({ signal: AbortSignal.abort(new Error('already')) }), /already|ERROR_INVALID_HANDLE/);
    });

    test('WaitNamedPipe: a missing pipe fails ERROR_FILE_NOT_FOUND, all instances busy ERROR_SEM_TIMEOUT, a bad name ERROR_PATH_NOT_FOUND', async () => {
      const missing = pipeName('w-missing');
      for (const t of [0, 2000]) await assert.rejects(waitNamedPipe(missing, t, { connection: b }), { code: 'ERROR_FILE_NOT_FOUND', errno: 2 });
      await assert.rejects(waitNamedPipe('not a pipe', 10, { connection: b }), { code: 'ERROR_PATH_NOT_FOUND', errno: 3 });
      await assert.rejects(waitNamedPipe('\\\\faraway\\pipe\\x', 10, { connection: b }), { code: 'ERROR_BAD_NETPATH', errno: 53 });
      const name = pipeName('w-busy');
      const s = await serve(name, { maxInstances: 1 });
      await waitNamedPipe(name, 0, { connection: b });
      const c = await open(name);
      for (const t of [0, 1, 100]) await assert.rejects(waitNamedPipe(name, t, { connection: b }), { code: 'ERROR_SEM_TIMEOUT', errno: 121 });
      await assert.rejects(waitNamedPipe(name, 'default', { connection: b }), { code: 'ERROR_SEM_TIMEOUT' });
      await assert.rejects(waitNamedPipe(name, -1, { connection: b }), { code: 'ERROR_INVALID_PARAMETER' });
      await Promise.all([c.close(), s.close()]);
    });

    test('WaitNamedPipe is woken when a disconnected instance listens again', async () => {
      const name = pipeName('w-wake');
      const s = await serve(name, { maxInstances: 1 });
      const c = await open(name);
      await c.close();
      await s.disconnect();
      const waiting = await started(b, waitNamedPipe(name, Infinity, { connection: b }));
      assert.deepEqual(await pendingOf([b], [waiting]), [true]);
      const connecting = s.connect();
      await waiting.promise;
      const c2 = await open(name);
      await connecting;
      await Promise.all([c2.close(), s.close()]);
    });

    test('client access must suit the direction: reading needs outbound or duplex, writing inbound or duplex', async () => {
      const inbound = pipeName('in');
      const sIn = await serve(inbound, { access: 'inbound' });
      await assert.rejects(open(inbound, 'read'), { code: 'ERROR_ACCESS_DENIED' });
      await assert.rejects(open(inbound, 'readwrite'), { code: 'ERROR_ACCESS_DENIED' });
      const writer = await open(inbound, 'write');
      await writer.write(bytes('up'));
      assert.equal(text(await sIn.readMessage()), 'up');
      await assert.rejects(writer.read(new Uint8Array(2)), { code: 'ERROR_ACCESS_DENIED' });
      await assert.rejects(sIn.write(bytes('down')), { code: 'ERROR_ACCESS_DENIED' });
      const outbound = pipeName('out');
      const sOut = await serve(outbound, { access: 'outbound' });
      await assert.rejects(open(outbound, 'write'), { code: 'ERROR_ACCESS_DENIED' });
      const reader = await open(outbound, 'read');
      await sOut.write(bytes('down'));
      assert.equal(text(await reader.readMessage()), 'down');
      await assert.rejects(reader.write(bytes('up')), { code: 'ERROR_ACCESS_DENIED' });
      await assert.rejects(sOut.read(new Uint8Array(2)), { code: 'ERROR_ACCESS_DENIED' });
      // Access 0 always opens.
      const sIn2 = await serve(inbound, { access: 'inbound' });
      const none = await open(inbound, 0);
      await assert.rejects(none.write(bytes('x')), { code: 'ERROR_ACCESS_DENIED' });
      await Promise.all([writer.close(), reader.close(), none.close(), sIn.close(), sIn2.close(), sOut.close()]);
    });

    test('state() gives both pids from either end; after disconnect the server has no client', async () => {
      const name = pipeName('pids');
      const s = await serve(name, { type: 'message', maxInstances: 2 });
      const other = await serve(name, { type: 'message' });
      let st = await s.state();
      assert.deepEqual(st, { readMode: 'byte', state: 'listening', currentInstances: 2, maxInstances: 2, serverPid: process.pid, clientPid: null });
      const c = await open(name);
      st = await c.state();
      assert.deepEqual(st, { readMode: 'byte', state: 'connected', currentInstances: 2, maxInstances: 2, serverPid: process.pid, clientPid: process.pid });
      assert.equal((await s.state()).clientPid, process.pid);
      await s.disconnect();
      assert.deepEqual(await s.state(), { readMode: 'byte', state: 'disconnected', currentInstances: 2, maxInstances: 2, serverPid: process.pid, clientPid: null });
      await Promise.all([c.close(), s.close(), other.close()]);
    });

    test('the server going away: the client drains what is left, then ERROR_BROKEN_PIPE; writes ERROR_NO_DATA; the last instance takes the name', async () => {
      const name = pipeName('server-gone');
      const s = await serve(name, { type: 'message', readMode: 'message' });
      const c = await open(name);
      await s.write(bytes('Hello World\0'));
      await s.close();
      assert.equal(text(await c.readMessage()), 'Hello World\0');
      await assert.rejects(c.read(new Uint8Array(32)), { code: 'ERROR_BROKEN_PIPE' });
      await assert.rejects(c.write(bytes('x')), { code: 'ERROR_NO_DATA' });
      assert.equal((await c.state()).state, 'closing');
      await assert.rejects(open(name), { code: 'ERROR_FILE_NOT_FOUND' });
      await c.close();
    });

    test('a closed handle fails ERROR_INVALID_HANDLE; close twice does nothing; pipe handles are not waitable', async () => {
      const name = pipeName('closed');
      const s = await serve(name);
      const c = await open(name);
      await assert.rejects(s.wait(0), { code: 'ERROR_INVALID_HANDLE' });
      await assert.rejects(c.wait(0), { code: 'ERROR_INVALID_HANDLE' });
      await c.close();
      await c.close();
      await assert.rejects(c.write(bytes('x')), { code: 'ERROR_INVALID_HANDLE' });
      await assert.rejects(c.read(new Uint8Array(1)), { code: 'ERROR_INVALID_HANDLE' });
      await s.close();
      for (const op of [() => s.connect(), () => s.disconnect(), () => s.read(new Uint8Array(1)), () => s.info(), () => s.state()]) {
        await assert.rejects(op(), { code: 'ERROR_INVALID_HANDLE' });
      }
    });

    test('names are case-insensitive, and this machine may be named by its host name; another machine is ERROR_BAD_NETPATH', async () => {
      const name = pipeName('Case');
      const s = await serve(name, { maxInstances: 3 });
      const s2 = await serve(name);
      const path = name.slice('\\\\.\\pipe\\'.length);
      const c1 = await open(`\\\\.\\PIPE\\${path.toUpperCase()}`);
      const c2 = await open(`\\\\${os.hostname()}\\pipe\\${path.toLowerCase()}`);
      await assert.rejects(open(`\\\\not-this-host-${process.pid}\\pipe\\${path}`), { code: 'ERROR_BAD_NETPATH' });
      await Promise.all([c1.close(), c2.close(), s.close(), s2.close()]);
    });

    test('listings show each instance and client with the pipe name and state; query() works on pipe handles', async () => {
      const name = pipeName('Listed');
      const s1 = await serve(name, { maxInstances: 2, type: 'message' });
      const s2 = await serve(name, { type: 'message' });
      const c = await open(name);
      const mine = (await a.request('listObjects', { type: 'NamedPipe' })).objects.filter((o) => o.name === name);
      assert.deepEqual(
        mine.map((o) => [o.state.end, o.state.state]).sort(),
        [['client', 'connected'], ['server', 'connected'], ['server', 'listening']],
      );
      const q = await s1.query();
      assert.equal(q.type, 'NamedPipe');
      assert.equal(q.name, name);
      assert.equal(q.state.instances, 2);
      assert.equal((await c.query()).state.serverPid, process.pid);
      await Promise.all([c.close(), s1.close(), s2.close()]);
    });

    test('callNamedPipe: open, message mode, one transaction, close; a longer reply is cut with moreData', async () => {
      const name = pipeName('call');
      const s = await serve(name, { type: 'message', readMode: 'message', maxInstances: 1 });
      const server = (async () => {
        for (const reply of ['short reply', 'a reply longer than eight']) {
          await s.connect();
          const m = await s.readMessage();
          await s.write(bytes(`${text(m)}: ${reply}`));
          await assert.rejects(s.read(new Uint8Array(1)), { code: 'ERROR_BROKEN_PIPE' });
          await s.disconnect();
        }
      })();
      assert.deepEqual(await callNamedPipe(name, bytes('one'), 100, 1000, { connection: b }), { data: bytes('one: short reply'), moreData: false });
      const long = await callNamedPipe(name, bytes('two'), 8, Infinity, { connection: b });
      assert.deepEqual(long, { data: bytes('two: a r'), moreData: true });
      await server;
      await s.close();
      await assert.rejects(callNamedPipe(name, bytes('x'), 10, 0, { connection: b }), { code: 'ERROR_FILE_NOT_FOUND' });
      const bytePipe = pipeName('call-byte');
      const sb = await serve(bytePipe, { type: 'byte' });
      await assert.rejects(callNamedPipe(bytePipe, bytes('x'), 10, 0, { connection: b }), { code: 'ERROR_INVALID_PARAMETER' });
      await sb.close();
    });

    test('callNamedPipe waits for a busy pipe once, up to its timeout', async () => {
      const name = pipeName('call-busy');
      const s = await serve(name, { type: 'message', readMode: 'message', maxInstances: 1 });
      const holder = await open(name);
      await assert.rejects(callNamedPipe(name, bytes('x'), 10, 0, { connection: b }), { code: 'ERROR_SEM_TIMEOUT' });
      const calling = await started(b, callNamedPipe(name, bytes('ping'), 10, Infinity, { connection: b }));
      assert.deepEqual(await pendingOf([b], [calling]), [true], 'waiting for the instance');
      await holder.close();
      await s.disconnect();
      await s.connect();
      assert.equal(text(await s.readMessage()), 'ping');
      await s.write(bytes('pong'));
      assert.deepEqual(await calling.promise, { data: bytes('pong'), moreData: false });
      await s.close();
    });

    test('GENERIC rights and masks: a client opened with a mask has those rights', async () => {
      const name = pipeName('mask');
      const s = await serve(name);
      const c = await open(name, Access.GENERIC_READ);
      await s.write(bytes('r'));
      assert.equal(text(await c.readMessage()), 'r');
      await assert.rejects(c.write(bytes('w')), { code: 'ERROR_ACCESS_DENIED' });
      await assert.rejects(c.setState({ readMode: 'byte' }), { code: 'ERROR_ACCESS_DENIED' }, 'no FILE_WRITE_ATTRIBUTES');
      await Promise.all([c.close(), s.close()]);
    });
  });
}

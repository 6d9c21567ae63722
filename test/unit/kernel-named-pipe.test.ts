/**
 * Named pipes in the kernel (the control plane), on a fake clock: names and instances, the
 * instance state machine (listening, connected, closing, disconnected) and its errors, the
 * listen order, WaitNamedPipe to the millisecond, access against direction, the death of
 * either process, and what listings show.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError, type StatusCode } from '../../src/errors.ts';
import { Access } from '../../src/protocol/access.ts';
import { PipeAccess, PipeDirection, PipeMode, PipeState } from '../../src/protocol/named-pipe.ts';
import type { RequestOf } from '../../src/protocol/schema.ts';
import { KernelHarness, type TestThread } from '../helpers/kernel-harness.ts';

type CreateOpts = Partial<RequestOf<'createNamedPipe'>>;
let tokens = 0;
const token = () => `token-${++tokens}`;

function create(t: TestThread, name: string, opts: CreateOpts = {}) {
  return t.call('createNamedPipe', {
    name,
    direction: PipeDirection.duplex,
    pipeType: PipeMode.message,
    readMode: PipeMode.message,
    maxInstances: 4,
    outBufferSize: 1024,
    inBufferSize: 1024,
    defaultTimeoutMs: 0,
    endpoint: '\0ntipc-pipe-test',
    token: token(),
    ...opts,
  });
}

function createFails(t: TestThread, name: string, opts: CreateOpts = {}): StatusCode {
  try {
    create(t, name, opts);
  } catch (e) {
    if (e instanceof StatusError) return e.code;
    throw e;
  }
  assert.fail(`createNamedPipe ${name} did not fail`);
}

const READWRITE = Access.GENERIC_READ | Access.GENERIC_WRITE;
const open = (t: TestThread, name: string, access = READWRITE) => t.call('openNamedPipe', { name, access });
const openFails = (t: TestThread, name: string, access = READWRITE) => t.fails('openNamedPipe', { name, access });
const connect = (t: TestThread, handle: number, tok = '') => t.start('connectNamedPipe', { handle, token: tok });
const waitPipe = (t: TestThread, name: string, timeoutMs: number, useDefault = false) => t.start('waitNamedPipe', { name, timeoutMs, useDefault });
const stateOf = (t: TestThread, handle: number) => t.call('queryNamedPipe', { handle }).pipeState;

/** A server process, a client process, and a third one. */
function setup() {
  const k = new KernelHarness();
  return { k, server: k.thread(10), client: k.thread(20), other: k.thread(30) };
}

describe('named pipe creation and instances', () => {
  test('the name must be \\\\.\\pipe\\NAME: anything else fails ERROR_INVALID_NAME, and so does another machine', () => {
    const { server } = setup();
    for (const name of ['not a named pipe', '\\\\.\\pipe\\', '\\\\.\\mailslot\\x', '\\\\.\\pipe\\a\\\\b', `\\\\.\\pipe\\${'x'.repeat(250)}`, '\\\\host\\pipe\\x']) {
      assert.equal(createFails(server, name), 'ERROR_INVALID_NAME', JSON.stringify(name));
    }
  });

  test('a byte pipe read in message mode, a bad direction, maximum or timeout fail ERROR_INVALID_PARAMETER', () => {
    const { server } = setup();
    const name = '\\\\.\\pipe\\params';
    assert.equal(createFails(server, name, { pipeType: PipeMode.byte, readMode: PipeMode.message }), 'ERROR_INVALID_PARAMETER');
    for (const direction of [0, 4, 255]) assert.equal(createFails(server, name, { direction }), 'ERROR_INVALID_PARAMETER');
    for (const maxInstances of [0, 256, 0xffff_ffff]) assert.equal(createFails(server, name, { maxInstances }), 'ERROR_INVALID_PARAMETER');
    for (const defaultTimeoutMs of [NaN, -1]) assert.equal(createFails(server, name, { defaultTimeoutMs }), 'ERROR_INVALID_PARAMETER');
    assert.equal(createFails(server, name, { pipeType: 2 }), 'ERROR_INVALID_PARAMETER');
    assert.equal(createFails(server, name, { token: '' }), 'ERROR_INVALID_PARAMETER');
    assert.equal(createFails(server, name, { endpoint: 'x'.repeat(300) }), 'ERROR_INVALID_PARAMETER');
    // Nothing was made by the failures.
    assert.equal(openFails(server, name), 'ERROR_FILE_NOT_FOUND');
  });

  test('the maximum is enforced: one instance too many fails ERROR_PIPE_BUSY; the first create did not exist, later ones did', () => {
    const { server } = setup();
    const first = create(server, '\\\\.\\pipe\\max', { maxInstances: 2 });
    assert.equal(first.existed, false);
    assert.equal(create(server, '\\\\.\\pipe\\max', { maxInstances: 2 }).existed, true);
    assert.equal(createFails(server, '\\\\.\\pipe\\max', { maxInstances: 2 }), 'ERROR_PIPE_BUSY');
    server.close(first.handle);
    assert.equal(create(server, '\\\\.\\pipe\\max', { maxInstances: 2 }).existed, true);
  });

  test('unlimited (255) has no maximum', () => {
    const { server } = setup();
    for (let i = 0; i < 300; i++) create(server, '\\\\.\\pipe\\unlimited', { maxInstances: 255 });
  });

  test('later instances may differ in type, read mode, maximum, sizes and timeout, never in direction (ERROR_ACCESS_DENIED)', () => {
    const { server } = setup();
    create(server, '\\\\.\\pipe\\differ', { pipeType: PipeMode.byte, readMode: PipeMode.byte, maxInstances: 4 });
    const second = create(server, '\\\\.\\pipe\\differ', { pipeType: PipeMode.message, maxInstances: 3, outBufferSize: 102, inBufferSize: 24, defaultTimeoutMs: 1234 });
    assert.equal(second.existed, true);
    assert.equal(second.maxInstances, 4, "the pipe keeps its first instance's maximum");
    for (const direction of [PipeDirection.inbound, PipeDirection.outbound]) {
      assert.equal(createFails(server, '\\\\.\\pipe\\differ', { direction }), 'ERROR_ACCESS_DENIED');
    }
  });

  test('pipe names are case-insensitive and live apart from kernel object names', () => {
    const { server, client } = setup();
    create(server, '\\\\.\\pipe\\MixedCase');
    open(client, '\\\\.\\PIPE\\mixedcase');
    assert.equal(create(server, '\\\\.\\pipe\\MIXEDCASE').existed, true);
    server.mutex('mixedcase');
  });
});

describe('named pipe connection lifecycle', () => {
  test('a fresh instance takes a client before connect; connect then completes at once, as already connected', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\fresh');
    assert.equal(stateOf(server, s.handle), PipeState.listening);
    const c = open(client, '\\\\.\\pipe\\fresh');
    assert.equal(c.serverPid, 10);
    assert.equal(c.endpoint, '\0ntipc-pipe-test');
    assert.equal(stateOf(server, s.handle), PipeState.connected);
    client.call('confirmNamedPipe', { handle: c.handle });
    const conn = connect(server, s.handle);
    assert.deepEqual(conn.reply, { alreadyConnected: true });
  });

  test('connect while the client is still dialing waits for its confirmation, and still reports already connected', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\dialing');
    const c = open(client, '\\\\.\\pipe\\dialing');
    const conn = connect(server, s.handle);
    assert.ok(conn.pending);
    client.call('confirmNamedPipe', { handle: c.handle });
    assert.deepEqual(conn.reply, { alreadyConnected: true });
    client.call('confirmNamedPipe', { handle: c.handle }); // a second confirmation changes nothing
  });

  test('a pending connect completes when a client connects and confirms; every pending connect of the instance does', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\pending');
    const c = open(client, '\\\\.\\pipe\\pending');
    client.call('confirmNamedPipe', { handle: c.handle });
    server.call('disconnectNamedPipe', { handle: s.handle });
    const one = connect(server, s.handle, token());
    const two = connect(server, s.handle, token());
    assert.ok(one.pending && two.pending);
    assert.equal(stateOf(server, s.handle), PipeState.listening);
    const c2 = open(client, '\\\\.\\pipe\\pending');
    assert.ok(one.pending, 'not before the client confirms');
    client.call('confirmNamedPipe', { handle: c2.handle });
    assert.deepEqual(one.reply, { alreadyConnected: false });
    assert.deepEqual(two.reply, { alreadyConnected: false });
  });

  test('the client gets the token of the listening generation it connected to', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\tokens', { token: 'first' });
    const c = open(client, '\\\\.\\pipe\\tokens');
    assert.equal(c.token, 'first');
    client.close(c.handle);
    server.call('disconnectNamedPipe', { handle: s.handle });
    connect(server, s.handle, 'second');
    assert.equal(open(client, '\\\\.\\pipe\\tokens').token, 'second');
  });

  test('a client that came and closed leaves the instance closing: connect fails ERROR_NO_DATA until disconnect', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\closing');
    const c = open(client, '\\\\.\\pipe\\closing');
    client.call('confirmNamedPipe', { handle: c.handle });
    client.close(c.handle);
    assert.equal(stateOf(server, s.handle), PipeState.closing);
    assert.equal(connect(server, s.handle).error, 'ERROR_NO_DATA');
    assert.equal(connect(server, s.handle).error, 'ERROR_NO_DATA');
    server.call('disconnectNamedPipe', { handle: s.handle });
    const again = connect(server, s.handle, token());
    assert.ok(again.pending, 'listening again');
    assert.equal(stateOf(server, s.handle), PipeState.listening);
  });

  test('a client that closes before confirming fails the pending connect with ERROR_NO_DATA', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\gone-early');
    const conn = connect(server, s.handle);
    const c = open(client, '\\\\.\\pipe\\gone-early');
    client.close(c.handle);
    assert.equal(conn.error, 'ERROR_NO_DATA');
  });

  test('disconnect twice fails ERROR_PIPE_NOT_CONNECTED; a disconnected instance refuses clients until connect', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\disc', { maxInstances: 1 });
    server.call('disconnectNamedPipe', { handle: s.handle });
    assert.equal(server.fails('disconnectNamedPipe', { handle: s.handle }), 'ERROR_PIPE_NOT_CONNECTED');
    assert.equal(stateOf(server, s.handle), PipeState.disconnected);
    assert.equal(openFails(client, '\\\\.\\pipe\\disc'), 'ERROR_PIPE_BUSY');
    const conn = connect(server, s.handle, token());
    assert.ok(conn.pending);
    open(client, '\\\\.\\pipe\\disc');
    assert.equal(openFails(client, '\\\\.\\pipe\\disc'), 'ERROR_PIPE_BUSY', 'the one instance is taken');
  });

  test('disconnect of a listening instance fails its pending connects with ERROR_PIPE_NOT_CONNECTED', () => {
    const { server } = setup();
    const s = create(server, '\\\\.\\pipe\\disc-listening');
    const conn = connect(server, s.handle);
    server.call('disconnectNamedPipe', { handle: s.handle });
    assert.equal(conn.error, 'ERROR_PIPE_NOT_CONNECTED');
  });

  test('a disconnected instance needs a token to listen again', () => {
    const { server } = setup();
    const s = create(server, '\\\\.\\pipe\\need-token');
    server.call('disconnectNamedPipe', { handle: s.handle });
    assert.equal(connect(server, s.handle, '').error, 'ERROR_INVALID_PARAMETER');
    assert.equal(stateOf(server, s.handle), PipeState.disconnected);
  });

  test('the client of a disconnected instance is disconnected: its queries fail ERROR_PIPE_NOT_CONNECTED', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\client-disc');
    const c = open(client, '\\\\.\\pipe\\client-disc');
    assert.equal(stateOf(client, c.handle), PipeState.connected);
    server.call('disconnectNamedPipe', { handle: s.handle });
    assert.equal(client.fails('queryNamedPipe', { handle: c.handle }), 'ERROR_PIPE_NOT_CONNECTED');
    assert.equal(client.info(c.handle).state.state, 'disconnected');
    // Its close does nothing to the instance, which has moved on.
    connect(server, s.handle, token());
    client.close(c.handle);
    assert.equal(stateOf(server, s.handle), PipeState.listening);
  });

  test('clients go to instances in the order they entered the listening state', () => {
    const { server, client } = setup();
    const a = create(server, '\\\\.\\pipe\\order', { token: 'a' });
    create(server, '\\\\.\\pipe\\order', { token: 'b' });
    create(server, '\\\\.\\pipe\\order', { token: 'c' });
    // a leaves and enters the listening state again: it is now after b and c.
    server.call('disconnectNamedPipe', { handle: a.handle });
    connect(server, a.handle, 'a2');
    const tokens = [1, 2, 3].map(() => open(client, '\\\\.\\pipe\\order').token);
    assert.deepEqual(tokens, ['b', 'c', 'a2']);
  });

  test('connect, disconnect and confirm on the wrong end fail ERROR_INVALID_FUNCTION; on another type ERROR_INVALID_HANDLE', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\ends');
    const c = open(client, '\\\\.\\pipe\\ends');
    assert.equal(connect(client, c.handle).error, 'ERROR_INVALID_FUNCTION');
    assert.equal(client.fails('disconnectNamedPipe', { handle: c.handle }), 'ERROR_INVALID_FUNCTION');
    assert.equal(server.fails('confirmNamedPipe', { handle: s.handle }), 'ERROR_INVALID_FUNCTION');
    const m = server.mutex();
    assert.equal(connect(server, m).error, 'ERROR_INVALID_HANDLE');
    assert.equal(server.fails('queryNamedPipe', { handle: m }), 'ERROR_INVALID_HANDLE');
    assert.equal(server.fails('disconnectNamedPipe', { handle: 0x7ffc }), 'ERROR_INVALID_HANDLE');
  });

  test('a cancelled connect fails ERROR_OPERATION_ABORTED and the instance stays listening', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\cancel');
    const conn = connect(server, s.handle);
    assert.equal(server.cancel(conn), true);
    assert.equal(conn.error, 'ERROR_OPERATION_ABORTED');
    assert.equal(stateOf(server, s.handle), PipeState.listening);
    open(client, '\\\\.\\pipe\\cancel');
  });

  test('pipe handles cannot be waited on (ERROR_INVALID_HANDLE)', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\nowait');
    const c = open(client, '\\\\.\\pipe\\nowait');
    assert.equal(server.fails('wait', { handles: [s.handle], all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_HANDLE');
    assert.equal(client.fails('wait', { handles: [c.handle], all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_HANDLE');
  });
});

describe('named pipe open and access', () => {
  test('a missing pipe fails ERROR_FILE_NOT_FOUND, another machine ERROR_BAD_NETPATH, a bad name ERROR_INVALID_NAME', () => {
    const { client } = setup();
    assert.equal(openFails(client, '\\\\.\\pipe\\nobody'), 'ERROR_FILE_NOT_FOUND');
    assert.equal(openFails(client, '\\\\otherhost\\pipe\\x'), 'ERROR_BAD_NETPATH');
    assert.equal(openFails(client, 'nonsense'), 'ERROR_INVALID_NAME');
  });

  test('client access must match the direction: reading needs outbound or duplex, writing inbound or duplex, access 0 always opens', () => {
    const { server, client } = setup();
    const cases: [keyof typeof PipeDirection, number, StatusCode | 'ok'][] = [
      ['duplex', 0, 'ok'], ['duplex', Access.GENERIC_READ, 'ok'], ['duplex', Access.GENERIC_WRITE, 'ok'], ['duplex', READWRITE, 'ok'],
      ['inbound', 0, 'ok'], ['inbound', Access.GENERIC_READ, 'ERROR_ACCESS_DENIED'], ['inbound', Access.GENERIC_WRITE, 'ok'], ['inbound', READWRITE, 'ERROR_ACCESS_DENIED'],
      ['outbound', 0, 'ok'], ['outbound', Access.GENERIC_READ, 'ok'], ['outbound', Access.GENERIC_WRITE, 'ERROR_ACCESS_DENIED'], ['outbound', READWRITE, 'ERROR_ACCESS_DENIED'],
    ];
    for (const [dir, access, expect] of cases) {
      const name = `\\\\.\\pipe\\ac-${dir}-${access}`;
      create(server, name, { direction: PipeDirection[dir] });
      if (expect === 'ok') {
        const c = open(client, name, access);
        assert.equal(c.direction, PipeDirection[dir]);
      } else assert.equal(openFails(client, name, access), expect, `${dir} ${access}`);
    }
  });

  test('MAXIMUM_ALLOWED gives a client every right its direction allows', () => {
    const { server, client } = setup();
    create(server, '\\\\.\\pipe\\max-in', { direction: PipeDirection.inbound });
    const c = open(client, '\\\\.\\pipe\\max-in', Access.MAXIMUM_ALLOWED);
    assert.equal(c.access & PipeAccess.FILE_READ_DATA, 0);
    assert.equal(c.access & PipeAccess.FILE_WRITE_DATA, PipeAccess.FILE_WRITE_DATA);
  });

  test('the client learns the instance: its type, sizes, and the pipe maximum', () => {
    const { server, client } = setup();
    create(server, '\\\\.\\pipe\\learn', { pipeType: PipeMode.byte, readMode: PipeMode.byte, maxInstances: 3, outBufferSize: 0xf000, inBufferSize: 0 });
    const c = open(client, '\\\\.\\pipe\\learn');
    assert.deepEqual(
      { pipeType: c.pipeType, maxInstances: c.maxInstances, outBufferSize: c.outBufferSize, inBufferSize: c.inBufferSize },
      { pipeType: PipeMode.byte, maxInstances: 3, outBufferSize: 0xf000, inBufferSize: 0 },
    );
  });

  test('the state query needs FILE_READ_ATTRIBUTES and reports instances and both pids', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\query', { maxInstances: 3 });
    create(server, '\\\\.\\pipe\\query');
    const c = open(client, '\\\\.\\pipe\\query');
    assert.deepEqual(server.call('queryNamedPipe', { handle: s.handle }), {
      end: 1, pipeState: PipeState.connected, pipeType: PipeMode.message, currentInstances: 2, maxInstances: 3,
      serverPid: 10, clientPid: 20, outBufferSize: 1024, inBufferSize: 1024,
    });
    assert.equal(client.call('queryNamedPipe', { handle: c.handle }).end, 0);
    const blind = open(client, '\\\\.\\pipe\\query', 0);
    assert.equal(client.fails('queryNamedPipe', { handle: blind.handle }), 'ERROR_ACCESS_DENIED');
  });
});

describe('WaitNamedPipe', () => {
  test('a missing pipe fails ERROR_FILE_NOT_FOUND; a bad name ERROR_PATH_NOT_FOUND; another machine ERROR_BAD_NETPATH', () => {
    const { client } = setup();
    assert.equal(waitPipe(client, '\\\\.\\pipe\\none', 0).error, 'ERROR_FILE_NOT_FOUND');
    assert.equal(waitPipe(client, '\\\\.\\pipe\\none', 2000).error, 'ERROR_FILE_NOT_FOUND');
    assert.equal(waitPipe(client, 'no pipe', 10).error, 'ERROR_PATH_NOT_FOUND');
    assert.equal(waitPipe(client, '\\\\far\\pipe\\x', 10).error, 'ERROR_BAD_NETPATH');
    assert.equal(waitPipe(client, '\\\\.\\pipe\\none', NaN).error, 'ERROR_INVALID_PARAMETER');
  });

  test('resolves at once while an instance listens; with all busy it times out ERROR_SEM_TIMEOUT at the exact time', () => {
    const { k, server, client } = setup();
    create(server, '\\\\.\\pipe\\w-busy', { maxInstances: 1 });
    assert.deepEqual(waitPipe(client, '\\\\.\\pipe\\w-busy', 0).reply, {});
    open(client, '\\\\.\\pipe\\w-busy');
    assert.equal(waitPipe(client, '\\\\.\\pipe\\w-busy', 0).error, 'ERROR_SEM_TIMEOUT');
    const w = waitPipe(client, '\\\\.\\pipe\\w-busy', 100);
    k.advance(99);
    assert.ok(w.pending);
    k.advance(1);
    assert.equal(w.error, 'ERROR_SEM_TIMEOUT');
  });

  test('a disconnected instance listening again wakes every waiter', () => {
    const { server, client, other } = setup();
    const s = create(server, '\\\\.\\pipe\\w-wake', { maxInstances: 1 });
    const c = open(client, '\\\\.\\pipe\\w-wake');
    client.close(c.handle);
    server.call('disconnectNamedPipe', { handle: s.handle });
    const w1 = waitPipe(client, '\\\\.\\pipe\\w-wake', 1000);
    const w2 = waitPipe(other, '\\\\.\\pipe\\w-wake', Infinity);
    assert.ok(w1.pending && w2.pending);
    const conn = connect(server, s.handle, token());
    assert.deepEqual(w1.reply, {});
    assert.deepEqual(w2.reply, {});
    assert.ok(conn.pending);
  });

  test('a new instance wakes waiters too', () => {
    const { server, client } = setup();
    create(server, '\\\\.\\pipe\\w-new', { maxInstances: 2 });
    open(client, '\\\\.\\pipe\\w-new');
    const w = waitPipe(client, '\\\\.\\pipe\\w-new', Infinity);
    assert.ok(w.pending);
    create(server, '\\\\.\\pipe\\w-new');
    assert.deepEqual(w.reply, {});
  });

  test("'default' uses the pipe's default timeout, and 50 ms for a pipe created with 0", () => {
    const { k, server, client } = setup();
    create(server, '\\\\.\\pipe\\w-def', { maxInstances: 1, defaultTimeoutMs: 300 });
    open(client, '\\\\.\\pipe\\w-def');
    const w = waitPipe(client, '\\\\.\\pipe\\w-def', 0, true);
    k.advance(299);
    assert.ok(w.pending);
    k.advance(1);
    assert.equal(w.error, 'ERROR_SEM_TIMEOUT');
    create(server, '\\\\.\\pipe\\w-def0', { maxInstances: 1, defaultTimeoutMs: 0 });
    open(client, '\\\\.\\pipe\\w-def0');
    const w0 = waitPipe(client, '\\\\.\\pipe\\w-def0', 0, true);
    k.advance(49);
    assert.ok(w0.pending);
    k.advance(1);
    assert.equal(w0.error, 'ERROR_SEM_TIMEOUT');
  });

  test('a waiter outlives the pipe: it is woken by a new pipe of that name, which starts afresh', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\w-outlive', { maxInstances: 1, direction: PipeDirection.inbound });
    open(client, '\\\\.\\pipe\\w-outlive', Access.GENERIC_WRITE);
    const w = waitPipe(client, '\\\\.\\pipe\\w-outlive', Infinity);
    server.close(s.handle);
    assert.ok(w.pending);
    assert.equal(openFails(client, '\\\\.\\pipe\\w-outlive'), 'ERROR_FILE_NOT_FOUND');
    const again = create(server, '\\\\.\\pipe\\w-outlive', { direction: PipeDirection.outbound });
    assert.equal(again.existed, false, 'a new pipe, with its own direction');
    assert.deepEqual(w.reply, {});
  });

  test('a cancelled wait fails ERROR_OPERATION_ABORTED; the thread ending drops it', () => {
    const { k, server, client, other } = setup();
    create(server, '\\\\.\\pipe\\w-cancel', { maxInstances: 1 });
    open(client, '\\\\.\\pipe\\w-cancel');
    const w = waitPipe(client, '\\\\.\\pipe\\w-cancel', Infinity);
    assert.equal(client.cancel(w), true);
    assert.equal(w.error, 'ERROR_OPERATION_ABORTED');
    waitPipe(other, '\\\\.\\pipe\\w-cancel', Infinity);
    assert.equal(k.kernel.pending.count, 1);
    other.end();
    assert.equal(k.kernel.pending.count, 0);
  });
});

describe('named pipes and the end of handles and processes', () => {
  test('closing an instance breaks its client, fails its pending connects ERROR_BROKEN_PIPE, and the last instance takes the name', () => {
    const { server, client } = setup();
    const a = create(server, '\\\\.\\pipe\\close', { maxInstances: 2 });
    const b = create(server, '\\\\.\\pipe\\close');
    const c = open(client, '\\\\.\\pipe\\close');
    const conn = connect(server, b.handle);
    server.close(b.handle);
    assert.equal(conn.error, 'ERROR_BROKEN_PIPE');
    server.close(a.handle);
    assert.equal(client.info(c.handle).state.state, 'closing');
    assert.equal(stateOf(client, c.handle), PipeState.closing);
    assert.equal(openFails(client, '\\\\.\\pipe\\close'), 'ERROR_FILE_NOT_FOUND');
    assert.equal(create(server, '\\\\.\\pipe\\close').existed, false);
  });

  test("a server process's end closes its instances; a client process's end leaves its instance closing", () => {
    const { k, server, client } = setup();
    const s2 = k.thread(11);
    const mine = create(s2, '\\\\.\\pipe\\proc', { maxInstances: 2 });
    void mine;
    const s = create(server, '\\\\.\\pipe\\proc');
    const c1 = open(client, '\\\\.\\pipe\\proc');
    const c2 = open(client, '\\\\.\\pipe\\proc');
    s2.end();
    assert.equal(client.info(c1.handle).state.state, 'closing');
    assert.equal(client.info(c2.handle).state.state, 'connected');
    client.end();
    assert.equal(stateOf(server, s.handle), PipeState.closing);
    assert.equal(server.fails('queryNamedPipe', { handle: 0x7ffc }), 'ERROR_INVALID_HANDLE');
  });

  test('nothing is left once every handle is closed', () => {
    const { k, server, client } = setup();
    const before = k.kernel.objects.size;
    const s = create(server, '\\\\.\\pipe\\leak');
    const c = open(client, '\\\\.\\pipe\\leak');
    waitPipe(client, '\\\\.\\pipe\\leak', 10);
    connect(server, s.handle);
    client.close(c.handle);
    server.close(s.handle);
    k.advance(10);
    assert.equal(k.kernel.objects.size, before);
    assert.equal(k.kernel.namespace.size, 0);
    assert.equal(k.kernel.pending.count, 0);
    assert.equal(k.kernel.handleCount, 0);
  });
});

describe('named pipes in listings', () => {
  test('each end is listed under the pipe name with its state; queryObject works on both ends', () => {
    const { server, client } = setup();
    const s = create(server, '\\\\.\\pipe\\Listed', { maxInstances: 3, pipeType: PipeMode.message, readMode: PipeMode.byte });
    create(server, '\\\\.\\pipe\\Listed');
    const c = open(client, '\\\\.\\pipe\\listed');
    const listed = server.call('listObjects', { type: 'NamedPipe' }).objects;
    assert.deepEqual(listed.map((o) => [o.name, o.state.end, o.state.state]), [
      ['\\\\.\\pipe\\Listed', 'server', 'connected'],
      ['\\\\.\\pipe\\Listed', 'server', 'listening'],
      ['\\\\.\\pipe\\Listed', 'client', 'connected'],
    ]);
    const info = server.info(s.handle);
    assert.equal(info.type, 'NamedPipe');
    assert.equal(info.signaled, false);
    assert.deepEqual(info.state, {
      end: 'server', state: 'connected', pipeType: 'message', readMode: 'byte', direction: 'duplex', instances: 2, maxInstances: 3,
      serverPid: 10, clientPid: 20, outBufferSize: 1024, inBufferSize: 1024, defaultTimeoutMs: 0, pendingConnects: 0,
    });
    assert.deepEqual(client.info(c.handle).state, { end: 'client', state: 'connected', pipeType: 'message', serverPid: 10, clientPid: 20 });
  });
});

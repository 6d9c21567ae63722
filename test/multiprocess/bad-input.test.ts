/**
 * The object manager never trusts a frame: malformed, oversized, out-of-order or unknown
 * frames close that one connection; well-formed requests with bad values get an error
 * reply and the connection stays usable; everyone else keeps being served.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connect, Event, Mutex, type Connection } from '../../src/client/index.ts';
import { wireStatus, type StatusCode } from '../../src/errors.ts';
import { Access } from '../../src/protocol/access.ts';
import { encodeRequest, HEADER_SIZE, type Frame } from '../../src/protocol/codec.ts';
import { MAX_LIST } from '../../src/protocol/fields.ts';
import { FrameKind, MAX_FRAME, PROTOCOL_VERSION, requests, type BrokerStatus, type RequestName, type RequestOf } from '../../src/protocol/schema.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { rawFrame, RawClient, seededRandom } from '../helpers/raw-socket.ts';

const ALL = Access.MAXIMUM_ALLOWED;
const T = { timeout: 30_000 };

let daemon: Daemon;
const raws = new Set<RawClient>();
let serial = 0;

before(async () => {
  daemon = await startDaemon();
});
after(async () => {
  for (const c of raws) c.destroy();
  await daemon.stop();
});

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(daemon.socketPath);
  raws.add(c);
  return c;
}

async function helloed(): Promise<RawClient> {
  const c = await RawClient.hello(daemon.socketPath);
  raws.add(c);
  return c;
}

/** Close connections by having the broker refuse them, so they are gone before the next request. */
async function kick(...cs: RawClient[]): Promise<void> {
  for (const c of cs) {
    await c.kick();
    raws.delete(c);
  }
}

/** The broker closed the connection without answering. */
async function closedSilently(c: RawClient, what: string): Promise<void> {
  const f = await c.next();
  assert.equal(f, undefined, `${what}: expected the connection closed, got ${JSON.stringify(f)}`);
  await c.closed;
  raws.delete(c);
}

function assertError(f: Frame | undefined, code: StatusCode, what = ''): void {
  assert.ok(f !== undefined, `${what}: connection closed instead of ${code}`);
  assert.equal(f.kind, 'error', `${what}: expected ${code}, got ${JSON.stringify(f)}`);
  assert.equal(f.kind === 'error' && f.status, wireStatus(code), `${what}: expected ${code}, got ${JSON.stringify(f)}`);
}

async function expectError<K extends RequestName>(c: RawClient, name: K, body: RequestOf<K>, code: StatusCode): Promise<void> {
  assertError(await c.request(name, body), code, `${name} ${JSON.stringify(body, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}`);
}

async function stillUsable(c: RawClient): Promise<void> {
  assert.equal((await c.request('ping', {})).kind, 'reply');
}

/** A normal client still gets service through the public API: create, wait, release. */
async function assertServing(): Promise<void> {
  assert.equal(daemon.proc.exitCode, null, 'daemon exited');
  assert.equal(daemon.proc.signalCode, null, 'daemon killed');
  const c = await connect({ socketPath: daemon.socketPath, autoStart: false });
  try {
    const m = await Mutex.create(`bad-input-serving-${process.pid}-${++serial}`, { connection: c });
    assert.equal(m.existed, false);
    assert.equal(await m.wait(), 'signaled');
    assert.equal((await m.query()).state.ownerPid, process.pid);
    await m.release();
    assert.equal((await m.query()).state.owner, null);
    await m.close();
  } finally {
    c.close();
  }
}

/** Status once the connections closed on the client side have been seen closed too. */
async function settledStatus(c: Connection): Promise<BrokerStatus> {
  for (let i = 0; ; i++) {
    const { status } = await c.request('status', {});
    if (status.threads === 1 || i === 500) return status;
  }
}

function f64(v: number | bigint): number[] {
  const b = Buffer.alloc(8);
  if (typeof v === 'bigint') b.writeBigUInt64LE(v);
  else b.writeDoubleLE(v);
  return [...b];
}

function u32(...vs: number[]): number[] {
  const b = Buffer.alloc(4 * vs.length);
  vs.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return [...b];
}

function lengthPrefix(len: number): Buffer {
  return Buffer.from(u32(len));
}

describe('frames that break the protocol close that connection', () => {
  test('random bytes, before hello', T, async () => {
    const seed = 0x5eed_0001;
    const random = seededRandom(seed);
    for (let i = 0; i < 40; i++) {
      const c = await raw();
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
      c.send(bytes);
      // A random length prefix may be plausible and wait for more: end the stream then.
      c.end();
      for (let f = await c.next(); f !== undefined; f = await c.next()) {
        assertError(f, 'ERROR_REVISION_MISMATCH', `random bytes (seed ${seed}, round ${i}) got an answer`);
      }
      raws.delete(c);
    }
    await assertServing();
  });

  test('random bytes, after a valid hello', T, async () => {
    const random = seededRandom(0x5eed_0002);
    for (let i = 0; i < 20; i++) {
      const c = await helloed();
      const bytes = Buffer.from(Array.from({ length: 41 }, () => Math.floor(random() * 256)));
      // A nonzero top byte makes the (little-endian) length prefix too large: closed at once.
      bytes[3] = bytes[3]! | 1;
      c.send(bytes);
      await closedSilently(c, `random bytes ${i}`);
    }
    await assertServing();
  });

  test('a frame cut short, then the end of the stream', T, async () => {
    const hello = encodeRequest(1, 'hello', { version: PROTOCOL_VERSION, pid: process.pid, agent: 'cut' });
    for (const cut of [1, 3, 4, 5, HEADER_SIZE - 1, HEADER_SIZE, hello.length - 1]) {
      const c = await raw();
      c.send(hello.subarray(0, cut));
      c.end();
      assert.equal(await c.next(), undefined, `hello cut at ${cut}`);
      raws.delete(c);
    }
    const create = encodeRequest(7, 'createMutex', { name: 'bad-input-cut', initialOwner: true, access: ALL });
    for (const cut of [2, HEADER_SIZE + 1, create.length - 1]) {
      const c = await helloed();
      c.send(create.subarray(0, cut));
      c.end();
      assert.equal(await c.next(), undefined, `createMutex cut at ${cut}`);
      raws.delete(c);
    }
    await assertServing();
  });

  test('a length prefix beyond MAX_FRAME closes before any body is sent', T, async () => {
    for (const len of [MAX_FRAME - 3, MAX_FRAME, 0x7fff_ffff, 0xffff_ffff]) {
      const before = await raw();
      before.send(lengthPrefix(len));
      await closedSilently(before, `length ${len} before hello`);
      const afterHello = await helloed();
      afterHello.send(lengthPrefix(len));
      await closedSilently(afterHello, `length ${len} after hello`);
    }
    await assertServing();
  });

  test('a length prefix below the header size', T, async () => {
    for (let len = 0; len + 4 < HEADER_SIZE; len++) {
      const c = await helloed();
      c.send(Buffer.concat([lengthPrefix(len), Buffer.alloc(len)]));
      await closedSilently(c, `length ${len}`);
    }
    await assertServing();
  });

  test('a wrong protocol version gets ERROR_REVISION_MISMATCH, then the connection closes', T, async () => {
    for (const version of [(PROTOCOL_VERSION ^ 1) >>> 0, 0, 0xffff_ffff, (PROTOCOL_VERSION + 1) >>> 0]) {
      const c = await raw();
      const f = await c.request('hello', { version, pid: process.pid, agent: 'old' });
      assertError(f, 'ERROR_REVISION_MISMATCH', `version ${version}`);
      assert.equal(f.name, 'hello');
      assert.equal(f.requestId, 1);
      assert.match(f.kind === 'error' ? f.detail : '', new RegExp(`${PROTOCOL_VERSION}.*${version}`));
      await closedSilently(c, `after version ${version}`);
    }
    await assertServing();
  });

  test('a request before hello, even shutdown, closes without an answer', T, async () => {
    const early: [RequestName, Record<string, unknown>][] = [
      ['ping', {}],
      ['status', {}],
      ['shutdown', {}],
      ['createMutex', { name: 'bad-input-early', initialOwner: true, access: ALL }],
      ['closeHandle', { handle: 4 }],
    ];
    for (const [name, body] of early) {
      const c = await raw();
      c.send(encodeRequest(1, name, body as never));
      await closedSilently(c, `${name} before hello`);
    }
    await assertServing();
  });

  test('an unknown request number, before and after hello', T, async () => {
    for (const number of [0, 11, 19, 0x7fff, 0xffff]) {
      assert.equal(Object.values(requests).some((r) => r.id === number), false);
      const before = await raw();
      before.send(rawFrame(FrameKind.request, 1, number));
      await closedSilently(before, `request ${number} before hello`);
      const afterHello = await helloed();
      afterHello.send(rawFrame(FrameKind.request, 2, number, [1, 2, 3, 4]));
      await closedSilently(afterHello, `request ${number} after hello`);
    }
    await assertServing();
  });

  test('a client sending a reply, an error or an unknown frame kind', T, async () => {
    const frames = [
      rawFrame(FrameKind.reply, 1, requests.ping.id),
      rawFrame(FrameKind.reply, 1, requests.hello.id, u32(1, 2)),
      rawFrame(FrameKind.error, 1, requests.ping.id, u32(87, 0)),
      rawFrame(0, 1, requests.ping.id),
      rawFrame(4, 1, requests.ping.id),
      rawFrame(0xff, 1, requests.ping.id),
    ];
    for (const [i, frame] of frames.entries()) {
      const before = await raw();
      before.send(frame);
      await closedSilently(before, `frame ${i} before hello`);
      const afterHello = await helloed();
      afterHello.send(frame);
      await closedSilently(afterHello, `frame ${i} after hello`);
    }
    await assertServing();
  });

  test('malformed fields after hello: trailing bytes, bad booleans and flags, invalid UTF-8, short lists', T, async () => {
    const bad = [
      rawFrame(FrameKind.request, 5, requests.ping.id, [0]),
      rawFrame(FrameKind.request, 5, requests.closeHandle.id, [4, 0, 0]),
      rawFrame(FrameKind.request, 5, requests.createMutex.id, [0, 2, ...u32(ALL)]),
      rawFrame(FrameKind.request, 5, requests.createMutex.id, [2, ...u32(1), 0x61, 0, ...u32(ALL)]),
      rawFrame(FrameKind.request, 5, requests.createEvent.id, [1, ...u32(2), 0xc3, 0x28, 0, 0, ...u32(ALL)]),
      rawFrame(FrameKind.request, 5, requests.openMutex.id, [...u32(0xffff_fff0), 0x61]),
      rawFrame(FrameKind.request, 5, requests.wait.id, [...u32(10, 4, 8), 0, ...f64(0)]),
      rawFrame(FrameKind.request, 5, requests.listObjects.id, [1, ...u32(3), 0xff, 0xfe, 0xfd]),
    ];
    for (const [i, frame] of bad.entries()) {
      const c = await helloed();
      c.send(frame);
      await closedSilently(c, `malformed frame ${i}`);
    }
    await assertServing();
  });

  test('a huge list in a wait is refused by its count alone', T, async () => {
    const c = await helloed();
    c.send(rawFrame(FrameKind.request, 3, requests.wait.id, [...u32(0xffff_ffff), 0, ...f64(0)]));
    await closedSilently(c, 'list of 2^32-1');
    const d = await helloed();
    d.send(rawFrame(FrameKind.request, 3, requests.wait.id, [...u32(MAX_LIST + 1), ...u32(...Array<number>(MAX_LIST + 1).fill(4)), 0, ...f64(0)]));
    await closedSilently(d, `list of ${MAX_LIST + 1}`);
    await assertServing();
  });

  test('a violation leaves other connections and their pending waits alone; the violator\'s mutexes are abandoned', T, async () => {
    const waiter = await helloed();
    const { handle: event } = await waiter.ok('createEvent', { name: `bad-input-keep-${process.pid}`, manualReset: false, initialState: false, access: ALL });
    const violator = await helloed();
    const { handle: mutex } = await violator.ok('createMutex', { name: undefined, initialOwner: true, access: ALL });
    waiter.send(encodeRequest(40, 'wait', { handles: [event], all: false, timeoutMs: Infinity, detectDeadlock: false }));
    waiter.send(encodeRequest(41, 'wait', { handles: [mutex], all: false, timeoutMs: Infinity, detectDeadlock: false }));
    await waiter.ok('ping', {});
    violator.send(rawFrame(FrameKind.reply, 1, requests.ping.id));
    // The mutex was abandoned by the violator's thread: the waiter gets it, once.
    const abandoned = await waiter.next();
    assert.deepEqual(abandoned, { kind: 'reply', requestId: 41, name: 'wait', body: { status: 1, index: 0 } });
    await closedSilently(violator, 'violator');
    const setter = await helloed();
    await setter.ok('setEvent', { handle: event });
    assert.deepEqual(await waiter.next(), { kind: 'reply', requestId: 40, name: 'wait', body: { status: 0, index: 0 } });
    await stillUsable(waiter);
    await kick(waiter, setter);
    await assertServing();
  });
});

describe('bad values get an error reply and the connection stays usable', () => {
  const badHandles = [0, 1, 2, 3, 0x7fff_fffc, 0x8000_0000, 0xffff_fffc, 0xffff_ffff];

  test('invalid handles: ERROR_INVALID_HANDLE for every request that takes one', T, async () => {
    const c = await helloed();
    const { handle: event } = await c.ok('createEvent', { name: undefined, manualReset: true, initialState: false, access: ALL });
    for (const h of badHandles) {
      await expectError(c, 'closeHandle', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'queryObject', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'releaseMutex', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'releaseSemaphore', { handle: h, count: 1 }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'setEvent', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'resetEvent', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'pulseEvent', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'setTimer', { handle: h, due: 0, absolute: false, periodMs: 0 }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'cancelTimer', { handle: h }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'reportProcessExit', { handle: h, exitCode: 0 }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'wait', { handles: [h], all: false, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'wait', { handles: [event, h], all: true, timeoutMs: Infinity, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'signalAndWait', { signal: h, waitOn: event, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
      await expectError(c, 'signalAndWait', { signal: event, waitOn: h, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
    }
    // The failed signalAndWait did not signal: the check comes before any effect.
    const info = await c.ok('queryObject', { handle: event });
    assert.equal(info.info.signaled, false);
    assert.equal(info.info.waiters, 0);
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('a handle of another type: ERROR_INVALID_HANDLE', T, async () => {
    const c = await helloed();
    const { handle: event } = await c.ok('createEvent', { name: undefined, manualReset: true, initialState: false, access: ALL });
    const { handle: mutex } = await c.ok('createMutex', { name: undefined, initialOwner: false, access: ALL });
    await expectError(c, 'releaseMutex', { handle: event }, 'ERROR_INVALID_HANDLE');
    await expectError(c, 'releaseSemaphore', { handle: event, count: 1 }, 'ERROR_INVALID_HANDLE');
    await expectError(c, 'cancelTimer', { handle: event }, 'ERROR_INVALID_HANDLE');
    await expectError(c, 'reportProcessExit', { handle: event, exitCode: 1 }, 'ERROR_INVALID_HANDLE');
    await expectError(c, 'setEvent', { handle: mutex }, 'ERROR_INVALID_HANDLE');
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('closed handles: ERROR_INVALID_HANDLE, also on another connection of the same process', T, async () => {
    const c = await helloed();
    const other = await helloed();
    const { handle } = await c.ok('createMutex', { name: `bad-input-closed-${process.pid}`, initialOwner: false, access: ALL });
    assert.equal((await other.ok('queryObject', { handle })).info.type, 'Mutex');
    await c.ok('closeHandle', { handle });
    for (const conn of [c, other]) {
      await expectError(conn, 'closeHandle', { handle }, 'ERROR_INVALID_HANDLE');
      await expectError(conn, 'queryObject', { handle }, 'ERROR_INVALID_HANDLE');
      await expectError(conn, 'releaseMutex', { handle }, 'ERROR_INVALID_HANDLE');
      await expectError(conn, 'wait', { handles: [handle], all: false, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
      await expectError(conn, 'signalAndWait', { signal: handle, waitOn: handle, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_HANDLE');
      await stillUsable(conn);
    }
    // The last handle took the name with it.
    await expectError(c, 'openMutex', { name: `bad-input-closed-${process.pid}`, access: ALL }, 'ERROR_FILE_NOT_FOUND');
    await kick(c, other);
    await assertServing();
  });

  test('invalid names: ERROR_INVALID_NAME; too long: ERROR_FILENAME_EXCED_RANGE', T, async () => {
    const c = await helloed();
    const first = await c.ok('createEvent', { name: undefined, manualReset: false, initialState: false, access: ALL });
    const invalid = ['', 'a\\b', 'x/y', '\0', 'nul\0inside', 'ctl\u0001', 'tab\t', 'Local\\', 'Global\\', 'Global\\a\\b', 'local\\lower'];
    for (const name of invalid) {
      await expectError(c, 'createMutex', { name, initialOwner: false, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'createEvent', { name, manualReset: false, initialState: false, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'createSemaphore', { name, initialCount: 0, maximumCount: 1, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'createTimer', { name, manualReset: false, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'openMutex', { name, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'openEvent', { name, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'openSemaphore', { name, access: ALL }, 'ERROR_INVALID_NAME');
      await expectError(c, 'openTimer', { name, access: ALL }, 'ERROR_INVALID_NAME');
    }
    for (const name of ['n'.repeat(256), `Global\\${'n'.repeat(256)}`, 'n'.repeat(200_000)]) {
      await expectError(c, 'createMutex', { name, initialOwner: false, access: ALL }, 'ERROR_FILENAME_EXCED_RANGE');
      await expectError(c, 'openEvent', { name, access: ALL }, 'ERROR_FILENAME_EXCED_RANGE');
    }
    // No object was made for a refused name: the next one takes the very next id.
    const next = await c.ok('createEvent', { name: undefined, manualReset: false, initialState: false, access: ALL });
    assert.equal(next.objectId, first.objectId + 1);
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('negative and NaN timeouts, sent as raw f64: ERROR_INVALID_PARAMETER and no effect', T, async () => {
    const c = await helloed();
    const { handle: event } = await c.ok('createEvent', { name: undefined, manualReset: true, initialState: false, access: ALL });
    const { handle: other } = await c.ok('createEvent', { name: undefined, manualReset: true, initialState: false, access: ALL });
    const bad: (number | bigint)[] = [
      Number.NaN,
      0x7ff0_0000_0000_0001n, // a signalling NaN
      0xfff8_0000_0000_0000n, // a negative NaN
      0x7fff_ffff_ffff_ffffn,
      -1,
      -0.5,
      -Number.MIN_VALUE,
      -Number.MAX_VALUE,
      -Infinity,
    ];
    let id = 100;
    for (const t of bad) {
      c.send(rawFrame(FrameKind.request, ++id, requests.wait.id, [...u32(1, event), 0, ...f64(t), 0]));
      assertError(await c.next(), 'ERROR_INVALID_PARAMETER', `wait timeout ${t}`);
      c.send(rawFrame(FrameKind.request, ++id, requests.wait.id, [...u32(2, event, other), 1, ...f64(t), 0]));
      assertError(await c.next(), 'ERROR_INVALID_PARAMETER', `wait-all timeout ${t}`);
      c.send(rawFrame(FrameKind.request, ++id, requests.signalAndWait.id, [...u32(other, event), ...f64(t), 0]));
      assertError(await c.next(), 'ERROR_INVALID_PARAMETER', `signalAndWait timeout ${t}`);
    }
    // signalAndWait checked the timeout before it signaled; no wait was left queued.
    for (const h of [event, other]) {
      const { info } = await c.ok('queryObject', { handle: h });
      assert.equal(info.signaled, false);
      assert.equal(info.waiters, 0);
    }
    // -0 is a poll.
    c.send(rawFrame(FrameKind.request, ++id, requests.wait.id, [...u32(1, event), 0, ...f64(-0), 0]));
    assert.deepEqual(await c.next(), { kind: 'reply', requestId: id, name: 'wait', body: { status: 2, index: -1 } });
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('timer due times and periods that are negative, NaN or infinite: ERROR_INVALID_PARAMETER', T, async () => {
    const c = await helloed();
    const { handle } = await c.ok('createTimer', { name: undefined, manualReset: true, access: ALL });
    const bad: [number, boolean, number][] = [
      [Number.NaN, false, 0],
      [-1, false, 0],
      [Infinity, false, 0],
      [-Infinity, true, 0],
      [Number.NaN, true, 0],
      [10, false, -1],
      [10, false, Number.NaN],
      [10, false, Infinity],
      // A period shorter than a millisecond would re-expire without end.
      [0, false, 1e-9],
      [0, false, Number.MIN_VALUE],
      [0, false, 0.5],
    ];
    for (const [due, absolute, periodMs] of bad) {
      await expectError(c, 'setTimer', { handle, due, absolute, periodMs }, 'ERROR_INVALID_PARAMETER');
    }
    const { info } = await c.ok('queryObject', { handle });
    assert.equal(info.signaled, false);
    assert.equal(info.state.armed, false);
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('semaphore counts out of range: ERROR_INVALID_PARAMETER', T, async () => {
    const c = await helloed();
    for (const [initialCount, maximumCount] of [[0, 0], [-1, 1], [2, 1], [0, -5], [-0x8000_0000, 0x7fff_ffff]] as const) {
      await expectError(c, 'createSemaphore', { name: undefined, initialCount, maximumCount, access: ALL }, 'ERROR_INVALID_PARAMETER');
    }
    const { handle } = await c.ok('createSemaphore', { name: undefined, initialCount: 0, maximumCount: 2, access: ALL });
    for (const count of [0, -1, -0x8000_0000]) await expectError(c, 'releaseSemaphore', { handle, count }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'releaseSemaphore', { handle, count: 0x7fff_ffff }, 'ERROR_TOO_MANY_POSTS');
    assert.equal((await c.ok('queryObject', { handle })).info.state.count, 0);
    await kick(c);
    await assertServing();
  });

  test('timeouts beyond setTimeout\'s range wait as asked and are still woken', T, async () => {
    const c = await helloed();
    const { handle } = await c.ok('createEvent', { name: undefined, manualReset: true, initialState: false, access: ALL });
    const huge = [2 ** 31, 1e10, Number.MAX_VALUE];
    huge.forEach((t, i) => c.send(encodeRequest(200 + i, 'wait', { handles: [handle], all: false, timeoutMs: t, detectDeadlock: false })));
    const { handle: timer } = await c.ok('createTimer', { name: undefined, manualReset: true, access: ALL });
    await c.ok('setTimer', { handle: timer, due: 1e12, absolute: false, periodMs: Number.MAX_VALUE });
    assert.equal((await c.ok('queryObject', { handle })).info.waiters, huge.length);
    await c.ok('setEvent', { handle });
    const replies = [];
    for (let i = 0; i < huge.length; i++) replies.push(await c.next());
    assert.deepEqual(
      replies.map((f) => f?.kind === 'reply' && f.requestId),
      huge.map((_, i) => 200 + i),
    );
    for (const f of replies) assert.deepEqual(f?.kind === 'reply' && f.body, { status: 0, index: 0 });
    await kick(c);
    await assertServing();
  });

  test('wait lists: empty, over 64, or a duplicate in a wait-all are ERROR_INVALID_PARAMETER', T, async () => {
    const c = await helloed();
    const events: number[] = [];
    for (let i = 0; i < 65; i++) {
      events.push((await c.ok('createEvent', { name: undefined, manualReset: true, initialState: true, access: ALL })).handle);
    }
    await expectError(c, 'wait', { handles: [], all: false, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'wait', { handles: [], all: true, timeoutMs: Infinity, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'wait', { handles: events, all: false, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'wait', { handles: events, all: true, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'wait', { handles: Array<number>(MAX_LIST).fill(events[0]!), all: false, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    await expectError(c, 'wait', { handles: [events[0]!, events[1]!, events[0]!], all: true, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    // The same object through two handles is still a duplicate.
    const name = `bad-input-dup-${process.pid}`;
    const { handle: a } = await c.ok('createEvent', { name, manualReset: true, initialState: true, access: ALL });
    const { handle: b } = await c.ok('openEvent', { name, access: ALL });
    assert.notEqual(a, b);
    await expectError(c, 'wait', { handles: [a, b], all: true, timeoutMs: 0, detectDeadlock: false }, 'ERROR_INVALID_PARAMETER');
    assert.deepEqual(await c.ok('wait', { handles: [a, b], all: false, timeoutMs: 0, detectDeadlock: false }), { status: 0, index: 0 });
    assert.deepEqual(await c.ok('wait', { handles: events.slice(0, 64), all: true, timeoutMs: 0, detectDeadlock: false }), { status: 0, index: 0 });
    await stillUsable(c);
    await kick(c);
    await assertServing();
  });

  test('hello twice: ERROR_INVALID_FUNCTION and the connection keeps its thread', T, async () => {
    const c = await helloed();
    const { handle } = await c.ok('createMutex', { name: undefined, initialOwner: true, access: ALL });
    await expectError(c, 'hello', { version: PROTOCOL_VERSION, pid: 1, agent: 'again' }, 'ERROR_INVALID_FUNCTION');
    await expectError(c, 'hello', { version: 0, pid: 1, agent: 'again' }, 'ERROR_INVALID_FUNCTION');
    assert.deepEqual(await c.ok('releaseMutex', { handle }), { previousCount: 1 });
    await kick(c);
    await assertServing();
  });

  test('a request id already waiting: ERROR_INVALID_PARAMETER, the first wait unharmed', T, async () => {
    const c = await helloed();
    const { handle } = await c.ok('createEvent', { name: undefined, manualReset: false, initialState: false, access: ALL });
    c.send(encodeRequest(77, 'wait', { handles: [handle], all: false, timeoutMs: Infinity, detectDeadlock: false }));
    c.send(encodeRequest(77, 'wait', { handles: [handle], all: false, timeoutMs: Infinity, detectDeadlock: false }));
    assertError(await c.next(), 'ERROR_INVALID_PARAMETER', 'second wait with id 77');
    await c.ok('setEvent', { handle });
    assert.deepEqual(await c.next(), { kind: 'reply', requestId: 77, name: 'wait', body: { status: 0, index: 0 } });
    assert.deepEqual(await c.ok('cancel', { requestId: 77 }), { cancelled: false });
    await kick(c);
    await assertServing();
  });
});

test('after all of it the daemon is alive, logged no internal error, and holds nothing for the closed connections', T, async () => {
  const c = await connect({ socketPath: daemon.socketPath, autoStart: false });
  try {
    const status = await settledStatus(c);
    assert.equal(status.threads, 1);
    assert.equal(status.processes, 1);
    assert.equal(status.objects, 0);
    assert.equal(status.handles, 0);
    assert.equal(status.pendingWaits, 0);
    const e = await Event.create(undefined, { connection: c, manualReset: true, initialState: true });
    assert.equal(await e.wait(0), 'signaled');
    await e.close();
  } finally {
    c.close();
  }
  const closed = once(daemon.proc, 'close');
  await daemon.stop();
  await closed;
  assert.doesNotMatch(daemon.stderr(), /internal error|TimeoutOverflowWarning|Maximum call stack|uncaught/i);
});

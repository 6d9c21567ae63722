/**
 * Fuzz the object manager over its socket: many connections send random frames of every
 * sort (random bytes, well-formed headers over random payloads, valid requests with
 * mutated bytes, random request numbers, and valid requests with random handles, names,
 * counts and timeouts after a valid hello). Afterwards the daemon must be alive, hold
 * nothing for the fuzz connections, and serve a normal client and one that was waiting
 * all along in another process.
 *
 * Deterministic: what connection i sends is drawn from a PRNG seeded by the seed and i
 * alone; only the values of handles learned from replies (shared by all connections of
 * this process) and wall-clock due times differ between runs. NTIPC_FUZZ_SEED chooses
 * another seed; the seed is printed as a diagnostic and in every failure message.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { connect, Event, Mutex } from '../../src/client/index.ts';
import { statusFromWire } from '../../src/errors.ts';
import { Access } from '../../src/protocol/access.ts';
import { decodeFrame, encodeRequest, HEADER_SIZE } from '../../src/protocol/codec.ts';
import type { Field } from '../../src/protocol/fields.ts';
import { FrameKind, MAX_FRAME, PROTOCOL_VERSION, requests, type RequestName } from '../../src/protocol/schema.ts';
import { spawnAgent, type Agent } from '../helpers/agent.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';
import { POISON, RawClient, rawFrame, seededRandom } from '../helpers/raw-socket.ts';

const SEED = Number(process.env.NTIPC_FUZZ_SEED ?? 0x6e7469);
const FRAMES = 12_000;
const PARALLEL = 12;
/** Request ids of the fuzz stay below this; the sync pings use the ids above it. */
const SYNC_BASE = 0xfff0_0000;

/** Never sent: it would stop the daemon, which is what it is for. */
const excluded = new Set<RequestName>(['shutdown']);
const fuzzable = (Object.keys(requests) as RequestName[]).filter((n) => !excluded.has(n));
const shutdownNumber = requests.shutdown.id;

type Rng = () => number;
const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const bytes = (r: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

/** What the fuzz knows when it builds a frame: pids worth naming, handles recently given to any of its connections. */
interface Context {
  pids: number[];
  handles: number[];
}

// Value pools: edge cases and values that hit live objects. Each pool draws a fixed count
// of random numbers, so the stream of a connection does not depend on the replies it got.
const edgeHandles = [0, 1, 3, 0x7fff_fffc, 0x8000_0000, 0xffff_fffc, 0xffff_ffff];
function handlePool(r: Rng, ctx: Context): number {
  const a = r();
  const b = r();
  const c = r();
  const known = ctx.handles.length;
  if (a < 0.3 && known > 0) return ctx.handles[known - 1]!;
  if (a < 0.6 && known > 0) return (ctx.handles[Math.floor(b * known)]! | (c < 0.1 ? 1 : 0)) >>> 0;
  if (a < 0.85) return 4 * (1 + Math.floor(b * 64));
  return c < 0.5 ? edgeHandles[Math.floor(b * edgeHandles.length)]! : Math.floor(b * 2 ** 32);
}
const accessPool = (r: Rng) =>
  pick(r, [Access.MAXIMUM_ALLOWED, Access.MAXIMUM_ALLOWED, Access.GENERIC_ALL, Access.SYNCHRONIZE, Access.MODIFY_STATE, Access.QUERY_STATE, 0, 0xffff_ffff, int(r, 2 ** 32)]);
const u32Pool = (r: Rng) => pick(r, [0, 1, 2, 4, 64, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, int(r, 2 ** 32), int(r, 100)]);
const i32Pool = (r: Rng) => pick(r, [0, 1, 1, 2, 3, -1, 64, 0x7fff_ffff, -0x8000_0000, int(r, 2 ** 32) | 0]);
const f64Pool = (r: Rng) =>
  pick(r, [0, 0, 0, -0, 1, 2, 5, 20, Infinity, Infinity, -1, Number.NaN, -Infinity, 1e-9, 0.5, 1e10, Number.MAX_VALUE, -Number.MAX_VALUE, Date.now() + int(r, 50), Date.now() - 1e6, r() * 30]);
const namePool = [
  'fz-a', 'fz-b', 'fz-c', 'Local\\fz-a', 'Global\\fz-a', 'Global\\fz-b', 'fz-Ä名', 'FZ-A',
  '', 'Local\\', 'a\\b', 'x/y', 'nul\0', 'ctl\u0007', 'n'.repeat(255), 'n'.repeat(256),
];
const typePool = ['Mutex', 'Semaphore', 'Event', 'WaitableTimer', 'Process', 'Nothing', ''];

/** A random value for one field, by its kind and, for numbers, by what its name says it is. */
function value(r: Rng, key: string, field: Field<unknown>, ctx: Context): unknown {
  switch (field.kind) {
    case 'u32':
      if (key === 'handle' || key === 'signal' || key === 'waitOn') return handlePool(r, ctx);
      if (key === 'access') return accessPool(r);
      if (key === 'pid') return r() < 0.6 ? pick(r, ctx.pids) : u32Pool(r);
      if (key === 'version') return r() < 0.8 ? PROTOCOL_VERSION : u32Pool(r);
      if (key === 'requestId') return r() < 0.7 ? 1 + int(r, 300) : u32Pool(r);
      return u32Pool(r);
    case 'i32':
      return i32Pool(r);
    case 'u8':
      return int(r, 256);
    case 'f64':
      return f64Pool(r);
    case 'bool':
      return r() < 0.5;
    case 'str':
      return key === 'agent' ? 'fuzz' : pick(r, namePool);
    case 'optStr':
      if (r() < 0.35) return undefined;
      return key === 'type' ? pick(r, typePool) : pick(r, namePool);
    case 'u32list': {
      const n = r() < 0.9 ? 1 + int(r, 3) : pick(r, [0, 5, 64, 65, 200]);
      return Array.from({ length: n }, () => handlePool(r, ctx));
    }
    case 'bytes':
      return bytes(r, int(r, 16));
    default:
      throw new Error(`the fuzz has no values for field kind ${field.kind}: add them`);
  }
}

function validRequest(r: Rng, ctx: Context, id: number): Buffer {
  const name = pick(r, fuzzable);
  const fields = requests[name].request;
  const body = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, value(r, k, f as Field<unknown>, ctx)]));
  return encodeRequest(id, name, body as never);
}

/** Is this whole frame a shutdown request the daemon would obey? */
function isShutdown(frame: Buffer): boolean {
  try {
    const f = decodeFrame(frame);
    return f.kind === 'request' && f.name === 'shutdown';
  } catch {
    return false;
  }
}

type Sort = 'valid' | 'randomHeader' | 'randomNumber' | 'mutated' | 'randomBytes';

/** One fuzz frame of a random sort. */
function fuzzFrame(r: Rng, ctx: Context): { sort: Sort; frame: Buffer } {
  const id = int(r, 2) ? 1 + int(r, 300) : int(r, SYNC_BASE);
  const x = r();
  if (x < 0.72) return { sort: 'valid', frame: validRequest(r, ctx, id) };
  if (x < 0.8) {
    // A well-formed header over a random payload.
    const kind = pick(r, [FrameKind.request, FrameKind.request, FrameKind.request, FrameKind.reply, FrameKind.error, 0, int(r, 256)]);
    return { sort: 'randomHeader', frame: rawFrame(kind, id, pick(r, fuzzable.map((n) => requests[n].id)), bytes(r, int(r, 48))) };
  }
  if (x < 0.86) {
    let number = int(r, 0x1_0000);
    if (number === shutdownNumber) number++;
    return { sort: 'randomNumber', frame: rawFrame(FrameKind.request, id, number, bytes(r, int(r, 24))) };
  }
  if (x < 0.98) {
    // A valid request with some bytes changed, some cut off or some added.
    const frame = Buffer.from(validRequest(r, ctx, id));
    const how = r();
    if (how < 0.6) {
      for (let n = 1 + int(r, 3); n > 0; n--) frame[4 + int(r, frame.length - 4)] = int(r, 256);
      return { sort: 'mutated', frame: isShutdown(frame) ? encodeRequest(id, 'ping', {}) : frame };
    }
    const resized = how < 0.8 ? frame.subarray(0, HEADER_SIZE + int(r, frame.length - HEADER_SIZE + 1)) : Buffer.concat([frame, bytes(r, 1 + int(r, 8))]);
    const out = Buffer.from(resized);
    // Mostly a consistent length prefix; sometimes the original one, which the stream then follows.
    if (r() < 0.85) out.writeUInt32LE(out.length - 4, 0);
    return { sort: 'mutated', frame: isShutdown(out) ? encodeRequest(id, 'ping', {}) : out };
  }
  return { sort: 'randomBytes', frame: bytes(r, 1 + int(r, 64)) };
}

/**
 * What the daemon makes of the bytes sent so far on one connection: whole frames, a
 * partial one (and how many bytes it still needs), or a length it must refuse.
 */
class StreamMirror {
  private pending = Buffer.alloc(0);
  broken = false;
  push(chunk: Buffer): void {
    if (this.broken) return;
    let buf = Buffer.concat([this.pending, chunk]);
    while (buf.length >= 4) {
      const len = buf.readUInt32LE(0);
      if (len + 4 > MAX_FRAME || len + 4 < HEADER_SIZE) {
        this.broken = true;
        return;
      }
      if (buf.length < len + 4) break;
      buf = buf.subarray(len + 4);
    }
    this.pending = Buffer.from(buf);
  }
  get clean(): boolean {
    return !this.broken && this.pending.length === 0;
  }
  /** Bytes that complete the partial frame and then make the daemon close the connection. */
  finisher(): Buffer {
    if (this.broken) return Buffer.alloc(0);
    if (this.pending.length === 0) return POISON;
    if (this.pending.length < 4) return Buffer.alloc(4 - this.pending.length, 0xff);
    return Buffer.concat([Buffer.alloc(this.pending.readUInt32LE(0) + 4 - this.pending.length), POISON]);
  }
}

interface Tally {
  frames: number;
  connections: number;
  sorts: Record<Sort, number>;
  replies: number;
  errors: Map<string, number>;
  succeeded: Map<string, number>;
  closedByDaemon: number;
  problems: string[];
}

/** Look at what the daemon answered (only known statuses, never an internal error); learn the handles it gave. */
function audit(c: RawClient, tally: Tally, where: string, ctx: Context): void {
  for (const f of c.drain()) {
    tally.replies++;
    if (f.kind === 'reply') tally.succeeded.set(f.name, (tally.succeeded.get(f.name) ?? 0) + 1);
    if (f.kind === 'reply' && typeof f.body.handle === 'number') ctx.handles.push(f.body.handle);
    if (f.kind === 'request') tally.problems.push(`${where}: the daemon sent a request frame`);
    if (f.kind !== 'error') continue;
    const code = statusFromWire(f.status);
    if (code === undefined) tally.problems.push(`${where}: unknown status ${f.status} for ${f.name}`);
    if (code === 'ERROR_INVALID_FUNCTION' && /internal/.test(f.detail)) tally.problems.push(`${where}: internal error in ${f.name}`);
    const key = code ?? String(f.status);
    tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
  }
}

/** Run connection `index`'s script until the frame budget is spent or the daemon closes it. */
async function fuzzConnection(socketPath: string, index: number, ctx: Context, tally: Tally): Promise<void> {
  const r = seededRandom((SEED ^ Math.imul(index + 1, 0x9e37_79b1)) >>> 0);
  const c = await RawClient.connect(socketPath);
  tally.connections++;
  const mirror = new StreamMirror();
  const where = `seed ${SEED} connection ${index}`;
  const send = (frame: Buffer) => {
    mirror.push(frame);
    c.send(frame);
  };
  let sync = SYNC_BASE + 1;
  if (r() < 0.9) {
    const hello = await c.request('hello', { version: PROTOCOL_VERSION, pid: process.pid, agent: `fuzz-${index}` });
    assert.equal(hello.kind, 'reply', `${where}: hello refused`);
  }
  let open = true;
  while (open && tally.frames < FRAMES) {
    for (let burst = 1 + int(r, 16); burst > 0 && tally.frames < FRAMES; burst--) {
      const { sort, frame } = fuzzFrame(r, ctx);
      send(frame);
      tally.frames++;
      tally.sorts[sort]++;
      // After a frame that may break the protocol, learn whether the connection lives on.
      if (sort !== 'valid') break;
    }
    if (!mirror.clean) break;
    // A ping after the burst: answered, the connection lives on; else the daemon closed it.
    const id = sync++;
    send(encodeRequest(id, 'ping', {}));
    for (;;) {
      const f = await c.answer(id);
      if (f === undefined) {
        open = false;
        tally.closedByDaemon++;
        break;
      }
      if (f.kind === 'reply' && f.name === 'ping') break;
    }
    audit(c, tally, where, ctx);
    if (ctx.handles.length > 64) ctx.handles.splice(0, ctx.handles.length - 64);
    if (r() < 0.1) break;
  }
  // End it by the daemon's hand, so that it is gone from the daemon once we see it closed.
  if (!c.isClosed) c.send(mirror.finisher());
  await c.closed;
  audit(c, tally, where, ctx);
}

let daemon: Daemon;
let agent: Agent;
before(async () => {
  daemon = await startDaemon();
  agent = await spawnAgent(daemon.socketPath);
});
after(async () => {
  await agent?.kill();
  await daemon?.stop();
});

test(`${FRAMES} random frames over many connections leave the daemon alive, clean and serving`, { timeout: 120_000 }, async (t) => {
  t.diagnostic(`fuzz seed ${SEED} (set NTIPC_FUZZ_SEED to replay another)`);
  // Another process, waiting all along on an event of its own.
  const keep = `fuzz-keep-${process.pid}`;
  await agent.call('createEvent', 'keep', keep, false, false);
  await agent.call('startWait', 'keep');
  await agent.call('barrier');

  const tally: Tally = {
    frames: 0,
    connections: 0,
    sorts: { valid: 0, randomHeader: 0, randomNumber: 0, mutated: 0, randomBytes: 0 },
    replies: 0,
    errors: new Map(),
    succeeded: new Map(),
    closedByDaemon: 0,
    problems: [],
  };
  const ctx: Context = { pids: [process.pid, daemon.proc.pid!, agent.pid, 1, 0x7fff_ffff], handles: [] };
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (tally.frames < FRAMES) await fuzzConnection(daemon.socketPath, nextIndex++, ctx, tally);
    }),
  );
  t.diagnostic(
    `${tally.frames} frames over ${tally.connections} connections, ${tally.closedByDaemon} closed by the daemon ` +
      `(${Object.entries(tally.sorts).map(([k, v]) => `${k} ${v}`).join(', ')}); ` +
      `${tally.replies} answers; errors ${[...tally.errors].map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
      `succeeded ${[...tally.succeeded].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  assert.ok(tally.frames >= 10_000, `only ${tally.frames} frames`);
  for (const sort of Object.keys(tally.sorts) as Sort[]) assert.ok(tally.sorts[sort] > 50, `seed ${SEED}: few ${sort} frames`);
  assert.ok(tally.errors.size > 3, `seed ${SEED}: the fuzz provoked too few kinds of failure`);
  assert.deepEqual(tally.problems, [], `seed ${SEED}`);

  assert.equal(daemon.proc.exitCode, null, `seed ${SEED}: daemon exited: ${daemon.stderr()}`);
  assert.equal(daemon.proc.signalCode, null, `seed ${SEED}: daemon killed`);
  assert.doesNotMatch(daemon.stderr(), /internal error|Maximum call stack|TimeoutOverflowWarning|uncaught/i, `seed ${SEED}`);

  const c = await connect({ socketPath: daemon.socketPath, autoStart: false });
  try {
    // Every fuzz connection is gone: only the agent's event, its handle and its wait remain
    // (and the message queues it made, which outlive their handles until removed).
    const { status } = await c.request('status', {});
    const { objects: queues } = await c.request('listObjects', { type: 'MessageQueue' });
    assert.deepEqual(
      { processes: status.processes, threads: status.threads, objects: status.objects - queues.length, handles: status.handles, pendingWaits: status.pendingWaits },
      { processes: 2, threads: 2, objects: 1, handles: 1, pendingWaits: 1 },
      `seed ${SEED}: status after the fuzz`,
    );
    // A normal client is served.
    const m = await Mutex.create(`fuzz-after-${process.pid}`, { connection: c });
    assert.equal(m.existed, false);
    assert.equal(await m.wait(), 'signaled');
    await m.release();
    await m.close();
    // And the process that waited all along is woken.
    const e = await Event.open(keep, { connection: c });
    await e.set();
    assert.equal(await agent.call('waitResult', 'keep'), 'signaled');
    await e.close();
  } finally {
    c.close();
  }
  const closed = once(daemon.proc, 'close');
  await agent.kill();
  await daemon.stop();
  await closed;
  assert.doesNotMatch(daemon.stderr(), /internal error|Maximum call stack|TimeoutOverflowWarning|uncaught/i, `seed ${SEED}`);
});

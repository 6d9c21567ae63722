/**
 * A benchmark client in its own process. The parent drives it over the IPC channel
 * (`{ id, op, args }` → `{ id, ok, value }`), which is never on a measured path: each op
 * runs its whole loop here and reports elapsed nanoseconds or monotonic start/end times.
 * Started with --expose-gc so that it can measure its own memory.
 */
import type net from 'node:net';
import { Access, connect, Event, Mutex, signalAndWait, type Connection } from '../../src/client/index.ts';
import { connectRaw, echoServer, flood, pingPong } from './raw-socket.ts';

const connections = new Map<string, Connection>();
const mutexes = new Map<string, Mutex>();
const events = new Map<string, Event>();
const servers: net.Server[] = [];
let raw: net.Socket | undefined;
let table: Map<string, { signaled: boolean }> | undefined;

function get<T>(map: Map<string, T>, key: string): T {
  const v = map.get(key);
  if (v === undefined) throw new Error(`worker has no ${key}`);
  return v;
}

const hr = () => process.hrtime.bigint();

function memory(): { rss: number; heapUsed: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** Run `count` requests with at most `window` in flight; monotonic start and end. */
function pipeline(count: number, window: number, one: (i: number) => Promise<unknown>): Promise<{ t0: string; t1: string; count: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const t0 = hr();
    const next = () => {
      const i = sent++;
      one(i).then(onDone, reject);
    };
    const onDone = () => {
      if (++done === count) resolve({ t0: String(t0), t1: String(hr()), count });
      else if (sent < count) next();
    };
    for (let i = 0; i < Math.min(window, count); i++) next();
  });
}

const ops: Record<string, (...args: any[]) => unknown> = {
  async echoServe(path: string) {
    servers.push(await echoServer(path));
  },
  async rawConnect(path: string) {
    raw = await connectRaw(path);
  },
  rawPingPong: async (n: number) => String(await pingPong(raw!, n)),
  rawFlood: (count: number, window: number) => flood(raw!, count, window),

  async connect(key: string, socketPath: string) {
    connections.set(key, await connect({ socketPath, autoStart: false }));
  },
  async disconnect(key: string) {
    const c = get(connections, key);
    c.close();
    await c.closed;
    connections.delete(key);
  },
  status: async (key: string) => (await get(connections, key).request('status', {})).status,

  async createMutex(key: string, conn: string) {
    mutexes.set(key, await Mutex.create(undefined, { connection: get(connections, conn) }));
  },
  /** `n` × (await wait; await release): two round trips each. */
  async mutexPairs(key: string, n: number) {
    const m = get(mutexes, key);
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      await m.wait();
      await m.release();
    }
    return String(hr() - t0);
  },
  /**
   * `n` × (await wait; release without awaiting): the release travels with the next wait
   * on the same connection, which the object manager handles in order, so the next wait
   * still finds the mutex released; a failed release would surface at the end.
   */
  async mutexPairsPipelined(key: string, n: number) {
    const m = get(mutexes, key);
    const releases: Promise<void>[] = [];
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      const status = await m.wait();
      if (status !== 'signaled') throw new Error(`wait: ${status}`);
      releases.push(m.release());
    }
    await Promise.all(releases);
    return String(hr() - t0);
  },

  /** A named event, or an unnamed one for the name ''. */
  async createEvent(key: string, conn: string, name: string, manualReset = false) {
    events.set(key, await Event.create(name, { connection: get(connections, conn), manualReset }));
  },
  /** Ping side: set E1, wait on E2, `n` times. */
  async pingSetWait(e1: string, e2: string, n: number) {
    const a = get(events, e1);
    const b = get(events, e2);
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      await a.set();
      await b.wait();
    }
    return String(hr() - t0);
  },
  /** Pong side: wait on E1, set E2, `n` times. */
  async pongWaitSet(e1: string, e2: string, n: number) {
    const a = get(events, e1);
    const b = get(events, e2);
    for (let i = 0; i < n; i++) {
      await a.wait();
      await b.set();
    }
  },
  /** Ping side with SignalObjectAndWait: one request per round trip. */
  async pingSignalAndWait(e1: string, e2: string, n: number) {
    const a = get(events, e1);
    const b = get(events, e2);
    const t0 = hr();
    for (let i = 0; i < n; i++) await signalAndWait(a, b);
    return String(hr() - t0);
  },
  /** Pong side with SignalObjectAndWait: wait E1, then (set E2 and wait E1) n-1 times, then set E2. */
  async pongSignalAndWait(e1: string, e2: string, n: number) {
    const a = get(events, e1);
    const b = get(events, e2);
    await a.wait();
    for (let i = 1; i < n; i++) await signalAndWait(b, a);
    await b.set();
  },

  /** `n` pings one after the other: the bare round trip through the object manager. */
  async pingSeq(conn: string, n: number) {
    const c = get(connections, conn);
    const t0 = hr();
    for (let i = 0; i < n; i++) await c.request('ping', {});
    return String(hr() - t0);
  },
  /** `count` pings with `window` in flight. */
  floodPing: (conn: string, count: number, window: number) => {
    const c = get(connections, conn);
    return pipeline(count, window, () => c.request('ping', {}));
  },
  /** `count` alternating set and reset of one event, `window` in flight. */
  floodSetReset: (key: string, count: number, window: number) => {
    const e = get(events, key);
    return pipeline(count, window, (i) => (i % 2 === 0 ? e.set() : e.reset()));
  },
  /** Create `count` named auto-reset events `<prefix><i>`, `window` requests in flight; keeps the handles open. */
  async createEvents(conn: string, prefix: string, count: number, window: number) {
    const c = get(connections, conn);
    return pipeline(count, window, (i) =>
      c.request('createEvent', { name: `${prefix}${i}`, manualReset: false, initialState: false, access: Access.MAXIMUM_ALLOWED }),
    );
  },
  /** `n` × (set; wait) on an auto-reset event: the wait is satisfied at once. */
  async setWait(key: string, n: number) {
    const e = get(events, key);
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      await e.set();
      const status = await e.wait();
      if (status !== 'signaled') throw new Error(`wait: ${status}`);
    }
    return String(hr() - t0);
  },

  memory,
  /** The raw floor of a name table: `count` entries name → small state in a plain Map. */
  fillTable(prefix: string, count: number) {
    table = new Map();
    for (let i = 0; i < count; i++) table.set(`Local\\${prefix}${i}`, { signaled: false });
    return table.size;
  },
  dropTable() {
    table = undefined;
  },
};

process.on('message', async (m: { id: number; op: string; args: unknown[] }) => {
  try {
    const op = ops[m.op];
    if (op === undefined) throw new Error(`unknown op ${m.op}`);
    const value = await op(...m.args);
    process.send!({ id: m.id, ok: true, value });
  } catch (e) {
    process.send!({ id: m.id, ok: false, message: (e as Error).stack ?? String(e) });
  }
});
// The parent gone (finished, or killed), this process has no purpose left.
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, ok: true });

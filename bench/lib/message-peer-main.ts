/**
 * One side of the mailslot and message-queue benchmarks in its own process, driven over the
 * IPC channel as worker-main.ts is (`{ id, op, args }` → `{ id, ok, value }`, never on a
 * measured path; parent side: spawnWorker(messagePeerMain) in worker.ts): a mailslot reader
 * or writer, a message-queue sender or receiver, or a raw Unix-socket peer for the
 * baselines. Each op runs its whole loop here and reports elapsed nanoseconds or monotonic
 * instants (process.hrtime is CLOCK_MONOTONIC, so two processes' readings compare).
 */
import net from 'node:net';
import { connect, IpcError, Mailslot, MailslotClient, MessageQueue, type Connection } from '../../src/client/index.ts';
import { connectRaw, echoServer, framedSend, pingPong, readFramed } from './raw-socket.ts';

const hr = () => process.hrtime.bigint();
let connection: Connection | undefined;
const readers = new Map<string, Mailslot>();
const writers = new Map<string, MailslotClient>();
const queues = new Map<string, MessageQueue>();
let raw: net.Socket | undefined;
let sink: net.Server | undefined;
const sinkSockets: net.Socket[] = [];
let receiving: Promise<string> | undefined;

function get<T>(map: Map<string, T>, key: string): T {
  const v = map.get(key);
  if (v === undefined) throw new Error(`peer has no ${key}`);
  return v;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `count` operations with up to `window` in flight, a new one started as each ends (the loop
 * of a reader that keeps reads posted); the end instant.
 */
function drain(count: number, window: number, one: () => Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const next = () => {
      started++;
      one().then(onDone, reject);
    };
    const onDone = () => {
      if (++done === count) resolve(String(hr()));
      else if (started < count) next();
    };
    for (let i = 0; i < Math.min(window, count); i++) next();
  });
}

const ops: Record<string, (...args: any[]) => unknown> = {
  async connect(socketPath: string) {
    connection = await connect({ socketPath, autoStart: false });
  },
  /** Peak resident set of this process so far, in bytes. */
  maxRss: () => process.resourceUsage().maxRSS * 1024,

  async slotCreate(key: string, name: string) {
    readers.set(key, await Mailslot.create(name, { connection }));
  },
  async slotOpen(key: string, name: string) {
    writers.set(key, await MailslotClient.open(name, { connection }));
  },
  /** Ping side: `n` × (await write `size` bytes to OUT; await read IN); elapsed ns. */
  async slotPing(out: string, into: string, n: number, size: number) {
    const w = get(writers, out);
    const r = get(readers, into);
    const m = Buffer.alloc(size, 0x5a);
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      await w.write(m);
      await r.read();
    }
    return String(hr() - t0);
  },
  /** Pong side: `n` × (await read IN; await write `size` bytes to OUT). */
  async slotPong(into: string, out: string, n: number, size: number) {
    const r = get(readers, into);
    const w = get(writers, out);
    const m = Buffer.alloc(size, 0x5a);
    for (let i = 0; i < n; i++) {
      await r.read();
      await w.write(m);
    }
  },
  /** Ping side with the read posted before the write (it travels in the same turn); elapsed ns. */
  async slotPingPosted(out: string, into: string, n: number, size: number) {
    const w = get(writers, out);
    const r = get(readers, into);
    const m = Buffer.alloc(size, 0x5a);
    const t0 = hr();
    for (let i = 0; i < n; i++) {
      const reply = r.read();
      await w.write(m);
      await reply;
    }
    return String(hr() - t0);
  },
  /** Pong side keeping a read posted: the next read goes out with the write that answers. */
  async slotPongPosted(into: string, out: string, n: number, size: number) {
    const r = get(readers, into);
    const w = get(writers, out);
    const m = Buffer.alloc(size, 0x5a);
    let read = r.read();
    for (let i = 0; i < n; i++) {
      await read;
      if (i + 1 < n) read = r.read();
      await w.write(m);
    }
  },
  /** Arm the reader of `count` messages, `window` reads posted at all times. */
  slotReadStart(key: string, count: number, window: number) {
    const r = get(readers, key);
    receiving = drain(count, window, () => r.read());
  },
  /**
   * Write `count` messages of `size` bytes, `batch` at a time (issued in one turn, so their
   * frames share a socket write, and awaited together). A write refused for the mailslot's
   * quota (ERROR_NOT_ENOUGH_QUOTA: the reader lags 16,384 messages or 4 MiB behind) is written
   * again after a pause that doubles from 1 ms up to 32 ms while refusals go on. The start
   * instant, and how many writes were refused and how long was spent pausing.
   */
  async slotWriteFlood(key: string, count: number, size: number, batch: number) {
    const w = get(writers, key);
    const m = Buffer.alloc(size, 0x33);
    let refused = 0;
    let pausedNs = 0n;
    let pauseMs = 1;
    const t0 = hr();
    for (let sent = 0; sent < count; ) {
      let todo = Math.min(batch, count - sent);
      sent += todo;
      while (todo > 0) {
        const outcomes = await Promise.allSettled(Array.from({ length: todo }, () => w.write(m)));
        todo = 0;
        for (const o of outcomes) {
          if (o.status === 'fulfilled') continue;
          if (!(o.reason instanceof IpcError && o.reason.code === 'ERROR_NOT_ENOUGH_QUOTA')) throw o.reason;
          todo++;
        }
        if (todo > 0) {
          refused += todo;
          const p0 = hr();
          await sleep(pauseMs);
          pausedNs += hr() - p0;
          pauseMs = Math.min(32, pauseMs * 2);
        } else {
          pauseMs = 1;
        }
      }
    }
    return { t0: String(t0), refused, pausedMs: Number(pausedNs) / 1e6 };
  },
  async slotClose(key: string) {
    await readers.get(key)?.close();
    await writers.get(key)?.close();
    readers.delete(key);
    writers.delete(key);
  },

  /** msgget(`name`, IPC_CREAT), durable or not, with the default limits. */
  async mqGet(key: string, name: string, durable: boolean) {
    queues.set(key, await MessageQueue.get(name, { connection, create: true, durable }));
  },
  /**
   * Send `count` messages (type 1) of `size` bytes, `batch` at a time (issued in one turn
   * and awaited together; a send waits for room when the queue is full); the start instant.
   */
  async mqSendFlood(key: string, count: number, size: number, batch: number) {
    const q = get(queues, key);
    const m = Buffer.alloc(size, 0x33);
    const t0 = hr();
    for (let sent = 0; sent < count; ) {
      const n = Math.min(batch, count - sent);
      await Promise.all(Array.from({ length: n }, () => q.send(1, m)));
      sent += n;
    }
    return String(t0);
  },
  /** Arm the receiver of `count` messages, `window` receives posted at all times. */
  mqReceiveStart(key: string, count: number, window: number) {
    const q = get(queues, key);
    receiving = drain(count, window, () => q.receive());
  },
  mqStat: async (key: string) => {
    const s = await get(queues, key).stat();
    return { messages: s.messages, bytes: s.bytes, maxBytes: s.maxBytes };
  },
  async mqRemove(key: string) {
    const q = get(queues, key);
    await q.remove();
    await q.close();
    queues.delete(key);
  },

  /** The end instant of what was armed last (a reader's or a sink's last message). */
  receiveWait: () => receiving,

  async echoServe(path: string) {
    sink = await echoServer(path);
  },
  async rawConnect(path: string) {
    raw = await connectRaw(path);
  },
  /** `n` round trips of 16 bytes over the raw socket; elapsed ns. */
  rawPingPong: async (n: number) => String(await pingPong(raw!, n)),
  /** Listen for any number of raw senders. */
  async rawSinkListen(path: string) {
    sink = net.createServer((socket) => {
      sinkSockets.push(socket);
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      sink!.once('error', reject);
      sink!.listen(path, () => resolve());
    });
  },
  /** Wait until `n` senders are connected. */
  async rawSinkAccepted(n: number) {
    while (sinkSockets.length < n) await sleep(1);
  },
  /** Arm the sink for `count` framed messages over all its connections together. */
  rawSinkStart(count: number) {
    receiving = new Promise((resolve) => {
      let seen = 0;
      const stops = sinkSockets.map((s) =>
        readFramed(s, () => {
          if (++seen === count) {
            const t1 = String(hr());
            for (const stop of stops) stop();
            resolve(t1);
          }
        }),
      );
    });
  },
  /** `count` framed messages of `size` bytes, `batch` per write (raw-socket.ts framedSend); the start instant. */
  rawFramedSend: async (count: number, size: number, batch: number) => String(await framedSend(raw!, count, size, batch)),
};

process.on('message', async (m: { id: number; op: string; args: unknown[] }) => {
  try {
    const op = ops[m.op];
    if (op === undefined) throw new Error(`unknown op ${m.op}`);
    process.send!({ id: m.id, ok: true, value: await op(...m.args) });
  } catch (e) {
    process.send!({ id: m.id, ok: false, message: (e as Error).stack ?? String(e) });
  }
});
// The parent gone (finished, or killed), this process has no purpose left.
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, ok: true });

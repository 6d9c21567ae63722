/**
 * 64 KiB records from one process to another through a ring in a named FileMapping,
 * against the same bytes through a raw Unix-domain socket between the same two processes,
 * in GB/s from the producer's start to the consumer's last byte (process.hrtime is
 * CLOCK_MONOTONIC, so the two processes' readings compare).
 *
 * The ring is single-producer single-consumer: SLOTS slots of 64 KiB and, in the mapping's
 * first page, two positions, `head` (records written) and `tail` (records read), and two
 * "asleep" flags, each on a cache line of its own. The producer copies a record into slot
 * head % SLOTS and publishes it with Atomics.store(head); the consumer copies slot
 * tail % SLOTS out into a Buffer of its own and frees it with Atomics.store(tail). There
 * is no request to the object manager and no system call per record. A side that finds the
 * ring full (or empty) polls the other's position with Atomics.load for up to SPIN_US,
 * yielding to its event loop (setImmediate) every few thousand polls; if the ring is still
 * full (empty) it goes to sleep: it raises its flag, looks once more, and waits on a named
 * auto-reset Event, which the other side sets when, after moving its position, it finds
 * the flag raised. A round trip to the object manager is thus paid only when a side has
 * really run dry, which is what keeps a loaded machine (fewer cores than runnable
 * processes) from turning the polling into lost time slices. On the socket the producer
 * writes each 64 KiB record (waiting for 'drain' when write() says so) and the consumer
 * copies each chunk it reads into a record Buffer of its own, so both receivers copy every
 * byte once.
 *
 * The ring's 4 MiB fit in a shared L3 cache (32 MiB on these machines), as the socket's
 * buffers do: the figure is a cache-to-cache rate, not a memory-bandwidth one.
 *
 * For information it also counts how often the sides of the ring went to sleep, and measures
 * the ring with the consumer reading each record in place (it checks the record's sequence
 * number and frees the slot, no copy out).
 *
 * The two processes are this module run as a child (see the end of the file), driven over
 * the IPC channel, which is never on a measured path.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, Event, FileMapping, type Connection, type View } from '../src/client/index.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { fmt, interleave, iterations, median, ratioOfRounds, withTimeout, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';

const RECORD = 64 * 1024;
const SLOTS = 64;
/** The positions live in the first page; the slots start after it. */
const HEADER = 4096;
// Int32 indices into the first page, 64 bytes apart: one cache line each.
const HEAD = 0;
const TAIL = 16;
const CONSUMER_ASLEEP = 32;
const PRODUCER_ASLEEP = 48;
/** How long a side polls before it goes to sleep on its event. */
const SPIN_US = 200;
/** Polls between two yields to the event loop. */
const POLLS_PER_YIELD = 4096;

const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------
// The parent: the benchmark.

interface Child {
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

async function spawnChild(): Promise<Child> {
  const proc: ChildProcess = fork(self, ['--child'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NTIPC_NO_START: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = once(proc, 'exit');
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; message?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(`ring child ${proc.pid}: ${m.message}`));
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`ring child ${proc.pid} exited (${code ?? signal})`));
    waiting.clear();
  });
  const call = <T>(op: string, ...args: unknown[]) =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, op, args });
      }),
      120_000,
      `ring child ${proc.pid} ${op}`,
    );
  try {
    await call('ping');
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return {
    call,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.disconnect();
        await exited;
      }
    },
  };
}

const benchmark: Benchmark = {
  ids: ['shm.ring-64k'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    const children: Child[] = [];
    try {
      children.push(await spawnChild(), await spawnChild());
      const [producer, consumer] = children as [Child, Child];
      const name = `bench-ring-${process.pid}`;
      await producer.call('connect', daemon.socketPath);
      await consumer.call('connect', daemon.socketPath);
      await producer.call('ringCreate', name);
      await consumer.call('ringOpen', name);
      const sock = path.join(dir, 'raw.sock');
      await consumer.call('sockListen', sock);
      await producer.call('sockConnect', sock);

      const records = iterations(ctx, 16384, 64);
      /** Times either side of the ring went to sleep, per round. */
      const sleeps: number[] = [];
      /** GB/s of `records` records: the consumer armed first, then the producer started. */
      const transfer = async (consume: string, produce: string, ...args: unknown[]) => {
        await consumer.call(`${consume}Start`, records, ...args);
        const start = await producer.call<Timed>(produce, records);
        const end = await consumer.call<Timed>(`${consume}Wait`);
        if (consume === 'ring' && args[0] === true) sleeps.push(start.sleeps + end.sleeps);
        return (records * RECORD) / Number(BigInt(end.at) - BigInt(start.at));
      };
      const [ring, inPlace, socket] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'ring', unit: 'GB/s', run: () => transfer('ring', 'ringProduce', true) },
        { label: 'ring in place', unit: 'GB/s', run: () => transfer('ring', 'ringProduce', false) },
        { label: 'socket', unit: 'GB/s', run: () => transfer('sock', 'sockProduce') },
      ]);
      ctx.note(`shm.ring-64k: the ring's sides went to sleep ${fmt(median(sleeps))} times per ${fmt((records * RECORD) / 2 ** 30)} GiB (median)`);
      ctx.note(
        `shm.ring-64k with the consumer reading in place (no copy out): ${fmt(median(inPlace!))} GB/s, ` +
          `${fmt(ratioOfRounds(inPlace!, socket!))}× the socket`,
      );
      return [
        measured('shm.ring-64k', 'GB/s', ring!, 'raw.uds-stream-64k', socket!, { ratio: 2, better: 'higher' }),
      ];
    } finally {
      await Promise.all(children.map((c) => c.stop().catch(() => {})));
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

// ---------------------------------------------------------------------------------------
// A child: one side of the ring and of the socket.

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const hr = () => process.hrtime.bigint();

/** A side's monotonic start (producer) or end (consumer) time, and how often it slept on its event. */
interface Timed {
  at: string;
  sleeps: number;
}

/** The ring as this process maps it, and the events its sides sleep on. */
interface RingSide {
  view: View;
  positions: Int32Array;
  slots: Uint8Array;
  /** Set by the producer for a consumer asleep on an empty ring. */
  data: Event;
  /** Set by the consumer for a producer asleep on a full ring. */
  space: Event;
}

/**
 * Resolve once `ready()`: poll it for up to SPIN_US, then sleep on `event` with the flag at
 * `asleep` raised (looking once more after raising it, so that a wake-up cannot be missed:
 * the other side stores its position before it reads the flag). True if it slept.
 */
async function waitUntil(positions: Int32Array, ready: () => boolean, asleep: number, event: Event): Promise<boolean> {
  const deadline = hr() + BigInt(SPIN_US * 1000);
  for (let polls = 1; ; polls++) {
    if (ready()) return false;
    if (polls % 256 === 0) {
      if (hr() > deadline) break;
      if (polls % POLLS_PER_YIELD === 0) await yieldToLoop();
    }
  }
  for (;;) {
    Atomics.store(positions, asleep, 1);
    if (ready()) {
      Atomics.store(positions, asleep, 0);
      return true;
    }
    await event.wait(); // set by the other side; perhaps by an earlier wake-up, hence the loop
  }
}

function childOps() {
  let connection: Connection | undefined;
  let ring: RingSide | undefined;
  let mapping: FileMapping | undefined;
  let server: net.Server | undefined;
  let socket: net.Socket | undefined;
  let accepted: Promise<net.Socket> | undefined;
  let consuming: Promise<Timed> | undefined;
  const record = Buffer.alloc(RECORD, 0x5a);
  const received = Buffer.alloc(RECORD);
  /** A wake-up sent and not awaited (the next request on the connection goes after it); its failure surfaces at the end. */
  let waking: Promise<void> = Promise.resolve();

  const side = async (m: FileMapping, name: string, create: boolean): Promise<RingSide> => {
    const view = m.map();
    const event = (n: string) => (create ? Event.create(n, { connection }) : Event.open(n, { connection }));
    return {
      view,
      positions: new Int32Array(view.buffer, 0, HEADER / 4),
      slots: new Uint8Array(view.buffer, HEADER, SLOTS * RECORD),
      data: await event(`${name}-data`),
      space: await event(`${name}-space`),
    };
  };

  /** After moving a position: wake the other side if it is asleep. */
  const wake = (positions: Int32Array, asleep: number, event: Event) => {
    if (Atomics.load(positions, asleep) !== 0 && Atomics.exchange(positions, asleep, 0) !== 0) {
      const sent = event.set();
      sent.catch(() => {}); // handled through `waking`
      waking = waking.then(() => sent);
    }
  };

  /** Producer: `count` records into the ring; its monotonic start time. */
  async function ringProduce(count: number): Promise<Timed> {
    const { positions, slots, data, space } = ring!;
    let sleeps = 0;
    const t0 = hr();
    let head = Atomics.load(positions, HEAD);
    const notFull = () => head - Atomics.load(positions, TAIL) < SLOTS;
    for (let i = 0; i < count; i++) {
      if (!notFull() && (await waitUntil(positions, notFull, PRODUCER_ASLEEP, space))) sleeps++;
      record.writeUInt32LE(head >>> 0, 0); // the sequence number, which the consumer checks
      slots.set(record, (head % SLOTS) * RECORD);
      Atomics.store(positions, HEAD, ++head);
      wake(positions, CONSUMER_ASLEEP, data);
    }
    await waking;
    return { at: String(t0), sleeps };
  }

  /** Consumer: `count` records out of the ring; its monotonic end time. */
  async function ringConsume(count: number, copyOut: boolean): Promise<Timed> {
    const { positions, slots, data, space } = ring!;
    let sleeps = 0;
    const words = new Uint32Array(slots.buffer, slots.byteOffset, slots.length / 4);
    let tail = Atomics.load(positions, TAIL);
    const notEmpty = () => Atomics.load(positions, HEAD) !== tail;
    for (let i = 0; i < count; i++) {
      if (!notEmpty() && (await waitUntil(positions, notEmpty, CONSUMER_ASLEEP, data))) sleeps++;
      const at = (tail % SLOTS) * RECORD;
      let seq: number;
      if (copyOut) {
        received.set(slots.subarray(at, at + RECORD));
        seq = received.readUInt32LE(0);
      } else {
        seq = words[at / 4]!;
      }
      if (seq !== tail >>> 0) throw new Error(`record ${tail}: sequence number ${seq}`);
      Atomics.store(positions, TAIL, ++tail);
      wake(positions, PRODUCER_ASLEEP, space);
    }
    const t1 = hr();
    await waking;
    return { at: String(t1), sleeps };
  }

  /** Producer: `count` records written to the socket; its monotonic start time. */
  async function sockProduce(count: number): Promise<Timed> {
    const s = socket!;
    const t0 = hr();
    for (let i = 0; i < count; i++) {
      if (!s.write(record)) await once(s, 'drain');
    }
    return { at: String(t0), sleeps: 0 };
  }

  /** Consumer: read `count` records' bytes, each chunk copied into a record Buffer; its monotonic end time. */
  function sockConsume(count: number): Promise<Timed> {
    const s = socket!;
    const total = count * RECORD;
    let bytes = 0;
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (let at = 0; at < chunk.length; ) {
          const into = bytes % RECORD;
          const n = Math.min(chunk.length - at, RECORD - into);
          chunk.copy(received, into, at, at + n);
          at += n;
          bytes += n;
        }
        if (bytes >= total) {
          const t1 = hr();
          s.off('data', onData);
          if (bytes > total) reject(new Error(`${bytes - total} bytes more than sent`));
          else resolve({ at: String(t1), sleeps: 0 });
        }
      };
      s.on('data', onData);
    });
  }

  return {
    ping: () => true,
    async connect(socketPath: string) {
      connection = await connect({ socketPath, autoStart: false });
    },
    async ringCreate(name: string) {
      mapping = await FileMapping.create(name, { size: HEADER + SLOTS * RECORD, protect: 'readwrite', connection });
      ring = await side(mapping, name, true);
    },
    async ringOpen(name: string) {
      mapping = await FileMapping.open(name, { access: 'readwrite', connection });
      ring = await side(mapping, name, false);
    },
    ringStart(count: number, copyOut: boolean) {
      consuming = ringConsume(count, copyOut);
      consuming.catch(() => {}); // reported by ringWait
    },
    ringWait: () => consuming!,
    ringProduce,
    sockListen(p: string) {
      return new Promise<void>((resolve, reject) => {
        let onConnection!: (s: net.Socket) => void;
        accepted = new Promise((r) => (onConnection = r));
        server = net.createServer((s) => {
          s.pause(); // read only while consuming
          onConnection(s);
        });
        server.once('error', reject);
        server.listen(p, () => resolve());
      });
    },
    async sockConnect(p: string) {
      const s = net.createConnection({ path: p });
      await once(s, 'connect');
      socket = s;
    },
    async sockStart(count: number) {
      socket ??= await accepted!;
      consuming = sockConsume(count);
      consuming.catch(() => {});
      socket!.resume();
    },
    async sockWait() {
      const t1 = await consuming!;
      socket!.pause();
      return t1;
    },
    sockProduce,
  };
}

if (process.argv[1] === self && process.argv[2] === '--child') {
  const ops: Record<string, (...args: any[]) => unknown> = childOps();
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
}

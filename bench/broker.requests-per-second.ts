/**
 * Requests per second the object manager serves to 4 client processes, each keeping
 * WINDOW `ping` requests in flight (a request is decoded, dispatched through the kernel and
 * answered like any other). Baseline: the rate a raw Unix-socket echo server in one Node
 * process answers 16-byte messages from 4 processes with the same window, one write per
 * message. For information it also measures set/reset of one event per client (a handle
 * lookup and a state change per request). The target is absolute (≥ 50,000 requests/s); the ratio shows how much of the
 * raw socket rate the object manager keeps.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, interleave, iterations, median, ratioOfRounds, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { spawnWorkers, stopAll, type Worker } from './lib/worker.ts';

const CLIENTS = 4;
const WINDOW = 64;

interface Span {
  t0: string;
  t1: string;
  count: number;
}

/** Everyone's messages over the span from the first start to the last end. */
function rate(spans: readonly Span[]): number {
  const t0 = spans.reduce((m, s) => (BigInt(s.t0) < m ? BigInt(s.t0) : m), BigInt(spans[0]!.t0));
  const t1 = spans.reduce((m, s) => (BigInt(s.t1) > m ? BigInt(s.t1) : m), BigInt(spans[0]!.t1));
  const count = spans.reduce((n, s) => n + s.count, 0);
  return count / (Number(t1 - t0) / 1e9);
}

const benchmark: Benchmark = {
  ids: ['broker.requests-per-second'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    let workers: Worker[] = [];
    try {
      workers = await spawnWorkers(CLIENTS + 1);
      const echo = workers[CLIENTS]!;
      const clients = workers.slice(0, CLIENTS);
      const rawPath = path.join(dir, 'raw.sock');
      await echo.call('echoServe', rawPath);
      for (const c of clients) {
        await c.call('rawConnect', rawPath);
        await c.call('connect', 'c', daemon.socketPath);
        await c.call('createEvent', 'e', 'c', '', true);
      }

      const requests = iterations(ctx, 40_000, 100);
      const messages = iterations(ctx, 80_000, 100);
      const [broker, setReset, raw] = await interleave(ctx, benchmark.ids[0]!, [
        {
          label: 'ping',
          unit: 'req/s',
          run: async () => rate(await Promise.all(clients.map((c) => c.call<Span>('floodPing', 'c', requests, WINDOW)))),
        },
        {
          label: 'set/reset',
          unit: 'req/s',
          run: async () => rate(await Promise.all(clients.map((c) => c.call<Span>('floodSetReset', 'e', requests, WINDOW)))),
        },
        {
          label: 'raw echo',
          unit: 'msg/s',
          run: async () => rate(await Promise.all(clients.map((c) => c.call<Span>('rawFlood', messages, WINDOW)))),
        },
      ]);
      ctx.note(
        `broker.requests-per-second with set/reset of an event instead of ping: ` +
          `${fmt(median(setReset!))} req/s, ${fmt(ratioOfRounds(setReset!, raw!))}× raw`,
      );
      return [
        measured('broker.requests-per-second', 'req/s', broker!, 'raw.uds-echo-rate', raw!, { value: 50_000, better: 'higher' }),
      ];
    } finally {
      await stopAll(workers);
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

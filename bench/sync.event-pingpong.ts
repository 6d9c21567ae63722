/**
 * Cross-process event ping-pong: process A sets E1 and waits on E2, process B waits on E1
 * and sets E2 (auto-reset events), in µs per round trip, against a raw 16-byte Unix-socket
 * ping-pong between the same two processes. Every round trip crosses the object manager
 * twice, so 2× is its floor. For information it also measures the same exchange written
 * with SignalObjectAndWait (one request per side per round trip).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, interleave, iterations, median, ratioOfRounds, usPer, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { spawnWorkers, stopAll, type Worker } from './lib/worker.ts';

const benchmark: Benchmark = {
  ids: ['sync.event-pingpong'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    let workers: Worker[] = [];
    try {
      workers = await spawnWorkers(2);
      const [a, b] = workers as [Worker, Worker];
      const rawPath = path.join(dir, 'raw.sock');
      await b.call('echoServe', rawPath);
      await a.call('rawConnect', rawPath);
      for (const w of [a, b]) {
        await w.call('connect', 'c', daemon.socketPath);
        await w.call('createEvent', 'e1', 'c', 'bench-pingpong-1');
        await w.call('createEvent', 'e2', 'c', 'bench-pingpong-2');
      }

      const exchanges = iterations(ctx, 3000);
      const trips = iterations(ctx, 8000);
      /** Run B's side and A's timed side together; µs per round trip. */
      const pingPong = async (ping: string, pong: string, n: number) => {
        const [ns] = await Promise.all([a.elapsed(ping, 'e1', 'e2', n), b.call(pong, 'e1', 'e2', n)]);
        return usPer(ns, n);
      };
      const [events, saw, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'set+wait', unit: 'µs', run: () => pingPong('pingSetWait', 'pongWaitSet', exchanges) },
        { label: 'signalAndWait', unit: 'µs', run: () => pingPong('pingSignalAndWait', 'pongSignalAndWait', exchanges) },
        { label: 'raw rt', unit: 'µs', run: async () => usPer(await a.elapsed('rawPingPong', trips), trips) },
      ]);
      ctx.note(
        `sync.event-pingpong written with signalAndWait (one request per side per round trip): ` +
          `${fmt(median(saw!))} us/rt, ${fmt(ratioOfRounds(saw!, raw!))}× raw`,
      );
      return [
        measured('sync.event-pingpong', 'us/rt', events!, 'raw.uds-pingpong', raw!, { ratio: 2.2, better: 'lower' }),
      ];
    } finally {
      await stopAll(workers);
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

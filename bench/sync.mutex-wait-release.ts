/**
 * Uncontended `await mutex.wait(); await mutex.release()` from one client process, in µs
 * per pair, against a raw 16-byte Unix-socket round trip between two Node processes.
 * It is two requests, so two round trips to the object manager. For information it also
 * measures the same pair with the release not awaited (it rides with the next wait on the
 * same connection, which the object manager runs in order), and one bare request (`ping`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, interleave, iterations, median, ratioOfRounds, usPer, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { spawnWorkers, stopAll, type Worker } from './lib/worker.ts';

const benchmark: Benchmark = {
  ids: ['sync.mutex-wait-release'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    let workers: Worker[] = [];
    try {
      workers = await spawnWorkers(2);
      const [client, echo] = workers as [Worker, Worker];
      const rawPath = path.join(dir, 'raw.sock');
      await echo.call('echoServe', rawPath);
      await client.call('rawConnect', rawPath);
      await client.call('connect', 'c', daemon.socketPath);
      await client.call('createMutex', 'm', 'c');

      const pairs = iterations(ctx, 4000);
      const trips = iterations(ctx, 8000);
      /** µs per iteration of `op` run `n` times (n is its last argument). */
      const us = async (op: string, args: unknown[], n: number) => usPer(await client.elapsed(op, ...args, n), n);
      const [mutex, pipelined, ping, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'wait+release', unit: 'µs', run: () => us('mutexPairs', ['m'], pairs) },
        { label: 'pipelined release', unit: 'µs', run: () => us('mutexPairsPipelined', ['m'], pairs) },
        { label: 'ping', unit: 'µs', run: () => us('pingSeq', ['c'], pairs) },
        { label: 'raw rt', unit: 'µs', run: () => us('rawPingPong', [], trips) },
      ]);
      ctx.note(
        `sync.mutex-wait-release with the release not awaited (it rides with the next wait): ` +
          `${fmt(median(pipelined!))} us/pair, ${fmt(ratioOfRounds(pipelined!, raw!))}× raw`,
      );
      ctx.note(
        `one request's round trip through the object manager (ping, awaited): ` +
          `${fmt(median(ping!))} us, ${fmt(ratioOfRounds(ping!, raw!))}× raw`,
      );
      return [
        measured('sync.mutex-wait-release', 'us/pair', mutex!, 'raw.uds-pingpong', raw!, { ratio: 1.5, better: 'lower' }),
      ];
    } finally {
      await stopAll(workers);
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

/**
 * Mailslot write → read latency, measured as a ping-pong between two processes over two
 * mailslots: A holds the reader of slot A and a writer of slot B, B the reverse. A does
 * `await toB.write(16 bytes); await slotA.read()`, B does `await slotB.read(); await
 * toA.write(16 bytes)`: µs per round trip, which is two write → read hops (one-way latency
 * is half of it, printed as a note). Beside it, `raw.uds-pingpong`: a 16-byte ping-pong over
 * a Unix socket between the same two processes. Each hop crosses the object manager (the
 * writer's request, then the reader's reply), so 2× the raw round trip is the floor.
 * No target: the issue asks for the figure, not a bound. For information, the same exchange
 * with the read posted before the write (as a reader with a read always outstanding does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, interleave, iterations, median, ratioOfRounds, usPer, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { messagePeerMain, spawnWorkers, stopAll, type Worker } from './lib/worker.ts';
import { MESSAGE_SIZE } from './lib/raw-socket.ts';

const benchmark: Benchmark = {
  ids: ['mailslot.latency'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    let workers: Worker[] = [];
    try {
      workers = await spawnWorkers(2, messagePeerMain);
      const [a, b] = workers as [Worker, Worker];
      const rawPath = path.join(dir, 'raw.sock');
      await b.call('echoServe', rawPath);
      await a.call('rawConnect', rawPath);
      const slot = (side: string) => `\\\\.\\mailslot\\ntipc-bench\\${process.pid}\\${side}`;
      for (const [w, mine] of [[a, 'a'], [b, 'b']] as const) {
        await w.call('connect', daemon.socketPath);
        await w.call('slotCreate', mine, slot(mine));
      }
      await a.call('slotOpen', 'b', slot('b'));
      await b.call('slotOpen', 'a', slot('a'));

      const exchanges = iterations(ctx, 3000);
      const trips = iterations(ctx, 8000);
      /** B's side and A's timed side together; µs per round trip. */
      const pingPong = async (ping: string, pong: string, n: number) => {
        const [ns] = await Promise.all([a.elapsed(ping, 'b', 'a', n, MESSAGE_SIZE), b.call(pong, 'b', 'a', n, MESSAGE_SIZE)]);
        return usPer(ns, n);
      };
      const [slots, posted, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'mailslot rt', unit: 'µs', run: () => pingPong('slotPing', 'slotPong', exchanges) },
        { label: 'posted reads', unit: 'µs', run: () => pingPong('slotPingPosted', 'slotPongPosted', exchanges) },
        { label: 'raw rt', unit: 'µs', run: async () => usPer(await a.elapsed('rawPingPong', trips), trips) },
      ]);
      ctx.note(`mailslot.latency: one way (write → read, half the round trip) ${fmt(median(slots!) / 2)} us, raw ${fmt(median(raw!) / 2)} us`);
      ctx.note(
        `mailslot.latency with each side's read posted before its write: ${fmt(median(posted!))} us/rt, ` +
          `${fmt(ratioOfRounds(posted!, raw!))}× raw`,
      );
      for (const w of workers) for (const key of ['a', 'b']) await w.call('slotClose', key);
      return [measured('mailslot.latency', 'us/rt', slots!, 'raw.uds-pingpong', raw!, null)];
    } finally {
      await stopAll(workers);
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

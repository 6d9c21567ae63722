/**
 * Two results from one set-up.
 *
 * broker.memory-per-object: the object manager's resident memory per named object, with
 * 100,000 named auto-reset events each held open by one handle of one client process:
 * RSS after a forced collection, with them minus without them (a fresh daemon each
 * round), over 100,000. Baseline: the same measure of a plain Node process filling a Map
 * of the same 100,000 names to a one-field state object — the floor of a name table in JS.
 * The target is absolute (≤ 1 KiB per object).
 *
 * broker.op-cost-flatness: the cost of set + wait on one event at 100,000 live objects
 * against the same at 10 live objects (in that same client process, whose handle table
 * holds them all), two daemons measured in turn; the ratio is the figure (≤ 1.2).
 */
import { fmt, interleave, iterations, median, usPer, type Benchmark } from './lib/harness.ts';
import { startDaemon, type BenchDaemon, type Memory } from './lib/daemon.ts';
import { spawnWorker, stopAll, type Worker } from './lib/worker.ts';
import { measured, type Measured } from './lib/result.ts';

const MANY = 100_000;
const FEW = 10;
/** Memory is close to deterministic, and each round builds a daemon of 100,000 objects. */
const MAX_MEMORY_ROUNDS = 3;
const PREFIX = 'bench-object-';

/** Fill the daemon `conn` reaches with `count` named events, the last one also kept as `opKey`. */
async function populate(client: Worker, conn: string, count: number, opKey: string): Promise<void> {
  await client.call('createEvents', conn, PREFIX, count - 1, 256);
  await client.call('createEvent', opKey, conn, `${PREFIX}op`);
  const status = await client.call<{ objects: number }>('status', conn);
  if (status.objects !== count) throw new Error(`the daemon holds ${status.objects} objects, expected ${count}`);
}

const perObject = (before: Memory, after: Memory, key: keyof Memory) => (after[key] - before[key]) / MANY;

const benchmark: Benchmark = {
  ids: ['broker.memory-per-object', 'broker.op-cost-flatness'],
  async run(ctx) {
    const daemons: BenchDaemon[] = [];
    const workers: Worker[] = [];
    try {
      const client = await spawnWorker();
      workers.push(client);
      const few = await startDaemon();
      daemons.push(few);
      await client.call('connect', 'few', few.socketPath);
      await populate(client, 'few', FEW, 'op-few');

      // Memory: A (daemon) B (raw Map) in turn, a fresh process for each.
      const memoryRounds = Math.min(ctx.rounds, MAX_MEMORY_ROUNDS);
      const rss: number[] = [];
      const rawRss: number[] = [];
      const heap: number[] = [];
      const rawHeap: number[] = [];
      for (let round = 1; round <= memoryRounds; round++) {
        const many = await startDaemon();
        daemons.push(many);
        await client.call('connect', 'many', many.socketPath);
        const before = await many.memory();
        await populate(client, 'many', MANY, 'op-many');
        const after = await many.memory();
        rss.push(perObject(before, after, 'rss'));
        heap.push(perObject(before, after, 'heapUsed'));

        const raw = await spawnWorker();
        workers.push(raw);
        const rawBefore = await raw.call<Memory>('memory');
        await raw.call('fillTable', PREFIX, MANY);
        const rawAfter = await raw.call<Memory>('memory');
        await raw.stop();
        rawRss.push(perObject(rawBefore, rawAfter, 'rss'));
        rawHeap.push(perObject(rawBefore, rawAfter, 'heapUsed'));
        ctx.log(
          `broker.memory-per-object: round ${round}/${memoryRounds}: daemon ${fmt(rss.at(-1)!)} B/object RSS ` +
            `(${fmt(heap.at(-1)!)} heap), raw Map ${fmt(rawRss.at(-1)!)} B/entry RSS (${fmt(rawHeap.at(-1)!)} heap)`,
        );
        if (round < memoryRounds) {
          await client.call('disconnect', 'many');
          await many.stop();
          daemons.pop();
        }
      }

      ctx.note(
        `broker.memory-per-object counted in V8 heap after GC: ${fmt(median(heap))} B/object, ` +
          `raw Map ${fmt(median(rawHeap))} B/entry`,
      );

      // Operation cost: the last daemon of 100,000 objects against the one of 10, in turn.
      const n = iterations(ctx, 3000);
      const us = async (key: string, count: number) => usPer(await client.elapsed('setWait', key, count), count);
      const [opFew, opMany] = await interleave(ctx, 'broker.op-cost-flatness', [
        { label: `set+wait @${FEW}`, unit: 'µs', run: () => us('op-few', n) },
        { label: `set+wait @${MANY}`, unit: 'µs', run: () => us('op-many', n) },
      ]);

      const results: Measured[] = [
        measured('broker.memory-per-object', 'B/object', rss, 'raw.node-map-entry', rawRss, { value: 1024, better: 'lower' }),
        measured('broker.op-cost-flatness', 'us/op', opMany!, `broker.op-cost@${FEW}`, opFew!, { ratio: 1.2, better: 'lower' }),
      ];
      return results;
    } finally {
      await stopAll(workers);
      for (const d of daemons) await d.stop();
    }
  },
};

export default benchmark;

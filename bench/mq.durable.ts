/**
 * The rate of mq.send-receive through a durable queue (`{ durable: true }`), the object
 * manager keeping its state in a temporary directory (lib/daemon.ts: --state-dir) on this
 * machine's disk. What a resolved call means there (src/broker/queue-store.ts,
 * reply-barrier.ts): the store gathers the writes issued in one turn of the object
 * manager's event loop (a queued message's put; a receive's delete and its receipt) into one
 * LMDB transaction, synced to disk (fdatasync) before the next begins, and no reply leaves
 * the object manager until every write issued before it was made is durable; so `send()`
 * resolves once the message is on disk and `receive()` once its removal is (group commit:
 * one sync for everything a turn issued, not one per call). Beside it, the same raw
 * `raw.uds-framed-64b` as mq.send-receive (nothing durable on that side), and for
 * information the same queue without `durable` in the same run. No target: the issue asks
 * for the figure, not a bound.
 */
import fs from 'node:fs';
import { fmt, interleave, iterations, median, ratioOfRounds, type Benchmark } from './lib/harness.ts';
import { withMqBench } from './lib/mq-rate.ts';
import { measured } from './lib/result.ts';

/** What kind of file system holds `dir` (a sync on tmpfs costs nothing, so it matters). */
function fileSystem(dir: string): string {
  const kinds: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x9123683e: 'btrfs', 0x58465342: 'xfs', 0x794c7630: 'overlayfs' };
  const type = fs.statfsSync(dir).type;
  return kinds[type] ?? `file system type 0x${type.toString(16)}`;
}

const benchmark: Benchmark = {
  ids: ['mq.durable'],
  run: (ctx) =>
    withMqBench(async ({ daemon, receiver, queue, queueStep, rawStep }) => {
      await queue('durable', `ntipc-bench-${process.pid}-durable`, true);
      await queue('plain', `ntipc-bench-${process.pid}-plain`, false);
      const count = iterations(ctx, 50_000, 1000);
      const rawCount = iterations(ctx, 3_000_000, 10_000);
      const [durable, raw, plain] = await interleave(ctx, benchmark.ids[0]!, [
        queueStep('durable', 'durable', count),
        rawStep(rawCount),
        queueStep('not durable', 'plain', count),
      ]);
      for (const key of ['durable', 'plain']) {
        const left = await receiver.call<{ messages: number }>('mqStat', key);
        if (left.messages !== 0) throw new Error(`${left.messages} messages left in the ${key} queue`);
      }
      ctx.note(
        `mq.durable: the same queue not durable, same run: ${fmt(median(plain!))} msgs/s, ${fmt(ratioOfRounds(plain!, raw!))}× raw; ` +
          `durable / not durable ${fmt(ratioOfRounds(durable!, plain!))}× (state directory on ${fileSystem(daemon.stateDir)})`,
      );
      return [measured('mq.durable', 'msgs/s', durable!, 'raw.uds-framed-64b', raw!, null)];
    }),
};

export default benchmark;

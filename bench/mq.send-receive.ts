/**
 * System V message queue rate between two processes: the sender sends 64-byte messages
 * (type 1), 256 at a time (issued in one turn and awaited together; a queue of the default
 * 16,384 bytes holds exactly 256), the receiver keeps 256 receives posted; messages per
 * second from the sender's start to the receiver's last message. Each message is two
 * requests to the object manager (send, receive). Beside it, `raw.uds-framed-64b`: the same
 * messages length-prefixed over a Unix socket between the same two processes, 256 per write
 * (each awaited), the reader splitting the frames with a subarray per message. No target:
 * the issue asks for the figure, not a bound.
 */
import { fmt, interleave, iterations, median, type Benchmark } from './lib/harness.ts';
import { withMqBench } from './lib/mq-rate.ts';
import { measured } from './lib/result.ts';
import type { Worker } from './lib/worker.ts';

const benchmark: Benchmark = {
  ids: ['mq.send-receive'],
  run: (ctx) =>
    withMqBench(async ({ sender, receiver, queue, queueStep, rawStep }) => {
      await queue('q', `ntipc-bench-${process.pid}`, false);
      const count = iterations(ctx, 100_000, 1000);
      const rawCount = iterations(ctx, 3_000_000, 10_000);
      const [mq, raw] = await interleave(ctx, benchmark.ids[0]!, [queueStep('mq', 'q', count), rawStep(rawCount)]);
      const left = await receiver.call<{ messages: number }>('mqStat', 'q');
      if (left.messages !== 0) throw new Error(`${left.messages} messages left in the queue`);
      const mib = async (w: Worker) => ((await w.call<number>('maxRss')) / 2 ** 20).toFixed(0);
      ctx.note(`mq.send-receive: median ${fmt(median(mq!))} msgs/s; peak RSS (queue and raw runs together), sender ${await mib(sender)} MiB, receiver ${await mib(receiver)} MiB`);
      return [measured('mq.send-receive', 'msgs/s', mq!, 'raw.uds-framed-64b', raw!, null)];
    }),
};

export default benchmark;

/**
 * Mailslot message rate, many to one: 4 writer processes each write 64-byte messages to one
 * mailslot, 256 at a time (issued in one turn, so they share a socket write, and awaited
 * together); a reader process keeps 1024 reads posted. Messages per second from the first
 * writer's start to the reader's last message. A write the mailslot refuses for its quota
 * (ERROR_NOT_ENOUGH_QUOTA: 16,384 messages or 4 MiB unread) is written again after a pause
 * (1 ms, doubling to 32 ms while refusals go on), and the refusals are printed as a note.
 * Beside it, `raw.uds-framed-64b-4to1`: the same 4 processes send the same messages,
 * length-prefixed, 256 per write (each awaited), over Unix sockets to the reader's process,
 * which splits the frames with a subarray per message. No target: the issue asks for the
 * figure, not a bound.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, interleave, iterations, median, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';
import { startDaemon, tempDir } from './lib/daemon.ts';
import { messagePeerMain, spawnWorkers, stopAll, type Worker } from './lib/worker.ts';

const WRITERS = 4;
const SIZE = 64;
const BATCH = 256;
const READS_POSTED = 1024;

/** Messages per second of one run: the reader armed first, then every writer started at once. */
async function rate(reader: Worker, writers: readonly Worker[], perWriter: number, arm: [string, ...unknown[]], send: [string, ...unknown[]]) {
  await reader.call(...arm);
  const started = await Promise.all(writers.map((w) => w.call<string | { t0: string; refused: number; pausedMs: number }>(...send)));
  const t1 = BigInt(await reader.call<string>('receiveWait'));
  const t0 = started.map((s) => BigInt(typeof s === 'string' ? s : s.t0)).reduce((x, y) => (y < x ? y : x));
  const refused = started.reduce((n, s) => n + (typeof s === 'string' ? 0 : s.refused), 0);
  const pausedMs = started.reduce((n, s) => n + (typeof s === 'string' ? 0 : s.pausedMs), 0);
  return { rate: (perWriter * writers.length) / (Number(t1 - t0) / 1e9), refused, pausedMs };
}

const benchmark: Benchmark = {
  ids: ['mailslot.rate-4-writers'],
  async run(ctx) {
    const daemon = await startDaemon();
    const dir = tempDir();
    let workers: Worker[] = [];
    try {
      workers = await spawnWorkers(WRITERS + 1, messagePeerMain);
      const [reader, ...writers] = workers as [Worker, ...Worker[]];
      const name = `\\\\.\\mailslot\\ntipc-bench\\${process.pid}\\rate`;
      await reader.call('connect', daemon.socketPath);
      await reader.call('slotCreate', 'slot', name);
      for (const w of writers) {
        await w.call('connect', daemon.socketPath);
        await w.call('slotOpen', 'slot', name);
      }
      const sock = path.join(dir, 'raw.sock');
      await reader.call('rawSinkListen', sock);
      for (const w of writers) await w.call('rawConnect', sock);
      await reader.call('rawSinkAccepted', WRITERS);

      const perWriter = iterations(ctx, 25_000, 1000);
      const rawPerWriter = iterations(ctx, 750_000, 10_000);
      let refused = 0;
      let pausedMs = 0;
      let runs = 0;
      const [slots, raw] = await interleave(ctx, benchmark.ids[0]!, [
        {
          label: 'mailslot',
          unit: 'msg/s',
          run: async () => {
            const r = await rate(reader, writers, perWriter, ['slotReadStart', 'slot', perWriter * WRITERS, READS_POSTED], ['slotWriteFlood', 'slot', perWriter, SIZE, BATCH]);
            refused += r.refused;
            pausedMs += r.pausedMs;
            runs++;
            return r.rate;
          },
        },
        {
          label: 'raw',
          unit: 'msg/s',
          run: async () => (await rate(reader, writers, rawPerWriter, ['rawSinkStart', rawPerWriter * WRITERS], ['rawFramedSend', rawPerWriter, SIZE, BATCH])).rate,
        },
      ]);
      ctx.note(
        `mailslot.rate-4-writers: writes refused for quota (ERROR_NOT_ENOUGH_QUOTA) and written again: ${refused} ` +
          `(a message refused twice counts twice) for ${(runs * perWriter * WRITERS).toLocaleString('en-US')} messages over ${runs} runs (warm-up included), ` +
          `${fmt(pausedMs / WRITERS / runs)} ms paused per writer per run; median rate ${fmt(median(slots!))} msgs/s`,
      );
      const mib = async (w: Worker) => ((await w.call<number>('maxRss')) / 2 ** 20).toFixed(0);
      ctx.note(`mailslot.rate-4-writers: peak RSS (mailslot and raw runs together), reader ${await mib(reader)} MiB, a writer ${await mib(writers[0]!)} MiB`);
      await reader.call('slotClose', 'slot');
      return [measured('mailslot.rate-4-writers', 'msgs/s', slots!, 'raw.uds-framed-64b-4to1', raw!, null)];
    } finally {
      await stopAll(workers);
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;

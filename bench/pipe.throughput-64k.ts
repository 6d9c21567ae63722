/**
 * Named-pipe throughput: 64 KiB messages one way, the writer keeping up to 4 MiB of writes
 * unresolved (4 MiB buffers each way: the bound on what the reader holds), the reader
 * reading each message into a record buffer of its own; GB/s from the writer's start to
 * the reader's last message. Beside it,
 * `raw.uds-stream-64k`: 64 KiB writes (waiting for 'drain' when write() says so) over a
 * Unix socket between two other processes, the reader copying every chunk into a record
 * buffer, so both readers copy every byte once.
 */
import { interleave, iterations, type Benchmark } from './lib/harness.ts';
import { withPipeBench, type PipePeer } from './lib/pipe-peer.ts';
import { measured } from './lib/result.ts';

const RECORD = 64 * 1024;
const BUFFER = 4 * 1024 * 1024;

/** GB/s of one transfer: the reader armed first, then the writer started. */
async function transfer(reader: PipePeer, writer: PipePeer, bytes: number, arm: [string, ...unknown[]], send: [string, ...unknown[]]): Promise<number> {
  await reader.call(...arm);
  const t0 = BigInt(await writer.call<string>(...send));
  const t1 = BigInt(await reader.call<string>('receiveWait'));
  return bytes / Number(t1 - t0);
}

const benchmark: Benchmark = {
  ids: ['pipe.throughput-64k'],
  run: (ctx) =>
    withPipeBench(ctx, BUFFER, async ({ server, client, rawServer, rawClient, noteMemory }) => {
      const count = iterations(ctx, 8192, 64);
      const bytes = count * RECORD;
      const [pipe, raw] = await interleave(ctx, benchmark.ids[0]!, [
        {
          label: 'pipe',
          unit: 'GB/s',
          run: () => transfer(server, client, bytes, ['pipeReceiveStart', count, RECORD, 'copy'], ['pipeSend', count, RECORD, BUFFER / RECORD]),
        },
        {
          label: 'raw',
          unit: 'GB/s',
          run: () => transfer(rawServer, rawClient, bytes, ['rawStreamReceiveStart', bytes, RECORD], ['rawStreamSend', count, RECORD]),
        },
      ]);
      await noteMemory(benchmark.ids[0]!);
      return [measured('pipe.throughput-64k', 'GB/s', pipe!, 'raw.uds-stream-64k', raw!, { ratio: 0.8, better: 'higher' })];
    }),
};

export default benchmark;

/**
 * Named-pipe message rate: 64-byte messages one way, the writer awaiting every 512th
 * write (writes resolve in order), the reader taking each with readMessage(); messages
 * per second from the writer's start to the reader's last message. Beside it,
 * `raw.uds-framed-64b`: the same messages length-prefixed over a Unix socket between two
 * other processes, 512 coalesced per write (each write awaited), the reader splitting the
 * frames with a subarray per message.
 */
import { interleave, iterations, type Benchmark } from './lib/harness.ts';
import { withPipeBench, type PipePeer } from './lib/pipe-peer.ts';
import { measured } from './lib/result.ts';

const SIZE = 64;
const BATCH = 512;

async function rate(reader: PipePeer, writer: PipePeer, count: number, arm: [string, ...unknown[]], send: [string, ...unknown[]]): Promise<number> {
  await reader.call(...arm);
  const t0 = BigInt(await writer.call<string>(...send));
  const t1 = BigInt(await reader.call<string>('receiveWait'));
  return count / (Number(t1 - t0) / 1e9);
}

const benchmark: Benchmark = {
  ids: ['pipe.message-rate-64b'],
  run: (ctx) =>
    withPipeBench(ctx, 1024 * 1024, async ({ server, client, rawServer, rawClient, noteMemory }) => {
      const count = iterations(ctx, 1_000_000, 10_000);
      const [pipe, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'pipe', unit: 'msg/s', run: () => rate(server, client, count, ['pipeReceiveStart', count, SIZE, 'message'], ['pipeSend', count, SIZE, BATCH]) },
        { label: 'raw', unit: 'msg/s', run: () => rate(rawServer, rawClient, count, ['rawFramedReceiveStart', count], ['rawFramedSend', count, SIZE, BATCH]) },
      ]);
      await noteMemory(benchmark.ids[0]!);
      return [measured('pipe.message-rate-64b', 'msgs/s', pipe!, 'raw.uds-framed-64b', raw!, { ratio: 0.8, better: 'higher' })];
    }),
};

export default benchmark;

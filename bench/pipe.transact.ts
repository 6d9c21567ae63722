/**
 * Named-pipe round trip: a client process calls `await pipe.transact(16 bytes)` against a
 * server process that answers each message with itself (message pipe, message read mode),
 * in µs per round trip, against a raw 16-byte Unix-socket ping-pong between two other
 * processes. The bytes go straight from one process to the other; the object manager only
 * matched the ends.
 */
import { interleave, iterations, usPer, type Benchmark } from './lib/harness.ts';
import { withPipeBench } from './lib/pipe-peer.ts';
import { measured } from './lib/result.ts';

const SIZE = 16;

const benchmark: Benchmark = {
  ids: ['pipe.transact'],
  run: (ctx) =>
    withPipeBench(ctx, 4096, async ({ server, client, rawServer, rawClient, noteMemory }) => {
      await server.call('pipeEcho');
      await rawServer.call('rawEcho');
      const n = iterations(ctx, 10_000);
      const [pipe, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'transact', unit: 'µs', run: async () => usPer(BigInt(await client.call<string>('pipeTransact', n, SIZE)), n) },
        { label: 'raw rt', unit: 'µs', run: async () => usPer(BigInt(await rawClient.call<string>('rawPingPong', n, SIZE)), n) },
      ]);
      await noteMemory(benchmark.ids[0]!);
      return [measured('pipe.transact', 'us/rt', pipe!, 'raw.uds-pingpong', raw!, { ratio: 1.2, better: 'lower' })];
    }),
};

export default benchmark;

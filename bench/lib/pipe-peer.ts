/**
 * Parent side of bench/lib/pipe-peer-main.ts, and the set-up the three named-pipe
 * benchmarks share: an object manager of their own, a named-pipe server and client in two
 * processes, and a raw Unix-socket pair in two more (so that each side's peak memory can
 * be told apart), torn down together.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, tempDir } from './daemon.ts';
import type { BenchContext } from './harness.ts';
import { spawnWorker, type Worker } from './worker.ts';

const mainPath = fileURLToPath(new URL('./pipe-peer-main.ts', import.meta.url));

/** A pipe benchmark's process: a worker (worker.ts) running pipe-peer-main.ts. */
export type PipePeer = Worker;

const spawnPipePeer = (): Promise<PipePeer> => spawnWorker(mainPath);

export interface PipeBench {
  /** The named pipe's server and client processes. */
  server: PipePeer;
  client: PipePeer;
  /** The raw baseline's listening and connecting processes. */
  rawServer: PipePeer;
  rawClient: PipePeer;
  /** Peak RSS of the four processes, as a note. */
  noteMemory(id: string): Promise<void>;
}

/** Run `body` with a connected message pipe (both ends in message read mode, `bufferSize` each way) and a raw socket pair. */
export async function withPipeBench<T>(ctx: BenchContext, bufferSize: number, body: (b: PipeBench) => Promise<T>): Promise<T> {
  const daemon = await startDaemon();
  const dir = tempDir();
  const peers: PipePeer[] = [];
  try {
    peers.push(...(await Promise.all([spawnPipePeer(), spawnPipePeer(), spawnPipePeer(), spawnPipePeer()])));
    const [server, client, rawServer, rawClient] = peers as [PipePeer, PipePeer, PipePeer, PipePeer];
    const name = `\\\\.\\pipe\\ntipc-bench-${process.pid}`;
    await server.call('connect', daemon.socketPath);
    await client.call('connect', daemon.socketPath);
    await server.call('pipeCreate', name, bufferSize);
    await client.call('pipeOpen', name);
    await server.call('pipeConnected');
    const sock = path.join(dir, 'raw.sock');
    await rawServer.call('rawListen', sock);
    await rawClient.call('rawConnect', sock);
    await rawServer.call('rawAccepted');
    const noteMemory = async (id: string) => {
      const mib = async (p: PipePeer) => ((await p.call<number>('maxRss')) / 2 ** 20).toFixed(0);
      ctx.note(
        `${id}: peak RSS, pipe server ${await mib(server)} MiB, pipe client ${await mib(client)} MiB; ` +
          `raw server ${await mib(rawServer)} MiB, raw client ${await mib(rawClient)} MiB`,
      );
    };
    const result = await body({ server, client, rawServer, rawClient, noteMemory });
    await client.call('pipeClose');
    await server.call('pipeClose');
    return result;
  } finally {
    await Promise.all(peers.map((p) => p.stop().catch(() => {})));
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

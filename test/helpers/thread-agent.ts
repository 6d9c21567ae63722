/**
 * A worker thread running a TypeScript agent module, driven step by step: the agent
 * answers `{ id, op, args }` messages with `{ id, ok, value }` or `{ id, ok: false, code,
 * message }`, and says `{ id: 0, ok: true }` once it is ready.
 */
import { Worker } from 'node:worker_threads';
import { rpcCalls } from './child-rpc.ts';

export interface ThreadAgent {
  worker: Worker;
  /** The worker's threadId. */
  threadId: number;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
}

const tsxApi = import.meta.resolve('tsx/esm/api');

export async function spawnThreadAgent(moduleUrl: string): Promise<ThreadAgent> {
  // Node 20 does not carry tsx's loader into worker threads: a small evaluated entry
  // registers tsx in the worker, then loads the TypeScript agent.
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); });`;
  const worker = new Worker(boot, { eval: true });
  const rpc = rpcCalls((msg) => worker.postMessage(msg), 'worker');
  worker.on('message', rpc.answer);
  let failure: Error | undefined;
  worker.on('error', (e) => (failure = e));
  worker.on('exit', () => rpc.fail(failure ?? new Error('worker exited')));
  await rpc.ready;
  return { worker, threadId: worker.threadId, call: rpc.call };
}

/**
 * A worker thread running a TypeScript agent module, driven step by step: the agent
 * answers `{ id, op, args }` messages with `{ id, ok, value }` or `{ id, ok: false, code,
 * message }`, and says `{ id: 0, ok: true }` once it is ready.
 */
import { Worker } from 'node:worker_threads';

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
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  worker.on('message', (m: { id: number; ok: boolean; value?: unknown; code?: string; message?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(Object.assign(new Error(m.message), { code: m.code }));
  });
  let failure: Error | undefined;
  worker.on('error', (e) => (failure = e));
  worker.on('exit', () => {
    for (const w of waiting.values()) w.reject(failure ?? new Error('worker exited'));
    waiting.clear();
  });
  await new Promise((resolve, reject) => waiting.set(0, { resolve, reject }));
  const call = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op, args });
    });
  return { worker, threadId: worker.threadId, call };
}

/**
 * Parent side of bench/lib/worker-main.ts (or of another main speaking the same protocol,
 * such as message-peer-main.ts): a benchmark client process driven op by op.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './harness.ts';

const workerPath = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
/** The main of the mailslot and message-queue benchmarks' processes (the same protocol). */
export const messagePeerMain = fileURLToPath(new URL('./message-peer-main.ts', import.meta.url));
/** No op of a benchmark takes this long unless something is stuck. */
const OP_TIMEOUT_MS = 120_000;

export interface Worker {
  readonly pid: number;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** Run an op that returns elapsed nanoseconds (as a decimal string). */
  elapsed(op: string, ...args: unknown[]): Promise<bigint>;
  /** End the process and await its exit. */
  stop(): Promise<void>;
}

/** Start a client process running `main` (default: worker-main.ts) and await its first word. */
export async function spawnWorker(main: string = workerPath): Promise<Worker> {
  const proc: ChildProcess = fork(main, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, NTIPC_NO_START: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = once(proc, 'exit');
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; message?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(`worker ${proc.pid}: ${m.message}`));
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`worker ${proc.pid} exited (${code ?? signal})`));
    waiting.clear();
  });
  const started = new Promise<void>((resolve, reject) => waiting.set(0, { resolve: () => resolve(), reject }));
  try {
    await withTimeout(started, OP_TIMEOUT_MS, `worker ${proc.pid} start`);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  const call = <T>(op: string, ...args: unknown[]): Promise<T> => {
    const id = nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, op, args });
    });
    return withTimeout(answer, OP_TIMEOUT_MS, `worker ${proc.pid} ${op}`);
  };
  return {
    pid: proc.pid!,
    call,
    elapsed: async (op, ...args) => BigInt(await call<string>(op, ...args)),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.disconnect();
        await exited;
      }
    },
  };
}

/** Spawn `n` workers at once (each takes a moment to load). */
export function spawnWorkers(n: number, main: string = workerPath): Promise<Worker[]> {
  return Promise.all(Array.from({ length: n }, () => spawnWorker(main)));
}

/** Stop every worker, ignoring ones already gone. */
export async function stopAll(workers: readonly (Worker | undefined)[]): Promise<void> {
  await Promise.all(workers.map((w) => w?.stop().catch(() => {})));
}

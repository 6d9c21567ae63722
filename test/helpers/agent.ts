/**
 * Parent side of test/fixtures/agent.ts: a real child process that runs ntipc operations
 * on command, so a test can drive several processes step by step without sleeping.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const agentPath = fileURLToPath(new URL('../fixtures/agent.ts', import.meta.url));

export class AgentError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface Agent {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Run one operation in the child and await its answer. */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** Kill the child (SIGKILL by default) and await its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface AgentOptions {
  /** Another fixture speaking the same protocol (default: test/fixtures/agent.ts). */
  module?: string;
  /** Node's flags for it (default: tsx's loader; a prebuilt .mjs needs none). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function spawnAgent(socketPath: string, opts: AgentOptions = {}): Promise<Agent> {
  const proc = fork(opts.module ?? agentPath, [], {
    execArgv: opts.execArgv ?? ['--import', 'tsx'],
    env: { ...process.env, ...opts.env, NTIPC_SOCKET: socketPath, NTIPC_NO_START: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = once(proc, 'exit');
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; code?: string; message?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new AgentError(m.code, m.message ?? 'agent failure'));
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`agent exited (${code ?? signal})`));
    waiting.clear();
  });
  await new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  return {
    proc,
    pid: proc.pid!,
    call<T>(op: string, ...args: unknown[]): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, op, args });
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await exited;
      }
    },
  };
}

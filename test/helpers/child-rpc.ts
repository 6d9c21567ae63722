/**
 * The parent's half of the op protocol served by test/fixtures/serve-ops.ts: the parent
 * sends `{ id, op, args }` and gets `{ id, ok, value }` or `{ id, ok: false, code, message }`;
 * `{ id: 0, ok: true }` says the child is ready, and `{ event, value }` is a report outside
 * any call. Used for forked processes (forkChild) and worker threads (thread-agent.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

/** An op that failed in the child, with the error code it failed with. */
export class ChildError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface Reply {
  id?: number;
  ok?: boolean;
  value?: unknown;
  code?: string;
  message?: string;
  event?: string;
}

/** Calls over one message channel: `post` sends a request, each reply goes to `answer`. */
export function rpcCalls(post: (msg: { id: number; op: string; args: unknown[] }) => void, label: string) {
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const ready = new Promise<unknown>((resolve, reject) => waiting.set(0, { resolve, reject }));
  return {
    /** Resolves on the child's ready message. */
    ready,
    call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        post({ id, op, args });
      });
    },
    answer(m: Reply): void {
      const w = waiting.get(m.id!);
      if (!w) return;
      waiting.delete(m.id!);
      if (m.ok) w.resolve(m.value);
      else w.reject(new ChildError(m.code, m.message ?? `${label} failure`));
    },
    /** Reject every call still waiting (the child is gone). */
    fail(e: Error): void {
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
    },
  };
}

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Run one operation in the child and await its answer. */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** Handlers for the child's `{ event, value }` reports. */
  onEvent(handler: (event: string, value: unknown) => void): void;
  /** Kill the child (SIGKILL by default) and await its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves once the child has exited. */
  readonly exited: Promise<unknown>;
}

export interface ForkOptions {
  /** Node's flags for it (default: tsx's loader; a prebuilt .mjs needs none). */
  execArgv?: string[];
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** 'advanced' to carry what JSON cannot (Infinity, Buffers). */
  serialization?: 'json' | 'advanced';
}

/** Fork `module` (a fixture that calls serveOps) and resolve once it says it is ready. */
export async function forkChild(module: string, opts: ForkOptions = {}): Promise<Child> {
  const label = path.basename(module).replace(/\.[cm]?[jt]s$/, '');
  const proc = fork(module, [], {
    execArgv: opts.execArgv ?? ['--import', 'tsx'],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: opts.serialization,
  });
  const rpc = rpcCalls((msg) => proc.send(msg), label);
  const handlers: ((event: string, value: unknown) => void)[] = [];
  const exited = once(proc, 'exit');
  proc.on('message', (m: Reply) => {
    if (m.event === undefined) rpc.answer(m);
    else for (const h of handlers) h(m.event, m.value);
  });
  proc.on('exit', (code, signal) => rpc.fail(new Error(`${label} exited (${code ?? signal})`)));
  await rpc.ready;
  return {
    proc,
    pid: proc.pid!,
    call: rpc.call,
    onEvent: (h) => void handlers.push(h),
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await exited;
      }
    },
    exited,
  };
}

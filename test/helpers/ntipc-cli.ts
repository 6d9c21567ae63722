/**
 * The `ntipc` command as a user runs it, for the multiprocess tests: the built binary
 * (`npm test` builds first) on a test's private socket, never the user's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `ntipc`: its output so far, a wait for a pattern in it, and its end. */
export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) has matched `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(socket: string, args: readonly string[], opts: { input?: string | null; env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const proc = spawn(process.execPath, [bin, '--socket', socket, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    proc[stream].setEncoding('utf8').on('data', (d: string) => {
      out[stream] += d;
      for (const l of listeners) l();
    });
  }
  if (opts.input !== null) proc.stdin.end(opts.input ?? '');
  const done = once(proc, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, ...out }));
  return {
    proc,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    done,
    waitFor(pattern, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out[stream])) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void done.then((r) => {
          if (listeners.delete(check)) reject(new Error(`ntipc ${args.join(' ')} ended (${r.code ?? r.signal}) before ${pattern}: ${r.stderr}`));
        });
      });
    },
  };
}

/** Run `ntipc ARGS` to its end. */
export function cli(socket: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(socket, args, opts).done;
}

/** A node one-liner for `mutex run` / `sem run` to hold the object with: says `held`, runs until its stdin ends. */
export const HOLD = ['node', '-e', "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0))"];

/**
 * Run a command as a child with this terminal's stdin, stdout and stderr, passing on the
 * signals that would end `ntipc` (so the child ends first and whatever `ntipc` holds is
 * released after it), and resolve with its exit code as a shell reports it.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export interface ChildOutcome {
  /** Its exit code; 128 + the signal number when a signal ended it; 127 (not found) or 126 when it could not start. */
  exitCode: number;
  /** Why it could not start, if it did not. */
  startError?: string;
}

export function runChild(command: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: opts.cwd, env: opts.env ?? process.env });
    const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
    const handlers = FORWARDED.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    let settled = false;
    const done = (outcome: ChildOutcome) => {
      if (settled) return;
      settled = true;
      for (const [s, h] of handlers) process.off(s, h);
      resolve(outcome);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      done({ exitCode: e.code === 'ENOENT' ? 127 : 126, startError: `cannot run ${command}: ${e.code ?? e.message}` });
    });
    child.once('exit', (code, signal) => {
      done({ exitCode: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0) });
    });
  });
}

/**
 * Run a long command (a benchmark run, an example) with a start line, a line every
 * `everyMs` while it runs when stderr is a terminal, and an end line with the time taken.
 */
export async function runWithProgress(label: string, command: string, args: readonly string[], opts: { cwd?: string; everyMs?: number } = {}): Promise<ChildOutcome> {
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`ntipc: ${label}: started\n`);
  const ticker = process.stderr.isTTY ? setInterval(() => process.stderr.write(`ntipc: ${label}: running, ${seconds()} s\n`), opts.everyMs ?? 5_000) : undefined;
  try {
    const outcome = await runChild(command, args, { cwd: opts.cwd });
    process.stderr.write(`ntipc: ${label}: ${outcome.startError ?? (outcome.exitCode === 0 ? 'done' : `failed, exit code ${outcome.exitCode}`)} after ${seconds()} s\n`);
    return outcome;
  } finally {
    clearInterval(ticker);
  }
}

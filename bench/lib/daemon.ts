/**
 * An object manager of the benchmark's own, in its own process, on a private temporary
 * socket: the real daemon (src/broker/main.ts) with --expose-gc and the memory probe
 * preloaded, so that its memory can be read after a collection. Its state directory (where
 * durable message queues are kept) is in the same temporary directory, so that no benchmark
 * writes into the user's ~/.local/state, and it goes with the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerCommand } from '../../src/client/launch.ts';
import { withTimeout } from './harness.ts';

const probe = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));
const MEMORY_LINE = 'ntipc-bench-memory ';

export interface Memory {
  rss: number;
  heapUsed: number;
}

export interface BenchDaemon {
  readonly socketPath: string;
  /** The state directory given to it (--state-dir); created by the daemon when first needed. */
  readonly stateDir: string;
  readonly pid: number;
  /** Collect garbage in the daemon, then its memory. */
  memory(): Promise<Memory>;
  stop(): Promise<void>;
}

/** A fresh private directory for sockets (short, to stay under the 108-byte limit). */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-b-'));
}

export async function startDaemon(): Promise<BenchDaemon> {
  const dir = tempDir();
  const socketPath = path.join(dir, 'ntipc.sock');
  const stateDir = path.join(dir, 'state');
  const { command, args } = brokerCommand();
  const main = args.at(-1)!;
  const proc: ChildProcess = spawn(command, ['--expose-gc', ...args.slice(0, -1), '--import', probe, main, '--socket', socketPath, '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its diagnostics (a protocol violation, an internal error) should be seen, not swallowed.
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    process.stderr.write(d.replace(/^(?=.)/gm, `  daemon ${proc.pid}: `));
  });
  let out = '';
  const lineWaiters: ((line: string) => void)[] = [];
  const exited = once(proc, 'exit');
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.includes('listening on')) resolve();
        if (line.startsWith(MEMORY_LINE)) lineWaiters.shift()?.(line.slice(MEMORY_LINE.length));
      }
    });
    proc.once('exit', (code) => reject(new Error(`daemon exited with ${code} before listening: ${err}`)));
  });
  try {
    await withTimeout(ready, 30_000, 'daemon start');
  } catch (e) {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    socketPath,
    stateDir,
    pid: proc.pid!,
    async memory() {
      const line = new Promise<string>((resolve) => lineWaiters.push(resolve));
      proc.kill('SIGUSR2');
      const m = JSON.parse(await withTimeout(line, 30_000, 'daemon memory probe')) as Memory & { gc: boolean };
      if (!m.gc) throw new Error('the daemon has no gc() (--expose-gc did not take)');
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real object manager in its own process, on a private temporary socket, for tests.
 * `stop()` shuts it down and removes its directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { brokerCommand } from '../../src/client/launch.ts';

export interface Daemon {
  socketPath: string;
  dir: string;
  proc: ChildProcess;
  /** Everything it wrote to stdout so far (its banner lines come before it resolves). */
  stdout(): string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, wait for exit, remove the directory. */
  stop(): Promise<void>;
}

/** A fresh temporary directory for one test's sockets (short, to stay under 108 bytes). */
export function tempDir(prefix = 'ntipc-t-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startDaemon(opts: { args?: string[]; dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Daemon> {
  const dir = opts.dir ?? tempDir();
  const socketPath = path.join(dir, 'ntipc.sock');
  const { command, args } = brokerCommand();
  // Durable state (durable message queues) in the test's own directory, not the user's; `args` may say otherwise.
  const state = ['--state-dir', path.join(dir, 'state')];
  const proc = spawn(command, [...args, '--socket', socketPath, ...state, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`daemon exited with ${code} before listening: ${err}`)));
  });
  await ready;
  return {
    socketPath,
    dir,
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, 'exit');
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

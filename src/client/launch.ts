/**
 * Find the object manager, or start one. Clients that find none race for a starter lock
 * (an abstract socket the OS frees when its holder dies); the winner spawns the broker,
 * detached, and everyone polls the socket until it answers. The broker takes a lock of its
 * own before it binds, so however the race goes exactly one serves the socket.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { IpcError } from '../errors.ts';
import { ensurePrivateDir, lockName } from '../transport/paths.ts';
import type { Transport } from '../transport/transport.ts';
import { connectUnix } from '../transport/unix-socket.ts';

/** How long a client waits for a broker it started (or saw being started) to answer. */
const START_TIMEOUT_MS = 15_000;

function absent(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

function tryLock(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    server.listen(name, () => resolve(server.unref()));
  });
}

/** The command line that runs the broker: compiled JS, or the TypeScript source through tsx. */
export function brokerCommand(): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(fromSource ? '../broker/main.ts' : '../broker/main.js', import.meta.url));
  const loader = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  return { command: process.execPath, args: [...loader, main] };
}

function spawnBroker(socket: string): void {
  ensurePrivateDir(socket);
  const { command, args } = brokerCommand();
  const linger = process.env.NTIPC_LINGER_MS ?? '5000';
  const logFile = path.join(path.dirname(socket), `${path.basename(socket, '.sock')}.log`);
  const log = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(command, [...args, '--socket', socket, '--linger', linger, '--quiet'], {
      detached: true,
      stdio: ['ignore', log, log],
      env: process.env,
    });
    child.unref();
  } finally {
    fs.closeSync(log);
  }
}

/** A transport to the broker serving `socket`, started first if need be. */
export async function ensureBroker(socket: string): Promise<Transport> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let delay = 2;
  for (;;) {
    try {
      return await connectUnix(socket);
    } catch (e) {
      if (!absent(e)) throw new IpcError('ERROR_SERVICE_NOT_ACTIVE', 'connect', socket, (e as Error).message);
    }
    const lock = await tryLock(lockName(socket, 'start'));
    if (lock !== undefined) {
      try {
        try {
          return await connectUnix(socket);
        } catch (e) {
          if (!absent(e)) throw e;
        }
        spawnBroker(socket);
        for (;;) {
          try {
            return await connectUnix(socket);
          } catch (e) {
            if (!absent(e) || Date.now() > deadline) throw e;
          }
          await sleep(delay);
          delay = Math.min(delay * 2, 50);
        }
      } catch (e) {
        throw new IpcError('ERROR_SERVICE_NOT_ACTIVE', 'start', socket, `the object manager did not start: ${(e as Error).message}`);
      } finally {
        lock.close();
      }
    }
    if (Date.now() > deadline) throw new IpcError('ERROR_SERVICE_NOT_ACTIVE', 'start', socket, 'timed out waiting for the object manager');
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export interface ServeOptions {
  socketPath: string;
  trace?: boolean;
  /** Exit after this long idle (no clients, no objects); default never. */
  lingerMs?: number;
  /** A configuration file (host name, domain, the mailslot network: docs/network.md). */
  configFile?: string;
  /** Where durable message queues are kept (default: under the user's state directory). */
  stateDir?: string;
  /**
   * Also serve the live dashboard on loopback: `true` on the object manager's default port,
   * a number on that port (0: any free port). Passed to the object manager as `--dashboard [PORT]`.
   */
  dashboard?: number | true;
  /** Each line the object manager prints on stdout (its banner and trace lines). */
  onLine?: (line: string) => void;
}

/**
 * Run the object manager in the foreground as a child of this process, its stderr shared,
 * its stdout lines handed to `onLine`. SIGINT and SIGTERM to this process stop it. Resolves
 * with its exit code (3: another object manager already serves the socket).
 */
export function serveForeground(opts: ServeOptions): Promise<number> {
  const { command, args } = brokerCommand();
  const extra = [...(opts.trace ? ['--trace'] : []), ...(opts.lingerMs !== undefined ? ['--linger', String(opts.lingerMs)] : []),
    ...(opts.configFile !== undefined ? ['--config', opts.configFile] : []),
    ...(opts.stateDir !== undefined ? ['--state-dir', opts.stateDir] : []),
    ...(opts.dashboard === undefined ? [] : opts.dashboard === true ? ['--dashboard'] : ['--dashboard', String(opts.dashboard)]),
  ];
  const child = spawn(command, [...args, '--socket', opts.socketPath, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      (opts.onLine ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
    }
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

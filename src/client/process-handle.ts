/**
 * A process as a waitable object: signaled when it exits. `spawn` starts a child and knows
 * its exit code; `open(pid)` waits on any process visible in /proc (its exit code is not
 * knowable on Linux unless its parent reports it).
 */
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import os from 'node:os';
import { IpcError } from '../errors.ts';
import { Access } from '../protocol/access.ts';
import type { Connection } from './connection.ts';
import { connectionOf, KernelHandle, type HandleOptions } from './handle.ts';
import type { WaitOptions, WaitStatus } from './wait.ts';

/** Exit code of a process killed by a signal: 128 + the signal number, as shells report it. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
}

export class ProcessHandle extends KernelHandle {
  /** The Node ChildProcess, when this handle spawned it. */
  child: ChildProcess | undefined;
  private knownExitCode: number | null = null;

  private constructor(connection: Connection, handle: number, objectId: number, readonly pid: number) {
    super(connection, handle, objectId, undefined);
  }

  /** The exit code once known (after the process ended; null for a process killed by nobody we know). */
  get exitCode(): number | null {
    return this.knownExitCode;
  }

  /**
   * Spawn a child (child_process.spawn's arguments) and return a waitable handle to it.
   * A program that cannot be started rejects with ERROR_FILE_NOT_FOUND or the spawn error.
   */
  static async spawn(command: string, args: readonly string[] = [], opts: SpawnOptions & HandleOptions = {}): Promise<ProcessHandle> {
    const { connection: _c, access: _a, ...spawnOpts } = opts;
    const c = await connectionOf(opts);
    const child = spawnChild(command, args, spawnOpts);
    const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal))));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new IpcError('ERROR_FILE_NOT_FOUND', 'CreateProcess', command) : e),
      );
    });
    const r = await c.request('openProcess', { pid: child.pid!, child: true, access: opts.access ?? Access.MAXIMUM_ALLOWED });
    const p = new ProcessHandle(c, r.handle, r.objectId, child.pid!);
    p.child = child;
    void exited.then((code) => {
      p.knownExitCode = code;
      return c.request('reportProcessExit', { handle: r.handle, exitCode: code }).catch(() => {});
    });
    return p;
  }

  /** OpenProcess: a handle to process `pid`. No such process: ERROR_INVALID_PARAMETER. */
  static async open(pid: number, opts: HandleOptions = {}): Promise<ProcessHandle> {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fff_ffff) throw new IpcError('ERROR_INVALID_PARAMETER', 'OpenProcess', undefined, `bad pid ${pid}`);
    const c = await connectionOf(opts);
    const r = await c.request('openProcess', { pid, child: false, access: opts.access ?? Access.MAXIMUM_ALLOWED });
    return new ProcessHandle(c, r.handle, r.objectId, pid);
  }

  override async wait(timeoutMs = Infinity, opts?: WaitOptions): Promise<WaitStatus> {
    const status = await super.wait(timeoutMs, opts);
    // The exit code is a bonus: a handle without the query right still waits fine.
    if (status !== 'timeout' && this.knownExitCode === null) await this.refresh().catch(() => null);
    return status;
  }

  /** Ask the object manager for the exit code (null while running or when unknowable). */
  async refresh(): Promise<number | null> {
    const code = (await this.query()).state.exitCode;
    if (typeof code === 'number') this.knownExitCode = code;
    return this.knownExitCode;
  }
}

/**
 * Mutex: owned by one thread (connection) at a time, recursively; abandoned when its owner
 * ends without releasing it.
 */
import { IpcError } from '../errors.ts';
import { accessOf, connectionOf, KernelHandle, optionalName, type HandleOptions } from './handle.ts';
import { checkTimeout } from './wait.ts';
import type { Connection } from './connection.ts';

/** What {@link Mutex.lock} gives: whether the mutex was abandoned, and how to release it. */
export interface MutexLock extends AsyncDisposable {
  /** The previous owner died holding it; the data it guarded may be inconsistent. */
  readonly abandoned: boolean;
  /** Release the mutex (once; later calls do nothing). */
  release(): Promise<void>;
}

export class Mutex extends KernelHandle {
  /** True when create() opened an existing mutex (ERROR_ALREADY_EXISTS on Windows). */
  existed = false;

  /**
   * CreateMutex. With a name, opens the existing mutex of that name if there is one
   * (`existed`, and `initialOwner` is ignored); a name held by another type fails
   * ERROR_INVALID_HANDLE. `initialOwner` makes the calling thread its owner.
   */
  static async create(name?: string, opts: HandleOptions & { initialOwner?: boolean } = {}): Promise<Mutex> {
    const c = await connectionOf(opts);
    const r = await c.request('createMutex', { name: optionalName(name), initialOwner: opts.initialOwner ?? false, access: accessOf(opts) });
    const m = new Mutex(c, r.handle, r.objectId, name);
    m.existed = r.existed;
    return m;
  }

  /** OpenMutex. No such name: ERROR_FILE_NOT_FOUND; another type: ERROR_INVALID_HANDLE. */
  static async open(name: string, opts: HandleOptions = {}): Promise<Mutex> {
    const c = await connectionOf(opts);
    const r = await c.request('openMutex', { name, access: accessOf(opts) });
    return new Mutex(c, r.handle, r.objectId, name);
  }

  /** Another view of the same handle on another connection (thread) of this process. */
  on(connection: Connection): Mutex {
    return new Mutex(connection, this.handle, this.objectId, this.name);
  }

  /** ReleaseMutex: one recursion down. Not the owning thread: ERROR_NOT_OWNER, and nothing changes. */
  async release(): Promise<void> {
    await this.connection.request('releaseMutex', { handle: this.handle });
  }

  /**
   * Acquire the mutex for this thread, and also queue behind other async callers of this
   * thread that hold it through lock(), so that concurrent async code does not share it by
   * recursion. Times out with ERROR_TIMEOUT.
   */
  async lock(timeoutMs = Infinity): Promise<MutexLock> {
    checkTimeout(timeoutMs, 'WaitForSingleObject');
    const deadline = performance.now() + timeoutMs;
    const gate = this.connection.gate(this.objectId);
    try {
      if (timeoutMs === Infinity) await gate.ready;
      else {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
        const first = await Promise.race([gate.ready.then(() => 'ready' as const), expired]);
        clearTimeout(timer);
        if (first === 'timeout') throw new IpcError('ERROR_TIMEOUT', 'lock', this.name);
      }
      const left = timeoutMs === Infinity ? Infinity : Math.max(0, deadline - performance.now());
      const status = await this.wait(left);
      if (status === 'timeout') throw new IpcError('ERROR_TIMEOUT', 'lock', this.name);
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        try {
          await this.release();
        } finally {
          gate.leave();
        }
      };
      return { abandoned: status === 'abandoned', release, [Symbol.asyncDispose]: release };
    } catch (e) {
      gate.leave();
      throw e;
    }
  }
}

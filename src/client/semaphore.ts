/** Semaphore: a count between 0 and a maximum; each satisfied wait takes one. */
import { accessOf, connectionOf, KernelHandle, optionalName, type HandleOptions } from './handle.ts';

export class Semaphore extends KernelHandle {
  /** True when create() opened an existing semaphore. */
  existed = false;

  /**
   * CreateSemaphore. Needs 0 ≤ initialCount ≤ maximumCount and maximumCount ≥ 1 (else
   * ERROR_INVALID_PARAMETER). An existing name is opened and the counts are ignored.
   */
  static async create(
    name: string | undefined,
    opts: HandleOptions & { initialCount: number; maximumCount: number },
  ): Promise<Semaphore> {
    const c = await connectionOf(opts);
    const r = await c.request('createSemaphore', {
      name: optionalName(name),
      initialCount: int32(opts.initialCount),
      maximumCount: int32(opts.maximumCount),
      access: accessOf(opts),
    });
    const s = new Semaphore(c, r.handle, r.objectId, name);
    s.existed = r.existed;
    return s;
  }

  /** OpenSemaphore. */
  static async open(name: string, opts: HandleOptions = {}): Promise<Semaphore> {
    const c = await connectionOf(opts);
    const r = await c.request('openSemaphore', { name, access: accessOf(opts) });
    return new Semaphore(c, r.handle, r.objectId, name);
  }

  /**
   * ReleaseSemaphore: add `count` (≥ 1) and resolve with the count before. Past the
   * maximum: ERROR_TOO_MANY_POSTS and the count is unchanged.
   */
  async release(count = 1): Promise<number> {
    return (await this.connection.request('releaseSemaphore', { handle: this.handle, count: int32(count) })).previousCount;
  }
}

/** Numbers outside int32 (or not integers) are sent as -1 so that the kernel refuses them. */
function int32(n: number): number {
  return Number.isInteger(n) && n >= -0x8000_0000 && n <= 0x7fff_ffff ? n : -1;
}

/** Waitable timer: signaled at its due time, optionally every period after. */
import { IpcError } from '../errors.ts';
import { accessOf, connectionOf, KernelHandle, optionalName, type HandleOptions } from './handle.ts';

export class WaitableTimer extends KernelHandle {
  /** True when create() opened an existing timer. */
  existed = false;

  /**
   * CreateWaitableTimer. Manual reset (notification timer): stays signaled once expired
   * until set again. Auto reset (synchronization timer, the default): one waiter per expiry.
   * A new timer is not signaled and not armed.
   */
  static async create(name?: string, opts: HandleOptions & { manualReset?: boolean } = {}): Promise<WaitableTimer> {
    const c = await connectionOf(opts);
    const r = await c.request('createTimer', { name: optionalName(name), manualReset: opts.manualReset ?? false, access: accessOf(opts) });
    const t = new WaitableTimer(c, r.handle, r.objectId, name);
    t.existed = r.existed;
    return t;
  }

  /** OpenWaitableTimer. */
  static async open(name: string, opts: HandleOptions = {}): Promise<WaitableTimer> {
    const c = await connectionOf(opts);
    const r = await c.request('openTimer', { name, access: accessOf(opts) });
    return new WaitableTimer(c, r.handle, r.objectId, name);
  }

  /**
   * SetWaitableTimer: reset it and arm it for `due` (ms from now, or a Date), then every
   * `periodMs` if that is above 0. A due time already past expires at once.
   */
  async set(due: number | Date, periodMs = 0): Promise<void> {
    const absolute = due instanceof Date;
    const value = absolute ? due.getTime() : due;
    if (typeof value !== 'number' || !Number.isFinite(value) || (!absolute && value < 0)) {
      throw new IpcError('ERROR_INVALID_PARAMETER', 'SetWaitableTimer', this.name, `bad due time ${String(due)}`);
    }
    await this.connection.request('setTimer', { handle: this.handle, due: value, absolute, periodMs });
  }

  /** CancelWaitableTimer: disarm it; its signaled state does not change. */
  async cancel(): Promise<void> {
    await this.connection.request('cancelTimer', { handle: this.handle });
  }
}

/** Event: manual-reset (stays set until reset) or auto-reset (consumed by one wait). */
import { accessOf, connectionOf, KernelHandle, optionalName, type HandleOptions } from './handle.ts';

export class Event extends KernelHandle {
  /** True when create() opened an existing event (its reset kind and state are then kept). */
  existed = false;

  /** CreateEvent: auto-reset and not signaled unless told otherwise. */
  static async create(name?: string, opts: HandleOptions & { manualReset?: boolean; initialState?: boolean } = {}): Promise<Event> {
    const c = await connectionOf(opts);
    const r = await c.request('createEvent', {
      name: optionalName(name),
      manualReset: opts.manualReset ?? false,
      initialState: opts.initialState ?? false,
      access: accessOf(opts),
    });
    const e = new Event(c, r.handle, r.objectId, name);
    e.existed = r.existed;
    return e;
  }

  /** OpenEvent. */
  static async open(name: string, opts: HandleOptions = {}): Promise<Event> {
    const c = await connectionOf(opts);
    const r = await c.request('openEvent', { name, access: accessOf(opts) });
    return new Event(c, r.handle, r.objectId, name);
  }

  /** SetEvent: signal it; an auto-reset event then releases exactly one waiter. */
  async set(): Promise<void> {
    await this.connection.request('setEvent', { handle: this.handle });
  }

  /** ResetEvent. */
  async reset(): Promise<void> {
    await this.connection.request('resetEvent', { handle: this.handle });
  }

  /** PulseEvent: release the current waiters (all, or one if auto-reset) and leave it reset. */
  async pulse(): Promise<void> {
    await this.connection.request('pulseEvent', { handle: this.handle });
  }
}

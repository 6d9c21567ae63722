/** What every client-side object shares: its connection, its handle, wait and close. */
import { IpcError } from '../errors.ts';
import type { ObjectInfo } from '../protocol/schema.ts';
import { Access } from '../protocol/access.ts';
import { defaultConnection, type Connection } from './connection.ts';
import { checkTimeout, runWait, type WaitOptions, type Waitable, type WaitStatus } from './wait.ts';

/** Options every create() and open() takes. */
export interface HandleOptions {
  /** The connection (thread) to use; default: this agent's own. */
  connection?: Connection;
  /** Desired access (see {@link Access}); default: all the access the object type has. */
  access?: number;
}

export async function connectionOf(opts: HandleOptions | undefined): Promise<Connection> {
  return opts?.connection ?? defaultConnection();
}

export function accessOf(opts: HandleOptions | undefined): number {
  return opts?.access ?? Access.MAXIMUM_ALLOWED;
}

/** A name for create(): undefined or '' means an unnamed object. */
export function optionalName(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  if (typeof name !== 'string') throw new IpcError('ERROR_INVALID_PARAMETER', 'create', undefined, 'name must be a string');
  return name;
}

export abstract class KernelHandle implements Waitable, AsyncDisposable {
  private closing: Promise<void> | undefined;

  protected constructor(
    /** The connection (thread) this handle's operations run on. */
    readonly connection: Connection,
    /** The handle value, valid in every connection of this process. */
    readonly handle: number,
    /** The object's identity in the object manager (two handles to one object share it). */
    readonly objectId: number,
    /** The name it was created or opened with, if any. */
    readonly name: string | undefined,
  ) {}

  /**
   * WaitForSingleObject. Resolves 'signaled', 'abandoned' (a mutex whose owner died: you now
   * own it) or 'timeout'. `timeoutMs` 0 polls, Infinity (the default) blocks.
   */
  async wait(timeoutMs = Infinity, opts?: WaitOptions): Promise<WaitStatus> {
    checkTimeout(timeoutMs, 'WaitForSingleObject');
    const c = this.connection;
    return (await runWait(c, () => c.send('wait', { handles: [this.handle], all: false, timeoutMs, detectDeadlock: opts?.detectDeadlock === true }), opts)).status;
  }

  /** The object manager's description of the object (state, handles, waiters). */
  async query(): Promise<ObjectInfo> {
    return (await this.connection.request('queryObject', { handle: this.handle })).info;
  }

  /** CloseHandle. The object lives on while other handles or pending waits refer to it. A second close is a no-op. */
  close(): Promise<void> {
    this.closing ??= this.connection.isOpen ? this.connection.request('closeHandle', { handle: this.handle }).then(() => {}) : Promise.resolve();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}


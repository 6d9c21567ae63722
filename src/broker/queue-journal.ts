/**
 * The kernel's journal of durable message queues, on the broker's queue store. The store is
 * opened at start-up when the state directory already holds one (and what it holds is
 * restored), and otherwise only when the first durable queue is created, so that an object
 * manager that never makes one never touches the disk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IpcError, StatusError } from '../errors.ts';
import type { JournaledMessage, QueueJournal } from '../kernel/objects/message-queue.ts';
import type { StoredQueueRecord } from '../kernel/objects/message-queue-restore.ts';
import { socketPath as namespaceSocketPath } from '../transport/paths.ts';
import { defaultStateDir, QueueStore, STORE_FOLDER } from './queue-store.ts';
import type { Durability } from './reply-barrier.ts';

/**
 * Where the object manager serving `socket` keeps durable state when not told: the
 * namespace's state directory (NTIPC_STATE_DIR, else under XDG_STATE_HOME or
 * ~/.local/state), or, for a socket other than the namespace's own (NTIPC_SOCKET,
 * --socket), a directory of its own under it, named by a hash of the socket path: two object
 * managers never share a store, and the runtime directory never holds one.
 */
export function stateDirFor(socket: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = defaultStateDir(env);
  if (env.NTIPC_STATE_DIR) return base;
  const { NTIPC_SOCKET: _, ...namespaceEnv } = env;
  if (path.resolve(socket) === namespaceSocketPath(namespaceEnv)) return base;
  return path.join(base, 'sockets', createHash('sha256').update(path.resolve(socket)).digest('hex').slice(0, 24));
}

function asStatus(e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  if (e instanceof IpcError) return new StatusError(e.code, e.message);
  return new StatusError('ERROR_IO_DEVICE', (e as Error)?.message ?? String(e));
}

export class StoreJournal implements QueueJournal, Durability {
  private store: QueueStore | undefined;
  private opening: Promise<QueueStore> | undefined;

  constructor(
    /** The state directory. */
    readonly dir: string,
    /** Runs kernel work outside a request (the broker's guard and after-request work). */
    private readonly run: (work: () => void) => void,
  ) {}

  get ready(): boolean {
    return this.store !== undefined;
  }

  /** At start-up: open the store if the directory holds one, and return what it keeps. */
  async openExisting(): Promise<StoredQueueRecord[]> {
    if (!fs.existsSync(path.join(this.dir, STORE_FOLDER))) return [];
    this.store = await QueueStore.open(this.dir);
    return this.store.load();
  }

  open(done: (failure?: StatusError) => void): void {
    this.opening ??= QueueStore.open(this.dir);
    this.opening.then(
      (store) => {
        this.store = store;
        this.opening = undefined;
        this.run(() => done());
      },
      (e: unknown) => {
        this.opening = undefined;
        this.run(() => done(asStatus(e)));
      },
    );
  }

  putQueue(key: string, attrs: Record<string, number | string | null>): void {
    this.write((s) => s.putQueue(key, attrs));
  }

  putMessage(key: string, msg: JournaledMessage, opts?: { outsideLimit?: boolean }): void {
    this.write((s) => s.putMessage(key, msg, opts));
  }

  deleteMessage(key: string, seq: number): void {
    this.write((s) => s.deleteMessage(key, seq));
  }

  deleteQueue(key: string): void {
    this.write((s) => s.deleteQueue(key));
  }

  get dirty(): boolean {
    return this.store?.dirty ?? false;
  }

  flushed(): Promise<void> {
    return this.store?.flushed() ?? Promise.resolve();
  }

  /** Make what was issued durable and let the directory go. */
  async close(): Promise<void> {
    const store = this.store ?? (await this.opening?.catch(() => undefined));
    this.store = undefined;
    await store?.close();
  }

  private write(op: (store: QueueStore) => void): void {
    if (this.store === undefined) throw new StatusError('ERROR_IO_DEVICE', 'the queue store is not open');
    try {
      op(this.store);
    } catch (e) {
      throw asStatus(e);
    }
  }
}

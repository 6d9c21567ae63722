/**
 * The store of durable System V message queues: their attributes and their messages, kept
 * so that they outlive the object manager, SIGKILL included. An LMDB environment (lmdb-js)
 * in `<state dir>/queues.lmdb`, written by one process at a time (an exclusive flock on
 * `writer.lock` beside it).
 *
 * Operations are issued synchronously and take effect in issue order. They gather in a
 * batch until the next turn of the event loop; one batch at a time is committed as one LMDB
 * transaction, fsync'd before the next begins. So what a crash leaves is the state after a
 * prefix of the issued operations, and {@link QueueStore.flushed} tells when a prefix is
 * durable. A commit that fails (disk full, I/O error) stops the store: it refuses everything
 * after, so that the prefix rule holds across failures too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { IpcError } from '../errors.ts';
import { FileLock } from '../native/file-lock.ts';
import { failureOf, openStoreEnvironment, prepareFolder } from './queue-store-environment.ts';
import { MESSAGE_OVERHEAD, checkAttrs, checkKey, checkMessage, isAttrs, isRecord, isSeq, type Attrs, type MessageKey, type MessageRecord } from './queue-store-records.ts';

export { STORE_FOLDER } from './queue-store-environment.ts';
export { MAX_DATA_BYTES, MAX_KEY_BYTES, MESSAGE_OVERHEAD } from './queue-store-records.ts';

export interface StoredMessage {
  seq: number;
  type: number;
  data: Buffer;
  sendPid: number;
  sendTime: number;
}

export interface StoredQueue {
  key: string;
  attrs: Record<string, number | string | null>;
  messages: StoredMessage[];
}

export interface QueueStoreOptions {
  /**
   * Most message bytes the store holds, all queues together (each message counts its data
   * plus {@link MESSAGE_OVERHEAD}); a putMessage past it fails ENOSPC. Default 1 GiB.
   */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
const NAMESPACE_RE = /^[A-Za-z0-9._-]{1,64}$/; // the rule of transport/paths.ts

/**
 * The state directory of the namespace in force: NTIPC_STATE_DIR, else
 * `$XDG_STATE_HOME/ntipc`, else `~/.local/state/ntipc`; then, when NTIPC_NAMESPACE names a
 * namespace other than `default`, its subdirectory of that name (so that two namespaces
 * never share a store). Fails ERROR_INVALID_NAME for a namespace the socket path refuses.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.NTIPC_STATE_DIR
    ? path.resolve(env.NTIPC_STATE_DIR)
    : env.XDG_STATE_HOME
      ? path.join(path.resolve(env.XDG_STATE_HOME), 'ntipc')
      : path.join(os.homedir(), '.local', 'state', 'ntipc');
  const namespace = env.NTIPC_NAMESPACE;
  // No namespace is the namespace `default` (one socket, one store).
  if (namespace === undefined || namespace === 'default') return base;
  if (!NAMESPACE_RE.test(namespace)) {
    throw new IpcError('ERROR_INVALID_NAME', 'namespace', namespace, 'letters, digits, ".", "_" and "-", at most 64');
  }
  return path.join(base, namespace);
}

/** The operations issued since the last commit began, as the final state of what they touch. */
class Batch {
  /** Queue key → attributes, or null to delete the queue record. */
  readonly queues = new Map<string, Attrs | null>();
  /** Queue key → seq → message, or null to delete it. */
  readonly messages = new Map<string, Map<number, MessageRecord | null>>();
  bytes = 0;

  get empty(): boolean {
    return this.queues.size === 0 && this.messages.size === 0;
  }

  message(key: string, seq: number, record: MessageRecord | null): void {
    let seqs = this.messages.get(key);
    if (seqs === undefined) this.messages.set(key, (seqs = new Map()));
    seqs.set(seq, record);
    if (record !== null) this.bytes += record[3].length + MESSAGE_OVERHEAD;
  }
}

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** The durable queue store. One open store per state directory, machine-wide. */
export class QueueStore {
  /** Queue key → seq → bytes counted, for every queue as issued (committed or not). */
  private readonly index = new Map<string, Map<number, number>>();
  private bytes = 0;
  private pending = new Batch();
  private committing = false;
  private timer: NodeJS.Immediate | undefined;
  private issued = 0;
  private durable = 0;
  private readonly waiters: Waiter[] = [];
  private failure: IpcError | undefined;
  /** Settles to the failure once its cause is known. */
  private failed: Promise<IpcError> | undefined;
  private closing: Promise<void> | undefined;
  private snapshot: StoredQueue[] | undefined;

  private constructor(
    /** The LMDB environment's folder. */
    readonly path: string,
    private readonly root: RootDatabase,
    private readonly queues: Database<Attrs, string>,
    private readonly messages: Database<MessageRecord, MessageKey>,
    private readonly lock: FileLock,
    private readonly maxBytes: number,
  ) {}

  /**
   * Open (or create) the store of the state directory `dir`, which is made 0700 if missing.
   * Fails ERROR_SHARING_VIOLATION when another open store (in any process) has it,
   * ERROR_FILE_CORRUPT when what is there is not a readable ntipc queue store (not LMDB,
   * truncated, another program's LMDB), ERROR_REVISION_MISMATCH when a newer ntipc wrote it,
   * ERROR_ACCESS_DENIED when the directory belongs to another user.
   */
  static async open(dir: string, options: QueueStoreOptions = {}): Promise<QueueStore> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new IpcError('EINVAL', 'QueueStore.open', dir, 'maxBytes must be a positive integer');
    const envPath = prepareFolder(path.resolve(dir));
    const lock = FileLock.acquire(path.join(envPath, 'writer.lock'));
    let root: RootDatabase | undefined;
    try {
      const { root: opened, queues, messages } = await openStoreEnvironment(envPath);
      root = opened;
      const store = new QueueStore(envPath, root, queues, messages, lock, maxBytes);
      store.snapshot = store.read();
      for (const q of store.snapshot) {
        const seqs = new Map<number, number>();
        for (const m of q.messages) seqs.set(m.seq, m.data.length + MESSAGE_OVERHEAD);
        store.index.set(q.key, seqs);
        for (const n of seqs.values()) store.bytes += n;
      }
      return store;
    } catch (e) {
      await root?.close().catch(() => {});
      lock.release();
      throw e;
    }
  }

  /**
   * Every stored queue with its messages in seq order. Meant for start-up, before any
   * operation is issued: it reads what is committed, and the first call returns what
   * {@link open} read.
   */
  load(): StoredQueue[] {
    this.checkOpen('load');
    const result = this.snapshot ?? this.read();
    this.snapshot = undefined;
    return result;
  }

  /** Create or replace the record of queue `key`. */
  putQueue(key: string, attrs: Attrs): void {
    this.checkWritable('putQueue');
    checkKey(key, 'putQueue');
    const copy = checkAttrs(attrs, key);
    if (!this.index.has(key)) this.index.set(key, new Map());
    this.pending.queues.set(key, copy);
    this.issue();
  }

  /**
   * Store message `msg.seq` of queue `key` (replacing one of that seq). The queue must have
   * been put first (EINVAL otherwise); fails ENOSPC, storing nothing, when the store would
   * hold more than its maxBytes, unless `outsideLimit` (a record its caller bounds, such as a
   * receipt that must still be written when the store is full). The data is copied.
   */
  putMessage(key: string, msg: StoredMessage, opts: { outsideLimit?: boolean } = {}): void {
    this.checkWritable('putMessage');
    checkKey(key, 'putMessage');
    const seqs = this.index.get(key);
    if (seqs === undefined) throw new IpcError('EINVAL', 'putMessage', key, 'no such queue in the store: putQueue first');
    const record = checkMessage(msg, key);
    const cost = record[3].length + MESSAGE_OVERHEAD;
    const total = this.bytes - (seqs.get(msg.seq) ?? 0) + cost;
    if (total > this.maxBytes && opts.outsideLimit !== true) throw new IpcError('ENOSPC', 'putMessage', key, `the store holds at most ${this.maxBytes} bytes of messages`);
    seqs.set(msg.seq, cost);
    this.bytes = total;
    this.pending.message(key, msg.seq, record);
    this.issue();
  }

  /** Delete message `seq` of queue `key`; nothing happens when there is no such message. */
  deleteMessage(key: string, seq: number): void {
    this.checkWritable('deleteMessage');
    const seqs = this.index.get(key);
    const cost = seqs?.get(seq);
    if (seqs === undefined || cost === undefined) return;
    seqs.delete(seq);
    this.bytes -= cost;
    this.pending.message(key, seq, null);
    this.issue();
  }

  /** Delete queue `key` and all its messages; nothing happens when there is no such queue. */
  deleteQueue(key: string): void {
    this.checkWritable('deleteQueue');
    const seqs = this.index.get(key);
    if (seqs === undefined) return;
    for (const [seq, cost] of seqs) {
      this.pending.message(key, seq, null);
      this.bytes -= cost;
    }
    this.index.delete(key);
    this.pending.queues.set(key, null);
    this.issue();
  }

  /**
   * Resolves when every operation issued before this call is committed and fsync'd. Rejects
   * with the failure (ENOSPC when the disk is full, ERROR_IO_DEVICE otherwise) when a commit
   * failed; from then on the store refuses every operation.
   */
  flushed(): Promise<void> {
    if (this.failed !== undefined) {
      return this.failed.then((failure) => {
        throw failure;
      });
    }
    if (this.durable >= this.issued) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.issued, resolve, reject }));
  }

  /** Some issued operation is not yet durable (or never will be: the store failed). */
  get dirty(): boolean {
    return this.failure !== undefined || this.durable < this.issued;
  }

  /**
   * A consistent copy of the store, taken while it runs, into the folder `dest` (created if
   * missing; it must not hold a store already). Committed operations only.
   */
  async backup(dest: string): Promise<void> {
    this.checkOpen('backup');
    fs.mkdirSync(dest, { recursive: true, mode: 0o700 });
    if (fs.existsSync(path.join(dest, 'data.mdb'))) throw new IpcError('ERROR_ALREADY_EXISTS', 'backup', dest, 'it already holds a store');
    await this.root.backup(dest, false);
  }

  /**
   * Stop taking operations, wait until the issued ones are durable, close the database and
   * release the directory. Idempotent. Rejects with the failure when one of them could not
   * be made durable (the store is closed all the same).
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    let failure: unknown;
    try {
      await this.flushed();
    } catch (e) {
      failure = e;
    }
    if (this.timer !== undefined) clearImmediate(this.timer);
    this.timer = undefined;
    try {
      await this.root.close();
    } finally {
      this.lock.release();
    }
    if (failure !== undefined) throw failure;
  }

  private checkOpen(syscall: string): void {
    if (this.closing !== undefined) throw new IpcError('ERROR_INVALID_HANDLE', syscall, this.path, 'the queue store is closed');
  }

  private checkWritable(syscall: string): void {
    this.checkOpen(syscall);
    if (this.failure !== undefined) throw this.failure;
  }

  private issue(): void {
    this.issued++;
    if (this.timer === undefined && !this.committing) this.timer = setImmediate(() => this.commit());
  }

  /** Commit the pending batch as one transaction; the next batch waits for this one. */
  private commit(): void {
    this.timer = undefined;
    if (this.pending.empty || this.failure !== undefined) return;
    const batch = this.pending;
    const upTo = this.issued;
    this.pending = new Batch();
    this.committing = true;
    // A child transaction, so that a throw inside leaves nothing of the batch behind.
    this.root.childTransaction(() => this.apply(batch)).then(
      () => {
        this.committing = false;
        this.durable = upTo;
        let done = 0;
        while (done < this.waiters.length && this.waiters[done]!.upTo <= upTo) done++;
        for (const w of this.waiters.splice(0, done)) w.resolve();
        if (!this.pending.empty && this.timer === undefined) this.timer = setImmediate(() => this.commit());
      },
      (e: unknown) => {
        this.committing = false;
        this.fail(e, batch);
      },
    );
  }

  private apply(batch: Batch): void {
    for (const [key, attrs] of batch.queues) {
      if (attrs === null) this.queues.remove(key);
      else this.queues.put(key, attrs);
    }
    for (const [key, seqs] of batch.messages) {
      for (const [seq, record] of seqs) {
        if (record === null) this.messages.remove([key, seq]);
        else this.messages.put([key, seq], record);
      }
    }
  }

  private fail(e: unknown, batch: Batch): void {
    // Refuse new operations at once; the precise cause may take a microtask to learn.
    this.failure = failureOf(e, this.path, batch.bytes);
    // lmdb-js rejects with "Commit failed" and puts the cause in a promise beside it.
    // It is settled by the time this runs; the race only guards against waiting forever.
    const commitError = (e as { commitError?: Promise<unknown> } | undefined)?.commitError;
    const cause = commitError
      ? Promise.race([commitError.then(() => undefined, (c: unknown) => c), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))])
      : Promise.resolve(undefined);
    this.failed = cause.then((c) => (c === undefined ? this.failure! : (this.failure = failureOf(c, this.path, batch.bytes))));
    void this.failed.then((failure) => {
      for (const w of this.waiters.splice(0)) w.reject(failure);
    });
  }

  /** What is committed, checked record by record. */
  private read(): StoredQueue[] {
    try {
      const byKey = new Map<string, StoredQueue>();
      for (const { key, value } of this.queues.getRange()) {
        if (typeof key !== 'string' || !isAttrs(value)) throw new Error(`malformed queue record ${JSON.stringify(key)}`);
        byKey.set(key, { key, attrs: value, messages: [] });
      }
      for (const { key, value } of this.messages.getRange()) {
        const [qkey, seq] = Array.isArray(key) ? key : [];
        const queue = typeof qkey === 'string' ? byKey.get(qkey) : undefined;
        if (queue === undefined || !isSeq(seq) || !isRecord(value)) throw new Error(`malformed or orphaned message record ${JSON.stringify(key)}`);
        const [type, sendPid, sendTime, data] = value;
        queue.messages.push({ seq, type, data, sendPid, sendTime });
      }
      const result = [...byKey.values()];
      for (const q of result) q.messages.sort((a, b) => a.seq - b.seq);
      return result;
    } catch (e) {
      throw new IpcError('ERROR_FILE_CORRUPT', 'read', this.path, (e as Error).message);
    }
  }
}

/**
 * The durable queue store's folder and its LMDB environment: made private, read through by a
 * probe process before this one maps it, opened with the settings the store relies on, its
 * format record checked; and what a failed commit means on this file system.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import { IpcError } from '../errors.ts';
import type { Attrs, MessageKey, MessageRecord } from './queue-store-records.ts';

/** The folder of the LMDB environment inside the state directory. */
export const STORE_FOLDER = 'queues.lmdb';
const FORMAT = { name: 'ntipc-queue-store', version: 1 } as const;

/** The open environment and its named databases. */
export interface StoreEnvironment {
  root: RootDatabase;
  queues: Database<Attrs, string>;
  messages: Database<MessageRecord, MessageKey>;
}

/**
 * Open the environment in `envPath` (whose writer lock the caller holds): probe it, open it,
 * open or create its databases. Fails ERROR_FILE_CORRUPT or ERROR_REVISION_MISMATCH as
 * QueueStore.open says; nothing stays open when it fails.
 */
export async function openStoreEnvironment(envPath: string): Promise<StoreEnvironment> {
  await probe(envPath);
  const root = openEnvironment(envPath);
  try {
    return { root, ...(await openDatabases(root, envPath)) };
  } catch (e) {
    await root.close().catch(() => {});
    throw e;
  }
}

/** Make `<dir>/queues.lmdb`, both 0700 if new; refuse another user's directory. */
export function prepareFolder(dir: string): string {
  const envPath = path.join(dir, STORE_FOLDER);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(envPath, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new IpcError('ERROR_FILE_CORRUPT', 'mkdir', envPath, 'not a directory');
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new IpcError('ERROR_ACCESS_DENIED', 'mkdir', envPath, code);
    throw e;
  }
  const st = fs.lstatSync(envPath);
  if (!st.isDirectory()) throw new IpcError('ERROR_FILE_CORRUPT', 'open', envPath, 'not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new IpcError('ERROR_ACCESS_DENIED', 'open', envPath, 'owned by another user');
  // The messages are the users' data: nobody else reads them, whatever the umask was.
  if ((st.mode & 0o077) !== 0) fs.chmodSync(envPath, 0o700);
  return envPath;
}

/**
 * Read the whole environment in a child process before this one maps it. lmdb-js frees
 * memory twice when LMDB refuses a file at open (not LMDB, another version), and LMDB maps
 * the file and trusts it (a page past the end is a SIGBUS): what would crash the object
 * manager crashes the probe instead, and becomes ERROR_FILE_CORRUPT.
 */
async function probe(envPath: string): Promise<void> {
  let size: number;
  try {
    size = fs.statSync(path.join(envPath, 'data.mdb')).size;
  } catch {
    return; // a fresh store
  }
  if (size === 0) return;
  const lmdb = createRequire(import.meta.url).resolve('lmdb');
  const outcome = await new Promise<{ code: unknown; signal: unknown; stdout: string }>((resolve) => {
    execFile(process.execPath, ['-e', PROBE, lmdb, envPath], { encoding: 'utf8', maxBuffer: 64 * 1024 }, (error, stdout) =>
      resolve({ code: error ? error.code : 0, signal: error?.signal ?? null, stdout }),
    );
  });
  if (outcome.code === 0) return;
  if (typeof outcome.code === 'string') throw new IpcError('ERROR_IO_DEVICE', 'open', envPath, `cannot start the probe process: ${outcome.code}`);
  const detail = outcome.signal ? `reading it crashed a probe process (${String(outcome.signal)})` : outcome.stdout.trim() || `the probe process exited with ${String(outcome.code)}`;
  throw new IpcError('ERROR_FILE_CORRUPT', 'open', envPath, detail);
}

/** The probe's program (CommonJS, plain Node): argv = [lmdb entry, environment folder]. */
const PROBE = `
const { open } = require(process.argv[1]);
const envPath = process.argv[2];
const refuse = (why) => { process.stdout.write(why); process.exit(2); };
let env;
try {
  env = open({ path: envPath, noSubdir: false, maxDbs: 4, readOnly: true, encoding: 'binary' });
} catch (e) {
  refuse(String(e && e.message));
}
// No check of the file's size against the last page number: LMDB never writes a page freed in
// the transaction that allocated it, so a sound file may end before that page. A used page past
// the end is found by reading everything below (SIGBUS here, ERROR_FILE_CORRUPT there).
try {
  for (const name of ['meta', 'queues', 'messages']) {
    const db = env.openDB({ name, encoding: 'binary', create: false });
    if (db) for (const entry of db.getRange({})) void entry;
  }
} catch (e) {
  refuse(String(e && e.message));
}
process.exit(0);
`;

/** Open the LMDB environment (which {@link probe} read without trouble). */
function openEnvironment(envPath: string): RootDatabase {
  try {
    return openLmdb({
      path: envPath,
      noSubdir: false, // the name ends in .lmdb, which lmdb-js would take for a file
      maxDbs: 4,
      // The store batches itself. lmdb-js's event-turn batching leaves an unhandled rejection
      // behind when a commit fails, and its overlapping sync a flush promise that never
      // settles (close() would hang); without it each commit is synced before it resolves.
      eventTurnBatching: false,
      overlappingSync: false,
      ...({ permissionsMode: 0o600 } as object),
    });
  } catch (e) {
    throw new IpcError('ERROR_FILE_CORRUPT', 'open', envPath, (e as Error).message);
  }
}

/** The named databases; a fresh environment gets its format record first. */
async function openDatabases(root: RootDatabase, envPath: string): Promise<Omit<StoreEnvironment, 'root'>> {
  const corrupt = (detail: string) => new IpcError('ERROR_FILE_CORRUPT', 'open', envPath, detail);
  const named = (name: string, create: boolean) => {
    try {
      return root.openDB({ name, encoding: 'msgpack', ...({ create } as object) }) as Database | undefined;
    } catch (e) {
      throw corrupt(`not an ntipc queue store: ${(e as Error).message}`);
    }
  };
  let meta = named('meta', false);
  if (meta === undefined) {
    let empty: boolean;
    try {
      empty = root.getKeysCount() === 0;
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    if (!empty) throw corrupt('not an ntipc queue store (another program’s LMDB database)');
    meta = named('meta', true)!;
    const fresh = meta;
    await root.childTransaction(() => fresh.put('format', FORMAT));
  }
  const format = meta.get('format') as { name?: unknown; version?: unknown } | undefined;
  if (format?.name !== FORMAT.name || typeof format.version !== 'number') throw corrupt('not an ntipc queue store (no format record)');
  if (format.version > FORMAT.version) {
    throw new IpcError('ERROR_REVISION_MISMATCH', 'open', envPath, `written by a newer ntipc (format ${format.version}, this one reads ${FORMAT.version})`);
  }
  return {
    queues: named('queues', true) as StoreEnvironment['queues'],
    messages: named('messages', true) as StoreEnvironment['messages'],
  };
}

/** The IpcError a failed commit stands for. */
export function failureOf(cause: unknown, envPath: string, batchBytes: number): IpcError {
  if (cause instanceof IpcError) return cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const detail = cause instanceof Error ? cause.message : String(cause);
  // LMDB reports a short write (what a full disk gives) as EIO: ask the file system.
  const full = code === 28 || code === 122 || code === -30792 || (code === 5 && diskNearlyFull(envPath, batchBytes));
  return new IpcError(full ? 'ENOSPC' : 'ERROR_IO_DEVICE', 'commit', envPath, detail);
}

function diskNearlyFull(envPath: string, batchBytes: number): boolean {
  try {
    const s = fs.statfsSync(envPath);
    return s.bavail * s.bsize < batchBytes + 8 * 1024 * 1024;
  } catch {
    return false;
  }
}

/**
 * Waiting: one object, any of several, all of several, and SignalObjectAndWait. The
 * outcome is a value ('signaled', 'abandoned', 'timeout'); only a real failure rejects.
 */
import { IpcError } from '../errors.ts';
import { WaitStatusCode, type ReplyOf, type RequestName, type RequestOf, type WaitStatus } from '../protocol/schema.ts';
import type { Connection } from './connection.ts';
import { KernelHandle } from './handle.ts';

export type { WaitStatus };

export interface WaitOptions {
  /** Cancels the wait. If the wait was satisfied before the cancel reached the object manager, the result stands. */
  signal?: AbortSignal;
  /**
   * Reject with ERROR_POSSIBLE_DEADLOCK instead of waiting forever: at once, having changed
   * nothing, when this wait would close a cycle of the wait-for graph (or wait on threads
   * already in one); later, when a wait of another thread closes a cycle this wait is in
   * and it is the youngest opted-in wait of that cycle. ntipc's own: Windows has no such flag.
   */
  detectDeadlock?: boolean;
}

/** Anything ntipc can wait on. */
export interface Waitable {
  wait(timeoutMs?: number, opts?: WaitOptions): Promise<WaitStatus>;
  close(): Promise<void>;
}

const statusName = Object.fromEntries(Object.entries(WaitStatusCode).map(([k, v]) => [v, k])) as Record<number, WaitStatus>;

/** A timeout is a number ≥ 0 in ms, or Infinity; anything else is ERROR_INVALID_PARAMETER. */
export function checkTimeout(timeoutMs: number, syscall: string): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, `timeout must be a number of ms ≥ 0 or Infinity, not ${String(timeoutMs)}`);
  }
}

/**
 * Send a request that may stay pending in the object manager (a pipe connect, a mailslot
 * read, a queue receive) and honour an AbortSignal by cancelling it there: the request then
 * rejects with the signal's reason. If it completed before the cancel arrived, the result stands.
 */
export async function cancellable<K extends RequestName>(
  connection: Connection,
  name: K,
  body: RequestOf<K>,
  signal: AbortSignal | undefined,
): Promise<ReplyOf<K>> {
  signal?.throwIfAborted();
  const { id, reply } = connection.send(name, body);
  const onAbort = () => void connection.request('cancel', { requestId: id }).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await reply;
  } catch (e) {
    if (signal?.aborted && e instanceof IpcError && e.code === 'ERROR_OPERATION_ABORTED') throw signal.reason;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Send a wait-like request and honour an AbortSignal by cancelling it in the object manager. */
export async function runWait(
  connection: Connection,
  send: () => { id: number; reply: Promise<{ status: number; index: number }> },
  opts: WaitOptions | undefined,
): Promise<{ status: WaitStatus; index: number }> {
  const signal = opts?.signal;
  signal?.throwIfAborted();
  const { id, reply } = send();
  const onAbort = () => void connection.request('cancel', { requestId: id }).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { status, index } = await reply;
    return { status: statusName[status]!, index };
  } catch (e) {
    if (signal?.aborted && e instanceof IpcError && e.code === 'ERROR_OPERATION_ABORTED') throw signal.reason;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** WaitForMultipleObjects' limit. */
export const MAXIMUM_WAIT_OBJECTS = 64;

function handlesOf(objs: readonly KernelHandle[], syscall: string): { connection: Connection; handles: number[] } {
  if (!Array.isArray(objs) || objs.length === 0) throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, 'no objects to wait on');
  if (objs.length > MAXIMUM_WAIT_OBJECTS) {
    throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, `at most ${MAXIMUM_WAIT_OBJECTS} objects, not ${objs.length}`);
  }
  if (!objs.every((o) => o instanceof KernelHandle)) throw new IpcError('ERROR_INVALID_HANDLE', syscall, undefined, 'not an ntipc object');
  return { connection: objs[0]!.connection, handles: objs.map((o) => o.handle) };
}

/**
 * WaitForMultipleObjects(bWaitAll = FALSE): resolves with the lowest index of an object that
 * satisfied the wait (and is consumed by it), 'abandoned' when that object is an abandoned
 * mutex, or 'timeout' with index -1. At most 64 objects (ERROR_INVALID_PARAMETER).
 */
export async function waitAny(
  objs: readonly Waitable[],
  timeoutMs = Infinity,
  opts?: WaitOptions,
): Promise<{ status: 'signaled' | 'abandoned'; index: number } | { status: 'timeout'; index: -1 }> {
  checkTimeout(timeoutMs, 'WaitForMultipleObjects');
  const { connection, handles } = handlesOf(objs as KernelHandle[], 'WaitForMultipleObjects');
  const r = await runWait(connection, () => connection.send('wait', { handles, all: false, timeoutMs, detectDeadlock: opts?.detectDeadlock === true }), opts);
  return r as { status: 'signaled' | 'abandoned'; index: number } | { status: 'timeout'; index: -1 };
}

/**
 * WaitForMultipleObjects(bWaitAll = TRUE): acquires every object at once or none of them.
 * 'abandoned' when one of them was an abandoned mutex. The same object twice, or more than
 * 64: ERROR_INVALID_PARAMETER.
 */
export async function waitAll(objs: readonly Waitable[], timeoutMs = Infinity, opts?: WaitOptions): Promise<WaitStatus> {
  checkTimeout(timeoutMs, 'WaitForMultipleObjects');
  const { connection, handles } = handlesOf(objs as KernelHandle[], 'WaitForMultipleObjects');
  return (await runWait(connection, () => connection.send('wait', { handles, all: true, timeoutMs, detectDeadlock: opts?.detectDeadlock === true }), opts)).status;
}

/**
 * SignalObjectAndWait: release the mutex, release the semaphore by one, or set the event,
 * then wait on the other object, as one step. If the signal fails (ERROR_NOT_OWNER,
 * ERROR_TOO_MANY_POSTS) nothing is waited on.
 */
export async function signalAndWait(
  toSignal: Waitable,
  toWaitOn: Waitable,
  timeoutMs = Infinity,
  opts?: WaitOptions,
): Promise<WaitStatus> {
  checkTimeout(timeoutMs, 'SignalObjectAndWait');
  const s = toSignal as KernelHandle;
  const w = toWaitOn as KernelHandle;
  const connection = s.connection;
  return (await runWait(connection, () => connection.send('signalAndWait', { signal: s.handle, waitOn: w.handle, timeoutMs, detectDeadlock: opts?.detectDeadlock === true }), opts)).status;
}

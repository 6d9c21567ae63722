/**
 * Watching requests in flight without sleeping. A connection's replies arrive in the order
 * the object manager sent them, so after a ping round trip on a connection, every reply the
 * object manager sent it before has arrived and been handled: a wait still pending then has
 * really not completed, and a wait sent before the ping is really queued in the kernel.
 */
import type { Connection } from '../../src/client/connection.ts';

export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Follow a promise's settlement without awaiting it. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t = { promise, settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (v) => {
      t.settled = true;
      t.value = v;
    },
    (e: unknown) => {
      t.settled = true;
      t.error = e;
    },
  );
  return t;
}

/** Let everything the object manager sent `connection` so far arrive and be handled. */
export async function flush(connection: Connection): Promise<void> {
  await connection.request('ping', {});
  // Handlers of replies that came in the same chunk run on microtasks; let them all run.
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Start a request (typically a wait) and return once the kernel has it queued. */
export async function started<T>(connection: Connection, promise: Promise<T>): Promise<Tracked<T>> {
  const t = track(promise);
  await flush(connection);
  return t;
}

/** Flush these connections and tell which of the requests are still pending. */
export async function pendingOf(connections: readonly Connection[], requests: readonly Tracked<unknown>[]): Promise<boolean[]> {
  for (const c of new Set(connections)) await flush(c);
  return requests.map((r) => !r.settled);
}

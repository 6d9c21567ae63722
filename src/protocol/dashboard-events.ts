/**
 * The dashboard's live stream, declared once: the server-sent events the broker sends
 * (broker/dashboard.ts) and the page applies (dashboard/src/live.ts). A `snapshot` is the
 * whole state; each `delta` after it carries only what changed since the one before, keyed
 * so that both sides agree: objects by id, processes by pid, edges and cycles by the keys
 * below. Pure data and functions, no I/O.
 */
import type { DeadlockCycle, InspectedObject, InspectedProcess, Snapshot, ThreadRef, WaitForEdge } from './inspection.ts';

/** The SSE event names (the `event:` field); the data is one line of JSON. */
export const DashboardEvent = {
  /** The whole state: a `Snapshot`. Sent first on every connection (and reconnection). */
  snapshot: 'snapshot',
  /** What changed since the previous event: a `SnapshotDelta`. */
  delta: 'delta',
} as const;
export type DashboardEvent = (typeof DashboardEvent)[keyof typeof DashboardEvent];

/** Upserts (new or changed, whole) and removals (keys) of one keyed collection. */
export interface KeyedChanges<T, K> {
  upsert: T[];
  remove: K[];
}

export interface SnapshotDelta {
  /** When the state it leads to was taken (ms since the epoch). */
  at: number;
  objects: KeyedChanges<InspectedObject, number>;
  processes: KeyedChanges<InspectedProcess, number>;
  edges: KeyedChanges<WaitForEdge, string>;
  cycles: KeyedChanges<DeadlockCycle, string>;
}

const threadKey = (t: ThreadRef): string => `${t.pid}.${t.threadId}`;

/** An edge is who waits on what: `pid.thread>object`. */
export const edgeKey = (e: WaitForEdge): string => `${threadKey(e.waiter)}>${e.objectId}`;

/** A cycle is its threads and objects in order: `pid.thread,…|object,…`. */
export const cycleKey = (c: DeadlockCycle): string => `${c.threads.map(threadKey).join(',')}|${c.objectIds.join(',')}`;

const objectKey = (o: InspectedObject): number => o.id;
const processKey = (p: InspectedProcess): number => p.pid;

function changes<T, K>(prev: readonly T[], next: readonly T[], key: (item: T) => K): KeyedChanges<T, K> {
  const before = new Map<K, string>();
  for (const item of prev) before.set(key(item), JSON.stringify(item));
  const upsert: T[] = [];
  const seen = new Set<K>();
  for (const item of next) {
    const k = key(item);
    seen.add(k);
    if (before.get(k) !== JSON.stringify(item)) upsert.push(item);
  }
  const remove = [...before.keys()].filter((k) => !seen.has(k));
  return { upsert, remove };
}

/** What turns `prev` into `next`, or null when nothing but the time changed. */
export function diffSnapshots(prev: Snapshot, next: Snapshot): SnapshotDelta | null {
  const delta: SnapshotDelta = {
    at: next.at,
    objects: changes(prev.objects, next.objects, objectKey),
    processes: changes(prev.processes, next.processes, processKey),
    edges: changes(prev.edges, next.edges, edgeKey),
    cycles: changes(prev.cycles, next.cycles, cycleKey),
  };
  const empty = [delta.objects, delta.processes, delta.edges, delta.cycles].every((c) => c.upsert.length === 0 && c.remove.length === 0);
  return empty ? null : delta;
}

function apply<T, K>(items: readonly T[], c: KeyedChanges<T, K>, key: (item: T) => K, order: (a: T, b: T) => number): T[] {
  const map = new Map<K, T>();
  for (const item of items) map.set(key(item), item);
  for (const k of c.remove) map.delete(k);
  for (const item of c.upsert) map.set(key(item), item);
  return [...map.values()].sort(order);
}

/** `prev` with `delta` applied: objects in id order, processes in pid order, edges and cycles by key. */
export function applyDelta(prev: Snapshot, delta: SnapshotDelta): Snapshot {
  const byKey = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    at: delta.at,
    objects: apply(prev.objects, delta.objects, objectKey, (a, b) => a.id - b.id),
    processes: apply(prev.processes, delta.processes, processKey, (a, b) => a.pid - b.pid),
    edges: apply(prev.edges, delta.edges, edgeKey, byKey(edgeKey)),
    cycles: apply(prev.cycles, delta.cycles, cycleKey, byKey(cycleKey)),
  };
}

/**
 * Inspection through the object manager: what WinObj, handle.exe and a deadlock detector
 * would show — every object with its state, owner, waiters and activity, every process
 * with its threads and handles, and the wait-for graph with its cycles.
 */
import type { InspectFilter, Snapshot } from '../protocol/inspection.ts';
import type { Connection } from './connection.ts';
import { connectionOf } from './handle.ts';

export type {
  DeadlockCycle,
  InspectedHandle,
  InspectedObject,
  InspectedProcess,
  InspectedThread,
  InspectFilter,
  ObjectActivity,
  Snapshot,
  ThreadRef,
  WaitForEdge,
} from '../protocol/inspection.ts';

/**
 * A snapshot of the object manager. `type` keeps objects of that type (an unknown type
 * fails ERROR_INVALID_PARAMETER), `pattern` those whose name matches the glob (`*`, `?`,
 * case-insensitive; unnamed objects never match), `pid` that process and the objects it
 * holds handles to, waits on or owns, `ids` those objects. Processes are narrowed by `pid`,
 * their handles to those of the objects selected by `type`, `pattern` or `ids`; threads'
 * waits and the wait-for graph (`edges`, `cycles`) are always whole. Every object is visible:
 * all clients of one object manager are its user. A snapshot too large for one frame
 * (1 MiB of JSON) fails ERROR_INSUFFICIENT_BUFFER: narrow the filter.
 */
export async function inspect(filter: InspectFilter & { connection?: Connection } = {}): Promise<Snapshot> {
  const c = await connectionOf(filter);
  const { snapshot } = await c.request('inspect', { type: filter.type, pattern: filter.pattern, pid: filter.pid ?? 0 });
  if (filter.ids !== undefined) {
    // The request does not carry ids: keep the asked-for objects of the snapshot.
    const ids = new Set(filter.ids);
    snapshot.objects = snapshot.objects.filter((o) => ids.has(o.id));
    for (const p of snapshot.processes) p.handles = p.handles.filter((h) => ids.has(h.objectId));
  }
  return snapshot;
}

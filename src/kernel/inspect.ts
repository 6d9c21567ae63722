/**
 * Inspection: the object manager's snapshot of itself (protocol/inspection.ts) — every
 * object with its owner, waiters and activity, every process with its threads and handles,
 * the wait-for graph and its cycles. Pure and synchronous, linear in objects, handles and
 * waits (plus sorting the waiters of objects that have deferred requests).
 */
import { check } from '../errors.ts';
import type {
  DeadlockCycle,
  InspectedObject,
  InspectedProcess,
  InspectedThread,
  InspectFilter,
  ObjectActivity,
  Snapshot,
  ThreadRef,
  WaitForEdge,
} from '../protocol/inspection.ts';
import { ObjectTypes, type ObjectTypeName, type RequestOf } from '../protocol/schema.ts';
import type { Kernel } from './kernel.ts';
import { describeObject, type KernelObject } from './object.ts';
import type { PendingRequest } from './pending.ts';
import type { ClientProcess, Thread } from './process.ts';
import type { WaitBlock } from './wait.ts';
import { blockedOn, findDeadlocks } from './wait-for.ts';

const ref = (t: Thread): ThreadRef => ({ pid: t.process.pid, threadId: t.id });

/** A glob (`*` any run, `?` one character) as an anchored, case-insensitive regular expression. */
export function globPattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

/** The filter an `inspect` request carries: an unknown type fails ERROR_INVALID_PARAMETER; pid 0 is none. */
export function parseInspectFilter(req: RequestOf<'inspect'>): InspectFilter {
  const filter: InspectFilter = {};
  if (req.type !== undefined) {
    check((ObjectTypes as readonly string[]).includes(req.type), 'ERROR_INVALID_PARAMETER', `no object type ${JSON.stringify(req.type)}; one of ${ObjectTypes.join(', ')}`);
    filter.type = req.type as ObjectTypeName;
  }
  if (req.pattern !== undefined) filter.pattern = req.pattern;
  if (req.pid !== 0) filter.pid = req.pid;
  return filter;
}

/**
 * Whether `caller` may see `obj`: what it could open. Objects have no owner or DACL in
 * ntipc and every client of one object manager is its own user (the socket is 0600 and
 * the broker checks SO_PEERCRED), so every object is visible to every caller.
 */
function visibleTo(_caller: Thread | undefined, _obj: KernelObject): boolean {
  return true;
}

const activityOf = (o: KernelObject): ObjectActivity => ({ ...o.activity });

/** Is `obj` listed (in the kernel's objects; a pipe itself, behind its instances, is not)? */
const listed = (kernel: Kernel, obj: KernelObject | undefined): obj is KernelObject => obj !== undefined && kernel.objects.get(obj.id) === obj;

/**
 * Take the snapshot. `filter` narrows the objects (type, name pattern, process, ids), the
 * processes (pid) and their handles (type, pattern or ids: the handles to the objects
 * selected); threads' waits and the wait-for graph (edges and cycles) are always whole, so
 * that a chain of waits can be followed past what the filter shows. `caller` is the thread asking.
 */
export function inspect(kernel: Kernel, filter: InspectFilter = {}, caller?: Thread): Snapshot {
  const clock = kernel.clock;
  const wallNow = clock.wallNow();
  const offset = wallNow - clock.now();
  const processes: ClientProcess[] = [];
  if (filter.pid === undefined) processes.push(...kernel.processes.values());
  else {
    const p = kernel.processes.get(filter.pid);
    if (p !== undefined) processes.push(p);
  }

  // Deferred requests other than waits, by the object they wait on (waits are in each object's queue).
  const deferred = new Map<KernelObject, PendingRequest[]>();
  const blocks: WaitBlock[] = [];
  for (const p of kernel.processes.values()) {
    for (const t of p.threads) {
      for (const b of t.waits.values()) blocks.push(b);
      for (const r of t.pending.values()) {
        if (!listed(kernel, r.subject)) continue;
        let list = deferred.get(r.subject);
        if (list === undefined) deferred.set(r.subject, (list = []));
        list.push(r);
      }
    }
  }

  const objects = selectObjects(kernel, filter, caller);
  const narrowed = filter.type !== undefined || filter.pattern !== undefined || filter.ids !== undefined;
  const selected = narrowed ? new Set(objects) : undefined;
  const inspected: InspectedObject[] = objects.map((o) => {
    const owner = o.type.owner?.(o) ?? null;
    return {
      ...describeObject(o),
      owner: owner === null ? null : ref(owner),
      waiting: waitingOn(o, deferred.get(o)),
      activity: activityOf(o),
    };
  });

  const edges: WaitForEdge[] = [];
  for (const b of blocks) {
    for (const e of blockedOn(b)) edges.push({ waiter: ref(b.thread), objectId: e.object.id, holder: e.holder === null ? null : ref(e.holder) });
  }
  for (const [subject, list] of deferred) for (const r of list) edges.push({ waiter: ref(r.thread), objectId: subject.id, holder: null });
  const cycles: DeadlockCycle[] = findDeadlocks(blocks).cycles.map((c) => ({ threads: c.threads.map(ref), objectIds: c.objects.map((o) => o.id) }));

  return {
    at: wallNow,
    objects: inspected,
    processes: processes.map((p) => inspectProcess(kernel, p, offset, selected)),
    edges,
    cycles,
  };
}

/** The objects the filter selects, in the kernel's order. */
function selectObjects(kernel: Kernel, filter: InspectFilter, caller: Thread | undefined): KernelObject[] {
  const pattern = filter.pattern === undefined ? undefined : globPattern(filter.pattern);
  const ids = filter.ids === undefined ? undefined : new Set(filter.ids);
  let related: Set<KernelObject> | undefined;
  if (filter.pid !== undefined) {
    related = new Set();
    const p = kernel.processes.get(filter.pid);
    if (p !== undefined) {
      for (const [, entry] of p.handles.entries()) related.add(entry.object);
      for (const t of p.threads) {
        for (const o of t.owned) related.add(o);
        for (const b of t.waits.values()) for (const o of b.objects) related.add(o);
        for (const r of t.pending.values()) if (r.subject !== undefined) related.add(r.subject);
      }
    }
  }
  const keep = (o: KernelObject): boolean => {
    if (filter.type !== undefined && o.type.name !== filter.type) return false;
    if (pattern !== undefined) {
      const name = o.displayName;
      if (name === null || !pattern.test(name)) return false;
    }
    if (related !== undefined && !related.has(o)) return false;
    return visibleTo(caller, o);
  };
  const out: KernelObject[] = [];
  if (ids !== undefined) {
    for (const id of ids) {
      const o = kernel.objects.get(id);
      if (o !== undefined && keep(o)) out.push(o);
    }
    return out;
  }
  for (const o of kernel.objects.values()) if (keep(o)) out.push(o);
  return out;
}

/** The threads waiting on `o`, in arrival order: its wait queue merged with its deferred requests. */
function waitingOn(o: KernelObject, deferred: PendingRequest[] | undefined): ThreadRef[] {
  if (deferred === undefined) return o.waiters.map((b) => ref(b.thread));
  const all: { seq: number; thread: Thread }[] = [...o.waiters, ...deferred];
  all.sort((a, b) => a.seq - b.seq);
  return all.map((w) => ref(w.thread));
}

/** A process, its threads, and its handles (to the `selected` objects only, when the filter narrowed them). */
function inspectProcess(kernel: Kernel, p: ClientProcess, offset: number, selected: Set<KernelObject> | undefined): InspectedProcess {
  const threads: InspectedThread[] = [];
  for (const t of p.threads) {
    const waits: ({ seq: number } & InspectedThread['waits'][number])[] = [];
    for (const b of t.waits.values()) {
      waits.push({ seq: b.seq, objectIds: b.objects.map((o) => o.id), all: b.all, sinceMs: offset + b.startedAt, request: b.request });
    }
    for (const r of t.pending.values()) {
      waits.push({ seq: r.seq, objectIds: listed(kernel, r.subject) ? [r.subject.id] : [], all: false, sinceMs: offset + r.startedAt, request: r.request });
    }
    waits.sort((a, b) => a.seq - b.seq);
    threads.push({
      threadId: t.id,
      agent: t.agent,
      owns: [...t.owned].map((o) => o.id),
      waits: waits.map(({ seq: _seq, ...w }) => w),
    });
  }
  const handles = [];
  for (const [handle, { object, access }] of p.handles.entries()) {
    if (selected !== undefined && !selected.has(object)) continue;
    handles.push({ handle, objectId: object.id, type: object.type.name, name: object.displayName, access });
  }
  return { pid: p.pid, threads, handles };
}

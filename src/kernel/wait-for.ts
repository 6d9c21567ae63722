/**
 * The wait-for graph: which thread waits on which object, and which thread owns it; which
 * waits can never complete (deadlocks), and the cycles among their threads.
 *
 * A pending wait is taken to block its thread, although a connection may still send
 * requests from other async tasks while it waits: a cycle is therefore a *possible*
 * deadlock, as ERROR_POSSIBLE_DEADLOCK says. Only owners make edges between threads (a
 * mutex's); an object no thread owns (an event, a semaphore) may be signaled by anyone, so
 * a wait that can be completed by such an object is never counted as stuck.
 */
import type { Kernel } from './kernel.ts';
import type { KernelObject } from './object.ts';
import type { Thread } from './process.ts';
import { distinct, type WaitBlock } from './wait.ts';

/** One edge: a blocked wait, an object it waits for, and that object's owner (null: none). */
export interface WaitEdge {
  readonly block: WaitBlock;
  readonly object: KernelObject;
  readonly holder: Thread | null;
}

/** A cycle: `threads[i]` waits (in `blocks[i]`) on `objects[i]`, which `threads[i + 1]` owns (the last's, the first's). */
export interface Cycle {
  readonly threads: Thread[];
  readonly objects: KernelObject[];
  readonly blocks: WaitBlock[];
}

export interface Deadlocks {
  /** Waits that can never complete: each waits, in every way it could complete, on threads that are themselves stuck. */
  readonly stuck: ReadonlySet<WaitBlock>;
  /** One cycle per group of threads deadlocked together (a strongly connected component). */
  readonly cycles: Cycle[];
}

/**
 * What a pending wait waits for: the objects not available to its thread (for a wait-all,
 * those not signaled for it; for a wait-any, all of them), each with its owner.
 */
export function blockedOn(block: WaitBlock): WaitEdge[] {
  const edges: WaitEdge[] = [];
  for (const o of distinct(block.objects)) {
    if (block.all && o.type.isSignaled(o, block.thread)) continue;
    edges.push({ block, object: o, holder: o.type.owner?.(o) ?? null });
  }
  return edges;
}

interface Node {
  readonly block: WaitBlock;
  /** Its edges to owners. */
  readonly edges: WaitEdge[];
  /** Owners still to be found free before it is: 1 for a wait-any (one suffices), else one per edge. */
  left: number;
  free: boolean;
}

/**
 * Find the waits that can never complete, and the cycles. A wait-all (or a wait on one
 * object) is stuck when any owner it waits on is stuck; a wait-any on several objects when
 * every one of them is owned and every owner is stuck; a thread is stuck when any of its
 * waits is. Computed as a greatest fixpoint by propagating freedom from the threads that
 * wait on nothing, then Tarjan's components over what is left: linear in the edges.
 */
export function findDeadlocks(blocks: Iterable<WaitBlock>): Deadlocks {
  const nodes: Node[] = [];
  /** Per thread: how many of its candidate waits are not yet known to be free. */
  const unresolved = new Map<Thread, number>();
  /** Per owner: the candidate waits with an edge to it (once per edge). */
  const dependents = new Map<Thread, Node[]>();
  for (const block of blocks) {
    const edges = blockedOn(block);
    const owned = edges.filter((e) => e.holder !== null);
    const any = !block.all && edges.length > 1;
    // Nothing owned, or a wait-any that an unowned object may complete: a signal can end it.
    if (owned.length === 0 || (any && owned.length < edges.length)) continue;
    const node: Node = { block, edges: owned, left: any ? 1 : owned.length, free: false };
    nodes.push(node);
    unresolved.set(block.thread, (unresolved.get(block.thread) ?? 0) + 1);
    for (const e of owned) {
      let list = dependents.get(e.holder!);
      if (list === undefined) dependents.set(e.holder!, (list = []));
      list.push(node);
    }
  }
  if (nodes.length === 0) return { stuck: new Set(), cycles: [] };

  const work: Thread[] = [];
  for (const owner of dependents.keys()) if (!unresolved.has(owner)) work.push(owner);
  while (work.length > 0) {
    const t = work.pop()!;
    for (const n of dependents.get(t) ?? []) {
      if (n.free || --n.left > 0) continue;
      n.free = true;
      const th = n.block.thread;
      const left = unresolved.get(th)! - 1;
      unresolved.set(th, left);
      if (left === 0) work.push(th);
    }
  }

  const stuck = new Set<WaitBlock>();
  const adjacency = new Map<Thread, WaitEdge[]>();
  const isStuck = (t: Thread) => (unresolved.get(t) ?? 0) > 0;
  for (const n of nodes) {
    if (n.free) continue;
    stuck.add(n.block);
    const th = n.block.thread;
    let out = adjacency.get(th);
    if (out === undefined) adjacency.set(th, (out = []));
    for (const e of n.edges) if (isStuck(e.holder!)) out.push(e);
  }
  return { stuck, cycles: cyclesOf(adjacency) };
}

/** One elementary cycle per strongly connected component (Tarjan, iteratively). */
function cyclesOf(adjacency: Map<Thread, WaitEdge[]>): Cycle[] {
  const index = new Map<Thread, number>();
  const low = new Map<Thread, number>();
  const onStack = new Set<Thread>();
  const stack: Thread[] = [];
  const components: Thread[][] = [];
  let counter = 0;
  for (const root of adjacency.keys()) {
    if (index.has(root)) continue;
    const frames: { t: Thread; i: number }[] = [{ t: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      const out = adjacency.get(f.t) ?? [];
      if (f.i < out.length) {
        const next = out[f.i++]!.holder!;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          frames.push({ t: next, i: 0 });
        } else if (onStack.has(next)) {
          low.set(f.t, Math.min(low.get(f.t)!, index.get(next)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1]!.t;
        low.set(parent, Math.min(low.get(parent)!, low.get(f.t)!));
      }
      if (low.get(f.t) === index.get(f.t)) {
        const component: Thread[] = [];
        let t: Thread;
        do {
          t = stack.pop()!;
          onStack.delete(t);
          component.push(t);
        } while (t !== f.t);
        components.push(component);
      }
    }
  }
  const cycles: Cycle[] = [];
  for (const component of components) {
    const members = new Set(component);
    const selfLoop = component.length === 1 && (adjacency.get(component[0]!) ?? []).some((e) => e.holder === component[0]);
    if (component.length > 1 || selfLoop) cycles.push(walk(members, adjacency));
  }
  return cycles;
}

/** Follow edges inside a component from its lowest thread id until a thread repeats: that loop is a cycle. */
function walk(members: Set<Thread>, adjacency: Map<Thread, WaitEdge[]>): Cycle {
  let start: Thread | undefined;
  for (const t of members) if (start === undefined || t.id < start.id) start = t;
  const seen = new Map<Thread, number>();
  const path: WaitEdge[] = [];
  let t = start!;
  while (!seen.has(t)) {
    seen.set(t, path.length);
    const e = adjacency.get(t)!.find((x) => members.has(x.holder!))!;
    path.push(e);
    t = e.holder!;
  }
  const loop = path.slice(seen.get(t)!);
  // Start at the lowest thread id, so that a cycle reads the same however it was found.
  let first = 0;
  for (let i = 1; i < loop.length; i++) if (loop[i]!.block.thread.id < loop[first]!.block.thread.id) first = i;
  const ordered = [...loop.slice(first), ...loop.slice(0, first)];
  return { threads: ordered.map((e) => e.block.thread), objects: ordered.map((e) => e.object), blocks: ordered.map((e) => e.block) };
}

/** A cycle in words, for an error's detail. */
export function describeCycle(c: Cycle): string {
  const who = (t: Thread) => `thread ${t.id} (pid ${t.process.pid})`;
  const what = (o: KernelObject) => `${o.type.name}${o.displayName === null ? '' : ` ${JSON.stringify(o.displayName)}`} (object ${o.id})`;
  return c.threads.map((t, i) => `${who(t)} waits on ${what(c.objects[i]!)} owned by ${who(c.threads[(i + 1) % c.threads.length]!)}`).join('; ');
}

/** An error's detail: at most 480 characters (a frame's detail holds 512). */
const brief = (text: string) => (text.length > 480 ? `${text.slice(0, 479)}…` : text);

/** Would `block`, were it queued, wait forever? The deadlock in words, or undefined. */
export function deadlockOf(kernel: Kernel, block: WaitBlock): string | undefined {
  const found = findDeadlocks((function* () {
    yield* kernel.waitBlocks();
    yield block;
  })());
  if (!found.stuck.has(block)) return undefined;
  const cycle = found.cycles.find((c) => c.threads.includes(block.thread));
  return brief(cycle !== undefined ? describeCycle(cycle) : `it would wait on threads that are deadlocked: ${found.cycles.map(describeCycle).join(' / ')}`);
}

/**
 * A wait that did not ask may have closed a cycle on waits that did, or a new owner may
 * have: fail, in each cycle, the youngest wait that asked (the victim, as a database picks
 * one), which may be enough to break it; repeat; then fail every wait that asked and is
 * still stuck for good (it waits on a cycle no wait that asked is in).
 */
export function breakDeadlocks(kernel: Kernel): void {
  const fail = (b: WaitBlock, detail: string) => kernel.waits.cancel(b.thread, b.requestId, 'ERROR_POSSIBLE_DEADLOCK', brief(detail));
  for (;;) {
    const found = findDeadlocks(kernel.waitBlocks());
    let victims = 0;
    for (const c of found.cycles) {
      let youngest: WaitBlock | undefined;
      for (const b of c.blocks) if (b.detectDeadlock && (youngest === undefined || b.seq > youngest.seq)) youngest = b;
      if (youngest === undefined) continue;
      fail(youngest, describeCycle(c));
      victims++;
    }
    if (victims > 0) continue;
    const cycles = found.cycles.map(describeCycle).join(' / ');
    for (const b of found.stuck) if (b.detectDeadlock) fail(b, `it waits on threads that are deadlocked: ${cycles}`);
    return;
  }
}

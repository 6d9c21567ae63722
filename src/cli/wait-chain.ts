/**
 * `ntipc why PID`: what the threads of a process wait on, who holds each object, what that
 * holder waits on in turn, to the end of the chain — a thread that runs, an object nobody
 * owns (it waits for a signal), or back to a thread already on the chain: a deadlock.
 */
import type { DeadlockCycle, InspectedObject, Snapshot, ThreadRef } from '../client/index.ts';
import { objectLabel, pendingVerb, stateSummary, threadName } from './object-summary.ts';

/** One wait of one thread, and the chain behind it. */
export interface WaitLink {
  waiter: ThreadRef;
  agent: string;
  objectId: number;
  object: string;
  all: boolean;
  /** What the pending request does ("waits on", "waits to read", …). */
  verb: string;
  /** How long it has waited, in ms, as of the snapshot. */
  waitedMs: number;
  /** Who owns the object (a mutex), or null: it waits for a signal nobody in particular holds. */
  holder: ThreadRef | null;
  /** What the holder waits on in turn; 'cycle' when the holder is already on this chain. */
  next: WaitLink[] | 'cycle';
}

export interface WhyReport {
  pid: number;
  threads: { threadId: number; agent: string; owns: string[]; waits: WaitLink[] }[];
  /** The deadlock cycles any thread of these chains is in. */
  cycles: { threads: ThreadRef[]; objects: string[] }[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const key = (t: ThreadRef) => `${t.pid}:${t.threadId}`;

/** The report for `pid`, or undefined when no such process is connected. */
export function explainWaits(snapshot: Snapshot, pid: number): WhyReport | undefined {
  const process = snapshot.processes.find((p) => p.pid === pid);
  if (process === undefined) return undefined;
  const objects = new Map(snapshot.objects.map((o) => [o.id, o]));
  const threads = new Map(snapshot.processes.flatMap((p) => p.threads.map((t) => [key({ pid: p.pid, threadId: t.threadId }), t] as const)));
  const label = (id: number) => objectLabel(objects.get(id), id);
  const seen = new Set<string>();

  const linksOf = (waiter: ThreadRef, path: Set<string>): WaitLink[] => {
    seen.add(key(waiter));
    const thread = threads.get(key(waiter));
    if (thread === undefined) return [];
    return thread.waits.flatMap((w) =>
      w.objectIds.map((objectId) => {
        const holder = holderOf(snapshot, objects.get(objectId), waiter, objectId);
        let next: WaitLink[] | 'cycle' = [];
        if (holder !== null) next = path.has(key(holder)) ? 'cycle' : linksOf(holder, new Set([...path, key(holder)]));
        return { waiter, agent: thread.agent, objectId, object: label(objectId), all: w.all, verb: pendingVerb(w.request), waitedMs: Math.max(0, snapshot.at - w.sinceMs), holder, next };
      }),
    );
  };

  const report: WhyReport = {
    pid,
    threads: process.threads.map((t) => {
      const me = { pid, threadId: t.threadId };
      return { threadId: t.threadId, agent: t.agent, owns: t.owns.map(label), waits: linksOf(me, new Set([key(me)])) };
    }),
    cycles: [],
  };
  report.cycles = snapshot.cycles
    .filter((c: DeadlockCycle) => c.threads.some((t) => seen.has(key(t))))
    .map((c: DeadlockCycle) => ({ threads: c.threads, objects: c.objectIds.map(label) }));
  return report;
}

/** The holder of what `waiter` waits on: the wait-for graph's edge, else the object's owner. */
function holderOf(snapshot: Snapshot, object: InspectedObject | undefined, waiter: ThreadRef, objectId: number): ThreadRef | null {
  const edge = snapshot.edges.find((e) => e.objectId === objectId && key(e.waiter) === key(waiter));
  return edge?.holder ?? object?.owner ?? null;
}

/** The report as indented lines, the cycles last. */
export function formatWhy(report: WhyReport, snapshot: Snapshot): string[] {
  const objects = new Map(snapshot.objects.map((o) => [o.id, o]));
  const lines: string[] = [];
  const waiting = report.threads.filter((t) => t.waits.length > 0);
  if (waiting.length === 0) {
    lines.push(`pid ${report.pid} waits on nothing (${report.threads.length} thread${report.threads.length === 1 ? '' : 's'} connected)`);
  }
  const walk = (link: WaitLink, depth: number) => {
    const pad = '  '.repeat(depth);
    const o = objects.get(link.objectId);
    const how = link.all ? ' (with others, all at once)' : '';
    if (depth === 0) lines.push(`${pad}${threadName(link.waiter)} (${link.agent}) ${link.verb} ${link.object}${how} for ${seconds(link.waitedMs)}`);
    if (link.holder === null) {
      lines.push(`${pad}  ${link.object} is ${o === undefined ? 'gone' : stateSummary(o)}; no thread owns it: it waits for a signal`);
      return;
    }
    if (link.next === 'cycle') {
      lines.push(`${pad}  ${link.object} is owned by ${threadName(link.holder)}, already on this chain: DEADLOCK`);
      return;
    }
    if (link.next.length === 0) {
      lines.push(`${pad}  ${link.object} is owned by ${threadName(link.holder)}, which waits on nothing (it runs, and should release it)`);
      return;
    }
    for (const n of link.next) {
      lines.push(`${pad}  ${link.object} is owned by ${threadName(link.holder)} (${n.agent}), which ${n.verb} ${n.object}${n.all ? ' (with others, all at once)' : ''} for ${seconds(n.waitedMs)}`);
      walk(n, depth + 1);
    }
  };
  for (const t of waiting) {
    if (t.owns.length > 0) lines.push(`${threadName({ pid: report.pid, threadId: t.threadId })} owns ${t.owns.join(', ')}`);
    for (const link of t.waits) walk(link, 0);
  }
  for (const c of report.cycles) {
    const steps = c.threads.flatMap((t, i) => [threadName(t), c.objects[i] ?? '?']);
    lines.push(`DEADLOCK: ${[...steps, threadName(c.threads[0]!)].join(' → ')}`);
  }
  return lines;
}

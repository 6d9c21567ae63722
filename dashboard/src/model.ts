/** Names and lookups the views share: how a thread and an object are called, and what a deadlock touches. */
import type { DeadlockCycle, InspectedObject, Snapshot, ThreadRef } from '../../src/protocol/inspection.ts';

export const threadLabel = (t: ThreadRef): string => `${t.pid}.${t.threadId}`;
export const threadNode = (t: ThreadRef): string => `t:${threadLabel(t)}`;
export const objectNode = (id: number): string => `o:${id}`;

export function objectLabel(o: InspectedObject | undefined, id: number): string {
  if (o === undefined) return `#${id}`;
  return o.name === null ? `${o.type} #${id}` : `${o.type} "${o.name}"`;
}

/** Everything in some cycle: nodes, and links `from>to` (thread>object waits, object>thread held by). */
export interface DeadlockMarks {
  nodes: Set<string>;
  links: Set<string>;
  objectIds: Set<number>;
}

export function deadlockMarks(cycles: readonly DeadlockCycle[]): DeadlockMarks {
  const marks: DeadlockMarks = { nodes: new Set(), links: new Set(), objectIds: new Set() };
  for (const c of cycles) {
    c.threads.forEach((t, i) => {
      const objectId = c.objectIds[i];
      const next = c.threads[(i + 1) % c.threads.length]!;
      marks.nodes.add(threadNode(t));
      if (objectId === undefined) return;
      marks.objectIds.add(objectId);
      marks.nodes.add(objectNode(objectId));
      marks.links.add(`${threadNode(t)}>${objectNode(objectId)}`);
      marks.links.add(`${objectNode(objectId)}>${threadNode(next)}`);
    });
  }
  return marks;
}

/** One sentence per cycle: `thread 1.1 waits for mutex "M2" held by 1.2; …`. */
export function describeCycle(c: DeadlockCycle, snapshot: Snapshot): string {
  const byId = new Map(snapshot.objects.map((o) => [o.id, o]));
  return c.threads
    .map((t, i) => {
      const id = c.objectIds[i]!;
      const next = c.threads[(i + 1) % c.threads.length]!;
      return `thread ${threadLabel(t)} waits for ${objectLabel(byId.get(id), id)} held by ${threadLabel(next)}`;
    })
    .join('; ');
}

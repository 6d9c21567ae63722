/**
 * The wait-for graph as SVG: threads (circles) point to the objects they wait on (dashed),
 * objects (boxes) point to the thread that holds them. Everything in a deadlock cycle is
 * red and carries `data-deadlock`.
 */
import { useMemo, useRef } from 'preact/hooks';
import type { Snapshot } from '../../src/protocol/inspection.ts';
import { forceLayout, type Point } from './layout.ts';
import { objectLabel, objectNode, threadLabel, threadNode, type DeadlockMarks } from './model.ts';

const WIDTH = 900;
const HEIGHT = 360;

interface Link {
  from: string;
  to: string;
  kind: 'waits' | 'held';
}

export function WaitGraph(props: { snapshot: Snapshot; marks: DeadlockMarks }) {
  const { snapshot, marks } = props;
  const { nodes, links, labels } = useMemo(() => graphOf(snapshot), [snapshot.edges, snapshot.objects]);
  const positions = useRef(new Map<string, Point>());
  const shape = `${nodes.join(' ')}|${links.map((l) => `${l.from}>${l.to}`).join(' ')}`;
  const pos = useMemo(() => {
    positions.current = forceLayout(nodes, links.map((l) => [l.from, l.to] as [string, string]), positions.current, WIDTH, HEIGHT);
    return positions.current;
  }, [shape]);
  if (nodes.length === 0) return <p class="muted" data-graph-empty>nobody waits</p>;
  return (
    <svg class="graph" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="wait-for graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
        <marker id="arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead deadlock" />
        </marker>
      </defs>
      {links.map((l) => {
        const a = pos.get(l.from)!;
        const b = pos.get(l.to)!;
        const [x1, y1, x2, y2] = trim(a, b, 30);
        const deadlocked = marks.links.has(`${l.from}>${l.to}`);
        return (
          <line
            key={`${l.from}>${l.to}`}
            x1={x1}
            y1={y1}
            x2={x2}
            y2={y2}
            class={`link ${l.kind}${deadlocked ? ' deadlock' : ''}`}
            marker-end={deadlocked ? 'url(#arrow-red)' : 'url(#arrow)'}
            data-link={`${l.from}>${l.to}`}
            data-deadlock={deadlocked ? '' : undefined}
          >
            <title>{l.kind === 'waits' ? 'waits for' : 'held by'}</title>
          </line>
        );
      })}
      {nodes.map((id) => {
        const p = pos.get(id)!;
        const deadlocked = marks.nodes.has(id);
        const cls = `node ${id.startsWith('t:') ? 'thread' : 'object'}${deadlocked ? ' deadlock' : ''}`;
        return (
          <g key={id} class={cls} transform={`translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`} data-node={id} data-deadlock={deadlocked ? '' : undefined}>
            {id.startsWith('t:') ? <circle r="27" /> : <rect x="-34" y="-16" width="68" height="32" rx="4" />}
            <text text-anchor="middle" dy="4">
              {short(labels.get(id) ?? id)}
            </text>
            <title>{labels.get(id) ?? id}</title>
          </g>
        );
      })}
    </svg>
  );
}

function graphOf(snapshot: Snapshot): { nodes: string[]; links: Link[]; labels: Map<string, string> } {
  const objects = new Map(snapshot.objects.map((o) => [o.id, o]));
  const labels = new Map<string, string>();
  const links = new Map<string, Link>();
  for (const e of snapshot.edges) {
    const waiter = threadNode(e.waiter);
    const object = objectNode(e.objectId);
    labels.set(waiter, `thread ${threadLabel(e.waiter)}`);
    const o = objects.get(e.objectId);
    labels.set(object, o?.name ?? objectLabel(o, e.objectId));
    links.set(`${waiter}>${object}`, { from: waiter, to: object, kind: 'waits' });
    if (e.holder !== null) {
      const holder = threadNode(e.holder);
      labels.set(holder, `thread ${threadLabel(e.holder)}`);
      links.set(`${object}>${holder}`, { from: object, to: holder, kind: 'held' });
    }
  }
  return { nodes: [...labels.keys()].sort(), links: [...links.values()], labels };
}

/** The segment from a to b, shortened at both ends so that arrows stop at the node's edge. */
function trim(a: Point, b: Point, by: number): [number, number, number, number] {
  const d = Math.max(Math.hypot(b.x - a.x, b.y - a.y), 1);
  const ux = (b.x - a.x) / d;
  const uy = (b.y - a.y) / d;
  return [a.x + ux * by, a.y + uy * by, b.x - ux * by, b.y - uy * by];
}

function short(s: string): string {
  const t = s.replace(/^thread /, '');
  return t.length > 10 ? `${t.slice(0, 9)}…` : t;
}

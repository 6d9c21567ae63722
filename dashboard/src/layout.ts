/**
 * A small force-directed layout for the wait-for graph: nodes repel, links pull to a rest
 * length, everything is drawn gently to the centre. Deterministic (no randomness), and
 * started from the previous positions so that the picture moves little as the graph changes.
 */
export interface Point {
  x: number;
  y: number;
}

const REST = 110;
const ITERATIONS = 300;

export function forceLayout(nodes: readonly string[], links: readonly [string, string][], previous: ReadonlyMap<string, Point>, width: number, height: number): Map<string, Point> {
  const cx = width / 2;
  const cy = height / 2;
  const pos = new Map<string, Point>();
  // New nodes start on a circle in the order the links chain them, so a cycle starts as a ring.
  chainOrder(nodes, links).forEach((id, i) => {
    const p = previous.get(id);
    const angle = (2 * Math.PI * i) / Math.max(1, nodes.length);
    pos.set(id, p ? { ...p } : { x: cx + Math.cos(angle) * REST * 1.5, y: cy + Math.sin(angle) * REST * 1.5 });
  });
  const points = nodes.map((id) => pos.get(id)!);
  const index = new Map(nodes.map((id, i) => [id, i]));
  const pairs = links.flatMap(([a, b]) => (index.has(a) && index.has(b) && a !== b ? [[index.get(a)!, index.get(b)!] as const] : []));
  for (let step = 0; step < ITERATIONS; step++) {
    const cooling = 1 - step / ITERATIONS;
    const force = points.map(() => ({ x: 0, y: 0 }));
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        let dx = points[i]!.x - points[j]!.x;
        let dy = points[i]!.y - points[j]!.y;
        if (dx === 0 && dy === 0) [dx, dy] = [1 + i, 1 + j];
        const d2 = Math.max(dx * dx + dy * dy, 100);
        const f = (REST * REST) / d2;
        force[i]!.x += dx * f * 0.5;
        force[i]!.y += dy * f * 0.5;
        force[j]!.x -= dx * f * 0.5;
        force[j]!.y -= dy * f * 0.5;
      }
    }
    for (const [a, b] of pairs) {
      const dx = points[b]!.x - points[a]!.x;
      const dy = points[b]!.y - points[a]!.y;
      const d = Math.max(Math.hypot(dx, dy), 1);
      const f = ((d - REST) / d) * 0.3;
      force[a]!.x += dx * f;
      force[a]!.y += dy * f;
      force[b]!.x -= dx * f;
      force[b]!.y -= dy * f;
    }
    points.forEach((p, i) => {
      const fx = force[i]!.x + (cx - p.x) * 0.02;
      const fy = force[i]!.y + (cy - p.y) * 0.02;
      const len = Math.hypot(fx, fy);
      const max = 20 * cooling + 0.5;
      const scale = len > max ? max / len : 1;
      p.x = Math.min(width - 40, Math.max(40, p.x + fx * scale));
      p.y = Math.min(height - 30, Math.max(30, p.y + fy * scale));
    });
  }
  return pos;
}

/** The nodes in depth-first order along the links (then any left over), each once. */
function chainOrder(nodes: readonly string[], links: readonly [string, string][]): string[] {
  const next = new Map<string, string[]>();
  for (const [a, b] of links) next.set(a, [...(next.get(a) ?? []), b]);
  const known = new Set(nodes);
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (id: string): void => {
    if (seen.has(id) || !known.has(id)) return;
    seen.add(id);
    order.push(id);
    for (const to of next.get(id) ?? []) visit(to);
  };
  for (const id of nodes) visit(id);
  return order;
}

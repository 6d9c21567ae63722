/** A schema-driven printer of frames, for `ntipc serve --trace`. */
import { statusFromWire } from '../errors.ts';
import type { Frame } from './codec.ts';

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v) ?? 'undefined';
}

/** One line for a frame: who, direction, request id, name and every field. */
export function traceFrame(who: string, dir: '>' | '<', frame: Frame): string {
  const head = `${who} ${dir} #${frame.requestId} ${frame.name}`;
  if (frame.kind === 'error') {
    return `${head} ! ${statusFromWire(frame.status) ?? frame.status}${frame.detail ? ` (${frame.detail})` : ''}`;
  }
  const fields = Object.entries(frame.body).map(([k, v]) => `${k}=${show(v)}`);
  return `${head}${frame.kind === 'reply' ? ' =' : ''} ${fields.join(' ')}`.trimEnd();
}

/**
 * One object, process or thread in a few words, for the tables of `ls`, `ps`, `pipes` and
 * `why`. Reads the type-specific `state` the object manager describes (docs/semantics.md).
 */
import type { InspectedObject, ObjectInfo, ThreadRef } from '../client/index.ts';
import { usage } from './output.ts';

type ObjectType = ObjectInfo['type'];

/** The words `--type` takes, by what people type: the listing's own names and short ones. */
export const TypeWords = {
  mutex: 'Mutex',
  semaphore: 'Semaphore',
  sem: 'Semaphore',
  event: 'Event',
  waitabletimer: 'WaitableTimer',
  timer: 'WaitableTimer',
  process: 'Process',
  section: 'Section',
  filemapping: 'Section',
  namedpipe: 'NamedPipe',
  pipe: 'NamedPipe',
  mailslot: 'Mailslot',
  messagequeue: 'MessageQueue',
  mq: 'MessageQueue',
} as const satisfies Record<string, ObjectType>;

/** `--type` to the listing's type name; an unknown word is a usage error. */
export function objectType(word: string): ObjectType {
  const t = (TypeWords as Record<string, ObjectType>)[word.toLowerCase().replace(/[-_]/g, '')];
  if (t === undefined) usage(`unknown type ${JSON.stringify(word)}; types: ${[...new Set(Object.values(TypeWords))].join(', ')}`);
  return t;
}

export const threadName = (t: ThreadRef): string => `pid ${t.pid} thread ${t.threadId}`;

/** `Mutex "name"`, or `Mutex #id` for an unnamed one. */
export function objectLabel(o: { id: number; type: ObjectType; name: string | null } | undefined, id?: number): string {
  if (o === undefined) return `object #${id ?? '?'}`;
  return `${o.type} ${o.name === null ? `#${o.id}` : JSON.stringify(o.name)}`;
}

const yes = (b: unknown, t: string, f: string) => (b ? t : f);

/** The state column: what matters of this type, in words. */
export function stateSummary(o: InspectedObject): string {
  const s = o.state;
  switch (o.type) {
    case 'Mutex': {
      const owner = o.owner === null ? 'free' : `owned by ${threadName(o.owner)}${Number(s.recursion) > 1 ? ` (recursion ${String(s.recursion)})` : ''}`;
      return s.abandoned ? `${owner}, abandoned` : owner;
    }
    case 'Semaphore':
      return `count ${String(s.count)}/${String(s.maximum)}`;
    case 'Event':
      return `${yes(s.manualReset, 'manual-reset', 'auto-reset')}, ${yes(o.signaled, 'set', 'not set')}`;
    case 'WaitableTimer':
      return [yes(s.manualReset, 'manual-reset', 'auto-reset'), yes(s.armed, 'armed', 'not armed'), yes(o.signaled, 'signaled', 'not signaled'), ...(Number(s.periodMs) > 0 ? [`every ${String(s.periodMs)} ms`] : [])].join(', ');
    case 'Process':
      return s.exited ? `pid ${String(s.pid)} exited${s.exitCode === null ? '' : ` (${String(s.exitCode)})`}` : `pid ${String(s.pid)} running`;
    case 'Section':
      return `${String(s.size)} bytes ${String(s.protect)}, ${String(s.views)} views${s.fileBacked ? ', file-backed' : ''}`;
    case 'NamedPipe':
      if (s.end === null || s.end === undefined) return `${String(s.direction)}, ${String(s.instances)}/${maxInstances(s.maxInstances)} instances, ${String(s.listening)} listening`;
      if (s.end === 'server') return `server end, ${String(s.state)}, ${String(s.pipeType)}${s.clientPid === null ? '' : `, client pid ${String(s.clientPid)}`}`;
      return `client end, ${String(s.state)}, server pid ${String(s.serverPid)}`;
    case 'Mailslot':
      return s.end === 'client' ? `writer to ${String(s.mailslot)}` : `${String(s.messageCount)} messages, ${String(s.queuedBytes)} bytes, ${String(s.writers)} writers`;
    case 'MessageQueue':
      return `${String(s.messages)} messages, ${String(s.bytes)}/${String(s.maxBytes)} bytes${s.durable ? ', durable' : ''}${s.removed ? ', removed' : ''}`;
    default:
      return Object.entries(s)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
  }
}

export function maxInstances(n: unknown): string {
  return n === 255 || n === 'unlimited' ? 'unlimited' : String(n);
}

/** What a pending request is doing to its objects, in words: "waits on", "reads", … */
export function pendingVerb(request: string | undefined): string {
  switch (request) {
    case undefined:
    case 'wait':
    case 'signalAndWait':
      return 'waits on';
    case 'readMailslot':
      return 'waits to read';
    case 'connectNamedPipe':
      return 'waits for a client of';
    case 'waitNamedPipe':
      return 'waits for an instance of';
    case 'mqReceive':
      return 'waits to receive from';
    case 'mqSend':
      return 'waits for room in';
    default:
      return `waits (${request}) on`;
  }
}

/** How long ago `sinceMs` (ms since the epoch) was, as of the snapshot. */
export function waitedFor(snapshot: { at: number }, sinceMs: number): string {
  return `${(Math.max(0, snapshot.at - sinceMs) / 1000).toFixed(1)} s`;
}

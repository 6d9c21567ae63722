/**
 * A deterministic stream of queue-store operations and a model of the state they make, for
 * checking a reopened store against "the state after exactly the first N operations". The
 * same seed and starting state give the same stream in the test and in its child processes.
 */
import assert from 'node:assert/strict';
import type { QueueStore, StoredMessage, StoredQueue } from '../../src/broker/queue-store.ts';
import { seededRandom } from './raw-socket.ts';

export type Op =
  | { kind: 'putQueue'; key: string; attrs: StoredQueue['attrs'] }
  | { kind: 'putMessage'; key: string; msg: StoredMessage }
  | { kind: 'deleteMessage'; key: string; seq: number }
  | { kind: 'deleteQueue'; key: string };

export function applyOp(store: QueueStore, op: Op): void {
  switch (op.kind) {
    case 'putQueue':
      return store.putQueue(op.key, op.attrs);
    case 'putMessage':
      return store.putMessage(op.key, op.msg);
    case 'deleteMessage':
      return store.deleteMessage(op.key, op.seq);
    case 'deleteQueue':
      return store.deleteQueue(op.key);
  }
}

/** The state operations make, as plain maps. */
export class Model {
  readonly queues = new Map<string, { attrs: StoredQueue['attrs']; messages: Map<number, StoredMessage> }>();

  static from(loaded: StoredQueue[]): Model {
    const m = new Model();
    for (const q of loaded) m.queues.set(q.key, { attrs: { ...q.attrs }, messages: new Map(q.messages.map((x) => [x.seq, x])) });
    return m;
  }

  apply(op: Op): void {
    switch (op.kind) {
      case 'putQueue': {
        const q = this.queues.get(op.key);
        if (q) q.attrs = { ...op.attrs };
        else this.queues.set(op.key, { attrs: { ...op.attrs }, messages: new Map() });
        return;
      }
      case 'putMessage':
        this.queues.get(op.key)!.messages.set(op.msg.seq, op.msg);
        return;
      case 'deleteMessage':
        this.queues.get(op.key)?.messages.delete(op.seq);
        return;
      case 'deleteQueue':
        this.queues.delete(op.key);
        return;
    }
  }

  /** The state as load() returns it: queues by key, messages by seq. */
  toStored(): StoredQueue[] {
    return [...this.queues.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, q]) => ({ key, attrs: q.attrs, messages: [...q.messages.values()].sort((a, b) => a.seq - b.seq) }));
  }
}

/** load()'s result in the model's order, for deepEqual. */
export function sorted(loaded: StoredQueue[]): StoredQueue[] {
  return [...loaded].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function assertSameState(loaded: StoredQueue[], model: Model, message?: string): void {
  assert.deepEqual(sorted(loaded), model.toStored(), message);
}

/** A cheap fingerprint of a state, to find candidate prefixes before comparing in full. */
export function signature(queues: Iterable<{ key: string; attrs: StoredQueue['attrs']; messages: Iterable<StoredMessage> }>): string {
  const parts: string[] = [];
  for (const q of queues) {
    let n = 0;
    let seqs = 0;
    let bytes = 0;
    for (const m of q.messages) {
      n++;
      seqs += m.seq;
      bytes += m.data.length;
    }
    parts.push(`${q.key}:${JSON.stringify(q.attrs)}:${n}:${seqs}:${bytes}`);
  }
  return parts.sort().join('|');
}

export function modelSignature(model: Model): string {
  return signature([...model.queues].map(([key, q]) => ({ key, attrs: q.attrs, messages: q.messages.values() })));
}

/**
 * An endless stream of sensible operations (messages go to queues that exist, deletes hit
 * messages that exist), continuing from `start`: sends, receives of the oldest message,
 * attribute updates, and now and then a whole queue removed and made again.
 */
export function* opStream(seed: number, start: StoredQueue[] = []): Generator<Op> {
  const random = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const live = new Map<string, number[]>(); // key → seqs, oldest first
  let nextSeq = 1;
  let updates = 0;
  for (const q of start) {
    live.set(q.key, q.messages.map((m) => m.seq));
    for (const m of q.messages) nextSeq = Math.max(nextSeq, m.seq + 1);
  }
  const keys = ['q0', 'q1', 'q2', 'q3', 'q4'];
  for (;;) {
    const r = random();
    const queues = [...live.keys()].sort();
    if (queues.length === 0 || r < 0.06) {
      const key = pick(keys);
      if (!live.has(key)) live.set(key, []);
      yield { kind: 'putQueue', key, attrs: { mode: 0o600, maxBytes: 16384, updates: ++updates, owner: `u${seed % 7}`, lastPid: null } };
    } else if (r < 0.55) {
      const key = pick(queues);
      const seq = nextSeq++;
      const len = random() < 0.05 ? 0 : Math.floor(random() * 2048);
      const data = Buffer.alloc(len);
      for (let i = 0; i < len; i++) data[i] = Math.floor(random() * 256);
      live.get(key)!.push(seq);
      yield { kind: 'putMessage', key, msg: { seq, type: 1 + Math.floor(random() * 5), data, sendPid: 1000 + (seq % 97), sendTime: 1_700_000_000_000 + seq } };
    } else if (r < 0.97) {
      const key = pick(queues);
      const seqs = live.get(key)!;
      if (seqs.length === 0) continue;
      const seq = random() < 0.8 ? seqs.shift()! : seqs.splice(Math.floor(random() * seqs.length), 1)[0]!;
      yield { kind: 'deleteMessage', key, seq };
    } else {
      const key = pick(queues);
      live.delete(key);
      yield { kind: 'deleteQueue', key };
    }
  }
}

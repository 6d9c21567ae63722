/**
 * The records of the durable queue store: how a queue and a message are kept, the limits on
 * them, and the checks that hold the store to those limits (an operation that breaks one
 * fails EINVAL before anything is issued) or find a record that breaks them on disk.
 */
import { IpcError } from '../errors.ts';
import type { StoredMessage, StoredQueue } from './queue-store.ts';

/** What each message counts against the store's maxBytes beyond its data. */
export const MESSAGE_OVERHEAD = 64;
/** Longest queue key, in UTF-8 bytes (LMDB keys are at most 1978 bytes with the seq). */
export const MAX_KEY_BYTES = 1024;
/** Longest message data the store takes. */
export const MAX_DATA_BYTES = 16 * 1024 * 1024;
const MAX_ATTRS = 64;
const MAX_ATTR_NAME = 64;
const MAX_ATTR_STRING = 4096;

export type Attrs = StoredQueue['attrs'];
/** A message as stored, under the key [queue key, seq]: [type, sendPid, sendTime, data]. */
export type MessageRecord = [number, number, number, Buffer];
export type MessageKey = [string, number];

/** A queue key is a string of 1 to {@link MAX_KEY_BYTES} bytes; EINVAL otherwise. */
export function checkKey(key: unknown, syscall: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new IpcError('EINVAL', syscall, typeof key === 'string' ? key.slice(0, 64) : undefined, `a queue key is a string of 1 to ${MAX_KEY_BYTES} bytes`);
  }
}

/** A copy of `attrs` when it is a queue's attributes within the limits; EINVAL otherwise. */
export function checkAttrs(attrs: unknown, key: string): Attrs {
  const bad = (detail: string) => new IpcError('EINVAL', 'putQueue', key, detail);
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) throw bad('attrs must be an object');
  const entries = Object.entries(attrs);
  if (entries.length > MAX_ATTRS) throw bad(`at most ${MAX_ATTRS} attributes`);
  const copy: Attrs = {};
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > MAX_ATTR_NAME) throw bad(`attribute names have 1 to ${MAX_ATTR_NAME} characters`);
    if (typeof value === 'string' ? Buffer.byteLength(value) > MAX_ATTR_STRING : value !== null && typeof value !== 'number') {
      throw bad(`attribute ${name}: a number, null or a string of at most ${MAX_ATTR_STRING} bytes`);
    }
    copy[name] = value as number | string | null;
  }
  return copy;
}

/** The record of `msg`, its data copied, when it is a message within the limits; EINVAL otherwise. */
export function checkMessage(msg: StoredMessage, key: string): MessageRecord {
  const bad = (detail: string) => new IpcError('EINVAL', 'putMessage', key, detail);
  if (typeof msg !== 'object' || msg === null) throw bad('a message is an object');
  if (!isSeq(msg.seq)) throw bad('seq must be a non-negative safe integer');
  if (!Number.isSafeInteger(msg.type)) throw bad('type must be a safe integer');
  if (!Number.isSafeInteger(msg.sendPid)) throw bad('sendPid must be a safe integer');
  if (!Number.isFinite(msg.sendTime)) throw bad('sendTime must be a finite number');
  if (!(msg.data instanceof Uint8Array)) throw bad('data must be a Buffer');
  if (msg.data.length > MAX_DATA_BYTES) throw bad(`data is at most ${MAX_DATA_BYTES} bytes`);
  return [msg.type, msg.sendPid, msg.sendTime, Buffer.from(msg.data)];
}

/** The shapes of what is read back (a record of any other shape is corruption). */
export function isSeq(seq: unknown): seq is number {
  return Number.isSafeInteger(seq) && (seq as number) >= 0;
}

export function isAttrs(value: unknown): value is Attrs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || typeof v === 'number' || typeof v === 'string');
}

export function isRecord(value: unknown): value is MessageRecord {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number' &&
    typeof value[2] === 'number' &&
    Buffer.isBuffer(value[3])
  );
}

/**
 * The wire protocol, declared once. Every request and its reply are listed here with a
 * number and their fields; the request and reply types, the codec, the kernel's handler
 * table, the tracer and the protocol version all derive from this table.
 */
import { f, type Fields, type ValueOf } from './fields.ts';

/** How a wait ended, on the wire. */
export const WaitStatusCode = { signaled: 0, abandoned: 1, timeout: 2 } as const;
export type WaitStatus = keyof typeof WaitStatusCode;

/** Kernel object types, as they are named in listings. */
export const ObjectTypes = ['Mutex', 'Semaphore', 'Event', 'WaitableTimer', 'Process', 'Section', 'NamedPipe', 'Mailslot', 'MessageQueue'] as const;
export type ObjectTypeName = (typeof ObjectTypes)[number];

/** What the object manager says about one object (queryObject, listings). */
export interface ObjectInfo {
  id: number;
  type: ObjectTypeName;
  name: string | null;
  signaled: boolean;
  handles: number;
  waiters: number;
  /** Type-specific state: owner and recursion, count and maximum, reset kind, exit code, … */
  state: Record<string, string | number | boolean | null>;
}

/** What the object manager says about itself (status). */
export interface BrokerStatus {
  pid: number;
  protocolVersion: number;
  socketPath: string;
  uptimeMs: number;
  processes: number;
  threads: number;
  objects: number;
  handles: number;
  pendingWaits: number;
}

const created = { handle: f.u32, objectId: f.u32, existed: f.bool };
const opened = { handle: f.u32, objectId: f.u32 };
const waitResult = { status: f.u8, index: f.i32 };
/** How a process maps a section: its rights, size, protection, and its backing store. */
const section = { access: f.u32, size: f.f64, protect: f.u32, fileBacked: f.bool, backing: f.str };

/** Every request: its number, its fields, and its reply's fields. */
export const requests = {
  hello: { id: 1, request: { version: f.u32, pid: f.u32, agent: f.str }, reply: { threadId: f.u32, brokerPid: f.u32 } },
  ping: { id: 2, request: {}, reply: {} },
  closeHandle: { id: 3, request: { handle: f.u32 }, reply: {} },
  queryObject: { id: 4, request: { handle: f.u32 }, reply: { info: f.json<ObjectInfo>() } },
  wait: { id: 5, request: { handles: f.u32list, all: f.bool, timeoutMs: f.f64 }, reply: waitResult },
  signalAndWait: { id: 6, request: { signal: f.u32, waitOn: f.u32, timeoutMs: f.f64 }, reply: waitResult },
  cancel: { id: 7, request: { requestId: f.u32 }, reply: { cancelled: f.bool } },
  status: { id: 8, request: {}, reply: { status: f.json<BrokerStatus>() } },
  listObjects: { id: 9, request: { type: f.optStr }, reply: { objects: f.json<ObjectInfo[]>() } },
  shutdown: { id: 10, request: {}, reply: {} },

  createMutex: { id: 20, request: { name: f.optStr, initialOwner: f.bool, access: f.u32 }, reply: created },
  openMutex: { id: 21, request: { name: f.str, access: f.u32 }, reply: opened },
  releaseMutex: { id: 22, request: { handle: f.u32 }, reply: { previousCount: f.i32 } },

  createSemaphore: {
    id: 30,
    request: { name: f.optStr, initialCount: f.i32, maximumCount: f.i32, access: f.u32 },
    reply: created,
  },
  openSemaphore: { id: 31, request: { name: f.str, access: f.u32 }, reply: opened },
  releaseSemaphore: { id: 32, request: { handle: f.u32, count: f.i32 }, reply: { previousCount: f.i32 } },

  createEvent: {
    id: 40,
    request: { name: f.optStr, manualReset: f.bool, initialState: f.bool, access: f.u32 },
    reply: created,
  },
  openEvent: { id: 41, request: { name: f.str, access: f.u32 }, reply: opened },
  setEvent: { id: 42, request: { handle: f.u32 }, reply: { previousState: f.bool } },
  resetEvent: { id: 43, request: { handle: f.u32 }, reply: { previousState: f.bool } },
  pulseEvent: { id: 44, request: { handle: f.u32 }, reply: { previousState: f.bool } },

  createTimer: { id: 50, request: { name: f.optStr, manualReset: f.bool, access: f.u32 }, reply: created },
  openTimer: { id: 51, request: { name: f.str, access: f.u32 }, reply: opened },
  /** `due` is ms from now, or ms since the epoch when `absolute`. */
  setTimer: { id: 52, request: { handle: f.u32, due: f.f64, absolute: f.bool, periodMs: f.f64 }, reply: { wasSignaled: f.bool } },
  cancelTimer: { id: 53, request: { handle: f.u32 }, reply: { wasSignaled: f.bool } },

  /** `child`: the caller spawned it and may report its exit code. */
  openProcess: { id: 60, request: { pid: f.u32, child: f.bool, access: f.u32 }, reply: opened },
  reportProcessExit: { id: 61, request: { handle: f.u32, exitCode: f.i32 }, reply: {} },

  /**
   * `protect` is PAGE_READONLY or PAGE_READWRITE; `file` an absolute path (absent: backed by
   * POSIX shared memory). `backing` is the shm name or the file's path.
   */
  createSection: {
    id: 70,
    request: { name: f.optStr, size: f.f64, file: f.optStr, protect: f.u32, access: f.u32 },
    reply: { ...created, ...section },
  },
  openSection: { id: 71, request: { name: f.str, access: f.u32 }, reply: { ...opened, ...section } },
  /** The client maps the view itself; the object manager checks it and counts it. `length` 0: to the end. */
  mapView: { id: 72, request: { handle: f.u32, offset: f.f64, length: f.f64, access: f.u32 }, reply: { viewId: f.u32 } },
  unmapView: { id: 73, request: { viewId: f.u32 }, reply: {} },

  // ── named pipes: 80–99 ──

  // ── mailslots: 100–109 ──

  // ── message queues: 110–119 ──
} as const satisfies Record<string, { id: number; request: Fields; reply: Fields }>;

export type Schema = typeof requests;
export type RequestName = keyof Schema;
export type RequestOf<K extends RequestName> = ValueOf<Schema[K]['request']>;
export type ReplyOf<K extends RequestName> = ValueOf<Schema[K]['reply']>;

/** Frame kinds. */
export const FrameKind = { request: 1, reply: 2, error: 3 } as const;

/** Largest frame either side accepts; a larger length prefix closes the connection. */
export const MAX_FRAME = 1 << 20;

/** Request numbers back to names. */
export const requestNames = new Map<number, RequestName>(
  Object.entries(requests).map(([name, spec]) => [spec.id, name as RequestName]),
);

/**
 * The version of a schema: a hash of every request's number, name and field kinds, so that
 * a change to any message changes the version and a mismatched peer is refused at hello.
 */
export function schemaVersion(schema: Record<string, { id: number; request: Fields; reply: Fields }>): number {
  const kinds = (fs: Fields) => Object.entries(fs).map(([k, v]) => `${k}:${v.kind}`).join(',');
  const text = Object.entries(schema)
    .map(([name, s]) => `${s.id}=${name}(${kinds(s.request)})->(${kinds(s.reply)})`)
    .join(';');
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The protocol version both sides check at hello. */
export const PROTOCOL_VERSION = schemaVersion(requests);

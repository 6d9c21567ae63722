/**
 * The wire protocol, declared once. Every request and its reply are listed here with a
 * number and their fields; the request and reply types, the codec, the kernel's handler
 * table, the tracer and the protocol version all derive from this table.
 */
import { f, type Fields, type ValueOf } from './fields.ts';
import type { Snapshot } from './inspection.ts';

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

/** A message queue's msqid_ds (mqStat): times in ms since the epoch, 0 (and pid 0) for never. */
export interface MessageQueueStat {
  /** The key it was got with: a number, or a string key. */
  key: number | string;
  messages: number;
  bytes: number;
  maxBytes: number;
  lastSendPid: number;
  lastReceivePid: number;
  lastSendTime: number;
  lastReceiveTime: number;
  lastChangeTime: number;
  ownerUid: number;
  ownerGid: number;
  creatorUid: number;
  creatorGid: number;
  mode: number;
  /** Kept across restarts of the object manager. */
  durable: boolean;
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
  /** Mailslots across machines: identity, transport and counters (absent from an older broker). */
  mailslotNetwork?: MailslotNetworkStatus;
}

/** The mailslot network's state and counters since the object manager started. */
export interface MailslotNetworkStatus {
  host: string;
  domain: string;
  /** 'off': `\\*` and this host's and domain's names reach this machine only. */
  mode: 'off' | 'multicast' | 'peers';
  /** The UDP address bound, when on. */
  address: string | null;
  group: string | null;
  peers: string[];
  /** Datagrams are signed and must be (a shared secret is configured). */
  signed: boolean;
  /** Datagrams handed to the network (one per peer), and those the OS refused. */
  sent: number;
  sendErrors: number;
  /** Datagrams from other object managers (our own looped back are not counted). */
  received: number;
  /** Messages (from here or the network) put in a local mailslot, or not: no such mailslot, over its size, over its quota. */
  delivered: number;
  noMailslot: number;
  tooLarge: number;
  quota: number;
  /** Datagrams of this domain addressed to another host. */
  notAddressed: number;
  /** Datagrams dropped, by reason; never delivered. */
  dropped: { malformed: number; oversized: number; badHmac: number; foreignDomain: number; stale: number; replay: number };
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
  /** `detectDeadlock`: fail ERROR_POSSIBLE_DEADLOCK rather than block in a cycle of the wait-for graph. */
  wait: { id: 5, request: { handles: f.u32list, all: f.bool, timeoutMs: f.f64, detectDeadlock: f.bool }, reply: waitResult },
  signalAndWait: { id: 6, request: { signal: f.u32, waitOn: f.u32, timeoutMs: f.f64, detectDeadlock: f.bool }, reply: waitResult },
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

  /**
   * One instance, listening at once. Codes in protocol/named-pipe.ts: `direction`
   * PipeDirection, `pipeType` and `readMode` PipeMode; `maxInstances` 255 is unlimited.
   * `endpoint` and `token`: where this process accepts the client's data connection and what
   * the client presents there. `existed`: the pipe had instances already; `maxInstances`: the pipe's.
   */
  createNamedPipe: {
    id: 80,
    request: {
      name: f.str,
      direction: f.u8,
      pipeType: f.u8,
      readMode: f.u8,
      maxInstances: f.u32,
      outBufferSize: f.u32,
      inBufferSize: f.u32,
      defaultTimeoutMs: f.f64,
      endpoint: f.str,
      token: f.str,
    },
    reply: { ...created, maxInstances: f.u32 },
  },
  /** Connect to the first listening instance; the client then dials `endpoint` with `token`. */
  openNamedPipe: {
    id: 81,
    request: { name: f.str, access: f.u32 },
    reply: {
      ...opened,
      access: f.u32,
      serverPid: f.u32,
      endpoint: f.str,
      token: f.str,
      direction: f.u8,
      pipeType: f.u8,
      maxInstances: f.u32,
      outBufferSize: f.u32,
      inBufferSize: f.u32,
    },
  },
  /** Deferred until a client has connected and confirmed; `token` starts listening again after a disconnect. */
  connectNamedPipe: { id: 82, request: { handle: f.u32, token: f.str }, reply: { alreadyConnected: f.bool } },
  disconnectNamedPipe: { id: 83, request: { handle: f.u32 }, reply: {} },
  /** The client's data connection is up: the server's connect completes. */
  confirmNamedPipe: { id: 84, request: { handle: f.u32 }, reply: {} },
  /** Deferred until an instance listens; `useDefault`: the pipe's default timeout instead of `timeoutMs`. */
  waitNamedPipe: { id: 85, request: { name: f.str, timeoutMs: f.f64, useDefault: f.bool }, reply: {} },
  /** `end` PipeEnd, `pipeState` PipeState; a pid 0 is none. */
  queryNamedPipe: {
    id: 86,
    request: { handle: f.u32 },
    reply: {
      end: f.u8,
      pipeState: f.u8,
      pipeType: f.u8,
      currentInstances: f.u32,
      maxInstances: f.u32,
      serverPid: f.u32,
      clientPid: f.u32,
      outBufferSize: f.u32,
      inBufferSize: f.u32,
    },
  },

  // ── mailslots: 100–109 ──

  /**
   * The reader (server) end. `maxMessageSize` 0: any size up to the object manager's limit;
   * `readTimeoutMs` Infinity: reads wait forever (MAILSLOT_WAIT_FOREVER).
   */
  createMailslot: { id: 100, request: { name: f.str, maxMessageSize: f.u32, readTimeoutMs: f.f64 }, reply: opened },
  /** A writer: of `\\.\mailslot\P` (which must exist), or of `\\TARGET\mailslot\P` on other machines. */
  openMailslot: { id: 101, request: { name: f.str }, reply: opened },
  writeMailslot: { id: 102, request: { handle: f.u32, data: f.bytes }, reply: { bytesWritten: f.u32 } },
  /** The next message, whole; deferred up to the read timeout. `maxBytes` Infinity: any size. */
  readMailslot: { id: 103, request: { handle: f.u32, maxBytes: f.f64 }, reply: { data: f.bytes } },
  /** `nextSize` −1: no message (MAILSLOT_NO_MESSAGE). */
  getMailslotInfo: {
    id: 104,
    request: { handle: f.u32 },
    reply: { maxMessageSize: f.u32, nextSize: f.i32, messageCount: f.u32, readTimeoutMs: f.f64 },
  },
  setMailslotInfo: { id: 105, request: { handle: f.u32, readTimeoutMs: f.f64 }, reply: {} },

  // ── message queues: 110–119 ──
  /**
   * msgget. `name` present: a string key; absent: the numeric key `key` (an int32, 0 for
   * IPC_PRIVATE). `mode`: the permission bits of a new queue, and the bits checked on an
   * existing one. `maxBytes` −1: the default.
   */
  mqGet: {
    id: 110,
    request: { name: f.optStr, key: f.f64, create: f.bool, exclusive: f.bool, mode: f.u32, maxBytes: f.f64, durable: f.bool },
    reply: { handle: f.u32, objectId: f.u32, created: f.bool, durable: f.bool },
  },
  /** msgsnd; `type` ≥ 1. */
  mqSend: { id: 111, request: { handle: f.u32, type: f.f64, data: f.bytes, noWait: f.bool }, reply: {} },
  /**
   * msgrcv; `type` 0 any, > 0 that type (any other with `except`), < 0 the lowest type ≤ |type|.
   * Durable queues: `token` names this receive's receipt, `claim` the receipt of a receive the
   * object manager's death cut short (`claimed`: the reply is that message), `ack` a receipt
   * no longer needed; 0 for none.
   */
  mqReceive: {
    id: 112,
    request: { handle: f.u32, type: f.f64, maxBytes: f.f64, noWait: f.bool, truncate: f.bool, except: f.bool, token: f.f64, claim: f.f64, ack: f.f64 },
    reply: { type: f.f64, data: f.bytes, claimed: f.bool },
  },
  /** msgctl(IPC_STAT). */
  mqStat: { id: 113, request: { handle: f.u32 }, reply: { stat: f.json<MessageQueueStat>() } },
  /** msgctl(IPC_SET); −1 leaves a field as it is. */
  mqSet: { id: 114, request: { handle: f.u32, maxBytes: f.f64, mode: f.i32 }, reply: {} },
  /** msgctl(IPC_RMID). */
  mqRemove: { id: 115, request: { handle: f.u32 }, reply: {} },

  // ── inspection: 120–129 ──
  /**
   * The object manager's snapshot (protocol/inspection.ts): objects of `type` (absent: all)
   * whose names match the glob `pattern` (absent: all), of process `pid` (0: all); processes,
   * threads, handles, the wait-for graph and its cycles.
   */
  inspect: { id: 120, request: { type: f.optStr, pattern: f.optStr, pid: f.u32 }, reply: { snapshot: f.json<Snapshot>() } },
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

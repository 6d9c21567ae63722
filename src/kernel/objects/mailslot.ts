/**
 * Mailslot: a one-way queue of messages with one reader and any number of writers. The
 * reader's handle is the mailslot itself (named `\\.\mailslot\PATH`, case-insensitive); each
 * writer's handle is a writer object bound to the mailslot it opened, or to a name on other
 * machines that the host sends on. Each message is read whole, once, in arrival order.
 *
 * Neither is waitable. The mailslot and its messages go with the reader's last handle: that
 * is the one reference a mailslot has (pending reads and writers do not hold it), so its
 * destruction is the moment the reader closes, and writers find it gone.
 */
import { StatusError, check } from '../../errors.ts';
import { parseDeviceName } from '../../names.ts';
import { MAX_FRAME } from '../../protocol/schema.ts';
import { Access, type AccessMapping } from '../access.ts';
import { PENDING, type Handlers, type Kernel, type RequestContext } from '../kernel.ts';
import { MAX_OBJECTS } from '../namespace.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';
import type { PendingRequest } from '../pending.ts';
import type { ClientProcess } from '../process.ts';
import { checkTimeout } from '../wait.ts';

/** Bounds on what mailslots may hold; a reader that never reads cannot grow the object manager. */
export const MailslotLimits = {
  /** Largest message any mailslot takes (1 MiB − 1 KiB: a message and its frame header fit one frame). */
  MAX_MESSAGE: MAX_FRAME - 1024,
  /** Bytes queued in one mailslot before writers get ERROR_NOT_ENOUGH_QUOTA. */
  QUOTA_BYTES: 4 * 1024 * 1024,
  /** Messages queued in one mailslot before writers get ERROR_NOT_ENOUGH_QUOTA (zero-length ones count). */
  QUOTA_MESSAGES: 16_384,
  /** Bytes queued in all the mailslots of one object manager. */
  TOTAL_BYTES: 256 * 1024 * 1024,
  /** Largest message to `\\*\mailslot\…`, a broadcast to the primary domain (Windows' limit). */
  MAX_BROADCAST: 424,
} as const;

/** File rights, as Windows numbers them for a mailslot's handles. */
export const MailslotAccess = {
  READ_DATA: 0x0001,
  WRITE_DATA: 0x0002,
  READ_ATTRIBUTES: 0x0080,
  WRITE_ATTRIBUTES: 0x0100,
} as const;

const READER_RIGHTS = Access.READ_CONTROL | Access.SYNCHRONIZE | MailslotAccess.READ_DATA | MailslotAccess.READ_ATTRIBUTES | MailslotAccess.WRITE_ATTRIBUTES;
const WRITER_RIGHTS = Access.READ_CONTROL | Access.SYNCHRONIZE | MailslotAccess.WRITE_DATA | MailslotAccess.READ_ATTRIBUTES;

const fileAccess: AccessMapping = {
  read: Access.READ_CONTROL | Access.SYNCHRONIZE | MailslotAccess.READ_DATA | MailslotAccess.READ_ATTRIBUTES,
  write: Access.READ_CONTROL | Access.SYNCHRONIZE | MailslotAccess.WRITE_DATA | MailslotAccess.WRITE_ATTRIBUTES,
  execute: Access.READ_CONTROL | Access.SYNCHRONIZE,
  all: READER_RIGHTS | WRITER_RIGHTS,
};

/** The namespace key of a mailslot: cannot collide with a kernel object's (`Local\…`, `Global\…`). */
const slotKey = (pathKey: string) => `\\\\.\\mailslot\\${pathKey}`;

/** A read waiting for a message. */
interface PendingRead {
  readonly request: PendingRequest<'readMailslot'>;
  readonly maxBytes: number;
}

export class MailslotObject extends KernelObject {
  readonly type = mailslotType;
  /** Queued messages from `head` on (a queue without O(n) shifts). */
  private queue: Uint8Array[] = [];
  private head = 0;
  queuedBytes = 0;
  /** Reads waiting for a message, FIFO. Never non-empty while messages are queued. */
  readonly reads: PendingRead[] = [];
  /** Writer objects bound to it. */
  writers = 0;
  /** The reader's last handle has closed: the name, the messages and the reads are gone. */
  deleted = false;
  constructor(
    /** The name as created, for listings (the key is the lower-case form). */
    readonly createdName: string,
    readonly maxMessageSize: number,
    public readTimeoutMs: number,
  ) {
    super();
  }

  override get displayName(): string {
    return this.createdName;
  }

  get messageCount(): number {
    return this.queue.length - this.head;
  }

  peek(): Uint8Array | undefined {
    return this.queue[this.head];
  }

  push(data: Uint8Array): void {
    this.queue.push(data);
    this.queuedBytes += data.length;
  }

  shift(): Uint8Array {
    const m = this.queue[this.head]!;
    this.queue[this.head++] = EMPTY;
    this.queuedBytes -= m.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  /** The largest message it takes: its own maximum, within the object manager's. */
  get messageLimit(): number {
    return this.maxMessageSize === 0 ? MailslotLimits.MAX_MESSAGE : Math.min(this.maxMessageSize, MailslotLimits.MAX_MESSAGE);
  }
}

const EMPTY = new Uint8Array(0);

/** A writer's handle: bound to a local mailslot, or to a name on other machines. */
export class MailslotWriterObject extends KernelObject {
  readonly type = mailslotWriterType;
  constructor(
    /** The name as opened. */
    readonly openedName: string,
    /** `.` for this machine, else `*`, a domain or a host. */
    readonly target: string,
    /** The path under `mailslot\`, as written. */
    readonly path: string,
    /** The local mailslot it writes to (target `.`). */
    readonly slot: MailslotObject | undefined,
  ) {
    super();
  }
}

/** Bytes queued in all the mailslots of each kernel. */
const totalQueued = new WeakMap<Kernel, number>();

export const mailslotType: ObjectType<MailslotObject> = {
  ...objectDefaults,
  name: 'Mailslot',
  access: fileAccess,
  queryRight: MailslotAccess.READ_ATTRIBUTES,
  waitable: false,
  isSignaled: () => false,
  satisfy() {
    throw new StatusError('ERROR_INVALID_HANDLE', 'a mailslot cannot be waited on');
  },
  describe: (s) => ({
    end: 'server',
    maxMessageSize: s.maxMessageSize,
    messageCount: s.messageCount,
    queuedBytes: s.queuedBytes,
    readTimeoutMs: s.readTimeoutMs === Infinity ? null : s.readTimeoutMs,
    writers: s.writers,
    pendingReads: s.reads.length,
  }),
  destroy(s, kernel) {
    s.deleted = true;
    totalQueued.set(kernel, (totalQueued.get(kernel) ?? 0) - s.queuedBytes);
    s.clear();
    // Pending I/O on a handle being closed is aborted, as CloseHandle does on Windows.
    for (const r of [...s.reads]) kernel.pending.fail(r.request, 'ERROR_OPERATION_ABORTED', 'the mailslot was closed');
  },
};

export const mailslotWriterType: ObjectType<MailslotWriterObject> = {
  ...objectDefaults,
  name: 'Mailslot',
  access: fileAccess,
  queryRight: 0,
  waitable: false,
  isSignaled: () => false,
  satisfy() {
    throw new StatusError('ERROR_INVALID_HANDLE', 'a mailslot cannot be waited on');
  },
  describe: (w) => ({
    end: 'client',
    mailslot: w.openedName,
    target: w.target,
    deleted: w.slot?.deleted ?? false,
  }),
  destroy(w) {
    if (w.slot !== undefined) w.slot.writers--;
  },
};

/** What became of a message handed to a local mailslot. */
export type MailslotDelivery = 'delivered' | 'no-mailslot' | 'too-large' | 'quota';

/** Queue a copy of `data` in `slot` and hand it to the first waiting read; or say why not. */
function enqueue(kernel: Kernel, slot: MailslotObject, data: Uint8Array): MailslotDelivery {
  if (slot.deleted) return 'no-mailslot';
  if (data.length > slot.messageLimit) return 'too-large';
  const total = totalQueued.get(kernel) ?? 0;
  if (
    slot.messageCount >= MailslotLimits.QUOTA_MESSAGES ||
    slot.queuedBytes + data.length > MailslotLimits.QUOTA_BYTES ||
    total + data.length > MailslotLimits.TOTAL_BYTES
  ) {
    return 'quota';
  }
  slot.push(new Uint8Array(data));
  totalQueued.set(kernel, total + data.length);
  slot.activity.messages++;
  slot.activity.bytes += data.length;
  kernel.changed(slot);
  serveReads(kernel, slot);
  return 'delivered';
}

function dequeue(kernel: Kernel, slot: MailslotObject): Uint8Array {
  const m = slot.shift();
  totalQueued.set(kernel, (totalQueued.get(kernel) ?? 0) - m.length);
  kernel.changed(slot);
  return m;
}

/** Hand queued messages to waiting reads, first come first served. */
function serveReads(kernel: Kernel, slot: MailslotObject): void {
  while (slot.reads.length > 0 && slot.messageCount > 0) {
    const read = slot.reads[0]!;
    // Too small a buffer fails that read and leaves the message for the next one.
    if (slot.peek()!.length > read.maxBytes) {
      kernel.pending.fail(read.request, 'ERROR_INSUFFICIENT_BUFFER', `the next message is ${slot.peek()!.length} bytes`);
      continue;
    }
    kernel.pending.complete(read.request, { data: dequeue(kernel, slot) });
  }
}

/**
 * Put a message that came from the network in this machine's mailslot `key` (the lower-case
 * path, as parseDeviceName gives it), as if a local writer had written it: a waiting read
 * gets it at once. Called outside any request; never throws for these outcomes.
 */
export function deliverMailslotMessage(kernel: Kernel, key: string, data: Uint8Array): MailslotDelivery {
  const slot = kernel.namespace.get(slotKey(key));
  if (!(slot instanceof MailslotObject)) return 'no-mailslot';
  return kernel.batch(() => enqueue(kernel, slot, data));
}

/** The mailslot behind a reader handle; a writer's handle is ERROR_ACCESS_DENIED (it cannot read). */
function readerOf(process: ClientProcess, handle: number, right: number): MailslotObject {
  const obj = process.handles.get(handle, 0);
  check(obj.type !== mailslotWriterType, 'ERROR_ACCESS_DENIED', 'a mailslot writer cannot read');
  return process.handles.get(handle, right, mailslotType);
}

/** The writer behind a handle; the reader's handle is ERROR_ACCESS_DENIED (it cannot write). */
function writerOf(process: ClientProcess, handle: number): MailslotWriterObject {
  const obj = process.handles.get(handle, 0);
  check(obj.type !== mailslotType, 'ERROR_ACCESS_DENIED', 'a mailslot reader cannot write');
  return process.handles.get(handle, MailslotAccess.WRITE_DATA, mailslotWriterType);
}

/** Register an unnamed object and give the caller a handle to it. */
function addObject(ctx: RequestContext, obj: KernelObject, rights: number): { handle: number; objectId: number } {
  check(ctx.kernel.objects.size < MAX_OBJECTS, 'ERROR_NOT_ENOUGH_QUOTA', 'too many objects');
  const handle = ctx.kernel.addHandle(ctx.process, obj, rights);
  ctx.kernel.objects.set(obj.id, obj);
  return { handle, objectId: obj.id };
}

/** Count a message a writer sent (the mailslot counts it again when it takes it). */
function written(kernel: Kernel, w: MailslotWriterObject, data: Uint8Array): void {
  w.activity.messages++;
  w.activity.bytes += data.length;
  kernel.changed(w);
}

/** Write to a name on other machines: the host sends it, or, with no network, this machine is all there is. */
function writeRemote(kernel: Kernel, w: MailslotWriterObject, data: Uint8Array): void {
  check(data.length <= MailslotLimits.MAX_MESSAGE, 'ERROR_INVALID_PARAMETER', `a mailslot message is at most ${MailslotLimits.MAX_MESSAGE} bytes`);
  if (w.target === '*') {
    check(data.length <= MailslotLimits.MAX_BROADCAST, 'ERROR_INVALID_PARAMETER', `a broadcast mailslot message is at most ${MailslotLimits.MAX_BROADCAST} bytes, not ${data.length}`);
  }
  if (kernel.host.sendMailslot !== undefined) kernel.host.sendMailslot(w.target, w.path, data);
  // Unreliable, as on Windows: no mailslot here, or a full one, is not the writer's failure.
  else deliverMailslotMessage(kernel, w.path.toLowerCase(), data);
}

export const mailslotHandlers = {
  createMailslot(ctx, { name, maxMessageSize, readTimeoutMs }) {
    const parsed = parseDeviceName(name, 'mailslot');
    check(parsed.host === '.', 'ERROR_INVALID_NAME', `a mailslot is created on this machine only (\\\\.\\mailslot\\…), not ${JSON.stringify(name)}`);
    checkTimeout(readTimeoutMs);
    const key = slotKey(parsed.key);
    // The one create that does not open: a name has one reader.
    check(ctx.kernel.namespace.get(key) === undefined, 'ERROR_ALREADY_EXISTS', name);
    const slot = new MailslotObject(name, maxMessageSize, readTimeoutMs);
    const reply = addObject(ctx, slot, READER_RIGHTS);
    ctx.kernel.namespace.insert(key, slot);
    return reply;
  },

  openMailslot(ctx, { name }) {
    const parsed = parseDeviceName(name, 'mailslot');
    let slot: MailslotObject | undefined;
    if (parsed.host === '.') {
      const obj = ctx.kernel.namespace.get(slotKey(parsed.key));
      check(obj instanceof MailslotObject, 'ERROR_FILE_NOT_FOUND', name);
      slot = obj;
    }
    const reply = addObject(ctx, new MailslotWriterObject(name, parsed.host, parsed.path, slot), WRITER_RIGHTS);
    if (slot !== undefined) slot.writers++;
    return reply;
  },

  writeMailslot(ctx, { handle, data }) {
    const w = writerOf(ctx.process, handle);
    if (w.slot === undefined) {
      writeRemote(ctx.kernel, w, data);
      written(ctx.kernel, w, data);
      return { bytesWritten: data.length };
    }
    const outcome = enqueue(ctx.kernel, w.slot, data);
    check(outcome !== 'no-mailslot', 'ERROR_FILE_NOT_FOUND', `${w.openedName} has been closed by its reader`);
    check(outcome !== 'too-large', 'ERROR_INVALID_PARAMETER', `a message of ${data.length} bytes; ${w.openedName} takes at most ${w.slot.messageLimit}`);
    check(outcome !== 'quota', 'ERROR_NOT_ENOUGH_QUOTA', `${w.openedName} holds ${w.slot.messageCount} unread messages, ${w.slot.queuedBytes} bytes`);
    written(ctx.kernel, w, data);
    return { bytesWritten: data.length };
  },

  readMailslot(ctx, { handle, maxBytes }) {
    const slot = readerOf(ctx.process, handle, MailslotAccess.READ_DATA);
    check(typeof maxBytes === 'number' && maxBytes >= 0, 'ERROR_INVALID_PARAMETER', `read of ${maxBytes} bytes`);
    const next = slot.peek();
    if (next !== undefined) {
      check(next.length <= maxBytes, 'ERROR_INSUFFICIENT_BUFFER', `the next message is ${next.length} bytes`);
      return { data: dequeue(ctx.kernel, slot) };
    }
    // Empty: a read timeout of 0 fails at once, even for a 0-byte read (ReadFile's ERROR_SEM_TIMEOUT).
    check(slot.readTimeoutMs > 0, 'ERROR_SEM_TIMEOUT', 'no message');
    const request = ctx.kernel.pending.begin(ctx.thread, ctx.requestId, 'readMailslot', {
      subject: slot,
      timeoutMs: slot.readTimeoutMs,
      onTimeout: () => ({ fail: 'ERROR_SEM_TIMEOUT', detail: 'no message within the read timeout' }),
      detach: () => {
        const i = slot.reads.indexOf(read);
        if (i >= 0) slot.reads.splice(i, 1);
      },
    });
    const read: PendingRead = { request, maxBytes };
    slot.reads.push(read);
    return PENDING;
  },

  getMailslotInfo(ctx, { handle }) {
    const slot = readerOf(ctx.process, handle, MailslotAccess.READ_ATTRIBUTES);
    return {
      maxMessageSize: slot.maxMessageSize,
      nextSize: slot.peek()?.length ?? -1,
      messageCount: slot.messageCount,
      readTimeoutMs: slot.readTimeoutMs,
    };
  },

  setMailslotInfo(ctx, { handle, readTimeoutMs }) {
    const slot = readerOf(ctx.process, handle, MailslotAccess.WRITE_ATTRIBUTES);
    checkTimeout(readTimeoutMs);
    slot.readTimeoutMs = readTimeoutMs;
    ctx.kernel.changed(slot);
    return {};
  },
} satisfies Partial<Handlers>;

/**
 * System V message queue (msgget, msgsnd, msgrcv, msgctl), with Linux's rules. Not an NT
 * object and not waitable: a queue is found by its key, not by a kernel object name, has an
 * owner and a mode checked against the caller's uid and gid, and outlives its handles until
 * it is removed. Senders block while the queue is full and receivers while nothing they
 * select is there, each in arrival order; the pending-request machinery does the rest.
 *
 * A durable queue journals every change through the host (host.journal) as it happens; the
 * broker makes those writes durable before any reply that follows them leaves, and receipts
 * (message-receipts.ts) cover the replies a crash cuts off.
 */
import { StatusError, check } from '../../errors.ts';
import { IPC_PRIVATE, MODE_BITS, MessageQueueLimits as Limits } from '../../protocol/message-queue.ts';
import type { MessageQueueStat, ReplyOf, RequestOf } from '../../protocol/schema.ts';
import { Access, syncMapping } from '../access.ts';
import { PENDING, type Handlers, type Kernel, type RequestContext } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';
import type { PendingRequest } from '../pending.ts';
import type { Credentials } from '../process.ts';
import { MessageList, matches, selectMessage, type QueuedMessage, type Selector } from './message-list.ts';
import { encodeReceipt, isToken, ReceiptBook, type Receipt } from './message-receipts.ts';

/** A message as the journal keeps it. */
export interface JournaledMessage {
  seq: number;
  type: number;
  data: Buffer;
  sendPid: number;
  sendTime: number;
}

/**
 * Where durable queues are written (the broker's store). Writes are issued synchronously,
 * in order, and may throw StatusError (ENOSPC: the store is full) having written nothing.
 */
export interface QueueJournal {
  /** Writes may be issued now; otherwise call `open` first. */
  readonly ready: boolean;
  /** Open the store; `done` is called later, outside any request, with the failure if it could not be. */
  open(done: (failure?: StatusError) => void): void;
  putQueue(key: string, attrs: Record<string, number | string | null>): void;
  /**
   * `outsideLimit`: not counted against the store's byte limit (receipts: bounded by
   * MAX_RECEIPTS per queue, each no larger than the message it replaces, and needed to drain
   * a full store).
   */
  putMessage(key: string, msg: JournaledMessage, opts?: { outsideLimit?: boolean }): void;
  deleteMessage(key: string, seq: number): void;
  deleteQueue(key: string): void;
}

interface BlockedSender {
  p: PendingRequest<'mqSend'>;
  type: number;
  data: Buffer;
  pid: number;
  who: Credentials;
}

interface BlockedReceiver {
  p: PendingRequest<'mqReceive'>;
  sel: Selector;
  maxBytes: number;
  truncate: boolean;
  /** Its receipt's token on a durable queue, 0 for none. */
  token: number;
  pid: number;
  who: Credentials;
}

export class MessageQueueObject extends KernelObject {
  readonly type = messageQueueType;
  readonly messages = new MessageList();
  /** Data bytes queued (msg_cbytes). */
  bytes = 0;
  readonly senders: BlockedSender[] = [];
  readonly receivers: BlockedReceiver[] = [];
  /** Durable queues: messages handed to receivers that may not have heard of them. */
  readonly receipts = new ReceiptBook();
  removed = false;
  nextSeq = 1;
  lastSendPid = 0;
  lastReceivePid = 0;
  lastSendTime = 0;
  lastReceiveTime = 0;
  constructor(
    /** The key as got: a number or a string; undefined for IPC_PRIVATE. */
    readonly userKey: number | string | undefined,
    /** Its key in the queue table and the journal; undefined for IPC_PRIVATE. */
    readonly tableKey: string | undefined,
    public mode: number,
    public maxBytes: number,
    readonly durable: boolean,
    readonly creator: Credentials,
    public lastChangeTime: number,
  ) {
    super();
    this.ownerUid = creator.uid;
    this.ownerGid = creator.gid;
  }
  ownerUid: number;
  ownerGid: number;

  override get displayName(): string | null {
    const k = this.userKey;
    if (k === undefined) return null;
    return typeof k === 'number' ? `0x${(k >>> 0).toString(16).padStart(8, '0')}` : k;
  }
}

/** Every queue with a key, and the memory all of them hold: one per kernel. */
export class QueueTable {
  readonly byKey = new Map<string, MessageQueueObject>();
  /** Queues that exist (not removed), private ones included. */
  count = 0;
  /** Bytes held by queued messages, blocked sends and receipts, each with its overhead. */
  pool = 0;
  /** Durable creates waiting for the journal to open. */
  readonly awaitingJournal: { p: PendingRequest<'mqGet'>; req: GetRequest }[] = [];
}

const tables = new WeakMap<Kernel, QueueTable>();

export function tableOf(kernel: Kernel): QueueTable {
  let t = tables.get(kernel);
  if (t === undefined) tables.set(kernel, (t = new QueueTable()));
  return t;
}

/** What a message (or receipt) of `length` bytes costs the pool. */
export const cost = (length: number) => length + Limits.messageOverhead;

export const messageQueueType: ObjectType<MessageQueueObject> = {
  ...objectDefaults,
  name: 'MessageQueue',
  access: syncMapping(Access.QUERY_STATE | Access.MODIFY_STATE),
  queryRight: Access.QUERY_STATE,
  waitable: false,
  isSignaled: () => false,
  satisfy() {
    throw new StatusError('ERROR_INVALID_HANDLE', 'a message queue cannot be waited on');
  },
  describe: (q) => ({
    key: q.userKey ?? null,
    messages: q.messages.count,
    bytes: q.bytes,
    maxBytes: q.maxBytes,
    mode: q.mode,
    durable: q.durable,
    removed: q.removed,
  }),
  destroy(q, kernel) {
    // A private queue goes with its last handle; a removed one has let its messages go already.
    if (!q.removed) dropQueue(kernel, q);
  },
};

/** Nobody known: what a thread without credentials (a kernel unit test) is. */
const UNKNOWN: Credentials = { uid: -1, gid: -1 };
const whoIs = (ctx: RequestContext): Credentials => ctx.process.credentials ?? UNKNOWN;

const READ = 0o444;
const WRITE = 0o222;

/** ipcperms: may `who` do what the bits of `flag` ask (any of the three classes)? Root may do anything. */
function permitted(q: MessageQueueObject, who: Credentials, flag: number): boolean {
  if (who.uid === 0) return true;
  const requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
  let granted = q.mode;
  if (who.uid === q.creator.uid || who.uid === q.ownerUid) granted >>= 6;
  else if (who.gid === q.creator.gid || who.gid === q.ownerGid) granted >>= 3;
  return (requested & ~granted & 7) === 0;
}

/** IPC_SET and IPC_RMID: the owner, the creator, or root. */
function checkOwner(q: MessageQueueObject, who: Credentials): void {
  check(who.uid === 0 || who.uid === q.ownerUid || who.uid === q.creator.uid, 'EPERM', 'only the owner or the creator of a queue may change or remove it');
}

function queueOf(ctx: RequestContext, handle: number): MessageQueueObject {
  const q = ctx.process.handles.get(handle, 0, messageQueueType);
  check(!q.removed, 'EIDRM', 'the queue was removed');
  return q;
}

/** A message fits while the bytes stay within the limit, and so does the count (Linux's msg_fits_inqueue). */
function fits(q: MessageQueueObject, length: number): boolean {
  return q.bytes + length <= q.maxBytes && q.messages.count + 1 <= q.maxBytes;
}

function isMessageType(n: number): boolean {
  return Number.isSafeInteger(n);
}

function checkMaxBytes(n: number, what: string): void {
  check(Number.isSafeInteger(n) && n >= 0 && n <= Limits.maxQueueBytes, 'EINVAL', `${what} ${n}: an integer from 0 to ${Limits.maxQueueBytes}`);
}

function checkMode(mode: number): void {
  check(Number.isInteger(mode) && mode >= 0 && mode <= MODE_BITS, 'EINVAL', `mode 0o${mode.toString(8)}: permission bits 0 to 0o777`);
}

/** The journal key of a durable queue's receipts. */
export const receiptsKey = (q: MessageQueueObject) => `r:${q.tableKey}`;

/** The attributes a durable queue keeps in the journal. */
export function attrsOf(q: MessageQueueObject): Record<string, number | string | null> {
  return {
    version: 1,
    key: q.userKey ?? null,
    mode: q.mode,
    maxBytes: q.maxBytes,
    ownerUid: q.ownerUid,
    ownerGid: q.ownerGid,
    creatorUid: q.creator.uid,
    creatorGid: q.creator.gid,
    lastSendPid: q.lastSendPid,
    lastReceivePid: q.lastReceivePid,
    lastSendTime: q.lastSendTime,
    lastReceiveTime: q.lastReceiveTime,
    lastChangeTime: q.lastChangeTime,
    nextSeq: q.nextSeq,
  };
}

export function journalOf(kernel: Kernel, q: MessageQueueObject): QueueJournal | undefined {
  return q.durable ? kernel.host.journal : undefined;
}

type GetRequest = RequestOf<'mqGet'>;

/** The table key of a request's key, or undefined for IPC_PRIVATE; EINVAL for a bad key. */
function keyOf(req: GetRequest): { userKey: number | string; tableKey: string } | undefined {
  if (req.name !== undefined) {
    const name = req.name;
    check(name.length > 0 && name.length <= Limits.maxKeyLength, 'EINVAL', `a string key has 1 to ${Limits.maxKeyLength} characters`);
    // eslint-disable-next-line no-control-regex
    check(!/[\u0000-\u001f]/.test(name), 'EINVAL', 'control character in a string key');
    return { userKey: name, tableKey: `s:${name}` };
  }
  const key = req.key;
  check(Number.isInteger(key) && key >= -0x8000_0000 && key <= 0x7fff_ffff, 'EINVAL', `key ${key}: an int32, or a string`);
  return key === IPC_PRIVATE ? undefined : { userKey: key, tableKey: `n:${key}` };
}

/** msgget. */
function getQueue(ctx: RequestContext, req: GetRequest): ReplyOf<'mqGet'> | typeof PENDING {
  const { kernel } = ctx;
  const table = tableOf(kernel);
  checkMode(req.mode);
  if (req.maxBytes !== -1) checkMaxBytes(req.maxBytes, 'maxBytes');
  const key = keyOf(req);
  check(!(key === undefined && req.durable), 'EINVAL', 'a private queue (IPC_PRIVATE) cannot be durable');
  const who = whoIs(ctx);
  const existing = key === undefined ? undefined : table.byKey.get(key.tableKey);
  if (existing !== undefined) {
    check(!(req.create && req.exclusive), 'EEXIST', `queue ${existing.displayName} exists`);
    check(permitted(existing, who, req.mode), 'EACCES', `mode 0o${existing.mode.toString(8)} denies 0o${req.mode.toString(8)}`);
    const handle = kernel.addHandle(ctx.process, existing, existing.type.access.all);
    return { handle, objectId: existing.id, created: false, durable: existing.durable };
  }
  check(key === undefined || req.create, 'ENOENT', 'no queue has this key');
  check(table.count < Limits.maxQueues, 'ENOSPC', `at most ${Limits.maxQueues} queues`);
  check(kernel.objects.size < (1 << 22), 'ERROR_NOT_ENOUGH_QUOTA', 'too many objects');
  const journal = req.durable ? kernel.host.journal : undefined;
  if (journal !== undefined && !journal.ready) return awaitJournal(ctx, req, journal);
  const now = kernel.clock.wallNow();
  const maxBytes = req.maxBytes === -1 ? Limits.defaultMaxBytes : req.maxBytes;
  const q = new MessageQueueObject(key?.userKey, key?.tableKey, req.mode, maxBytes, journal !== undefined, { ...who }, now);
  // Journal first: if the store refuses, nothing has changed.
  if (journal !== undefined) {
    journal.putQueue(q.tableKey!, attrsOf(q));
    try {
      journal.putQueue(receiptsKey(q), { receiptsOf: q.tableKey! });
    } catch (e) {
      journal.deleteQueue(q.tableKey!);
      throw e;
    }
  }
  let handle: number;
  try {
    handle = kernel.addHandle(ctx.process, q, messageQueueType.access.all);
  } catch (e) {
    if (journal !== undefined) {
      journal.deleteQueue(q.tableKey!);
      journal.deleteQueue(receiptsKey(q));
    }
    throw e;
  }
  registerQueue(kernel, q);
  return { handle, objectId: q.id, created: true, durable: q.durable };
}

/** A new or restored queue joins the table; one with a key holds a reference on itself until removed. */
export function registerQueue(kernel: Kernel, q: MessageQueueObject): void {
  const table = tableOf(kernel);
  kernel.objects.set(q.id, q);
  kernel.changed(q);
  table.count++;
  if (q.tableKey !== undefined) {
    table.byKey.set(q.tableKey, q);
    kernel.ref(q);
  }
}

/** Park a durable create until the journal has opened, and have it opened. */
function awaitJournal(ctx: RequestContext, req: GetRequest, journal: QueueJournal): typeof PENDING {
  const { kernel } = ctx;
  const table = tableOf(kernel);
  const first = table.awaitingJournal.length === 0;
  const entry = {
    req,
    p: kernel.pending.begin(ctx.thread, ctx.requestId, 'mqGet', {
      timeoutMs: Infinity,
      onTimeout: () => ({ fail: 'ERROR_INVALID_FUNCTION' }),
      detach: () => {
        const i = table.awaitingJournal.indexOf(entry);
        if (i >= 0) table.awaitingJournal.splice(i, 1);
      },
    }),
  };
  table.awaitingJournal.push(entry);
  if (first) journal.open((failure) => journalOpened(kernel, failure));
  return PENDING;
}

/** The journal has opened (or failed to): run the parked creates again, in order. */
function journalOpened(kernel: Kernel, failure?: StatusError): void {
  kernel.batch(() => rerunCreates(kernel, failure));
}

function rerunCreates(kernel: Kernel, failure?: StatusError): void {
  const table = tableOf(kernel);
  for (const { p, req } of table.awaitingJournal.slice()) {
    if (p.done) continue;
    if (failure !== undefined) {
      kernel.pending.fail(p, failure.code, failure.detail);
      continue;
    }
    const thread = p.thread;
    let outcome: { reply: ReplyOf<'mqGet'> | typeof PENDING } | { error: StatusError };
    try {
      outcome = { reply: getQueue({ kernel, thread, process: thread.process, requestId: p.requestId }, req) };
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      outcome = { error: e };
    }
    if ('error' in outcome) kernel.pending.fail(p, outcome.error.code, outcome.error.detail);
    else if (outcome.reply !== PENDING) kernel.pending.complete(p, outcome.reply);
  }
}

/**
 * Send a message that fits: to the first blocked receiver that selects it (a receiver whose
 * buffer is too small for it fails E2BIG on the way, as Linux's pipelined send does), or
 * onto the queue. A durable queue journals it first, so a refusal changes nothing.
 */
function deliver(kernel: Kernel, q: MessageQueueObject, type: number, data: Buffer, pid: number): void {
  const now = kernel.clock.wallNow();
  let taker: BlockedReceiver | undefined;
  const tooSmall: BlockedReceiver[] = [];
  for (const r of q.receivers) {
    if (!matches(r.sel, type)) continue;
    if (!r.truncate && data.length > r.maxBytes) {
      tooSmall.push(r);
      continue;
    }
    taker = r;
    break;
  }
  let message: QueuedMessage | undefined;
  const handed = taker && (taker.truncate ? data.subarray(0, taker.maxBytes) : data);
  if (taker === undefined) {
    message = { seq: q.nextSeq, type, data, sendPid: pid, sendTime: now };
    journalOf(kernel, q)?.putMessage(q.tableKey!, message);
    q.nextSeq++;
  } else {
    // Handed straight to a receiver, a message is never queued in the journal (its put and
    // its delete would cancel out); only the receiver's receipt is written.
    writeReceipt(kernel, q, taker.token, { type, data: handed!, seq: 0, sendPid: pid, sendTime: now });
  }
  for (const r of tooSmall) kernel.pending.fail(r.p, 'E2BIG', `a message of ${data.length} bytes, a buffer of ${r.maxBytes}`);
  q.lastSendPid = pid;
  q.lastSendTime = now;
  q.activity.messages++;
  q.activity.bytes += data.length;
  kernel.changed(q);
  if (taker !== undefined) {
    q.lastReceivePid = taker.pid;
    q.lastReceiveTime = now;
    keepReceipt(kernel, q, taker.token, { type, data: handed!, seq: 0, sendPid: pid, sendTime: now });
    kernel.pending.complete(taker.p, { type, data: handed!, claimed: false });
    return;
  }
  q.messages.push(message!);
  q.bytes += data.length;
  tableOf(kernel).pool += cost(data.length);
}

/** Room was made (a receive, a larger limit): blocked senders whose messages now fit go, in order. */
function admitSenders(kernel: Kernel, q: MessageQueueObject): void {
  for (const s of q.senders.slice()) {
    if (q.removed) return;
    if (s.p.done || !fits(q, s.data.length)) continue;
    try {
      deliver(kernel, q, s.type, s.data, s.pid);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      kernel.pending.fail(s.p, e.code, e.detail);
      continue;
    }
    kernel.pending.complete(s.p, {});
  }
}

/** Write the receipt of a durable receive (before anything changes: the journal may refuse). */
function writeReceipt(kernel: Kernel, q: MessageQueueObject, token: number, r: Receipt): void {
  const journal = journalOf(kernel, q);
  if (journal !== undefined && token !== 0) journal.putMessage(receiptsKey(q), encodeReceipt(token, r), { outsideLimit: true });
}

/** Keep the receipt written, letting the oldest go past the bound. */
function keepReceipt(kernel: Kernel, q: MessageQueueObject, token: number, r: Receipt): void {
  const journal = journalOf(kernel, q);
  if (journal === undefined || token === 0) return;
  const table = tableOf(kernel);
  const replaced = q.receipts.get(token);
  if (replaced) table.pool -= cost(replaced.data.length);
  table.pool += cost(r.data.length);
  for (const [old, receipt] of q.receipts.add(token, r)) {
    journal.deleteMessage(receiptsKey(q), old);
    table.pool -= cost(receipt.data.length);
  }
}

/** A receiver no longer needs a receipt. */
function dropReceipt(kernel: Kernel, q: MessageQueueObject, token: number): void {
  const r = q.receipts.delete(token);
  if (r === undefined) return;
  tableOf(kernel).pool -= cost(r.data.length);
  journalOf(kernel, q)?.deleteMessage(receiptsKey(q), token);
}

/** Take a message off the queue for a receive; on a durable queue, its receipt goes in the same batch. */
function take(kernel: Kernel, q: MessageQueueObject, m: QueuedMessage, pid: number, token: number, handed: Buffer): void {
  const receipt: Receipt = { type: m.type, data: handed, seq: m.seq, sendPid: m.sendPid, sendTime: m.sendTime };
  writeReceipt(kernel, q, token, receipt);
  journalOf(kernel, q)?.deleteMessage(q.tableKey!, m.seq);
  keepReceipt(kernel, q, token, receipt);
  q.messages.remove(m);
  q.bytes -= m.data.length;
  tableOf(kernel).pool -= cost(m.data.length);
  q.lastReceivePid = pid;
  q.lastReceiveTime = kernel.clock.wallNow();
  kernel.changed(q);
}

/** Let a queue go: its messages leave the pool and its key the table. */
function dropQueue(kernel: Kernel, q: MessageQueueObject): void {
  const table = tableOf(kernel);
  q.removed = true;
  table.count--;
  for (const m of q.messages) table.pool -= cost(m.data.length);
  for (const r of q.receipts.values()) table.pool -= cost(r.data.length);
  q.messages.clear();
  q.receipts.clear();
  q.bytes = 0;
  if (q.tableKey !== undefined && table.byKey.get(q.tableKey) === q) table.byKey.delete(q.tableKey);
}

function statOf(q: MessageQueueObject): MessageQueueStat {
  return {
    key: q.userKey ?? IPC_PRIVATE,
    messages: q.messages.count,
    bytes: q.bytes,
    maxBytes: q.maxBytes,
    lastSendPid: q.lastSendPid,
    lastReceivePid: q.lastReceivePid,
    lastSendTime: q.lastSendTime,
    lastReceiveTime: q.lastReceiveTime,
    lastChangeTime: q.lastChangeTime,
    ownerUid: q.ownerUid,
    ownerGid: q.ownerGid,
    creatorUid: q.creator.uid,
    creatorGid: q.creator.gid,
    mode: q.mode,
    durable: q.durable,
  };
}

export const messageQueueHandlers = {
  mqGet: getQueue,

  mqSend(ctx, { handle, type, data, noWait }) {
    const { kernel } = ctx;
    check(data.length <= Limits.maxMessageBytes, 'EINVAL', `a message of ${data.length} bytes; at most ${Limits.maxMessageBytes} (MSGMAX)`);
    check(Number.isSafeInteger(type) && type >= 1, 'EINVAL', `message type ${type}: an integer ≥ 1`);
    const q = queueOf(ctx, handle);
    const who = whoIs(ctx);
    check(permitted(q, who, WRITE), 'EACCES', `mode 0o${q.mode.toString(8)} denies writing`);
    const table = tableOf(kernel);
    check(table.pool + cost(data.length) <= Limits.poolBytes, 'ENOMEM', `queued messages hold ${table.pool} bytes, at most ${Limits.poolBytes}`);
    const own = Buffer.from(data);
    if (fits(q, own.length)) {
      deliver(kernel, q, type, own, ctx.process.pid);
      return {};
    }
    check(!noWait, 'EAGAIN', `the queue holds ${q.bytes} of ${q.maxBytes} bytes`);
    const sender: BlockedSender = {
      type,
      data: own,
      pid: ctx.process.pid,
      who,
      p: kernel.pending.begin(ctx.thread, ctx.requestId, 'mqSend', {
        object: q,
        timeoutMs: Infinity,
        onTimeout: () => ({ fail: 'ERROR_INVALID_FUNCTION' }),
        detach: () => {
          q.senders.splice(q.senders.indexOf(sender), 1);
          table.pool -= cost(own.length);
        },
      }),
    };
    q.senders.push(sender);
    table.pool += cost(own.length);
    return PENDING;
  },

  mqReceive(ctx, { handle, type, maxBytes, noWait, truncate, except, token, claim, ack }) {
    const { kernel } = ctx;
    check(maxBytes >= 0 && (Number.isSafeInteger(maxBytes) || maxBytes === Infinity), 'EINVAL', `maxBytes ${maxBytes}: an integer ≥ 0, or Infinity`);
    check(isMessageType(type), 'EINVAL', `message type ${type}: an integer`);
    for (const t of [token, claim, ack]) check(t === 0 || isToken(t), 'EINVAL', `receipt token ${t}`);
    const q = queueOf(ctx, handle);
    const who = whoIs(ctx);
    check(permitted(q, who, READ), 'EACCES', `mode 0o${q.mode.toString(8)} denies reading`);
    if (!q.durable) token = 0;
    if (ack !== 0) dropReceipt(kernel, q, ack);
    // The continuation of a receive cut short: the message it took, whatever this one selects.
    const claimed = claim === 0 ? undefined : q.receipts.get(claim);
    if (claimed !== undefined) return { type: claimed.type, data: claimed.data, claimed: true };
    const sel: Selector = { type, except };
    const m = selectMessage(q.messages, sel);
    if (m !== undefined) {
      check(truncate || m.data.length <= maxBytes, 'E2BIG', `a message of ${m.data.length} bytes, a buffer of ${maxBytes}`);
      const handed = truncate ? m.data.subarray(0, maxBytes) : m.data;
      take(kernel, q, m, ctx.process.pid, token, handed);
      admitSenders(kernel, q);
      return { type: m.type, data: handed, claimed: false };
    }
    check(!noWait, 'ENOMSG', 'no message of the type asked for');
    const receiver: BlockedReceiver = {
      sel,
      maxBytes,
      truncate,
      token,
      pid: ctx.process.pid,
      who,
      p: kernel.pending.begin(ctx.thread, ctx.requestId, 'mqReceive', {
        object: q,
        timeoutMs: Infinity,
        onTimeout: () => ({ fail: 'ERROR_INVALID_FUNCTION' }),
        detach: () => void q.receivers.splice(q.receivers.indexOf(receiver), 1),
      }),
    };
    q.receivers.push(receiver);
    return PENDING;
  },

  mqStat(ctx, { handle }) {
    const q = queueOf(ctx, handle);
    check(permitted(q, whoIs(ctx), READ), 'EACCES', `mode 0o${q.mode.toString(8)} denies reading`);
    return { stat: statOf(q) };
  },

  mqSet(ctx, { handle, maxBytes, mode }) {
    const { kernel } = ctx;
    if (maxBytes !== -1) checkMaxBytes(maxBytes, 'maxBytes');
    if (mode !== -1) checkMode(mode);
    const q = queueOf(ctx, handle);
    checkOwner(q, whoIs(ctx));
    const before = { maxBytes: q.maxBytes, mode: q.mode, lastChangeTime: q.lastChangeTime };
    if (maxBytes !== -1) q.maxBytes = maxBytes;
    if (mode !== -1) q.mode = mode;
    q.lastChangeTime = kernel.clock.wallNow();
    kernel.changed(q);
    try {
      journalOf(kernel, q)?.putQueue(q.tableKey!, attrsOf(q));
    } catch (e) {
      Object.assign(q, before);
      throw e;
    }
    // Blocked callers look again, as Linux wakes them: some may have lost their right, some senders now fit.
    for (const r of q.receivers.slice()) if (!permitted(q, r.who, READ)) kernel.pending.fail(r.p, 'EACCES', 'the queue\'s mode changed');
    for (const s of q.senders.slice()) if (!permitted(q, s.who, WRITE)) kernel.pending.fail(s.p, 'EACCES', 'the queue\'s mode changed');
    admitSenders(kernel, q);
    return {};
  },

  mqRemove(ctx, { handle }) {
    const { kernel } = ctx;
    const q = queueOf(ctx, handle);
    checkOwner(q, whoIs(ctx));
    const journal = journalOf(kernel, q);
    journal?.deleteQueue(q.tableKey!);
    journal?.deleteQueue(receiptsKey(q));
    dropQueue(kernel, q);
    kernel.changed(q);
    for (const r of q.receivers.slice()) kernel.pending.fail(r.p, 'EIDRM', 'the queue was removed');
    for (const s of q.senders.slice()) kernel.pending.fail(s.p, 'EIDRM', 'the queue was removed');
    // The queue's hold on itself; the handles still open keep the object until they close.
    if (q.tableKey !== undefined) kernel.unref(q);
    return {};
  },
} satisfies Partial<Handlers>;

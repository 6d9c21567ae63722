/**
 * Durable message queues coming back at start-up: each queue the journal kept, with its
 * attributes, its messages in order and its receipts, and no handle (a queue outlives its
 * handles). Runs before any client connects, with the journal open.
 */
import { MODE_BITS } from '../../protocol/message-queue.ts';
import type { Kernel } from '../kernel.ts';
import { cost, journalOf, MessageQueueObject, receiptsKey, registerQueue, tableOf, type JournaledMessage } from './message-queue.ts';
import { decodeReceipt } from './message-receipts.ts';

/** A queue (or a queue's receipts) as the journal gives it back. */
export interface StoredQueueRecord {
  key: string;
  attrs: Record<string, number | string | null>;
  messages: readonly JournaledMessage[];
}

/** Recreate the queues of `stored`; returns what could not be restored, for the log. */
export function restoreMessageQueues(kernel: Kernel, stored: readonly StoredQueueRecord[]): string[] {
  return kernel.batch(() => restore(kernel, stored));
}

function restore(kernel: Kernel, stored: readonly StoredQueueRecord[]): string[] {
  const problems: string[] = [];
  const receipts = new Map(stored.filter((s) => s.key.startsWith('r:')).map((s) => [s.key, s]));
  for (const s of stored) {
    if (s.key.startsWith('r:')) continue;
    try {
      const q = restoreQueue(kernel, s);
      const book = receipts.get(receiptsKey(q));
      receipts.delete(receiptsKey(q));
      if (book === undefined) kernel.host.journal?.putQueue(receiptsKey(q), { receiptsOf: q.tableKey! });
      else restoreReceipts(kernel, q, book);
    } catch (e) {
      problems.push(`durable queue ${JSON.stringify(s.key)} not restored: ${(e as Error).message}`);
    }
  }
  // Receipts whose queue is gone (its removal reached the disk, theirs did not).
  for (const key of receipts.keys()) kernel.host.journal?.deleteQueue(key);
  return problems;
}

function restoreQueue(kernel: Kernel, s: StoredQueueRecord): MessageQueueObject {
  const table = tableOf(kernel);
  const a = s.attrs;
  const num = (name: string): number => {
    const v = a[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`attribute ${name} is ${JSON.stringify(v)}`);
    return v;
  };
  const userKey = a.key;
  const tableKey = typeof userKey === 'number' ? `n:${userKey}` : typeof userKey === 'string' ? `s:${userKey}` : undefined;
  if (tableKey === undefined || tableKey !== s.key) throw new Error(`key ${JSON.stringify(userKey)} does not match the record's ${JSON.stringify(s.key)}`);
  if (table.byKey.has(tableKey)) throw new Error('a queue of that key exists already');
  const creator = { uid: num('creatorUid'), gid: num('creatorGid') };
  const q = new MessageQueueObject(userKey!, tableKey, num('mode') & MODE_BITS, num('maxBytes'), true, creator, num('lastChangeTime'));
  q.ownerUid = num('ownerUid');
  q.ownerGid = num('ownerGid');
  q.lastSendPid = num('lastSendPid');
  q.lastReceivePid = num('lastReceivePid');
  q.lastSendTime = num('lastSendTime');
  q.lastReceiveTime = num('lastReceiveTime');
  q.nextSeq = num('nextSeq');
  for (const m of s.messages) {
    q.messages.push({ seq: m.seq, type: m.type, data: Buffer.from(m.data), sendPid: m.sendPid, sendTime: m.sendTime });
    q.bytes += m.data.length;
    table.pool += cost(m.data.length);
    q.nextSeq = Math.max(q.nextSeq, m.seq + 1);
    // Attributes are journaled on change, not on every send: the newest message says more.
    if (m.sendTime >= q.lastSendTime) {
      q.lastSendTime = m.sendTime;
      q.lastSendPid = m.sendPid;
    }
  }
  registerQueue(kernel, q);
  return q;
}

function restoreReceipts(kernel: Kernel, q: MessageQueueObject, book: StoredQueueRecord): void {
  const table = tableOf(kernel);
  const journal = journalOf(kernel, q);
  for (const stored of book.messages) {
    const { token, receipt } = decodeReceipt(stored);
    // A receipt stands for its message's removal: if only the receipt reached the disk, remove it now.
    if (receipt.seq > 0) {
      for (const m of q.messages) {
        if (m.seq !== receipt.seq) continue;
        journal?.deleteMessage(q.tableKey!, m.seq);
        q.messages.remove(m);
        q.bytes -= m.data.length;
        table.pool -= cost(m.data.length);
        break;
      }
    }
    table.pool += cost(receipt.data.length);
    for (const [old, r] of q.receipts.add(token, receipt)) {
      journal?.deleteMessage(receiptsKey(q), old);
      table.pool -= cost(r.data.length);
    }
  }
}

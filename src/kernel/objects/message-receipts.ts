/**
 * Receipts of a durable queue: what closes the gap between a receive taking a message and
 * the receiver hearing of it. The object manager may die after the message's removal is on
 * disk but before the reply is written; the message would then be gone and nobody would
 * have it. So a durable receive writes, with the removal and in the same batch, a receipt:
 * the message as it was handed over, under a token the receiver chose. A receiver whose
 * receive was cut short by the object manager's death names the token in its next receive
 * (a claim) and gets that message then; it drops a receipt (an ack) once it no longer needs
 * it. Receipts of receivers that never come back are bounded: the oldest go first.
 */

/** Most receipts one queue keeps. */
export const MAX_RECEIPTS = 1024;

/** A message as it was handed to a receiver. */
export interface Receipt {
  readonly type: number;
  /** What the reply carried (truncated if the receive truncated). */
  readonly data: Buffer;
  /** The message's seq in its queue, or 0 when it was handed over without being queued. */
  readonly seq: number;
  readonly sendPid: number;
  readonly sendTime: number;
}

/** A token: an integer from 1 to 2⁵³ − 1 that a receiver chose. */
export function isToken(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

/** One queue's receipts by token, oldest first. */
export class ReceiptBook {
  private readonly byToken = new Map<number, Receipt>();

  get size(): number {
    return this.byToken.size;
  }

  get(token: number): Receipt | undefined {
    return this.byToken.get(token);
  }

  /** Add one (replacing one of the same token); returns those evicted to stay within {@link MAX_RECEIPTS}. */
  add(token: number, r: Receipt): [number, Receipt][] {
    this.byToken.delete(token);
    this.byToken.set(token, r);
    const evicted: [number, Receipt][] = [];
    for (const [t, old] of this.byToken) {
      if (this.byToken.size <= MAX_RECEIPTS) break;
      evicted.push([t, old]);
      this.byToken.delete(t);
    }
    return evicted;
  }

  delete(token: number): Receipt | undefined {
    const r = this.byToken.get(token);
    this.byToken.delete(token);
    return r;
  }

  values(): IterableIterator<Receipt> {
    return this.byToken.values();
  }

  clear(): void {
    this.byToken.clear();
  }
}

/** The journal record of a receipt: a message of the receipts' own key, seq = token, data = seq (f64) + data. */
export function encodeReceipt(token: number, r: Receipt): { seq: number; type: number; data: Buffer; sendPid: number; sendTime: number } {
  const data = Buffer.allocUnsafe(8 + r.data.length);
  data.writeDoubleLE(r.seq, 0);
  r.data.copy(data, 8);
  return { seq: token, type: r.type, data, sendPid: r.sendPid, sendTime: r.sendTime };
}

export function decodeReceipt(m: { seq: number; type: number; data: Uint8Array; sendPid: number; sendTime: number }): { token: number; receipt: Receipt } {
  if (m.data.length < 8) throw new Error(`receipt ${m.seq} is ${m.data.length} bytes long`);
  const data = Buffer.from(m.data);
  return { token: m.seq, receipt: { type: m.type, data: data.subarray(8), seq: data.readDoubleLE(0), sendPid: m.sendPid, sendTime: m.sendTime } };
}

/**
 * The producer-consumer example's ring buffer, as laid out in the named mapping, and its
 * records. Both processes build the same Ring from the same three numbers.
 *
 *   header (64 bytes)  in: next slot to fill · out: next slot to empty (both under the mutex)
 *                      t0, t1: monotonic clock (ns) when the producer started and the consumer ended
 *   slot × SLOTS       count of records in it, then the records, 16 bytes each
 *   record             seq · a · b · checksum(seq, a, b), four unsigned 32-bit words
 */
export const HEADER_BYTES = 64;
export const RECORD_BYTES = 16;
const SLOT_HEADER_BYTES = 16;

export class Ring {
  /** Index of the next slot to fill and of the next to empty. */
  readonly indices: Int32Array;
  /** [0] when the producer started, [1] when the consumer received the last record (process.hrtime, comparable across processes). */
  readonly times: BigInt64Array;
  private readonly slotBytes: number;

  constructor(
    readonly buffer: ArrayBuffer,
    readonly slots: number,
    readonly perSlot: number,
  ) {
    this.indices = new Int32Array(buffer, 0, 2);
    this.times = new BigInt64Array(buffer, 8, 2);
    this.slotBytes = ringSlotBytes(perSlot);
  }

  /** The words of slot `i`: [0] the count of records, from [4] the records (4 words each). */
  slot(i: number): Uint32Array {
    return new Uint32Array(this.buffer, HEADER_BYTES + i * this.slotBytes, this.slotBytes / 4);
  }
}

function ringSlotBytes(perSlot: number): number {
  return SLOT_HEADER_BYTES + perSlot * RECORD_BYTES;
}

/** The mapping's size for this ring. */
export function ringBytes(slots: number, perSlot: number): number {
  return HEADER_BYTES + slots * ringSlotBytes(perSlot);
}

/** The record words start here in a slot. */
export const FIRST_RECORD_WORD = SLOT_HEADER_BYTES / 4;

/** A record's payload: two words that depend on its sequence number in no simple way. */
export function payload(seq: number): [number, number] {
  let x = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return [x, (x ^ (x >>> 16) ^ seq) >>> 0];
}

/** FNV-1a over the three words: a record changed anywhere fails it. */
export function checksum(seq: number, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (const w of [seq, a, b]) {
    for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((w >>> s) & 0xff), 0x01000193);
  }
  return h >>> 0;
}

/**
 * A min-heap of deadlines on the injected clock. A cancelled deadline stays in the heap
 * until it surfaces or until cancelled ones are the majority, when the heap is rebuilt:
 * waits that end long before their timeouts cannot make it grow without bound.
 */
export interface Deadline {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** Below this many cancelled entries the heap is never rebuilt. */
const COMPACT_MIN = 64;

export class Deadlines {
  private heap: Deadline[] = [];
  private seq = 0;
  private cancelledInHeap = 0;

  /** Live deadlines. */
  get size(): number {
    return this.heap.length - this.cancelledInHeap;
  }

  add(at: number, fire: () => void): Deadline {
    const d: Deadline = { at, seq: this.seq++, fire, cancelled: false };
    this.heap.push(d);
    this.up(this.heap.length - 1);
    return d;
  }

  /** Cancel a deadline (again: no effect; fired: no effect). */
  cancel(d: Deadline | undefined): void {
    if (d === undefined || d.cancelled) return;
    d.cancelled = true;
    this.cancelledInHeap++;
    if (this.cancelledInHeap > COMPACT_MIN && this.cancelledInHeap * 2 > this.heap.length) this.compact();
  }

  /** The earliest live deadline, or undefined. */
  next(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Fire, in order, every deadline at or before `now` (including ones added while firing). */
  fireDue(now: number): void {
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (top === undefined || top.at > now) return;
      this.pop();
      top.cancelled = true;
      top.fire();
    }
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop();
      this.cancelledInHeap--;
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((d) => !d.cancelled);
    this.cancelledInHeap = 0;
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(a: Deadline, b: Deadline): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** A min-heap of deadlines on the injected clock; cancelled entries are skipped lazily. */
export interface Deadline {
  readonly at: number;
  readonly fire: () => void;
  cancelled: boolean;
}

export class Deadlines {
  private heap: Deadline[] = [];
  private seq = 0;
  private readonly order = new WeakMap<Deadline, number>();

  get size(): number {
    return this.heap.length;
  }

  add(at: number, fire: () => void): Deadline {
    const d: Deadline = { at, fire, cancelled: false };
    this.order.set(d, this.seq++);
    this.heap.push(d);
    this.up(this.heap.length - 1);
    return d;
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
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Deadline, b: Deadline): boolean {
    return a.at < b.at || (a.at === b.at && this.order.get(a)! < this.order.get(b)!);
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

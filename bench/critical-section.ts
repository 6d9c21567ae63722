/**
 * Uncontended `cs.enter(); cs.leave()` of a CriticalSection, in ns per pair, against a bare
 * spin lock on a SharedArrayBuffer: `Atomics.compareExchange` to lock, `Atomics.store` to
 * unlock. Both run in this process, one thread, no waiter: the figure is the cost of the
 * owner word, the recursion count and the waiter check around the same two atomics. For
 * information it also measures tryEnter + leave, a recursive enter + leave by the owner, and
 * `await cs.enterAsync(); cs.leave()`.
 */
import { CriticalSection } from '../src/client/index.ts';
import { fmt, interleave, iterations, median, ratioOfRounds, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';

/** ns per iteration of a synchronous loop of `n`. */
function nsPer(n: number, loop: (n: number) => void): number {
  const t0 = process.hrtime.bigint();
  loop(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

function enterLeave(cs: CriticalSection, n: number): void {
  for (let i = 0; i < n; i++) {
    cs.enter();
    cs.leave();
  }
}

function tryEnterLeave(cs: CriticalSection, n: number): void {
  for (let i = 0; i < n; i++) {
    if (!cs.tryEnter()) throw new Error('tryEnter failed uncontended');
    cs.leave();
  }
}

function casLockUnlock(lock: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    while (Atomics.compareExchange(lock, 0, 0, 1) !== 0);
    Atomics.store(lock, 0, 0);
  }
}

async function enterAsyncLeave(cs: CriticalSection, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await cs.enterAsync();
    cs.leave();
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

const benchmark: Benchmark = {
  ids: ['cs.enter-leave'],
  async run(ctx) {
    const cs = CriticalSection.create();
    const held = CriticalSection.create();
    held.enter(); // for the recursive pair: the owner enters again
    const lock = new Int32Array(new SharedArrayBuffer(4));
    const n = iterations(ctx, 5_000_000, 1000);
    const nAsync = iterations(ctx, 500_000, 100);
    try {
      const [cspair, tryPair, recursive, asyncPair, raw] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'enter+leave', unit: 'ns', run: async () => nsPer(n, (k) => enterLeave(cs, k)) },
        { label: 'tryEnter+leave', unit: 'ns', run: async () => nsPer(n, (k) => tryEnterLeave(cs, k)) },
        { label: 'recursive', unit: 'ns', run: async () => nsPer(n, (k) => enterLeave(held, k)) },
        { label: 'enterAsync+leave', unit: 'ns', run: () => enterAsyncLeave(cs, nAsync) },
        { label: 'raw cas', unit: 'ns', run: async () => nsPer(n, (k) => casLockUnlock(lock, k)) },
      ]);
      ctx.note(`cs.enter-leave with tryEnter instead of enter: ${fmt(median(tryPair!))} ns/op, ${fmt(ratioOfRounds(tryPair!, raw!))}× raw`);
      ctx.note(`cs.enter-leave by the owner, one recursion deeper: ${fmt(median(recursive!))} ns/op, ${fmt(ratioOfRounds(recursive!, raw!))}× raw`);
      ctx.note(`await cs.enterAsync(); cs.leave(), uncontended: ${fmt(median(asyncPair!))} ns/op, ${fmt(ratioOfRounds(asyncPair!, raw!))}× raw`);
      return [
        measured('cs.enter-leave', 'ns/op', cspair!, 'raw.cas-lock', raw!, { ratio: 3, better: 'lower' }),
      ];
    } finally {
      held.leave();
    }
  },
};

export default benchmark;

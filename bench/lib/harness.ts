/**
 * What a benchmark is, and the one measuring discipline they share: a warm-up, then
 * rounds in which every step (the figure and its raw baseline) runs back to back, A B A B,
 * so that drift and noise from the rest of the machine fall on both alike.
 */
import type { Measured } from './result.ts';

export interface BenchContext {
  /** Measured rounds (after one warm-up round). */
  rounds: number;
  /** Multiplies iteration counts (1 for a real run; smaller for a smoke run). */
  scale: number;
  /** Progress for the person watching, on stderr. */
  log(line: string): void;
  /** A figure measured for information beside the results; printed under the table. */
  note(line: string): void;
}

export interface Benchmark {
  /** The result ids it produces (the first is its file name). */
  readonly ids: readonly string[];
  run(ctx: BenchContext): Promise<Measured[]>;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Iterations scaled for this run, never fewer than `floor`. */
export function iterations(ctx: BenchContext, n: number, floor = 10): number {
  return Math.max(floor, Math.round(n * ctx.scale));
}

export interface Step {
  /** Short label for progress lines. */
  label: string;
  unit: string;
  /** Run once, return the figure for this round. */
  run(): Promise<number>;
}

/**
 * One warm-up round (as long as a measured one: the JIT and the CPUs settle), then
 * `ctx.rounds` rounds of every step in order. Returns each step's figures by round.
 */
export async function interleave(ctx: BenchContext, id: string, steps: readonly Step[]): Promise<number[][]> {
  const figures = steps.map(() => [] as number[]);
  for (let round = 0; round <= ctx.rounds; round++) {
    const warmUp = round === 0;
    const parts: string[] = [];
    for (const [i, step] of steps.entries()) {
      const x = await step.run();
      if (!warmUp) figures[i]!.push(x);
      parts.push(`${step.label} ${fmt(x)} ${step.unit}`);
    }
    ctx.log(`${id}: ${warmUp ? 'warm-up' : `round ${round}/${ctx.rounds}`}: ${parts.join(', ')}`);
  }
  return figures;
}

/** The median of per-round ratios a[i] / b[i]. */
export function ratioOfRounds(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** Reject with a clear message when `p` takes longer than `ms` (a stuck benchmark must not hang the run). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(3);
}

/** Nanoseconds (bigint from hrtime) to microseconds per iteration. */
export function usPer(ns: bigint | number, n: number): number {
  return Number(ns) / 1000 / n;
}

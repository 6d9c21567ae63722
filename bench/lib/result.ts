/**
 * One benchmark's outcome in the DESIGN §6 shape, written to bench/results/<id>.json, and
 * the table `npm run bench` prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ratioOfRounds } from './harness.ts';

export type Better = 'lower' | 'higher';

/**
 * A target on the same-run ratio to the baseline, or, when the issue states an absolute
 * figure (requests per second, bytes per object), on the value itself.
 */
export type Target = { ratio: number; better: Better } | { value: number; better: Better };

/** What a benchmark measured, before the bookkeeping fields are added. */
export interface Measured {
  id: string;
  unit: string;
  /** Median over the rounds. */
  value: number;
  /** The raw baseline measured in the same run, its median over the rounds. */
  baseline: { id: string; value: number };
  /** Median of the per-round ratios value / baseline (each round measures both back to back). */
  ratio: number;
  /** null when no target is set: the figure is for information (its `pass` is null too). */
  target: Target | null;
  rounds: number;
}

/**
 * A result from its rounds: the medians of the value and of the baseline measured beside
 * it, and the median of their per-round ratios.
 */
export function measured(
  id: string,
  unit: string,
  values: readonly number[],
  baselineId: string,
  baselineValues: readonly number[],
  target: Target | null,
): Measured {
  return {
    id,
    unit,
    value: median(values),
    baseline: { id: baselineId, value: median(baselineValues) },
    ratio: ratioOfRounds(values, baselineValues),
    target,
    rounds: values.length,
  };
}

export interface Result extends Measured {
  /** null when there is no target. */
  pass: boolean | null;
  node: string;
  date: string;
}

export const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

export function complete(m: Measured): Result {
  const t = m.target;
  let pass: boolean | null = null;
  if (t !== null) {
    const figure = 'ratio' in t ? m.ratio : m.value;
    const limit = 'ratio' in t ? t.ratio : t.value;
    pass = t.better === 'lower' ? figure <= limit : figure >= limit;
  }
  return {
    id: m.id,
    unit: m.unit,
    value: round(m.value),
    baseline: { id: m.baseline.id, value: round(m.baseline.value) },
    ratio: round(m.ratio),
    target: m.target,
    pass,
    rounds: m.rounds,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function writeResult(r: Result): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${r.id}.json`);
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

/** Three significant figures, or whole numbers from 1000 up. */
function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (Math.abs(x) >= 1000) return Math.round(x);
  return Number(x.toPrecision(3));
}

function targetText(t: Target | null, unit: string): string {
  if (t === null) return 'none';
  const op = t.better === 'lower' ? '≤' : '≥';
  return 'ratio' in t ? `${op} ${t.ratio}×` : `${op} ${t.value} ${unit}`;
}

/** The table of results, one row each. */
export function formatTable(results: readonly (Result | { id: string; error: string })[]): string {
  const header = ['id', 'figure', 'unit', 'baseline', 'ratio', 'target', 'pass'];
  const rows = results.map((r) =>
    'error' in r
      ? [r.id, '-', '-', '-', '-', '-', `ERROR: ${r.error}`]
      : [
          r.id,
          String(r.value),
          r.unit,
          `${r.baseline.value} (${r.baseline.id})`,
          `${r.ratio}×`,
          targetText(r.target, r.unit),
          r.pass === null ? '-' : r.pass ? 'yes' : 'NO',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

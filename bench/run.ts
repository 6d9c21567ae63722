/**
 * `npm run bench [ID …] [--rounds N] [--scale X]`: run every benchmark in bench/ (or the
 * ones named, by result id or file name), print one table, write bench/results/<id>.json.
 * Progress goes to stderr. Exits 1 when a benchmark fails to run; a missed target is a
 * figure in the table, not an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Benchmark, BenchContext } from './lib/harness.ts';
import { complete, formatTable, writeResult, type Result } from './lib/result.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '7' },
    scale: { type: 'string', default: '1' },
  },
});

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const files = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .sort();

const benchmarks: { file: string; bench: Benchmark }[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as { default: Benchmark };
  benchmarks.push({ file: file.slice(0, -3), bench: mod.default });
}

const wanted = new Set(positionals);
const chosen = benchmarks.filter(({ file, bench }) => wanted.size === 0 || wanted.has(file) || bench.ids.some((id) => wanted.has(id)));
const known = new Set(benchmarks.flatMap(({ file, bench }) => [file, ...bench.ids]));
const unknown = [...wanted].filter((w) => !known.has(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${[...known].join(', ')}\n`);
  process.exit(2);
}

const rounds = Number(values.rounds);
const scale = Number(values.scale);
if (!Number.isInteger(rounds) || rounds < 1 || !(scale > 0)) {
  process.stderr.write('--rounds takes an integer ≥ 1, --scale a number > 0\n');
  process.exit(2);
}

const started = Date.now();
const notes: string[] = [];
const ctx: BenchContext = {
  rounds,
  scale,
  log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`),
  note(line) {
    notes.push(line);
    ctx.log(`note: ${line}`);
  },
};

const rows: (Result | { id: string; error: string })[] = [];
let failed = false;
for (const { file, bench } of chosen) {
  ctx.log(`${file}: starting`);
  try {
    for (const measured of await bench.run(ctx)) {
      const result = complete(measured);
      writeResult(result);
      rows.push(result);
    }
  } catch (e) {
    failed = true;
    ctx.log(`${file}: failed: ${(e as Error).stack ?? e}`);
    rows.push({ id: file, error: (e as Error).message.split('\n')[0]! });
  }
}

process.stdout.write(`\n${formatTable(rows)}\n\n`);
if (notes.length > 0) process.stdout.write(`For information (not results):\n${notes.map((n) => `  ${n}\n`).join('')}\n`);
process.stdout.write(`node ${process.version}, ${rounds} rounds after a warm-up; results in ${path.relative(process.cwd(), path.join(benchDir, 'results'))}/\n`);
process.exit(failed ? 1 : 0);

/**
 * The durable queue store against real processes: a writer SIGKILLed in the middle of a
 * stream of operations leaves exactly the state after a prefix of them, a prefix that holds
 * everything it was told was flushed; a disk that refuses a write stops the store cleanly;
 * two processes never write one directory. The writer is test/fixtures/queue-store-writer.ts.
 */
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QueueStore, type StoredQueue } from '../../src/broker/queue-store.ts';
import { tempDir } from '../helpers/daemon.ts';
import { Model, modelSignature, opStream, signature, sorted } from '../helpers/queue-store-model.ts';

const writer = fileURLToPath(new URL('../fixtures/queue-store-writer.ts', import.meta.url));
const root = tempDir('ntipc-qsc-');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

interface Report {
  ready?: boolean;
  flushed?: number;
  issued?: number;
  failed?: number;
  code?: string;
  refused?: string;
  held?: boolean;
}

/** Start the writer; `limitKiB` runs it under that file-size limit (RLIMIT_FSIZE). */
function startWriter(dir: string, mode: string, seed: number, onReport: (r: Report) => void, limitKiB?: number): ChildProcess {
  const args = ['--import', 'tsx', writer, dir, mode, String(seed)];
  const child =
    limitKiB === undefined
      ? fork(writer, [dir, mode, String(seed)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
      : spawn('bash', ['-c', `ulimit -f ${limitKiB} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  children.push(child);
  child.on('message', onReport);
  // lmdb-js prints a failed commit to stderr; keep it for the assertion messages only.
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => stderr;
  return child;
}

async function loadStore(dir: string): Promise<StoredQueue[]> {
  const store = await QueueStore.open(dir);
  try {
    return store.load();
  } finally {
    await store.close();
  }
}

/**
 * The n ≥ `from` such that the first n operations of opStream(seed, start) make `loaded`;
 * fails when there is none.
 */
function prefixLength(loaded: StoredQueue[], seed: number, start: StoredQueue[], from: number): number {
  const model = Model.from(start);
  const ops = opStream(seed, start);
  const want = signature(loaded);
  for (let n = 0; n < from + 1_000_000; n++) {
    if (n >= from && modelSignature(model) === want) {
      try {
        assert.deepEqual(sorted(loaded), model.toStored());
        return n;
      } catch {
        // Same fingerprint, different state: keep looking.
      }
    }
    model.apply(ops.next().value!);
  }
  assert.fail(`the store after the crash is not the state after any prefix of ${from} or more operations`);
}

/** Run the stream writer on `dir` and SIGKILL it once it has reported `kills` flushes. */
async function crashRound(dir: string, seed: number, kills: number) {
  const start = fs.existsSync(dir) ? await loadStore(dir) : [];
  let flushed = 0;
  let issuedAtLastReport = 0;
  let reports = 0;
  const child = startWriter(dir, 'stream', seed, (r) => {
    if (r.flushed === undefined) return;
    flushed = Math.max(flushed, r.flushed);
    issuedAtLastReport = Math.max(issuedAtLastReport, r.issued!);
    if (++reports === kills) child.kill('SIGKILL');
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `the writer ended by itself (${code}): ${(child as unknown as { stderrText(): string }).stderrText()}`);
  // The kill landed with operations issued and not yet flushed.
  assert.ok(issuedAtLastReport > flushed, `issued ${issuedAtLastReport}, flushed ${flushed}`);
  const loaded = await loadStore(dir);
  const n = prefixLength(loaded, seed, start, flushed);
  return { flushed, n };
}

test('a writer SIGKILLed mid-stream leaves the state after a prefix of its operations, holding all it had flushed', { timeout: 180_000 }, async () => {
  const dir = path.join(root, 'stream');
  const first = await crashRound(dir, 0xc0ffee01, 25);
  assert.ok(first.n >= first.flushed && first.flushed > 0);
  // A second writer carries on from what the first left, and is killed in turn.
  const second = await crashRound(dir, 0xc0ffee02, 25);
  assert.ok(second.n >= second.flushed && second.flushed > 0);
});

test('a writer SIGKILLed early, after its first flush, leaves a prefix too', { timeout: 120_000 }, async () => {
  const r = await crashRound(path.join(root, 'early'), 0xc0ffee03, 1);
  assert.ok(r.n >= r.flushed && r.flushed > 0);
});

test('a disk that refuses a write fails flushed() and every later operation, and leaves exactly the operations before it', { timeout: 120_000 }, async () => {
  const dir = path.join(root, 'fill');
  let flushed = 0;
  let failed = Infinity;
  let failedCode: string | undefined;
  let refused: string | undefined;
  const child = startWriter(
    dir,
    'fill',
    0,
    (r) => {
      if (r.flushed !== undefined) flushed = Math.max(flushed, r.flushed);
      if (r.failed !== undefined && r.failed < failed) {
        failed = r.failed;
        failedCode = r.code;
      }
      if (r.refused !== undefined) refused = r.refused;
    },
    8192,
  );
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  const stderr = (child as unknown as { stderrText(): string }).stderrText();
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, `the writer must stop cleanly (no crash, no unhandled rejection): ${stderr}`);
  // A short write of a file past RLIMIT_FSIZE is an I/O error to LMDB, the disk having room.
  assert.equal(failedCode, 'ERROR_IO_DEVICE', stderr);
  assert.equal(refused, 'ERROR_IO_DEVICE');
  assert.ok(flushed > 1 && failed > flushed, `flushed ${flushed}, failed ${failed}`);
  const [big, ...rest] = await loadStore(dir);
  assert.deepEqual(rest, []);
  assert.equal(big!.key, 'big');
  // Operation 1 made the queue; operation k > 1 put message k - 1.
  const n = big!.messages.length + 1;
  assert.ok(n >= flushed && n < failed, `kept ${n} operations; flushed ${flushed}, failed at ${failed}`);
  big!.messages.forEach((m, i) => {
    assert.equal(m.seq, i + 1);
    assert.equal(m.data.length, 64 * 1024);
    assert.ok(m.data.every((b) => b === (m.seq & 0xff)));
  });
});

test('a second process cannot open a store another has open, and can once that one is killed', { timeout: 120_000 }, async () => {
  const dir = path.join(root, 'held');
  const child = startWriter(dir, 'hold', 0, () => {});
  const [held] = (await once(child, 'message')) as [Report];
  assert.equal(held.held, true);
  await assert.rejects(QueueStore.open(dir), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERROR_SHARING_VIOLATION');
    assert.match(e.message, new RegExp(`process ${child.pid}`));
    return true;
  });
  child.kill('SIGKILL');
  await once(child, 'exit');
  const loaded = await loadStore(dir);
  assert.deepEqual(
    loaded.map((q) => [q.key, q.messages.map((m) => m.data.toString())]),
    [['held', ['kept']]],
  );
});

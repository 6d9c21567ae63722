/**
 * The shared-memory examples, run as their READMEs say (`npx tsx examples/NAME/main.ts
 * ARGS`), each on an object manager of its own that it starts on demand and that lingers
 * only briefly. Besides what each prints, afterwards that object manager is gone and
 * `/dev/shm` holds no shared memory object it made: the sections went with their last
 * handle and view.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import { runExample } from '../helpers/run-example.ts';

/**
 * The shared memory objects named in the output (`/dev/shm/ntipc-UID-PID-N`, PID the object
 * manager's) are gone, and so is every other that object manager made.
 */
function assertShmGone(out: string): void {
  const named = [...out.matchAll(/\/dev\/shm\/(ntipc-\d+-\d+)-\d+/g)];
  assert.ok(named.length > 0, `no shared memory object named in:\n${out}`);
  const prefixes = new Set(named.map((m) => `${m[1]}-`));
  const left = fs.readdirSync('/dev/shm').filter((e) => [...prefixes].some((p) => e.startsWith(p)));
  assert.deepEqual(left, [], 'shared memory objects left in /dev/shm');
}

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

test('the shared-counter example: processes incrementing with Atomics.add in a named mapping reach the exact total', async (t) => {
  const out = await runExample(t, 'shared-counter', ['3', '200000']);
  const workers = lines(out, /^worker \d \(pid \d+\) added 200000; counter = \d+ after its last increment$/);
  assert.deepEqual(workers.map((l) => l.split(' ')[1]).sort(), ['0', '1', '2'], out);
  // The counter only grows, and the last increment of all leaves it at the total.
  const lasts = workers.map((l) => Number(/counter = (\d+)/.exec(l)![1]));
  assert.ok(lasts.every((v) => v >= 200000 && v <= 600000), out);
  assert.equal(Math.max(...lasts), 600000, out);
  assert.match(out, /^total: 600000 \(expected 600000: 3 workers × 200000\)$/m);
  const [, plain, lost] = /^plain increments without Atomics: (\d+) \((-?\d+) lost to interleaving\)$/m.exec(out) ?? [];
  assert.ok(plain !== undefined && Number(plain) + Number(lost) === 600000 && Number(lost) >= 0, out);
  assertShmGone(out);
});

test('the shared-memory-pair example: a message written into a named mapping is read by another process that opened it', async (t) => {
  const message = 'Grüße über geteilten Speicher';
  const out = await runExample(t, 'shared-memory-pair', [message]);
  assert.match(out, /^mapping shared-memory-pair-\d+: 4096 bytes of shared memory, \/dev\/shm\/ntipc-/m);
  const wrote = out.indexOf(`wrote: "${message}"`);
  const read = out.indexOf(`read: "${message}"`);
  assert.ok(wrote >= 0 && read > wrote, out);
  assert.match(out, /^reader \(pid \d+\) read: /m);
  assertShmGone(out);
});

test('the shared-memory-pair example backed by a file: the message reaches the reader and the file', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'zzz');
  const out = await runExample(t, 'shared-memory-pair', ['backed by a file', '--file', file], dir);
  assert.match(out, /^mapping shared-memory-pair-\d+: 4096 bytes backed by the file /m);
  assert.match(out, /^writer \(pid \d+\) wrote: "backed by a file"$/m);
  assert.match(out, /^reader \(pid \d+\) read: "backed by a file"$/m);
  assert.match(out, /^the file holds: "backed by a file"$/m);
  // runExample's cleanup removes the directory later; the file is still there now.
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 4096);
  assert.equal(bytes.readInt32LE(0), 16);
  assert.equal(bytes.subarray(4, 20).toString(), 'backed by a file');
  assert.doesNotMatch(out, /\/dev\/shm/);
});

test('the producer-consumer example: a million records pass through the ring intact and in order', async (t) => {
  const out = await runExample(t, 'producer-consumer');
  assert.match(out, /^ring: 8 slots of 1000 records in \d+ bytes of shared memory, \/dev\/shm\/ntipc-/m);
  assert.match(out, /^producer \(pid \d+\) sent 1000000 records in 1000 blocks$/m);
  assert.match(out, /^consumer \(pid \d+\) received 1000000 records, in order, every checksum right$/m);
  assert.match(out, /^1000000 records in 1000 blocks through 8 slots in \d+\.\d\d s: [\d,]+ records\/s$/m);
  assertShmGone(out);
});

test('the producer-consumer example with a partial last block and a ring of one slot', async (t) => {
  const out = await runExample(t, 'producer-consumer', ['2500', '1', '1000']);
  assert.match(out, /^producer \(pid \d+\) sent 2500 records in 3 blocks$/m);
  assert.match(out, /^consumer \(pid \d+\) received 2500 records, in order, every checksum right$/m);
  assertShmGone(out);
});

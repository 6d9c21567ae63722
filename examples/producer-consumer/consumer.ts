/**
 * The consumer of the producer-consumer example: take blocks of records out of full slots,
 * checking that every record is intact (its checksum) and in order (its sequence number):
 *
 *   wait(full); wait(mutex); take the block in slot `out`; out = (out + 1) % SLOTS; release(mutex); release(empty)
 *
 * Exits 1 at the first record out of order or damaged.
 *
 * usage: consumer.ts NAME RECORDS SLOTS PER_SLOT
 */
import { Event, FileMapping, Mutex, Semaphore, signalAndWait } from '../../src/client/index.ts';
import { FIRST_RECORD_WORD, Ring, checksum } from './ring.ts';

const [name, records, slots, perSlot] = process.argv.slice(2) as [string, string, string, string];
const total = Number(records);

const mapping = await FileMapping.open(name, { access: 'readwrite' });
const view = mapping.map();
const ring = new Ring(view.buffer, Number(slots), Number(perSlot));
const empty = await Semaphore.open(`${name}-empty`);
const full = await Semaphore.open(`${name}-full`);
const mutex = await Mutex.open(`${name}-mutex`);
const ready = await Semaphore.open(`${name}-ready`);
const start = await Event.open(`${name}-start`);
await signalAndWait(ready, start);

let expected = 0;
let bad: string | undefined;
while (expected < total && bad === undefined) {
  await full.wait(); // a full slot
  await mutex.wait();
  const i = Atomics.load(ring.indices, 1);
  const words = ring.slot(i);
  const count = words[0]!;
  for (let r = 0, w = FIRST_RECORD_WORD; r < count; r++, w += 4) {
    const seq = words[w]!;
    const sum = checksum(seq, words[w + 1]!, words[w + 2]!);
    if (seq !== expected) bad = `record ${expected}: found sequence number ${seq} in its place`;
    else if (sum !== words[w + 3]) bad = `record ${seq}: checksum ${words[w + 3]}, computed ${sum}`;
    if (bad !== undefined) break;
    expected++;
  }
  Atomics.store(ring.indices, 1, (i + 1) % ring.slots);
  await mutex.release();
  await empty.release(); // one more free slot
}
ring.times[1] = process.hrtime.bigint();

if (bad === undefined) {
  console.log(`consumer (pid ${process.pid}) received ${expected} records, in order, every checksum right`);
} else {
  console.log(`consumer (pid ${process.pid}): ${bad}`);
  process.exitCode = 1;
}

await view.unmap();
for (const h of [mapping, empty, full, mutex, ready, start]) await h.close();

/**
 * The producer of the producer-consumer example: fill blocks of records into free slots of
 * the ring, the classic way (Tanenbaum's producer with semaphores):
 *
 *   wait(empty); wait(mutex); put a block in slot `in`; in = (in + 1) % SLOTS; release(mutex); release(full)
 *
 * usage: producer.ts NAME RECORDS SLOTS PER_SLOT
 */
import { Event, FileMapping, Mutex, Semaphore, signalAndWait } from '../../src/client/index.ts';
import { FIRST_RECORD_WORD, Ring, checksum, payload } from './ring.ts';

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
await signalAndWait(ready, start); // both sides start together

ring.times[0] = process.hrtime.bigint();
let blocks = 0;
for (let seq = 0; seq < total; ) {
  await empty.wait(); // a free slot
  await mutex.wait(); // the indices are ours
  const i = Atomics.load(ring.indices, 0);
  const words = ring.slot(i);
  const count = Math.min(ring.perSlot, total - seq);
  for (let r = 0, w = FIRST_RECORD_WORD; r < count; r++, seq++, w += 4) {
    const [a, b] = payload(seq);
    words[w] = seq;
    words[w + 1] = a;
    words[w + 2] = b;
    words[w + 3] = checksum(seq, a, b);
  }
  words[0] = count;
  Atomics.store(ring.indices, 0, (i + 1) % ring.slots);
  await mutex.release();
  await full.release(); // one more full slot
  blocks++;
}
console.log(`producer (pid ${process.pid}) sent ${total} records in ${blocks} blocks`);

await view.unmap();
for (const h of [mapping, empty, full, mutex, ready, start]) await h.close();

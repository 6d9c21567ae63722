/**
 * The producer-consumer problem of the seed ("the shared buffer used in producer-consumer
 * problems can easily be implemented" with a section object), across two processes: a ring
 * buffer of SLOTS slots in a named mapping, a semaphore counting the empty slots, another
 * counting the full ones, and a mutex guarding the ring's indices. One process produces
 * RECORDS records, each with a sequence number and a checksum; the other consumes them and
 * checks that every one arrived intact and in order.
 *
 * Each semaphore wait or release is a round trip to the object manager (tens of µs), so a
 * slot holds a block of PER_SLOT records rather than one: the semaphores count blocks, and
 * a million records take a thousand trips around the ring rather than a million.
 *
 * This program creates the objects, starts both sides together and reports the rate; the
 * start and end times are in the mapping too, written by the producer and the consumer.
 *
 *   npx tsx examples/producer-consumer/main.ts [RECORDS=1000000] [SLOTS=8] [PER_SLOT=1000]
 */
import { fileURLToPath } from 'node:url';
import { Event, FileMapping, Mutex, ProcessHandle, Semaphore, waitAny } from '../../src/client/index.ts';
import { Ring, ringBytes } from './ring.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-producer-consumer';

const records = Number(process.argv[2] ?? 1_000_000);
const slots = Number(process.argv[3] ?? 8);
const perSlot = Number(process.argv[4] ?? 1000);

const name = `producer-consumer-${process.pid}`;
const mapping = await FileMapping.create(name, { size: ringBytes(slots, perSlot), protect: 'readwrite' });
const view = mapping.map();
const ring = new Ring(view.buffer, slots, perSlot);
console.log(`ring: ${slots} slots of ${perSlot} records in ${mapping.size} bytes of shared memory, /dev/shm${mapping.shmName}`);
// CreateSemaphore(NULL, SLOTS, SLOTS, "empty"): every slot free; CreateSemaphore(NULL, 0, SLOTS, "full"): none full.
const empty = await Semaphore.create(`${name}-empty`, { initialCount: slots, maximumCount: slots });
const full = await Semaphore.create(`${name}-full`, { initialCount: 0, maximumCount: slots });
const mutex = await Mutex.create(`${name}-mutex`);
// So that neither side's start-up is timed: both say they are ready and wait for `start`.
const ready = await Semaphore.create(`${name}-ready`, { initialCount: 0, maximumCount: 2 });
const start = await Event.create(`${name}-start`, { manualReset: true });
try {
  const args = [name, String(records), String(slots), String(perSlot)];
  const spawn = (file: string) =>
    // process.execArgv carries tsx's loader, so the children run TypeScript too.
    ProcessHandle.spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: 'inherit' });
  const children = [await spawn('./consumer.ts'), await spawn('./producer.ts')];
  for (let i = 0; i < 2; i++) await ready.wait();
  await start.set();

  // Wait for both; should one of them fail, the other would wait for it forever: end it.
  const running = [...children];
  while (running.length > 0) {
    const { index } = await waitAny(running);
    const [done] = running.splice(index, 1);
    await done!.wait(); // signaled already: this fetches its exit code
    if (done!.exitCode !== 0) for (const c of running) c.child?.kill();
  }
  if (children.some((c) => c.exitCode !== 0)) {
    console.log('FAILED: a side exited with an error');
    process.exitCode = 1;
  } else {
    const seconds = Number(ring.times[1]! - ring.times[0]!) / 1e9;
    const blocks = Math.ceil(records / perSlot);
    console.log(
      `${records} records in ${blocks} blocks through ${slots} slots in ${seconds.toFixed(2)} s: ` +
        `${Math.round(records / seconds).toLocaleString('en-US')} records/s`,
    );
  }
  for (const c of children) await c.close();
} finally {
  await view.unmap();
  for (const h of [mapping, empty, full, mutex, ready, start]) await h.close();
}

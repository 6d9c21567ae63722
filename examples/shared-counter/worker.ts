/**
 * One worker of the shared-counter example: open the named mapping, map the counter, wait
 * for the start, then `increments` times InterlockedIncrement it (Atomics.add), and the same
 * number of times increment the plain word beside it without Atomics.
 *
 * usage: worker.ts MAPPING_NAME INCREMENTS INDEX
 */
import { Event, FileMapping, Semaphore, signalAndWait } from '../../src/client/index.ts';

const [name, increments, index] = process.argv.slice(2) as [string, string, string];
const n = Number(increments);

// OpenFileMapping(FILE_MAP_ALL_ACCESS, FALSE, name); MapViewOfFile(...)
const mapping = await FileMapping.open(name, { access: 'readwrite' });
const view = mapping.map(0, 8);
const counter = new Int32Array(view.buffer);

const start = await Event.open(`${name}-start`);
const ready = await Semaphore.open(`${name}-ready`);
await signalAndWait(ready, start); // counted as ready and waiting, in one step

let last = 0;
for (let i = 0; i < n; i++) {
  last = Atomics.add(counter, 0, 1) + 1; // InterlockedIncrement returns the new value
  counter[1]!++; // read, add, write: another process's write in between is lost
}
console.log(`worker ${index} (pid ${process.pid}) added ${n}; counter = ${last} after its last increment`);

await view.unmap();
await mapping.close();
await start.close();
await ready.close();

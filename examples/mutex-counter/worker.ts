/**
 * One worker of the mutex-counter example: `iterations` times, take the mutex, add one to
 * the counter in the file, release it.
 *
 * usage: worker.ts MUTEX_NAME COUNTER_FILE ITERATIONS INDEX
 */
import fs from 'node:fs';
import { Mutex } from '../../src/client/index.ts';

const [name, counterFile, iterations, index] = process.argv.slice(2) as [string, string, string, string];

// OpenMutex(SYNCHRONIZE, FALSE, name)
const mutex = await Mutex.open(name);
let added = 0;
for (let i = 0; i < Number(iterations); i++) {
  const ret = await mutex.wait(); // WaitForSingleObject(mutex, INFINITE)
  if (ret === 'abandoned') {
    // Another worker died holding it: the counter may be half-updated. The seed gives up here.
    console.error(`worker ${index}: the mutex was abandoned; stopping`);
    await mutex.release();
    process.exitCode = 2;
    break;
  }
  const counter = Number(fs.readFileSync(counterFile, 'utf8'));
  fs.writeFileSync(counterFile, String(counter + 1));
  added++;
  await mutex.release(); // ReleaseMutex(mutex)
}
await mutex.close(); // CloseHandle(mutex)
console.log(`worker ${index} (pid ${process.pid}) added ${added}`);

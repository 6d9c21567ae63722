/**
 * One worker of the semaphore-pool example: `rounds` times, take a resource from the pool
 * (wait on the semaphore), mark a free slot as ours in the shared record, use it a little,
 * unmark it and give it back (release the semaphore).
 *
 * usage: worker.ts POOL_NAME BOOKS_MUTEX BOOKS_FILE ROUNDS INDEX
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mutex, Semaphore } from '../../src/client/index.ts';

/** The shared record of the pool, kept in a file under a mutex. */
export interface Books {
  /** Which worker (pid) holds each resource, or null. */
  slots: (number | null)[];
  inUse: number;
  peak: number;
  uses: number;
  /** Times a worker got through the semaphore and found no free resource: must stay 0. */
  overbooked: number;
}

const [poolName, booksName, booksFile, rounds, index] = process.argv.slice(2) as [string, string, string, string, string];

async function update<T>(lock: Mutex, change: (books: Books) => T): Promise<T> {
  await using _held = await lock.lock();
  const books = JSON.parse(fs.readFileSync(booksFile, 'utf8')) as Books;
  const result = change(books);
  fs.writeFileSync(booksFile, JSON.stringify(books));
  return result;
}

const pool = await Semaphore.open(poolName);
const booksLock = await Mutex.open(booksName);
for (let round = 0; round < Number(rounds); round++) {
  await pool.wait(); // WaitForSingleObject(hSemaphore, INFINITE): one resource is ours
  const { slot, inUse } = await update(booksLock, (b) => {
    const slot = b.slots.indexOf(null);
    if (slot < 0) b.overbooked++;
    else b.slots[slot] = process.pid;
    b.inUse++;
    b.peak = Math.max(b.peak, b.inUse);
    b.uses++;
    return { slot, inUse: b.inUse };
  });
  console.log(`worker ${index} uses resource ${slot} (${inUse} in use)`);
  await sleep(5 + Math.random() * 20); // the work done with the resource
  await update(booksLock, (b) => {
    if (slot >= 0) b.slots[slot] = null;
    b.inUse--;
  });
  await pool.release(1); // ReleaseSemaphore(hSemaphore, 1, &previous)
}
await pool.close();
await booksLock.close();

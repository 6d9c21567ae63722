/**
 * The seed's semaphore: resource counting. A pool of K identical resources is guarded by a
 * semaphore created with count K and maximum K; N worker processes each take a resource
 * (a wait takes one from the count), use it a while and give it back (ReleaseSemaphore).
 * The workers keep a shared record of which resources are in use, so the main program can
 * show that never more than K were in use at once.
 *
 *   npx tsx examples/semaphore-pool/main.ts [RESOURCES=3] [WORKERS=6] [ROUNDS=4]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mutex, ProcessHandle, Semaphore, waitAll } from '../../src/client/index.ts';
import type { Books } from './worker.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-semaphore-pool';

const resources = Number(process.argv[2] ?? 3);
const workers = Number(process.argv[3] ?? 6);
const rounds = Number(process.argv[4] ?? 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-example-'));
const booksFile = path.join(dir, 'books.json');
const books: Books = { slots: Array(resources).fill(null), inUse: 0, peak: 0, uses: 0, overbooked: 0 };
fs.writeFileSync(booksFile, JSON.stringify(books));

// CreateSemaphore(NULL, K, K, name): K resources, all free.
const poolName = `pool-${process.pid}`;
const pool = await Semaphore.create(poolName, { initialCount: resources, maximumCount: resources });
// The record of who holds what is shared data too: a mutex guards it.
const booksName = `pool-books-${process.pid}`;
const booksLock = await Mutex.create(booksName);
try {
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ProcessHandle[] = [];
  for (let i = 0; i < workers; i++) {
    const args = [...process.execArgv, worker, poolName, booksName, booksFile, String(rounds), String(i)];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  await waitAll(children);
  const final = JSON.parse(fs.readFileSync(booksFile, 'utf8')) as Books;
  const count = (await pool.query()).state.count;
  console.log(`uses: ${final.uses} (expected ${workers * rounds}); peak in use: ${final.peak} of ${resources}`);
  console.log(`semaphore count back to ${count} of ${resources}`);
  const ok = final.overbooked === 0 && final.peak <= resources && final.uses === workers * rounds && count === resources;
  console.log(ok ? `never more than ${resources} in use at once` : 'FAILED: the pool was overbooked or uses are missing');
  for (const c of children) await c.close();
  if (!ok || children.some((c) => c.exitCode !== 0)) process.exitCode = 1;
} finally {
  await pool.close();
  await booksLock.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

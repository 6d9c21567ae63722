/**
 * The seed's critical-section example: a counter shared by the threads of one process, each
 * adding to it under one critical section (InitializeCriticalSection / EnterCriticalSection /
 * LeaveCriticalSection). Here the threads are worker_threads and the counter is a plain,
 * non-atomic word in a SharedArrayBuffer, so without the critical section their
 * read-add-write steps would overwrite each other. The main thread joins in with
 * enterAsync(), which waits without blocking its event loop, then prints the exact total.
 *
 *   npx tsx examples/critical-section-counter/main.ts [WORKERS=4] [ITERATIONS=100000]
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CriticalSection } from '../../src/client/index.ts';

const workers = Number(process.argv[2] ?? 4);
const iterations = Number(process.argv[3] ?? 100_000);

// InitializeCriticalSection(&crit): no object manager, no handle; the state is shared memory.
const crit = CriticalSection.create();
// volatile int counter = 0, shared by all threads.
const counter = new SharedArrayBuffer(4);
const shared = new Int32Array(counter);

const threads: Worker[] = [];
const added: string[] = [];
for (let index = 0; index < workers; index++) {
  // The critical section travels to the worker as its sharedState.
  const w = startWorker(new URL('./worker.ts', import.meta.url), { state: crit.sharedState, counter, iterations, index });
  w.on('message', (m: { index: number; threadId: number; added: number }) =>
    added.push(`worker ${m.index} (thread ${m.threadId}) added ${m.added}`),
  );
  threads.push(w);
}

// The main thread adds too, in the same loop, but with enterAsync: the main thread of a Node
// program should not block in enter() (it would stop its event loop while it waits).
let mainAdded = 0;
for (let i = 0; i < iterations; i++) {
  await crit.enterAsync();
  try {
    shared[0] = shared[0]! + 1; // counter += local_value
    mainAdded++;
  } finally {
    crit.leave();
  }
}

const codes = await Promise.all(threads.map(async (w) => (await once(w, 'exit'))[0] as number));
for (const line of added.sort()) console.log(line);
console.log(`main thread added ${mainAdded} through enterAsync`);
const total = shared[0]!;
const expected = (workers + 1) * iterations;
console.log(`total: ${total} (expected ${expected}: ${workers} workers and the main thread × ${iterations})`);
if (total !== expected || codes.some((c) => c !== 0)) process.exitCode = 1;

/**
 * new Worker(url, { workerData }). This example runs its TypeScript source through tsx,
 * whose loader Node 20 does not pass on to worker threads, so a two-line evaluated entry
 * registers it in the worker first; with the compiled package (`import ... from 'ntipc'` in
 * JavaScript) `new Worker(url, { workerData })` is all it takes.
 */
function startWorker(url: URL, workerData: unknown): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

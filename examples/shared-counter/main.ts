/**
 * The seed's shared counter (CreateFileMapping / MapViewOfFile / InterlockedIncrement),
 * across processes: a 32-bit counter in a named mapping backed by memory, incremented by
 * several worker processes at once. InterlockedIncrement is `Atomics.add` on an Int32Array
 * over the view; the total comes out exact however the increments interleave. Beside it,
 * each worker also increments a second word with a plain read-add-write (`c[1]++`), which
 * loses increments as soon as two processes run at once: that is what the atomic is for.
 *
 * So that the workers really do run at once, they start counting together: each releases
 * a `ready` semaphore and waits on a manual-reset `start` event in one step (signalAndWait),
 * and the main program sets `start` once it has taken N units from `ready`. It then waits
 * for every worker with waitAll over their process handles.
 *
 *   npx tsx examples/shared-counter/main.ts [WORKERS=4] [INCREMENTS=1000000]
 */
import { fileURLToPath } from 'node:url';
import { Event, FileMapping, ProcessHandle, Semaphore, waitAll } from '../../src/client/index.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-shared-counter';

const workers = Number(process.argv[2] ?? 4);
const increments = Number(process.argv[3] ?? 1_000_000);

// CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(LONG) * 2, name):
// backed by memory (no file); the size is rounded up to a whole page.
const name = `shared-counter-${process.pid}`;
const mapping = await FileMapping.create(name, { size: 8, protect: 'readwrite' });
// MapViewOfFile(hMap, FILE_MAP_ALL_ACCESS, 0, 0, 8)
const view = mapping.map(0, 8);
const counter = new Int32Array(view.buffer); // [0]: atomic counter, [1]: plain counter
console.log(`shared memory: /dev/shm${mapping.shmName}`);

const start = await Event.create(`${name}-start`, { manualReset: true });
const ready = await Semaphore.create(`${name}-ready`, { initialCount: 0, maximumCount: workers });
try {
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ProcessHandle[] = [];
  for (let i = 0; i < workers; i++) {
    // process.execArgv carries tsx's loader, so the workers run TypeScript too.
    const args = [...process.execArgv, worker, name, String(increments), String(i)];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  for (let i = 0; i < workers; i++) await ready.wait(); // each unit: a worker waiting at `start`
  await start.set();
  // WaitForMultipleObjects(n, hProcesses, TRUE, INFINITE)
  await waitAll(children);
  const expected = workers * increments;
  const total = Atomics.load(counter, 0);
  console.log(`total: ${total} (expected ${expected}: ${workers} workers × ${increments})`);
  const plain = Atomics.load(counter, 1);
  console.log(`plain increments without Atomics: ${plain} (${expected - plain} lost to interleaving)`);
  for (const c of children) await c.close();
  if (total !== expected || children.some((c) => c.exitCode !== 0)) process.exitCode = 1;
} finally {
  await view.unmap(); // UnmapViewOfFile
  await mapping.close(); // CloseHandle: the last handle and view gone, the memory is freed
  await start.close();
  await ready.close();
}

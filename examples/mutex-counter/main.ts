/**
 * The seed's mutex example across processes: a counter shared by several workers, each
 * adding to it under one named mutex (CreateMutex / WaitForSingleObject / ReleaseMutex).
 * Here the workers are processes and the counter lives in a file, so without the mutex
 * their read-add-write steps would overwrite each other. The main program waits for all
 * of them with waitAll over their process handles and prints the exact total.
 *
 *   npx tsx examples/mutex-counter/main.ts [WORKERS=4] [ITERATIONS=250]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mutex, ProcessHandle, waitAll } from '../../src/client/index.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-mutex-counter';

const workers = Number(process.argv[2] ?? 4);
const iterations = Number(process.argv[3] ?? 250);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-example-'));
const counterFile = path.join(dir, 'counter');
fs.writeFileSync(counterFile, '0');

// CreateMutex(NULL, FALSE, name): not owned; the name lives while a handle to it is open.
const name = `counter-lock-${process.pid}`;
const mutex = await Mutex.create(name);
try {
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ProcessHandle[] = [];
  for (let i = 0; i < workers; i++) {
    // process.execArgv carries tsx's loader, so the workers run TypeScript too.
    const args = [...process.execArgv, worker, name, counterFile, String(iterations), String(i)];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  // WaitForMultipleObjects(n, hProcesses, TRUE, INFINITE)
  await waitAll(children);
  const total = Number(fs.readFileSync(counterFile, 'utf8'));
  const expected = workers * iterations;
  const failed = children.filter((c) => c.exitCode !== 0).length;
  console.log(`total: ${total} (expected ${expected}: ${workers} workers × ${iterations})`);
  for (const c of children) await c.close();
  if (total !== expected || failed > 0) process.exitCode = 1;
} finally {
  await mutex.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The seed's manual-reset event as a barrier: "multiple threads can be released when a
 * single event is signaled". N worker processes wait at a gate, a manual-reset event;
 * one set() releases every one of them at once, and the event stays signaled until reset.
 *
 * To know that every worker is really waiting before it opens the gate, the main program
 * has each worker release a `ready` semaphore and start waiting on the gate in one step
 * (signalAndWait, Win32's SignalObjectAndWait), and takes N units from `ready`.
 *
 *   npx tsx examples/event-gate/main.ts [WORKERS=5]
 */
import { fileURLToPath } from 'node:url';
import { Event, ProcessHandle, Semaphore, waitAll } from '../../src/client/index.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-event-gate';

const workers = Number(process.argv[2] ?? 5);
// CreateEvent(NULL, TRUE /* manual reset */, FALSE /* not signaled */, name)
const gateName = `gate-${process.pid}`;
const gate = await Event.create(gateName, { manualReset: true, initialState: false });
const readyName = `gate-ready-${process.pid}`;
const ready = await Semaphore.create(readyName, { initialCount: 0, maximumCount: workers });
try {
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ProcessHandle[] = [];
  for (let i = 0; i < workers; i++) {
    const args = [...process.execArgv, worker, gateName, readyName, String(i)];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  // Each unit of `ready` is a worker already waiting at the gate.
  for (let i = 0; i < workers; i++) await ready.wait();
  console.log(`${(await gate.query()).waiters} workers waiting at the gate; opening it`);
  await gate.set(); // SetEvent: every waiter is released, and the gate stays open
  await waitAll(children);
  const signaled = (await gate.query()).signaled;
  console.log(`all ${workers} workers released by one set(); the gate is still ${signaled ? 'open' : 'closed'}`);
  for (const c of children) await c.close();
  if (children.some((c) => c.exitCode !== 0)) process.exitCode = 1;
} finally {
  await gate.close();
  await ready.close();
}

/**
 * One worker thread of the critical-section-counter example: `iterations` times, enter the
 * critical section, add one to the shared counter, leave it.
 *
 * workerData: { state, counter, iterations, index }
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { CriticalSection, type CriticalSectionState } from '../../src/client/index.ts';

const { state, counter, iterations, index } = workerData as {
  state: CriticalSectionState;
  counter: SharedArrayBuffer;
  iterations: number;
  index: number;
};

// The same critical section as the main thread's, from the state it shared.
const crit = CriticalSection.from(state);
const shared = new Int32Array(counter);
let added = 0;
for (let i = 0; i < iterations; i++) {
  crit.enter(); // EnterCriticalSection(&crit): blocks this worker only
  try {
    shared[0] = shared[0]! + 1; // counter += local_value
    added++;
  } finally {
    crit.leave(); // LeaveCriticalSection(&crit), once per enter
  }
}
parentPort!.postMessage({ index, threadId, added });

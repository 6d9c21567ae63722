/**
 * One worker of the event-gate example: say it is ready and wait at the gate, in one step,
 * then report that it went through.
 *
 * usage: worker.ts GATE_EVENT READY_SEMAPHORE INDEX
 */
import { Event, Semaphore, signalAndWait } from '../../src/client/index.ts';

const [gateName, readyName, index] = process.argv.slice(2) as [string, string, string];
const gate = await Event.open(gateName);
const ready = await Semaphore.open(readyName);
// SignalObjectAndWait(ready, gate, INFINITE, FALSE): once `ready` counts us, we are waiting.
const status = await signalAndWait(ready, gate);
console.log(`worker ${index} (pid ${process.pid}) went through the gate (${status})`);
await gate.close();
await ready.close();

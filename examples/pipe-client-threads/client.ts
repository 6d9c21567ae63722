/**
 * One client of the client-threads example: connect to the pipe — when every instance is
 * serving another client (ERROR_PIPE_BUSY), wait for one to listen (WaitNamedPipe) and try
 * again, as a Windows client does — then send REQUESTS requests and check each answer.
 *
 * Before its first request it reports to the main program that it has tried to connect
 * (a unit of the ARRIVED semaphore) and waits at the GATE event, so that the clients that
 * got an instance at once keep it until every client has tried.
 *
 * usage: client.ts PIPE INDEX REQUESTS ARRIVED_SEMAPHORE GATE_EVENT
 */
import { Event, IpcError, NamedPipe, Semaphore, signalAndWait, waitNamedPipe } from '../../src/client/index.ts';
import { encode, parseAnswer, type Request } from './messages.ts';

const [name, indexArg, requestsArg, arrivedName, gateName] = process.argv.slice(2) as [string, string, string, string, string];
const index = Number(indexArg);
const requests = Number(requestsArg);
const arrived = await Semaphore.open(arrivedName);
const gate = await Event.open(gateName);

// CreateFile(name, GENERIC_READ | GENERIC_WRITE, ...)
let pipe: NamedPipe | undefined;
let waits = 0;
while (pipe === undefined) {
  try {
    pipe = await NamedPipe.open(name);
  } catch (e) {
    if (!(e instanceof IpcError && e.code === 'ERROR_PIPE_BUSY')) throw e;
    if (waits === 0) {
      console.log(`client ${index} (pid ${process.pid}): all instances busy; waiting (WaitNamedPipe)`);
      await arrived.release();
    }
    waits++;
    // WaitNamedPipe(name, NMPWAIT_WAIT_FOREVER): another client may still take the instance first.
    await waitNamedPipe(name, Infinity);
  }
}
if (waits === 0) await signalAndWait(arrived, gate); // tried, and connected: hold the instance until the gate opens
else await gate.wait();

// SetNamedPipeHandleState(PIPE_READMODE_MESSAGE): one read, one answer.
await pipe.setState({ readMode: 'message' });
let correct = 0;
const instances = new Set<number>();
for (let seq = 0; seq < requests; seq++) {
  const request: Request = { client: index, seq, n: Math.floor(Math.random() * 10_000) };
  await pipe.write(encode(request)); // WriteFile: the request
  const a = parseAnswer(await pipe.readMessage()); // ReadFile: the answer
  if (a === undefined || a.client !== index || a.seq !== seq || a.square !== request.n * request.n) {
    console.log(`client ${index} (pid ${process.pid}): wrong answer to request ${seq} (n = ${request.n}): ${JSON.stringify(a)}`);
    continue;
  }
  correct++;
  instances.add(a.instance);
}
await pipe.close(); // CloseHandle: our client thread reads ERROR_BROKEN_PIPE and lets the instance go
await arrived.close();
await gate.close();

const how = waits === 0 ? 'connected at once' : `after ${waits} WaitNamedPipe`;
console.log(`client ${index} (pid ${process.pid}): ${correct} of ${requests} answers correct, from instance ${[...instances].join(', ')} (${how})`);
if (correct !== requests || instances.size !== 1) process.exitCode = 1;

/**
 * The seed's named-pipe server with client threads: the server creates instance after
 * instance of one pipe, waits for a client on each (ConnectNamedPipe) and hands it to a
 * client thread that reads request messages and writes answer messages until the client
 * goes away. Here the server runs in this process, its client threads are async tasks, and
 * the clients are processes; the pipe has fewer instances than there are clients, so some
 * find them all busy and wait for one (WaitNamedPipe).
 *
 * So that this shows on every run, the clients that connect at once hold their instance
 * (they wait at a gate, a manual-reset event) until every client has tried to connect
 * (each releases a semaphore once); only then does the main program open the gate.
 *
 *   npx tsx examples/pipe-client-threads/main.ts [CLIENTS=6] [REQUESTS=5] [INSTANCES=4]
 */
import { fileURLToPath } from 'node:url';
import { Event, ProcessHandle, Semaphore, waitAll, waitAny } from '../../src/client/index.ts';
import { ClientThreadsServer, type ServerReport } from './server.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-pipe-client-threads';

const clients = Number(process.argv[2] ?? 6);
const requests = Number(process.argv[3] ?? 5);
const maxInstances = Number(process.argv[4] ?? 4);
if (![clients, requests, maxInstances].every(Number.isInteger) || clients < 1 || clients > 63 || requests < 1 || maxInstances < 1 || maxInstances > 254) {
  console.error('usage: main.ts [CLIENTS (1-63)] [REQUESTS (1 or more)] [INSTANCES (1-254)]');
  process.exit(1);
}

const name = `\\\\.\\pipe\\client-threads-${process.pid}`;
const arrivedName = `client-threads-arrived-${process.pid}`;
const gateName = `client-threads-gate-${process.pid}`;
const arrived = await Semaphore.create(arrivedName, { initialCount: 0, maximumCount: clients });
const gate = await Event.create(gateName, { manualReset: true, initialState: false });

const server = await ClientThreadsServer.create(name, maxInstances, (line) => console.log(line));
console.log(`server: pipe ${name}, at most ${maxInstances} instances, ${clients} clients`);
const stop = new AbortController();
const serving = server.run(clients, stop.signal);

const client = fileURLToPath(new URL('./client.ts', import.meta.url));
const children: ProcessHandle[] = [];
let report: ServerReport;
let early: string | undefined;
try {
  for (let i = 0; i < clients; i++) {
    const args = [...process.execArgv, client, name, String(i), String(requests), arrivedName, gateName];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  // One unit of `arrived` per client that has tried to connect. A client that exits first has failed.
  for (let i = 0; i < clients; i++) {
    const { index } = await waitAny([arrived, ...children]);
    if (index !== 0) throw new Error(`client ${index - 1} exited before it tried to connect`);
  }
  console.log(`all ${clients} clients have tried to connect; opening the gate`);
  await gate.set();
  await waitAll(children);
} catch (e) {
  early = (e as Error).message;
} finally {
  // Clients still running (none, when all went well) are stopped, and the loop stops waiting for more.
  for (const c of children) if (c.exitCode === null) c.child?.kill();
  stop.abort();
  report = await serving;
  for (const c of children) await c.close();
  await arrived.close();
  await gate.close();
}

const { sessions, instances, peak, failures } = report;
console.log(`server: ${sessions} clients served by ${instances} instances, ${report.requests} requests answered, at most ${peak} clients at once`);
const ok = early === undefined && failures.length === 0 && sessions === clients && report.requests === clients * requests && children.every((c) => c.exitCode === 0);
if (ok) console.log(`all ${clients}×${requests} answers correct`);
else {
  console.log(`FAILED: ${early ?? `${children.filter((c) => c.exitCode !== 0).length} clients failed, ${failures.length} client threads failed`}`);
  process.exitCode = 1;
}

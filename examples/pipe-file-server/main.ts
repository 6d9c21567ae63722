/**
 * The seed's file server over a named pipe: the server makes a message pipe with a single
 * instance and serves one client at a time — connect, read the request (a file name), send
 * the file one line per message, disconnect — while the client waits for the pipe
 * (WaitNamedPipe), opens it, switches to message read mode, asks for the file and prints
 * each line it receives.
 *
 * Here the server runs in this process and the clients are processes, started together:
 * they queue for the one instance. The main program collects what each client printed,
 * shows it, and checks it is the file, line for line.
 *
 *   npx tsx examples/pipe-file-server/main.ts [FILE] [--clients N=3]
 *
 * Without FILE it serves a short text of its own, written to a temporary directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessHandle, waitAll } from '../../src/client/index.ts';
import { createFileServerPipe, linesOf, serveFiles } from './server.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-pipe-file-server';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { clients: { type: 'string', default: '3' } } });
const clients = Number(values.clients);
if (!Number.isInteger(clients) || clients < 1 || clients > 64 || positionals.length > 1) {
  console.error('usage: main.ts [FILE] [--clients N (1-64)]');
  process.exit(1);
}

const DEFAULT_TEXT = `CreateNamedPipe: one instance of a message pipe.
ConnectNamedPipe waits for a client.
ReadFile takes its request: a file name.
WriteFile sends the file, one line per message.
DisconnectNamedPipe makes room for the next client.
`;
let tempDir: string | undefined;
let file = positionals[0];
if (file === undefined) {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-example-'));
  file = path.join(tempDir, 'steps.txt');
  fs.writeFileSync(file, DEFAULT_TEXT);
}
file = path.resolve(file);
let expected: string;
try {
  expected = fs.readFileSync(file, 'utf8');
} catch (e) {
  console.error(`cannot read ${file}: ${(e as Error).message}`);
  process.exit(1);
}
const base = path.basename(file);

const name = `\\\\.\\pipe\\file-server-${process.pid}`;
const pipe = await createFileServerPipe(name);
console.log(`server: pipe ${name}, 1 instance, message mode`);
const stop = new AbortController();
const serving = serveFiles(pipe, clients, stop.signal, (line) => console.log(line));

const client = fileURLToPath(new URL('./client.ts', import.meta.url));
const children: ProcessHandle[] = [];
const outputs: Promise<string>[] = [];
let served = 0;
try {
  for (let i = 0; i < clients; i++) {
    const c = await ProcessHandle.spawn(process.execPath, [...process.execArgv, client, name, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    outputs.push(text(c.child!.stdout!));
  }
  await waitAll(children);
} finally {
  // Clients still running (none, when all went well) are stopped, and the loop stops waiting for more.
  for (const c of children) if (c.exitCode === null) c.child?.kill();
  stop.abort();
  served = await serving;
  await pipe.close();
  for (const c of children) await c.close();
  if (tempDir !== undefined) fs.rmSync(tempDir, { recursive: true, force: true });
}

// What each client printed, and whether it is the file.
const want = linesOf(expected);
let good = 0;
for (const [i, c] of children.entries()) {
  const got = await outputs[i]!;
  for (const line of linesOf(got)) console.log(`client ${i} (pid ${c.pid}) | ${line.replace(/\n$/, '')}`);
  const same = got === expected;
  if (same && c.exitCode === 0) good++;
  const verdict = same ? `the same as ${base}` : `NOT the same as ${base} (${want.length} lines, ${Buffer.byteLength(expected)} bytes)`;
  console.log(`client ${i} (pid ${c.pid}): ${linesOf(got).length} lines, ${Buffer.byteLength(got)} bytes, ${verdict}; exit code ${c.exitCode}`);
}
if (good === clients && served === clients) console.log(`${clients} clients, each got the ${want.length} lines of ${base} in order`);
else {
  console.log(`FAILED: ${clients - good} of ${clients} clients did not get ${base}; ${served} requests served`);
  process.exitCode = 1;
}

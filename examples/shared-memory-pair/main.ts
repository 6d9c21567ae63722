/**
 * The seed's shared memory between two processes (CreateFileMapping "xxx" in one,
 * OpenFileMapping "xxx" in the other, each mapping a view): the writer — this program —
 * creates a named mapping and a reader process opens it by name. The reader maps its view
 * first and says so; the writer then writes a message into its own view and sets an event,
 * and the reader, woken by it, reads the message from the memory it had already mapped.
 * No copy passes through the object manager: it only names the mapping and the events.
 *
 * By default the mapping is backed by memory (the pagefile case, CreateFileMapping with
 * INVALID_HANDLE_VALUE); with `--file PATH` it is backed by that file (CreateFile "zzz",
 * then CreateFileMapping on it), and after a flush the message is in the file too.
 *
 *   npx tsx examples/shared-memory-pair/main.ts [MESSAGE] [--file PATH]
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Event, FileMapping, ProcessHandle, waitAny } from '../../src/client/index.ts';
import { SIZE, readMessage, writeMessage } from './layout.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-shared-memory-pair';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { file: { type: 'string' } } });
const message = positionals[0] ?? `Hello from process ${process.pid} through shared memory!`;
const file = values.file;

const name = `shared-memory-pair-${process.pid}`;
let mapping: FileMapping;
if (file === undefined) {
  // CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, SIZE, name)
  mapping = await FileMapping.create(name, { size: SIZE, protect: 'readwrite' });
  console.log(`mapping ${name}: ${mapping.size} bytes of shared memory, /dev/shm${mapping.shmName}`);
} else {
  // CreateFile(file, ...); CreateFileMapping(hFile, NULL, PAGE_READWRITE, 0, SIZE, name):
  // the file is created empty here and grown to SIZE by the mapping.
  fs.writeFileSync(file, '');
  mapping = await FileMapping.create(name, { file, size: SIZE, protect: 'readwrite' });
  console.log(`mapping ${name}: ${mapping.size} bytes backed by the file ${file}`);
}
// MapViewOfFile(hMap, FILE_MAP_WRITE, 0, 0, 0): the whole section.
const view = mapping.map();
// Auto-reset events: `mapped` says the reader has its view, `written` that the message is there.
const mapped = await Event.create(`${name}-mapped`);
const written = await Event.create(`${name}-written`);
let reader: ProcessHandle | undefined;
try {
  const readerPath = fileURLToPath(new URL('./reader.ts', import.meta.url));
  // process.execArgv carries tsx's loader, so the reader runs TypeScript too.
  reader = await ProcessHandle.spawn(process.execPath, [...process.execArgv, readerPath, name], { stdio: 'inherit' });
  // The reader's view is mapped once `mapped` is set; should it die first, its handle is signaled instead.
  const { index } = await waitAny([mapped, reader]);
  if (index !== 0) throw new Error(`the reader exited (${reader.exitCode}) before mapping its view`);

  writeMessage(view.buffer, message);
  console.log(`writer (pid ${process.pid}) wrote: ${JSON.stringify(message)}`);
  await written.set(); // SetEvent: the reader may read now
  await reader.wait();
  if (reader.exitCode !== 0) process.exitCode = 1;

  if (file !== undefined) {
    // FlushViewOfFile: the view's pages are written to the file.
    await view.flush();
    const inFile = readMessage(new Uint8Array(fs.readFileSync(file)).buffer);
    console.log(`the file holds: ${JSON.stringify(inFile)}`);
    if (inFile !== message) process.exitCode = 1;
  }
} finally {
  await reader?.close();
  await view.unmap();
  await mapping.close();
  await mapped.close();
  await written.close();
}

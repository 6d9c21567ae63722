/**
 * The reader of the shared-memory-pair example: open the mapping by name for reading, map a
 * view, say so, and once the writer says the message is there, read it from that view.
 *
 * usage: reader.ts MAPPING_NAME
 */
import { Event, FileMapping, signalAndWait } from '../../src/client/index.ts';
import { readMessage } from './layout.ts';

const [name] = process.argv.slice(2) as [string];

// OpenFileMapping(FILE_MAP_READ, FALSE, name); MapViewOfFile(hMap, FILE_MAP_READ, 0, 0, 0)
const mapping = await FileMapping.open(name, { access: 'read' });
const view = mapping.map(0, undefined, { access: 'read' });
const mapped = await Event.open(`${name}-mapped`);
const written = await Event.open(`${name}-written`);
// SignalObjectAndWait(mapped, written, INFINITE, FALSE)
await signalAndWait(mapped, written);
console.log(`reader (pid ${process.pid}) read: ${JSON.stringify(readMessage(view.buffer))}`);

await view.unmap();
await mapping.close();
await mapped.close();
await written.close();

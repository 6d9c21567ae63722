/**
 * Copying between the terminal and a message channel: stdin in chunks or lines, stdout
 * with backpressure. What `pipe`, `mailslot` and `mq` share.
 */
import readline from 'node:readline';

/** Write to stdout, waiting for it to drain when it asks to. */
export async function writeOut(data: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(data)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/** Stdin as it comes (bytes), or one item per line without its newline. */
export async function* readStdin(lines: boolean): AsyncGenerator<Buffer> {
  if (!lines) {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) yield Buffer.from(line, 'utf8');
}

/** All of stdin. */
export async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

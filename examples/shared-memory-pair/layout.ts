/**
 * Where the message lives in the shared-memory-pair example's mapping: its length in bytes
 * as a 32-bit integer at offset 0, then its UTF-8 bytes.
 */
export const SIZE = 4096;
const MAX_BYTES = SIZE - 4;

export function writeMessage(buffer: ArrayBuffer, message: string): void {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length > MAX_BYTES) throw new RangeError(`the message is longer than ${MAX_BYTES} bytes`);
  new Uint8Array(buffer, 4, bytes.length).set(bytes);
  new DataView(buffer).setInt32(0, bytes.length, true);
}

export function readMessage(buffer: ArrayBuffer): string {
  const length = new DataView(buffer).getInt32(0, true);
  return Buffer.from(buffer, 4, Math.min(Math.max(length, 0), MAX_BYTES)).toString('utf8');
}

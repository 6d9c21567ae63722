/**
 * Parent side of test/fixtures/pipe-channel-peer.ts: one end of a pipe channel in a real
 * child process, driven op by op over the IPC channel (never on the measured path).
 */
import { fileURLToPath } from 'node:url';
import { forkChild, type Child } from './child-rpc.ts';

const peerPath = fileURLToPath(new URL('../fixtures/pipe-channel-peer.ts', import.meta.url));

export type Peer = Child;

export const spawnPeer = (): Promise<Peer> => forkChild(peerPath);

/** Message `seq` of `size` bytes: its seq in the first 4 bytes, then the byte seq % 251. */
export function numbered(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq % 251);
  b.writeUInt32LE(seq, 0);
  return b;
}

/**
 * Parent side of test/fixtures/pipe-channel-peer.ts: one end of a pipe channel in a real
 * child process, driven op by op over the IPC channel (never on the measured path).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const peerPath = fileURLToPath(new URL('../fixtures/pipe-channel-peer.ts', import.meta.url));

export class PeerError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface Peer {
  readonly pid: number;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** Kill it (SIGKILL by default) and await its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnPeer(): Promise<Peer> {
  const proc: ChildProcess = fork(peerPath, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = once(proc, 'exit');
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; code?: string; message?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new PeerError(m.code, m.message ?? 'peer failure'));
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`peer exited (${code ?? signal})`));
    waiting.clear();
  });
  await new Promise<void>((resolve, reject) => waiting.set(0, { resolve: () => resolve(), reject }));
  return {
    pid: proc.pid!,
    call<T>(op: string, ...args: unknown[]): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, op, args });
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await exited;
      }
    },
  };
}

/** Message `seq` of `size` bytes: its seq in the first 4 bytes, then the byte seq % 251. */
export function numbered(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq % 251);
  b.writeUInt32LE(seq, 0);
  return b;
}

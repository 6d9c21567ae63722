/**
 * SO_PEERCRED: the pid, uid and gid of the process at the other end of a Unix socket, as
 * the kernel recorded them at connect. The object manager trusts these, not what a client
 * says of itself.
 */
import { loadLibc } from './libc.ts';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

let getsockopt: ((fd: number, level: number, name: number, out: Buffer, len: Buffer) => number) | null | undefined;

/** The peer's credentials, or undefined where the OS cannot tell (not Linux, no koffi). */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } | undefined {
  if (getsockopt === undefined) {
    try {
      if (process.platform !== 'linux') throw new Error('SO_PEERCRED is Linux only');
      const { libc } = loadLibc();
      getsockopt = libc.func('int getsockopt(int, int, int, void *optval, void *optlen)') as unknown as typeof getsockopt;
    } catch {
      getsockopt = null;
    }
  }
  if (getsockopt === null || getsockopt === undefined) return undefined;
  const out = Buffer.alloc(12);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(12);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, len) !== 0) return undefined;
  return { pid: out.readInt32LE(0), uid: out.readUInt32LE(4), gid: out.readUInt32LE(8) };
}

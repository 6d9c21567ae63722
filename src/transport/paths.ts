/**
 * Where a namespace's object manager listens. Both sides compute it the same way:
 * NTIPC_SOCKET names the socket outright; otherwise it is `<runtime dir>/<namespace>.sock`
 * with the runtime directory private to the user (0700) and the namespace from
 * NTIPC_NAMESPACE (default `default`). A path too long for a Unix socket (108 bytes with
 * its NUL) is replaced by a short one under /tmp derived from a hash of the long one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IpcError } from '../errors.ts';

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

const NAMESPACE_RE = /^[A-Za-z0-9._-]{1,64}$/;

function uid(): number {
  return process.getuid?.() ?? 0;
}

/** The private runtime directory for this user. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NTIPC_RUNTIME_DIR) return path.resolve(env.NTIPC_RUNTIME_DIR);
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'ntipc');
  return path.join(os.tmpdir(), `ntipc-${uid()}`);
}

/** The socket path of the object manager for the namespace in force. */
export function socketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NTIPC_SOCKET) return shorten(path.resolve(env.NTIPC_SOCKET));
  const namespace = env.NTIPC_NAMESPACE ?? 'default';
  if (!NAMESPACE_RE.test(namespace)) {
    throw new IpcError('ERROR_INVALID_NAME', 'namespace', namespace, 'letters, digits, ".", "_" and "-", at most 64');
  }
  return shorten(path.join(runtimeDir(env), `${namespace}.sock`));
}

function shorten(p: string): string {
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return p;
  const hash = createHash('sha256').update(p).digest('hex').slice(0, 24);
  return path.join('/tmp', `ntipc-${uid()}`, `${hash}.sock`);
}

/**
 * Make the directory that holds `socket` if need be, private to this user (0700). A
 * directory of ntipc's own naming (`ntipc…`) that is a link, another user's, or open to
 * others is refused or tightened; a directory the user named through NTIPC_SOCKET that
 * already exists is left as it is (the socket file itself is made 0600).
 */
export function ensurePrivateDir(socket: string): void {
  const dir = path.dirname(socket);
  const created = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ours = created !== undefined || path.basename(dir).startsWith('ntipc');
  if (!ours) return;
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new IpcError('ERROR_ACCESS_DENIED', 'mkdir', dir, 'not a directory');
  if (st.uid !== uid()) throw new IpcError('ERROR_ACCESS_DENIED', 'mkdir', dir, 'owned by another user');
  // Made under a permissive umask, or left open by someone: tighten it.
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

/**
 * An abstract-namespace socket name tied to `socket`: listening on it is a lock that the
 * OS releases when the holder dies, however it dies. `role` separates the broker's lock
 * from the starters' lock.
 */
export function lockName(socket: string, role: 'broker' | 'start'): string {
  const hash = createHash('sha256').update(socket).digest('hex').slice(0, 32);
  return `\0ntipc-${role}-${uid()}-${hash}`;
}

/**
 * OS pipes through koffi: pipe2 (close-on-exec, blocking), the pipe's buffer size (fcntl
 * F_GETPIPE_SZ / F_SETPIPE_SZ), the bytes waiting in it (FIONREAD), its readiness (poll),
 * and a second, non-blocking open file description of one of its ends. O_NONBLOCK belongs to
 * an open file description, which a child given the fd shares: this process does its own I/O
 * on a description of its own, so the one a child inherits stays blocking.
 *
 * Linux only (pipe2, F_SETPIPE_SZ, /proc): elsewhere the first use fails ERROR_NOT_SUPPORTED.
 * A failing call throws IpcError with Windows' code for its errno ({@link pipeFailure}).
 */
import fs from 'node:fs';
import { IpcError, type StatusCode } from '../errors.ts';
import { loadLibc } from './libc.ts';
import { bindFunction, statusOfErrno } from './shm.ts';

// Linux's values (the generic ones: x86, arm, arm64, riscv).
const O_ACCMODE = 3;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_GETFD = 1;
const F_GETFL = 3;
const FD_CLOEXEC = 1;
const F_DUPFD_CLOEXEC = 1030;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const FIONREAD = 0x541b;

/** poll(2) event bits. */
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;

interface Libc {
  pipe2(fds: Int32Array, flags: number): number;
  fcntl(fd: number, cmd: number, ...vararg: unknown[]): number;
  ioctl(fd: number, request: number, ...vararg: unknown[]): number;
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  close(fd: number): number;
}

let bound: { c: Libc; errno: () => number; names: Map<number, string> } | undefined;

function native(): NonNullable<typeof bound> {
  if (bound !== undefined) return bound;
  if (process.platform !== 'linux') throw new IpcError('ERROR_NOT_SUPPORTED', 'CreatePipe', undefined, `anonymous pipes need Linux (this is ${process.platform})`);
  const { koffi, libc } = loadLibc();
  const fn = (decl: string) => bindFunction(libc, decl);
  const c = {
    pipe2: fn('int pipe2(_Out_ int *fds, int flags)'),
    // fcntl and ioctl are variadic; each call names the type of its extra argument.
    fcntl: fn('int fcntl(int fd, int cmd, ...)'),
    ioctl: fn('int ioctl(int fd, unsigned long request, ...)'),
    poll: fn('int poll(void *fds, unsigned long nfds, int timeout)'),
    close: fn('int close(int fd)'),
  } as unknown as Libc;
  const names = new Map<number, string>();
  for (const [name, n] of Object.entries((koffi as unknown as { os: { errno: Record<string, number> } }).os.errno)) if (!names.has(n)) names.set(n, name);
  bound = { c, errno: () => koffi.errno(), names };
  return bound;
}

/** errno names a pipe turns into other codes than files do. */
const pipeErrno: Record<string, StatusCode> = {
  EPIPE: 'ERROR_NO_DATA', // no reader: Windows' STATUS_PIPE_CLOSING
  ENXIO: 'ERROR_NO_DATA', // opening a write side with no reader
  EBADF: 'ERROR_INVALID_HANDLE',
};

/** The IpcError for a pipe call that failed with errno `name` ('EPIPE'). */
export function pipeFailure(name: string, syscall: string, detail?: string): IpcError {
  return new IpcError(pipeErrno[name] ?? statusOfErrno(name), syscall, undefined, detail ?? name);
}

/** The name of the errno the last libc call left ('EPIPE'). */
function lastErrno(): string {
  const { errno, names } = native();
  const n = errno();
  return names.get(n) ?? `errno ${n}`;
}

/** The IpcError for the errno a libc call left. */
function lastFailure(syscall: string): IpcError {
  return pipeFailure(lastErrno(), syscall);
}

/** Move a descriptor that landed on 0–2 (this process closed its stdio) above them: libuv never closes those. */
function aboveStdio(fd: number): number {
  if (fd > 2) return fd;
  const { c } = native();
  const moved = c.fcntl(fd, F_DUPFD_CLOEXEC, 'int', 3);
  const e = moved < 0 ? lastFailure('fcntl') : undefined;
  c.close(fd);
  if (e) throw e;
  return moved;
}

/** pipe2(O_CLOEXEC): a new pipe, both ends blocking and not inherited unless handed out. */
export function createOsPipe(): { read: number; write: number } {
  const { c } = native();
  const fds = new Int32Array(2);
  if (c.pipe2(fds, O_CLOEXEC) !== 0) throw lastFailure('pipe2');
  return { read: fds[0]!, write: fds[1]! };
}

/** The pipe's buffer size in bytes (F_GETPIPE_SZ). */
export function pipeSize(fd: number): number {
  const n = native().c.fcntl(fd, F_GETPIPE_SZ);
  if (n < 0) throw lastFailure('fcntl');
  return n;
}

let maxPipeSize: number | undefined;

/** /proc/sys/fs/pipe-max-size: the most F_SETPIPE_SZ grants a process without CAP_SYS_RESOURCE. */
export function pipeSizeLimit(): number {
  if (maxPipeSize === undefined) {
    try {
      maxPipeSize = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim()) || 1 << 20;
    } catch {
      maxPipeSize = 1 << 20; // the kernel's default
    }
  }
  return maxPipeSize;
}

/**
 * Ask for a buffer of `bytes` (F_SETPIPE_SZ) and return the size the pipe got. Linux rounds
 * up to a power-of-two number of pages and grants at most {@link pipeSizeLimit}; a request
 * it refuses (the user's pipe quota is used up: EPERM) leaves the size as it was — the size
 * is a suggestion, as CreatePipe's is.
 */
export function setPipeSize(fd: number, bytes: number): number {
  const { c } = native();
  const want = Math.max(1, Math.min(bytes, pipeSizeLimit()));
  if (c.fcntl(fd, F_SETPIPE_SZ, 'int', want) < 0) {
    const name = lastErrno();
    if (name !== 'EPERM' && name !== 'EBUSY') throw pipeFailure(name, 'fcntl');
  }
  return pipeSize(fd);
}

/** Bytes waiting in the pipe (FIONREAD). */
export function bytesInPipe(fd: number): number {
  const n = new Int32Array(1);
  if (native().c.ioctl(fd, FIONREAD, 'int *', n) !== 0) throw lastFailure('ioctl');
  return n[0]!;
}

/** poll(2) with timeout 0: the events of `events` (plus POLLERR / POLLHUP) that hold now. */
export function pollNow(fd: number, events: number): number {
  const pfd = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  if (native().c.poll(pfd, 1, 0) < 0) throw lastFailure('poll');
  return view.getInt16(6, true);
}

/** What kind of descriptor `fd` is: a pipe (or FIFO) or not, which way it is open, its flags. */
export function describeFd(fd: number): { pipe: boolean; access: 'read' | 'write' | 'readwrite'; nonBlocking: boolean; closeOnExec: boolean } {
  let pipe: boolean;
  try {
    pipe = fs.fstatSync(fd).isFIFO();
  } catch (e) {
    throw pipeFailure((e as NodeJS.ErrnoException).code ?? 'EBADF', 'fstat');
  }
  const { c } = native();
  const fl = c.fcntl(fd, F_GETFL);
  const fdFlags = c.fcntl(fd, F_GETFD);
  if (fl < 0 || fdFlags < 0) throw lastFailure('fcntl');
  const mode = fl & O_ACCMODE;
  return {
    pipe,
    access: mode === O_RDONLY ? 'read' : mode === O_WRONLY ? 'write' : 'readwrite',
    nonBlocking: (fl & O_NONBLOCK) !== 0,
    closeOnExec: (fdFlags & FD_CLOEXEC) !== 0,
  };
}

/**
 * A new, non-blocking open file description of the pipe `fd` belongs to, for reading or for
 * writing (through /proc/self/fd, which opens the pipe itself rather than duplicating `fd`),
 * close-on-exec. Opening the write side of a named FIFO that has no reader left fails
 * ERROR_NO_DATA (ENXIO); an anonymous pipe opens, and its writes then fail (EPIPE).
 */
export function openPipeDescription(fd: number, access: 'read' | 'write'): number {
  native();
  let opened: number;
  try {
    opened = fs.openSync(`/proc/self/fd/${fd}`, (access === 'read' ? fs.constants.O_RDONLY : fs.constants.O_WRONLY) | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT' && !fs.existsSync('/proc/self/fd')) throw new IpcError('ERROR_NOT_SUPPORTED', 'open', '/proc/self/fd', 'needs /proc');
    throw pipeFailure(code === 'ENOENT' ? 'EBADF' : code, 'open');
  }
  return aboveStdio(opened);
}

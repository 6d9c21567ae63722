/**
 * POSIX shared memory and memory mappings through koffi: shm_open, shm_unlink, open, close,
 * ftruncate, lseek, mmap, munmap, msync. Bound once, lazily, on first use; on a platform
 * that lacks a call (or koffi) the first use fails ERROR_NOT_SUPPORTED. A failing call
 * throws IpcError with Windows' code for its errno where Windows has one
 * ({@link statusOfErrno}), the errno's name in the message.
 */
import { constants as bufferConstants } from 'node:buffer';
import { IpcError, type StatusCode } from '../errors.ts';
import { loadLibc } from './libc.ts';

/** A koffi pointer (an opaque external). */
type Pointer = object;

interface Libc {
  shm_open(name: string, flags: number, mode: number): number;
  shm_unlink(name: string): number;
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  ftruncate(fd: number, length: number): number;
  lseek(fd: number, offset: number, whence: number): number | bigint;
  mmap(addr: Pointer | null, length: number, prot: number, flags: number, fd: number, offset: number): Pointer;
  munmap(addr: Pointer, length: number): number;
  msync: ((addr: Pointer, length: number, flags: number) => number) & {
    async(addr: Pointer, length: number, flags: number, done: (err: unknown, result: number) => void): void;
  };
}

/** The flag values of this platform (they differ between Linux and macOS). */
const platformFlags = {
  linux: { O_CREAT: 0o100, O_EXCL: 0o200, O_CLOEXEC: 0o2000000, MAP_FIXED: 0x10, MAP_ANONYMOUS: 0x20, MAP_NORESERVE: 0x4000, MS_SYNC: 4 },
  darwin: { O_CREAT: 0x200, O_EXCL: 0x800, O_CLOEXEC: 0x100_0000, MAP_FIXED: 0x10, MAP_ANONYMOUS: 0x1000, MAP_NORESERVE: 0x40, MS_SYNC: 0x10 },
} as const;
const O_RDONLY = 0;
const O_RDWR = 2;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const SEEK_END = 2;

type Koffi = ReturnType<typeof loadLibc>['koffi'];

let bound: { koffi: Koffi; c: Libc; flags: (typeof platformFlags)[keyof typeof platformFlags] } | undefined;

/** The bindings, made on first use. */
function native(): NonNullable<typeof bound> {
  if (bound !== undefined) return bound;
  const flags = platformFlags[process.platform as keyof typeof platformFlags];
  if (flags === undefined) throw new IpcError('ERROR_NOT_SUPPORTED', 'mmap', undefined, `shared memory is not supported on ${process.platform}`);
  const { koffi, libc } = loadLibc();
  const fn = (decl: string) => bindFunction(libc, decl);
  let shmOpen: unknown;
  let shmUnlink: unknown;
  try {
    shmOpen = fn('int shm_open(const char *name, int oflag, uint32_t mode)');
    shmUnlink = fn('int shm_unlink(const char *name)');
  } catch (e) {
    // Before glibc 2.34 the shm calls live in librt.
    let rt: ReturnType<Koffi['load']>;
    try {
      rt = koffi.load('librt.so.1');
    } catch {
      throw e;
    }
    shmOpen = bindFunction(rt, 'int shm_open(const char *name, int oflag, uint32_t mode)');
    shmUnlink = bindFunction(rt, 'int shm_unlink(const char *name)');
  }
  const c = {
    shm_open: shmOpen,
    shm_unlink: shmUnlink,
    // open is variadic in C; declared with its three fixed arguments, as koffi needs.
    open: fn('int open(const char *path, int flags, uint32_t mode)'),
    close: fn('int close(int fd)'),
    ftruncate: fn('int ftruncate(int fd, int64_t length)'),
    lseek: fn('int64_t lseek(int fd, int64_t offset, int whence)'),
    mmap: fn('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: fn('int munmap(void *addr, size_t length)'),
    msync: fn('int msync(void *addr, size_t length, int flags)'),
  } as unknown as Libc;
  bound = { koffi, c, flags };
  return bound;
}

/**
 * Bind one C function of `lib` from its declaration; a function the library lacks fails
 * ERROR_NOT_SUPPORTED naming it.
 */
export function bindFunction(lib: { func(decl: string): unknown }, decl: string): unknown {
  try {
    return lib.func(decl);
  } catch (e) {
    const name = /(\w+)\s*\(/.exec(decl)?.[1] ?? decl;
    throw new IpcError('ERROR_NOT_SUPPORTED', name, undefined, (e as Error).message);
  }
}

/** errno → Windows status, where Windows has a matching one; the rest are ERROR_INVALID_FUNCTION. */
const errnoStatus: Record<string, StatusCode> = {
  ENOENT: 'ERROR_FILE_NOT_FOUND',
  ENOTDIR: 'ERROR_PATH_NOT_FOUND',
  EACCES: 'ERROR_ACCESS_DENIED',
  EPERM: 'ERROR_ACCESS_DENIED',
  EISDIR: 'ERROR_ACCESS_DENIED',
  EROFS: 'ERROR_ACCESS_DENIED',
  ETXTBSY: 'ERROR_ACCESS_DENIED',
  ENOMEM: 'ERROR_NOT_ENOUGH_MEMORY',
  EFBIG: 'ERROR_NOT_ENOUGH_MEMORY',
  EOVERFLOW: 'ERROR_NOT_ENOUGH_MEMORY',
  EINVAL: 'ERROR_INVALID_PARAMETER',
  EEXIST: 'ERROR_ALREADY_EXISTS',
  EBADF: 'ERROR_INVALID_HANDLE',
  ENAMETOOLONG: 'ERROR_FILENAME_EXCED_RANGE',
  EMFILE: 'ERROR_NOT_ENOUGH_QUOTA',
  ENFILE: 'ERROR_NOT_ENOUGH_QUOTA',
  ENOSPC: 'ERROR_DISK_FULL',
  EDQUOT: 'ERROR_DISK_FULL',
  EIO: 'ERROR_IO_DEVICE',
  ENOSYS: 'ERROR_NOT_SUPPORTED',
  ENODEV: 'ERROR_NOT_SUPPORTED',
  EOPNOTSUPP: 'ERROR_NOT_SUPPORTED',
};

let errnoNames: Map<number, string> | undefined;

/** The name of an errno value on this platform ('ENOENT'), or `errno <n>`. */
export function errnoName(errno: number): string {
  if (errnoNames === undefined) {
    errnoNames = new Map();
    const table = (native().koffi as unknown as { os: { errno: Record<string, number> } }).os.errno;
    for (const [name, n] of Object.entries(table)) if (!errnoNames.has(n)) errnoNames.set(n, name);
  }
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The Windows status for an errno name. */
export function statusOfErrno(name: string): StatusCode {
  return errnoStatus[name] ?? 'ERROR_INVALID_FUNCTION';
}

/** The IpcError for the errno the last call left. */
function failure(syscall: string, path?: string, errno = native().koffi.errno()): IpcError {
  const name = errnoName(errno);
  return new IpcError(statusOfErrno(name), syscall, path, `${name} (${errno})`);
}

/**
 * Create the shared memory object `name` (a POSIX name: `/` then no slash) of `size` bytes,
 * mode 0600. Fails ERROR_ALREADY_EXISTS when the name is taken.
 */
export function shmCreate(name: string, size: number): void {
  const { c, flags } = native();
  const fd = c.shm_open(name, O_RDWR | flags.O_CREAT | flags.O_EXCL | flags.O_CLOEXEC, 0o600);
  if (fd < 0) throw failure('shm_open', name);
  try {
    if (c.ftruncate(fd, size) !== 0) {
      const e = failure('ftruncate', name);
      c.shm_unlink(name);
      throw e;
    }
  } finally {
    c.close(fd);
  }
}

/** Open the shared memory object `name`, for reading and writing or for reading only; its fd. */
export function shmOpen(name: string, writable: boolean): number {
  const { c, flags } = native();
  const fd = c.shm_open(name, (writable ? O_RDWR : O_RDONLY) | flags.O_CLOEXEC, 0);
  if (fd < 0) throw failure('shm_open', name);
  return fd;
}

/** Remove the name of a shared memory object; whoever has it mapped keeps the memory. */
export function shmUnlink(name: string): void {
  if (native().c.shm_unlink(name) !== 0) throw failure('shm_unlink', name);
}

/** Open an existing file for reading and writing or for reading only; its fd. */
export function openFile(path: string, writable: boolean): number {
  const { c, flags } = native();
  const fd = c.open(path, (writable ? O_RDWR : O_RDONLY) | flags.O_CLOEXEC, 0);
  if (fd < 0) throw failure('open', path);
  return fd;
}

export function closeFd(fd: number): void {
  if (native().c.close(fd) !== 0) throw failure('close');
}

/** The size of the file (or shared memory object) open as `fd`. */
export function fileSize(fd: number): number {
  const n = Number(native().c.lseek(fd, 0, SEEK_END));
  if (n < 0) throw failure('lseek');
  return n;
}

/** Set the size of the file (or shared memory object) open as `fd`; growing it adds zeros. */
export function truncate(fd: number, size: number, path?: string): void {
  if (native().c.ftruncate(fd, size) !== 0) throw failure('ftruncate', path);
}

/** The longest mapping an ArrayBuffer can cover in this Node (4 GiB on Node 20). */
export const MAX_MAPPING = bufferConstants.MAX_LENGTH;

/** A mapping of part of a file or shared memory object, and the ArrayBuffer over it. */
export interface Mapping {
  readonly pointer: Pointer;
  readonly length: number;
  readonly buffer: ArrayBuffer;
}

/**
 * Map `length` bytes of `fd` from `offset` (a multiple of the page size), readable and
 * writable. `shared`: writes reach the object and every other mapping of it. `private`:
 * copy-on-write — pages read as the object until this mapping writes them, and writes stay
 * in this process (so a stray write to a read-only view cannot fault).
 */
export function mapMemory(fd: number, offset: number, length: number, sharing: 'shared' | 'private'): Mapping {
  const { koffi, c } = native();
  if (!(length > 0 && length <= MAX_MAPPING)) {
    throw new IpcError('ERROR_NOT_ENOUGH_MEMORY', 'mmap', undefined, `a view of ${length} bytes (at most ${MAX_MAPPING} fit an ArrayBuffer)`);
  }
  const pointer = c.mmap(null, length, PROT_READ | PROT_WRITE, sharing === 'shared' ? MAP_SHARED : MAP_PRIVATE, fd, offset);
  if (koffi.address(pointer) === MAP_FAILED) throw failure('mmap');
  return { pointer, length, buffer: koffi.view(pointer, length) };
}

const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/**
 * Put private zero pages in place of a mapping, at the same addresses and in one step: the
 * object's memory is let go, while an ArrayBuffer still over the range reads zeros (and
 * writes privately) instead of faulting. {@link unmapMemory} frees the range for good.
 */
export function retireMemory(m: Mapping): void {
  const { koffi, c, flags } = native();
  const p = c.mmap(m.pointer, m.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | flags.MAP_FIXED | flags.MAP_ANONYMOUS | flags.MAP_NORESERVE, -1, 0);
  if (koffi.address(p) === MAP_FAILED) throw failure('mmap');
}

/** Unmap a range. Nothing may touch an ArrayBuffer over it afterwards: it would fault. */
export function unmapMemory(pointer: Pointer, length: number): void {
  if (native().c.munmap(pointer, length) !== 0) throw failure('munmap');
}

/** msync(MS_SYNC) on the thread pool: resolves once the mapping's changes are written to its file. */
export function syncMemory(m: Mapping): Promise<void> {
  const { c, flags } = native();
  return new Promise((resolve, reject) => {
    c.msync.async(m.pointer, m.length, flags.MS_SYNC, (err, result) => {
      if (err) reject(err);
      else if (result === 0) resolve();
      else {
        // errno does not come back from the thread pool: ask again here to learn it.
        const again = c.msync(m.pointer, m.length, flags.MS_SYNC);
        reject(again === 0 ? new IpcError('ERROR_IO_DEVICE', 'msync') : failure('msync'));
      }
    });
  });
}

/**
 * An exclusive, non-blocking flock(2) on a file: the way one process claims a directory of
 * state for itself. The OS drops the lock when the holder closes the file or dies, however it
 * dies, so a SIGKILLed holder never leaves a stale lock behind. Unlike an abstract socket it
 * is tied to the file, so it holds across network namespaces too.
 */
import fs from 'node:fs';
import { IpcError } from '../errors.ts';
import { loadLibc } from './libc.ts';
import { bindFunction, errnoName, statusOfErrno } from './shm.ts';

const LOCK_EX = 2;
const LOCK_NB = 4;

let flock: ((fd: number, operation: number) => number) | undefined;

/** A held lock; {@link release} gives it back (closing the file). */
export class FileLock {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /**
   * Take the lock on `path` (created 0600 if missing) and write this process's pid into it.
   * Fails ERROR_SHARING_VIOLATION when another open file holds it (another process, or
   * another FileLock of this one), naming the holder's pid when it wrote one.
   */
  static acquire(path: string): FileLock {
    flock ??= bindFunction(loadLibc().libc, 'int flock(int fd, int operation)') as typeof flock;
    // Node opens with O_CLOEXEC: children of the holder do not inherit the lock.
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    try {
      if (flock!(fd, LOCK_EX | LOCK_NB) !== 0) {
        const name = errnoName(loadLibc().koffi.errno());
        if (name === 'EWOULDBLOCK' || name === 'EAGAIN') {
          const holder = fs.readFileSync(fd, 'utf8').trim();
          throw new IpcError('ERROR_SHARING_VIOLATION', 'flock', path, `locked by ${/^\d+$/.test(holder) ? `process ${holder}` : 'another process'}`);
        }
        throw new IpcError(statusOfErrno(name), 'flock', path, name);
      }
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
      return new FileLock(path, fd);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Give the lock back. Idempotent. */
  release(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}

/**
 * The kernel's view of the OS: processes, from /proc and kill(pid, 0); POSIX shared memory
 * objects for sections, created and removed through the native layer.
 */
import fs from 'node:fs';
import { IpcError, StatusError } from '../errors.ts';
import type { Host } from '../kernel/kernel.ts';
import { shmCreate, shmUnlink } from '../native/shm.ts';

/** Fields of /proc/PID/stat after the command name: state, ppid, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export const osHost: Host = {
  processAlive(pid) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
    // A zombie has exited; only its parent has not collected it yet.
    const fields = statFields(pid);
    return fields === undefined ? process.platform !== 'linux' : fields[0] !== 'Z' && fields[0] !== 'X';
  },
  parentPid(pid) {
    const ppid = statFields(pid)?.[1];
    return ppid === undefined ? undefined : Number(ppid);
  },
  createSharedMemory: (size) => createSharedMemory(size),
  unlinkSharedMemory: (name) => unlinkSharedMemory(name),
};

/*
 * Shared memory objects are named /ntipc-<uid>-<pid>-<n>: ours by the prefix and the uid,
 * unique by this process's pid and a counter. Those still alive when this process exits are
 * removed then; those of an object manager that died without exiting (SIGKILL) are removed
 * by the next one to create a section.
 */
const SHM_DIR = '/dev/shm';
const uid = process.getuid?.() ?? 0;
const shmPattern = new RegExp(`^ntipc-${uid}-(\\d+)-\\d+$`);
const liveShm = new Set<string>();
let shmCounter = 0;
let swept = false;

function createSharedMemory(size: number): string {
  try {
    if (!swept) {
      swept = true;
      sweepStaleSharedMemory();
      process.once('exit', () => {
        for (const name of liveShm) unlinkQuietly(name);
      });
    }
    // tmpfs hands out pages on first touch, and a touch it cannot back faults the process;
    // refuse up front a section the whole of /dev/shm could not hold, as Windows refuses
    // one past the commit limit.
    const space = freeShmSpace();
    if (space !== undefined && size > space) {
      throw new StatusError('ERROR_NOT_ENOUGH_MEMORY', `${size} bytes of shared memory, ${space} free in ${SHM_DIR}`);
    }
    const name = `/ntipc-${uid}-${process.pid}-${++shmCounter}`;
    try {
      shmCreate(name, size);
    } catch (e) {
      // Left by an earlier process of this pid: it is dead, so the name is stale.
      if (!(e instanceof IpcError && e.code === 'ERROR_ALREADY_EXISTS')) throw e;
      unlinkQuietly(name);
      shmCreate(name, size);
    }
    liveShm.add(name);
    return name;
  } catch (e) {
    if (e instanceof IpcError) throw new StatusError(e.code, e.message);
    throw e;
  }
}

function unlinkSharedMemory(name: string): void {
  liveShm.delete(name);
  unlinkQuietly(name);
}

function unlinkQuietly(name: string): void {
  try {
    shmUnlink(name);
  } catch {
    // Already gone.
  }
}

function freeShmSpace(): number | undefined {
  try {
    const s = fs.statfsSync(SHM_DIR);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** Remove the shared memory objects of our uid whose creating process is gone. */
function sweepStaleSharedMemory(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(SHM_DIR);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(shmPattern.exec(entry)?.[1]);
    if (pid > 0 && pid !== process.pid && !osHost.processAlive(pid)) unlinkQuietly(`/${entry}`);
  }
}

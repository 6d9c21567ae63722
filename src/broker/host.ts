/** The kernel's view of OS processes, from /proc and kill(pid, 0). */
import fs from 'node:fs';
import type { Host } from '../kernel/kernel.ts';

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
};

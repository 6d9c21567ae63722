/**
 * Process: an OS process as a waitable object, signaled once it has exited. There is one
 * object per pid. Its exit is noticed when its last connection to the object manager ends,
 * by the broker's periodic look at the pids it watches, or — with the exit code — when the
 * process that spawned it reports it (only a parent can learn a child's exit code on Linux).
 */
import { check } from '../../errors.ts';
import { Access, grantedAccess, type AccessMapping } from '../access.ts';
import type { Handlers, Kernel } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';

export class ProcessObject extends KernelObject {
  readonly type = processType;
  exited = false;
  exitCode: number | null = null;
  constructor(
    readonly pid: number,
    /** The pid allowed to report its exit code (its parent, when opened as a child). */
    public reporter: number | null,
  ) {
    super();
  }
}

const mapping: AccessMapping = {
  read: Access.READ_CONTROL | Access.PROCESS_QUERY_LIMITED_INFORMATION,
  write: Access.READ_CONTROL,
  execute: Access.READ_CONTROL | Access.SYNCHRONIZE,
  all: 0x001f_ffff,
};

export const processType: ObjectType<ProcessObject> = {
  ...objectDefaults,
  name: 'Process',
  access: mapping,
  queryRight: Access.PROCESS_QUERY_LIMITED_INFORMATION,
  isSignaled: (p) => p.exited,
  satisfy: () => 'signaled',
  describe: (p) => ({ pid: p.pid, exited: p.exited, exitCode: p.exitCode }),
  destroy: (p, kernel) => {
    if (kernel.processObjects.get(p.pid) === p) kernel.processObjects.delete(p.pid);
  },
};

function markExited(kernel: Kernel, p: ProcessObject, exitCode: number | null): void {
  kernel.changed(p);
  if (p.exited) {
    if (p.exitCode === null && exitCode !== null) p.exitCode = exitCode;
    return;
  }
  p.exited = true;
  p.exitCode = exitCode;
  p.activity.signals++;
  kernel.waits.signaled(p);
}

/** A client process's last connection closed: if the OS process is gone, say so. */
export function processExitNoticed(kernel: Kernel, pid: number): void {
  const p = kernel.processObjects.get(pid);
  if (p !== undefined && p.reporter === null && !kernel.host.processAlive(pid)) markExited(kernel, p, null);
}

/**
 * Look at every watched pid (the broker calls this periodically while any are watched).
 * A child whose parent is still connected is left to the parent, which knows its exit code.
 */
export function pollProcesses(kernel: Kernel): void {
  kernel.batch(() => {
    for (const p of kernel.processObjects.values()) {
      if (p.exited) continue;
      if (p.reporter !== null && kernel.processes.has(p.reporter)) continue;
      if (!kernel.host.processAlive(p.pid)) markExited(kernel, p, null);
    }
  });
}

/** Are there processes whose exit only a poll can notice? */
export function watchingProcesses(kernel: Kernel): boolean {
  for (const p of kernel.processObjects.values()) if (!p.exited) return true;
  return false;
}

export const processHandlers = {
  openProcess(ctx, { pid, child, access }) {
    check(Number.isInteger(pid) && pid > 0, 'ERROR_INVALID_PARAMETER', `bad pid ${pid}`);
    const granted = grantedAccess(access, processType.access);
    check(granted !== 0, 'ERROR_ACCESS_DENIED', 'no access requested');
    let p = ctx.kernel.processObjects.get(pid);
    if (child) {
      const parent = ctx.kernel.host.parentPid(pid);
      // Gone already (parent undefined): only its parent could have known its pid so soon.
      check(parent === undefined || parent === ctx.process.pid || p?.reporter === ctx.process.pid, 'ERROR_ACCESS_DENIED', `${pid} is not a child of ${ctx.process.pid}`);
    }
    if (p === undefined) {
      const alive = ctx.kernel.host.processAlive(pid);
      // A child may exit (and be reaped by its parent) before its parent's open arrives:
      // it is registered as exited, and the parent reports its exit code.
      check(alive || child, 'ERROR_INVALID_PARAMETER', `no process ${pid}`);
      p = new ProcessObject(pid, child ? ctx.process.pid : null);
      p.exited = !alive;
      ctx.kernel.adopt(p);
      ctx.kernel.processObjects.set(pid, p);
    } else if (child && p.reporter === null) {
      p.reporter = ctx.process.pid;
    }
    return { handle: ctx.kernel.addHandle(ctx.process, p, granted), objectId: p.id };
  },
  reportProcessExit(ctx, { handle, exitCode }) {
    const p = ctx.process.handles.get(handle, 0, processType);
    check(p.reporter === ctx.process.pid, 'ERROR_ACCESS_DENIED', 'only the parent reports an exit code');
    markExited(ctx.kernel, p, exitCode);
    return {};
  },
} satisfies Partial<Handlers>;

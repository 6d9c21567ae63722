/**
 * Mutex (mutant). Signaled when unowned, or for its owner (recursion). A satisfied wait
 * makes the waiter the owner and counts one more recursion; release by the owner counts
 * one down and frees it at zero. When the owning thread ends the mutex is abandoned: the
 * next wait that acquires it reports 'abandoned', once.
 */
import { StatusError, check } from '../../errors.ts';
import { Access, syncMapping } from '../access.ts';
import type { Handlers, Kernel } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';
import type { Thread } from '../process.ts';

/** Recursion ceiling: a mutex held this deep is not signaled even for its owner (ntsync's rule). */
export const MAX_RECURSION = 0x7fff_ffff;

export class MutexObject extends KernelObject {
  readonly type = mutexType;
  owner: Thread | null = null;
  recursion = 0;
  abandoned = false;
}

export const mutexType: ObjectType<MutexObject> = {
  ...objectDefaults,
  name: 'Mutex',
  access: syncMapping(Access.QUERY_STATE),
  queryRight: Access.QUERY_STATE,
  isSignaled: (m, thread) => m.owner === null || (m.owner === thread && m.recursion < MAX_RECURSION),
  satisfy(m, thread) {
    m.owner = thread;
    m.recursion++;
    thread.owned.add(m);
    if (!m.abandoned) return 'signaled';
    m.abandoned = false;
    return 'abandoned';
  },
  describe: (m) => ({
    owner: m.owner?.id ?? null,
    ownerPid: m.owner?.process.pid ?? null,
    recursion: m.recursion,
    abandoned: m.abandoned,
  }),
  owner: (m) => m.owner,
  signal: (m, thread, kernel) => void releaseMutex(kernel, m, thread),
  // Ownership holds no reference: the last handle closed destroys an owned mutex too.
  destroy: (m) => void m.owner?.owned.delete(m),
  // ReleaseMutex needs no right beyond the handle itself (a Windows quirk kept).
  signalRight: 0,
};

/** Release one recursion; returns the recursion before. Fails ERROR_NOT_OWNER for anyone else. */
export function releaseMutex(kernel: Kernel, m: MutexObject, thread: Thread): number {
  if (m.owner !== thread) throw new StatusError('ERROR_NOT_OWNER');
  const previous = m.recursion;
  m.activity.signals++;
  kernel.changed(m);
  if (--m.recursion === 0) {
    m.owner = null;
    thread.owned.delete(m);
    kernel.waits.signaled(m);
  }
  return previous;
}

/** Abandon every mutex a thread that has ended still owns. */
export function abandonOwned(kernel: Kernel, thread: Thread): void {
  for (const m of thread.owned) {
    const mutex = m as MutexObject;
    mutex.owner = null;
    mutex.recursion = 0;
    mutex.abandoned = true;
  }
  const owned = [...thread.owned];
  thread.owned.clear();
  for (const m of owned) kernel.waits.signaled(m);
}

export const mutexHandlers = {
  createMutex(ctx, { name, initialOwner, access }) {
    const { object, ...reply } = ctx.kernel.createObject(ctx, mutexType, name, access, () => {
      const m = new MutexObject();
      if (initialOwner) mutexType.satisfy(m, ctx.thread);
      return m;
    });
    void object;
    return reply;
  },
  openMutex: (ctx, { name, access }) => ctx.kernel.openObject(ctx, mutexType, name, access),
  releaseMutex(ctx, { handle }) {
    const m = ctx.process.handles.get(handle, 0, mutexType);
    check(m instanceof MutexObject, 'ERROR_INVALID_HANDLE');
    return { previousCount: releaseMutex(ctx.kernel, m, ctx.thread) };
  },
} satisfies Partial<Handlers>;

/**
 * Semaphore. Signaled while its count is above zero; a satisfied wait takes one unit.
 * Release adds units up to the maximum and reports the count before.
 */
import { check } from '../../errors.ts';
import { Access, syncMapping } from '../access.ts';
import type { Handlers, Kernel } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';

export class SemaphoreObject extends KernelObject {
  readonly type = semaphoreType;
  constructor(
    public count: number,
    readonly maximum: number,
  ) {
    super();
  }
}

export const semaphoreType: ObjectType<SemaphoreObject> = {
  ...objectDefaults,
  name: 'Semaphore',
  access: syncMapping(Access.QUERY_STATE | Access.MODIFY_STATE),
  queryRight: Access.QUERY_STATE,
  isSignaled: (s) => s.count > 0,
  satisfy(s) {
    s.count--;
    return 'signaled';
  },
  describe: (s) => ({ count: s.count, maximum: s.maximum }),
  signal: (s, _thread, kernel) => void releaseSemaphore(kernel, s, 1),
  signalRight: Access.MODIFY_STATE,
};

/** Add `count` units; past the maximum fails ERROR_TOO_MANY_POSTS and changes nothing. */
export function releaseSemaphore(kernel: Kernel, s: SemaphoreObject, count: number): number {
  check(Number.isInteger(count) && count > 0, 'ERROR_INVALID_PARAMETER', `release count ${count}`);
  check(count <= s.maximum - s.count, 'ERROR_TOO_MANY_POSTS');
  const previous = s.count;
  s.count += count;
  s.activity.signals++;
  kernel.waits.signaled(s);
  return previous;
}

const INT32_MAX = 0x7fff_ffff;

export const semaphoreHandlers = {
  createSemaphore(ctx, { name, initialCount, maximumCount, access }) {
    check(
      maximumCount >= 1 && maximumCount <= INT32_MAX && initialCount >= 0 && initialCount <= maximumCount,
      'ERROR_INVALID_PARAMETER',
      `semaphore initial ${initialCount}, maximum ${maximumCount}`,
    );
    const { object, ...reply } = ctx.kernel.createObject(ctx, semaphoreType, name, access, () => new SemaphoreObject(initialCount, maximumCount));
    void object;
    return reply;
  },
  openSemaphore: (ctx, { name, access }) => ctx.kernel.openObject(ctx, semaphoreType, name, access),
  releaseSemaphore(ctx, { handle, count }) {
    const s = ctx.process.handles.get(handle, Access.MODIFY_STATE, semaphoreType);
    return { previousCount: releaseSemaphore(ctx.kernel, s, count) };
  },
} satisfies Partial<Handlers>;

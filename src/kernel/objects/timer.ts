/**
 * Waitable timer. Not signaled until it expires. A manual-reset (notification) timer stays
 * signaled until it is set again; an auto-reset (synchronization) timer releases one
 * waiter per expiry. Setting a timer resets it and replaces any earlier due time; a due
 * time already past expires at once; a period re-arms it from its previous due time.
 * Cancel stops it without changing its signaled state.
 */
import { check } from '../../errors.ts';
import { Access, syncMapping } from '../access.ts';
import type { Deadline } from '../deadlines.ts';
import type { Handlers, Kernel } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';

export class TimerObject extends KernelObject {
  readonly type = timerType;
  signaled = false;
  /** Monotonic due time of the armed expiry, and its period (0: one-shot). */
  due: number | null = null;
  periodMs = 0;
  deadline: Deadline | undefined;
  expirations = 0;
  constructor(readonly manualReset: boolean) {
    super();
  }
}

export const timerType: ObjectType<TimerObject> = {
  ...objectDefaults,
  name: 'WaitableTimer',
  access: syncMapping(Access.QUERY_STATE | Access.MODIFY_STATE),
  queryRight: Access.QUERY_STATE,
  isSignaled: (t) => t.signaled,
  satisfy(t) {
    if (!t.manualReset) t.signaled = false;
    return 'signaled';
  },
  describe: (t) => ({
    manualReset: t.manualReset,
    signaled: t.signaled,
    armed: t.due !== null,
    periodMs: t.periodMs,
    expirations: t.expirations,
  }),
  destroy: (t, kernel) => {
    // Its last waiter may be the one an expiry just released: no re-arming after that.
    t.periodMs = 0;
    disarm(kernel, t);
  },
};

function disarm(kernel: Kernel, t: TimerObject): void {
  kernel.deadlines.cancel(t.deadline);
  t.deadline = undefined;
  t.due = null;
}

function arm(kernel: Kernel, t: TimerObject, due: number): void {
  t.due = due;
  if (due <= kernel.clock.now()) {
    expire(kernel, t);
    return;
  }
  t.deadline = kernel.deadlines.add(due, () => expire(kernel, t));
}

function expire(kernel: Kernel, t: TimerObject): void {
  t.deadline = undefined;
  t.expirations++;
  t.signaled = true;
  t.activity.signals++;
  const due = t.due!;
  t.due = null;
  kernel.waits.signaled(t);
  // A period re-arms from the due time, so expiries do not drift; if the kernel fell more
  // than a period behind, the missed expiries collapse into this one (Windows signals a
  // late periodic timer once), and the next is the first period boundary still ahead.
  if (t.periodMs > 0) {
    const periods = Math.floor((kernel.clock.now() - due) / t.periodMs) + 1;
    arm(kernel, t, due + Math.max(1, periods) * t.periodMs);
  }
}

export const timerHandlers = {
  createTimer(ctx, { name, manualReset, access }) {
    const { object, ...reply } = ctx.kernel.createObject(ctx, timerType, name, access, () => new TimerObject(manualReset));
    void object;
    return reply;
  },
  openTimer: (ctx, { name, access }) => ctx.kernel.openObject(ctx, timerType, name, access),
  setTimer(ctx, { handle, due, absolute, periodMs }) {
    const t = ctx.process.handles.get(handle, Access.MODIFY_STATE, timerType);
    check(Number.isFinite(due) && (absolute || due >= 0), 'ERROR_INVALID_PARAMETER', `bad due time ${due}`);
    // Windows periods are whole milliseconds; a shorter one would re-expire without end.
    check(Number.isFinite(periodMs) && (periodMs === 0 || periodMs >= 1), 'ERROR_INVALID_PARAMETER', `bad period ${periodMs}`);
    const clock = ctx.kernel.clock;
    const wasSignaled = t.signaled;
    disarm(ctx.kernel, t);
    ctx.kernel.changed(t);
    t.signaled = false;
    t.periodMs = periodMs;
    arm(ctx.kernel, t, absolute ? clock.now() + (due - clock.wallNow()) : clock.now() + due);
    return { wasSignaled };
  },
  cancelTimer(ctx, { handle }) {
    const t = ctx.process.handles.get(handle, Access.MODIFY_STATE, timerType);
    disarm(ctx.kernel, t);
    ctx.kernel.changed(t);
    return { wasSignaled: t.signaled };
  },
} satisfies Partial<Handlers>;

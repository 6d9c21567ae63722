/**
 * Event. A manual-reset event stays signaled until reset; an auto-reset event is consumed
 * by the one wait it satisfies. Set does not accumulate. Pulse releases the waiters there
 * are at that instant (all of them, or one for auto-reset) and leaves the event reset; a
 * pulse with no waiter is lost.
 */
import { Access, syncMapping } from '../access.ts';
import type { Handlers, Kernel } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';

export class EventObject extends KernelObject {
  readonly type = eventType;
  constructor(
    readonly manualReset: boolean,
    public signaled: boolean,
  ) {
    super();
  }
}

export const eventType: ObjectType<EventObject> = {
  ...objectDefaults,
  name: 'Event',
  access: syncMapping(Access.QUERY_STATE | Access.MODIFY_STATE),
  queryRight: Access.QUERY_STATE,
  isSignaled: (e) => e.signaled,
  satisfy(e) {
    if (!e.manualReset) e.signaled = false;
    return 'signaled';
  },
  describe: (e) => ({ manualReset: e.manualReset, signaled: e.signaled }),
  signal: (e, _thread, kernel) => void setEvent(kernel, e),
  signalRight: Access.MODIFY_STATE,
};

function setEvent(kernel: Kernel, e: EventObject): boolean {
  const previous = e.signaled;
  e.signaled = true;
  e.activity.signals++;
  kernel.waits.signaled(e);
  return previous;
}

export const eventHandlers = {
  createEvent(ctx, { name, manualReset, initialState, access }) {
    const { object, ...reply } = ctx.kernel.createObject(ctx, eventType, name, access, () => new EventObject(manualReset, initialState));
    void object;
    return reply;
  },
  openEvent: (ctx, { name, access }) => ctx.kernel.openObject(ctx, eventType, name, access),
  setEvent(ctx, { handle }) {
    return { previousState: setEvent(ctx.kernel, ctx.process.handles.get(handle, Access.MODIFY_STATE, eventType)) };
  },
  resetEvent(ctx, { handle }) {
    const e = ctx.process.handles.get(handle, Access.MODIFY_STATE, eventType);
    const previousState = e.signaled;
    e.signaled = false;
    ctx.kernel.changed(e);
    return { previousState };
  },
  pulseEvent(ctx, { handle }) {
    const e = ctx.process.handles.get(handle, Access.MODIFY_STATE, eventType);
    const previousState = setEvent(ctx.kernel, e);
    e.signaled = false;
    return { previousState };
  },
} satisfies Partial<Handlers>;

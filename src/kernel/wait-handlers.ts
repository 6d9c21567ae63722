/** The wait requests: wait one / any / all, SignalObjectAndWait, cancellation. */
import { check } from '../errors.ts';
import { Access } from './access.ts';
import { PENDING, type Handlers } from './kernel.ts';
import type { KernelObject } from './object.ts';
import type { ClientProcess } from './process.ts';
import { checkTimeout } from './wait.ts';

/** The object behind a handle a wait names: of a waitable type, opened with SYNCHRONIZE. */
function waitable(process: ClientProcess, handle: number): KernelObject {
  const obj = process.handles.get(handle, 0);
  check(obj.type.waitable !== false, 'ERROR_INVALID_HANDLE', `a ${obj.type.name} cannot be waited on`);
  return process.handles.get(handle, Access.SYNCHRONIZE);
}

export const waitHandlers = {
  wait(ctx, { handles, all, timeoutMs, detectDeadlock }) {
    checkTimeout(timeoutMs);
    check(handles.length > 0, 'ERROR_INVALID_PARAMETER', 'wait on no objects');
    const objects = handles.map((h) => waitable(ctx.process, h));
    return ctx.kernel.waits.begin(ctx.thread, ctx.requestId, 'wait', objects, all, timeoutMs, detectDeadlock) ?? PENDING;
  },

  signalAndWait(ctx, { signal, waitOn, timeoutMs, detectDeadlock }) {
    checkTimeout(timeoutMs);
    const target = ctx.process.handles.get(signal, 0);
    check(target.type.signal !== undefined, 'ERROR_INVALID_HANDLE', `a ${target.type.name} cannot be signaled`);
    ctx.process.handles.get(signal, target.type.signalRight ?? 0);
    const object = waitable(ctx.process, waitOn);
    // The signal fails before any wait begins (a full semaphore, a mutex not owned).
    target.type.signal(target, ctx.thread, ctx.kernel);
    // With detectDeadlock, the deadlock check comes after the signal, which stands if it fails.
    return ctx.kernel.waits.begin(ctx.thread, ctx.requestId, 'signalAndWait', [object], false, timeoutMs, detectDeadlock) ?? PENDING;
  },

  cancel(ctx, { requestId }) {
    return { cancelled: ctx.kernel.waits.cancel(ctx.thread, requestId) || ctx.kernel.pending.cancel(ctx.thread, requestId) };
  },
} satisfies Partial<Handlers>;

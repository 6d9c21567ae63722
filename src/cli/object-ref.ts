/**
 * Names on the command line for `ntipc wait`: `TYPE:NAME` says the type, a bare NAME is
 * found by trying the waitable types in turn (kernel object names share one namespace, so
 * at most one type has it), and the short names of pipes and mailslots.
 */
import { Event, IpcError, Mutex, ProcessHandle, Semaphore, WaitableTimer, type Connection, type KernelHandle } from '../client/index.ts';
import { CliFailure, ExitCode, explain, usage } from './output.ts';

/** The type prefixes `wait` takes, by the word written before the colon. */
export const WaitableKinds = {
  mutex: 'mutex',
  sem: 'semaphore',
  semaphore: 'semaphore',
  event: 'event',
  timer: 'timer',
  process: 'process',
} as const;
export type WaitableKind = (typeof WaitableKinds)[keyof typeof WaitableKinds];

export interface OpenedObject {
  /** As written on the command line. */
  arg: string;
  kind: WaitableKind;
  name: string;
  handle: KernelHandle;
}

/** Split `TYPE:NAME`; a prefix that is not a type is part of a bare name. */
export function parseObjectRef(arg: string): { kind: WaitableKind | undefined; name: string } {
  const m = /^([a-z]+):(.*)$/i.exec(arg);
  const kind = m === null ? undefined : (WaitableKinds as Record<string, WaitableKind>)[m[1]!.toLowerCase()];
  if (kind === undefined) return { kind: undefined, name: arg };
  if (m![2] === '') usage(`${arg}: no name after the type`);
  return { kind, name: m![2]! };
}

const opener: Record<Exclude<WaitableKind, 'process'>, (name: string, connection: Connection) => Promise<KernelHandle>> = {
  mutex: (name, connection) => Mutex.open(name, { connection }),
  semaphore: (name, connection) => Semaphore.open(name, { connection }),
  // An event is made if missing (manual-reset, not set), so that `wait event:X` can come before `event set X`.
  event: (name, connection) => Event.create(name, { connection, manualReset: true }),
  timer: (name, connection) => WaitableTimer.open(name, { connection }),
};

/** The order a bare name is tried in. */
const BARE_ORDER = ['event', 'mutex', 'semaphore', 'timer'] as const;

/** Open one object named on the command line, or fail with one line. */
export async function openObjectRef(arg: string, connection: Connection): Promise<OpenedObject> {
  const { kind, name } = parseObjectRef(arg);
  if (kind === 'process') {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) usage(`${arg}: a process is named by its pid`);
    try {
      return { arg, kind, name, handle: await ProcessHandle.open(pid, { connection }) };
    } catch (e) {
      throw e instanceof IpcError && (e.code === 'ERROR_INVALID_PARAMETER' || e.code === 'ERROR_FILE_NOT_FOUND') ? new CliFailure(ExitCode.failure, `no process ${pid}`) : e;
    }
  }
  if (kind !== undefined) {
    try {
      return { arg, kind, name, handle: await opener[kind](name, connection) };
    } catch (e) {
      throw explain(e, kind, name);
    }
  }
  for (const k of BARE_ORDER) {
    try {
      // A bare name is only opened, never made: an event too must exist.
      const handle = k === 'event' ? await Event.open(name, { connection }) : await opener[k](name, connection);
      return { arg, kind: k, name, handle };
    } catch (e) {
      if (e instanceof IpcError && e.code === 'ERROR_INVALID_HANDLE') continue;
      throw explain(e, 'object', name);
    }
  }
  throw new CliFailure(ExitCode.failure, `${name} names an object that cannot be waited on (not a mutex, semaphore, event or timer)`);
}

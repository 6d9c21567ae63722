/**
 * What every kernel object is, and what every object type tells the kernel about its
 * objects. The wait engine and the namespace know this interface, never the types.
 */
import type { ObjectActivity } from '../protocol/inspection.ts';
import type { ObjectInfo, ObjectTypeName, WaitStatus } from '../protocol/schema.ts';
import type { AccessMapping } from './access.ts';
import type { Kernel } from './kernel.ts';
import type { Thread } from './process.ts';
import type { WaitBlock } from './wait.ts';

/** A type descriptor: the two wait verbs, its access mapping, how it describes itself. */
export interface ObjectType<O extends KernelObject = any> {
  readonly name: ObjectTypeName;
  readonly access: AccessMapping;
  /** The right a query of its state needs. */
  readonly queryRight: number;
  /** Is `obj` signaled for a wait by `thread`? */
  isSignaled(obj: O, thread: Thread): boolean;
  /** What a satisfied wait by `thread` does to `obj`. */
  satisfy(obj: O, thread: Thread): Exclude<WaitStatus, 'timeout'>;
  /** Type-specific state for listings. */
  describe(obj: O): ObjectInfo['state'];
  /** Called once when the last reference (handle or wait) is gone. */
  destroy(obj: O, kernel: Kernel): void;
  /** What SignalObjectAndWait does to it; types without it cannot be signaled that way. */
  signal?(obj: O, thread: Thread, kernel: Kernel): void;
  /** The right `signal` needs. */
  readonly signalRight?: number;
  /** False for a type no wait may name (a section): such a wait fails ERROR_INVALID_HANDLE. */
  readonly waitable?: boolean;
  /** The thread that owns it (a mutex), for the wait-for graph; types without owners omit it. */
  owner?(obj: O): Thread | null;
}

let nextObjectId = 1;

/** The header every object shares: identity, name, references and its wait queue. */
export abstract class KernelObject {
  readonly id = nextObjectId++;
  abstract readonly type: ObjectType;
  /** Namespace key when named. */
  key: string | undefined;
  /** Open handles to it. */
  handleCount = 0;
  /** Handles plus pending waits: the object lives while this is above zero. */
  refs = 0;
  /** Wait blocks in arrival order. */
  readonly waiters: WaitBlock[] = [];
  /** What happened to it since it was made (inspection): counted where it happens. */
  readonly activity: ObjectActivity = { waits: 0, signals: 0, messages: 0, bytes: 0 };

  get displayName(): string | null {
    return this.key === undefined ? null : this.key.startsWith('Local\\') ? this.key.slice(6) : this.key;
  }
}

/** The descriptor defaults; a type lists only what it changes. */
export const objectDefaults = {
  destroy(): void {},
} as const;

/** The listing entry of any object. */
export function describeObject(obj: KernelObject, thread?: Thread): ObjectInfo {
  return {
    id: obj.id,
    type: obj.type.name,
    name: obj.displayName,
    signaled: thread ? obj.type.isSignaled(obj, thread) : obj.type.isSignaled(obj, NO_THREAD),
    handles: obj.handleCount,
    waiters: obj.waiters.length,
    state: obj.type.describe(obj),
  };
}

/** A thread that is nobody: signaled-for-nobody is the state an outside observer sees. */
export const NO_THREAD = { id: 0 } as unknown as Thread;

/**
 * What the object manager tells about itself: the objects, the processes and threads with
 * their handles, and the wait-for graph with its cycles (deadlocks). Declared once here:
 * the kernel builds it (kernel/inspect.ts), the `inspect` request carries it as JSON, the
 * client returns it (client/inspect.ts), and the `ntipc` command and the dashboard show it.
 * Plain data, no I/O.
 */
import type { ObjectInfo } from './schema.ts';

/** A thread in the NT sense: one connection of one process. */
export interface ThreadRef {
  pid: number;
  threadId: number;
}

/** Counts since the object was made; the dashboard turns them into rates. */
export interface ObjectActivity {
  /** Waits that completed on it (satisfied or abandoned). */
  waits: number;
  /** Signals: releases, sets, pulses, timer expiries, exits. */
  signals: number;
  /** Messages through it (pipes, mailslots, message queues) and their bytes. */
  messages: number;
  bytes: number;
}

export interface InspectedObject extends ObjectInfo {
  /** The thread that owns it (a mutex), or null. */
  owner: ThreadRef | null;
  /** Threads waiting on it (waits and other pending requests), in arrival order. */
  waiting: ThreadRef[];
  activity: ObjectActivity;
}

export interface InspectedHandle {
  handle: number;
  objectId: number;
  type: ObjectInfo['type'];
  name: string | null;
  access: number;
}

export interface InspectedThread {
  threadId: number;
  /** What the client said it is (`hello`'s agent): program and thread. */
  agent: string;
  /** Objects it owns (mutexes). */
  owns: number[];
  /**
   * Its pending waits: the objects, and whether it waits for all of them; `sinceMs` when it
   * began (ms since the epoch); `request` the request that waits (`wait`, `signalAndWait`,
   * or another that may be deferred: `readMailslot`, `connectNamedPipe`, `mqReceive`, …,
   * whose `objectIds` name the object it waits on, when that object is listed).
   */
  waits: { objectIds: number[]; all: boolean; sinceMs: number; request?: string }[];
}

export interface InspectedProcess {
  pid: number;
  threads: InspectedThread[];
  handles: InspectedHandle[];
}

/**
 * One edge of the wait-for graph: `waiter` waits on `objectId`, which `holder` owns (or, for
 * an object no thread owns, null: it waits for a signal that nobody in particular holds).
 */
export interface WaitForEdge {
  waiter: ThreadRef;
  objectId: number;
  holder: ThreadRef | null;
}

/** A cycle of the wait-for graph: each thread waits on an object the next one owns. */
export interface DeadlockCycle {
  threads: ThreadRef[];
  objectIds: number[];
}

export interface InspectFilter {
  /** Only objects of this type. */
  type?: ObjectInfo['type'];
  /** Only objects whose name matches this glob (`*`, `?`), case-insensitive. */
  pattern?: string;
  /** Only this process (and the objects it holds handles to, waits on or owns). */
  pid?: number;
  /**
   * Only these objects (the dashboard, after a change); an empty list selects none. Applied
   * by the kernel to its own snapshot, and by the client to the snapshot it receives (the
   * request does not carry it).
   */
  ids?: readonly number[];
}

export interface Snapshot {
  /** Milliseconds since the epoch when it was taken. */
  at: number;
  objects: InspectedObject[];
  processes: InspectedProcess[];
  edges: WaitForEdge[];
  cycles: DeadlockCycle[];
}

/**
 * Client processes and their threads. A connection is a thread; the connections of one
 * pid form a process, which owns the handle table. A thread owns mutexes; when it ends
 * they are abandoned, and when a process's last thread ends its handles are closed.
 */
import type { ReplyOf, RequestName } from '../protocol/schema.ts';
import type { StatusCode } from '../errors.ts';
import { HandleTable } from './handle-table.ts';
import type { KernelObject } from './object.ts';
import type { PendingRequest } from './pending.ts';
import type { WaitBlock } from './wait.ts';

/** Where the kernel delivers the outcome of a request that did not complete at once. */
export interface CompletionSink {
  reply<K extends RequestName>(requestId: number, name: K, reply: ReplyOf<K>): void;
  fail(requestId: number, name: RequestName, code: StatusCode, detail?: string): void;
}

/** A user and a (primary) group. */
export interface Credentials {
  uid: number;
  gid: number;
}

export class ClientProcess {
  readonly handles = new HandleTable();
  readonly threads = new Set<Thread>();
  /** The views of sections it has mapped, by view id; each holds a reference on its section. */
  readonly views = new Map<number, KernelObject>();
  nextViewId = 1;
  /** Its user and group as the OS reported them for its connection (SO_PEERCRED); unknown in unit tests. */
  credentials: Credentials | undefined;
  constructor(readonly pid: number) {}
}

let nextThreadId = 1;

export class Thread {
  readonly id = nextThreadId++;
  /** Mutexes this thread owns (so its end can abandon them). */
  readonly owned = new Set<KernelObject>();
  /** Its pending waits by request id. */
  readonly waits = new Map<number, WaitBlock>();
  /** Its other pending requests (pipe connects, mailslot reads, queue sends and receives). */
  readonly pending = new Map<number, PendingRequest>();
  alive = true;
  constructor(
    readonly process: ClientProcess,
    readonly sink: CompletionSink,
    readonly agent: string,
  ) {}
}

/**
 * A process's handles. `get` is the one checked accessor: lookup, type and access in one
 * place, each with Windows' error.
 */
import { StatusError, check } from '../errors.ts';
import type { KernelObject, ObjectType } from './object.ts';

/** Most handles one process may hold at once. */
export const MAX_HANDLES_PER_PROCESS = 1 << 20;

export interface HandleEntry {
  readonly object: KernelObject;
  readonly access: number;
}

export class HandleTable {
  private readonly byHandle = new Map<number, HandleEntry>();
  private next = 4;

  get size(): number {
    return this.byHandle.size;
  }

  /** Add a handle; the caller has already counted the reference. */
  add(object: KernelObject, access: number): number {
    check(this.byHandle.size < MAX_HANDLES_PER_PROCESS, 'ERROR_NOT_ENOUGH_QUOTA', 'too many handles in this process');
    const handle = this.next;
    this.next += 4;
    this.byHandle.set(handle, { object, access });
    return handle;
  }

  /**
   * The object behind `handle`, which must be of `type` (any type when omitted) and opened
   * with every right in `access`. The low two bits of a handle are ignored, as on Windows.
   */
  get<O extends KernelObject>(handle: number, access: number, type?: ObjectType<O>): O {
    const entry = this.byHandle.get(handle & ~3);
    if (entry === undefined) throw new StatusError('ERROR_INVALID_HANDLE', `no handle ${handle}`);
    if (type !== undefined && entry.object.type !== type) {
      throw new StatusError('ERROR_INVALID_HANDLE', `handle ${handle} is a ${entry.object.type.name}, not a ${type.name}`);
    }
    if ((entry.access & access) !== access) throw new StatusError('ERROR_ACCESS_DENIED', `handle ${handle} lacks the right`);
    return entry.object as O;
  }

  /** The rights `handle` was opened with (0 for no such handle). */
  access(handle: number): number {
    return this.byHandle.get(handle & ~3)?.access ?? 0;
  }

  /** Remove a handle and return its object, or fail ERROR_INVALID_HANDLE. */
  remove(handle: number): KernelObject {
    const key = handle & ~3;
    const entry = this.byHandle.get(key);
    if (entry === undefined) throw new StatusError('ERROR_INVALID_HANDLE', `no handle ${handle}`);
    this.byHandle.delete(key);
    return entry.object;
  }

  /** Every handle and its entry, in the order they were made (inspection). */
  entries(): IterableIterator<[number, HandleEntry]> {
    return this.byHandle.entries();
  }

  /** Remove every handle, returning their objects (for process exit). */
  clear(): KernelObject[] {
    const objects = [...this.byHandle.values()].map((e) => e.object);
    this.byHandle.clear();
    return objects;
  }
}

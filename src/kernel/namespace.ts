/**
 * The object namespace: name → object, one namespace for every type. A name lives while
 * its object has an open handle; the object lives while any handle or pending wait refers to it.
 */
import { check } from '../errors.ts';
import type { KernelObject } from './object.ts';

/** Most objects the object manager holds at once. */
export const MAX_OBJECTS = 1 << 22;

export class Namespace {
  private readonly byKey = new Map<string, KernelObject>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): KernelObject | undefined {
    return this.byKey.get(key);
  }

  insert(key: string, obj: KernelObject): void {
    check(!this.byKey.has(key), 'ERROR_ALREADY_EXISTS', key);
    obj.key = key;
    this.byKey.set(key, obj);
  }

  /** Forget the name of a dying object. */
  remove(obj: KernelObject): void {
    if (obj.key !== undefined && this.byKey.get(obj.key) === obj) this.byKey.delete(obj.key);
  }

  values(): IterableIterator<KernelObject> {
    return this.byKey.values();
  }
}

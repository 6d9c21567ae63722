/**
 * The generic mapping each type applies to GENERIC_READ / WRITE / EXECUTE / ALL. A handle
 * carries the rights it was opened with; the handle table checks them.
 */
import { Access } from '../protocol/access.ts';
export { Access };

/** How one type maps the generic rights, and what "all access" means for it. */
export interface AccessMapping {
  read: number;
  write: number;
  execute: number;
  all: number;
}

const STANDARD = Access.DELETE | Access.READ_CONTROL | 0x000c_0000; // + WRITE_DAC, WRITE_OWNER

/** The usual mapping for a synchronization object with a query bit and a modify bit. */
export function syncMapping(specific: number): AccessMapping {
  return {
    read: Access.READ_CONTROL | (specific & Access.QUERY_STATE),
    write: Access.READ_CONTROL | (specific & Access.MODIFY_STATE),
    execute: Access.READ_CONTROL | Access.SYNCHRONIZE,
    all: STANDARD | Access.SYNCHRONIZE | specific,
  };
}

/**
 * The rights a request for `desired` grants on a type with `mapping`: generic bits mapped,
 * MAXIMUM_ALLOWED meaning everything, bits the type does not have dropped.
 */
export function grantedAccess(desired: number, mapping: AccessMapping): number {
  let granted = desired & 0x00ff_ffff;
  if (desired & Access.MAXIMUM_ALLOWED) granted |= mapping.all;
  if (desired & Access.GENERIC_READ) granted |= mapping.read;
  if (desired & Access.GENERIC_WRITE) granted |= mapping.write;
  if (desired & Access.GENERIC_EXECUTE) granted |= mapping.execute;
  if (desired & Access.GENERIC_ALL) granted |= mapping.all;
  return granted & mapping.all;
}

/** Access rights, as Windows numbers them; a create or open asks for some of these. */
export const Access = {
  /** Object-specific bit 0: MUTANT_QUERY_STATE, EVENT_QUERY_STATE, SEMAPHORE_QUERY_STATE, TIMER_QUERY_STATE. */
  QUERY_STATE: 0x0001,
  /** Object-specific bit 1: EVENT_MODIFY_STATE, SEMAPHORE_MODIFY_STATE, TIMER_MODIFY_STATE. */
  MODIFY_STATE: 0x0002,
  PROCESS_QUERY_LIMITED_INFORMATION: 0x1000,
  /** Section (file mapping) rights. SECTION_QUERY is the query bit, like QUERY_STATE. */
  SECTION_QUERY: 0x0001,
  SECTION_MAP_WRITE: 0x0002,
  SECTION_MAP_READ: 0x0004,
  SECTION_MAP_EXECUTE: 0x0008,
  SECTION_EXTEND_SIZE: 0x0010,
  /** MapViewOfFile's view access, and OpenFileMapping's handle access: FILE_MAP_COPY is SECTION_QUERY's bit. */
  FILE_MAP_COPY: 0x0001,
  FILE_MAP_WRITE: 0x0002,
  FILE_MAP_READ: 0x0004,
  /** SECTION_ALL_ACCESS: the standard rights and every section right (no SYNCHRONIZE: a section is not waitable). */
  FILE_MAP_ALL_ACCESS: 0x000f_001f,
  DELETE: 0x0001_0000,
  READ_CONTROL: 0x0002_0000,
  SYNCHRONIZE: 0x0010_0000,
  MAXIMUM_ALLOWED: 0x0200_0000,
  GENERIC_ALL: 0x1000_0000,
  GENERIC_EXECUTE: 0x2000_0000,
  GENERIC_WRITE: 0x4000_0000,
  GENERIC_READ: 0x8000_0000,
} as const;

/** Page protection of a section (CreateFileMapping's flProtect), as Windows numbers it. */
export const PageProtection = {
  PAGE_NOACCESS: 0x01,
  PAGE_READONLY: 0x02,
  PAGE_READWRITE: 0x04,
  PAGE_WRITECOPY: 0x08,
} as const;

/** The geometry of sections and views, as on Windows. */
export const SectionGeometry = {
  /** A view's offset is a multiple of this (SYSTEM_INFO.dwAllocationGranularity). */
  ALLOCATION_GRANULARITY: 0x1_0000,
  /** A section backed by memory is rounded up to whole pages. */
  PAGE_SIZE: 0x1000,
} as const;

/** The kind of view a MapViewOfFile access mask asks for: FILE_MAP_WRITE wins, then FILE_MAP_COPY, else a read view. */
export type ViewKind = 'read' | 'readwrite' | 'copy';

export function viewKind(viewAccess: number): ViewKind {
  if (viewAccess & Access.FILE_MAP_WRITE) return 'readwrite';
  if (viewAccess & Access.FILE_MAP_COPY) return 'copy';
  return 'read';
}

/** A failed view check: the status and why. */
export interface ViewFailure {
  code: 'ERROR_INVALID_PARAMETER' | 'ERROR_MAPPED_ALIGNMENT' | 'ERROR_ACCESS_DENIED';
  detail: string;
}

/**
 * Check a view of `section` (its size, page protection, and the rights of the handle used)
 * at `offset` for `length` bytes (0: to the end), in Windows' order: bad numbers, offset
 * alignment, the handle's rights (a read-write view needs SECTION_MAP_WRITE, a read or copy
 * view SECTION_MAP_READ), a read-write view of a read-only section, an offset at or past
 * the end, a length past the end. The client (which maps) and the object manager (which
 * counts views) apply this same rule. Returns the view's length, or the failure.
 */
export function checkView(
  section: { size: number; protect: number; access: number },
  offset: number,
  length: number,
  viewAccess: number,
): { length: number } | ViewFailure {
  const count = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!count(offset) || !count(length)) return { code: 'ERROR_INVALID_PARAMETER', detail: `view at ${offset} of ${length} bytes` };
  if (offset % SectionGeometry.ALLOCATION_GRANULARITY !== 0) {
    return { code: 'ERROR_MAPPED_ALIGNMENT', detail: `offset ${offset} is not a multiple of 64 KiB` };
  }
  const kind = viewKind(viewAccess);
  const right = kind === 'readwrite' ? Access.SECTION_MAP_WRITE : Access.SECTION_MAP_READ;
  if ((section.access & right) !== right) return { code: 'ERROR_ACCESS_DENIED', detail: `the handle cannot map a ${kind} view` };
  if (kind === 'readwrite' && section.protect !== PageProtection.PAGE_READWRITE) {
    return { code: 'ERROR_ACCESS_DENIED', detail: 'a read-write view of a read-only section' };
  }
  if (offset >= section.size) return { code: 'ERROR_INVALID_PARAMETER', detail: `offset ${offset} is not below the section's size ${section.size}` };
  if (length > section.size - offset) return { code: 'ERROR_ACCESS_DENIED', detail: `a view of ${length} bytes at ${offset} passes the section's size ${section.size}` };
  return { length: length === 0 ? section.size - offset : length };
}

/**
 * Section (file mapping). Never signaled and not waitable. The object manager names it,
 * counts its references and tells each process how to map it; the memory itself is mapped
 * by each process. Backed by a POSIX shared memory object the host creates (and removes
 * when the last reference goes), or by a file the processes map themselves.
 *
 * References are handles and mapped views: a view keeps the section alive, as on Windows,
 * while the name still goes with the last handle.
 */
import { check, StatusError } from '../../errors.ts';
import { PageProtection, SectionGeometry, checkView } from '../../protocol/access.ts';
import { Access, type AccessMapping } from '../access.ts';
import type { Handlers, Kernel, RequestContext } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';
import type { ClientProcess } from '../process.ts';

/** Most views one process may have registered at once. */
export const MAX_VIEWS_PER_PROCESS = 1 << 20;

export class SectionObject extends KernelObject {
  readonly type = sectionType;
  /** Mapped views, in every process. */
  views = 0;
  constructor(
    readonly size: number,
    readonly protect: number,
    /** The shared memory object's name, or the file's path. */
    readonly backing: string,
    readonly fileBacked: boolean,
  ) {
    super();
  }
}

const sectionAccess: AccessMapping = {
  read: Access.READ_CONTROL | Access.SECTION_QUERY | Access.SECTION_MAP_READ,
  write: Access.READ_CONTROL | Access.SECTION_MAP_WRITE,
  execute: Access.READ_CONTROL | Access.SECTION_MAP_EXECUTE,
  all: Access.FILE_MAP_ALL_ACCESS,
};

export const sectionType: ObjectType<SectionObject> = {
  ...objectDefaults,
  name: 'Section',
  access: sectionAccess,
  queryRight: Access.SECTION_QUERY,
  waitable: false,
  isSignaled: () => false,
  satisfy() {
    throw new StatusError('ERROR_INVALID_HANDLE', 'a section cannot be waited on');
  },
  describe: (s) => ({
    size: s.size,
    protect: s.protect === PageProtection.PAGE_READWRITE ? 'readwrite' : 'readonly',
    fileBacked: s.fileBacked,
    backing: s.backing,
    views: s.views,
  }),
  destroy(s, kernel) {
    if (!s.fileBacked) kernel.host.unlinkSharedMemory(s.backing);
  },
};

/** A process's last thread has ended: its views no longer hold their sections. */
export function releaseViews(kernel: Kernel, process: ClientProcess): void {
  const views = [...process.views.values()];
  process.views.clear();
  for (const s of views) {
    (s as SectionObject).views--;
    kernel.changed(s);
    kernel.unref(s);
  }
}

/** What a process needs to map a section, as createSection and openSection reply it. */
function mapInfo(s: SectionObject, process: ClientProcess, handle: number) {
  return { access: process.handles.access(handle), size: s.size, protect: s.protect, fileBacked: s.fileBacked, backing: s.backing };
}

function createSection(ctx: RequestContext, req: { name?: string; size: number; file?: string; protect: number; access: number }) {
  const { name, size, file, protect, access } = req;
  check(protect === PageProtection.PAGE_READONLY || protect === PageProtection.PAGE_READWRITE, 'ERROR_INVALID_PARAMETER', `page protection ${protect}`);
  check(Number.isSafeInteger(size) && size >= 0, 'ERROR_INVALID_PARAMETER', `section size ${size}`);
  if (file === undefined) check(size > 0, 'ERROR_INVALID_PARAMETER', 'a section backed by memory needs a size');
  else {
    check(file.startsWith('/'), 'ERROR_INVALID_PARAMETER', `${file} is not an absolute path`);
    // The client opens the file and says how big the section is (0 for an empty file).
    check(size > 0, 'ERROR_FILE_INVALID', `${file} is empty`);
  }
  let created: string | undefined;
  try {
    const { object, ...reply } = ctx.kernel.createObject(ctx, sectionType, name, access, () => {
      if (file !== undefined) return new SectionObject(size, protect, file, true);
      const pages = Math.ceil(size / SectionGeometry.PAGE_SIZE) * SectionGeometry.PAGE_SIZE;
      created = ctx.kernel.host.createSharedMemory(pages);
      return new SectionObject(pages, protect, created, false);
    });
    return { ...reply, ...mapInfo(object, ctx.process, reply.handle) };
  } catch (e) {
    // Made but never registered (no handle could be added): nothing else will remove it.
    if (created !== undefined) ctx.kernel.host.unlinkSharedMemory(created);
    throw e;
  }
}

export const sectionHandlers = {
  createSection,
  openSection(ctx, { name, access }) {
    const reply = ctx.kernel.openObject(ctx, sectionType, name, access);
    const s = ctx.process.handles.get(reply.handle, 0, sectionType);
    return { ...reply, ...mapInfo(s, ctx.process, reply.handle) };
  },
  mapView(ctx, { handle, offset, length, access }) {
    const s = ctx.process.handles.get(handle, 0, sectionType);
    const view = checkView({ size: s.size, protect: s.protect, access: ctx.process.handles.access(handle) }, offset, length, access);
    if ('code' in view) throw new StatusError(view.code, view.detail);
    const views = ctx.process.views;
    check(views.size < MAX_VIEWS_PER_PROCESS, 'ERROR_NOT_ENOUGH_QUOTA', 'too many views in this process');
    let viewId = ctx.process.nextViewId;
    while (viewId === 0 || views.has(viewId)) viewId = (viewId + 1) >>> 0;
    ctx.process.nextViewId = (viewId + 1) >>> 0;
    views.set(viewId, s);
    s.views++;
    ctx.kernel.ref(s);
    ctx.kernel.changed(s);
    return { viewId };
  },
  unmapView(ctx, { viewId }) {
    const s = ctx.process.views.get(viewId) as SectionObject | undefined;
    check(s !== undefined, 'ERROR_INVALID_ADDRESS', `no view ${viewId} in this process`);
    ctx.process.views.delete(viewId);
    s.views--;
    ctx.kernel.changed(s);
    ctx.kernel.unref(s);
    return {};
  },
} satisfies Partial<Handlers>;

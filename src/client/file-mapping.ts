/**
 * FileMapping (a section) and its views. The object manager names the section, counts its
 * handles and views and says how to map it; this process maps the memory itself, so a view
 * is plain memory: reads, writes and Atomics on it cost what they cost on any ArrayBuffer,
 * and are seen at once by every process that maps the same section.
 */
import path from 'node:path';
import { IpcError } from '../errors.ts';
import { Access, PageProtection, checkView, type ViewKind } from '../protocol/access.ts';
import type { ReplyOf } from '../protocol/schema.ts';
import { closeFd, fileSize, mapMemory, openFile, retireMemory, shmOpen, syncMemory, truncate, unmapMemory, type Mapping } from '../native/shm.ts';
import type { Connection } from './connection.ts';
import { accessOf, connectionOf, KernelHandle, optionalName, type HandleOptions } from './handle.ts';

/** A section's page protection: what its views may do. */
export type MappingProtect = 'readonly' | 'readwrite';
/** What a view may do: read, read and write (shared), or copy-on-write (writes stay in this process). */
export type ViewAccess = ViewKind;

export interface FileMappingCreateOptions extends HandleOptions {
  /**
   * Bytes. Backed by memory: at least 1, rounded up to whole 4 KiB pages. Backed by a file:
   * 0 or absent means the file's size.
   */
  size?: number;
  /** Back the section with this existing file (relative to the working directory). */
  file?: string;
  /** Default 'readwrite'. */
  protect?: MappingProtect;
}

export interface FileMappingOpenOptions extends Omit<HandleOptions, 'access'> {
  /** 'read' (FILE_MAP_READ), 'readwrite' (FILE_MAP_READ | FILE_MAP_WRITE, the default), or a mask of {@link Access} rights. */
  access?: 'read' | 'readwrite' | number;
}

const protections: Record<MappingProtect, number> = { readonly: PageProtection.PAGE_READONLY, readwrite: PageProtection.PAGE_READWRITE };
const viewAccesses: Record<ViewAccess, number> = { read: Access.FILE_MAP_READ, readwrite: Access.FILE_MAP_WRITE, copy: Access.FILE_MAP_COPY };
const openAccesses = {
  read: Access.FILE_MAP_READ | Access.SECTION_QUERY,
  readwrite: Access.FILE_MAP_READ | Access.FILE_MAP_WRITE | Access.SECTION_QUERY,
};

type SectionInfo = ReplyOf<'openSection'>;

/** Closes the backing fd of a FileMapping dropped without close(). */
const backingFds = new FinalizationRegistry<number>((fd) => {
  try {
    closeFd(fd);
  } catch {
    // Nothing to report to.
  }
});

export class FileMapping extends KernelHandle {
  /** True when create() opened an existing section (ERROR_ALREADY_EXISTS on Windows). */
  existed = false;
  /** The section's size in bytes (a memory-backed section's is rounded up to whole pages). */
  readonly size: number;
  readonly protect: MappingProtect;
  /** The rights of this handle (see {@link Access}: SECTION_MAP_READ, SECTION_MAP_WRITE, …). */
  readonly access: number;
  /**
   * The POSIX shared memory name of a memory-backed section (`/ntipc-…`, as shm_open takes
   * it; on Linux the file `/dev/shm/ntipc-…`). A program not written in Node maps the
   * section by opening this name while a handle or a view keeps the section alive.
   */
  readonly shmName: string | undefined;
  /** The absolute path of a file-backed section's file. */
  readonly file: string | undefined;
  /** The backing file or shm object, open while the handle is; undefined when no view could be mapped. */
  private fd: number | undefined;
  private closed = false;

  private constructor(connection: Connection, info: SectionInfo, name: string | undefined, fd: number | undefined) {
    super(connection, info.handle, info.objectId, name);
    this.size = info.size;
    this.protect = info.protect === PageProtection.PAGE_READWRITE ? 'readwrite' : 'readonly';
    this.access = info.access;
    this.shmName = info.fileBacked ? undefined : info.backing;
    this.file = info.fileBacked ? info.backing : undefined;
    this.fd = fd;
    if (fd !== undefined) backingFds.register(this, fd, this);
  }

  /**
   * CreateFileMapping. Backed by POSIX shared memory, or with `file` by that existing file:
   * `size` 0 (or absent) maps the whole file, a larger `size` grows a 'readwrite' file to
   * it. With a name, opens the existing section of that name if there is one (`existed`;
   * the other options are ignored, but a file given is still opened and may be grown, as
   * on Windows).
   *
   * Fails: ERROR_INVALID_PARAMETER (no size for a memory-backed section, a size that is not
   * an integer, an unknown `protect`); ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED (the file
   * cannot be opened for `protect`); ERROR_FILE_INVALID (an empty file and size 0);
   * ERROR_NOT_ENOUGH_MEMORY (a 'readonly' section larger than its file, or more shared
   * memory than /dev/shm has room for); the name errors; ERROR_INVALID_HANDLE (a name of
   * another type); ERROR_NOT_ENOUGH_QUOTA.
   */
  static async create(name: string | undefined, opts: FileMappingCreateOptions): Promise<FileMapping> {
    const protect = protections[opts.protect ?? 'readwrite'];
    if (protect === undefined) throw new IpcError('ERROR_INVALID_PARAMETER', 'CreateFileMapping', undefined, `protect ${String(opts.protect)}`);
    let size = opts.size ?? 0;
    const c = await connectionOf(opts);
    let fd: number | undefined;
    let file: string | undefined;
    if (opts.file !== undefined) {
      if (!Number.isSafeInteger(size) || size < 0) throw new IpcError('ERROR_INVALID_PARAMETER', 'CreateFileMapping', undefined, `size ${size}`);
      file = path.resolve(opts.file);
      fd = openFile(file, protect === PageProtection.PAGE_READWRITE);
      try {
        size = fitFile(fd, file, size, protect);
      } catch (e) {
        closeFd(fd);
        throw e;
      }
    }
    let r: ReplyOf<'createSection'>;
    try {
      r = await c.request('createSection', { name: optionalName(name), size, file, protect, access: accessOf(opts) });
    } catch (e) {
      if (fd !== undefined) closeFd(fd);
      throw e;
    }
    if (r.existed && fd !== undefined) {
      // Another section answered to the name: map what it is backed by, not our file.
      closeFd(fd);
      fd = undefined;
    }
    const m = new FileMapping(c, r, name, fd ?? (await openBacking(c, r)));
    m.existed = r.existed;
    return m;
  }

  /**
   * OpenFileMapping. `access` 'read' allows read and copy views, 'readwrite' (the default)
   * read-write views too (if the section is 'readwrite').
   *
   * Fails: the name errors; ERROR_FILE_NOT_FOUND; ERROR_INVALID_HANDLE (another type);
   * ERROR_ACCESS_DENIED (no right granted); ERROR_NOT_ENOUGH_QUOTA.
   */
  static async open(name: string, opts: FileMappingOpenOptions = {}): Promise<FileMapping> {
    const c = await connectionOf({ connection: opts.connection });
    const a = opts.access ?? 'readwrite';
    const access = typeof a === 'number' ? a : openAccesses[a];
    if (access === undefined) throw new IpcError('ERROR_INVALID_PARAMETER', 'OpenFileMapping', undefined, `access ${String(a)}`);
    const r = await c.request('openSection', { name, access });
    return new FileMapping(c, r, name, await openBacking(c, r));
  }

  /**
   * MapViewOfFile: map `length` bytes from `offset` (no length, or 0: to the end) into this
   * process, synchronously. `access` 'readwrite' (the default where the section and the
   * handle allow it, else 'read') shares writes with every other view of the section;
   * 'read' and 'copy' views are copy-on-write: they read the section, and a write to one —
   * a stray one included — changes only this process's copy of that page, which from then
   * on no longer follows the section.
   *
   * Fails: ERROR_INVALID_PARAMETER (not integers; an offset at or past the end);
   * ERROR_MAPPED_ALIGNMENT (an offset not a multiple of 64 KiB); ERROR_ACCESS_DENIED (the
   * handle lacks SECTION_MAP_WRITE for a read-write view or SECTION_MAP_READ for the others;
   * a read-write view of a 'readonly' section; a length past the end);
   * ERROR_NOT_ENOUGH_MEMORY (a view longer than an ArrayBuffer can be: 4 GiB on Node 20);
   * ERROR_INVALID_HANDLE (the mapping is closed); ERROR_CONNECTION_ABORTED.
   */
  map(offset = 0, length?: number, opts: { access?: ViewAccess } = {}): View {
    if (this.closed) throw new IpcError('ERROR_INVALID_HANDLE', 'MapViewOfFile', undefined, 'the mapping is closed');
    if (!this.connection.isOpen) throw new IpcError('ERROR_CONNECTION_ABORTED', 'MapViewOfFile', undefined, 'connection closed');
    const canWrite = this.protect === 'readwrite' && (this.access & Access.SECTION_MAP_WRITE) !== 0;
    const kind = opts.access ?? (canWrite ? 'readwrite' : 'read');
    const viewAccess = viewAccesses[kind];
    if (viewAccess === undefined) throw new IpcError('ERROR_INVALID_PARAMETER', 'MapViewOfFile', undefined, `view access ${String(kind)}`);
    const protect = protections[this.protect];
    const checked = checkView({ size: this.size, protect, access: this.access }, offset, length ?? 0, viewAccess);
    if ('code' in checked) throw new IpcError(checked.code, 'MapViewOfFile', undefined, checked.detail);
    if (this.fd === undefined) throw new IpcError('ERROR_ACCESS_DENIED', 'MapViewOfFile', undefined, 'the handle cannot map views');
    const mapping = mapMemory(this.fd, offset, checked.length, kind === 'readwrite' ? 'shared' : 'private');
    // The object manager counts the view; nothing waits for it here (map is synchronous),
    // and unmap() waits for it before it tells the object manager the view is gone.
    const registration = this.connection.request('mapView', { handle: this.handle, offset, length: length ?? 0, access: viewAccess }).then(
      (r) => r.viewId,
      () => undefined,
    );
    return new View(this.connection, mapping, offset, kind, registration);
  }

  /**
   * CloseHandle. Views stay mapped and keep the section alive; its name goes with its last
   * handle. A second close is a no-op.
   */
  override close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.fd !== undefined) {
        backingFds.unregister(this);
        closeQuietly(this.fd);
        this.fd = undefined;
      }
    }
    return super.close();
  }
}

/** The section size for `file` (open as `fd`): its size for 0, else `size`, growing a read-write file to it. */
function fitFile(fd: number, file: string, size: number, protect: number): number {
  const have = fileSize(fd);
  if (size === 0) {
    if (have === 0) throw new IpcError('ERROR_FILE_INVALID', 'CreateFileMapping', file, 'the file is empty');
    return have;
  }
  if (size > have) {
    if (protect !== PageProtection.PAGE_READWRITE) {
      throw new IpcError('ERROR_NOT_ENOUGH_MEMORY', 'CreateFileMapping', file, `a read-only section of ${size} bytes on a file of ${have}`);
    }
    truncate(fd, size, file);
  }
  return size;
}

/** Open what a section is backed by, as far as this handle's rights go; on failure the handle is closed. */
async function openBacking(c: Connection, r: SectionInfo): Promise<number | undefined> {
  const mapRights = Access.SECTION_MAP_READ | Access.SECTION_MAP_WRITE;
  if ((r.access & mapRights) === 0) return undefined;
  const writable = r.protect === PageProtection.PAGE_READWRITE && (r.access & Access.SECTION_MAP_WRITE) !== 0;
  try {
    return r.fileBacked ? openFile(r.backing, writable) : shmOpen(r.backing, writable);
  } catch (e) {
    await c.request('closeHandle', { handle: r.handle }).catch(() => {});
    throw e;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // Already closed.
  }
}

/** What the finalizer of a view's ArrayBuffer needs: never the buffer or the View. */
interface ViewRemains {
  readonly mapping: Omit<Mapping, 'buffer'>;
  retired: boolean;
  readonly connection: Connection;
  readonly registration: Promise<number | undefined>;
}

/**
 * When a view's ArrayBuffer is garbage (nothing can touch the memory any more), free its
 * address range; a view dropped without unmap() is also unregistered then.
 */
const viewBuffers = new FinalizationRegistry<ViewRemains>((v) => {
  try {
    unmapMemory(v.mapping.pointer, v.mapping.length);
  } catch {
    // Nothing to report to.
  }
  if (!v.retired) {
    void v.registration.then((viewId) => {
      if (viewId !== undefined && v.connection.isOpen) v.connection.request('unmapView', { viewId }).catch(() => {});
    });
  }
});

/** A mapped view of a section: `buffer` is the memory itself. */
export class View implements AsyncDisposable {
  private mapping: Mapping | undefined;
  private unmapping: Promise<void> | undefined;
  private readonly flushes = new Set<Promise<void>>();
  private readonly remains: ViewRemains;

  /** @internal Made by {@link FileMapping.map}. */
  constructor(
    private readonly connection: Connection,
    mapping: Mapping,
    /** Where the view starts in the section. */
    readonly offset: number,
    readonly access: ViewAccess,
    private readonly registration: Promise<number | undefined>,
  ) {
    this.mapping = mapping;
    this.remains = { mapping: { pointer: mapping.pointer, length: mapping.length }, retired: false, connection, registration };
    viewBuffers.register(mapping.buffer, this.remains);
  }

  /** Its length in bytes. */
  get length(): number {
    return this.remains.mapping.length;
  }

  /** False once unmap() has been called. */
  get mapped(): boolean {
    return this.mapping !== undefined;
  }

  /**
   * An ArrayBuffer over the mapped memory (not a SharedArrayBuffer: Atomics.add,
   * compareExchange, load, store… work on an Int32Array over it, across processes, but
   * Atomics.wait does not). After unmap() this throws ERROR_INVALID_ADDRESS; a buffer (or
   * typed array) obtained before then no longer shows the section — it reads zeros — and
   * should not be used.
   */
  get buffer(): ArrayBuffer {
    if (this.mapping === undefined) throw new IpcError('ERROR_INVALID_ADDRESS', 'view.buffer', undefined, 'the view is unmapped');
    return this.mapping.buffer;
  }

  /**
   * FlushViewOfFile: resolves once the view's changes are written to a file-backed
   * section's file (msync, on the thread pool). Nothing to write for a memory-backed
   * section or a copy-on-write view. Fails ERROR_INVALID_ADDRESS once unmapped,
   * ERROR_IO_DEVICE when the writing fails.
   */
  async flush(): Promise<void> {
    if (this.mapping === undefined) throw new IpcError('ERROR_INVALID_ADDRESS', 'FlushViewOfFile', undefined, 'the view is unmapped');
    const done = syncMemory(this.mapping);
    this.flushes.add(done);
    try {
      await done;
    } finally {
      this.flushes.delete(done);
    }
  }

  /**
   * UnmapViewOfFile. The memory leaves this process at once (see `buffer`), and the object
   * manager stops counting the view, so that the section goes when its last handle and view
   * have. A second unmap is a no-op. If the view's connection has closed, only the local
   * unmapping happens: the object manager lets go of a process's views when its last
   * connection closes.
   */
  unmap(): Promise<void> {
    this.unmapping ??= this.release();
    return this.unmapping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.unmap();
  }

  private async release(): Promise<void> {
    const mapping = this.mapping!;
    this.mapping = undefined;
    await Promise.allSettled(this.flushes);
    retireMemory(mapping);
    this.remains.retired = true;
    const viewId = await this.registration;
    if (viewId === undefined || !this.connection.isOpen) return;
    try {
      await this.connection.request('unmapView', { viewId });
    } catch (e) {
      if (!(e instanceof IpcError && e.code === 'ERROR_CONNECTION_ABORTED')) throw e;
    }
  }
}

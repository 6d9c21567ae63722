import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { Access, Event, FileMapping, Mutex, signalAndWait, waitAll, waitAny, type View } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { PageProtection } from '../../src/protocol/access.ts';
import type { ObjectInfo } from '../../src/protocol/schema.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { tempDir } from '../helpers/daemon.ts';

const KiB = 1024;
const GRANULE = 64 * KiB;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const shmExists = (shmName: string | undefined) => shmName !== undefined && fs.existsSync(`/dev/shm${shmName}`);
const bytes = (v: View, at = 0, n = 4) => [...new Uint8Array(v.buffer, at, n)];
let unique = 0;
const fresh = (prefix: string) => `${prefix}-${++unique}`;

for (const backendName of backendNames) {
  describe(`FileMapping (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    let dir: string;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
      dir = tempDir('ntipc-fm-');
    });
    after(async () => {
      try {
        assert.deepEqual(await sections(), [], 'every test let go of its sections');
      } finally {
        await backend.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    const sections = async (): Promise<ObjectInfo[]> => (await a.request('listObjects', { type: 'Section' })).objects;
    const file = (bytesOf: number | Buffer) => {
      const p = path.join(dir, fresh('file'));
      fs.writeFileSync(p, typeof bytesOf === 'number' ? Buffer.alloc(bytesOf) : bytesOf);
      return p;
    };

    describe('names', () => {
      test('create makes a section, create again opens it, another case is another section, open finds only the exact name', async () => {
        const name = fresh('Fm-Case');
        const first = await FileMapping.create(name, { size: 4 * KiB, connection: a });
        const again = await FileMapping.create(name, { size: 8 * KiB, connection: b });
        const other = await FileMapping.create(name.toUpperCase(), { size: 4 * KiB, connection: a });
        assert.equal(first.existed, false);
        assert.equal(again.existed, true);
        assert.equal(again.objectId, first.objectId);
        assert.equal(again.size, 4 * KiB, 'the size given to a create that opens is ignored');
        assert.equal(again.shmName, first.shmName);
        assert.equal(other.existed, false);
        assert.notEqual(other.objectId, first.objectId);
        const opened = await FileMapping.open(name, { connection: b });
        assert.equal(opened.objectId, first.objectId);
        await assert.rejects(FileMapping.open(name.toLowerCase(), { connection: b }), { code: 'ERROR_FILE_NOT_FOUND', errno: 2 });
        for (const m of [opened, other, again, first]) await m.close();
      });

      test('sections share the one namespace: a name of another type fails ERROR_INVALID_HANDLE both ways', async () => {
        const eventName = fresh('fm-clash-event');
        const event = await Event.create(eventName, { connection: a });
        await assert.rejects(FileMapping.create(eventName, { size: 4 * KiB, connection: a }), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(FileMapping.open(eventName, { connection: a }), { code: 'ERROR_INVALID_HANDLE' });
        const sectionName = fresh('fm-clash-section');
        const m = await FileMapping.create(sectionName, { size: 4 * KiB, connection: a });
        await assert.rejects(Mutex.create(sectionName, { connection: a }), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(Mutex.open(sectionName, { connection: a }), { code: 'ERROR_INVALID_HANDLE' });
        await m.close();
        await event.close();
      });

      test('bad names fail with the name errors; no name and an empty name make unnamed sections', async () => {
        await assert.rejects(FileMapping.create('Local\\', { size: 4 * KiB, connection: a }), { code: 'ERROR_INVALID_NAME' });
        await assert.rejects(FileMapping.create('a/b', { size: 4 * KiB, connection: a }), { code: 'ERROR_INVALID_NAME' });
        await assert.rejects(FileMapping.create('n'.repeat(256), { size: 4 * KiB, connection: a }), { code: 'ERROR_FILENAME_EXCED_RANGE' });
        const x = await FileMapping.create(undefined, { size: 4 * KiB, connection: a });
        const y = await FileMapping.create('', { size: 4 * KiB, connection: a });
        assert.notEqual(x.objectId, y.objectId);
        assert.notEqual(x.shmName, y.shmName);
        assert.equal((await x.query()).name, null);
        await x.close();
        await y.close();
      });

      test('open with no right at all fails ERROR_ACCESS_DENIED', async () => {
        const name = fresh('fm-noaccess');
        const m = await FileMapping.create(name, { size: 4 * KiB, connection: a });
        await assert.rejects(FileMapping.open(name, { connection: b, access: 0 }), { code: 'ERROR_ACCESS_DENIED' });
        await m.close();
      });
    });

    describe('creation', () => {
      test('a memory-backed section needs a size that is a positive integer (ERROR_INVALID_PARAMETER) and is rounded up to whole pages', async () => {
        for (const size of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
          await assert.rejects(FileMapping.create(undefined, { size, connection: a }), { code: 'ERROR_INVALID_PARAMETER', errno: 87 }, String(size));
        }
        await assert.rejects(FileMapping.create(undefined, { connection: a }), { code: 'ERROR_INVALID_PARAMETER' });
        const m = await FileMapping.create(undefined, { size: 1, connection: a });
        assert.equal(m.size, 4 * KiB);
        const v = m.map();
        assert.equal(v.length, 4 * KiB);
        await v.unmap();
        await m.close();
      });

      test('a memory-backed section larger than /dev/shm could hold fails ERROR_NOT_ENOUGH_MEMORY', async () => {
        const { bavail, bsize } = fs.statfsSync('/dev/shm');
        await assert.rejects(FileMapping.create(undefined, { size: bavail * bsize + 2 ** 30, connection: a }), { code: 'ERROR_NOT_ENOUGH_MEMORY', errno: 8 });
        assert.equal((await sections()).length, 0);
      });

      test('a protection other than read-only or read-write fails ERROR_INVALID_PARAMETER', async () => {
        await assert.rejects(FileMapping.create(undefined, { size: 4 * KiB, protect: 'none' as never, connection: a }), { code: 'ERROR_INVALID_PARAMETER' });
        for (const protect of [0, PageProtection.PAGE_NOACCESS, PageProtection.PAGE_WRITECOPY, 0x40]) {
          await assert.rejects(a.request('createSection', { name: undefined, file: undefined, size: 4 * KiB, protect, access: Access.MAXIMUM_ALLOWED }), { code: 'ERROR_INVALID_PARAMETER' }, String(protect));
        }
      });

      test('invalid parameters fail even when the name exists', async () => {
        const name = fresh('fm-invalid-exists');
        const m = await FileMapping.create(name, { size: 4 * KiB, connection: a });
        await assert.rejects(FileMapping.create(name, { size: 0, connection: b }), { code: 'ERROR_INVALID_PARAMETER' });
        await m.close();
      });

      test('a memory-backed section is a POSIX shared memory object of its size, zero-filled', async () => {
        const m = await FileMapping.create(undefined, { size: 3 * GRANULE, connection: a });
        assert.match(m.shmName!, /^\/ntipc-\d+-\d+-\d+$/);
        assert.equal(m.file, undefined);
        assert.equal(fs.statSync(`/dev/shm${m.shmName}`).size, 3 * GRANULE);
        const v = m.map();
        assert.ok(new Uint8Array(v.buffer).every((x) => x === 0));
        await v.unmap();
        await m.close();
      });

      test('query describes size, protection, backing and views; a section is never signaled', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, protect: 'readonly', connection: a });
        const v = m.map();
        const info = await m.query();
        assert.equal(info.type, 'Section');
        assert.equal(info.signaled, false);
        assert.deepEqual(info.state, { size: GRANULE, protect: 'readonly', fileBacked: false, backing: m.shmName!, views: 1 });
        await v.unmap();
        assert.equal((await m.query()).state.views, 0);
        await m.close();
      });
    });

    describe('views', () => {
      test('two views of one section, on two threads, see each other\'s writes; Atomics work on them', async () => {
        const name = fresh('fm-share');
        const m1 = await FileMapping.create(name, { size: 2 * GRANULE, connection: a });
        const m2 = await FileMapping.open(name, { connection: b });
        const v1 = m1.map();
        const v2 = m2.map(GRANULE, GRANULE);
        assert.equal(v2.length, GRANULE);
        new Uint8Array(v1.buffer).set([1, 2, 3, 4], GRANULE);
        assert.deepEqual(bytes(v2), [1, 2, 3, 4]);
        const i1 = new Int32Array(v1.buffer, GRANULE + 8, 1);
        const i2 = new Int32Array(v2.buffer, 8, 1);
        assert.equal(Atomics.add(i1, 0, 5), 0);
        assert.equal(Atomics.compareExchange(i2, 0, 5, 7), 5);
        assert.equal(Atomics.load(i1, 0), 7);
        await v1.unmap();
        await v2.unmap();
        await m1.close();
        await m2.close();
      });

      test('an offset not a multiple of 64 KiB fails ERROR_MAPPED_ALIGNMENT', async () => {
        const m = await FileMapping.create(undefined, { size: 4 * GRANULE, connection: a });
        for (const offset of [1, 4 * KiB, GRANULE - 1, GRANULE + 4 * KiB]) {
          assert.throws(() => m.map(offset, 4 * KiB), { code: 'ERROR_MAPPED_ALIGNMENT', errno: 1132 }, String(offset));
        }
        const v = m.map(3 * GRANULE);
        assert.equal(v.length, GRANULE);
        await v.unmap();
        await m.close();
      });

      test('an offset at or past the end fails ERROR_INVALID_PARAMETER; a length past the end ERROR_ACCESS_DENIED; no length or 0 maps to the end', async () => {
        const m = await FileMapping.create(undefined, { size: 2 * GRANULE, connection: a });
        assert.throws(() => m.map(2 * GRANULE), { code: 'ERROR_INVALID_PARAMETER' });
        assert.throws(() => m.map(4 * GRANULE, 1), { code: 'ERROR_INVALID_PARAMETER' });
        assert.throws(() => m.map(0, 2 * GRANULE + 1), { code: 'ERROR_ACCESS_DENIED', errno: 5 });
        assert.throws(() => m.map(GRANULE, GRANULE + 1), { code: 'ERROR_ACCESS_DENIED' });
        for (const bad of [-GRANULE, 0.5, Number.NaN]) assert.throws(() => m.map(bad), { code: 'ERROR_INVALID_PARAMETER' }, String(bad));
        assert.throws(() => m.map(0, -1), { code: 'ERROR_INVALID_PARAMETER' });
        const views = [m.map(), m.map(0, 0), m.map(GRANULE), m.map(0, 1)];
        assert.deepEqual(views.map((v) => v.length), [2 * GRANULE, 2 * GRANULE, GRANULE, 1]);
        assert.equal((await m.query()).state.views, 4);
        for (const v of views) await v.unmap();
        await m.close();
      });

      test('the object manager applies the same checks to a view it is told of', async () => {
        const m = await FileMapping.create(undefined, { size: 2 * GRANULE, protect: 'readonly', connection: a });
        const mapView = (offset: number, length: number, access: number = Access.FILE_MAP_READ) => a.request('mapView', { handle: m.handle, offset, length, access });
        await assert.rejects(mapView(4 * KiB, 0), { code: 'ERROR_MAPPED_ALIGNMENT' });
        await assert.rejects(mapView(2 * GRANULE, 0), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(mapView(0, 2 * GRANULE + 1), { code: 'ERROR_ACCESS_DENIED' });
        await assert.rejects(mapView(0.5, 0), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(mapView(-GRANULE, 0), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(mapView(0, 0, Access.FILE_MAP_WRITE), { code: 'ERROR_ACCESS_DENIED' });
        const event = await Event.create(undefined, { connection: a });
        await assert.rejects(a.request('mapView', { handle: event.handle, offset: 0, length: 0, access: Access.FILE_MAP_READ }), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(b.request('unmapView', { viewId: 0xffff_fff0 }), { code: 'ERROR_INVALID_ADDRESS', errno: 487 });
        const { viewId } = await mapView(0, 0, Access.FILE_MAP_COPY);
        assert.equal((await m.query()).state.views, 1);
        await a.request('unmapView', { viewId });
        await assert.rejects(a.request('unmapView', { viewId }), { code: 'ERROR_INVALID_ADDRESS' });
        await event.close();
        await m.close();
      });

      test('views are counted per process: any thread of the process may unmap them', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
        const { viewId } = await a.request('mapView', { handle: m.handle, offset: 0, length: 0, access: Access.FILE_MAP_READ });
        await b.request('unmapView', { viewId });
        assert.equal((await m.query()).state.views, 0);
        await m.close();
      });

      test('a view longer than an ArrayBuffer can be fails ERROR_NOT_ENOUGH_MEMORY; sections past 4 GiB map in windows', async () => {
        const big = 5 * 2 ** 30;
        const p = file(1);
        const section = await FileMapping.create(undefined, { size: big, file: p, connection: a });
        assert.equal(section.size, big);
        assert.equal(fs.statSync(p).size, big, 'the read-write section grew its file');
        assert.throws(() => section.map(), { code: 'ERROR_NOT_ENOUGH_MEMORY', errno: 8 });
        const high = 4 * 2 ** 30 + GRANULE;
        const v = section.map(high, GRANULE);
        new Uint8Array(v.buffer).set([9, 8, 7], 5);
        await v.flush();
        await v.unmap();
        const fd = fs.openSync(p, 'r');
        const out = Buffer.alloc(3);
        fs.readSync(fd, out, 0, 3, high + 5);
        fs.closeSync(fd);
        assert.deepEqual([...out], [9, 8, 7]);
        await section.close();
        fs.rmSync(p);
      });
    });

    describe('access', () => {
      test('a handle opened FILE_MAP_READ maps read and copy views but not read-write ones (ERROR_ACCESS_DENIED)', async () => {
        const name = fresh('fm-read-handle');
        const m = await FileMapping.create(name, { size: GRANULE, connection: a });
        const r = await FileMapping.open(name, { connection: b, access: 'read' });
        assert.throws(() => r.map(0, undefined, { access: 'readwrite' }), { code: 'ERROR_ACCESS_DENIED' });
        const read = r.map();
        assert.equal(read.access, 'read', 'the default view of a read handle reads');
        const copy = r.map(0, undefined, { access: 'copy' });
        assert.equal((await r.query()).state.views, 2);
        await read.unmap();
        await copy.unmap();
        await r.close();
        await m.close();
      });

      test('a handle opened FILE_MAP_WRITE only maps read-write views; read and copy views need FILE_MAP_READ', async () => {
        const name = fresh('fm-write-handle');
        const m = await FileMapping.create(name, { size: GRANULE, connection: a });
        const w = await FileMapping.open(name, { connection: b, access: Access.FILE_MAP_WRITE });
        assert.throws(() => w.map(0, undefined, { access: 'read' }), { code: 'ERROR_ACCESS_DENIED' });
        assert.throws(() => w.map(0, undefined, { access: 'copy' }), { code: 'ERROR_ACCESS_DENIED' });
        const v = w.map(0, undefined, { access: 'readwrite' });
        new Uint8Array(v.buffer)[0] = 42;
        const mine = m.map(0, 1);
        assert.equal(new Uint8Array(mine.buffer)[0], 42);
        await assert.rejects(w.query(), { code: 'ERROR_ACCESS_DENIED' }, 'no SECTION_QUERY');
        await v.unmap();
        await mine.unmap();
        await w.close();
        await m.close();
      });

      test('generic rights map to section rights; a handle with neither map right maps nothing', async () => {
        const name = fresh('fm-generic');
        const m = await FileMapping.create(name, { size: GRANULE, connection: a });
        const gr = await FileMapping.open(name, { connection: b, access: Access.GENERIC_READ });
        assert.equal(gr.access, Access.READ_CONTROL | Access.SECTION_QUERY | Access.SECTION_MAP_READ);
        const gw = await FileMapping.open(name, { connection: b, access: Access.GENERIC_WRITE });
        assert.equal(gw.access, Access.READ_CONTROL | Access.SECTION_MAP_WRITE);
        const q = await FileMapping.open(name, { connection: b, access: Access.SECTION_QUERY });
        assert.throws(() => q.map(), { code: 'ERROR_ACCESS_DENIED' });
        assert.equal(m.access, Access.FILE_MAP_ALL_ACCESS, 'create grants every section right, and no SYNCHRONIZE');
        for (const h of [q, gw, gr, m]) await h.close();
      });

      test('a read-only section refuses read-write views (ERROR_ACCESS_DENIED) and allows read and copy views', async () => {
        const name = fresh('fm-readonly');
        const m = await FileMapping.create(name, { size: GRANULE, protect: 'readonly', connection: a });
        assert.equal(m.protect, 'readonly');
        assert.throws(() => m.map(0, undefined, { access: 'readwrite' }), { code: 'ERROR_ACCESS_DENIED' });
        const opened = await FileMapping.open(name, { connection: b, access: 'readwrite' });
        assert.throws(() => opened.map(0, undefined, { access: 'readwrite' }), { code: 'ERROR_ACCESS_DENIED' });
        const v = opened.map();
        assert.equal(v.access, 'read');
        await v.unmap();
        await opened.close();
        await m.close();
      });

      test('read and copy views are copy-on-write: a stray write does not fault and stays in that view', async () => {
        const name = fresh('fm-cow');
        const m = await FileMapping.create(name, { size: GRANULE, connection: a });
        const shared = m.map();
        new Uint8Array(shared.buffer).set([1, 1, 1, 1]);
        const r = await FileMapping.open(name, { connection: b, access: 'read' });
        const read = r.map();
        const copy = m.map(0, undefined, { access: 'copy' });
        assert.deepEqual(bytes(read), [1, 1, 1, 1], 'a read view reads the section');
        new Uint8Array(read.buffer)[0] = 2;
        new Uint8Array(copy.buffer)[1] = 3;
        assert.deepEqual(bytes(shared), [1, 1, 1, 1], 'neither write reached the section');
        assert.deepEqual(bytes(read), [2, 1, 1, 1]);
        assert.deepEqual(bytes(copy), [1, 3, 1, 1]);
        new Uint8Array(shared.buffer)[8 * KiB] = 5;
        assert.equal(new Uint8Array(read.buffer)[8 * KiB], 5, 'a page the read view never wrote still follows the section');
        for (const v of [read, copy, shared]) await v.unmap();
        await r.close();
        await m.close();
      });
    });

    describe('lifetime', () => {
      test('closing every handle frees the name while a view keeps the memory; the last unmap removes the shared memory', async () => {
        const name = fresh('fm-lifetime');
        const m = await FileMapping.create(name, { size: GRANULE, connection: a });
        const other = await FileMapping.open(name, { connection: b });
        const v = m.map();
        new Uint8Array(v.buffer)[0] = 77;
        await other.close();
        await m.close();
        assert.equal(new Uint8Array(v.buffer)[0], 77, 'the view is still mapped');
        new Uint8Array(v.buffer)[1] = 78;
        await assert.rejects(FileMapping.open(name, { connection: b }), { code: 'ERROR_FILE_NOT_FOUND' });
        const listed = (await sections()).find((s) => s.id === m.objectId);
        assert.equal(listed?.handles, 0);
        assert.equal(listed?.state.views, 1);
        assert.ok(shmExists(m.shmName), 'the view keeps the shared memory object');
        const again = await FileMapping.create(name, { size: GRANULE, connection: b });
        assert.equal(again.existed, false, 'a create of the freed name makes a new section');
        assert.notEqual(again.objectId, m.objectId);
        const newView = again.map(0, 2);
        assert.equal(new Uint8Array(newView.buffer)[0], 0);
        await v.unmap();
        assert.equal((await sections()).some((s) => s.id === m.objectId), false);
        assert.equal(shmExists(m.shmName), false);
        await again.close();
        assert.equal(shmExists(again.shmName), true, 'the view of the new section holds it');
        await newView.unmap();
        assert.equal(shmExists(again.shmName), false);
      });

      test('the last handle closing removes the shared memory when no view is mapped', async () => {
        const m = await FileMapping.create(fresh('fm-last-handle'), { size: GRANULE, connection: a });
        assert.ok(shmExists(m.shmName));
        await m.close();
        await m.close();
        assert.equal(shmExists(m.shmName), false);
      });

      test('unmap twice is a no-op; after unmap the buffer and flush fail ERROR_INVALID_ADDRESS and a kept buffer no longer shows the section', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
        const v = m.map();
        const other = m.map();
        const kept = new Uint8Array(v.buffer);
        kept[0] = 1;
        await v.unmap();
        await v.unmap();
        assert.equal(v.mapped, false);
        assert.throws(() => v.buffer, { code: 'ERROR_INVALID_ADDRESS' });
        await assert.rejects(v.flush(), { code: 'ERROR_INVALID_ADDRESS' });
        assert.equal(kept[0], 0);
        kept[0] = 9;
        assert.equal(new Uint8Array(other.buffer)[0], 1);
        assert.equal((await m.query()).state.views, 1);
        await other.unmap();
        await m.close();
      });

      test('a view dropped without unmap is unmapped and uncounted once its buffer is garbage-collected', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
        (() => {
          new Uint8Array(m.map().buffer)[0] = 1;
        })();
        assert.equal((await m.query()).state.views, 1);
        const views = async () => (await m.query()).state.views;
        for (let round = 0; round < 50 && (await views()) !== 0; round++) {
          gc();
          await new Promise((r) => setImmediate(r));
        }
        assert.equal(await views(), 0);
        await m.close();
        assert.equal(shmExists(m.shmName), false);
      });

      test('a closed mapping maps nothing (ERROR_INVALID_HANDLE); its views live on', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
        const v = m.map();
        await m.close();
        assert.throws(() => m.map(), { code: 'ERROR_INVALID_HANDLE' });
        new Uint8Array(v.buffer)[0] = 1;
        await v.unmap();
      });

      test('await using unmaps a view and closes a mapping', async () => {
        let shmName: string | undefined;
        {
          await using m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
          await using v = m.map();
          new Uint8Array(v.buffer)[0] = 1;
          shmName = m.shmName;
          assert.ok(shmExists(shmName));
        }
        assert.equal(shmExists(shmName), false);
      });
    });

    describe('waits', () => {
      test('a section cannot be waited on: ERROR_INVALID_HANDLE, whatever the rights', async () => {
        const m = await FileMapping.create(undefined, { size: GRANULE, connection: a });
        const e = await Event.create(undefined, { connection: a, initialState: true });
        await assert.rejects(m.wait(0), { code: 'ERROR_INVALID_HANDLE', errno: 6 });
        await assert.rejects(waitAny([e, m], 0), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(waitAll([e, m], 0), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(signalAndWait(e, m, 0), { code: 'ERROR_INVALID_HANDLE' });
        await assert.rejects(signalAndWait(m, e, 0), { code: 'ERROR_INVALID_HANDLE' });
        const all = await a.request('createSection', { name: undefined, file: undefined, size: GRANULE, protect: PageProtection.PAGE_READWRITE, access: Access.GENERIC_ALL | Access.SYNCHRONIZE });
        assert.equal(all.access & Access.SYNCHRONIZE, 0, 'a section has no SYNCHRONIZE right to grant');
        await assert.rejects(a.request('wait', { handles: [all.handle], all: false, timeoutMs: 0, detectDeadlock: false }), { code: 'ERROR_INVALID_HANDLE' });
        assert.equal(await e.wait(0), 'signaled', 'the failed waits consumed nothing');
        await a.request('closeHandle', { handle: all.handle });
        await e.close();
        await m.close();
      });
    });

    describe('file-backed', () => {
      test('size 0 maps the whole file; writes reach the file after flush; another thread maps the same file by name', async () => {
        const p = file(Buffer.from('hello, file mapping'));
        const name = fresh('fm-file');
        const m = await FileMapping.create(name, { file: p, connection: a });
        assert.equal(m.size, 19);
        assert.equal(m.file, p);
        assert.equal(m.shmName, undefined);
        const v = m.map();
        assert.equal(Buffer.from(v.buffer).toString(), 'hello, file mapping');
        Buffer.from(v.buffer).write('HELLO');
        await v.flush();
        assert.equal(fs.readFileSync(p, 'utf8'), 'HELLO, file mapping');
        const o = await FileMapping.open(name, { connection: b });
        assert.equal(o.file, p);
        const ov = o.map(0, 5);
        assert.equal(Buffer.from(ov.buffer).toString(), 'HELLO');
        assert.deepEqual((await o.query()).state, { size: 19, protect: 'readwrite', fileBacked: true, backing: p, views: 2 });
        await v.unmap();
        await ov.unmap();
        await o.close();
        await m.close();
        assert.equal(fs.readFileSync(p, 'utf8'), 'HELLO, file mapping', 'nothing removes the file');
      });

      test('a relative path is resolved against the working directory', async () => {
        const p = file(4);
        const m = await FileMapping.create(undefined, { file: path.relative(process.cwd(), p), connection: a });
        assert.equal(m.file, p);
        await m.close();
      });

      test('a missing file fails ERROR_FILE_NOT_FOUND; an empty file with size 0 ERROR_FILE_INVALID', async () => {
        await assert.rejects(FileMapping.create(undefined, { file: path.join(dir, 'missing'), connection: a }), { code: 'ERROR_FILE_NOT_FOUND' });
        await assert.rejects(FileMapping.create(undefined, { file: file(0), connection: a }), { code: 'ERROR_FILE_INVALID', errno: 1006 });
        await assert.rejects(FileMapping.create(undefined, { file: file(4), size: -1, connection: a }), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(a.request('createSection', { name: undefined, size: 4, file: 'relative', protect: PageProtection.PAGE_READWRITE, access: Access.MAXIMUM_ALLOWED }), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(a.request('createSection', { name: undefined, size: 0, file: '/abs', protect: PageProtection.PAGE_READWRITE, access: Access.MAXIMUM_ALLOWED }), { code: 'ERROR_FILE_INVALID' });
      });

      test('a read-only section larger than its file fails ERROR_NOT_ENOUGH_MEMORY; a read-write one grows the file', async () => {
        const ro = file(0x3456);
        await assert.rejects(FileMapping.create(undefined, { file: ro, size: 0x3457, protect: 'readonly', connection: a }), { code: 'ERROR_NOT_ENOUGH_MEMORY', errno: 8 });
        assert.equal(fs.statSync(ro).size, 0x3456);
        const exact = await FileMapping.create(undefined, { file: ro, size: 0x3456, protect: 'readonly', connection: a });
        assert.throws(() => exact.map(0, 0x3457), { code: 'ERROR_ACCESS_DENIED' }, 'a view one byte larger than the section');
        await exact.close();
        const rw = file(4 * KiB);
        const m = await FileMapping.create(undefined, { file: rw, size: 0x10_0000, connection: a });
        assert.equal(m.size, 0x10_0000);
        assert.equal(fs.statSync(rw).size, 0x10_0000);
        const v = m.map();
        assert.equal(v.length, 0x10_0000);
        await m.close();
        new Uint8Array(v.buffer)[0x10_0000 - 1] = 1;
        await v.flush();
        await v.unmap();
        assert.equal(fs.readFileSync(rw)[0x10_0000 - 1], 1);
      });

      test('a file-backed section leaves nothing in /dev/shm and its read views do not write the file', async () => {
        const p = file(Buffer.from('abcd'));
        const m = await FileMapping.create(undefined, { file: p, protect: 'readonly', connection: a });
        assert.equal(m.shmName, undefined);
        assert.deepEqual((await m.query()).state, { size: 4, protect: 'readonly', fileBacked: true, backing: p, views: 0 });
        const v = m.map();
        new Uint8Array(v.buffer)[0] = 0x5a;
        await v.flush();
        assert.equal(fs.readFileSync(p, 'utf8'), 'abcd');
        await v.unmap();
        await m.close();
      });
    });
  });
}

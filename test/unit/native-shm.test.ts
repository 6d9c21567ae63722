/**
 * The native layer on its own: POSIX shared memory, files, mappings, and errno turned into
 * Windows' codes. Every shared memory object made here is removed in `after`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadLibc } from '../../src/native/libc.ts';
import {
  MAX_MAPPING,
  bindFunction,
  closeFd,
  errnoName,
  fileSize,
  mapMemory,
  openFile,
  retireMemory,
  shmCreate,
  shmOpen,
  shmUnlink,
  statusOfErrno,
  syncMemory,
  truncate,
  unmapMemory,
  type Mapping,
} from '../../src/native/shm.ts';
import { tempDir } from '../helpers/daemon.ts';

const PAGE = 4096;
let n = 0;
const made: string[] = [];
/** A fresh shared memory name of this test process (not of the form the object manager sweeps). */
const shmName = () => {
  const name = `/ntipc-unit-${process.pid}-${++n}`;
  made.push(name);
  return name;
};
const dir = tempDir('ntipc-shm-');
const unmap = (m: Mapping) => unmapMemory(m.pointer, m.length);

after(() => {
  for (const name of made) if (fs.existsSync(`/dev/shm${name}`)) shmUnlink(name);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('shared memory objects', () => {
  test('created at its size, zero-filled, and two mappings of it share their bytes', () => {
    const name = shmName();
    shmCreate(name, 3 * PAGE);
    const fd = shmOpen(name, true);
    assert.equal(fileSize(fd), 3 * PAGE);
    const a = mapMemory(fd, 0, 3 * PAGE, 'shared');
    const b = mapMemory(fd, PAGE, 2 * PAGE, 'shared');
    closeFd(fd);
    assert.equal(a.buffer.byteLength, 3 * PAGE);
    assert.ok(new Uint8Array(a.buffer).every((x) => x === 0));
    new Uint8Array(a.buffer)[PAGE + 7] = 42;
    assert.equal(new Uint8Array(b.buffer)[7], 42);
    const ints = new Int32Array(b.buffer);
    assert.equal(Atomics.add(ints, 4, 3), 0);
    assert.equal(Atomics.load(new Int32Array(a.buffer), PAGE / 4 + 4), 3);
    unmap(a);
    unmap(b);
    shmUnlink(name);
    assert.equal(fs.existsSync(`/dev/shm${name}`), false);
  });

  test('a name that exists fails ERROR_ALREADY_EXISTS; a missing one ERROR_FILE_NOT_FOUND, with the call and the errno named', () => {
    const name = shmName();
    shmCreate(name, PAGE);
    assert.throws(() => shmCreate(name, PAGE), { code: 'ERROR_ALREADY_EXISTS', syscall: 'shm_open', path: name });
    shmUnlink(name);
    assert.throws(() => shmOpen(name, false), (e: Error & { code?: string; syscall?: string }) => {
      assert.equal(e.code, 'ERROR_FILE_NOT_FOUND');
      assert.equal(e.syscall, 'shm_open');
      assert.match(e.message, /ENOENT \(2\)/);
      return true;
    });
    assert.throws(() => shmUnlink(name), { code: 'ERROR_FILE_NOT_FOUND', syscall: 'shm_unlink' });
  });

  test('a bad name fails ERROR_INVALID_PARAMETER; a failing resize removes the half-made object', () => {
    assert.throws(() => shmCreate('/a/b', PAGE), { code: 'ERROR_INVALID_PARAMETER' });
    const name = shmName();
    assert.throws(() => shmCreate(name, -1), { code: 'ERROR_INVALID_PARAMETER', syscall: 'ftruncate' });
    assert.equal(fs.existsSync(`/dev/shm${name}`), false);
  });

  test('a read-only fd maps privately but not shared-writable (ERROR_ACCESS_DENIED); private writes stay private', () => {
    const name = shmName();
    shmCreate(name, PAGE);
    const rw = shmOpen(name, true);
    const ro = shmOpen(name, false);
    assert.throws(() => mapMemory(ro, 0, PAGE, 'shared'), { code: 'ERROR_ACCESS_DENIED', syscall: 'mmap' });
    const shared = mapMemory(rw, 0, PAGE, 'shared');
    const priv = mapMemory(ro, 0, PAGE, 'private');
    new Uint8Array(shared.buffer)[0] = 1;
    assert.equal(new Uint8Array(priv.buffer)[0], 1, 'a page not yet written follows the object');
    new Uint8Array(priv.buffer)[1] = 2;
    assert.equal(new Uint8Array(shared.buffer)[1], 0, 'a private write does not reach it');
    for (const m of [shared, priv]) unmap(m);
    closeFd(rw);
    closeFd(ro);
    shmUnlink(name);
  });
});

describe('mappings', () => {
  test('a length of 0 or past what an ArrayBuffer holds fails ERROR_NOT_ENOUGH_MEMORY before mapping; an unaligned offset ERROR_INVALID_PARAMETER', () => {
    const name = shmName();
    shmCreate(name, PAGE);
    const fd = shmOpen(name, true);
    assert.throws(() => mapMemory(fd, 0, 0, 'shared'), { code: 'ERROR_NOT_ENOUGH_MEMORY' });
    assert.throws(() => mapMemory(fd, 0, MAX_MAPPING + 1, 'shared'), { code: 'ERROR_NOT_ENOUGH_MEMORY' });
    assert.throws(() => mapMemory(fd, 1, PAGE, 'shared'), { code: 'ERROR_INVALID_PARAMETER', syscall: 'mmap' });
    closeFd(fd);
    shmUnlink(name);
  });

  test('a retired mapping reads zeros and writes privately, while the object and its other mappings keep their bytes', () => {
    const name = shmName();
    shmCreate(name, PAGE);
    const fd = shmOpen(name, true);
    const a = mapMemory(fd, 0, PAGE, 'shared');
    const b = mapMemory(fd, 0, PAGE, 'shared');
    closeFd(fd);
    const stale = new Uint8Array(a.buffer);
    stale[0] = 5;
    retireMemory(a);
    assert.equal(stale[0], 0);
    stale[1] = 6;
    assert.deepEqual([...new Uint8Array(b.buffer, 0, 2)], [5, 0]);
    unmap(a);
    unmap(b);
    shmUnlink(name);
  });

  test('files: open, size, grow, map shared, and sync the changes to the file', async () => {
    const file = path.join(dir, 'f.bin');
    fs.writeFileSync(file, 'abc');
    const fd = openFile(file, true);
    assert.equal(fileSize(fd), 3);
    truncate(fd, 2 * PAGE);
    assert.equal(fs.statSync(file).size, 2 * PAGE);
    const m = mapMemory(fd, 0, 2 * PAGE, 'shared');
    closeFd(fd);
    Buffer.from(m.buffer).write('XY', PAGE + 1);
    await syncMemory(m);
    assert.equal(fs.readFileSync(file).subarray(PAGE + 1, PAGE + 3).toString(), 'XY');
    assert.equal(fs.readFileSync(file).subarray(0, 3).toString(), 'abc');
    unmap(m);
  });

  test('file failures: missing ERROR_FILE_NOT_FOUND, a directory for writing ERROR_ACCESS_DENIED, a closed fd ERROR_INVALID_HANDLE', () => {
    assert.throws(() => openFile(path.join(dir, 'missing'), false), { code: 'ERROR_FILE_NOT_FOUND', syscall: 'open' });
    assert.throws(() => openFile(dir, true), { code: 'ERROR_ACCESS_DENIED' });
    assert.throws(() => closeFd(-1), { code: 'ERROR_INVALID_HANDLE', syscall: 'close' });
    assert.throws(() => fileSize(-1), { code: 'ERROR_INVALID_HANDLE', syscall: 'lseek' });
  });
});

describe('errno and bindings', () => {
  test('errno names map to Windows codes where Windows has one, the rest to ERROR_INVALID_FUNCTION', () => {
    assert.equal(statusOfErrno('ENOENT'), 'ERROR_FILE_NOT_FOUND');
    assert.equal(statusOfErrno('EACCES'), 'ERROR_ACCESS_DENIED');
    assert.equal(statusOfErrno('EPERM'), 'ERROR_ACCESS_DENIED');
    assert.equal(statusOfErrno('ENOMEM'), 'ERROR_NOT_ENOUGH_MEMORY');
    assert.equal(statusOfErrno('EINVAL'), 'ERROR_INVALID_PARAMETER');
    assert.equal(statusOfErrno('EEXIST'), 'ERROR_ALREADY_EXISTS');
    assert.equal(statusOfErrno('EMFILE'), 'ERROR_NOT_ENOUGH_QUOTA');
    assert.equal(statusOfErrno('ENOSPC'), 'ERROR_DISK_FULL');
    assert.equal(statusOfErrno('ELOOP'), 'ERROR_INVALID_FUNCTION');
    assert.equal(errnoName(2), 'ENOENT');
    assert.equal(errnoName(100_000), 'errno 100000');
  });

  test('a C function the library lacks fails ERROR_NOT_SUPPORTED naming it', () => {
    const { libc } = loadLibc();
    assert.throws(() => bindFunction(libc, 'int ntipc_no_such_call(int x)'), { code: 'ERROR_NOT_SUPPORTED', syscall: 'ntipc_no_such_call' });
  });
});

/**
 * The native pipe layer on its own: pipe2, buffer sizes, FIONREAD, poll, a second open file
 * description of an end, and errno turned into Windows' codes. Every fd opened is closed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  bytesInPipe,
  createOsPipe,
  describeFd,
  openPipeDescription,
  pipeFailure,
  pipeSize,
  pipeSizeLimit,
  pollNow,
  setPipeSize,
} from '../../src/native/pipe.ts';

const open = new Set<number>();
const track = (fd: number) => (open.add(fd), fd);
const close = (fd: number) => {
  open.delete(fd);
  fs.closeSync(fd);
};
after(() => {
  for (const fd of open) fs.closeSync(fd);
});

function pipe() {
  const p = createOsPipe();
  track(p.read);
  track(p.write);
  return p;
}

describe('pipe2', () => {
  test('makes a pipe whose ends are blocking, close-on-exec, and open one way each', () => {
    const { read, write } = pipe();
    assert.notEqual(read, write);
    assert.deepEqual(describeFd(read), { pipe: true, access: 'read', nonBlocking: false, closeOnExec: true });
    assert.deepEqual(describeFd(write), { pipe: true, access: 'write', nonBlocking: false, closeOnExec: true });
    fs.writeSync(write, 'abc');
    const buf = Buffer.alloc(8);
    assert.equal(fs.readSync(read, buf), 3);
    assert.equal(buf.subarray(0, 3).toString(), 'abc');
  });

  test('describes a regular file as not a pipe, and a closed fd as ERROR_INVALID_HANDLE', () => {
    const fd = track(fs.openSync(fileURLToPath(import.meta.url), 'r'));
    assert.equal(describeFd(fd).pipe, false);
    close(fd);
    assert.throws(() => describeFd(fd), { code: 'ERROR_INVALID_HANDLE' });
  });
});

describe('buffer size', () => {
  test('is 64 KiB at first; a size asked for is rounded up to a power-of-two number of pages', () => {
    const { read, write } = pipe();
    assert.equal(pipeSize(read), 65536);
    assert.equal(setPipeSize(write, 5000), 8192);
    assert.equal(pipeSize(read), 8192); // one pipe: both ends see it
    assert.equal(setPipeSize(write, 1), 4096);
    assert.equal(setPipeSize(write, 65537), 131072);
  });

  test('more than the limit gets the limit', () => {
    const { write } = pipe();
    assert.equal(setPipeSize(write, 2 ** 32 - 1), pipeSizeLimit());
    assert.ok(pipeSizeLimit() >= 4096);
  });
});

describe('what is in the pipe', () => {
  test('FIONREAD counts the bytes waiting', () => {
    const { read, write } = pipe();
    assert.equal(bytesInPipe(read), 0);
    fs.writeSync(write, Buffer.alloc(1000));
    assert.equal(bytesInPipe(read), 1000);
    fs.readSync(read, Buffer.alloc(400));
    assert.equal(bytesInPipe(read), 600);
  });

  test('poll: readable with data, hung up with every writer gone, error on a write end without reader', () => {
    const { read, write } = pipe();
    assert.equal(pollNow(read, POLLIN), 0);
    assert.equal(pollNow(write, POLLOUT), POLLOUT);
    fs.writeSync(write, 'x');
    assert.equal(pollNow(read, POLLIN), POLLIN);
    close(write);
    assert.equal(pollNow(read, POLLIN), POLLIN | POLLHUP); // data left, then the end
    fs.readSync(read, Buffer.alloc(1));
    assert.equal(pollNow(read, POLLIN), POLLHUP);

    const other = pipe();
    close(other.read);
    assert.equal(pollNow(other.write, POLLOUT) & POLLERR, POLLERR);
  });
});

describe('a second open file description', () => {
  test('is non-blocking while the fd it came from stays blocking, and reads the same pipe', () => {
    const { read, write } = pipe();
    const mine = track(openPipeDescription(read, 'read'));
    assert.ok(mine > 2);
    assert.deepEqual(describeFd(mine), { pipe: true, access: 'read', nonBlocking: true, closeOnExec: true });
    assert.equal(describeFd(read).nonBlocking, false);
    assert.throws(() => fs.readSync(mine, Buffer.alloc(4)), { code: 'EAGAIN' }); // empty: no waiting
    fs.writeSync(write, 'shared');
    const buf = Buffer.alloc(16);
    assert.equal(fs.readSync(mine, buf), 6);
    assert.equal(buf.subarray(0, 6).toString(), 'shared');
  });

  test('of the write end writes into the same pipe; with no reader left its writes fail EPIPE', () => {
    const { read, write } = pipe();
    const mine = track(openPipeDescription(write, 'write'));
    assert.deepEqual(describeFd(mine), { pipe: true, access: 'write', nonBlocking: true, closeOnExec: true });
    fs.writeSync(mine, 'via mine');
    assert.equal(bytesInPipe(read), 8);
    close(read);
    // An anonymous pipe opens without a reader (only a named FIFO refuses: ENXIO); writes then fail.
    const late = track(openPipeDescription(write, 'write'));
    assert.throws(() => fs.writeSync(late, 'x'), { code: 'EPIPE' });
  });

  test('of a named FIFO without a reader fails ERROR_NO_DATA (ENXIO)', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-fifo-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = track(fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    const writer = track(fs.openSync(fifo, fs.constants.O_WRONLY));
    assert.equal(describeFd(writer).pipe, true);
    close(reader);
    assert.throws(() => openPipeDescription(writer, 'write'), { code: 'ERROR_NO_DATA' });
  });

  test('counts as a reader until closed: the write end sees no reader only once both are closed', () => {
    const { read, write } = pipe();
    const mine = track(openPipeDescription(read, 'read'));
    close(read);
    assert.equal(pollNow(write, POLLOUT) & POLLERR, 0);
    close(mine);
    assert.equal(pollNow(write, POLLOUT) & POLLERR, POLLERR);
  });

  test('of a closed fd fails ERROR_INVALID_HANDLE', () => {
    const { read } = pipe();
    close(read);
    assert.throws(() => openPipeDescription(read, 'read'), { code: 'ERROR_INVALID_HANDLE' });
  });
});

describe('errno as Windows codes', () => {
  test('no reader is ERROR_NO_DATA; out of fds is ERROR_NOT_ENOUGH_QUOTA; a bad fd ERROR_INVALID_HANDLE', () => {
    assert.equal(pipeFailure('EPIPE', 'WriteFile').code, 'ERROR_NO_DATA');
    assert.equal(pipeFailure('ENXIO', 'open').code, 'ERROR_NO_DATA');
    assert.equal(pipeFailure('EMFILE', 'pipe2').code, 'ERROR_NOT_ENOUGH_QUOTA');
    assert.equal(pipeFailure('EBADF', 'ReadFile').code, 'ERROR_INVALID_HANDLE');
    const e = pipeFailure('EPIPE', 'WriteFile');
    assert.equal(e.errno, 232);
    assert.equal(e.syscall, 'WriteFile');
    assert.match(e.message, /EPIPE/);
  });
});

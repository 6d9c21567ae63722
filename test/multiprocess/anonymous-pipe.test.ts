/**
 * Anonymous pipes: real OS pipes between this process and real child processes (ordinary
 * programs given an end as stdin or stdout, and test/fixtures/pipe-end-child.ts using
 * PipeEnd.from), including a writer killed mid-write and a reader gone.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PipeEnd, createPipe, type CreatePipeOptions } from '../../src/client/anonymous-pipe.ts';
import { describeFd, pipeSizeLimit } from '../../src/native/pipe.ts';

const fixture = fileURLToPath(new URL('../fixtures/pipe-end-child.ts', import.meta.url));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A pipe whose ends are closed after the test. */
async function pipeFor(t: TestContext, opts?: CreatePipeOptions) {
  const p = await createPipe(opts);
  t.after(async () => {
    await p.read.close();
    await p.write.close();
  });
  return p;
}

interface Child {
  proc: ChildProcess;
  /** The next line the child prints on stdout. */
  line(): Promise<string>;
  /** All of stdout, once the child has closed it. */
  output: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: string[], stdio: StdioOptions): Child {
  const proc = spawn(command, args, { stdio });
  children.add(proc);
  const exit = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let all = '';
  const stdout = proc.stdout;
  const output = new Promise<string>((resolve) => {
    if (stdout === null) return resolve('');
    stdout.setEncoding('utf8');
    stdout.on('data', (d: string) => (all += d));
    stdout.on('end', () => resolve(all));
  });
  if (stdout !== null) {
    readline.createInterface({ input: stdout }).on('line', (l) => {
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    });
  }
  return {
    proc,
    line: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    output,
    exit,
  };
}

/** The fixture with `end` as its fd 3. */
const startFixture = (end: PipeEnd, ...args: string[]) => start(process.execPath, ['--import', 'tsx', fixture, ...args], ['ignore', 'pipe', 'inherit', end.fd]);

/** Node running `code`, with this stdio. */
const startNode = (code: string, stdio: StdioOptions) => start(process.execPath, ['-e', code], stdio);

/** `length` bytes of the fixture's pattern from stream offset `from`. */
function pattern(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (from + i) % 251;
  return b;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Assert that `p` rejects with IpcError `code`. */
async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (e: { code?: string; name?: string }) => {
    assert.equal(e.name, 'IpcError');
    assert.equal(e.code, code);
    return true;
  });
}

describe('reading and writing', () => {
  test('data survives closing the write end; then a read fails ERROR_BROKEN_PIPE (EOF is an error)', async (t) => {
    const { read, write } = await pipeFor(t);
    assert.equal(await write.write(Buffer.alloc(22, 7)), 22);
    await write.close();
    const buf = Buffer.alloc(32);
    assert.deepEqual(await read.read(buf), { bytesRead: 22, moreData: false });
    assert.deepEqual(buf.subarray(0, 22), Buffer.alloc(22, 7));
    await rejectsWith(read.read(buf), 'ERROR_BROKEN_PIPE');
    await rejectsWith(read.read(buf), 'ERROR_BROKEN_PIPE');
    await rejectsWith(read.peek(), 'ERROR_BROKEN_PIPE');
    await rejectsWith(read.readMessage(), 'ERROR_BROKEN_PIPE');
    assert.equal((await read.readAll()).length, 0);
  });

  test('a waiting read completes with whatever arrives, all of it, not one byte', async (t) => {
    const { read, write } = await pipeFor(t);
    const buf = Buffer.alloc(100);
    const pending = read.read(buf);
    await write.write('abcdef');
    assert.equal((await pending).bytesRead, 6);
    assert.equal(buf.subarray(0, 6).toString(), 'abcdef');
  });

  test('waiting reads are served in call order, each with what there is', async (t) => {
    const { read, write } = await pipeFor(t);
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(4);
    const first = read.read(a);
    const second = read.read(b);
    await write.write('123456');
    assert.equal((await first).bytesRead, 4);
    assert.equal((await second).bytesRead, 2);
    assert.equal(a.toString() + b.subarray(0, 2).toString(), '123456');
  });

  test('a waiting read ends with ERROR_BROKEN_PIPE when the last write end closes', async (t) => {
    const { read, write } = await pipeFor(t);
    const pending = rejectsWith(read.read(Buffer.alloc(8)), 'ERROR_BROKEN_PIPE');
    await write.close();
    await pending;
  });

  test('zero-length reads: at once when data is there, which stays; else they wait for data', async (t) => {
    const { read, write } = await pipeFor(t);
    const empty = Buffer.alloc(0);
    let done = false;
    const waiting = read.read(empty).then((r) => ((done = true), r));
    assert.deepEqual((await read.peek()).bytesAvailable, 0);
    assert.equal(done, false);
    await write.write('xyz');
    assert.deepEqual(await waiting, { bytesRead: 0, moreData: false });
    assert.deepEqual(await read.read(empty), { bytesRead: 0, moreData: false });
    assert.equal((await read.peek()).data.toString(), 'xyz');
    assert.equal((await read.readMessage()).toString(), 'xyz');
  });

  test('zero-length writes resolve 0 at once, even with the pipe full', async (t) => {
    const { read, write } = await pipeFor(t, { bufferSize: 4096 });
    const filling = write.write(Buffer.alloc(8192, 1));
    assert.equal((await read.peek(0)).bytesAvailable, 4096);
    assert.equal(await write.write(Buffer.alloc(0)), 0);
    assert.equal(await write.write(''), 0);
    const got = Buffer.alloc(8192);
    for (let n = 0; n < got.length; ) n += (await read.read(got.subarray(n))).bytesRead;
    assert.equal(await filling, 8192);
    assert.deepEqual(got, Buffer.alloc(8192, 1));
  });

  test('peek shows what is there without taking it; readMessage takes it all', async (t) => {
    const { read, write } = await pipeFor(t);
    await write.write('hello');
    await write.write(' world');
    assert.deepEqual(await read.peek(4), { data: Buffer.from('hell'), bytesAvailable: 11, messageBytesLeft: 0 });
    assert.deepEqual(await read.peek(), { data: Buffer.from('hello world'), bytesAvailable: 11, messageBytesLeft: 0 });
    const two = Buffer.alloc(2);
    await read.read(two);
    assert.equal(two.toString(), 'he');
    assert.equal((await read.peek(0)).bytesAvailable, 9);
    assert.equal((await read.readMessage()).toString(), 'llo world');
    assert.equal((await read.peek()).bytesAvailable, 0);
  });

  test('an aborted read takes nothing; the next read gets the data', async (t) => {
    const { read, write } = await pipeFor(t);
    const ac = new AbortController();
    const pending = read.read(Buffer.alloc(4), { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await write.write('data');
    assert.equal((await read.readMessage()).toString(), 'data');
    await assert.rejects(read.read(Buffer.alloc(1), { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('a write with no read end left fails ERROR_NO_DATA, zero bytes included, and nothing dies', async (t) => {
    const { read, write } = await pipeFor(t);
    await read.close();
    await rejectsWith(write.write('x'), 'ERROR_NO_DATA');
    await rejectsWith(write.write(Buffer.alloc(100_000)), 'ERROR_NO_DATA');
    await rejectsWith(write.write(''), 'ERROR_NO_DATA');
  });

  test('the fds stay blocking and close-on-exec while this process reads and writes through the pipe', async (t) => {
    const { read, write } = await pipeFor(t);
    await write.write('ab');
    await read.read(Buffer.alloc(1));
    const pending = read.read(Buffer.alloc(8));
    for (const end of [read, write]) {
      const d = describeFd(end.fd);
      assert.equal(d.pipe, true);
      assert.equal(d.nonBlocking, false);
      assert.equal(d.closeOnExec, true);
      assert.equal(d.access, end.access);
    }
    await write.close();
    assert.equal((await pending).bytesRead, 1);
  });
});

describe('one way', () => {
  test('writing on the read end or reading on the write end fails ERROR_ACCESS_DENIED', async (t) => {
    const { read, write } = await pipeFor(t);
    assert.equal(read.access, 'read');
    assert.equal(write.access, 'write');
    await rejectsWith(read.write('x'), 'ERROR_ACCESS_DENIED');
    await rejectsWith(write.read(Buffer.alloc(1)), 'ERROR_ACCESS_DENIED');
    await rejectsWith(write.readMessage(), 'ERROR_ACCESS_DENIED');
    await rejectsWith(write.readAll(), 'ERROR_ACCESS_DENIED');
    await rejectsWith(write.peek(), 'ERROR_ACCESS_DENIED');
    await write.write('still works');
    assert.equal((await read.readMessage()).toString(), 'still works');
  });

  test('the read end is the server end, the write end the client end, one instance (GetNamedPipeInfo)', async (t) => {
    const { read, write } = await pipeFor(t);
    const sizes = { maxInstances: 1, outBufferSize: 65536, inBufferSize: 65536, pipeSize: 65536 };
    assert.deepEqual(await read.info(), { type: 'byte', end: 'server', ...sizes });
    assert.deepEqual(await write.info(), { type: 'byte', end: 'client', ...sizes });
  });

  test('the stream of the read end is a Readable, of the write end a Writable', async (t) => {
    const { read, write } = await pipeFor(t);
    const r = read.stream();
    const w = write.stream();
    assert.ok(r instanceof Readable && !('write' in r));
    assert.equal(typeof w.write, 'function');
    assert.equal(read.stream(), r);
  });

  test('PipeEnd.from refuses an fd that is not open the way asked (ERROR_ACCESS_DENIED)', async (t) => {
    const { read } = await pipeFor(t);
    const fd = fs.openSync(`/proc/self/fd/${read.fd}`, 'r');
    try {
      assert.throws(() => PipeEnd.from(fd, 'write'), { code: 'ERROR_ACCESS_DENIED' });
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('buffer size', () => {
  test('the default is 64 KiB; a size asked for is rounded up to pages; more than the limit gets the limit', async (t) => {
    const sizes: Array<[number | undefined, number]> = [
      [undefined, 65536],
      [0, 65536],
      [1, 4096],
      [5000, 8192],
      [8192, 8192],
      [300_000, 524_288],
      [0xffff_ffff, pipeSizeLimit()],
    ];
    for (const [asked, got] of sizes) {
      const { read, write } = await pipeFor(t, asked === undefined ? {} : { bufferSize: asked });
      for (const end of [read, write]) {
        const info = await end.info();
        assert.equal(info.pipeSize, got, `bufferSize ${asked}`);
        // GetNamedPipeInfo reports the size asked for, verbatim (CreatePipe(…, 1): 1).
        assert.equal(info.outBufferSize, asked || got, `bufferSize ${asked}`);
        assert.equal(info.inBufferSize, asked || got, `bufferSize ${asked}`);
      }
    }
  });

  test('a write that fits the buffer completes with nobody reading; one read then takes it all', async (t) => {
    const size = 32768;
    const { read, write } = await pipeFor(t, { bufferSize: size + 24 });
    const data = pattern(0, size);
    assert.equal(await write.write(data), size);
    await write.close();
    const buf = Buffer.alloc(size);
    assert.equal((await read.read(buf)).bytesRead, size);
    assert.deepEqual(buf, data);
    await rejectsWith(read.read(Buffer.alloc(32)), 'ERROR_BROKEN_PIPE');
  });

  test('a write waits while the pipe is full and completes once the reader makes room', async (t) => {
    const { read, write } = await pipeFor(t, { bufferSize: 8192 });
    const data = randomBytes(8193);
    let written: number | undefined;
    const writing = write.write(data).then((n) => (written = n));
    assert.equal((await read.peek(0)).bytesAvailable, 8192);
    assert.equal(written, undefined);
    const first = Buffer.alloc(4096);
    assert.equal((await read.read(first)).bytesRead, 4096);
    assert.equal(await writing, 8193);
    await write.close();
    assert.deepEqual(Buffer.concat([first, await read.readAll()]), data);
  });
});

describe('closed ends and bad input', () => {
  test('every use of a closed end fails ERROR_INVALID_HANDLE; its fd reads -1; a second close does nothing', async () => {
    const { read, write } = await createPipe();
    await read.close();
    await write.close();
    await read.close();
    await write[Symbol.asyncDispose]();
    for (const end of [read, write]) {
      assert.equal(end.fd, -1);
      assert.equal(end.closed, true);
      await rejectsWith(end.info(), 'ERROR_INVALID_HANDLE');
      assert.throws(() => end.stream(), { code: 'ERROR_INVALID_HANDLE' });
    }
    await rejectsWith(read.read(Buffer.alloc(1)), 'ERROR_INVALID_HANDLE');
    await rejectsWith(read.readMessage(), 'ERROR_INVALID_HANDLE');
    await rejectsWith(read.peek(), 'ERROR_INVALID_HANDLE');
    await rejectsWith(write.write('x'), 'ERROR_INVALID_HANDLE');
  });

  test('closing an end aborts its waiting reads and writes (ERROR_OPERATION_ABORTED)', async () => {
    const a = await createPipe();
    const reading = rejectsWith(a.read.read(Buffer.alloc(4)), 'ERROR_OPERATION_ABORTED');
    await a.read.close();
    await reading;
    await a.write.close();

    const b = await createPipe({ bufferSize: 4096 });
    const writing = rejectsWith(b.write.write(Buffer.alloc(100_000)), 'ERROR_OPERATION_ABORTED');
    assert.equal((await b.read.peek(0)).bytesAvailable, 4096);
    await b.write.close();
    await writing;
    // What reached the pipe before the close is still there, then the end of the data.
    assert.equal((await b.read.readAll()).length, 4096);
    await b.read.close();
  });

  test('a bad bufferSize fails ERROR_INVALID_PARAMETER and makes no pipe', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    for (const opts of [-1, NaN, 1.5, Infinity, 2 ** 32, '4096', null].map((bufferSize) => ({ bufferSize })).concat([null as never])) {
      // createPipe fails before its first await, so nothing else runs between the two counts.
      const before = fds();
      const attempt = createPipe(opts as unknown as CreatePipeOptions);
      assert.equal(fds(), before);
      await rejectsWith(attempt, 'ERROR_INVALID_PARAMETER');
    }
  });

  test('bad arguments to read, write, peek and PipeEnd.from fail ERROR_INVALID_PARAMETER and lose nothing', async (t) => {
    const { read, write } = await pipeFor(t);
    await write.write('kept');
    for (const bad of [undefined, 'x', 12, {}, [1, 2]]) await rejectsWith(read.read(bad as unknown as Uint8Array), 'ERROR_INVALID_PARAMETER');
    for (const bad of [undefined, 12, {}, [1, 2], null]) await rejectsWith(write.write(bad as unknown as Uint8Array), 'ERROR_INVALID_PARAMETER');
    for (const bad of [-1, NaN, 1.5, '3']) await rejectsWith(read.peek(bad as number), 'ERROR_INVALID_PARAMETER');
    for (const [fd, access] of [[-1, 'read'], [1.5, 'read'], [2 ** 31, 'write'], [read.fd, 'readwrite'], [read.fd, undefined]]) {
      assert.throws(() => PipeEnd.from(fd as number, access as 'read'), { code: 'ERROR_INVALID_PARAMETER' });
    }
    assert.equal((await read.readMessage()).toString(), 'kept');
  });

  test('PipeEnd.from refuses what is not an open pipe (ERROR_INVALID_HANDLE)', () => {
    const file = fs.openSync(fileURLToPath(import.meta.url), 'r');
    try {
      assert.throws(() => PipeEnd.from(file, 'read'), { code: 'ERROR_INVALID_HANDLE' });
    } finally {
      fs.closeSync(file);
    }
    assert.throws(() => PipeEnd.from(0x7fff_0000, 'read'), { code: 'ERROR_INVALID_HANDLE' });
  });
});

describe('across processes', () => {
  test('a writer child and a reader child joined by the pipe (prog1 | prog2); both see blocking fds', async (t) => {
    const { read, write } = await pipeFor(t);
    const n = 20_000;
    const writer = startNode(`const a = []; for (let i = ${n}; i >= 1; i--) a.push(i); process.stdout.write(a.join('\\n') + '\\n')`, ['ignore', write.fd, 'inherit']);
    await write.close();
    const sorter = start('sort', ['-n'], [read.fd, 'pipe', 'inherit']);
    await read.close();
    const out = await sorter.output;
    assert.deepEqual(await writer.exit, { code: 0, signal: null });
    assert.deepEqual(await sorter.exit, { code: 0, signal: null });
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, n);
    assert.ok(lines.every((l, i) => Number(l) === i + 1));
  });

  test('a child (cat) reads the read end as its fd 3 after this process read from it, and gets the rest', async (t) => {
    const { read, write } = await pipeFor(t);
    const buf = Buffer.alloc(64);
    const pending = read.read(buf); // waits: this process watches the pipe
    await write.write('first\n');
    assert.equal(buf.subarray(0, (await pending).bytesRead).toString(), 'first\n');
    // A non-blocking fd would make cat fail EAGAIN (spawn makes only fds 0-2 blocking in the child).
    const cat = start('sh', ['-c', 'exec cat <&3'], ['ignore', 'pipe', 'inherit', read.fd]);
    await read.close();
    await write.write('second\n');
    await write.write('third\n');
    await write.close();
    assert.equal(await cat.output, 'second\nthird\n');
    assert.deepEqual(await cat.exit, { code: 0, signal: null });
  });

  test('a child (head) writes more than the pipe holds to its fd 3 after this process wrote to the write end', async (t) => {
    const { read, write } = await pipeFor(t);
    await write.write('parent\n');
    // 200 000 bytes wait for this process to read: on a non-blocking fd head would fail EAGAIN.
    const child = start('sh', ['-c', 'exec head -c 200000 /dev/zero >&3'], ['ignore', 'ignore', 'inherit', write.fd]);
    await write.close();
    const all = await read.readAll();
    assert.equal(all.length, 7 + 200_000);
    assert.equal(all.subarray(0, 7).toString(), 'parent\n');
    assert.ok(all.subarray(7).every((b) => b === 0));
    assert.deepEqual(await child.exit, { code: 0, signal: null });
    await read.close();
  });

  test('an end not handed to a child is not inherited: closing it here ends the data while the child lives', async (t) => {
    const { read, write } = await pipeFor(t);
    const bystander = startNode(`console.log('up'); setInterval(() => {}, 1 << 30)`, ['ignore', 'pipe', 'inherit']);
    assert.equal(await bystander.line(), 'up');
    await write.write('x');
    await write.close();
    assert.equal((await read.readAll()).toString(), 'x');
    await read.close();
    bystander.proc.kill('SIGKILL');
    await bystander.exit;
  });

  test('a writer killed (SIGKILL) mid-write: the reader drains what it left, then ERROR_BROKEN_PIPE', async (t) => {
    const { read, write } = await pipeFor(t);
    const writer = startFixture(write, 'write-pattern', 'forever', '1000');
    await write.close();
    assert.match(await writer.line(), /^wrote \d+$/);
    writer.proc.kill('SIGKILL');
    assert.deepEqual(await writer.exit, { code: null, signal: 'SIGKILL' });
    let total = 0;
    const buf = Buffer.alloc(10_000);
    for (;;) {
      let n: number;
      try {
        n = (await read.read(buf)).bytesRead;
      } catch (e) {
        assert.equal((e as { code: string }).code, 'ERROR_BROKEN_PIPE');
        break;
      }
      assert.deepEqual(buf.subarray(0, n), pattern(total, n));
      total += n;
    }
    assert.ok(total >= 1000, `drained ${total}`);
    await rejectsWith(read.read(buf), 'ERROR_BROKEN_PIPE');
    await read.close();
  });

  test('the reader killed (SIGKILL) while a write waits on the full pipe: the write fails ERROR_NO_DATA', async (t) => {
    const { read, write } = await pipeFor(t);
    const reader = startNode(`console.log('up'); setInterval(() => {}, 1 << 30)`, [read.fd, 'pipe', 'inherit']);
    await read.close();
    assert.equal(await reader.line(), 'up');
    // Nobody reads, so 1 MiB cannot all fit: this write is waiting when the reader dies.
    const writing = rejectsWith(write.write(Buffer.alloc(1 << 20)), 'ERROR_NO_DATA');
    reader.proc.kill('SIGKILL');
    await reader.exit;
    await writing;
    await rejectsWith(write.write('more'), 'ERROR_NO_DATA');
    await rejectsWith(write.write(''), 'ERROR_NO_DATA');
    await write.close();
  });

  test('a writer child whose reader is gone gets ERROR_NO_DATA, not a SIGPIPE death', async (t) => {
    const { read, write } = await pipeFor(t);
    const writer = startFixture(write, 'write-pattern', 'forever', '1');
    await write.close();
    assert.match(await writer.line(), /^wrote \d+$/);
    assert.equal((await read.read(Buffer.alloc(10))).bytesRead > 0, true);
    await read.close();
    assert.match(await writer.line(), /^error ERROR_NO_DATA after \d+$/);
    assert.deepEqual(await writer.exit, { code: 0, signal: null });
  });

  test('a child reads to the end with PipeEnd.from; then its read fails ERROR_BROKEN_PIPE', async (t) => {
    const { read, write } = await pipeFor(t);
    const reader = startFixture(read, 'read-hash');
    await read.close();
    const data = randomBytes(300_000);
    assert.equal(await write.write(data), data.length);
    await write.close();
    assert.equal(await reader.line(), `read ${data.length} ${sha256(data)}`);
    assert.equal(await reader.line(), 'then ERROR_BROKEN_PIPE');
    assert.deepEqual(await reader.exit, { code: 0, signal: null });
  });

  test('a child closing its end lets go of the pipe while it lives, even with its stdin closed', async (t) => {
    const { read, write } = await pipeFor(t);
    const reader = startFixture(read, 'read-then-close', '5');
    await read.close();
    await write.write('12345');
    assert.equal(await reader.line(), 'closed 5');
    await rejectsWith(write.write('x'), 'ERROR_NO_DATA');
    await write.close();
    reader.proc.kill('SIGKILL');
    await reader.exit;
  });
});

describe('streams', () => {
  const MiB = 1 << 20;

  /** `total` bytes of random data in chunks of assorted sizes, and their hash. */
  function source(total: number): { chunks: Buffer[]; hash: string } {
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < total; i++) {
      const n = Math.min(total - at, [1, 100, 4096, 65536, 200_000][i % 5]!);
      chunks.push(randomBytes(n));
      at += n;
    }
    return { chunks, hash: sha256(Buffer.concat(chunks)) };
  }

  async function hashOf(readable: AsyncIterable<Buffer>): Promise<{ bytes: number; hash: string }> {
    const h = createHash('sha256');
    let bytes = 0;
    for await (const chunk of readable) {
      bytes += chunk.length;
      h.update(chunk);
    }
    return { bytes, hash: h.digest('hex') };
  }

  test('a pipeline of 4 MiB through one pipe in this process arrives intact and ends', async (t) => {
    const { read, write } = await pipeFor(t);
    const { chunks, hash } = source(4 * MiB);
    const [, got] = await Promise.all([pipeline(Readable.from(chunks), write.stream()), hashOf(read.stream())]);
    assert.deepEqual(got, { bytes: 4 * MiB, hash });
    // autoClose: both ends closed by their streams.
    assert.equal(write.closed, true);
    assert.equal(read.closed, true);
  });

  test('a pipeline of 5 MiB from this process to a child reading with end.stream()', async (t) => {
    const { read, write } = await pipeFor(t);
    const reader = startFixture(read, 'stream-hash');
    await read.close();
    const { chunks, hash } = source(5 * MiB);
    await pipeline(Readable.from(chunks), write.stream());
    assert.equal(await reader.line(), `read ${5 * MiB} ${hash}`);
    assert.deepEqual(await reader.exit, { code: 0, signal: null });
  });

  test('a pipeline of 5 MiB from a child writing with end.stream() to this process', async (t) => {
    const { read, write } = await pipeFor(t);
    const writer = startFixture(write, 'stream-pattern', String(5 * MiB));
    await write.close();
    const got = await hashOf(read.stream());
    assert.deepEqual(got, { bytes: 5 * MiB, hash: sha256(pattern(0, 5 * MiB)) });
    assert.equal(await writer.line(), `done ${5 * MiB}`);
    assert.deepEqual(await writer.exit, { code: 0, signal: null });
  });

  test('a Writable whose reader is gone fails the pipeline with ERROR_NO_DATA', async (t) => {
    const { read, write } = await pipeFor(t);
    await read.close();
    await rejectsWith(pipeline(Readable.from([Buffer.alloc(10)]), write.stream()), 'ERROR_NO_DATA');
    assert.equal(write.closed, true);
  });

  test('without autoClose the end stays open after its stream is destroyed, and loses nothing', async (t) => {
    const { read, write } = await pipeFor(t);
    const s = read.stream({ autoClose: false });
    s.destroy();
    await once(s, 'close');
    assert.equal(read.closed, false);
    await write.write('after');
    assert.equal((await read.readMessage()).toString(), 'after');
  });
});

/**
 * Mailslots in the kernel, on a fake clock: names, the reader and its writers, message
 * order and sizes, read timeouts to the millisecond, quotas, the reader's close, messages
 * for other machines and messages that come from them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../src/errors.ts';
import type { Host } from '../../src/kernel/kernel.ts';
// The harness first: it loads the kernel, which loads the mailslot module in turn.
import { KernelHarness, type TestThread, type Ticket } from '../helpers/kernel-harness.ts';
import { MailslotLimits, deliverMailslotMessage } from '../../src/kernel/objects/mailslot.ts';

const FOREVER = Infinity;
const bytes = (s: string) => new Uint8Array(Buffer.from(s));
/** The text of a read that completed. */
const text = (r: Ticket) => Buffer.from((r.reply as { data: Uint8Array }).data).toString();
/** A read as the kernel sees it: answered at once, or pending until the sink hears of it. */
const readSlot = (t: TestThread, handle: number, maxBytes = Infinity) => t.start('readMailslot', { handle, maxBytes });

function setup(opts: { maxMessageSize?: number; readTimeoutMs?: number; name?: string } = {}) {
  const k = new KernelHarness();
  const reader = k.thread(1);
  const writer = k.thread(2);
  const name = opts.name ?? '\\\\.\\mailslot\\test\\slot';
  const slot = reader.call('createMailslot', { name, maxMessageSize: opts.maxMessageSize ?? 0, readTimeoutMs: opts.readTimeoutMs ?? FOREVER }).handle;
  const w = writer.call('openMailslot', { name }).handle;
  const write = (data: string | Uint8Array, by = w, t = writer) => t.call('writeMailslot', { handle: by, data: typeof data === 'string' ? bytes(data) : data }).bytesWritten;
  const info = () => reader.call('getMailslotInfo', { handle: slot });
  const read = (maxBytes?: number, t = reader) => readSlot(t, slot, maxBytes);
  return { k, reader, writer, name, slot, w, write, info, read };
}

describe('mailslot names (kernel)', () => {
  test('a mailslot is found by its name in any case, path components included', () => {
    const { writer, write, read } = setup({ name: '\\\\.\\mailslot\\Dir\\Sub\\Slot' });
    const other = writer.call('openMailslot', { name: '\\\\.\\MAILSLOT\\dir\\SUB\\slot' }).handle;
    write('by another spelling', other);
    assert.equal(text(read()), 'by another spelling');
  });

  test('a second create of the name, in any case, fails ERROR_ALREADY_EXISTS and leaves the first alone', () => {
    const { reader, writer, write, read } = setup({ name: '\\\\.\\mailslot\\twice' });
    assert.equal(writer.fails('createMailslot', { name: '\\\\.\\mailslot\\TWICE', maxMessageSize: 0, readTimeoutMs: 0 }), 'ERROR_ALREADY_EXISTS');
    assert.equal(reader.fails('createMailslot', { name: '\\\\.\\mailslot\\twice', maxMessageSize: 0, readTimeoutMs: 0 }), 'ERROR_ALREADY_EXISTS');
    write('still there');
    assert.equal(text(read()), 'still there');
  });

  test('bad names fail ERROR_INVALID_NAME; a mailslot is created on this machine only', () => {
    const k = new KernelHarness();
    const t = k.thread();
    for (const name of ['blah', '\\\\.\\pipe\\x', '\\\\.\\mailslot\\', '\\\\.\\mailslot\\a\\\\b', '\\\\*\\mailslot\\x', '\\\\HOST\\mailslot\\x', 'x'.repeat(300)]) {
      assert.equal(t.fails('createMailslot', { name, maxMessageSize: 0, readTimeoutMs: 0 }), 'ERROR_INVALID_NAME', name);
    }
    assert.equal(t.fails('openMailslot', { name: 'blah' }), 'ERROR_INVALID_NAME');
  });

  test('a mailslot name does not meet kernel object names', () => {
    const k = new KernelHarness();
    const t = k.thread();
    t.mutex('slot');
    t.call('createMailslot', { name: '\\\\.\\mailslot\\slot', maxMessageSize: 0, readTimeoutMs: 0 });
    assert.equal(t.fails('openMailslot', { name: '\\\\.\\mailslot\\other' }), 'ERROR_FILE_NOT_FOUND');
    assert.equal(t.fails('openMutex', { name: '\\\\.\\mailslot\\slot', access: 0x0010_0000 }), 'ERROR_INVALID_NAME');
  });

  test('opening a writer of a local mailslot nobody created fails ERROR_FILE_NOT_FOUND', () => {
    const k = new KernelHarness();
    assert.equal(k.thread().fails('openMailslot', { name: '\\\\.\\mailslot\\nobody' }), 'ERROR_FILE_NOT_FOUND');
  });

  test('bad read timeouts fail ERROR_INVALID_PARAMETER', () => {
    const k = new KernelHarness();
    const t = k.thread();
    for (const readTimeoutMs of [-1, NaN, -Infinity]) {
      assert.equal(t.fails('createMailslot', { name: '\\\\.\\mailslot\\t', maxMessageSize: 0, readTimeoutMs }), 'ERROR_INVALID_PARAMETER', String(readTimeoutMs));
    }
    const { reader, slot } = setup();
    assert.equal(reader.fails('setMailslotInfo', { handle: slot, readTimeoutMs: -5 }), 'ERROR_INVALID_PARAMETER');
  });
});

describe('mailslot handles (kernel)', () => {
  test('the reader cannot write and a writer cannot read or query: ERROR_ACCESS_DENIED', () => {
    const { reader, writer, slot, w, info } = setup();
    assert.equal(reader.fails('writeMailslot', { handle: slot, data: bytes('x') }), 'ERROR_ACCESS_DENIED');
    assert.equal(writer.fails('readMailslot', { handle: w, maxBytes: FOREVER }), 'ERROR_ACCESS_DENIED');
    assert.equal(writer.fails('getMailslotInfo', { handle: w }), 'ERROR_ACCESS_DENIED');
    assert.equal(writer.fails('setMailslotInfo', { handle: w, readTimeoutMs: 0 }), 'ERROR_ACCESS_DENIED');
    assert.equal(info().messageCount, 0, 'the refused write left nothing');
  });

  test('other handles fail ERROR_INVALID_HANDLE; a mailslot cannot be waited on', () => {
    const { reader, slot } = setup();
    const m = reader.mutex();
    assert.equal(reader.fails('readMailslot', { handle: m, maxBytes: FOREVER }), 'ERROR_INVALID_HANDLE');
    assert.equal(reader.fails('writeMailslot', { handle: m, data: bytes('') }), 'ERROR_INVALID_HANDLE');
    assert.equal(reader.fails('getMailslotInfo', { handle: 0x1000 }), 'ERROR_INVALID_HANDLE');
    assert.equal(reader.fails('wait', { handles: [slot], all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_INVALID_HANDLE');
  });

  test('listings show the reader\'s size, count, bytes, timeout and writers, and each writer', () => {
    const { reader, writer, slot, w, write, name } = setup({ maxMessageSize: 100, readTimeoutMs: 250 });
    write('abc');
    write('');
    assert.deepEqual(reader.info(slot).state, {
      end: 'server', maxMessageSize: 100, messageCount: 2, queuedBytes: 3, readTimeoutMs: 250, writers: 1, pendingReads: 0,
    });
    assert.equal(reader.info(slot).name, name);
    assert.equal(reader.info(slot).type, 'Mailslot');
    assert.deepEqual(writer.info(w).state, { end: 'client', mailslot: name, target: '.', deleted: false });
    reader.call('setMailslotInfo', { handle: slot, readTimeoutMs: FOREVER });
    assert.equal(reader.info(slot).state.readTimeoutMs, null, 'forever is null in a listing');
  });
});

describe('mailslot messages (kernel)', () => {
  test('each message is read whole, once, in the order written, from any writer', () => {
    const { writer, name, write, read } = setup();
    const w2 = writer.call('openMailslot', { name }).handle;
    assert.equal(write('a'), 1);
    assert.equal(write('bc', w2), 2);
    assert.equal(write('def'), 3);
    assert.deepEqual([text(read()), text(read()), text(read())], ['a', 'bc', 'def']);
    assert.ok(read().pending, 'nothing is left: the next read waits');
  });

  test('info follows the queue: next size, count; a zero-length message is a message (next size 0)', () => {
    const { write, read, info } = setup({ readTimeoutMs: 0 });
    assert.deepEqual(info(), { maxMessageSize: 0, nextSize: -1, messageCount: 0, readTimeoutMs: 0 });
    write('a');
    assert.deepEqual([info().nextSize, info().messageCount], [1, 1]);
    write('bc');
    write('');
    assert.deepEqual([info().nextSize, info().messageCount], [1, 3]);
    assert.equal(text(read()), 'a');
    assert.deepEqual([info().nextSize, info().messageCount], [2, 2]);
    assert.equal(text(read()), 'bc');
    assert.deepEqual([info().nextSize, info().messageCount], [0, 1]);
    assert.equal(text(read()), '');
    assert.deepEqual([info().nextSize, info().messageCount], [-1, 0]);
    assert.equal(read().error, 'ERROR_SEM_TIMEOUT');
  });

  test('an empty mailslot with read timeout 0 fails ERROR_SEM_TIMEOUT at once, even for a 0-byte read', () => {
    const { read } = setup({ readTimeoutMs: 0 });
    assert.equal(read().error, 'ERROR_SEM_TIMEOUT');
    assert.equal(read(0).error, 'ERROR_SEM_TIMEOUT');
  });

  test('a read with too small a buffer fails ERROR_INSUFFICIENT_BUFFER and leaves the message', () => {
    const { write, read, info } = setup({ readTimeoutMs: 0 });
    write('four');
    assert.equal(read(3).error, 'ERROR_INSUFFICIENT_BUFFER');
    assert.equal(info().messageCount, 1);
    assert.equal(text(read(4)), 'four');
    write('');
    assert.equal(text(read(0)), '', 'a zero-length message fits a zero-length buffer');
  });

  test('a read of a bad size fails ERROR_INVALID_PARAMETER', () => {
    const { reader, slot } = setup();
    for (const maxBytes of [-1, NaN]) assert.equal(reader.fails('readMailslot', { handle: slot, maxBytes }), 'ERROR_INVALID_PARAMETER');
  });

  test('a message over the maximum size is refused with ERROR_INVALID_PARAMETER and nothing is delivered', () => {
    const { writer, w, write, read, info } = setup({ maxMessageSize: 8, readTimeoutMs: 0 });
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(9) }), 'ERROR_INVALID_PARAMETER');
    assert.equal(info().messageCount, 0);
    assert.equal(write(new Uint8Array(8)), 8, 'exactly the maximum is taken');
    assert.equal(read().outcome?.kind, 'reply');
  });

  test('maximum size 0 takes any size up to the object manager\'s limit', () => {
    const { writer, w, write, info } = setup();
    assert.equal(write(new Uint8Array(MailslotLimits.MAX_MESSAGE)), MailslotLimits.MAX_MESSAGE);
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(MailslotLimits.MAX_MESSAGE + 1) }), 'ERROR_INVALID_PARAMETER');
    assert.equal(info().messageCount, 1);
  });

  test('a maximum size above the object manager\'s limit is kept as given and the limit still applies', () => {
    const { writer, w, info } = setup({ maxMessageSize: 0xffff_ffff });
    assert.equal(info().maxMessageSize, 0xffff_ffff);
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(MailslotLimits.MAX_MESSAGE + 1) }), 'ERROR_INVALID_PARAMETER');
  });

  test('the byte quota refuses a write with ERROR_NOT_ENOUGH_QUOTA; reading makes room again', () => {
    const { writer, w, write, read, info } = setup({ readTimeoutMs: 0 });
    const big = new Uint8Array(MailslotLimits.MAX_MESSAGE);
    const fit = Math.floor(MailslotLimits.QUOTA_BYTES / big.length);
    for (let i = 0; i < fit; i++) write(big);
    const room = MailslotLimits.QUOTA_BYTES - fit * big.length;
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(room + 1) }), 'ERROR_NOT_ENOUGH_QUOTA');
    assert.equal(info().messageCount, fit, 'the refused message is not there');
    write(new Uint8Array(room));
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(1) }), 'ERROR_NOT_ENOUGH_QUOTA');
    assert.equal(read().outcome?.kind, 'reply');
    assert.equal(write(new Uint8Array(1)), 1);
  });

  test('the message-count quota counts zero-length messages', () => {
    const { writer, w, write, read, info } = setup({ readTimeoutMs: 0 });
    for (let i = 0; i < MailslotLimits.QUOTA_MESSAGES; i++) write('');
    assert.equal(writer.fails('writeMailslot', { handle: w, data: new Uint8Array(0) }), 'ERROR_NOT_ENOUGH_QUOTA');
    assert.equal(info().messageCount, MailslotLimits.QUOTA_MESSAGES);
    read();
    write('');
    for (let i = 0; i < MailslotLimits.QUOTA_MESSAGES; i++) assert.equal(text(read()), '');
    assert.equal(read().error, 'ERROR_SEM_TIMEOUT');
  });
});

describe('mailslot reads that wait (kernel)', () => {
  test('a read waits for the next message and gets it', () => {
    const { write, read } = setup();
    const r = read();
    assert.ok(r.pending);
    write('hello');
    assert.equal(text(r), 'hello');
  });

  test('a read waits exactly the read timeout, then fails ERROR_SEM_TIMEOUT', () => {
    const { read, k, info } = setup({ readTimeoutMs: 1000 });
    const r = read();
    k.advance(999);
    assert.ok(r.pending);
    k.advance(1);
    assert.equal(r.error, 'ERROR_SEM_TIMEOUT');
    assert.equal(info().messageCount, 0);
  });

  test('waiting reads are served in the order they were made, one message each', () => {
    const { k, write, read } = setup();
    const other = k.thread(1);
    const [r1, r2, r3] = [read(), read(undefined, other), read()];
    write('one');
    write('two');
    assert.equal(text(r1), 'one');
    assert.equal(text(r2), 'two');
    assert.ok(r3.pending);
    write('three');
    assert.equal(text(r3), 'three');
  });

  test('a new read timeout applies to later reads; a waiting read keeps its own', () => {
    const { k, reader, slot, read, info } = setup({ readTimeoutMs: 100 });
    const early = read();
    reader.call('setMailslotInfo', { handle: slot, readTimeoutMs: 500 });
    assert.equal(info().readTimeoutMs, 500);
    const late = read();
    k.advance(100);
    assert.equal(early.error, 'ERROR_SEM_TIMEOUT');
    assert.ok(late.pending);
    k.advance(400);
    assert.equal(late.error, 'ERROR_SEM_TIMEOUT');
    reader.call('setMailslotInfo', { handle: slot, readTimeoutMs: 0 });
    assert.equal(read().error, 'ERROR_SEM_TIMEOUT');
  });

  test('a cancelled read fails ERROR_OPERATION_ABORTED and takes no message', () => {
    const { reader, write, read } = setup();
    const r = read();
    assert.equal(reader.call('cancel', { requestId: r.requestId }).cancelled, true);
    assert.equal(r.error, 'ERROR_OPERATION_ABORTED');
    write('kept');
    assert.equal(text(read()), 'kept');
  });

  test('a waiting read with too small a buffer fails ERROR_INSUFFICIENT_BUFFER and the next read gets the message', () => {
    const { k, write, read } = setup();
    const small = read(2);
    const big = read(undefined, k.thread(1));
    write('three');
    assert.equal(small.error, 'ERROR_INSUFFICIENT_BUFFER');
    assert.equal(text(big), 'three');
  });

  test('a read whose thread ends vanishes unanswered; the message waits for the next read', () => {
    const { k, write, read } = setup();
    const t = k.thread(1);
    const gone = read(undefined, t);
    assert.ok(gone.pending);
    t.end();
    write('after');
    assert.ok(gone.pending, 'a dropped read is never answered');
    assert.equal(text(read()), 'after');
  });
});

describe('the reader\'s close (kernel)', () => {
  test('closing the reader deletes the mailslot and its messages; writers then fail ERROR_FILE_NOT_FOUND', () => {
    const { k, reader, writer, slot, w, name, write } = setup();
    write('lost');
    reader.close(slot);
    assert.equal(writer.fails('writeMailslot', { handle: w, data: bytes('x') }), 'ERROR_FILE_NOT_FOUND');
    assert.equal(writer.fails('openMailslot', { name }), 'ERROR_FILE_NOT_FOUND');
    assert.equal(writer.info(w).state.deleted, true);
    assert.equal([...k.kernel.objects.values()].filter((o) => o.type.name === 'Mailslot').length, 1, 'only the writer is left');
  });

  test('the name is free again: a new mailslot of that name is new, and old writers do not reach it', () => {
    const { reader, writer, slot, w, name } = setup();
    reader.close(slot);
    const again = reader.call('createMailslot', { name, maxMessageSize: 0, readTimeoutMs: 0 }).handle;
    assert.equal(writer.fails('writeMailslot', { handle: w, data: bytes('old') }), 'ERROR_FILE_NOT_FOUND');
    const w2 = writer.call('openMailslot', { name }).handle;
    writer.call('writeMailslot', { handle: w2, data: bytes('new') });
    assert.equal(text(readSlot(reader, again)), 'new');
    assert.equal(reader.call('getMailslotInfo', { handle: again }).messageCount, 0);
  });

  test('a read waiting when the reader\'s handle is closed fails ERROR_OPERATION_ABORTED', () => {
    const { k, slot, read } = setup();
    const r = read();
    k.thread(1).close(slot);
    assert.equal(r.error, 'ERROR_OPERATION_ABORTED');
  });

  test('the reader\'s process ending deletes the mailslot; the name is free for a new create', () => {
    const { k, reader, writer, w, name, write } = setup();
    write('lost');
    reader.end();
    assert.equal(writer.fails('writeMailslot', { handle: w, data: bytes('x') }), 'ERROR_FILE_NOT_FOUND');
    k.thread(3).call('createMailslot', { name, maxMessageSize: 0, readTimeoutMs: 0 });
  });

  test('writers closing or ending change nothing for the reader', () => {
    const { writer, w, write, read, info, reader, slot } = setup({ readTimeoutMs: 0 });
    write('kept');
    writer.close(w);
    assert.equal(reader.info(slot).state.writers, 0);
    writer.end();
    assert.equal(info().messageCount, 1);
    assert.equal(text(read()), 'kept');
  });
});

describe('mailslots on other machines (kernel)', () => {
  function remote(target: string) {
    const s = setup({ name: '\\\\.\\mailslot\\status', readTimeoutMs: 0 });
    const w = s.writer.call('openMailslot', { name: `\\\\${target}\\mailslot\\Status` }).handle;
    return { ...s, remoteWriter: w };
  }

  test('a writer of another machine\'s or a domain\'s mailslot always opens', () => {
    const k = new KernelHarness();
    const t = k.thread();
    for (const name of ['\\\\*\\mailslot\\nobody', '\\\\WORKGROUP\\mailslot\\nobody', '\\\\host-1.example\\mailslot\\a\\b']) {
      const h = t.call('openMailslot', { name }).handle;
      assert.equal(t.info(h).state.end, 'client');
    }
  });

  test('with a network, a write goes to the host\'s sendMailslot as written and not to the local mailslot', () => {
    const { k, writer, remoteWriter, info } = remote('*');
    const sent: [string, string, string][] = [];
    (k.host as Host).sendMailslot = (target, path, data) => void sent.push([target, path, Buffer.from(data).toString()]);
    assert.equal(writer.call('writeMailslot', { handle: remoteWriter, data: bytes('hi') }).bytesWritten, 2);
    const h = writer.call('openMailslot', { name: '\\\\Server9\\mailslot\\A\\B' }).handle;
    writer.call('writeMailslot', { handle: h, data: bytes('') });
    assert.deepEqual(sent, [['*', 'Status', 'hi'], ['Server9', 'A\\B', '']]);
    assert.equal(info().messageCount, 0, 'the network delivers here, not the kernel');
  });

  test('a broadcast over 424 bytes is refused with ERROR_INVALID_PARAMETER before it is sent', () => {
    const { k, writer, remoteWriter } = remote('*');
    const sent: number[] = [];
    (k.host as Host).sendMailslot = (_t, _p, data) => void sent.push(data.length);
    assert.equal(writer.call('writeMailslot', { handle: remoteWriter, data: new Uint8Array(MailslotLimits.MAX_BROADCAST) }).bytesWritten, 424);
    assert.equal(writer.fails('writeMailslot', { handle: remoteWriter, data: new Uint8Array(425) }), 'ERROR_INVALID_PARAMETER');
    assert.deepEqual(sent, [424]);
  });

  test('the host\'s refusal is the write\'s failure', () => {
    const { k, writer, remoteWriter } = remote('Elsewhere');
    (k.host as Host).sendMailslot = () => {
      throw new StatusError('ERROR_BAD_NETPATH', 'network off');
    };
    assert.equal(writer.fails('writeMailslot', { handle: remoteWriter, data: bytes('x') }), 'ERROR_BAD_NETPATH');
  });

  test('without a network, a write to any machine reaches this machine\'s mailslot only, if there is one', () => {
    const { writer, remoteWriter, read } = remote('*');
    writer.call('writeMailslot', { handle: remoteWriter, data: bytes('local') });
    assert.equal(text(read()), 'local');
    const none = writer.call('openMailslot', { name: '\\\\*\\mailslot\\nobody-reads' }).handle;
    assert.equal(writer.call('writeMailslot', { handle: none, data: bytes('lost') }).bytesWritten, 4, 'unreliable: no failure');
  });

  test('a message from the network is delivered like a local write and wakes a waiting read', () => {
    const { k, reader, slot } = setup({ name: '\\\\.\\mailslot\\Net\\In', maxMessageSize: 4 });
    const r = readSlot(reader, slot);
    assert.equal(deliverMailslotMessage(k.kernel, 'net\\in', bytes('ping')), 'delivered');
    assert.equal(text(r), 'ping');
    assert.equal(deliverMailslotMessage(k.kernel, 'net\\in', bytes('large')), 'too-large');
    assert.equal(deliverMailslotMessage(k.kernel, 'nobody', bytes('x')), 'no-mailslot');
    assert.equal(reader.call('getMailslotInfo', { handle: slot }).messageCount, 0);
  });

  test('a message from the network beyond the quota is refused as quota', () => {
    const { k, info } = setup({ name: '\\\\.\\mailslot\\full' });
    for (let i = 0; i < MailslotLimits.QUOTA_MESSAGES; i++) assert.equal(deliverMailslotMessage(k.kernel, 'full', new Uint8Array(0)), 'delivered');
    assert.equal(deliverMailslotMessage(k.kernel, 'full', new Uint8Array(0)), 'quota');
    assert.equal(info().messageCount, MailslotLimits.QUOTA_MESSAGES);
  });

  test('the delivered message is a copy: the sender\'s buffer may be reused', () => {
    const { k, read } = setup({ name: '\\\\.\\mailslot\\copy', readTimeoutMs: 0 });
    const buf = bytes('orig');
    deliverMailslotMessage(k.kernel, 'copy', buf);
    buf.set(bytes('XXXX'));
    assert.equal(text(read()), 'orig');
  });

  test('after the reader closes, a message from the network finds no mailslot', () => {
    const { k, reader, slot } = setup({ name: '\\\\.\\mailslot\\closed' });
    reader.close(slot);
    assert.equal(deliverMailslotMessage(k.kernel, 'closed', bytes('x')), 'no-mailslot');
  });
});

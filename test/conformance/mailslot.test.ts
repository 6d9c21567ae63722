import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mailslot, MailslotClient, type MailslotInfo } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

/** Largest message the object manager takes (1 MiB − 1 KiB) and one mailslot's byte quota. */
const MAX_MESSAGE = 1024 * 1024 - 1024;
const QUOTA_BYTES = 4 * 1024 * 1024;

const text = (b: Buffer) => b.toString('utf8');

for (const backendName of backendNames) {
  describe(`Mailslot (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    let n = 0;
    /** A fresh mailslot name. */
    const slotName = (hint: string) => `\\\\.\\mailslot\\conf\\${hint}-${++n}`;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    describe('create and open', () => {
      test('a new mailslot takes any size, waits forever and is empty', async () => {
        const slot = await Mailslot.create(slotName('defaults'), { connection: a });
        assert.deepEqual(await slot.info(), { maxMessageSize: 0, nextSize: null, messageCount: 0, readTimeoutMs: Infinity } satisfies MailslotInfo);
        await slot.close();
      });

      test('the maximum size and read timeout are kept as given', async () => {
        const slot = await Mailslot.create(slotName('params'), { connection: a, maxMessageSize: 0xffff_ffff, readTimeoutMs: 0 });
        assert.deepEqual(await slot.info(), { maxMessageSize: 0xffff_ffff, nextSize: null, messageCount: 0, readTimeoutMs: 0 });
        await slot.close();
      });

      test('a second create of a name, in any case, fails ERROR_ALREADY_EXISTS', async () => {
        const name = slotName('Twice');
        const slot = await Mailslot.create(name, { connection: a });
        await assert.rejects(Mailslot.create(name, { connection: b }), { code: 'ERROR_ALREADY_EXISTS', errno: 183 });
        await assert.rejects(Mailslot.create(name.toUpperCase().replace('\\\\.\\MAILSLOT', '\\\\.\\mailslot'), { connection: a }), { code: 'ERROR_ALREADY_EXISTS' });
        await slot.close();
      });

      test('bad names: ERROR_INVALID_NAME; no name: ERROR_PATH_NOT_FOUND', async () => {
        for (const name of ['blah', '\\\\.\\pipe\\x', '\\\\.\\mailslot\\', '\\\\*\\mailslot\\x', '\\\\HOST\\mailslot\\x']) {
          await assert.rejects(Mailslot.create(name, { connection: a }), { code: 'ERROR_INVALID_NAME', errno: 123 }, name);
        }
        await assert.rejects(Mailslot.create(null as unknown as string, { connection: a }), { code: 'ERROR_PATH_NOT_FOUND', errno: 3 });
        await assert.rejects(MailslotClient.open('blah', { connection: a }), { code: 'ERROR_INVALID_NAME' });
      });

      test('bad sizes and timeouts: ERROR_INVALID_PARAMETER', async () => {
        for (const maxMessageSize of [-1, 1.5, 2 ** 32, NaN]) {
          await assert.rejects(Mailslot.create(slotName('size'), { connection: a, maxMessageSize }), { code: 'ERROR_INVALID_PARAMETER' }, String(maxMessageSize));
        }
        for (const readTimeoutMs of [-1, NaN]) {
          await assert.rejects(Mailslot.create(slotName('timeout'), { connection: a, readTimeoutMs }), { code: 'ERROR_INVALID_PARAMETER' }, String(readTimeoutMs));
        }
      });

      test('a writer of a local mailslot nobody created: ERROR_FILE_NOT_FOUND', async () => {
        await assert.rejects(MailslotClient.open(slotName('nobody'), { connection: a }), { code: 'ERROR_FILE_NOT_FOUND', errno: 2 });
      });

      test('names are case-insensitive and may have path components', async () => {
        const slot = await Mailslot.create('\\\\.\\mailslot\\Conf\\Deep\\Path\\Slot', { connection: a });
        const w = await MailslotClient.open('\\\\.\\MAILSLOT\\conf\\DEEP\\path\\sLOT', { connection: b });
        await w.write('found');
        assert.equal(text(await slot.read()), 'found');
        await w.close();
        await slot.close();
      });
    });

    describe('reading and writing', () => {
      test('messages from several writers are read whole, once, in arrival order', async () => {
        const name = slotName('order');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const [w1, w2] = [await MailslotClient.open(name, { connection: a }), await MailslotClient.open(name, { connection: b })];
        assert.equal(await w1.write(Buffer.from('a')), 1);
        assert.equal(await w2.write('bc'), 2);
        assert.equal(await w1.write(new Uint8Array([1, 2, 3])), 3);
        assert.equal(text(await slot.read()), 'a');
        assert.equal(text(await slot.read()), 'bc');
        assert.deepEqual([...(await slot.read())], [1, 2, 3]);
        await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT', errno: 121 });
        await Promise.all([w1.close(), w2.close(), slot.close()]);
      });

      test('a zero-length message is a message: next size 0, not none', async () => {
        const name = slotName('zero');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('x');
        assert.equal(await w.write(new Uint8Array(0)), 0);
        assert.deepEqual(await slot.info(), { maxMessageSize: 0, nextSize: 1, messageCount: 2, readTimeoutMs: 0 });
        await slot.read();
        assert.deepEqual([(await slot.info()).nextSize, (await slot.info()).messageCount], [0, 1]);
        assert.equal((await slot.read()).length, 0);
        assert.deepEqual([(await slot.info()).nextSize, (await slot.info()).messageCount], [null, 0]);
        await Promise.all([w.close(), slot.close()]);
      });

      test('the reader cannot write and a writer cannot read: ERROR_ACCESS_DENIED', async () => {
        const name = slotName('rights');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: a });
        await assert.rejects(a.request('writeMailslot', { handle: slot.handle, data: Buffer.from('x') }), { code: 'ERROR_ACCESS_DENIED', errno: 5 });
        await assert.rejects(a.request('readMailslot', { handle: w.handle, maxBytes: Infinity }), { code: 'ERROR_ACCESS_DENIED' });
        await w.write('ok');
        await assert.rejects(a.request('readMailslot', { handle: w.handle, maxBytes: Infinity }), { code: 'ERROR_ACCESS_DENIED' });
        assert.equal(text(await slot.read()), 'ok');
        await Promise.all([w.close(), slot.close()]);
      });

      test('a message over the maximum size is refused with ERROR_INVALID_PARAMETER and nothing is delivered', async () => {
        const name = slotName('max');
        const slot = await Mailslot.create(name, { connection: a, maxMessageSize: 16, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: b });
        await assert.rejects(w.write(new Uint8Array(17)), { code: 'ERROR_INVALID_PARAMETER', errno: 87 });
        assert.equal((await slot.info()).messageCount, 0);
        assert.equal(await w.write(new Uint8Array(16)), 16);
        assert.equal((await slot.read()).length, 16);
        await Promise.all([w.close(), slot.close()]);
      });

      test('a message beyond the object manager\'s limit is refused, however large', async () => {
        const name = slotName('huge');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: b });
        assert.equal(await w.write(new Uint8Array(MAX_MESSAGE)), MAX_MESSAGE);
        await assert.rejects(w.write(new Uint8Array(MAX_MESSAGE + 1)), { code: 'ERROR_INVALID_PARAMETER' });
        await assert.rejects(w.write(new Uint8Array(2 * 1024 * 1024)), { code: 'ERROR_INVALID_PARAMETER' });
        assert.equal((await slot.read()).length, MAX_MESSAGE);
        assert.equal((await slot.info()).messageCount, 0);
        await w.write('the connection is still fine');
        await Promise.all([w.close(), slot.close()]);
      });

      test('a reader that never reads: writers get ERROR_NOT_ENOUGH_QUOTA, nothing is dropped silently', async () => {
        const name = slotName('quota');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: b });
        const big = new Uint8Array(MAX_MESSAGE);
        let written = 0;
        for (;;) {
          try {
            await w.write(big.fill(written + 1));
            written++;
          } catch (e) {
            assert.equal((e as { code?: string }).code, 'ERROR_NOT_ENOUGH_QUOTA');
            break;
          }
        }
        assert.equal(written, Math.floor(QUOTA_BYTES / MAX_MESSAGE));
        assert.equal((await slot.info()).messageCount, written);
        assert.equal((await slot.read())[0], 1);
        await w.write(big.fill(99));
        for (let i = 2; i <= written; i++) assert.equal((await slot.read())[0], i);
        assert.equal((await slot.read())[0], 99);
        await Promise.all([w.close(), slot.close()]);
      });

      test('a read with too small a buffer fails ERROR_INSUFFICIENT_BUFFER and the message stays', async () => {
        const name = slotName('buffer');
        const slot = await Mailslot.create(name, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(name, { connection: a });
        await w.write('12345');
        await assert.rejects(slot.read({ maxBytes: 4 }), { code: 'ERROR_INSUFFICIENT_BUFFER', errno: 122 });
        assert.equal(text(await slot.read({ maxBytes: 5 })), '12345');
        await Promise.all([w.close(), slot.close()]);
      });

      test('listings describe the reader and each writer', async () => {
        const name = slotName('listing');
        const slot = await Mailslot.create(name, { connection: a, maxMessageSize: 64, readTimeoutMs: 10 });
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('abcd');
        const info = await slot.query();
        assert.equal(info.type, 'Mailslot');
        assert.equal(info.name, name);
        assert.deepEqual(info.state, { end: 'server', maxMessageSize: 64, messageCount: 1, queuedBytes: 4, readTimeoutMs: 10, writers: 1, pendingReads: 0 });
        assert.deepEqual((await w.query()).state, { end: 'client', mailslot: name, target: '.', deleted: false });
        const listed = (await a.request('listObjects', { type: 'Mailslot' })).objects.filter((o) => o.name === name);
        assert.equal(listed.length, 1);
        await Promise.all([w.close(), slot.close()]);
      });

      test('a mailslot cannot be waited on: ERROR_INVALID_HANDLE', async () => {
        const slot = await Mailslot.create(slotName('wait'), { connection: a });
        await assert.rejects(slot.wait(0), { code: 'ERROR_INVALID_HANDLE' });
        await slot.close();
      });
    });

    describe('read timeouts', () => {
      test('an empty mailslot with read timeout 0 fails ERROR_SEM_TIMEOUT at once, even for a 0-byte read', async () => {
        const slot = await Mailslot.create(slotName('poll'), { connection: a, readTimeoutMs: 0 });
        await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT' });
        await assert.rejects(slot.read({ maxBytes: 0 }), { code: 'ERROR_SEM_TIMEOUT' });
        await slot.close();
      });

      test('a read that finds nothing within the read timeout fails ERROR_SEM_TIMEOUT', async () => {
        const slot = await Mailslot.create(slotName('expire'), { connection: a, readTimeoutMs: 20 });
        await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT', errno: 121 });
        assert.equal((await slot.query()).state.pendingReads, 0);
        await slot.close();
      });

      test('with no timeout a read waits until a message comes', async () => {
        const name = slotName('forever');
        const slot = await Mailslot.create(name, { connection: a });
        const reading = await started(a, slot.read());
        assert.deepEqual(await pendingOf([a], [reading]), [true]);
        assert.equal((await slot.query()).state.pendingReads, 1);
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('at last');
        assert.equal(text((await reading.promise)), 'at last');
        await Promise.all([w.close(), slot.close()]);
      });

      test('reads waiting together are served in the order they were made', async () => {
        const name = slotName('fifo');
        const slot = await Mailslot.create(name, { connection: a });
        const first = await started(a, slot.read());
        const second = await started(b, slot.on(b).read());
        const third = await started(a, slot.read());
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('1');
        await w.write('2');
        assert.deepEqual(await pendingOf([a, b], [first, second, third]), [false, false, true]);
        assert.equal(text(await first.promise), '1');
        assert.equal(text(await second.promise), '2');
        await w.write('3');
        assert.equal(text(await third.promise), '3');
        await Promise.all([w.close(), slot.close()]);
      });

      test('setReadTimeout changes the timeout of later reads', async () => {
        const slot = await Mailslot.create(slotName('set'), { connection: a });
        await slot.setReadTimeout(0);
        assert.equal((await slot.info()).readTimeoutMs, 0);
        await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT' });
        await slot.setReadTimeout(Infinity);
        assert.equal((await slot.info()).readTimeoutMs, Infinity);
        await assert.rejects(slot.setReadTimeout(-1), { code: 'ERROR_INVALID_PARAMETER' });
        await slot.close();
      });

      test('an AbortSignal cancels a waiting read: it rejects with the signal\'s reason and takes no message', async () => {
        const name = slotName('abort');
        const slot = await Mailslot.create(name, { connection: a });
        const controller = new AbortController();
        const reason = new Error('no longer needed');
        const reading = await started(a, slot.read({ signal: controller.signal }));
        controller.abort(reason);
        await assert.rejects(reading.promise, (e) => e === reason);
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('for the next read');
        await slot.setReadTimeout(0);
        assert.equal(text(await slot.read()), 'for the next read');
        await assert.rejects(slot.read({ signal: AbortSignal.abort('early') }), (e) => e === 'early');
        await Promise.all([w.close(), slot.close()]);
      });
    });

    describe('the reader\'s close', () => {
      test('closing the reader deletes the mailslot and its messages; writers then fail ERROR_FILE_NOT_FOUND', async () => {
        const name = slotName('closed');
        const slot = await Mailslot.create(name, { connection: a });
        const w = await MailslotClient.open(name, { connection: b });
        await w.write('never read');
        await slot.close();
        await assert.rejects(w.write('too late'), { code: 'ERROR_FILE_NOT_FOUND', errno: 2 });
        await assert.rejects(MailslotClient.open(name, { connection: b }), { code: 'ERROR_FILE_NOT_FOUND' });
        const again = await Mailslot.create(name, { connection: b, readTimeoutMs: 0 });
        assert.equal((await again.info()).messageCount, 0, 'a new mailslot, empty');
        await assert.rejects(w.write('old writer'), { code: 'ERROR_FILE_NOT_FOUND' }, 'a writer stays bound to the mailslot it opened');
        const w2 = await MailslotClient.open(name, { connection: a });
        await w2.write('new writer');
        assert.equal(text(await again.read()), 'new writer');
        await Promise.all([w.close(), w2.close(), again.close()]);
      });

      test('a read waiting when the reader is closed fails ERROR_OPERATION_ABORTED', async () => {
        const slot = await Mailslot.create(slotName('abort-close'), { connection: a });
        const reading = await started(a, slot.read());
        await slot.on(b).close();
        await assert.rejects(reading.promise, { code: 'ERROR_OPERATION_ABORTED', errno: 995 });
      });
    });

    describe('other machines', () => {
      test('a writer of \\\\*\\mailslot\\NAME always opens; with no network it reaches this machine\'s mailslot', async () => {
        const path = `conf\\star-${++n}`;
        const slot = await Mailslot.create(`\\\\.\\mailslot\\${path}`, { connection: a });
        const w = await MailslotClient.open(`\\\\*\\mailslot\\${path}`, { connection: b });
        assert.equal(await w.write('to everyone'), 11);
        assert.equal(text(await slot.read()), 'to everyone');
        const nobody = await MailslotClient.open(`\\\\*\\mailslot\\conf\\nobody-${++n}`, { connection: b });
        assert.equal(await nobody.write('lost'), 4, 'unreliable: a broadcast nobody hears is not a failure');
        await Promise.all([w.close(), nobody.close(), slot.close()]);
      });

      test('a broadcast over 424 bytes is refused with ERROR_INVALID_PARAMETER and not delivered', async () => {
        const path = `conf\\big-${++n}`;
        const slot = await Mailslot.create(`\\\\.\\mailslot\\${path}`, { connection: a, readTimeoutMs: 0 });
        const w = await MailslotClient.open(`\\\\*\\mailslot\\${path}`, { connection: b });
        await assert.rejects(w.write(new Uint8Array(425)), { code: 'ERROR_INVALID_PARAMETER' });
        assert.equal(await w.write(new Uint8Array(424)), 424);
        assert.equal((await slot.read()).length, 424);
        await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT' }, 'the refused one never came');
        await Promise.all([w.close(), slot.close()]);
      });
    });
  });
}

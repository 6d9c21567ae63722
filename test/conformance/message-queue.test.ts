import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MessageQueue, MessageQueueLimits, waitAny } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';
import { pendingOf, started } from '../helpers/pending.ts';

const text = async (p: Promise<{ type: number; data: Buffer }>) => {
  const m = await p;
  return { type: m.type, text: m.data.toString() };
};

for (const backendName of backendNames) {
  describe(`MessageQueue (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('get: ENOENT without create, created on create, EEXIST with create and exclusive, opened otherwise', async () => {
      await assert.rejects(MessageQueue.get(100, { connection: a }), { code: 'ENOENT', errno: 2 });
      const q = await MessageQueue.get(100, { connection: a, create: true });
      assert.equal(q.created, true);
      await assert.rejects(MessageQueue.get(100, { connection: b, create: true, exclusive: true }), { code: 'EEXIST', errno: 17 });
      const again = await MessageQueue.get(100, { connection: b, create: true });
      assert.equal(again.created, false);
      assert.equal(again.objectId, q.objectId);
      const plain = await MessageQueue.get(100, { connection: b });
      assert.equal(plain.objectId, q.objectId);
      await q.remove();
    });

    test('bad keys, modes and limits fail EINVAL; a number and a string key are different queues', async () => {
      for (const key of [1.5, 2 ** 31, NaN, '', 'x'.repeat(256)] as (number | string)[]) {
        await assert.rejects(MessageQueue.get(key, { connection: a, create: true }), { code: 'EINVAL', errno: 22 }, String(key));
      }
      await assert.rejects(MessageQueue.get(101, { connection: a, create: true, mode: 0o1000 }), { code: 'EINVAL' });
      await assert.rejects(MessageQueue.get(101, { connection: a, create: true, maxBytes: -1 }), { code: 'EINVAL' });
      await assert.rejects(MessageQueue.get(101, { connection: a, create: true, maxBytes: MessageQueueLimits.maxQueueBytes + 1 }), { code: 'EINVAL' });
      const n = await MessageQueue.get(101, { connection: a, create: true });
      const s = await MessageQueue.get('101', { connection: a, create: true });
      assert.notEqual(n.objectId, s.objectId);
      await n.send(1, 'number');
      assert.equal((await s.stat()).messages, 0);
      await n.remove();
      await s.remove();
    });

    test('IPC_PRIVATE (key 0) makes a new queue every time', async () => {
      const p1 = await MessageQueue.get(0, { connection: a });
      const p2 = await MessageQueue.get(0, { connection: a });
      assert.notEqual(p1.objectId, p2.objectId);
      assert.equal(p1.created, true);
      await p1.close();
      await p2.close();
    });

    test('messages keep their type and bytes; strings are sent as UTF-8; an empty message is a message', async () => {
      const q = await MessageQueue.get('mq-roundtrip', { connection: a, create: true });
      await q.send(7, Buffer.from([0, 1, 2, 255]));
      await q.send(8, 'héllo');
      await q.send(9, '');
      const m = await q.receive();
      assert.deepEqual([m.type, [...m.data]], [7, [0, 1, 2, 255]]);
      assert.deepEqual(await text(q.receive()), { type: 8, text: 'héllo' });
      assert.deepEqual(await text(q.receive()), { type: 9, text: '' });
      await q.remove();
    });

    test('receive selects as msgrcv: 0 the first, > 0 the first of that type, < 0 the lowest type ≤ |type|, except any other', async () => {
      const q = await MessageQueue.get('mq-select', { connection: a, create: true });
      for (const [type, body] of [[3, 'a'], [1, 'b'], [2, 'c'], [1, 'd'], [5, 'e'], [4, 'f']] as const) await q.send(type, body);
      assert.deepEqual(await text(q.receive({ type: 2 })), { type: 2, text: 'c' });
      assert.deepEqual(await text(q.receive({ type: -4 })), { type: 1, text: 'b' });
      assert.deepEqual(await text(q.receive({ type: 1, except: true })), { type: 3, text: 'a' });
      assert.deepEqual(await text(q.receive()), { type: 1, text: 'd' });
      assert.deepEqual(await text(q.receive({ type: -5 })), { type: 4, text: 'f' });
      await assert.rejects(q.receive({ type: 4, noWait: true }), { code: 'ENOMSG', errno: 42 });
      assert.deepEqual(await text(q.receive({ noWait: true })), { type: 5, text: 'e' });
      await assert.rejects(q.receive({ noWait: true }), { code: 'ENOMSG' });
      await q.remove();
    });

    test('a message longer than maxBytes fails E2BIG and stays; truncate takes it cut short', async () => {
      const q = await MessageQueue.get('mq-e2big', { connection: a, create: true });
      await q.send(1, 'abcdef');
      await assert.rejects(q.receive({ maxBytes: 3 }), { code: 'E2BIG', errno: 7 });
      assert.equal((await q.stat()).messages, 1);
      assert.deepEqual(await text(q.receive({ maxBytes: 3, truncate: true })), { type: 1, text: 'abc' });
      assert.equal((await q.stat()).bytes, 0);
      await q.remove();
    });

    test('send: type < 1 and messages over MSGMAX fail EINVAL', async () => {
      const q = await MessageQueue.get('mq-einval', { connection: a, create: true, maxBytes: 100_000 });
      for (const type of [0, -3, 1.5]) await assert.rejects(q.send(type, 'x'), { code: 'EINVAL' }, String(type));
      await assert.rejects(q.send(1, Buffer.alloc(MessageQueueLimits.maxMessageBytes + 1)), { code: 'EINVAL' });
      await q.send(1, Buffer.alloc(MessageQueueLimits.maxMessageBytes));
      await q.remove();
    });

    test('a full queue: noWait fails EAGAIN; a blocking send waits until a receive makes room', async () => {
      const q = await MessageQueue.get('mq-full', { connection: a, create: true, maxBytes: 8 });
      const qb = await MessageQueue.get('mq-full', { connection: b });
      await q.send(1, '12345678');
      await assert.rejects(q.send(1, 'x', { noWait: true }), { code: 'EAGAIN', errno: 11 });
      const blocked = await started(b, qb.send(2, 'late'));
      assert.deepEqual(await pendingOf([b], [blocked]), [true]);
      assert.equal((await q.receive()).data.toString(), '12345678');
      await blocked.promise;
      assert.deepEqual(await text(q.receive()), { type: 2, text: 'late' });
      await q.remove();
    });

    test('blocked receivers are woken in arrival order by the sends they select', async () => {
      const q = await MessageQueue.get('mq-wake', { connection: a, create: true });
      const qb = await MessageQueue.get('mq-wake', { connection: b });
      const two = await started(b, qb.receive({ type: 2 }));
      const first = await started(b, qb.receive());
      const second = await started(b, qb.receive());
      await q.send(1, 'one');
      assert.deepEqual(await pendingOf([b], [two, first, second]), [true, false, true]);
      assert.equal((await first.promise).data.toString(), 'one');
      await q.send(2, 'two');
      assert.equal((await two.promise).data.toString(), 'two');
      assert.deepEqual(await pendingOf([b], [second]), [true]);
      await q.send(3, 'three');
      assert.equal((await second.promise).type, 3);
      assert.equal((await q.stat()).messages, 0);
      await q.remove();
    });

    test('an aborted receive rejects with the signal\'s reason and takes nothing; an aborted send sends nothing', async () => {
      const q = await MessageQueue.get('mq-abort', { connection: a, create: true, maxBytes: 1 });
      const ac = new AbortController();
      const r = await started(a, q.receive({ signal: ac.signal }));
      ac.abort(new Error('stop'));
      await assert.rejects(r.promise, /stop/);
      await q.send(1, 'x');
      const ac2 = new AbortController();
      const s = await started(a, q.send(1, 'y', { signal: ac2.signal }));
      ac2.abort();
      await assert.rejects(s.promise, { name: 'AbortError' });
      assert.equal((await q.receive()).data.toString(), 'x');
      await assert.rejects(q.receive({ noWait: true }), { code: 'ENOMSG' });
      await q.remove();
    });

    test('stat gives counts, limits, owner, mode and the last sender and receiver', async () => {
      const q = await MessageQueue.get('mq-stat', { connection: a, create: true, mode: 0o640, maxBytes: 500 });
      const t0 = Date.now();
      await q.send(1, 'abc');
      await q.send(2, 'de');
      await q.receive({ type: 2 });
      const s = await q.stat();
      assert.equal(s.key, 'mq-stat');
      assert.deepEqual([s.messages, s.bytes, s.maxBytes, s.mode, s.durable], [1, 3, 500, 0o640, false]);
      assert.deepEqual([s.lastSendPid, s.lastReceivePid], [process.pid, process.pid]);
      assert.deepEqual([s.ownerUid, s.ownerGid, s.creatorUid, s.creatorGid], [process.getuid!(), process.getgid!(), process.getuid!(), process.getgid!()]);
      assert.ok(s.lastSendTime >= t0 - 1000 && s.lastReceiveTime >= s.lastSendTime && s.lastChangeTime <= s.lastSendTime);
      await q.remove();
    });

    test('set: a larger limit lets a waiting sender in; bad values fail EINVAL', async () => {
      const q = await MessageQueue.get('mq-set', { connection: a, create: true, maxBytes: 2 });
      const qb = await MessageQueue.get('mq-set', { connection: b });
      await q.send(1, 'ab');
      const waiting = await started(b, qb.send(1, 'cd'));
      await assert.rejects(q.set({ maxBytes: -1 }), { code: 'EINVAL' });
      await assert.rejects(q.set({ mode: 0o7777 }), { code: 'EINVAL' });
      await q.set({ maxBytes: 4, mode: 0o666 });
      await waiting.promise;
      const s = await q.stat();
      assert.deepEqual([s.messages, s.maxBytes, s.mode], [2, 4, 0o666]);
      await q.remove();
    });

    test('mode bits bind everyone but root (whose checks Linux skips)', async () => {
      const q = await MessageQueue.get('mq-mode', { connection: a, create: true, mode: 0o400 });
      if (process.getuid!() === 0) await q.send(1, 'root may');
      else await assert.rejects(q.send(1, 'x'), { code: 'EACCES', errno: 13 });
      await q.remove();
    });

    test('remove wakes waiting senders and receivers with EIDRM; later operations fail EIDRM; the key is free again', async () => {
      const q = await MessageQueue.get('mq-remove', { connection: a, create: true, maxBytes: 1 });
      const qb = await MessageQueue.get('mq-remove', { connection: b });
      await q.send(1, 'x');
      const s = await started(b, qb.send(1, 'y'));
      const r = await started(b, qb.receive({ type: 5 }));
      await q.remove();
      await assert.rejects(s.promise, { code: 'EIDRM', errno: 43 });
      await assert.rejects(r.promise, { code: 'EIDRM' });
      await assert.rejects(qb.send(1, 'z'), { code: 'EIDRM' });
      await assert.rejects(qb.stat(), { code: 'EIDRM' });
      await assert.rejects(q.remove(), { code: 'EIDRM' });
      await assert.rejects(MessageQueue.get('mq-remove', { connection: b }), { code: 'ENOENT' });
      const fresh = await MessageQueue.get('mq-remove', { connection: b, create: true });
      assert.notEqual(fresh.objectId, q.objectId);
      assert.equal((await fresh.stat()).messages, 0);
      await fresh.remove();
    });

    test('closing every handle leaves the queue and its messages; only remove ends it', async () => {
      const q = await MessageQueue.get('mq-outlives', { connection: a, create: true });
      await q.send(3, 'kept');
      await q.close();
      await q.close();
      const again = await MessageQueue.get('mq-outlives', { connection: b });
      assert.equal(again.objectId, q.objectId);
      assert.deepEqual(await text(again.receive()), { type: 3, text: 'kept' });
      await again.remove();
    });

    test('a queue is listed as a MessageQueue and cannot be waited on', async () => {
      const q = await MessageQueue.get(0x1234, { connection: a, create: true, mode: 0o600 });
      const info = await q.query();
      assert.equal(info.type, 'MessageQueue');
      assert.equal(info.name, '0x00001234');
      assert.deepEqual(info.state, { key: 0x1234, messages: 0, bytes: 0, maxBytes: MessageQueueLimits.defaultMaxBytes, mode: 0o600, durable: false, removed: false });
      await assert.rejects(q.wait(0), { code: 'ERROR_INVALID_HANDLE' });
      await assert.rejects(waitAny([q], 0), { code: 'ERROR_INVALID_HANDLE' });
      await q.remove();
    });
  });
}

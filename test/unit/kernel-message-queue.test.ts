/**
 * System V message queues in the kernel, driven directly: msgget's create and open rules,
 * permissions by uid and gid, msgsnd's blocking and msgrcv's selection, msgctl, removal,
 * lifetime, and what a durable queue writes to its journal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../src/errors.ts';
// The harness first: it loads the kernel, which loads the queue module in turn.
import { KernelHarness, Ticket, type TestThread } from '../helpers/kernel-harness.ts';
import type { Host } from '../../src/kernel/kernel.ts';
import type { JournaledMessage, QueueJournal } from '../../src/kernel/objects/message-queue.ts';
import { restoreMessageQueues } from '../../src/kernel/objects/message-queue-restore.ts';
import { MAX_RECEIPTS, encodeReceipt } from '../../src/kernel/objects/message-receipts.ts';
import { MessageQueueLimits } from '../../src/protocol/message-queue.ts';
import type { MessageQueueStat, RequestOf } from '../../src/protocol/schema.ts';

type GetOptions = Partial<Omit<RequestOf<'mqGet'>, 'key' | 'name'>>;

/** A thread's message-queue calls. */
function mq(t: TestThread) {
  const getBody = (key: number | string, o: GetOptions = {}): RequestOf<'mqGet'> => ({
    name: typeof key === 'string' ? key : undefined,
    key: typeof key === 'number' ? key : 0,
    create: o.create ?? false,
    exclusive: o.exclusive ?? false,
    mode: o.mode ?? (o.create ? 0o600 : 0),
    maxBytes: o.maxBytes ?? -1,
    durable: o.durable ?? false,
  });
  return {
    get: (key: number | string, o: GetOptions = {}) => t.call('mqGet', getBody(key, o)).handle,
    getFails: (key: number | string, o: GetOptions = {}) => t.fails('mqGet', getBody(key, o)),
    startGet: (key: number | string, o: GetOptions = {}) => t.start('mqGet', getBody(key, o)),
    send: (handle: number, type: number, data: string | Buffer = '', noWait = false) =>
      t.start('mqSend', { handle, type, data: Buffer.from(data), noWait }),
    receive: (handle: number, o: { type?: number; maxBytes?: number; noWait?: boolean; truncate?: boolean; except?: boolean; token?: number; claim?: number; ack?: number } = {}) =>
      t.start('mqReceive', {
        handle, type: o.type ?? 0, maxBytes: o.maxBytes ?? Infinity, noWait: o.noWait ?? false, truncate: o.truncate ?? false,
        except: o.except ?? false, token: o.token ?? 0, claim: o.claim ?? 0, ack: o.ack ?? 0,
      }),
    stat: (handle: number): MessageQueueStat => t.call('mqStat', { handle }).stat,
    set: (handle: number, o: { maxBytes?: number; mode?: number }) => t.call('mqSet', { handle, maxBytes: o.maxBytes ?? -1, mode: o.mode ?? -1 }),
    setFails: (handle: number, o: { maxBytes?: number; mode?: number }) => t.fails('mqSet', { handle, maxBytes: o.maxBytes ?? -1, mode: o.mode ?? -1 }),
    remove: (handle: number) => t.call('mqRemove', { handle }),
    removeFails: (handle: number) => t.fails('mqRemove', { handle }),
  };
}

/** The text of a receive that completed. */
function text(ticket: Ticket): { type: number; text: string } {
  const o = ticket.outcome;
  assert.ok(o?.kind === 'reply', `receive ended with ${JSON.stringify(o)}`);
  const r = o.reply as { type: number; data: Uint8Array };
  return { type: r.type, text: Buffer.from(r.data).toString() };
}

function claimed(ticket: Ticket): boolean {
  const o = ticket.outcome;
  assert.ok(o?.kind === 'reply');
  return (o.reply as { claimed: boolean }).claimed;
}

const code = (ticket: Ticket): string | undefined => ticket.error;

const done = (ticket: Ticket) => ticket.outcome?.kind === 'reply';

function setup(uid = 1000, gid = 100) {
  const k = new KernelHarness();
  const t = k.thread(10);
  t.thread.process.credentials = { uid, gid };
  return { k, t, q: mq(t) };
}

describe('msgget (kernel)', () => {
  test('without create a missing key fails ENOENT; create makes it; create and exclusive on an existing key fail EEXIST', () => {
    const { t, q } = setup();
    assert.equal(q.getFails(42), 'ENOENT');
    const h = q.get(42, { create: true });
    assert.equal(q.getFails(42, { create: true, exclusive: true }), 'EEXIST');
    const again = t.call('mqGet', { name: undefined, key: 42, create: true, exclusive: false, mode: 0o600, maxBytes: -1, durable: false });
    assert.equal(again.created, false);
    assert.equal(again.objectId, t.info(h).id);
    assert.equal(q.get(42), again.handle + 4, 'a plain get opens it too');
  });

  test('keys are int32 numbers or strings of 1 to 255 characters; a number and a string never name the same queue', () => {
    const { q } = setup();
    for (const bad of [1.5, 2 ** 31, -(2 ** 31) - 1, NaN, Infinity]) assert.equal(q.getFails(bad, { create: true }), 'EINVAL', String(bad));
    for (const bad of ['', 'x'.repeat(256), 'a\nb']) assert.equal(q.getFails(bad, { create: true }), 'EINVAL', JSON.stringify(bad));
    const n = q.get(7, { create: true });
    assert.equal(q.getFails('7'), 'ENOENT');
    const s = q.get('7', { create: true });
    q.send(n, 1, 'number');
    assert.equal(q.stat(s).messages, 0);
    assert.equal(q.get(-(2 ** 31), { create: true }) > 0, true);
    assert.equal(q.get('x'.repeat(255), { create: true }) > 0, true);
  });

  test('a bad mode or maxBytes fails EINVAL, even for an existing key', () => {
    const { q } = setup();
    q.get(1, { create: true });
    for (const mode of [0o1000, 0o4600]) assert.equal(q.getFails(1, { create: true, mode }), 'EINVAL');
    for (const maxBytes of [-2, 1.5, MessageQueueLimits.maxQueueBytes + 1]) assert.equal(q.getFails(1, { create: true, maxBytes }), 'EINVAL');
  });

  test('a new queue has mode, owner and creator from the caller, the default byte limit, and nothing in it', () => {
    const { k, q } = setup(1000, 100);
    const h = q.get(5, { create: true, mode: 0o640 });
    const s = q.stat(h);
    assert.deepEqual(s, {
      key: 5, messages: 0, bytes: 0, maxBytes: MessageQueueLimits.defaultMaxBytes, lastSendPid: 0, lastReceivePid: 0,
      lastSendTime: 0, lastReceiveTime: 0, lastChangeTime: k.clock.wallNow(), ownerUid: 1000, ownerGid: 100,
      creatorUid: 1000, creatorGid: 100, mode: 0o640, durable: false,
    });
    assert.equal(q.stat(q.get('big', { create: true, maxBytes: 100 })).maxBytes, 100);
  });

  test('IPC_PRIVATE (key 0) makes a new queue every time, with no name, and it goes with its last handle', () => {
    const { k, t, q } = setup();
    const a = q.get(0);
    const b = q.get(0, { create: true });
    assert.notEqual(t.info(a).id, t.info(b).id);
    assert.equal(t.info(a).name, null);
    assert.equal(q.getFails(0, { durable: true }), 'EINVAL');
    const before = k.kernel.objects.size;
    t.close(a);
    assert.equal(k.kernel.objects.size, before - 1);
  });

  test('opening checks the mode bits asked for against the caller, as msgget does; none asked: any caller opens it', () => {
    const { k, q } = setup(1000, 100);
    q.get(9, { create: true, mode: 0o640 });
    const gt = k.thread(20);
    gt.thread.process.credentials = { uid: 2000, gid: 100 };
    const other = k.thread(30);
    other.thread.process.credentials = { uid: 3000, gid: 300 };
    const g = mq(gt);
    const o = mq(other);
    assert.equal(g.getFails(9, { mode: 0o600 }), 'EACCES', 'group may not write');
    assert.ok(g.get(9, { mode: 0o400 }) > 0, 'group may read');
    assert.equal(o.getFails(9, { mode: 0o004 }), 'EACCES');
    assert.ok(o.get(9, { mode: 0 }) > 0, 'asking for nothing is allowed');
    assert.equal(o.getFails(9, { create: true }), 'EACCES', 'create of an existing key checks the creation mode');
  });
});

describe('msgsnd and msgrcv permissions (kernel)', () => {
  test('send needs write and receive and stat need read permission for the caller\'s class; root needs neither', () => {
    const { k, q } = setup(1000, 100);
    const h = q.get(3, { create: true, mode: 0o640 });
    q.send(h, 1, 'x');
    const classes = [
      { uid: 2000, gid: 100, send: 'EACCES', receive: undefined },
      { uid: 3000, gid: 300, send: 'EACCES', receive: 'EACCES' },
      { uid: 0, gid: 0, send: undefined, receive: undefined },
    ];
    for (const [i, c] of classes.entries()) {
      const t = k.thread(100 + i);
      t.thread.process.credentials = { uid: c.uid, gid: c.gid };
      const m = mq(t);
      const hh = m.get(3);
      assert.equal(code(m.send(hh, 1, 'y', true)), c.send, `send by uid ${c.uid}`);
      assert.equal(code(m.receive(hh, { type: 99, noWait: true })), c.receive ?? 'ENOMSG', `receive by uid ${c.uid}`);
      if (c.receive) assert.equal(t.fails('mqStat', { handle: hh }), 'EACCES');
      else assert.equal(m.stat(hh).mode, 0o640);
    }
  });

  test('the owner is bound by the owner bits too: mode 0o400 refuses its own send', () => {
    const { q } = setup();
    const h = q.get(4, { create: true, mode: 0o400 });
    assert.equal(code(q.send(h, 1, 'x')), 'EACCES');
    assert.equal(code(q.receive(h, { noWait: true })), 'ENOMSG');
  });

  test('only the owner, the creator or root may set or remove: anyone else gets EPERM', () => {
    const { k, q } = setup(1000, 100);
    const h = q.get(6, { create: true, mode: 0o666 });
    const t = k.thread(50);
    t.thread.process.credentials = { uid: 2000, gid: 100 };
    const m = mq(t);
    const hh = m.get(6);
    assert.equal(m.setFails(hh, { maxBytes: 10 }), 'EPERM');
    assert.equal(m.removeFails(hh), 'EPERM');
    const root = k.thread(51);
    root.thread.process.credentials = { uid: 0, gid: 0 };
    const r = mq(root);
    r.set(r.get(6), { maxBytes: 10 });
    assert.equal(q.stat(h).maxBytes, 10);
  });
});

describe('msgsnd (kernel)', () => {
  test('a type below 1, or not an integer, fails EINVAL; so does a message over MSGMAX; a zero-length message is real', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 100_000 });
    for (const type of [0, -1, 1.5, NaN, 2 ** 53]) assert.equal(code(q.send(h, type, 'x')), 'EINVAL', String(type));
    assert.equal(code(q.send(h, 1, Buffer.alloc(MessageQueueLimits.maxMessageBytes + 1))), 'EINVAL');
    assert.ok(done(q.send(h, 1, Buffer.alloc(MessageQueueLimits.maxMessageBytes))));
    assert.ok(done(q.send(h, 2, '')));
    assert.deepEqual([q.stat(h).messages, q.stat(h).bytes], [2, MessageQueueLimits.maxMessageBytes]);
    assert.deepEqual(text(q.receive(h, { type: 2 })), { type: 2, text: '' });
  });

  test('a full queue blocks the sender, or fails EAGAIN with noWait; a receive lets it in', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 10 });
    assert.ok(done(q.send(h, 1, '123456')));
    assert.equal(code(q.send(h, 1, '12345', true)), 'EAGAIN');
    const blocked = q.send(h, 1, '12345');
    assert.ok(blocked.pending);
    assert.equal(q.stat(h).messages, 1);
    assert.equal(text(q.receive(h)).text, '123456');
    assert.ok(done(blocked));
    assert.equal(text(q.receive(h)).text, '12345');
  });

  test('the byte limit also bounds the number of messages (zero-length messages cannot pile up without end)', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 3 });
    for (let i = 0; i < 3; i++) assert.ok(done(q.send(h, 1, '')));
    assert.equal(code(q.send(h, 1, '', true)), 'EAGAIN');
  });

  test('blocked senders go in arrival order as room is made, and one that still does not fit lets later smaller ones pass', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 10 });
    q.send(h, 1, '1234567890');
    const big = q.send(h, 2, '123456789');
    const small1 = q.send(h, 3, '12');
    const small2 = q.send(h, 4, '34');
    assert.ok(big.pending && small1.pending && small2.pending);
    assert.equal(text(q.receive(h)).text, '1234567890');
    // Room for 10: the 9-byte message goes first, then neither 2-byte one fits.
    assert.ok(done(big));
    assert.ok(small1.pending && small2.pending);
    q.set(h, { maxBytes: 12 });
    assert.ok(done(small1));
    assert.ok(small2.pending, '9 + 2 + 2 > 12');
    assert.equal(text(q.receive(h, { type: 2 })).text, '123456789');
    assert.ok(done(small2));
    assert.deepEqual([text(q.receive(h)).type, text(q.receive(h)).type], [3, 4]);
  });

  test('a message larger than the byte limit blocks until the limit is raised', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 4 });
    const s = q.send(h, 1, '12345');
    assert.ok(s.pending);
    q.set(h, { maxBytes: 5 });
    assert.ok(done(s));
  });

  test('a cancelled or abandoned blocked send never delivers its message', () => {
    const { k, t, q } = setup();
    const h = q.get(1, { create: true, maxBytes: 1 });
    q.send(h, 1, 'a');
    const cancelled = q.send(h, 1, 'b');
    t.cancel(cancelled);
    assert.equal(code(cancelled), 'ERROR_OPERATION_ABORTED');
    const other = k.thread(10);
    const gone = mq(other).send(h, 1, 'c');
    assert.ok(gone.pending);
    other.end();
    assert.equal(text(q.receive(h)).text, 'a');
    assert.equal(code(q.receive(h, { noWait: true })), 'ENOMSG');
    assert.equal(k.kernel.pending.count, 0);
  });
});

describe('msgrcv (kernel)', () => {
  function filled() {
    const s = setup();
    const h = s.q.get(1, { create: true, maxBytes: 1000 });
    for (const [type, body] of [[3, 'a'], [1, 'b'], [2, 'c'], [1, 'd'], [5, 'e']] as const) s.q.send(h, type, body);
    return { ...s, h };
  }

  test('type 0 takes the first message', () => {
    const { q, h } = filled();
    assert.deepEqual(text(q.receive(h)), { type: 3, text: 'a' });
  });

  test('type > 0 takes the first message of that type', () => {
    const { q, h } = filled();
    assert.deepEqual(text(q.receive(h, { type: 1 })), { type: 1, text: 'b' });
    assert.deepEqual(text(q.receive(h, { type: 1 })), { type: 1, text: 'd' });
    assert.equal(code(q.receive(h, { type: 1, noWait: true })), 'ENOMSG');
  });

  test('type < 0 takes the first message of the lowest type ≤ |type|', () => {
    const { q, h } = filled();
    assert.deepEqual(['b', 'd', 'c', 'a'].map(() => text(q.receive(h, { type: -4 })).text), ['b', 'd', 'c', 'a']);
    assert.equal(code(q.receive(h, { type: -4, noWait: true })), 'ENOMSG');
    assert.deepEqual(text(q.receive(h, { type: -5 })), { type: 5, text: 'e' });
  });

  test('except takes the first message of any other type', () => {
    const { q, h } = filled();
    assert.deepEqual(text(q.receive(h, { type: 3, except: true })), { type: 1, text: 'b' });
  });

  test('a message longer than maxBytes fails E2BIG and stays; with truncate the rest is discarded', () => {
    const s = setup();
    const h = s.q.get(1, { create: true });
    s.q.send(h, 1, 'hello');
    assert.equal(code(s.q.receive(h, { maxBytes: 4 })), 'E2BIG');
    assert.equal(s.q.stat(h).messages, 1);
    assert.deepEqual(text(s.q.receive(h, { maxBytes: 4, truncate: true })), { type: 1, text: 'hell' });
    assert.equal(s.q.stat(h).bytes, 0);
    for (const maxBytes of [-1, 1.5, NaN]) assert.equal(code(s.q.receive(h, { maxBytes })), 'EINVAL');
    assert.equal(code(s.q.receive(h, { type: 1.5 })), 'EINVAL');
  });

  test('blocked receivers are woken in arrival order by a send they select; others wait on', () => {
    const { k, q } = setup();
    const h = q.get(1, { create: true });
    const r2 = q.receive(h, { type: 2 });
    const any1 = mq(k.thread(10)).receive(h);
    const any2 = q.receive(h);
    q.send(h, 1, 'one');
    assert.ok(r2.pending);
    assert.deepEqual(text(any1), { type: 1, text: 'one' });
    assert.ok(any2.pending);
    q.send(h, 2, 'two');
    assert.deepEqual(text(r2), { type: 2, text: 'two' });
    assert.ok(any2.pending);
    assert.equal(q.stat(h).messages, 0, 'handed over, never queued');
  });

  test('a blocked receiver whose buffer is too small fails E2BIG when a message for it comes, and the message goes on', () => {
    const { q } = setup();
    const h = q.get(1, { create: true });
    const small = q.receive(h, { maxBytes: 2 });
    const cut = q.receive(h, { maxBytes: 2, truncate: true });
    q.send(h, 1, 'long');
    assert.equal(code(small), 'E2BIG');
    assert.deepEqual(text(cut), { type: 1, text: 'lo' });
    const small2 = q.receive(h, { maxBytes: 2 });
    q.send(h, 1, 'long');
    assert.equal(code(small2), 'E2BIG');
    assert.equal(q.stat(h).messages, 1);
  });

  test('a receiver that leaves (its thread ends) consumes nothing', () => {
    const { k, q } = setup();
    const h = q.get(1, { create: true });
    const other = k.thread(10);
    const r = mq(other).receive(h);
    other.end();
    assert.ok(r.pending);
    q.send(h, 1, 'kept');
    assert.equal(q.stat(h).messages, 1);
  });
});

describe('msgctl (kernel)', () => {
  test('stat tells the last sender and receiver, their times and the change time', () => {
    const { k, q } = setup();
    const h = q.get(1, { create: true });
    const created = k.clock.wallNow();
    k.advance(10);
    const t77 = k.thread(77);
    t77.thread.process.credentials = { uid: 1000, gid: 100 };
    const other = mq(t77);
    other.send(other.get(1), 4, 'abc');
    k.advance(10);
    q.receive(h);
    k.advance(10);
    q.set(h, { mode: 0o644 });
    const s = q.stat(h);
    assert.deepEqual(
      [s.lastSendPid, s.lastSendTime - created, s.lastReceivePid, s.lastReceiveTime - created, s.lastChangeTime - created, s.mode],
      [77, 10, 10, 20, 30, 0o644],
    );
  });

  test('set validates first: bad numbers EINVAL; raising maxBytes admits blocked senders', () => {
    const { q } = setup();
    const h = q.get(1, { create: true, maxBytes: 2 });
    assert.equal(q.setFails(h, { maxBytes: -5 }), 'EINVAL');
    assert.equal(q.setFails(h, { mode: 0o1777 }), 'EINVAL');
    q.send(h, 1, 'ab');
    const s = q.send(h, 1, 'cd');
    q.set(h, { maxBytes: 4 });
    assert.ok(done(s));
  });

  test('a blocked sender or receiver that loses its permission through set fails EACCES', () => {
    const { k, q } = setup(1000, 100);
    const h = q.get(1, { create: true, mode: 0o666, maxBytes: 1 });
    q.send(h, 1, 'x');
    const t = k.thread(40);
    t.thread.process.credentials = { uid: 2000, gid: 200 };
    const m = mq(t);
    const hh = m.get(1);
    const s = m.send(hh, 1, 'y');
    const r = m.receive(hh, { type: 9 });
    q.set(h, { mode: 0o600 });
    assert.equal(code(s), 'EACCES');
    assert.equal(code(r), 'EACCES');
  });

  test('remove wakes every blocked sender and receiver with EIDRM; the handles then fail EIDRM; the key is free again', () => {
    const { k, t, q } = setup();
    const h = q.get(1, { create: true, maxBytes: 1 });
    q.send(h, 1, 'x');
    const s = q.send(h, 1, 'y');
    const r = q.receive(h, { type: 2 });
    const other = mq(k.thread(13));
    const oh = other.get(1);
    q.remove(h);
    assert.equal(code(s), 'EIDRM');
    assert.equal(code(r), 'EIDRM');
    assert.equal(code(other.send(oh, 1, 'z')), 'EIDRM');
    assert.equal(code(other.receive(oh, { noWait: true })), 'EIDRM');
    assert.equal(t.fails('mqStat', { handle: h }), 'EIDRM');
    assert.equal(q.removeFails(h), 'EIDRM');
    assert.equal(q.getFails(1), 'ENOENT');
    const fresh = q.get(1, { create: true });
    assert.equal(q.stat(fresh).messages, 0);
    assert.notEqual(t.info(fresh).id, t.info(h).id);
  });
});

describe('lifetime (kernel)', () => {
  test('a queue outlives every handle and every process until it is removed', () => {
    const { k, t, q } = setup();
    const h = q.get('keep', { create: true });
    q.send(h, 1, 'still here');
    const t2 = k.thread(60);
    t2.thread.process.credentials = { uid: 1000, gid: 100 };
    const h2 = mq(t2).get('keep');
    assert.equal(k.kernel.objects.size, 1);
    t.end();
    t2.close(h2);
    assert.equal(k.kernel.handleCount, 0);
    assert.equal(k.kernel.objects.size, 1);
    const t3 = k.thread(61);
    t3.thread.process.credentials = { uid: 1000, gid: 100 };
    const m3 = mq(t3);
    const h3 = m3.get('keep');
    assert.equal(text(m3.receive(h3)).text, 'still here');
    m3.remove(h3);
    assert.equal(k.kernel.objects.size, 1, 'the open handle keeps the removed object');
    t3.close(h3);
    assert.equal(k.kernel.objects.size, 0);
  });

  test('MSGMNI queues at most: one more create fails ENOSPC; removing one makes room', () => {
    const { q } = setup();
    let first = 0;
    for (let i = 1; i <= MessageQueueLimits.maxQueues; i++) {
      const h = q.get(i, { create: true });
      if (i === 1) first = h;
    }
    assert.equal(q.getFails(-1, { create: true }), 'ENOSPC');
    assert.equal(q.getFails(0), 'ENOSPC');
    q.remove(first);
    assert.ok(q.get(-1, { create: true }) > 0);
  });
});

/** A journal that records what it is told and may refuse. */
class FakeJournal implements QueueJournal {
  ready = true;
  readonly ops: string[] = [];
  refuse: string | undefined;
  opening: ((failure?: StatusError) => void) | undefined;
  open(done: (failure?: StatusError) => void): void {
    this.ops.push('open');
    this.opening = done;
  }
  private op(text: string): void {
    if (this.refuse && text.startsWith(this.refuse)) throw new StatusError('ENOSPC', 'full');
    this.ops.push(text);
  }
  putQueue(key: string, attrs: Record<string, number | string | null>): void {
    this.op(key.startsWith('r:') ? `putQueue ${key}` : `putQueue ${key} maxBytes=${attrs.maxBytes}`);
  }
  putMessage(key: string, m: JournaledMessage, opts?: { outsideLimit?: boolean }): void {
    // Receipts must be written even into a full store, or a full queue could not be drained.
    assert.equal(opts?.outsideLimit === true, key.startsWith('r:'), `${key}: only receipts are outside the store's limit`);
    const body = key.startsWith('r:') ? `seq=${m.data.readDoubleLE(0)} ${m.data.subarray(8).toString()}` : m.data.toString();
    this.op(`putMessage ${key} #${m.seq} type=${m.type} ${body}`);
  }
  deleteMessage(key: string, seq: number): void {
    this.op(`deleteMessage ${key} #${seq}`);
  }
  deleteQueue(key: string): void {
    this.op(`deleteQueue ${key}`);
  }
}

function durableSetup() {
  const s = setup();
  const journal = new FakeJournal();
  (s.k.host as Host).journal = journal;
  return { ...s, journal };
}

describe('durable queues (kernel)', () => {
  test('every change of a durable queue is journaled in order; a message handed straight to a receiver is not', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true, durable: true, maxBytes: 100 });
    assert.equal(q.stat(h).durable, true);
    q.send(h, 2, 'a');
    q.send(h, 3, 'b');
    q.receive(h, { type: 3 });
    const r = q.receive(h, { type: 7 });
    q.send(h, 7, 'direct');
    assert.equal(text(r).text, 'direct');
    q.set(h, { maxBytes: 50 });
    q.remove(h);
    assert.deepEqual(journal.ops, [
      'putQueue n:8 maxBytes=100',
      'putQueue r:n:8',
      'putMessage n:8 #1 type=2 a',
      'putMessage n:8 #2 type=3 b',
      'deleteMessage n:8 #2',
      'putQueue n:8 maxBytes=50',
      'deleteQueue n:8',
      'deleteQueue r:n:8',
    ]);
  });

  test('a queue not asked to be durable writes nothing', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true });
    q.send(h, 1, 'x');
    q.receive(h);
    assert.deepEqual(journal.ops, []);
    assert.equal(q.stat(h).durable, false);
  });

  test('a write the journal refuses fails the request and changes nothing', () => {
    const { q, journal } = durableSetup();
    journal.refuse = 'putQueue';
    assert.equal(q.getFails(8, { create: true, durable: true }), 'ENOSPC');
    assert.equal(q.getFails(8), 'ENOENT');
    journal.refuse = undefined;
    const h = q.get(8, { create: true, durable: true });
    journal.refuse = 'putMessage';
    assert.equal(code(q.send(h, 1, 'x')), 'ENOSPC');
    assert.equal(q.stat(h).messages, 0);
    journal.refuse = 'putQueue';
    assert.equal(q.setFails(h, { maxBytes: 5 }), 'ENOSPC');
    assert.equal(q.stat(h).maxBytes, MessageQueueLimits.defaultMaxBytes);
  });

  test('a blocked sender admitted later is journaled then, and fails alone if the journal refuses', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true, durable: true, maxBytes: 1 });
    q.send(h, 1, 'a');
    const s = q.send(h, 1, 'b');
    journal.refuse = 'putMessage';
    q.receive(h);
    assert.equal(code(s), 'ENOSPC');
    journal.refuse = undefined;
    const s2 = q.send(h, 1, 'c');
    assert.ok(done(s2));
    assert.equal(journal.ops.at(-1), 'putMessage n:8 #2 type=1 c');
  });

  test('a durable create waits for the journal to open, then completes; a failed open fails it', () => {
    const { q, journal } = durableSetup();
    journal.ready = false;
    const get = q.startGet('late', { create: true, durable: true });
    assert.ok(get.pending);
    assert.deepEqual(journal.ops, ['open']);
    assert.equal(q.getFails('late'), 'ENOENT');
    journal.ready = true;
    journal.opening!();
    assert.ok(done(get));
    assert.deepEqual(journal.ops, ['open', 'putQueue s:late maxBytes=16384', 'putQueue r:s:late']);
    journal.ready = false;
    const failing = q.startGet('later', { create: true, durable: true });
    journal.opening!(new StatusError('ERROR_SHARING_VIOLATION', 'in use'));
    assert.equal(code(failing), 'ERROR_SHARING_VIOLATION');
    assert.ok(q.get('plain', { create: true }) > 0, 'a queue that is not durable needs no journal');
  });

  test('without a journal, durable is accepted and the queue lives in memory only', () => {
    const { q } = setup();
    const h = q.get(8, { create: true, durable: true });
    assert.equal(q.stat(h).durable, false);
  });

  test('restored queues come back with their attributes and messages, and carry on numbering after the last', () => {
    const { k, t, q, journal } = durableSetup();
    const attrs = {
      version: 1, key: 'kept', mode: 0o640, maxBytes: 100, ownerUid: 1000, ownerGid: 100, creatorUid: 1000, creatorGid: 100,
      lastSendPid: 0, lastReceivePid: 55, lastSendTime: 0, lastReceiveTime: 5, lastChangeTime: 3, nextSeq: 1,
    };
    const problems = restoreMessageQueues(k.kernel, [
      { key: 's:kept', attrs, messages: [{ seq: 4, type: 2, data: Buffer.from('x'), sendPid: 66, sendTime: 9 }, { seq: 7, type: 1, data: Buffer.from('yz'), sendPid: 67, sendTime: 10 }] },
      { key: 'r:s:kept', attrs: { receiptsOf: 's:kept' }, messages: [] },
      { key: 's:bad', attrs: { key: 'bad' }, messages: [] },
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /"s:bad"/);
    const h = q.get('kept');
    const s = q.stat(h);
    assert.deepEqual([s.messages, s.bytes, s.maxBytes, s.mode, s.lastSendPid, s.lastSendTime, s.lastReceivePid, s.durable], [2, 3, 100, 0o640, 67, 10, 55, true]);
    assert.equal(t.info(h).name, 'kept');
    assert.deepEqual(text(q.receive(h, { type: -2 })), { type: 1, text: 'yz' });
    q.send(h, 3, 'new');
    assert.deepEqual(journal.ops, ['deleteMessage s:kept #7', 'putMessage s:kept #8 type=3 new']);
  });
});

describe('receipts of durable receives (kernel)', () => {
  test('a durable receive writes its receipt and the removal together; a claim of it returns that message; an ack drops it', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true, durable: true });
    q.send(h, 4, 'hello');
    journal.ops.length = 0;
    assert.deepEqual(text(q.receive(h, { token: 77 })), { type: 4, text: 'hello' });
    assert.deepEqual(journal.ops, ['putMessage r:n:8 #77 type=4 seq=1 hello', 'deleteMessage n:8 #1']);
    q.send(h, 5, 'next');
    const again = q.receive(h, { claim: 77, token: 78 });
    assert.deepEqual(text(again), { type: 4, text: 'hello' });
    assert.equal(claimed(again), true);
    assert.equal(q.stat(h).messages, 1, 'a claim takes nothing else');
    journal.ops.length = 0;
    const next = q.receive(h, { claim: 99, ack: 77, token: 79 });
    assert.deepEqual(text(next), { type: 5, text: 'next' });
    assert.equal(claimed(next), false, 'an unknown claim is no claim');
    assert.deepEqual(journal.ops, ['deleteMessage r:n:8 #77', 'putMessage r:n:8 #79 type=5 seq=2 next', 'deleteMessage n:8 #2']);
    assert.equal(code(q.receive(h, { claim: 77, noWait: true })), 'ENOMSG', 'acknowledged: gone');
  });

  test('a message handed straight to a waiting durable receiver leaves only its receipt, truncated as it was handed', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true, durable: true });
    const r = q.receive(h, { token: 5, maxBytes: 3, truncate: true });
    journal.ops.length = 0;
    q.send(h, 2, 'abcdef');
    assert.deepEqual(text(r), { type: 2, text: 'abc' });
    assert.deepEqual(journal.ops, ['putMessage r:n:8 #5 type=2 seq=0 abc']);
  });

  test('bad tokens fail EINVAL; a queue that is not durable keeps no receipts', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true });
    for (const token of [-1, 1.5, 2 ** 53]) assert.equal(code(q.receive(h, { token, noWait: true })), 'EINVAL');
    q.send(h, 1, 'x');
    q.receive(h, { token: 3 });
    q.send(h, 1, 'y');
    assert.equal(claimed(q.receive(h, { claim: 3 })), false);
    assert.deepEqual(journal.ops, []);
  });

  test('a queue keeps at most MAX_RECEIPTS receipts: the oldest go first', () => {
    const { q, journal } = durableSetup();
    const h = q.get(8, { create: true, durable: true, maxBytes: 100_000 });
    for (let i = 1; i <= MAX_RECEIPTS + 1; i++) {
      q.send(h, 1, '');
      q.receive(h, { token: i });
    }
    assert.ok(journal.ops.includes('deleteMessage r:n:8 #1'));
    q.send(h, 1, 'fresh');
    assert.equal(claimed(q.receive(h, { claim: 1 })), false);
    q.send(h, 1, 'fresh');
    assert.equal(claimed(q.receive(h, { claim: 2 })), true);
  });

  test('restored receipts can be claimed; a receipt whose message removal never reached the disk removes it now', () => {
    const { k, q, journal } = durableSetup();
    const attrs = {
      version: 1, key: 9, mode: 0o600, maxBytes: 100, ownerUid: 1000, ownerGid: 100, creatorUid: 1000, creatorGid: 100,
      lastSendPid: 0, lastReceivePid: 0, lastSendTime: 0, lastReceiveTime: 0, lastChangeTime: 0, nextSeq: 1,
    };
    const taken = { type: 1, data: Buffer.from('taken'), seq: 3, sendPid: 5, sendTime: 6 };
    const problems = restoreMessageQueues(k.kernel, [
      { key: 'n:9', attrs, messages: [{ seq: 3, type: 1, data: Buffer.from('taken'), sendPid: 5, sendTime: 6 }, { seq: 4, type: 1, data: Buffer.from('left'), sendPid: 5, sendTime: 7 }] },
      { key: 'r:n:9', attrs: { receiptsOf: 'n:9' }, messages: [encodeReceipt(42, taken)] },
      { key: 'r:n:404', attrs: { receiptsOf: 'n:404' }, messages: [] },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(journal.ops, ['deleteMessage n:9 #3', 'deleteQueue r:n:404']);
    const h = q.get(9);
    assert.equal(q.stat(h).messages, 1);
    const c = q.receive(h, { claim: 42 });
    assert.deepEqual([text(c), claimed(c)], [{ type: 1, text: 'taken' }, true]);
    assert.deepEqual(text(q.receive(h)), { type: 1, text: 'left' });
  });
});

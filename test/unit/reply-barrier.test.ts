/**
 * The reply barrier of durable state: replies wait for the writes issued before them to be
 * durable, keep their order per connection, and never leave if those writes fail.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyBarrier, type Durability } from '../../src/broker/reply-barrier.ts';

/** A store whose flushes end when the test says. */
class FakeStore implements Durability {
  dirty = false;
  private readonly flushes: { resolve(): void; reject(e: Error): void }[] = [];
  flushed(): Promise<void> {
    return new Promise((resolve, reject) => this.flushes.push({ resolve, reject }));
  }
  /** Every flush asked for so far is durable. */
  async durable(): Promise<void> {
    this.dirty = false;
    for (const f of this.flushes.splice(0)) f.resolve();
    await new Promise<void>((r) => setImmediate(r));
  }
  async fail(e: Error): Promise<void> {
    for (const f of this.flushes.splice(0)) f.reject(e);
    await new Promise<void>((r) => setImmediate(r));
  }
}

const frame = (s: string) => Buffer.from(s);

function setup(store: FakeStore | undefined) {
  const failures: Error[] = [];
  const barrier = new ReplyBarrier(store, (e) => failures.push(e));
  const a: string[] = [];
  const b: string[] = [];
  return { failures, a, b, outA: barrier.outbox((f) => a.push(f.toString())), outB: barrier.outbox((f) => b.push(f.toString())) };
}

test('with no store, or nothing pending in it, replies leave at once', () => {
  const none = setup(undefined);
  none.outA.send(frame('1'));
  assert.deepEqual(none.a, ['1']);
  const clean = setup(new FakeStore());
  clean.outA.send(frame('1'));
  assert.deepEqual(clean.a, ['1']);
});

test('a reply produced while writes are pending waits until they are durable', async () => {
  const store = new FakeStore();
  const { a, b, outA, outB } = setup(store);
  store.dirty = true;
  outA.send(frame('a1'));
  outB.send(frame('b1'));
  assert.deepEqual([a, b], [[], []]);
  await store.durable();
  assert.deepEqual([a, b], [['a1'], ['b1']]);
});

test('a connection\'s replies keep their order: one produced after the store is clean waits behind one still held', async () => {
  const store = new FakeStore();
  const { a, b, outA, outB } = setup(store);
  store.dirty = true;
  outA.send(frame('held'));
  store.dirty = false;
  outA.send(frame('after'));
  outB.send(frame('other connection'));
  assert.deepEqual(a, []);
  assert.deepEqual(b, ['other connection'], 'another connection is not held by it');
  await store.durable();
  assert.deepEqual(a, ['held', 'after']);
});

test('when a write cannot be made durable, the replies after it never leave and the failure is reported once', async () => {
  const store = new FakeStore();
  const { failures, a, b, outA, outB } = setup(store);
  store.dirty = true;
  outA.send(frame('a'));
  outB.send(frame('b'));
  await store.fail(new Error('disk full'));
  assert.deepEqual([a, b], [[], []]);
  assert.deepEqual(failures.map((e) => e.message), ['disk full']);
});

test('a closed connection\'s held replies are dropped', async () => {
  const store = new FakeStore();
  const { a, outA } = setup(store);
  store.dirty = true;
  outA.send(frame('x'));
  outA.close();
  await store.durable();
  outA.send(frame('y'));
  assert.deepEqual(a, []);
});

test('work after the replies runs at once when none is held, else once they have left', async () => {
  const store = new FakeStore();
  const failures: Error[] = [];
  const barrier = new ReplyBarrier(store, (e) => failures.push(e));
  const log: string[] = [];
  const out = barrier.outbox((f) => log.push(f.toString()));
  barrier.afterReplies(() => log.push('now'));
  store.dirty = true;
  out.send(frame('held'));
  barrier.afterReplies(() => log.push('after'));
  assert.deepEqual(log, ['now']);
  await store.durable();
  assert.deepEqual(log, ['now', 'held', 'after']);
});

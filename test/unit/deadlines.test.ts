import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadlines } from '../../src/kernel/deadlines.ts';

test('deadlines fire in time order, ties in the order they were added', () => {
  const d = new Deadlines();
  const fired: string[] = [];
  d.add(20, () => fired.push('b'));
  d.add(10, () => fired.push('a'));
  d.add(20, () => fired.push('c'));
  d.add(30, () => fired.push('late'));
  d.fireDue(20);
  assert.deepEqual(fired, ['a', 'b', 'c']);
  assert.equal(d.next(), 30);
});

test('a cancelled deadline never fires, and cancelling twice or after firing changes nothing', () => {
  const d = new Deadlines();
  let fired = 0;
  const x = d.add(5, () => fired++);
  d.cancel(x);
  d.cancel(x);
  const y = d.add(6, () => fired++);
  d.fireDue(10);
  d.cancel(y);
  assert.equal(fired, 1);
  assert.equal(d.size, 0);
  assert.equal(d.next(), undefined);
});

test('deadlines cancelled long before they are due do not pile up', () => {
  const d = new Deadlines();
  const keep = d.add(1_000_000, () => {});
  for (let i = 0; i < 100_000; i++) d.cancel(d.add(500_000 + i, () => {}));
  assert.equal(d.size, 1);
  // The heap itself was rebuilt: what it holds stays near the live count.
  assert.ok((d as unknown as { heap: unknown[] }).heap.length < 200);
  assert.equal(d.next(), keep.at);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runExample } from '../helpers/run-example.ts';

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

test('the mutex-counter example: workers add under a named mutex and the total is exact', async (t) => {
  const out = await runExample(t, 'mutex-counter', ['3', '150']);
  assert.equal(lines(out, /^worker \d \(pid \d+\) added 150$/).length, 3, out);
  assert.match(out, /^total: 450 \(expected 450: 3 workers × 150\)$/m);
});

test('the semaphore-pool example: never more resources in use than the pool holds', async (t) => {
  const out = await runExample(t, 'semaphore-pool', ['2', '5', '3']);
  const uses = lines(out, /^worker \d uses resource \d \(\d in use\)$/);
  assert.equal(uses.length, 15, out);
  for (const l of uses) {
    const [, slot, inUse] = /resource (\d) \((\d) in use\)/.exec(l)!;
    assert.ok(Number(slot) < 2 && Number(inUse) <= 2, l);
  }
  assert.match(out, /^uses: 15 \(expected 15\); peak in use: [12] of 2$/m);
  assert.match(out, /^semaphore count back to 2 of 2$/m);
  assert.match(out, /^never more than 2 in use at once$/m);
});

test('the event-gate example: one set() of a manual-reset event releases every waiting process', async (t) => {
  const out = await runExample(t, 'event-gate', ['4']);
  assert.match(out, /^4 workers waiting at the gate; opening it$/m);
  const through = lines(out, /^worker \d \(pid \d+\) went through the gate \(signaled\)$/);
  assert.equal(through.length, 4, out);
  assert.deepEqual(through.map((l) => l.split(' ')[1]).sort(), ['0', '1', '2', '3']);
  // Nobody went through before the gate opened.
  assert.ok(out.indexOf('opening it') < out.indexOf('went through'), out);
  assert.match(out, /^all 4 workers released by one set\(\); the gate is still open$/m);
});

test('the pipe-redirect example: the output of the first program is the input of the second (p1 | p2)', async (t) => {
  const out = await runExample(t, 'pipe-redirect', [process.execPath, '-e', `console.log('pear\\napple\\nfig')`, '=', 'sort']);
  assert.equal(out, 'apple\nfig\npear\n');
});

test('the pipe-redirect example: more than the pipe holds flows through, and the second program sees the end', async (t) => {
  const producer = `const line = 'x'.repeat(1023) + '\\n'; process.stdout.write(line.repeat(1024))`;
  const counter = `let n = 0; process.stdin.on('data', (d) => (n += d.length)).on('end', () => console.log(n))`;
  const out = await runExample(t, 'pipe-redirect', [process.execPath, '-e', producer, '=', process.execPath, '-e', counter]);
  assert.equal(out, `${1 << 20}\n`);
});

test('the message-queue example: typed messages, urgent jobs before normal ones, replies addressed by pid', async (t) => {
  const out = await runExample(t, 'message-queue', ['3', '5']);
  assert.match(out, /^15 jobs queued by 3 producers \(\d+ bytes\); starting the consumer$/m);
  const handled = lines(out, /^consumer: (urgent|normal) job \d of producer \d$/);
  assert.equal(handled.length, 15, out);
  const kinds = handled.map((l) => l.split(' ')[1]);
  assert.deepEqual(kinds, [...Array(6).fill('urgent'), ...Array(9).fill('normal')], 'jobs 0 and 3 of each producer are urgent, and come first');
  const producers = lines(out, /^producer \d \(pid \d+\): 5 jobs sent, 5 replies: (done \d, ){4}done \d$/);
  assert.equal(producers.length, 3, out);
  for (const p of producers) assert.deepEqual(p.split(': ')[2]!.split(', ').sort(), ['done 0', 'done 1', 'done 2', 'done 3', 'done 4']);
  assert.match(out, /^consumer \(pid \d+\): handled 15 jobs, every urgent one before any normal one: yes$/m);
  assert.match(out, /^queue jobs-\d+: 0 messages, 0 bytes left$/m);
  assert.match(out, /^queue removed$/m);
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';
import { runExample } from '../helpers/run-example.ts';

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

test('the pipe-client-threads example: one client thread per connected client, clients beyond the instances wait for one, every answer right', async (t) => {
  const out = await runExample(t, 'pipe-client-threads', ['6', '5', '4']);
  assert.match(out, /^server: pipe \\\\\.\\pipe\\client-threads-\d+, at most 4 instances, 6 clients$/m);

  // Each client: every answer right, all from one instance (at most 4 of them).
  const clients = new Map<string, { pid: string; instance: string; waited: boolean }>();
  for (const l of lines(out, /^client \d+ \(pid \d+\): \d+ of \d+ answers/)) {
    const m = /^client (\d+) \(pid (\d+)\): 5 of 5 answers correct, from instance ([1-4]) \((connected at once|after [1-9]\d* WaitNamedPipe)\)$/.exec(l);
    assert.ok(m, l);
    assert.equal(clients.has(m[1]!), false, `one summary per client: ${l}`);
    clients.set(m[1]!, { pid: m[2]!, instance: m[3]!, waited: m[4] !== 'connected at once' });
  }
  assert.deepEqual([...clients.keys()].sort(), ['0', '1', '2', '3', '4', '5'], out);

  // The server's side: each client served once, on the instance the client names, by the process the client is.
  const served = lines(out, /^instance \d+ served client /);
  assert.equal(served.length, 6, out);
  for (const l of served) {
    const [, instance, client, pid] = /^instance ([1-4]) served client (\d+) \(pid (\d+)\): 5 requests answered$/.exec(l) ?? [];
    const c = clients.get(client ?? '');
    assert.ok(c, l);
    assert.deepEqual({ pid, instance }, { pid: c.pid, instance: c.instance }, l);
  }

  // Four instances for six clients: at least two found them all busy, and said so before the gate opened.
  const busy = lines(out, /^client \d+ \(pid \d+\): all instances busy; waiting \(WaitNamedPipe\)$/);
  assert.ok(busy.length >= 2, out);
  assert.equal([...clients.values()].filter((c) => c.waited).length, busy.length, out);
  const gate = out.indexOf('all 6 clients have tried to connect; opening the gate\n');
  assert.ok(gate > 0, out);
  for (const l of busy) assert.ok(out.indexOf(l) < gate, l);
  assert.ok(out.indexOf('answers correct') > gate, 'no client is answered before the gate opens');

  // How many instances exist by the time clients come is a matter of timing (the loop makes
  // the next one after each connect); never more than the maximum, never more threads at once.
  const m = /^server: 6 clients served by ([1-4]) instances, 30 requests answered, at most ([1-4]) clients at once$/m.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m[2]) <= Number(m[1]), out);
  for (const c of clients.values()) assert.ok(Number(c.instance) <= Number(m[1]), out);
  assert.match(out, /^all 6×5 answers correct$/m);
});

test('the pipe-file-server example: clients queue for the one instance and each prints the whole file, line by line', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'lines.txt');
  // An empty line, text that is not ASCII, a line longer than the pipe's buffer, and no newline at the end.
  const want = ['first line', '', 'ünïcødé ✓ 管道', 'x'.repeat(10_000), '\tindented', 'the last line, without a newline'];
  fs.writeFileSync(file, want.join('\n'));
  const out = await runExample(t, 'pipe-file-server', [file, '--clients', '4'], dir);

  assert.match(out, /^server: pipe \\\\\.\\pipe\\file-server-\d+, 1 instance, message mode$/m);
  const pids = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const shown = lines(out, new RegExp(`^client ${i} \\(pid \\d+\\) \\| `));
    assert.deepEqual(
      shown.map((l) => l.slice(l.indexOf(' | ') + 3)),
      want,
      `client ${i} printed every line of the file, in order`,
    );
    const [, pid] = /\(pid (\d+)\)/.exec(shown[0]!)!;
    pids.add(pid!);
    assert.match(out, new RegExp(`^client ${i} \\(pid ${pid}\\): 6 lines, ${Buffer.byteLength(want.join('\n'))} bytes, the same as lines\\.txt; exit code 0$`, 'm'));
  }
  assert.equal(pids.size, 4);

  // The server: one request at a time, each answered in full before the next is read.
  const steps = lines(out, /^server: (awaiting|request|sent)/).map((l) => l.replace(/pid \d+/, (p) => (pids.has(p.slice(4)) ? 'pid P' : p)));
  assert.deepEqual(steps, Array(4).fill(['server: awaiting next request', `server: request from pid P: ${file}`, 'server: sent 6 lines to pid P']).flat(), out);
  const servedOrder = lines(out, /^server: request from pid /).map((l) => /pid (\d+)/.exec(l)![1]);
  assert.deepEqual(new Set(servedOrder), pids, 'each client served once');
  assert.match(out, /^4 clients, each got the 6 lines of lines\.txt in order$/m);
});

test('the pipe-file-server example with its own text: three clients, five lines each', async (t) => {
  const out = await runExample(t, 'pipe-file-server');
  for (let i = 0; i < 3; i++) {
    const shown = lines(out, new RegExp(`^client ${i} \\(pid \\d+\\) \\| `)).map((l) => l.slice(l.indexOf(' | ') + 3));
    assert.equal(shown.length, 5, out);
    assert.match(shown[0]!, /^CreateNamedPipe/);
    assert.match(shown[4]!, /^DisconnectNamedPipe/);
  }
  assert.match(out, /^3 clients, each got the 5 lines of steps\.txt in order$/m);
});

/**
 * Durable message queues across object manager crashes: several producer and consumer
 * processes stream numbered messages through one durable queue while the object manager is
 * killed with SIGKILL and restarted on the same socket and state directory, twice. At the
 * end every message whose send resolved was received exactly once, and no message was
 * received twice or made up.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, MessageQueue } from '../../src/client/index.ts';
import { startDaemon, tempDir, type Daemon } from '../helpers/daemon.ts';

const streamPath = fileURLToPath(new URL('../fixtures/mq-stream.ts', import.meta.url));

const PRODUCERS = 3;
const CONSUMERS = 2;
const PER_PRODUCER = 600;
const KEY = 'durable-stream';

interface Report {
  sent?: number;
  cut?: number;
  received?: string;
  type?: number;
  down?: boolean;
  done?: boolean;
  failed?: string;
}

test('messages streamed through a durable queue by several processes survive SIGKILLs of the object manager: each resolved send is received exactly once', async (t) => {
  const dir = tempDir();
  const stateDir = tempDir('ntipc-state-');
  const args = ['--state-dir', stateDir];
  let daemon: Daemon = await startDaemon({ dir, args });
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = once(c, 'exit');
        c.kill('SIGKILL');
        await exited;
      }
    }
    await daemon.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  const setup = await connect({ socketPath: daemon.socketPath, autoStart: false });
  // A small queue, so that producers also block for room and are cut short while blocked.
  const q = await MessageQueue.get(KEY, { connection: setup, create: true, exclusive: true, durable: true, maxBytes: 256 });
  assert.equal(q.durable, true);
  setup.close();

  const sent = Array.from({ length: PRODUCERS }, () => new Set<number>());
  const cut = Array.from({ length: PRODUCERS }, () => new Set<number>());
  /** What each consumer received, in order. */
  const received = Array.from({ length: CONSUMERS }, () => [] as { producer: number; n: number }[]);
  let receivedCount = 0;
  const failures: string[] = [];
  const finished = new Set<ChildProcess>();
  let onEvent: () => void = () => {};

  function spawnChild(argv: string[], onReport: (r: Report) => void): ChildProcess {
    const child = fork(streamPath, argv, {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, NTIPC_SOCKET: daemon.socketPath, NTIPC_NO_START: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (r: Report) => {
      if (r.failed !== undefined) failures.push(r.failed);
      if (r.done) finished.add(child);
      onReport(r);
      onEvent();
    });
    child.on('exit', () => onEvent());
    children.push(child);
    return child;
  }

  /** Resolve once `condition` holds, looking again after every report from a child. */
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const look = () => {
        if (failures.length > 0) reject(new Error(`a child failed: ${failures.join('\n')}`));
        else if (children.some((c) => c.exitCode !== null && !finished.has(c))) reject(new Error('a child exited before it was done'));
        else if (condition()) resolve();
        else return;
        onEvent = () => {};
      };
      onEvent = look;
      look();
    });

  const producers = Array.from({ length: PRODUCERS }, (_, id) =>
    spawnChild(['producer', KEY, String(id), String(PER_PRODUCER)], (r) => {
      if (r.sent !== undefined) sent[id]!.add(r.sent);
      if (r.cut !== undefined) cut[id]!.add(r.cut);
    }),
  );
  const consumers = Array.from({ length: CONSUMERS }, (_, c) =>
    spawnChild(['consumer', KEY], (r) => {
      if (r.received === undefined) return;
      const [producer, n] = r.received.split(':').map(Number) as [number, number];
      assert.equal(r.type, producer + 1, `type of ${r.received}`);
      received[c]!.push({ producer, n });
      receivedCount++;
    }),
  );

  // Kill the object manager twice in the middle of the stream, and bring it back each time.
  const total = PRODUCERS * PER_PRODUCER;
  for (const [generation, at] of [[1, Math.floor(total / 4)], [2, Math.floor(total / 2)]] as const) {
    await until(() => receivedCount >= at);
    const exited = once(daemon.proc, 'exit');
    daemon.proc.kill('SIGKILL');
    await exited;
    daemon = await startDaemon({ dir, args });
    for (const c of children) if (c.connected) c.send({ up: generation });
  }

  await until(() => producers.every((p) => finished.has(p)));
  for (const c of consumers) c.send({ drain: true });
  await until(() => consumers.every((c) => finished.has(c)));

  // Every number of every producer was either sent (resolved) or cut short, never both.
  for (let p = 0; p < PRODUCERS; p++) {
    assert.equal(sent[p]!.size + cut[p]!.size, PER_PRODUCER, `producer ${p} accounts for every number`);
    for (const n of cut[p]!) assert.ok(!sent[p]!.has(n));
  }
  assert.ok(cut.some((c) => c.size > 0), 'some sends were cut short by the kills');
  const seen = new Map<string, number>();
  for (const list of received) for (const { producer, n } of list) seen.set(`${producer}:${n}`, (seen.get(`${producer}:${n}`) ?? 0) + 1);
  const duplicates = [...seen].filter(([, times]) => times > 1).map(([m]) => m);
  const invented = [...seen.keys()].filter((m) => {
    const [p, n] = m.split(':').map(Number) as [number, number];
    return !(p >= 0 && p < PRODUCERS && (sent[p]!.has(n) || cut[p]!.has(n)));
  });
  const lost: string[] = [];
  for (let p = 0; p < PRODUCERS; p++) for (const n of sent[p]!) if (!seen.has(`${p}:${n}`)) lost.push(`${p}:${n}`);
  assert.deepEqual({ duplicates, invented, lost }, { duplicates: [], invented: [], lost: [] });
  // Each consumer saw each producer's messages in the order they were sent.
  for (const list of received) {
    for (let p = 0; p < PRODUCERS; p++) {
      const ns = list.filter((m) => m.producer === p).map((m) => m.n);
      assert.deepEqual(ns, [...ns].sort((x, y) => x - y), `consumer order for producer ${p}`);
    }
  }

  const check = await connect({ socketPath: daemon.socketPath, autoStart: false });
  const after = await MessageQueue.get(KEY, { connection: check });
  const s = await after.stat();
  assert.deepEqual([s.messages, s.durable, s.maxBytes], [0, true, 256]);
  await after.remove();
  check.close();
});

/** An object manager on `dir`'s socket keeping state in `stateDir`, and a connection to it. */
async function serve(dir: string, stateDir: string) {
  const daemon = await startDaemon({ dir, args: ['--state-dir', stateDir] });
  const connection = await connect({ socketPath: daemon.socketPath, autoStart: false });
  return { daemon, connection };
}

async function kill(daemon: Daemon, signal: NodeJS.Signals): Promise<void> {
  const exited = once(daemon.proc, 'exit');
  daemon.proc.kill(signal);
  await exited;
}

test('a durable queue comes back after SIGKILL and after SIGTERM with its messages, mode, limit and owner; a queue that is not durable does not', async (t) => {
  const dir = tempDir();
  const stateDir = tempDir('ntipc-state-');
  let { daemon, connection } = await serve(dir, stateDir);
  t.after(async () => {
    connection.close();
    await daemon.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const q = await MessageQueue.get(0x0d0d, { connection, create: true, durable: true, mode: 0o640, maxBytes: 1000 });
  const plain = await MessageQueue.get('not-durable', { connection, create: true });
  await plain.send(1, 'forgotten');
  const removed = await MessageQueue.get('removed', { connection, create: true, durable: true });
  await removed.send(1, 'gone with it');
  await removed.remove();
  for (const [type, body] of [[1, 'one'], [2, 'two'], [1, 'three'], [3, 'four']] as const) await q.send(type, body);
  assert.equal((await q.receive({ type: 2 })).data.toString(), 'two');

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    await kill(daemon, signal);
    ({ daemon, connection } = await serve(dir, stateDir));
    await assert.rejects(MessageQueue.get('not-durable', { connection }), { code: 'ENOENT' }, signal);
    await assert.rejects(MessageQueue.get('removed', { connection }), { code: 'ENOENT' }, signal);
    const back = await MessageQueue.get(0x0d0d, { connection });
    assert.equal(back.durable, true);
    const s = await back.stat();
    assert.deepEqual(
      [s.messages, s.bytes, s.mode, s.maxBytes, s.ownerUid, s.creatorUid, s.durable],
      [3, 12, 0o640, 1000, process.getuid!(), process.getuid!(), true],
      signal,
    );
    assert.equal((await back.query()).name, '0x00000d0d');
    await back.close();
  }
  const back = await MessageQueue.get(0x0d0d, { connection });
  const texts: string[] = [];
  for (let i = 0; i < 3; i++) texts.push((await back.receive()).data.toString());
  assert.deepEqual(texts, ['one', 'three', 'four'], 'in their order');
  await back.send(5, 'after restarts');
  assert.equal((await back.receive({ type: 5 })).data.toString(), 'after restarts');
  await back.remove();
});

test('an object manager that makes no durable queue never creates its state directory', async (t) => {
  const dir = tempDir();
  const parent = tempDir('ntipc-state-');
  const stateDir = `${parent}/never`;
  const { daemon, connection } = await serve(dir, stateDir);
  t.after(async () => {
    connection.close();
    await daemon.stop();
    fs.rmSync(parent, { recursive: true, force: true });
  });
  const q = await MessageQueue.get('plain', { connection, create: true });
  await q.send(1, 'x');
  await q.receive();
  await q.remove();
  assert.equal(fs.existsSync(stateDir), false);
});

test('two object managers on one state directory: the second cannot make durable queues (ERROR_SHARING_VIOLATION), other queues work', async (t) => {
  const stateDir = tempDir('ntipc-state-');
  const first = await serve(tempDir(), stateDir);
  const second = await serve(tempDir(), stateDir);
  t.after(async () => {
    for (const s of [first, second]) {
      s.connection.close();
      await s.daemon.stop();
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const mine = await MessageQueue.get('held', { connection: first.connection, create: true, durable: true });
  await assert.rejects(MessageQueue.get('held', { connection: second.connection, create: true, durable: true }), { code: 'ERROR_SHARING_VIOLATION' });
  const plain = await MessageQueue.get('plain', { connection: second.connection, create: true });
  await plain.send(1, 'fine');
  await mine.remove();
});

test('a state directory that holds no readable store: the object manager serves all the same, says why, and durable creates fail with the store\'s error', async (t) => {
  const stateDir = tempDir('ntipc-state-');
  fs.mkdirSync(`${stateDir}/queues.lmdb`, { mode: 0o700 });
  fs.writeFileSync(`${stateDir}/queues.lmdb/data.mdb`, Buffer.alloc(64 * 1024, 0x5a));
  const { daemon, connection } = await serve(tempDir(), stateDir);
  t.after(async () => {
    connection.close();
    await daemon.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  // It logs before it listens, but on stderr, which may arrive after stdout's line.
  while (!/durable message queues not restored/.test(daemon.stderr())) await once(daemon.proc.stderr!, 'data');
  await assert.rejects(MessageQueue.get('d', { connection, create: true, durable: true }), { code: 'ERROR_FILE_CORRUPT' });
  const plain = await MessageQueue.get('p', { connection, create: true });
  await plain.send(1, 'still serving');
  assert.equal((await plain.receive()).data.toString(), 'still serving');
  assert.equal(fs.readFileSync(`${stateDir}/queues.lmdb/data.mdb`)[0], 0x5a, 'left as it was');
});

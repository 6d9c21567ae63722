import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mailslot, MailslotClient, Mutex, type Connection } from '../../src/client/index.ts';
import type { Agent } from '../helpers/agent.ts';
import { withDaemon } from '../fixtures/world.ts';

const agentPath = fileURLToPath(new URL('../fixtures/mailslot-agent.ts', import.meta.url));

/** This test's object manager, a connection of the test process to it, and mailslot agents (test/fixtures/mailslot-agent.ts) on demand; all torn down after. */
async function world(t: TestContext) {
  const w = await withDaemon(t);
  // 'advanced': info() answers carry Infinity.
  return { ...w, agent: () => w.agent({ module: agentPath, serialization: 'advanced' }) };
}

/**
 * Kill an agent that owns the mutex `mutexName` and return once the object manager has
 * handled its end: abandonment is reported from inside the same step that closes the dead
 * process's handles, so when our wait hears 'abandoned', its mailslots are gone.
 */
async function killAndSettle(agent: Agent, mutexName: string, local: Connection): Promise<void> {
  const m = await Mutex.open(mutexName, { connection: local });
  const waiting = m.wait();
  await agent.kill();
  assert.equal(await waiting, 'abandoned');
  await m.release();
  await m.close();
}

/** Check a stream message (see the fixture) and return its number. */
function streamSeq(b: Buffer, size: number): number {
  assert.equal(b.length, size, 'a message arrives whole');
  const seq = b.readUInt32LE(0);
  for (let i = 4; i < b.length; i++) if (b[i] !== ((seq + i) & 0xff)) assert.fail(`message ${seq} is torn at byte ${i}`);
  return seq;
}

test('several writer processes and a reader process: every message arrives once, each writer\'s in its order', async (t) => {
  const { agent } = await world(t);
  const name = '\\\\.\\mailslot\\mp\\many-writers';
  const WRITERS = 3;
  const EACH = 200;
  const reader = await agent();
  await reader.call('createMailslot', 's', name);
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => agent()));
  for (const w of writers) await w.call('openMailslot', 'w', name);
  const reading = reader.call<string[]>('readMany', 's', WRITERS * EACH);
  await Promise.all(writers.map((w, i) => w.call('writeMany', 'w', `w${i}`, EACH)));
  const got = await reading;
  assert.equal(got.length, WRITERS * EACH);
  assert.equal(new Set(got).size, got.length, 'no message twice');
  for (let i = 0; i < WRITERS; i++) {
    const mine = got.filter((m) => m.startsWith(`w${i}:`));
    assert.deepEqual(mine, Array.from({ length: EACH }, (_, k) => `w${i}:${k}`), `writer ${i}'s messages, in its order`);
  }
  assert.deepEqual(await reader.call('info', 's'), { maxMessageSize: 0, nextSize: null, messageCount: 0, readTimeoutMs: Infinity });
});

test('the reader killed with SIGKILL: writers in other processes fail ERROR_FILE_NOT_FOUND and the name is free again', async (t) => {
  const { agent, local } = await world(t);
  const name = '\\\\.\\mailslot\\mp\\killed-reader';
  const reader = await agent();
  await reader.call('createMailslot', 's', name);
  await reader.call('createOwnedMutex', 'm', 'mp-mailslot-reader-alive');
  const writer = await agent();
  await writer.call('openMailslot', 'w', name);
  assert.equal(await writer.call('write', 'w', 'before'), 6);
  await killAndSettle(reader, 'mp-mailslot-reader-alive', local);
  await assert.rejects(writer.call('write', 'w', 'after'), { code: 'ERROR_FILE_NOT_FOUND' });
  await assert.rejects(MailslotClient.open(name, { connection: local }), { code: 'ERROR_FILE_NOT_FOUND' });
  // Another process creates the name anew; the old writer stays bound to the dead mailslot.
  const next = await agent();
  await next.call('createMailslot', 's', name, { readTimeoutMs: 0 });
  assert.deepEqual(await next.call('info', 's'), { maxMessageSize: 0, nextSize: null, messageCount: 0, readTimeoutMs: 0 });
  await assert.rejects(writer.call('write', 'w', 'stale'), { code: 'ERROR_FILE_NOT_FOUND' });
  await writer.call('openMailslot', 'w2', name);
  await writer.call('write', 'w2', 'fresh');
  assert.deepEqual(await next.call('readMany', 's', 1), ['fresh']);
});

test('the reader killed while its read waits: the object manager keeps serving and the name is free', async (t) => {
  const { agent, local } = await world(t);
  const name = '\\\\.\\mailslot\\mp\\killed-reading';
  const reader = await agent();
  await reader.call('createMailslot', 's', name);
  await reader.call('createOwnedMutex', 'm', 'mp-mailslot-reading-alive');
  void reader.call('readMany', 's', 1).catch(() => {});
  await killAndSettle(reader, 'mp-mailslot-reading-alive', local);
  const slot = await Mailslot.create(name, { connection: local, readTimeoutMs: 0 });
  const w = await MailslotClient.open(name, { connection: local });
  await w.write('served');
  assert.equal((await slot.read()).toString(), 'served');
  assert.equal((await slot.query()).state.pendingReads, 0);
});

test('a writer killed in the middle of a stream: every message whose write resolved is there, whole, none twice', async (t) => {
  const { agent, local } = await world(t);
  const name = '\\\\.\\mailslot\\mp\\killed-writer';
  const SIZE = 8 * 1024;
  const slot = await Mailslot.create(name, { connection: local });
  const writer = await agent();
  await writer.call('createOwnedMutex', 'm', 'mp-mailslot-writer-alive');
  await writer.call('openMailslot', 'w', name);
  let acknowledged = -1;
  let stopped: unknown;
  writer.onEvent((event, value) => {
    if (event === 'written') acknowledged = value as number;
    else stopped = value;
  });
  await writer.call('startWriting', 'w', SIZE);
  // Read while it writes, and kill it mid-stream.
  const seen: number[] = [];
  while (seen.length < 100) seen.push(streamSeq(await slot.read(), SIZE));
  await killAndSettle(writer, 'mp-mailslot-writer-alive', local);
  assert.equal(stopped, undefined, 'the writer was writing when it died');
  await slot.setReadTimeout(0);
  for (;;) {
    let m: Buffer;
    try {
      m = await slot.read();
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'ERROR_SEM_TIMEOUT');
      break;
    }
    seen.push(streamSeq(m, SIZE));
  }
  assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i), 'in order, no gap, none twice');
  assert.ok(seen.length - 1 >= acknowledged, `every acknowledged write (up to ${acknowledged}) arrived; got ${seen.length}`);
});

test('a reader that never reads: a writer in another process is refused ERROR_NOT_ENOUGH_QUOTA and nothing is lost', async (t) => {
  const { agent, local } = await world(t);
  const name = '\\\\.\\mailslot\\mp\\quota';
  const SIZE = 64 * 1024;
  const slot = await Mailslot.create(name, { connection: local, readTimeoutMs: 0 });
  const writer = await agent();
  await writer.call('openMailslot', 'w', name);
  const { written, code } = await writer.call<{ written: number; code: string }>('writeUntilRefused', 'w', SIZE);
  assert.equal(code, 'ERROR_NOT_ENOUGH_QUOTA');
  assert.equal(written, (4 * 1024 * 1024) / SIZE, 'the byte quota is 4 MiB');
  const info = await slot.info();
  assert.deepEqual([info.messageCount, info.nextSize], [written, SIZE]);
  assert.equal(streamSeq(await slot.read(), SIZE), 0);
  // Room for one more: the writer is served again.
  assert.equal(await writer.call('write', 'w', 'one more'), 8);
  for (let i = 1; i < written; i++) assert.equal(streamSeq(await slot.read(), SIZE), i);
  assert.equal((await slot.read()).toString(), 'one more');
  await assert.rejects(slot.read(), { code: 'ERROR_SEM_TIMEOUT' });
});

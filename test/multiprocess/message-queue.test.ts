/**
 * System V message queues between real processes: a queue outlives the process that made
 * it, blocked senders and receivers in one process are released by another, a process
 * killed while blocked leaves no trace in the queue, and removal reaches every process.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MessageQueue, Mutex } from '../../src/client/index.ts';
import type { Agent } from '../helpers/agent.ts';
import { withDaemon } from '../fixtures/world.ts';

const mqAgentPath = fileURLToPath(new URL('../fixtures/mq-agent.ts', import.meta.url));

interface Outcome {
  ok: boolean;
  value?: unknown;
  code?: string;
}

async function world(t: TestContext) {
  const w = await withDaemon(t);
  return { ...w, mqAgent: () => w.agent({ module: mqAgentPath }) };
}

/** Kill an agent with SIGKILL and return once the object manager has ended its connection. */
async function killHandled(agent: Agent, local: import('../../src/client/index.ts').Connection, mutexName: string): Promise<void> {
  await agent.call('createOwnedMutex', 'owned', mutexName);
  const m = await Mutex.open(mutexName, { connection: local });
  const abandoned = m.wait();
  await agent.kill('SIGKILL');
  assert.equal(await abandoned, 'abandoned');
  await m.release();
  await m.close();
}

test('a queue made by one process outlives it, SIGKILL included: another finds its messages and its pid', async (t) => {
  const { local, mqAgent } = await world(t);
  const maker = await mqAgent();
  assert.equal(await maker.call('get', 'q', 'mp-outlives', { create: true, exclusive: true }), true);
  await maker.call('send', 'q', 1, 'first');
  await maker.call('send', 'q', 2, 'second');
  await maker.kill('SIGKILL');
  const q = await MessageQueue.get('mp-outlives', { connection: local });
  const s = await q.stat();
  assert.deepEqual([s.messages, s.lastSendPid, s.lastReceivePid], [2, maker.pid, 0]);
  assert.equal((await q.receive()).data.toString(), 'first');
  assert.equal((await q.receive()).data.toString(), 'second');
  assert.equal((await q.stat()).lastReceivePid, process.pid);
  await q.remove();
});

test('a receiver blocked in one process is woken by a send from another, and a blocked sender by a receive', async (t) => {
  const { local, mqAgent } = await world(t);
  const q = await MessageQueue.get('mp-wake', { connection: local, create: true, maxBytes: 5 });
  const receiver = await mqAgent();
  await receiver.call('get', 'q', 'mp-wake');
  await receiver.call('startReceive', 'r', 'q', { type: 2 });
  await q.send(1, 'odd');
  await q.send(2, 'ev');
  assert.deepEqual(await receiver.call<Outcome>('result', 'r'), { ok: true, value: { type: 2, text: 'ev' } });
  assert.equal((await q.stat()).lastReceivePid, receiver.pid);

  const sender = await mqAgent();
  await sender.call('get', 'q', 'mp-wake');
  await assert.rejects(sender.call('send', 'q', 3, 'full', true), { code: 'EAGAIN' });
  await sender.call('startSend', 's', 'q', 3, 'full');
  assert.equal((await q.stat()).messages, 1);
  assert.equal((await q.receive()).data.toString(), 'odd');
  assert.equal((await sender.call<Outcome>('result', 's')).ok, true);
  assert.deepEqual(await (async () => { const m = await q.receive(); return [m.type, m.data.toString()]; })(), [3, 'full']);
  assert.equal((await q.stat()).lastSendPid, sender.pid);
  await q.remove();
});

test('a process killed while blocked in send sends nothing; one killed while blocked in receive takes nothing', async (t) => {
  const { local, mqAgent, status } = await world(t);
  const q = await MessageQueue.get('mp-killed', { connection: local, create: true, maxBytes: 1 });
  await q.send(1, 'x');
  const sender = await mqAgent();
  await sender.call('get', 'q', 'mp-killed');
  await sender.call('startSend', 's', 'q', 1, 'y');
  await killHandled(sender, local, 'mp-killed-sender');
  assert.equal((await q.receive()).data.toString(), 'x');
  await assert.rejects(q.receive({ noWait: true }), { code: 'ENOMSG' });

  const receiver = await mqAgent();
  await receiver.call('get', 'q', 'mp-killed');
  await receiver.call('startReceive', 'r', 'q');
  await killHandled(receiver, local, 'mp-killed-receiver');
  await q.send(1, 'z');
  assert.equal((await q.stat()).messages, 1, 'nobody took it');
  assert.equal((await status()).pendingWaits, 0);
  await q.remove();
});

test('remove in one process wakes a sender and a receiver blocked in others with EIDRM', async (t) => {
  const { local, mqAgent } = await world(t);
  const q = await MessageQueue.get(0x5eed, { connection: local, create: true, maxBytes: 1 });
  await q.send(1, 'x');
  const sender = await mqAgent();
  const receiver = await mqAgent();
  await sender.call('get', 'q', 0x5eed);
  await receiver.call('get', 'q', 0x5eed);
  await sender.call('startSend', 's', 'q', 1, 'y');
  await receiver.call('startReceive', 'r', 'q', { type: 7 });
  await q.remove();
  assert.equal((await sender.call<Outcome>('result', 's')).code, 'EIDRM');
  assert.equal((await receiver.call<Outcome>('result', 'r')).code, 'EIDRM');
  await assert.rejects(receiver.call('stat', 'q'), { code: 'EIDRM' });
  await assert.rejects(MessageQueue.get(0x5eed, { connection: local }), { code: 'ENOENT' });
});

test('messages from several processes keep each sender\'s order, and typed receives pick them out', async (t) => {
  const { local, mqAgent } = await world(t);
  const q = await MessageQueue.get('mp-order', { connection: local, create: true, maxBytes: 64 * 1024 });
  const senders = [await mqAgent(), await mqAgent(), await mqAgent()];
  await Promise.all(senders.map((s) => s.call('get', 'q', 'mp-order')));
  await Promise.all(senders.map(async (s, i) => {
    for (let n = 0; n < 50; n++) await s.call('send', 'q', i + 1, `${i}:${n}`);
  }));
  for (let i = 0; i < senders.length; i++) {
    const got: string[] = [];
    for (let n = 0; n < 50; n++) got.push((await q.receive({ type: i + 1 })).data.toString());
    assert.deepEqual(got, Array.from({ length: 50 }, (_, n) => `${i}:${n}`));
  }
  await q.remove();
});

/**
 * The set-up the two message-queue benchmarks share: a sender and a receiver process, one
 * System V queue between them (durable or not), and the raw one-way baseline between the
 * same two processes; messages per second from the sender's start to the receiver's last
 * message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type BenchDaemon } from './daemon.ts';
import type { Step } from './harness.ts';
import { messagePeerMain, spawnWorkers, stopAll, type Worker } from './worker.ts';

/** 64-byte messages: the size of `uds.msg64` in research/perf-baselines.md and of pipe.message-rate-64b. */
export const SIZE = 64;
/**
 * Sends issued together (one turn, so one socket write) and awaited together; with the
 * default byte limit of a queue (MSGMNB, 16,384 bytes) a queue holds exactly 256 such
 * messages, so a batch never waits for room on its own account, only when the receiver lags.
 */
export const BATCH = 256;
/** Receives the receiver keeps posted. */
export const RECEIVES_POSTED = 256;

export interface MqBench {
  daemon: BenchDaemon;
  sender: Worker;
  receiver: Worker;
  /** A step sending `count` messages through the queue `key` (one the sender and the receiver both hold). */
  queueStep(label: string, key: string, count: number): Step;
  /** A step sending `count` framed messages over the raw socket. */
  rawStep(count: number): Step;
  /** Open the queue `name` as `key` in both processes (made by the receiver). */
  queue(key: string, name: string, durable: boolean): Promise<void>;
}

/** Messages per second of one run: the receiver armed first, then the sender started. */
async function rate(receiver: Worker, sender: Worker, count: number, arm: [string, ...unknown[]], send: [string, ...unknown[]]): Promise<number> {
  await receiver.call(...arm);
  const t0 = BigInt(await sender.call<string>(...send));
  const t1 = BigInt(await receiver.call<string>('receiveWait'));
  return count / (Number(t1 - t0) / 1e9);
}

export async function withMqBench<T>(body: (b: MqBench) => Promise<T>): Promise<T> {
  const daemon = await startDaemon();
  const dir = tempDir();
  let workers: Worker[] = [];
  try {
    workers = await spawnWorkers(2, messagePeerMain);
    const [sender, receiver] = workers as [Worker, Worker];
    for (const w of workers) await w.call('connect', daemon.socketPath);
    const sock = path.join(dir, 'raw.sock');
    await receiver.call('rawSinkListen', sock);
    await sender.call('rawConnect', sock);
    await receiver.call('rawSinkAccepted', 1);
    const keys: string[] = [];
    return await body({
      daemon,
      sender,
      receiver,
      queueStep: (label, key, count) => ({
        label,
        unit: 'msg/s',
        run: () => rate(receiver, sender, count, ['mqReceiveStart', key, count, RECEIVES_POSTED], ['mqSendFlood', key, count, SIZE, BATCH]),
      }),
      rawStep: (count) => ({
        label: 'raw',
        unit: 'msg/s',
        run: () => rate(receiver, sender, count, ['rawSinkStart', count], ['rawFramedSend', count, SIZE, BATCH]),
      }),
      async queue(key, name, durable) {
        await receiver.call('mqGet', key, name, durable);
        await sender.call('mqGet', key, name, durable);
        keys.push(key);
      },
    }).finally(async () => {
      // Removed, so that a durable one leaves nothing in the store before the directory goes.
      for (const key of keys) await receiver.call('mqRemove', key).catch(() => {});
    });
  } finally {
    await stopAll(workers);
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

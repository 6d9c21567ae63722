/**
 * `node --import tsx bench/tools/queue-store-latency.ts [--n 500] [--messages 100000]`:
 * what a durable queue operation costs on this machine's disk, outside `npm run bench` (it
 * measures the store alone, no object manager): put + flushed() with one message in flight,
 * the rate with many in flight (group commit), and the floor of any durable write here,
 * write + fdatasync of a file. Figures for docs; medians, so that a burst of load from the
 * rest of the machine counts little.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { QueueStore } from '../../src/broker/queue-store.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '500' }, messages: { type: 'string', default: '100000' } } });
const N = Number(values.n);
const MESSAGES = Number(values.messages);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-qs-bench-'));
const data = Buffer.alloc(1024, 7);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

try {
  // The floor: one 1 KiB write and fdatasync of a file on the same file system.
  const fd = fs.openSync(path.join(dir, 'raw'), 'w');
  const raw: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    fs.writeSync(fd, data, 0, data.length, (i % 64) * data.length);
    fs.fdatasyncSync(fd);
    raw.push(performance.now() - t);
  }
  fs.closeSync(fd);

  const store = await QueueStore.open(path.join(dir, 'state'));
  store.putQueue('q', { mode: 0o600 });
  await store.flushed();
  let seq = 0;

  // One in flight: send (put) then receive (delete), each awaited.
  const put: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    store.putMessage('q', { seq: ++seq, type: 1, data, sendPid: 1, sendTime: Date.now() });
    await store.flushed();
    put.push(performance.now() - t);
    t = performance.now();
    store.deleteMessage('q', seq);
    await store.flushed();
    del.push(performance.now() - t);
  }

  // Many in flight: 64 "senders" per turn, each awaiting its own flushed(), for MESSAGES puts.
  let t = performance.now();
  let issued = 0;
  const waits: Promise<void>[] = [];
  while (issued < MESSAGES) {
    for (let i = 0; i < 64 && issued < MESSAGES; i++, issued++) {
      store.putMessage('q', { seq: ++seq, type: 1, data, sendPid: 1, sendTime: Date.now() });
      waits.push(store.flushed());
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(waits);
  const putRate = MESSAGES / ((performance.now() - t) / 1000);

  // Steady state: each turn 64 sends and 64 receives of earlier messages.
  t = performance.now();
  let oldest = seq - MESSAGES + 1;
  let ops = 0;
  waits.length = 0;
  while (ops < MESSAGES) {
    for (let i = 0; i < 64; i++, ops++) {
      store.putMessage('q', { seq: ++seq, type: 1, data, sendPid: 1, sendTime: Date.now() });
      store.deleteMessage('q', oldest++);
      waits.push(store.flushed());
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(waits);
  const pairRate = MESSAGES / ((performance.now() - t) / 1000);
  await store.close();

  const size = fs.statSync(path.join(dir, 'state', 'queues.lmdb', 'data.mdb')).size;
  process.stdout.write(
    [
      `node ${process.version}, ${os.cpus().length} cores, ${dir} (${os.platform()})`,
      `write 1 KiB + fdatasync (floor)          median ${us(quantile(raw, 0.5))}  p99 ${us(quantile(raw, 0.99))}`,
      `putMessage 1 KiB + flushed(), 1 in flight median ${us(quantile(put, 0.5))}  p99 ${us(quantile(put, 0.99))}`,
      `deleteMessage + flushed(), 1 in flight    median ${us(quantile(del, 0.5))}  p99 ${us(quantile(del, 0.99))}`,
      `putMessage 1 KiB, 64 per turn            ${Math.round(putRate).toLocaleString('en')} messages/s (all flushed)`,
      `put + delete 1 KiB, 64 pairs per turn    ${Math.round(pairRate).toLocaleString('en')} pairs/s (all flushed)`,
      `data.mdb after ${MESSAGES.toLocaleString('en')} live messages: ${(size / 1024 / 1024).toFixed(1)} MiB`,
    ].join('\n') + '\n',
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

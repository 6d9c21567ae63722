/**
 * The seed's System V messages between processes: producers and a consumer exchange typed
 * messages through one queue (msgget / msgsnd / msgrcv / msgctl). Producers queue jobs,
 * some urgent (type 1), some normal (type 2); the consumer takes them with type −3, the
 * lowest type first, so every urgent job is handled before any normal one, and the end
 * marker (type 3) last; it answers each job with a message typed with the producer's pid,
 * which only that producer receives.
 *
 *   npx tsx examples/message-queue/main.ts [PRODUCERS=3] [JOBS=4]
 */
import { fileURLToPath } from 'node:url';
import { MessageQueue, ProcessHandle, waitAll } from '../../src/client/index.ts';
import { END, READY } from './jobs.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-message-queue';

const producers = Number(process.argv[2] ?? 3);
const jobs = Number(process.argv[3] ?? 4);
const spawn = (file: string, ...args: string[]) =>
  ProcessHandle.spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: 'inherit' });

// msgget(key, IPC_CREAT | IPC_EXCL | 0600): a new queue of our own.
const key = `jobs-${process.pid}`;
const queue = await MessageQueue.get(key, { create: true, exclusive: true, mode: 0o600 });
try {
  const children: ProcessHandle[] = [];
  for (let i = 0; i < producers; i++) children.push(await spawn('./producer.ts', key, String(i), String(jobs)));
  // Each producer says READY once its jobs are queued; only then does the consumer start,
  // so that it finds them all waiting and the order it takes them in shows.
  for (let i = 0; i < producers; i++) await queue.receive({ type: READY });
  const s = await queue.stat();
  console.log(`${s.messages} jobs queued by ${producers} producers (${s.bytes} bytes); starting the consumer`);
  children.push(await spawn('./consumer.ts', key));
  await queue.send(END, 'end of jobs');
  await waitAll(children);
  const after = await queue.stat();
  console.log(`queue ${key}: ${after.messages} messages, ${after.bytes} bytes left`);
  for (const c of children) await c.close();
  if (children.some((c) => c.exitCode !== 0)) process.exitCode = 1;
} finally {
  // msgctl(mid, IPC_RMID): a queue lives until it is removed, not until its last handle closes.
  await queue.remove();
  await queue.close();
  console.log('queue removed');
}

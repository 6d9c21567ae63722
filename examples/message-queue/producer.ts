/**
 * A producer of the message-queue example: queue JOBS jobs, every third one urgent, say
 * READY, then collect one reply per job (typed with this process's pid).
 *
 * usage: producer.ts KEY INDEX JOBS
 */
import { MessageQueue } from '../../src/client/index.ts';
import { NORMAL, READY, URGENT, type Job } from './jobs.ts';

const [key, index, count] = process.argv.slice(2) as [string, string, string];
// msgget(key, 0): the queue the main program made.
const queue = await MessageQueue.get(key);
for (let job = 0; job < Number(count); job++) {
  const body: Job = { job, producer: Number(index), pid: process.pid };
  // msgsnd(mid, &m, n, 0): blocks while the queue is full.
  await queue.send(job % 3 === 0 ? URGENT : NORMAL, JSON.stringify(body));
}
await queue.send(READY, index);
const replies: string[] = [];
// msgrcv(mid, &m, n, getpid(), 0): only the replies meant for us.
for (let i = 0; i < Number(count); i++) replies.push((await queue.receive({ type: process.pid })).data.toString());
console.log(`producer ${index} (pid ${process.pid}): ${count} jobs sent, ${replies.length} replies: ${replies.join(', ')}`);
await queue.close();

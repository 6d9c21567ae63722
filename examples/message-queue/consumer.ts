/**
 * The consumer of the message-queue example: take jobs with type −END (urgent before
 * normal, the end marker last), answer each to its producer, stop at the end marker.
 *
 * usage: consumer.ts KEY
 */
import { MessageQueue } from '../../src/client/index.ts';
import { END, NORMAL, URGENT, type Job } from './jobs.ts';

const [key] = process.argv.slice(2) as [string];
const queue = await MessageQueue.get(key);
let handled = 0;
let sawNormal = false;
let inOrder = true;
for (;;) {
  // msgrcv(mid, &m, n, -END, 0): the first message of the lowest type ≤ END.
  const m = await queue.receive({ type: -END });
  if (m.type === END) break;
  const job = JSON.parse(m.data.toString()) as Job;
  if (m.type === NORMAL) sawNormal = true;
  else if (m.type === URGENT && sawNormal) inOrder = false;
  console.log(`consumer: ${m.type === URGENT ? 'urgent' : 'normal'} job ${job.job} of producer ${job.producer}`);
  await queue.send(job.pid, `done ${job.job}`);
  handled++;
}
console.log(`consumer (pid ${process.pid}): handled ${handled} jobs, every urgent one before any normal one: ${inOrder ? 'yes' : 'no'}`);
await queue.close();

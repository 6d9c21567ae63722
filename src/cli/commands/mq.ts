/** `mq send|recv|rm`: System V message queues, by key (a number, or a string). */
import type { Command } from 'commander';
import { IpcError, MessageQueue, type MessageQueueMessage } from '../../client/index.ts';
import { ExitCode, examples, explain, fail, integerOption, printJson, usage } from '../output.ts';
import type { Session } from '../session.ts';
import { writeOut } from '../stdio.ts';

/** A key that reads as an integer is a numeric key; anything else a string key. 0 (IPC_PRIVATE) is no use from the shell. */
export function queueKey(arg: string): number | string {
  if (!/^-?\d+$/.test(arg)) return arg;
  const n = Number(arg);
  if (n === 0 || !Number.isSafeInteger(n)) usage(`queue key ${arg}: a numeric key is a non-zero int32`);
  return n;
}

function messageType(arg: string, option: string, allowNegative: boolean): number {
  const n = Number(arg);
  if (!/^-?\d+$/.test(arg) || (!allowNegative && n < 1)) usage(`${option} takes an integer${allowNegative ? '' : ' ≥ 1'}, not ${JSON.stringify(arg)}`);
  return n;
}

export function registerMessageQueue(program: Command, session: Session): void {
  const mq = program
    .command('mq')
    .description('System V message queues from the shell: KEY is a number or a name; send and recv make the queue if there is none')
    .addHelpText('after', examples("ntipc mq send jobs 2 'resize img-17'", 'ntipc mq recv jobs --type -2'));

  mq.command('send')
    .description('queue one message of TYPE (an integer ≥ 1); waits while the queue is full')
    .argument('<key>', 'the queue key: a number or a name')
    .argument('<type>', 'the message type, ≥ 1')
    .argument('<data>', 'the message')
    .option('--durable', 'make a new queue durable (kept across object manager restarts)')
    .option('--no-wait', 'fail (exit code 4) rather than wait when the queue is full')
    .addHelpText('after', examples("ntipc mq send jobs 1 'resize img-17'", "ntipc mq send --durable 4242 3 'urgent'"))
    .action(async (keyArg: string, typeArg: string, data: string, opts: { durable?: boolean; wait: boolean }) => {
      const key = queueKey(keyArg);
      const type = messageType(typeArg, 'TYPE', false);
      const connection = await session.connect();
      const q = await MessageQueue.get(key, { connection, create: true, durable: opts.durable ?? false }).catch((e: unknown) => {
        throw explain(e, 'message queue', keyArg);
      });
      try {
        await q.send(type, data, { noWait: !opts.wait });
      } catch (e) {
        if (e instanceof IpcError && e.code === 'EAGAIN') fail(ExitCode.timeout, `message queue ${keyArg} is full`);
        throw e;
      } finally {
        await q.close();
      }
    });

  mq.command('recv')
    .description('take a message and print its data as a line; waits until there is one')
    .argument('<key>', 'the queue key: a number or a name')
    .option('--type <t>', '0 (default): the first message; T > 0: the first of type T; T < 0: the first of the lowest type ≤ |T|')
    .option('--no-wait', 'fail (exit code 4) rather than wait when there is no message')
    .option('--timeout <ms>', 'give up waiting after this long: exit code 4')
    .option('--json', 'print {"type": T, "data": "…"}')
    .addHelpText('after', examples('ntipc mq recv jobs', 'ntipc mq recv jobs --type -2 --json', 'ntipc mq recv jobs --no-wait || echo "nothing to do"'))
    .action(async (keyArg: string, opts: { type?: string; wait: boolean; timeout?: string; json?: boolean }) => {
      const key = queueKey(keyArg);
      const type = opts.type === undefined ? 0 : messageType(opts.type, '--type', true);
      const timeoutMs = integerOption(opts.timeout, '--timeout');
      const connection = await session.connect();
      const q = await MessageQueue.get(key, { connection, create: true }).catch((e: unknown) => {
        throw explain(e, 'message queue', keyArg);
      });
      let m: MessageQueueMessage;
      try {
        const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
        m = await q.receive({ type, noWait: !opts.wait, signal });
      } catch (e) {
        if (e instanceof IpcError && e.code === 'ENOMSG') fail(ExitCode.timeout, `no message${type === 0 ? '' : ` of type ${type}`} in queue ${keyArg}`);
        if ((e as Error).name === 'TimeoutError') fail(ExitCode.timeout, `timed out after ${timeoutMs} ms waiting for a message in queue ${keyArg}`);
        throw e;
      } finally {
        await q.close();
      }
      if (opts.json) printJson({ type: m.type, data: m.data.toString('utf8') });
      else await writeOut(`${m.data.toString('utf8')}\n`);
    });

  mq.command('rm')
    .description('remove the queue and its messages (msgctl IPC_RMID)')
    .argument('<key>', 'the queue key: a number or a name')
    .addHelpText('after', examples('ntipc mq rm jobs'))
    .action(async (keyArg: string) => {
      const connection = await session.connect();
      const q = await MessageQueue.get(queueKey(keyArg), { connection }).catch((e: unknown) => {
        throw explain(e, 'message queue', keyArg);
      });
      try {
        await q.remove();
      } finally {
        await q.close();
      }
    });
}

/** `mailslot listen|send`: one reader, many writers, whole messages. */
import type { Command } from 'commander';
import { Mailslot, MailslotClient, type Connection } from '../../client/index.ts';
import { examples, explain, fail, ExitCode, integerOption, note } from '../output.ts';
import type { Session } from '../session.ts';
import { readStdin, writeOut } from '../stdio.ts';

/** `status` means `\\.\mailslot\status`; a full `\\HOST\mailslot\…` name (`\\*\…` broadcasts) is taken as it is. */
export function mailslotName(arg: string): string {
  return arg.startsWith('\\\\') ? arg : `\\\\.\\mailslot\\${arg}`;
}

async function writeTo(name: string, messages: AsyncIterable<Buffer> | Buffer[], connection: Connection): Promise<void> {
  let writer: MailslotClient;
  try {
    writer = await MailslotClient.open(name, { connection });
  } catch (e) {
    throw explain(e, 'mailslot', name);
  }
  try {
    for await (const m of messages) await writer.write(m);
  } catch (e) {
    throw explain(e, 'mailslot', name);
  } finally {
    await writer.close();
  }
}

export function registerMailslot(program: Command, session: Session): void {
  const mailslot = program
    .command('mailslot')
    .description('mailslots from the shell: NAME is short for \\\\.\\mailslot\\NAME')
    .addHelpText('after', examples('ntipc mailslot listen status', "ntipc mailslot send status 'up, load 0.3'"));

  mailslot
    .command('listen')
    .description('create the mailslot (its one reader) and print each message as a line, until interrupted or --count messages')
    .argument('<name>', 'the mailslot: NAME or \\\\.\\mailslot\\NAME')
    .option('--json', 'one JSON object per message: {"bytes": N, "data": "…"}')
    .option('--count <n>', 'exit after this many messages')
    .addHelpText('after', examples('ntipc mailslot listen status', 'ntipc mailslot listen --json --count 1 status'))
    .action(async (arg: string, opts: { json?: boolean; count?: string }) => {
      const name = mailslotName(arg);
      const count = integerOption(opts.count, '--count', 1) ?? Infinity;
      const connection = await session.connect();
      let slot: Mailslot;
      try {
        slot = await Mailslot.create(name, { connection });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERROR_ALREADY_EXISTS') fail(ExitCode.failure, `mailslot ${name} has a reader already`);
        throw explain(e, 'mailslot', name);
      }
      try {
        note(`listening on ${name}`);
        for (let n = 0; n < count; n++) {
          const m = await slot.read();
          await writeOut(opts.json ? `${JSON.stringify({ bytes: m.length, data: m.toString('utf8') })}\n` : `${m.toString('utf8')}\n`);
        }
      } finally {
        await slot.close();
      }
    });

  mailslot
    .command('send')
    .description('write one message (DATA), or each line of stdin as a message')
    .argument('<name>', 'the mailslot: NAME, \\\\.\\mailslot\\NAME, or \\\\*\\mailslot\\NAME to broadcast')
    .argument('[data]', 'the message; without it, each line of stdin is one')
    .addHelpText('after', examples("ntipc mailslot send status 'up, load 0.3'", "uptime | ntipc mailslot send '\\\\*\\mailslot\\status'"))
    .action(async (arg: string, data: string | undefined) => {
      const connection = await session.connect();
      await writeTo(mailslotName(arg), data === undefined ? readStdin(true) : [Buffer.from(data, 'utf8')], connection);
    });
}

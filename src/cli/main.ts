#!/usr/bin/env node
/**
 * The ntipc command, over the public client API only. Exit codes (output.ts, docs/cli.md):
 * 0 success, 1 failure, 2 usage, 3 an object manager already serves the socket, 4 timeout,
 * 5 abandoned mutex; `mutex run` and `sem run` exit with their command's code.
 */
import { Command, CommanderError } from 'commander';
import { registerDaemon } from './commands/daemon.ts';
import { registerExamples } from './commands/examples.ts';
import { registerBench } from './commands/bench.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerMailslot } from './commands/mailslot.ts';
import { registerMessageQueue } from './commands/mq.ts';
import { registerPipe } from './commands/pipe.ts';
import { registerSync } from './commands/sync.ts';
import { ExitCode, failureLine } from './output.ts';
import { Session } from './session.ts';

const program = new Command('ntipc')
  .description('Windows NT style IPC and synchronization for Node.js: the object manager and its tools')
  .option('--socket <path>', 'object manager socket (default: from NTIPC_SOCKET / NTIPC_NAMESPACE)')
  .option('--no-start', 'never start an object manager: fail if none answers (as NTIPC_NO_START=1)')
  .addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 failure, 2 usage, 3 already serving (serve), 4 timeout, 5 abandoned mutex;\n' +
      '`mutex run` and `sem run` exit with their command\'s code. See docs/cli.md.',
  )
  .exitOverride()
  // Usage errors too are one line, `ntipc: …` (`ntipc COMMAND --help` shows the options and an example).
  .configureOutput({ outputError: (text, write) => write(`ntipc: ${text.replace(/^error: /, '')}`) });

const session = new Session(program);
registerDaemon(program, session);
registerInspect(program, session);
registerSync(program, session);
registerPipe(program, session);
registerMailslot(program, session);
registerMessageQueue(program, session);
registerBench(program);
registerExamples(program);

let exitCode: number;
try {
  await program.parseAsync(process.argv);
  exitCode = typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
} catch (e) {
  if (e instanceof CommanderError) exitCode = e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  else {
    const { line, exitCode: code } = failureLine(e, session.socket, session.autoStart);
    process.stderr.write(`ntipc: ${line}\n`);
    exitCode = code;
  }
}
await session.close();
process.exit(exitCode);

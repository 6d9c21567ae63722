#!/usr/bin/env node
/**
 * The ntipc command, over the public client API only. Exit codes: 0 success, 1 failure,
 * 2 usage, 3 an object manager already serves the socket.
 */
import { Command, CommanderError } from 'commander';
import { brokerStatus, IpcError, serveForeground, socketPath, stopBroker } from '../client/index.ts';

const program = new Command('ntipc')
  .description('Windows NT style IPC and synchronization for Node.js: the object manager and its tools')
  .option('--socket <path>', 'object manager socket (default: from NTIPC_SOCKET / NTIPC_NAMESPACE)')
  .exitOverride()
  .showHelpAfterError();

const socketOf = (): string => (program.opts().socket as string | undefined) ?? socketPath();

program
  .command('serve')
  .description('run the object manager in the foreground')
  .option('--trace', 'print every request and reply')
  .option('--linger <ms>', 'exit after this long with no clients and no objects')
  .option('--config <file>', 'configuration file: host name, domain, mailslot network (see docs/network.md)')
  .option('--state-dir <dir>', 'where durable message queues are kept (default: NTIPC_STATE_DIR, else under XDG_STATE_HOME)')
  .addHelpText('after', '\nExamples:\n  $ ntipc serve --trace\n  $ NTIPC_MAILSLOT_NETWORK=on ntipc serve --state-dir /var/lib/myapp/ntipc')
  .action(async (opts: { trace?: boolean; linger?: string; config?: string; stateDir?: string }) => {
    const path = socketOf();
    const code = await serveForeground({
      socketPath: path,
      trace: opts.trace ?? false,
      lingerMs: opts.linger === undefined ? undefined : Number(opts.linger),
      configFile: opts.config,
      stateDir: opts.stateDir,
      onLine: (line) => {
        process.stdout.write(`${line}\n`);
        if (line.startsWith('ntipc: listening on')) {
          process.stdout.write(
            [
              'Try it from another terminal (same NTIPC_SOCKET / NTIPC_NAMESPACE):',
              `  NTIPC_SOCKET=${path} node --input-type=module -e "import { Mutex } from 'ntipc'; const m = await Mutex.create('demo'); console.log(await m.wait(0)); await m.release();"`,
              `  NTIPC_SOCKET=${path} ntipc status      (in this repository: node dist/cli/main.js status)`,
              'Stop with Ctrl-C or `ntipc stop`.',
              '',
            ].join('\n'),
          );
        }
      },
    });
    process.exitCode = code;
  });

program
  .command('status')
  .description('show whether an object manager serves the socket, and its counts')
  .option('--json', 'print JSON')
  .addHelpText('after', '\nExample:\n  $ ntipc status --json')
  .action(async (opts: { json?: boolean }) => {
    const s = await brokerStatus(socketOf());
    if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    else {
      process.stdout.write(
        `object manager pid ${s.pid} on ${s.socketPath}, up ${(s.uptimeMs / 1000).toFixed(1)} s\n` +
          `${s.processes} processes, ${s.threads} threads, ${s.objects} objects, ${s.handles} handles, ${s.pendingWaits} pending waits\n`,
      );
    }
  });

program
  .command('stop')
  .description('stop the object manager (its clients see their connections close)')
  .addHelpText('after', '\nExample:\n  $ ntipc stop')
  .action(async () => {
    await stopBroker(socketOf());
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof IpcError) {
    process.stderr.write(`ntipc: ${e.code === 'ERROR_SERVICE_NOT_ACTIVE' ? `no object manager serves ${socketOf()}` : e.message}\n`);
    process.exit(1);
  }
  throw e;
}

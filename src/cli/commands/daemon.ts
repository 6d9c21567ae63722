/** `serve`, `status`, `stop`: the object manager itself. */
import type { Command } from 'commander';
import { brokerStatus, serveForeground, stopBroker } from '../../client/index.ts';
import { examples, integerOption, printJson, usage } from '../output.ts';
import type { Session } from '../session.ts';

export function registerDaemon(program: Command, session: Session): void {
  program
    .command('serve')
    .description('run the object manager in the foreground')
    .option('--trace', 'print every request and reply')
    .option('--linger <ms>', 'exit after this long with no clients and no objects')
    .option('--config <file>', 'configuration file: host name, domain, mailslot network (see docs/network.md)')
    .option('--state-dir <dir>', 'where durable message queues are kept (default: NTIPC_STATE_DIR, else under XDG_STATE_HOME)')
    .option('--dashboard [port]', 'also serve the live dashboard on 127.0.0.1 (default port 41139; 0: any free port); its address is printed')
    .addHelpText('after', examples('ntipc serve --trace', 'ntipc serve --dashboard=8080', 'NTIPC_MAILSLOT_NETWORK=on ntipc serve --state-dir /var/lib/myapp/ntipc'))
    .action(async (opts: { trace?: boolean; linger?: string; config?: string; stateDir?: string; dashboard?: string | true }) => {
      const path = session.socket;
      let dashboard: number | true | undefined;
      if (opts.dashboard === true) dashboard = true;
      else if (opts.dashboard !== undefined) {
        dashboard = integerOption(opts.dashboard, '--dashboard');
        if (dashboard! > 65535) usage(`--dashboard takes a port from 0 to 65535, not ${opts.dashboard}`);
      }
      const code = await serveForeground({
        socketPath: path,
        trace: opts.trace ?? false,
        lingerMs: integerOption(opts.linger, '--linger'),
        configFile: opts.config,
        stateDir: opts.stateDir,
        dashboard,
        onLine: (line) => {
          process.stdout.write(`${line}\n`);
          if (line.startsWith('ntipc: listening on')) {
            process.stdout.write(
              [
                'Try it from another terminal (same NTIPC_SOCKET / NTIPC_NAMESPACE):',
                `  NTIPC_SOCKET=${path} node --input-type=module -e "import { Mutex } from 'ntipc'; const m = await Mutex.create('demo'); console.log(await m.wait(0)); await m.release();"`,
                `  NTIPC_SOCKET=${path} ntipc status      (in this repository: node dist/cli/main.js status)`,
                `  NTIPC_SOCKET=${path} ntipc ls`,
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
    .addHelpText('after', examples('ntipc status', 'ntipc status --json'))
    .action(async (opts: { json?: boolean }) => {
      const s = await brokerStatus(session.socket);
      if (opts.json) printJson(s);
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
    .addHelpText('after', examples('ntipc stop'))
    .action(async () => {
      await stopBroker(session.socket);
    });
}

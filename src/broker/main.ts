/**
 * The object manager's entry point: `node main.js [--socket PATH] [--trace] [--linger MS]
 * [--config FILE] [--state-dir DIR] [--dashboard [PORT]]` (config.ts: host name, domain,
 * mailslot network; also from the environment; the state directory keeps durable message
 * queues, see queue-journal.ts; the dashboard, dashboard.ts, is served on 127.0.0.1:PORT,
 * 41139 when no port is given or an ephemeral one when that is taken, an ephemeral one for
 * 0). Started in the foreground by `ntipc serve`, or detached by the first client that finds
 * none. With a dashboard it prints `ntipc: dashboard on http://127.0.0.1:PORT/` (even with
 * --quiet), then `ntipc: listening on PATH (pid N)` once it serves.
 */
import { parseArgs } from 'node:util';
import { IpcError } from '../errors.ts';
import { socketPath } from '../transport/paths.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DEFAULT_DASHBOARD_PORT, startDashboard, type Dashboard } from './dashboard.ts';
import { stateDirFor } from './queue-journal.ts';
import { Broker } from './server.ts';

/** `--dashboard [PORT]`, `--dashboard=PORT`: the port, or DEFAULT_DASHBOARD_PORT; taken out of argv before parseArgs. */
function takeDashboardOption(argv: string[]): { args: string[]; port: number | undefined; portGiven: boolean } {
  const args: string[] = [];
  let port: number | undefined;
  let portGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--dashboard' || arg.startsWith('--dashboard=')) {
      let value = arg.startsWith('--dashboard=') ? arg.slice('--dashboard='.length) : undefined;
      if (value === undefined && /^\d+$/.test(argv[i + 1] ?? '')) value = argv[++i];
      port = value === undefined ? DEFAULT_DASHBOARD_PORT : Number(value);
      portGiven = value !== undefined;
      if (!/^\d+$/.test(value ?? '0') || port > 65535) {
        process.stderr.write(`ntipc: bad dashboard port: ${value}\n`);
        process.exit(2);
      }
    } else args.push(arg);
  }
  return { args, port, portGiven };
}

const dashboardOption = takeDashboardOption(process.argv.slice(2));
const { values } = parseArgs({
  args: dashboardOption.args,
  options: {
    socket: { type: 'string' },
    trace: { type: 'boolean', default: false },
    linger: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    config: { type: 'string' },
    'state-dir': { type: 'string' },
  },
});

const path = values.socket ?? socketPath();
const linger = values.linger === undefined ? Infinity : Number(values.linger);
const stamp = () => new Date().toISOString();

try {
  const config = loadConfig(process.env, values.config);
  for (const warning of config.warnings) process.stderr.write(`${stamp()} ntipc[${process.pid}]: warning: ${warning}\n`);
  const stateDir = values['state-dir'] ?? stateDirFor(path);
  const broker = await Broker.listen(path, {
    network: config,
    stateDir,
    lingerMs: Number.isFinite(linger) && linger >= 0 ? linger : Infinity,
    trace: values.trace ? (line) => process.stdout.write(`${line}\n`) : undefined,
    log: (line) => process.stderr.write(`${stamp()} ntipc[${process.pid}]: ${line}\n`),
  });
  let dashboard: Dashboard | undefined;
  if (dashboardOption.port !== undefined) {
    try {
      dashboard = await startDashboard(broker.kernel, {
        port: dashboardOption.port,
        fallbackToEphemeral: !dashboardOption.portGiven,
        log: (line) => process.stderr.write(`${stamp()} ntipc[${process.pid}]: ${line}\n`),
      });
    } catch (e) {
      broker.shutdown();
      await broker.closed;
      throw new Error(`dashboard on 127.0.0.1:${dashboardOption.port}: ${(e as Error).message}`);
    }
    process.stdout.write(`ntipc: dashboard on ${dashboard.url}\n`);
  }
  if (!values.quiet) {
    process.stdout.write(`ntipc: listening on ${path} (pid ${process.pid})\n`);
    const net = broker.status().mailslotNetwork;
    if (net !== undefined && net.mode !== 'off') {
      process.stdout.write(`ntipc: mailslot network: ${net.host} in ${net.domain}, UDP ${net.address} (${net.mode === 'peers' ? `peers ${net.peers.join(' ')}` : `group ${net.group}`}${net.signed ? ', signed' : ''})\n`);
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => broker.shutdown());
  await broker.closed;
  await dashboard?.close();
  process.exit(0);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`ntipc: bad configuration: ${e.message}\n`);
    process.exit(1);
  }
  if (e instanceof IpcError && e.code === 'ERROR_ALREADY_EXISTS') {
    process.stderr.write(`ntipc: an object manager already serves ${path}\n`);
    process.exit(3);
  }
  process.stderr.write(`ntipc: cannot serve ${path}: ${(e as Error).message}\n`);
  process.exit(1);
}

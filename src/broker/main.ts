/**
 * The object manager's entry point: `node main.js [--socket PATH] [--trace] [--linger MS]
 * [--config FILE] [--state-dir DIR]` (config.ts: host name, domain, mailslot network; also from
 * the environment; the state directory keeps durable message queues, see queue-journal.ts).
 * Started in the foreground by `ntipc serve`, or detached by the first client that finds
 * none. Prints one line `ntipc: listening on PATH (pid N)` once it serves.
 */
import { parseArgs } from 'node:util';
import { IpcError } from '../errors.ts';
import { socketPath } from '../transport/paths.ts';
import { ConfigError, loadConfig } from './config.ts';
import { stateDirFor } from './queue-journal.ts';
import { Broker } from './server.ts';

const { values } = parseArgs({
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
  if (!values.quiet) {
    process.stdout.write(`ntipc: listening on ${path} (pid ${process.pid})\n`);
    const net = broker.status().mailslotNetwork;
    if (net !== undefined && net.mode !== 'off') {
      process.stdout.write(`ntipc: mailslot network: ${net.host} in ${net.domain}, UDP ${net.address} (${net.mode === 'peers' ? `peers ${net.peers.join(' ')}` : `group ${net.group}`}${net.signed ? ', signed' : ''})\n`);
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => broker.shutdown());
  await broker.closed;
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

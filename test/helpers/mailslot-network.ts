/**
 * Several object managers on this machine, each in its own process, made into "machines"
 * of a mailslot network: their own host names and domains, one multicast group on the
 * loopback interface or a list of peers on loopback ports. Every group, port, domain and
 * secret is fresh, so that tests running at once never hear each other, and no user config
 * file is read.
 */
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { TestContext } from 'node:test';
import { connect, type Connection } from '../../src/client/index.ts';
import type { MailslotNetworkStatus } from '../../src/protocol/schema.ts';
import { startDaemon, type Daemon } from './daemon.ts';

export interface Machine {
  host: string;
  domain: string;
  /** Its UDP port. */
  port: number;
  daemon: Daemon;
  connection: Connection;
  status(): Promise<MailslotNetworkStatus>;
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** UDP ports free on loopback right now (bound together, then let go). */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const s = dgram.createSocket('udp4');
          s.once('error', reject);
          s.bind(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** Environment for a daemon that reads no config file and has no network unless told. */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NTIPC_CONFIG: '' };
  for (const key of Object.keys(process.env)) if (key.startsWith('NTIPC_MAILSLOT_') || key === 'NTIPC_HOST' || key === 'NTIPC_DOMAIN') env[key] = '';
  return { ...env, ...extra };
}

export interface MachineSpec {
  host: string;
  domain: string;
  /** Peers mode: more peers than the other machines (e.g. a port nobody listens on). */
  extraPeers?: string[];
}

export interface NetworkSpec {
  mode: 'multicast' | 'peers';
  /** A shared secret (default: a fresh one); null for unsigned datagrams. */
  secret?: string | null;
  /** Peers mode: how the peers are named (default 127.0.0.1; `localhost` makes them names to resolve). */
  peerAddress?: string;
}

/** Where cleanup goes: a test's context, or {@link Cleanups} for a suite. */
export type AfterHook = Pick<TestContext, 'after'> | Cleanups;

/** Cleanups for a suite's shared machines: register `run` with the suite's `after`. */
export class Cleanups {
  private readonly fns: (() => unknown)[] = [];
  after(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) await fn();
  }
}

/** Start one object manager per spec, networked as `network` says; all stopped after the test. */
export async function startMachines(t: AfterHook, specs: MachineSpec[], network: NetworkSpec): Promise<Machine[]> {
  const secret = network.secret === undefined ? randomBytes(16).toString('hex') : network.secret;
  const ports = network.mode === 'peers' ? await freeUdpPorts(specs.length) : Array(specs.length).fill((await freeUdpPorts(1))[0]);
  const group = `239.255.${randomInt(100, 200)}.${randomInt(1, 255)}`;
  const machines: Machine[] = [];
  t.after(async () => {
    const started = machines.filter(Boolean);
    for (const m of started) m.connection.close();
    await Promise.all(started.map((m) => m.daemon.stop()));
  });
  await Promise.all(
    specs.map(async (spec, i) => {
      const peers = network.mode === 'peers' ? [...ports.filter((_, j) => j !== i).map((p) => `${network.peerAddress ?? '127.0.0.1'}:${p}`), ...(spec.extraPeers ?? [])] : [];
      const daemon = await startDaemon({
        env: isolatedEnv({
          NTIPC_HOST: spec.host,
          NTIPC_DOMAIN: spec.domain,
          NTIPC_MAILSLOT_NETWORK: 'on',
          NTIPC_MAILSLOT_PORT: String(ports[i]),
          NTIPC_MAILSLOT_GROUP: group,
          NTIPC_MAILSLOT_INTERFACE: '127.0.0.1',
          NTIPC_MAILSLOT_PEERS: peers.join(','),
          NTIPC_MAILSLOT_SECRET: secret ?? '',
        }),
      });
      const connection = await connect({ socketPath: daemon.socketPath, autoStart: false }).catch(async (e: unknown) => {
        await daemon.stop();
        throw e;
      });
      machines[i] = {
        host: spec.host,
        domain: spec.domain,
        port: ports[i]!,
        daemon,
        connection,
        status: async () => (await connection.request('status', {})).status.mailslotNetwork!,
      };
    }),
  );
  return machines;
}

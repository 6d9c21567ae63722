/**
 * The object manager's configuration: who this machine is on the network (host name,
 * domain) and how mailslot messages travel between machines. Read from a JSON file and the
 * environment; each setting is taken from the first of: the environment, the file, the
 * default. The file is `--config PATH`, else `$NTIPC_CONFIG` (empty: no file), else
 * `$XDG_CONFIG_HOME/ntipc/config.json` (`~/.config/ntipc/config.json`) if it exists.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MAX_NETWORK_NAME, NETWORK_NAME } from '../protocol/mailslot-datagram.ts';

export const DEFAULT_DOMAIN = 'WORKGROUP';
/** An organization-local multicast group (239.255.0.0/16, RFC 2365). */
export const DEFAULT_GROUP = '239.255.41.38';
export const DEFAULT_PORT = 41138;
/** One hop: the local network only, as NetBIOS datagrams. */
export const DEFAULT_TTL = 1;
/** Shortest shared secret accepted. */
export const MIN_SECRET_LENGTH = 16;

export interface Peer {
  /** An IPv4 address or a host name (resolved at each send). */
  address: string;
  port: number;
}

export interface MailslotNetworkConfig {
  /** Off unless configured: with it off, `\\*\mailslot\x` reaches this machine only. */
  enabled: boolean;
  /** Multicast group the datagrams go to, unless `peers` is set. */
  group: string;
  /** UDP port: where this object manager listens, and where peers without a port listen. */
  port: number;
  /** Unicast to these instead of multicast, when not empty. */
  peers: Peer[];
  /** IPv4 address of the interface to bind and to send multicast from (default: any / the system's choice). */
  interface: string | undefined;
  /** Multicast time-to-live (hops). */
  ttl: number;
  /** Shared secret: datagrams are signed (HMAC-SHA256) and must be, when set. */
  secret: string | undefined;
}

export interface BrokerConfig {
  /** This machine's name, as `\\HOST\mailslot\x` addresses it. */
  host: string;
  /** The primary domain, as `\\*` and `\\DOMAIN` address it. */
  domain: string;
  mailslotNetwork: MailslotNetworkConfig;
  /** The file read, if any. */
  file: string | undefined;
  /** Things an operator should hear of (a secret in a file others can read). */
  warnings: string[];
}

/** A configuration that cannot be used; the message names the setting and its source. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The keys a config file may hold. */
interface ConfigFile {
  host?: string;
  domain?: string;
  mailslotNetwork?: {
    enabled?: boolean;
    group?: string;
    port?: number;
    peers?: string[];
    interface?: string;
    ttl?: number;
    secret?: string;
    secretFile?: string;
  };
}

const FILE_KEYS = ['host', 'domain', 'mailslotNetwork'];
const NETWORK_KEYS = ['enabled', 'group', 'port', 'peers', 'interface', 'ttl', 'secret', 'secretFile'];

/** The environment variables read, by setting. */
export const ENV = {
  config: 'NTIPC_CONFIG',
  host: 'NTIPC_HOST',
  domain: 'NTIPC_DOMAIN',
  enabled: 'NTIPC_MAILSLOT_NETWORK',
  group: 'NTIPC_MAILSLOT_GROUP',
  port: 'NTIPC_MAILSLOT_PORT',
  peers: 'NTIPC_MAILSLOT_PEERS',
  interface: 'NTIPC_MAILSLOT_INTERFACE',
  ttl: 'NTIPC_MAILSLOT_TTL',
  secret: 'NTIPC_MAILSLOT_SECRET',
  secretFile: 'NTIPC_MAILSLOT_SECRET_FILE',
} as const;

/** The config file to read: `explicit` (a flag), else from the environment, else the default if it exists. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env, explicit?: string): { path: string; required: boolean } | undefined {
  if (explicit !== undefined) return { path: explicit, required: true };
  const named = env[ENV.config];
  if (named !== undefined) return named === '' ? undefined : { path: named, required: true };
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return { path: path.join(base, 'ntipc', 'config.json'), required: false };
}

/** Read the configuration from the file and the environment. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, explicitPath?: string): BrokerConfig {
  const where = configFilePath(env, explicitPath);
  let file: ConfigFile = {};
  let fileRead: string | undefined;
  const warnings: string[] = [];
  if (where !== undefined) {
    let text: string | undefined;
    try {
      text = fs.readFileSync(where.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || where.required) {
        throw new ConfigError(`cannot read config file ${where.path}: ${(e as Error).message}`);
      }
    }
    if (text !== undefined) {
      try {
        file = JSON.parse(text) as ConfigFile;
      } catch (e) {
        throw new ConfigError(`config file ${where.path} is not JSON: ${(e as Error).message}`);
      }
      fileRead = where.path;
      if (file?.mailslotNetwork?.secret !== undefined && readableByOthers(where.path)) {
        warnings.push(`config file ${where.path} holds a secret and others may read it (chmod 600 it)`);
      }
    }
  }
  const config = resolveConfig(file, env, fileRead ?? 'config');
  return { ...config, file: fileRead, warnings: [...warnings, ...config.warnings] };
}

/**
 * The configuration from a parsed config file and the environment, each setting from the
 * first that has it (environment, file, default). Pure but for reading a secret file.
 */
export function resolveConfig(file: unknown, env: NodeJS.ProcessEnv = {}, fileName = 'config'): BrokerConfig {
  const warnings: string[] = [];
  const f = checkShape(file, fileName);
  const n = f.mailslotNetwork ?? {};
  const pick = <T>(key: keyof typeof ENV, fromFile: unknown, parse: (s: string, source: string) => T, fromFileCheck: (v: unknown, source: string) => T): T | undefined => {
    const raw = env[ENV[key]];
    if (raw !== undefined && raw !== '') return parse(raw, ENV[key]);
    if (fromFile !== undefined) return fromFileCheck(fromFile, `${fileName}: ${key}`);
    return undefined;
  };
  const asString = (v: unknown, source: string): string => {
    if (typeof v !== 'string') throw new ConfigError(`${source} must be a string`);
    return v;
  };
  const hostKey = (v: unknown, source: string) => networkName(asString(v, source), source);

  const host = pick('host', f.host, hostKey, hostKey) ?? defaultHostName();
  const domain = pick('domain', f.domain, hostKey, hostKey) ?? DEFAULT_DOMAIN;
  const enabled = pick('enabled', n.enabled, parseSwitch, (v, s) => {
    if (typeof v !== 'boolean') throw new ConfigError(`${s} must be true or false`);
    return v;
  }) ?? false;
  const group = pick('group', n.group, multicastGroup, (v, s) => multicastGroup(asString(v, s), s)) ?? DEFAULT_GROUP;
  const port = pick('port', n.port, (s, src) => portNumber(Number(s), src), (v, s) => portNumber(v, s)) ?? DEFAULT_PORT;
  const peers =
    pick(
      'peers',
      n.peers,
      (s, src) => s.split(/[\s,]+/).filter(Boolean).map((p) => peer(p, port, src)),
      (v, s) => {
        if (!Array.isArray(v)) throw new ConfigError(`${s} must be a list of "host" or "host:port"`);
        return v.map((p) => peer(asString(p, s), port, s));
      },
    ) ?? [];
  const iface = pick('interface', n.interface, ipv4, (v, s) => ipv4(asString(v, s), s));
  const ttl = pick('ttl', n.ttl, (s, src) => integer(Number(s), 0, 255, src), (v, s) => integer(v, 0, 255, s)) ?? DEFAULT_TTL;
  const secret = pickSecret(env, n, fileName, warnings);
  return { host, domain, mailslotNetwork: { enabled, group, port, peers, interface: iface, ttl, secret }, file: undefined, warnings };
}

/** The secret, from `secret` or `secretFile`, the environment's pair before the file's. */
function pickSecret(env: NodeJS.ProcessEnv, n: NonNullable<ConfigFile['mailslotNetwork']>, fileName: string, warnings: string[]): string | undefined {
  const fromEnv = env[ENV.secret] || undefined;
  const fileFromEnv = env[ENV.secretFile] || undefined;
  if (fromEnv !== undefined && fileFromEnv !== undefined) throw new ConfigError(`set ${ENV.secret} or ${ENV.secretFile}, not both`);
  if (n.secret !== undefined && n.secretFile !== undefined) throw new ConfigError(`${fileName}: set mailslotNetwork.secret or secretFile, not both`);
  let secret: string | undefined;
  let source: string;
  if (fromEnv !== undefined || fileFromEnv !== undefined) {
    secret = fromEnv ?? readSecretFile(fileFromEnv!, ENV.secretFile, warnings);
    source = fromEnv !== undefined ? ENV.secret : ENV.secretFile;
  } else if (n.secret !== undefined || n.secretFile !== undefined) {
    if (n.secret !== undefined && typeof n.secret !== 'string') throw new ConfigError(`${fileName}: secret must be a string`);
    if (n.secretFile !== undefined && typeof n.secretFile !== 'string') throw new ConfigError(`${fileName}: secretFile must be a path`);
    secret = n.secret ?? readSecretFile(n.secretFile!, `${fileName}: secretFile`, warnings);
    source = `${fileName}: secret`;
  } else {
    return undefined;
  }
  if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`${source} is shorter than ${MIN_SECRET_LENGTH} characters`);
  return secret;
}

function readSecretFile(file: string, source: string, warnings: string[]): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${source}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (readableByOthers(file)) warnings.push(`secret file ${file} may be read by others (chmod 600 it)`);
  return text.replace(/\r?\n$/, '');
}

function readableByOthers(file: string): boolean {
  try {
    return (fs.statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function checkShape(file: unknown, fileName: string): ConfigFile {
  if (file === undefined || file === null) return {};
  if (typeof file !== 'object' || Array.isArray(file)) throw new ConfigError(`${fileName} must hold a JSON object`);
  for (const key of Object.keys(file)) {
    if (!FILE_KEYS.includes(key)) throw new ConfigError(`${fileName}: unknown setting "${key}" (known: ${FILE_KEYS.join(', ')})`);
  }
  const n = (file as ConfigFile).mailslotNetwork;
  if (n !== undefined) {
    if (typeof n !== 'object' || n === null || Array.isArray(n)) throw new ConfigError(`${fileName}: mailslotNetwork must be an object`);
    for (const key of Object.keys(n)) {
      if (!NETWORK_KEYS.includes(key)) throw new ConfigError(`${fileName}: unknown setting "mailslotNetwork.${key}" (known: ${NETWORK_KEYS.join(', ')})`);
    }
  }
  return file as ConfigFile;
}

/** os.hostname(), made into a valid name if it is not one. */
export function defaultHostName(): string {
  const cleaned = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_NETWORK_NAME);
  return cleaned === '' ? 'localhost' : cleaned;
}

function networkName(s: string, source: string): string {
  if (!NETWORK_NAME.test(s) || s.length > MAX_NETWORK_NAME) {
    throw new ConfigError(`${source}: ${JSON.stringify(s)} is not a valid name (letters, digits, '.', '_', '-'; at most ${MAX_NETWORK_NAME})`);
  }
  return s;
}

function parseSwitch(s: string, source: string): boolean {
  const v = s.toLowerCase();
  if (['1', 'on', 'true', 'yes'].includes(v)) return true;
  if (['0', 'off', 'false', 'no'].includes(v)) return false;
  throw new ConfigError(`${source} must be on or off, not ${JSON.stringify(s)}`);
}

function integer(v: unknown, min: number, max: number, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${source} must be an integer from ${min} to ${max}`);
  return v;
}

function portNumber(v: unknown, source: string): number {
  return integer(v, 1, 65535, source);
}

function ipv4(s: string, source: string): string {
  if (!net.isIPv4(s)) throw new ConfigError(`${source} must be an IPv4 address, not ${JSON.stringify(s)}`);
  return s;
}

function multicastGroup(s: string, source: string): string {
  const first = Number(s.split('.')[0]);
  if (!net.isIPv4(s) || first < 224 || first > 239) throw new ConfigError(`${source} must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255), not ${JSON.stringify(s)}`);
  return s;
}

function peer(s: string, defaultPort: number, source: string): Peer {
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m === null || !(net.isIPv4(m[1]!) || (NETWORK_NAME.test(m[1]!) && m[1]!.length <= MAX_NETWORK_NAME))) {
    throw new ConfigError(`${source}: peer ${JSON.stringify(s)} must be "host" or "host:port" (IPv4 address or host name)`);
  }
  return { address: m[1]!, port: m[2] === undefined ? defaultPort : portNumber(Number(m[2]), `${source}: peer ${s}`) };
}

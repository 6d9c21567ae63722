import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  DEFAULT_DOMAIN,
  DEFAULT_GROUP,
  DEFAULT_PORT,
  DEFAULT_TTL,
  configFilePath,
  defaultHostName,
  loadConfig,
  resolveConfig,
} from '../../src/broker/config.ts';

function withDir(t: import('node:test').TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntipc-cfg-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the defaults: this host name, WORKGROUP, network off, the default group, port and TTL', () => {
  const c = resolveConfig(undefined, {});
  assert.equal(c.host, defaultHostName());
  assert.equal(c.domain, DEFAULT_DOMAIN);
  assert.deepEqual(c.mailslotNetwork, {
    enabled: false,
    group: DEFAULT_GROUP,
    port: DEFAULT_PORT,
    peers: [],
    interface: undefined,
    ttl: DEFAULT_TTL,
    secret: undefined,
  });
  assert.match(defaultHostName(), /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
});

test('the environment wins over the file, setting by setting', () => {
  const file = {
    host: 'from-file',
    domain: 'FILEDOM',
    mailslotNetwork: { enabled: false, group: '239.1.2.3', port: 5000, ttl: 4, peers: ['10.0.0.1', 'b.example:6000'], secret: 'file secret of length' },
  };
  const fileOnly = resolveConfig(file, {});
  assert.equal(fileOnly.host, 'from-file');
  assert.deepEqual(fileOnly.mailslotNetwork.peers, [
    { address: '10.0.0.1', port: 5000 },
    { address: 'b.example', port: 6000 },
  ]);
  assert.equal(fileOnly.mailslotNetwork.secret, 'file secret of length');
  const both = resolveConfig(file, {
    NTIPC_HOST: 'from-env',
    NTIPC_MAILSLOT_NETWORK: 'on',
    NTIPC_MAILSLOT_PORT: '7000',
    NTIPC_MAILSLOT_PEERS: '10.0.0.9, c.example:7001',
    NTIPC_MAILSLOT_SECRET: 'environment secret!!',
    NTIPC_MAILSLOT_INTERFACE: '127.0.0.1',
    NTIPC_DOMAIN: '',
  });
  assert.equal(both.host, 'from-env');
  assert.equal(both.domain, 'FILEDOM', 'an empty variable counts as unset');
  assert.equal(both.mailslotNetwork.enabled, true);
  assert.equal(both.mailslotNetwork.port, 7000);
  assert.equal(both.mailslotNetwork.group, '239.1.2.3');
  assert.equal(both.mailslotNetwork.ttl, 4);
  assert.equal(both.mailslotNetwork.interface, '127.0.0.1');
  assert.deepEqual(both.mailslotNetwork.peers, [
    { address: '10.0.0.9', port: 7000 },
    { address: 'c.example', port: 7001 },
  ]);
  assert.equal(both.mailslotNetwork.secret, 'environment secret!!');
});

test('the switch takes on/off, true/false, yes/no, 1/0 and nothing else', () => {
  for (const v of ['on', 'TRUE', 'yes', '1']) assert.equal(resolveConfig({}, { NTIPC_MAILSLOT_NETWORK: v }).mailslotNetwork.enabled, true, v);
  for (const v of ['off', 'False', 'no', '0']) assert.equal(resolveConfig({}, { NTIPC_MAILSLOT_NETWORK: v }).mailslotNetwork.enabled, false, v);
  assert.throws(() => resolveConfig({}, { NTIPC_MAILSLOT_NETWORK: 'maybe' }), /NTIPC_MAILSLOT_NETWORK must be on or off/);
});

test('bad settings are refused with the setting named', () => {
  const cases: [unknown, NodeJS.ProcessEnv, RegExp][] = [
    [{ hostname: 'x' }, {}, /unknown setting "hostname"/],
    [{ mailslotNetwork: { enable: true } }, {}, /unknown setting "mailslotNetwork.enable"/],
    [[1, 2], {}, /must hold a JSON object/],
    [{ host: 'has space' }, {}, /host: "has space" is not a valid name/],
    [{}, { NTIPC_DOMAIN: '*' }, /NTIPC_DOMAIN: "\*" is not a valid name/],
    [{ mailslotNetwork: { group: '10.0.0.1' } }, {}, /group must be an IPv4 multicast address/],
    [{}, { NTIPC_MAILSLOT_PORT: '0' }, /NTIPC_MAILSLOT_PORT must be an integer from 1 to 65535/],
    [{ mailslotNetwork: { port: '41138' } }, {}, /port must be an integer/],
    [{}, { NTIPC_MAILSLOT_TTL: '256' }, /TTL must be an integer from 0 to 255/],
    [{ mailslotNetwork: { peers: 'a,b' } }, {}, /peers must be a list/],
    [{}, { NTIPC_MAILSLOT_PEERS: 'a:b:c' }, /peer "a:b:c" must be "host" or "host:port"/],
    [{}, { NTIPC_MAILSLOT_PEERS: 'a:70000' }, /must be an integer from 1 to 65535/],
    [{}, { NTIPC_MAILSLOT_INTERFACE: 'eth0' }, /must be an IPv4 address/],
    [{}, { NTIPC_MAILSLOT_SECRET: 'short' }, /shorter than 16 characters/],
    [{ mailslotNetwork: { secret: 'long enough secret', secretFile: '/x' } }, {}, /not both/],
    [{}, { NTIPC_MAILSLOT_SECRET: 'long enough secret', NTIPC_MAILSLOT_SECRET_FILE: '/x' }, /not both/],
    [{}, { NTIPC_MAILSLOT_SECRET_FILE: '/nonexistent/ntipc-secret' }, /cannot read \/nonexistent/],
  ];
  for (const [file, env, message] of cases) {
    assert.throws(() => resolveConfig(file, env), (e: unknown) => e instanceof ConfigError && message.test(e.message), `${JSON.stringify(file)} ${JSON.stringify(env)}`);
  }
});

test('the config file: --config, then NTIPC_CONFIG (empty: none), then the XDG default if it exists', (t) => {
  const dir = withDir(t);
  assert.deepEqual(configFilePath({ NTIPC_CONFIG: '/a.json' }, '/flag.json'), { path: '/flag.json', required: true });
  assert.deepEqual(configFilePath({ NTIPC_CONFIG: '/a.json' }), { path: '/a.json', required: true });
  assert.equal(configFilePath({ NTIPC_CONFIG: '' }), undefined);
  assert.deepEqual(configFilePath({ XDG_CONFIG_HOME: dir }), { path: path.join(dir, 'ntipc', 'config.json'), required: false });

  // The default that is not there is no error; a named one that is not there is.
  assert.equal(loadConfig({ XDG_CONFIG_HOME: dir }).file, undefined);
  assert.throws(() => loadConfig({ NTIPC_CONFIG: path.join(dir, 'missing.json') }), /cannot read config file/);

  fs.mkdirSync(path.join(dir, 'ntipc'));
  fs.writeFileSync(path.join(dir, 'ntipc', 'config.json'), JSON.stringify({ domain: 'XDGDOM' }));
  const c = loadConfig({ XDG_CONFIG_HOME: dir });
  assert.equal(c.domain, 'XDGDOM');
  assert.equal(c.file, path.join(dir, 'ntipc', 'config.json'));

  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, '{ "domain": ');
  assert.throws(() => loadConfig({ NTIPC_CONFIG: bad }), /is not JSON/);
});

test('a secret may come from a file; a secret others can read is warned about', (t) => {
  const dir = withDir(t);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, 'a secret kept in a file\n', { mode: 0o600 });
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ mailslotNetwork: { secretFile } }), { mode: 0o644 });
  const quiet = loadConfig({ NTIPC_CONFIG: config });
  assert.equal(quiet.mailslotNetwork.secret, 'a secret kept in a file', 'the final newline is not part of it');
  assert.deepEqual(quiet.warnings, []);

  fs.chmodSync(secretFile, 0o644);
  assert.match(loadConfig({ NTIPC_CONFIG: config }).warnings.join('\n'), /secret file .* may be read by others/);

  fs.writeFileSync(config, JSON.stringify({ mailslotNetwork: { secret: 'a secret written inline' } }));
  fs.chmodSync(config, 0o644);
  assert.match(loadConfig({ NTIPC_CONFIG: config }).warnings.join('\n'), /holds a secret and others may read it/);
  fs.chmodSync(config, 0o600);
  assert.deepEqual(loadConfig({ NTIPC_CONFIG: config }).warnings, []);
});

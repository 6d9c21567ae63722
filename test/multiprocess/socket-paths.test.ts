import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { socketPath, stopBroker } from '../../src/client/index.ts';
import { MAX_SOCKET_PATH } from '../../src/transport/paths.ts';
import { tempDir } from '../helpers/daemon.ts';
import { brokersGone, endBrokers } from '../fixtures/os-processes.ts';
import { spawnAutoClient, type AutoClient } from '../fixtures/scripts.ts';

/**
 * Clients of this test, and every object manager they start on the sockets it names, are
 * gone afterwards; its directories and the files the object managers left are removed.
 */
function scene(t: TestContext): { base: string; clients: AutoClient[]; sockets: string[]; cleanup: string[] } {
  const base = tempDir();
  const clients: AutoClient[] = [];
  const sockets: string[] = [];
  const cleanup: string[] = [];
  t.after(async () => {
    try {
      for (const c of clients) await c.kill();
      for (const s of sockets) await endBrokers(s);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
      for (const p of cleanup) fs.rmSync(p, { force: true });
    }
  });
  return { base, clients, sockets, cleanup };
}

const ns = (tag: string) => `t-${tag}-${process.pid}`;

test('a runtime directory too deep for a socket path still works: the socket path is shortened', async (t) => {
  const { base, clients, sockets, cleanup } = scene(t);
  const deep = path.join(base, 'd'.repeat(60), 'e'.repeat(60));
  const env = { NTIPC_RUNTIME_DIR: deep, NTIPC_NAMESPACE: ns('deep'), NTIPC_LINGER_MS: '200' };
  const expected = socketPath(env);
  assert.ok(Buffer.byteLength(path.join(deep, `${env.NTIPC_NAMESPACE}.sock`)) > 108);
  assert.ok(Buffer.byteLength(expected) <= MAX_SOCKET_PATH);
  sockets.push(expected);
  const shortDir = path.dirname(expected);
  const hadShortDir = fs.existsSync(shortDir);
  cleanup.push(expected.replace(/\.sock$/, '.log'));
  t.after(() => {
    if (hadShortDir) return;
    try {
      fs.rmdirSync(shortDir);
    } catch {
      // Another user of the short-path directory appeared meanwhile: leave it.
    }
  });

  const [a, b] = [await spawnAutoClient(env), await spawnAutoClient(env)];
  clients.push(a, b);
  const ra = await a.connect('mp-deep');
  assert.equal(ra.socketPath, expected, 'client and test compute the same short path');
  const rb = await b.connect('mp-deep');
  assert.equal(rb.brokerPid, ra.brokerPid);
  assert.equal(rb.existed, true);
  assert.ok(fs.lstatSync(expected).isSocket());
  assert.equal(fs.statSync(shortDir).mode & 0o777, 0o700);
  await stopBroker(expected);
  await brokersGone(expected);
});

test('a missing runtime directory is created private (0700); an existing ntipc one open to others is tightened, a user\'s own is left as made', async (t) => {
  const { base, clients, sockets } = scene(t);
  const fresh = path.join(base, 'fresh', 'rt');
  const loose = path.join(base, 'ntipc-loose');
  const users = path.join(base, 'users-own');
  for (const dir of [loose, users]) {
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
  }
  for (const [dir, tag, mode] of [
    [fresh, 'fresh', 0o700],
    [loose, 'loose', 0o700],
    [users, 'users', 0o755],
  ] as const) {
    const env = { NTIPC_RUNTIME_DIR: dir, NTIPC_NAMESPACE: ns(tag), NTIPC_LINGER_MS: '200' };
    const socket = path.join(dir, `${env.NTIPC_NAMESPACE}.sock`);
    sockets.push(socket);
    const c = await spawnAutoClient(env);
    clients.push(c);
    assert.equal((await c.connect('mp-private')).socketPath, socket);
    assert.equal(fs.statSync(dir).mode & 0o777, mode, `${tag} runtime directory`);
    assert.equal(fs.statSync(socket).mode & 0o777, 0o600, `${tag} socket`);
    await stopBroker(socket);
    await brokersGone(socket);
  }
});

test('NTIPC_NAMESPACE selects a different object manager; the same namespace reaches the same one', async (t) => {
  const { base, clients, sockets } = scene(t);
  const envA = { NTIPC_RUNTIME_DIR: base, NTIPC_NAMESPACE: ns('a'), NTIPC_LINGER_MS: '200' };
  const envB = { ...envA, NTIPC_NAMESPACE: ns('b') };
  sockets.push(socketPath(envA), socketPath(envB));
  const [a1, a2, b1] = [await spawnAutoClient(envA), await spawnAutoClient(envA), await spawnAutoClient(envB)];
  clients.push(a1, a2, b1);
  const ra = await a1.connect('mp-ns-only-in-a');
  const rb = await b1.connect('mp-ns-only-in-b');
  assert.notEqual(ra.brokerPid, rb.brokerPid);
  assert.equal(ra.socketPath, path.join(base, `${envA.NTIPC_NAMESPACE}.sock`));
  assert.equal(rb.socketPath, path.join(base, `${envB.NTIPC_NAMESPACE}.sock`));
  // Names live in one namespace only.
  assert.equal(await b1.open('mp-ns-only-in-a'), 'ERROR_FILE_NOT_FOUND');
  const ra2 = await a2.connect('mp-ns-other');
  assert.equal(ra2.brokerPid, ra.brokerPid);
  assert.equal(await a2.open('mp-ns-only-in-a'), undefined);
  assert.equal(await a2.open('mp-ns-only-in-b'), 'ERROR_FILE_NOT_FOUND');
  for (const s of sockets) await stopBroker(s);
  for (const s of sockets) await brokersGone(s);
});

test('a namespace that is not a plain word is refused with ERROR_INVALID_NAME', () => {
  for (const bad of ['', 'a/b', '../x', 'x'.repeat(65), 'sp ace']) {
    assert.throws(() => socketPath({ NTIPC_NAMESPACE: bad }), { code: 'ERROR_INVALID_NAME' }, JSON.stringify(bad));
  }
});

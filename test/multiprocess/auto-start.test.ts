import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, Mutex, stopBroker } from '../../src/client/index.ts';
import { startDaemon, tempDir } from '../helpers/daemon.ts';
import { brokersServing, endBrokers, processExit } from '../fixtures/os-processes.ts';
import { spawnAutoClient, type AutoClient } from '../fixtures/scripts.ts';

/** A private directory for one test's socket; afterwards its clients and object managers are gone and it is removed. */
function scene(t: TestContext): { socket: string; clients: AutoClient[] } {
  const dir = tempDir();
  const socket = path.join(dir, 'ntipc.sock');
  const clients: AutoClient[] = [];
  t.after(async () => {
    try {
      for (const c of clients) await c.kill();
      await endBrokers(socket);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return { socket, clients };
}

test('eight clients racing to start the object manager on a fresh socket all reach one and the same', { timeout: 60_000 }, async (t) => {
  const { socket, clients } = scene(t);
  const env = { NTIPC_SOCKET: socket, NTIPC_LINGER_MS: '300' };
  for (let i = 0; i < 8; i++) clients.push(await spawnAutoClient(env));
  assert.equal(fs.existsSync(socket), false);
  // Every client is up and waiting; now they all go at once.
  const results = await Promise.all(clients.map((c) => c.connect('mp-race')));
  const pids = new Set(results.map((r) => r.brokerPid));
  assert.equal(pids.size, 1, `one object manager, not ${[...pids].join(', ')}`);
  const [brokerPid] = pids;
  assert.deepEqual(brokersServing(socket), [brokerPid]);
  assert.equal(results.filter((r) => !r.existed).length, 1, 'exactly one client created the mutex');
  // No second object manager even tried to serve the socket.
  assert.doesNotMatch(fs.readFileSync(socket.replace(/\.sock$/, '.log'), 'utf8'), /already serves/);
  await stopBroker(socket);
  await processExit(brokerPid!);
  assert.equal(fs.existsSync(socket), false, 'the socket file is removed at shutdown');
});

test('a socket file left by a killed object manager is replaced by a new one when a client starts it', async (t) => {
  const daemon = await startDaemon();
  t.after(async () => {
    try {
      await endBrokers(daemon.socketPath);
    } finally {
      await daemon.stop();
    }
  });
  const old = daemon.proc.pid!;
  daemon.proc.kill('SIGKILL');
  await processExit(old);
  assert.ok(fs.lstatSync(daemon.socketPath).isSocket(), 'the dead object manager left its socket file');
  await assert.rejects(connect({ socketPath: daemon.socketPath, autoStart: false }), { code: 'ERROR_SERVICE_NOT_ACTIVE' });

  const c = await connect({ socketPath: daemon.socketPath, autoStart: true });
  t.after(() => c.close());
  assert.notEqual(c.brokerPid, old);
  assert.deepEqual(brokersServing(daemon.socketPath), [c.brokerPid]);
  const m = await Mutex.create('mp-stale', { connection: c, initialOwner: true });
  assert.equal((await m.query()).state.ownerPid, process.pid);
  await m.release();
  const pid = c.brokerPid;
  await stopBroker(daemon.socketPath);
  await processExit(pid);
});

test('an auto-started object manager exits by itself once its last client is gone and no object remains', async (t) => {
  const { socket, clients } = scene(t);
  const env = { NTIPC_SOCKET: socket, NTIPC_LINGER_MS: '200' };
  const [a, b] = [await spawnAutoClient(env), await spawnAutoClient(env)];
  clients.push(a, b);
  const { brokerPid } = await a.connect('mp-linger');
  assert.equal((await b.connect('mp-linger')).brokerPid, brokerPid);
  await a.close();
  // B still holds the mutex: the object manager is still there to serve it.
  assert.equal(await b.open('mp-linger'), undefined);
  await b.kill();
  await processExit(brokerPid);
  assert.equal(fs.existsSync(socket), false, 'it removed its socket on the way out');
  // The next client starts a fresh one.
  const c = await spawnAutoClient(env);
  clients.push(c);
  const again = await c.connect('mp-linger');
  assert.notEqual(again.brokerPid, brokerPid);
  assert.equal(again.existed, false, 'the old object died with its object manager');
});

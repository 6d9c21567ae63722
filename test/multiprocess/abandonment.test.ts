import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, Mutex } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { spawnAgent, type Agent } from '../helpers/agent.ts';
import { startDaemon, type Daemon } from '../helpers/daemon.ts';

let daemon: Daemon;
let local: Connection;
const agents: Agent[] = [];
before(async () => {
  daemon = await startDaemon();
  local = await connect({ socketPath: daemon.socketPath, autoStart: false });
});
after(async () => {
  for (const a of agents) await a.kill();
  local.close();
  await daemon.stop();
});

test('an owner killed with SIGKILL abandons the mutex; a waiter in another process gets abandoned and owns it', async () => {
  const owner = await spawnAgent(daemon.socketPath);
  agents.push(owner);
  await owner.call('createMutex', 'm', 'mp-abandon', true);
  const m = await Mutex.open('mp-abandon', { connection: local });
  const pending = m.wait();
  assert.equal(await m.wait(0), 'timeout');
  await owner.kill('SIGKILL');
  assert.equal(await pending, 'abandoned');
  assert.equal((await m.query()).state.ownerPid, process.pid);
  await m.release();
  assert.equal(await m.wait(0), 'signaled');
  await m.release();
  await m.close();
});

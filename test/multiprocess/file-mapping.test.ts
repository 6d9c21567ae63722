import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { connect, FileMapping, ProcessHandle } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import type { Agent } from '../helpers/agent.ts';
import { startDaemon, tempDir } from '../helpers/daemon.ts';
import { withDaemon } from '../fixtures/world.ts';

const GRANULE = 0x1_0000;
const uid = process.getuid?.() ?? 0;
/** The shared memory objects an object manager of pid `pid` has in /dev/shm. */
const shmOf = (pid: number) => fs.readdirSync('/dev/shm').filter((e) => e.startsWith(`ntipc-${uid}-${pid}-`));
const shmExists = (shmName: string) => fs.existsSync(`/dev/shm${shmName}`);
const text = (s: string) => [...Buffer.from(s)];
const sectionsOf = async (c: Connection) => (await c.request('listObjects', { type: 'Section' })).objects;

/** Kill an agent and return once the object manager has seen its process end (and let go of what it held). */
async function killAndReap(agent: Agent, local: Connection): Promise<void> {
  const p = await ProcessHandle.open(agent.pid, { connection: local });
  await agent.kill('SIGKILL');
  await p.wait();
  await p.close();
}

test('two processes map one named section and see each other\'s writes', async (t) => {
  const { agent, local, daemon } = await withDaemon(t);
  const [writer, reader] = [await agent(), await agent()];
  const { shmName, existed } = await writer.call<{ shmName: string; existed: boolean }>('createMapping', 'm', 'mp-fm-share', 2 * GRANULE);
  assert.equal(existed, false);
  assert.equal(await writer.call('mapView', 'v', 'm'), 2 * GRANULE);
  await writer.call('writeView', 'v', 0, text('written by the first process'));
  assert.deepEqual(await reader.call('openMapping', 'm', 'mp-fm-share'), { shmName, file: null, size: 2 * GRANULE });
  await reader.call('mapView', 'v', 'm', GRANULE, null, null);
  await reader.call('mapView', 'all', 'm');
  assert.deepEqual(await reader.call('readView', 'all', 0, 28), text('written by the first process'));
  await reader.call('writeView', 'v', 16, text('and the second'));
  assert.deepEqual(await writer.call('readView', 'v', GRANULE + 16, 14), text('and the second'));
  // The test process too: a third mapping of the same memory.
  const mine = await FileMapping.open('mp-fm-share', { connection: local });
  const v = mine.map();
  assert.equal(Buffer.from(v.buffer, GRANULE + 16, 14).toString(), 'and the second');
  assert.equal((await mine.query()).state.views, 4);
  await v.unmap();
  await mine.close();
  await killAndReap(writer, local);
  assert.ok(shmExists(shmName), 'the reader still maps it');
  await killAndReap(reader, local);
  assert.deepEqual(shmOf(daemon.proc.pid!), [], `${shmName} is gone with the processes`);
});

test('Atomics.add from four processes on one int32 of a mapping loses no increment', async (t) => {
  const { agent, local, daemon } = await withDaemon(t);
  const m = await FileMapping.create('mp-fm-atomics', { size: GRANULE, connection: local });
  const v = m.map();
  const ints = new Int32Array(v.buffer);
  const [COUNTER, READY, GO] = [0, 16, 32];
  const TIMES = 250_000;
  const agents = await Promise.all([agent(), agent(), agent(), agent()]);
  for (const a of agents) {
    await a.call('openMapping', 'm', 'mp-fm-atomics');
    await a.call('mapView', 'v', 'm');
  }
  const runs = agents.map((a) => a.call<number>('atomicAdd', 'v', COUNTER, TIMES, READY, GO));
  // Each agent marks itself ready, then spins until GO: they start together and contend.
  while (Atomics.load(ints, READY) < agents.length) await new Promise((r) => setImmediate(r));
  Atomics.store(ints, GO, 1);
  const seen = await Promise.all(runs);
  assert.equal(Atomics.load(ints, COUNTER), agents.length * TIMES);
  for (const n of seen) assert.ok(n >= TIMES && n <= agents.length * TIMES);
  await v.unmap();
  await m.close();
  for (const a of agents) await killAndReap(a, local);
  assert.deepEqual(shmOf(daemon.proc.pid!), []);
});

test('a process killed holding a view: the others keep working, and the shared memory goes when the last holder dies', async (t) => {
  const { agent, local, daemon } = await withDaemon(t);
  const [first, second] = [await agent(), await agent()];
  const { shmName } = await first.call<{ shmName: string }>('createMapping', 'm', 'mp-fm-kill', GRANULE);
  await first.call('mapView', 'v', 'm');
  await first.call('writeView', 'v', 0, text('kept'));
  await second.call('openMapping', 'm', 'mp-fm-kill');
  await second.call('mapView', 'v', 'm');
  // Only views hold the section now: the name is gone with the last handle.
  await second.call('close', 'm');
  await first.call('close', 'm');
  await assert.rejects(FileMapping.open('mp-fm-kill', { connection: local }), { code: 'ERROR_FILE_NOT_FOUND' });
  const [firstProcess, secondProcess] = [await ProcessHandle.open(first.pid, { connection: local }), await ProcessHandle.open(second.pid, { connection: local })];

  await second.kill('SIGKILL');
  assert.equal(await secondProcess.wait(), 'signaled');
  const [section] = await sectionsOf(local);
  assert.equal(section?.state.views, 1, 'the killed process\'s view is released');
  assert.ok(shmExists(shmName), 'the surviving view keeps the shared memory');
  assert.deepEqual(await first.call('readView', 'v', 0, 4), text('kept'));
  await first.call('writeView', 'v', 4, text(' alive'));
  assert.equal(await first.call('atomicAdd', 'v', 1, 3), Buffer.from(' ali').readInt32LE(0) + 3, 'Atomics on the surviving view');

  await first.kill('SIGKILL');
  assert.equal(await firstProcess.wait(), 'signaled');
  assert.deepEqual(await sectionsOf(local), []);
  assert.equal(shmExists(shmName), false);
  assert.deepEqual(shmOf(daemon.proc.pid!), []);
});

test('a process killed holding the last handle and a view releases both', async (t) => {
  const { agent, local, daemon } = await withDaemon(t);
  const holder = await agent();
  const { shmName } = await holder.call<{ shmName: string }>('createMapping', 'm', null, 4 * GRANULE);
  await holder.call('mapView', 'v', 'm', GRANULE, GRANULE);
  assert.ok(shmExists(shmName));
  await killAndReap(holder, local);
  assert.equal(shmExists(shmName), false);
  assert.deepEqual(shmOf(daemon.proc.pid!), []);
});

test('a program not written in Node shares the memory through the POSIX shared memory name', async (t) => {
  const { local } = await withDaemon(t);
  const m = await FileMapping.create(undefined, { size: GRANULE, connection: local });
  const v = m.map();
  Buffer.from(v.buffer).write('from node');
  const file = `/dev/shm${m.shmName}`;
  assert.equal(execFileSync('head', ['-c', '9', file], { encoding: 'utf8' }), 'from node');
  execFileSync('dd', [`of=${file}`, 'bs=1', 'seek=16', 'conv=notrunc', 'status=none'], { input: 'from dd' });
  assert.equal(Buffer.from(v.buffer, 16, 7).toString(), 'from dd');
  await v.unmap();
  await m.close();
});

test('a file-backed section: one process writes and flushes, another maps the file by name, and the file holds the bytes', async (t) => {
  const { agent, local } = await withDaemon(t);
  const dir = tempDir('ntipc-fmf-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data.bin');
  fs.writeFileSync(file, Buffer.alloc(100));
  const [writer, reader] = [await agent(), await agent()];
  assert.deepEqual(await writer.call('createFileMapping', 'm', 'mp-fm-file', file, 2 * GRANULE), { existed: false, file, size: 2 * GRANULE });
  assert.equal(fs.statSync(file).size, 2 * GRANULE, 'grown to the section');
  await writer.call('mapView', 'v', 'm', GRANULE);
  await writer.call('writeView', 'v', 10, text('in the file'));
  await writer.call('flushView', 'v');
  assert.equal(fs.readFileSync(file).subarray(GRANULE + 10, GRANULE + 21).toString(), 'in the file');
  assert.deepEqual(await reader.call('openMapping', 'm', 'mp-fm-file', 'read'), { shmName: null, file, size: 2 * GRANULE });
  await reader.call('mapView', 'v', 'm');
  assert.deepEqual(await reader.call('readView', 'v', GRANULE + 10, 11), text('in the file'));
  await assert.rejects(reader.call('mapView', 'w', 'm', 0, null, 'readwrite'), { code: 'ERROR_ACCESS_DENIED' });
  await writer.call('unmapView', 'v');
  await writer.call('close', 'm');
  assert.deepEqual(await reader.call('readView', 'v', GRANULE + 10, 11), text('in the file'));
  await reader.call('unmapView', 'v');
  await reader.call('close', 'm');
  assert.deepEqual(await sectionsOf(local), []);
});

test('an object manager that stops removes its shared memory; one killed leaves it to the next one, which removes it', async (t) => {
  const killed = await startDaemon();
  t.after(() => killed.stop());
  const { local, daemon } = await withDaemon(t);

  // Stopped (SIGTERM) while a client still maps a view: the name goes, the memory stays mapped.
  const m = await FileMapping.create(undefined, { size: GRANULE, connection: local });
  const v = m.map();
  Buffer.from(v.buffer).write('still here');
  assert.ok(shmExists(m.shmName!));
  await daemon.stop();
  assert.equal(shmExists(m.shmName!), false);
  assert.equal(Buffer.from(v.buffer, 0, 10).toString(), 'still here');
  await v.unmap();

  // Killed: nothing runs at its exit, so its shared memory stays until another object manager creates a section.
  const c = await connect({ socketPath: killed.socketPath, autoStart: false });
  const orphan = await FileMapping.create(undefined, { size: GRANULE, connection: c });
  killed.proc.kill('SIGKILL');
  await c.closed;
  assert.ok(shmExists(orphan.shmName!));
  const next = await startDaemon();
  t.after(() => next.stop());
  const c2 = await connect({ socketPath: next.socketPath, autoStart: false });
  t.after(() => c2.close());
  const fresh = await FileMapping.create(undefined, { size: GRANULE, connection: c2 });
  assert.equal(shmExists(orphan.shmName!), false);
  await fresh.close();
  assert.deepEqual(shmOf(next.proc.pid!), []);
});

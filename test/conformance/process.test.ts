import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { Event, ProcessHandle, waitAny } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';

/** A pid above Linux's largest possible pid_max (2^22): never a process. */
const NO_SUCH_PID = 0x7fff_fff0;
/** A child that runs until its stdin closes, then exits 3. */
const UNTIL_STDIN_ENDS = "process.stdin.resume(); process.stdin.on('end', () => process.exit(3))";

for (const backendName of backendNames) {
  describe(`ProcessHandle (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    const children: ChildProcess[] = [];
    const handles: ProcessHandle[] = [];
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
    });
    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close();
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }
      }
    });
    after(() => backend.close());

    async function spawnHandle(script: string): Promise<ProcessHandle> {
      const p = await ProcessHandle.spawn(process.execPath, ['-e', script], { connection: a, stdio: ['pipe', 'ignore', 'inherit'] });
      children.push(p.child!);
      handles.push(p);
      return p;
    }

    test('a spawned child is signaled when it exits, with its exit code', async () => {
      const p = await spawnHandle('process.exit(7)');
      assert.equal(await p.wait(), 'signaled');
      assert.equal(p.exitCode, 7);
      assert.equal((await p.query()).state.exitCode, 7);
      assert.equal(await p.wait(0), 'signaled', 'it stays signaled');
    });

    test('a running process is not signaled: a poll times out', async () => {
      const p = await spawnHandle(UNTIL_STDIN_ENDS);
      assert.equal(await p.wait(0), 'timeout');
      assert.equal(p.exitCode, null);
      p.child!.stdin!.end();
      assert.equal(await p.wait(), 'signaled');
      assert.equal(p.exitCode, 3);
    });

    test('a child killed with SIGKILL exits with 128 + 9', async () => {
      const p = await spawnHandle(UNTIL_STDIN_ENDS);
      p.child!.kill('SIGKILL');
      assert.equal(await p.wait(), 'signaled');
      assert.equal(p.exitCode, 137);
    });

    test('open(pid) of a child spawned without ProcessHandle is signaled after it exits', async () => {
      const child = spawn(process.execPath, ['-e', UNTIL_STDIN_ENDS], { stdio: ['pipe', 'ignore', 'inherit'] });
      children.push(child);
      await once(child, 'spawn');
      const p = await ProcessHandle.open(child.pid!, { connection: a });
      handles.push(p);
      assert.equal(p.pid, child.pid);
      assert.equal(await p.wait(0), 'timeout');
      child.stdin!.end();
      assert.equal(await p.wait(), 'signaled');
    });

    test('a process exit completes a wait-any with the process’s index', async () => {
      const e = await Event.create(undefined, { connection: a });
      const p = await spawnHandle(UNTIL_STDIN_ENDS);
      const waiting = waitAny([e, p]);
      p.child!.stdin!.end();
      assert.deepEqual(await waiting, { status: 'signaled', index: 1 });
      await e.close();
    });

    test('open of a pid that does not exist fails ERROR_INVALID_PARAMETER', async () => {
      await assert.rejects(ProcessHandle.open(NO_SUCH_PID, { connection: a }), { code: 'ERROR_INVALID_PARAMETER', errno: 87 });
    });

    test('spawn of a program that does not exist fails ERROR_FILE_NOT_FOUND', async () => {
      await assert.rejects(ProcessHandle.spawn('/nonexistent/ntipc-no-such-program', [], { connection: a }), { code: 'ERROR_FILE_NOT_FOUND' });
    });
  });
}

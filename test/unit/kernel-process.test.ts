/** Process objects in the kernel, over a fake view of the OS's processes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pollProcesses, watchingProcesses } from '../../src/kernel/objects/process.ts';
import { Access } from '../../src/protocol/access.ts';
import { KernelHarness } from '../helpers/kernel-harness.ts';

const ALL = Access.MAXIMUM_ALLOWED;

describe('process objects (kernel, fake host)', () => {
  test('a running process is not signaled; after it dies a poll signals its waiters', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    k.host.alive.add(500);
    const p = a.call('openProcess', { pid: 500, child: false, access: ALL }).handle;
    assert.equal(a.wait(p, { timeoutMs: 0 }).status, 'timeout');
    const w = a.wait(p);
    assert.equal(watchingProcesses(k.kernel), true);
    pollProcesses(k.kernel);
    assert.ok(w.pending);
    k.host.alive.delete(500);
    pollProcesses(k.kernel);
    assert.equal(w.status, 'signaled');
    assert.equal(a.wait(p, { timeoutMs: 0 }).status, 'signaled', 'it stays signaled');
    assert.equal(a.info(p).state.exitCode, null, 'nobody reported an exit code');
    assert.equal(watchingProcesses(k.kernel), false);
  });

  test('one object per pid: two opens share it', () => {
    const k = new KernelHarness();
    const [a, b] = [k.thread(1), k.thread(2)];
    k.host.alive.add(500);
    const pa = a.call('openProcess', { pid: 500, child: false, access: ALL });
    const pb = b.call('openProcess', { pid: 500, child: false, access: ALL });
    assert.equal(pa.objectId, pb.objectId);
  });

  test('a pid that does not exist fails ERROR_INVALID_PARAMETER, as does pid 0', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    assert.equal(a.fails('openProcess', { pid: 999, child: false, access: ALL }), 'ERROR_INVALID_PARAMETER');
    assert.equal(a.fails('openProcess', { pid: 0, child: false, access: ALL }), 'ERROR_INVALID_PARAMETER');
  });

  test('open with no access fails ERROR_ACCESS_DENIED; without SYNCHRONIZE it cannot be waited on', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    k.host.alive.add(500);
    assert.equal(a.fails('openProcess', { pid: 500, child: false, access: 0 }), 'ERROR_ACCESS_DENIED');
    const p = a.call('openProcess', { pid: 500, child: false, access: Access.GENERIC_READ }).handle;
    assert.equal(a.fails('wait', { handles: [p], all: false, timeoutMs: 0, detectDeadlock: false }), 'ERROR_ACCESS_DENIED');
  });

  test('the parent reports its child’s exit code; a poll leaves that child to its parent', () => {
    const k = new KernelHarness();
    const parent = k.thread(1);
    k.host.alive.add(500);
    k.host.parents.set(500, 1);
    const p = parent.call('openProcess', { pid: 500, child: true, access: ALL }).handle;
    const w = parent.wait(p);
    k.host.alive.delete(500);
    pollProcesses(k.kernel);
    assert.ok(w.pending, 'the connected parent will say when, with the code');
    parent.call('reportProcessExit', { handle: p, exitCode: 7 });
    assert.equal(w.status, 'signaled');
    assert.equal(parent.info(p).state.exitCode, 7);
  });

  test('only the parent may open as a child or report an exit code', () => {
    const k = new KernelHarness();
    const [parent, stranger] = [k.thread(1), k.thread(2)];
    k.host.alive.add(500);
    k.host.parents.set(500, 1);
    assert.equal(stranger.fails('openProcess', { pid: 500, child: true, access: ALL }), 'ERROR_ACCESS_DENIED');
    parent.call('openProcess', { pid: 500, child: true, access: ALL });
    const ps = stranger.call('openProcess', { pid: 500, child: false, access: ALL }).handle;
    assert.equal(stranger.fails('reportProcessExit', { handle: ps, exitCode: 1 }), 'ERROR_ACCESS_DENIED');
  });

  test('a child whose parent disconnected without reporting is noticed by the poll', () => {
    const k = new KernelHarness();
    const [parent, watcher] = [k.thread(1), k.thread(2)];
    k.host.alive.add(500);
    k.host.parents.set(500, 1);
    parent.call('openProcess', { pid: 500, child: true, access: ALL });
    const p = watcher.call('openProcess', { pid: 500, child: false, access: ALL }).handle;
    const w = watcher.wait(p);
    parent.end();
    k.host.alive.delete(500);
    pollProcesses(k.kernel);
    assert.equal(w.status, 'signaled');
  });

  test('a client process whose last connection ends and which is gone is signaled at once', () => {
    const k = new KernelHarness();
    const [client, watcher] = [k.thread(300), k.thread(2)];
    const p = watcher.call('openProcess', { pid: 300, child: false, access: ALL }).handle;
    const w = watcher.wait(p);
    k.host.alive.delete(300);
    client.end();
    assert.equal(w.status, 'signaled');
  });

  test('the process object goes with its last handle; a later open makes a fresh one', () => {
    const k = new KernelHarness();
    const a = k.thread(1);
    k.host.alive.add(500);
    const first = a.call('openProcess', { pid: 500, child: false, access: ALL });
    a.close(first.handle);
    assert.equal(k.kernel.processObjects.size, 0);
    const second = a.call('openProcess', { pid: 500, child: false, access: ALL });
    assert.notEqual(second.objectId, first.objectId);
  });
});

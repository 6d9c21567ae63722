import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mutex } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';

for (const backendName of backendNames) {
  describe(`Mutex (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());

    test('recursive ownership is counted exactly, one more release fails ERROR_NOT_OWNER', async () => {
      const m = await Mutex.create('rec', { connection: a });
      for (let i = 0; i < 32; i++) assert.equal(await m.wait(0), 'signaled');
      for (let i = 0; i < 32; i++) await m.release();
      await assert.rejects(m.release(), { code: 'ERROR_NOT_OWNER', errno: 288 });
      await m.close();
    });

    test('a waiter in another thread gets abandoned when the owner thread ends, and then owns it', async () => {
      const owner = await backend.thread();
      const m = await Mutex.create(undefined, { connection: owner, initialOwner: true });
      const other = m.on(b);
      const pending = other.wait();
      assert.equal(await other.wait(0), 'timeout');
      owner.close();
      assert.equal(await pending, 'abandoned');
      const state = (await other.query()).state;
      assert.equal(state.abandoned, false);
      assert.equal(state.recursion, 1);
      await other.release();
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Access, Event, Mutex, Semaphore, WaitableTimer, type KernelHandle } from '../../src/client/index.ts';
import type { Connection } from '../../src/client/connection.ts';
import { backendNames, openBackend, type Backend } from '../helpers/backends.ts';

/** Create and open for each named type, so that a rule is checked on all of them. */
const types = {
  Mutex: {
    create: (name: string | undefined, connection: Connection) => Mutex.create(name, { connection }),
    open: (name: string, connection: Connection, access?: number) => Mutex.open(name, { connection, access }),
  },
  Semaphore: {
    create: (name: string | undefined, connection: Connection) => Semaphore.create(name, { connection, initialCount: 0, maximumCount: 1 }),
    open: (name: string, connection: Connection, access?: number) => Semaphore.open(name, { connection, access }),
  },
  Event: {
    create: (name: string | undefined, connection: Connection) => Event.create(name, { connection }),
    open: (name: string, connection: Connection, access?: number) => Event.open(name, { connection, access }),
  },
  WaitableTimer: {
    create: (name: string | undefined, connection: Connection) => WaitableTimer.create(name, { connection }),
    open: (name: string, connection: Connection, access?: number) => WaitableTimer.open(name, { connection, access }),
  },
} as const;
type TypeName = keyof typeof types;
const typeNames = Object.keys(types) as TypeName[];

const closeAll = async (hs: KernelHandle[]) => {
  for (const h of hs) await h.close();
};
let unique = 0;

for (const backendName of backendNames) {
  describe(`Namespace and handles (${backendName})`, () => {
    let backend: Backend;
    let a: Connection;
    let b: Connection;
    before(async () => {
      backend = await openBackend(backendName);
      a = await backend.thread();
      b = await backend.thread();
    });
    after(() => backend.close());
    const fresh = (prefix: string) => `${prefix}-${++unique}`;

    test('create of a new name makes a new object; create again opens it and says it existed', async () => {
      for (const type of typeNames) {
        const name = fresh(`exists-${type}`);
        const first = await types[type].create(name, a);
        const second = await types[type].create(name, b);
        assert.equal(first.existed, false, type);
        assert.equal(second.existed, true, type);
        assert.equal(second.objectId, first.objectId, type);
        assert.equal((await second.query()).handles, 2);
        await closeAll([second, first]);
      }
    });

    test('unnamed objects are each a new object, and an empty name means unnamed', async () => {
      for (const type of typeNames) {
        const x = await types[type].create(undefined, a);
        const y = await types[type].create('', a);
        assert.notEqual(x.objectId, y.objectId);
        assert.equal(y.existed, false);
        assert.equal((await y.query()).name, null);
        await closeAll([x, y]);
      }
    });

    test('a name held by another type fails ERROR_INVALID_HANDLE, for create and for open', async () => {
      for (const held of typeNames) {
        const name = fresh(`clash-${held}`);
        const h = await types[held].create(name, a);
        for (const other of typeNames.filter((t) => t !== held)) {
          await assert.rejects(types[other].create(name, a), { code: 'ERROR_INVALID_HANDLE', errno: 6 }, `create ${other} over ${held}`);
          await assert.rejects(types[other].open(name, a), { code: 'ERROR_INVALID_HANDLE' }, `open ${other} over ${held}`);
        }
        assert.equal((await h.query()).handles, 1, 'the failures opened nothing');
        await h.close();
      }
    });

    test('open of a name nobody created fails ERROR_FILE_NOT_FOUND', async () => {
      for (const type of typeNames) {
        await assert.rejects(types[type].open(fresh('missing'), a), { code: 'ERROR_FILE_NOT_FOUND', errno: 2 }, type);
      }
    });

    test('names are case-sensitive: another case is another name', async () => {
      for (const type of typeNames) {
        const name = fresh(`CaseName-${type}`);
        const h = await types[type].create(name, a);
        await assert.rejects(types[type].open(name.toUpperCase(), a), { code: 'ERROR_FILE_NOT_FOUND' });
        await assert.rejects(types[type].open(name.toLowerCase(), a), { code: 'ERROR_FILE_NOT_FOUND' });
        const other = await types[type].create(name.toUpperCase(), a);
        assert.equal(other.existed, false);
        assert.notEqual(other.objectId, h.objectId);
        await closeAll([other, h]);
      }
    });

    test('Local\\X is the name X; Global\\X is another name; each works for create and open', async () => {
      const name = fresh('prefixed');
      const plain = await Event.create(name, { connection: a });
      const local = await Event.create(`Local\\${name}`, { connection: a });
      assert.equal(local.existed, true);
      assert.equal(local.objectId, plain.objectId);
      const localOpen = await Event.open(`Local\\${name}`, { connection: a });
      assert.equal(localOpen.objectId, plain.objectId);
      await assert.rejects(Event.open(`Global\\${name}`, { connection: a }), { code: 'ERROR_FILE_NOT_FOUND' });
      const global = await Event.create(`Global\\${name}`, { connection: a });
      assert.equal(global.existed, false);
      assert.notEqual(global.objectId, plain.objectId);
      const globalAgain = await Event.open(`Global\\${name}`, { connection: b });
      assert.equal(globalAgain.objectId, global.objectId);
      await closeAll([globalAgain, global, localOpen, local, plain]);
    });

    test('malformed names fail ERROR_INVALID_NAME, for create and for open', async () => {
      const bad = ['a\\b', 'a/b', 'Local\\', 'Global\\', 'Local\\a\\b', 'nul\u0000inside', 'tab\there', 'line\nbreak'];
      for (const name of bad) {
        await assert.rejects(Mutex.create(name, { connection: a }), { code: 'ERROR_INVALID_NAME', errno: 123 }, JSON.stringify(name));
        await assert.rejects(Mutex.open(name, { connection: a }), { code: 'ERROR_INVALID_NAME' }, JSON.stringify(name));
      }
      await assert.rejects(Event.open('', { connection: a }), { code: 'ERROR_INVALID_NAME' });
    });

    test('a name longer than 255 characters fails ERROR_FILENAME_EXCED_RANGE; 255 is fine, prefix aside', async () => {
      const longest = 'n'.repeat(250) + String(++unique).padStart(5, '0');
      for (const name of [longest, `Global\\${longest}`]) {
        const s = await Semaphore.create(name, { connection: a, initialCount: 0, maximumCount: 1 });
        await s.close();
      }
      const tooLong = `${longest}x`;
      await assert.rejects(Semaphore.create(tooLong, { connection: a, initialCount: 0, maximumCount: 1 }), { code: 'ERROR_FILENAME_EXCED_RANGE', errno: 206 });
      await assert.rejects(Semaphore.open(tooLong, { connection: a }), { code: 'ERROR_FILENAME_EXCED_RANGE' });
    });

    test('open asking for no access fails ERROR_ACCESS_DENIED', async () => {
      for (const type of typeNames) {
        const name = fresh(`no-access-${type}`);
        const h = await types[type].create(name, a);
        await assert.rejects(types[type].open(name, a, 0), { code: 'ERROR_ACCESS_DENIED', errno: 5 }, type);
        await h.close();
      }
    });

    test('a handle gives only the rights it was opened with', async () => {
      const name = fresh('rights');
      const s = await Semaphore.create(name, { connection: a, initialCount: 0, maximumCount: 2 });
      const readOnly = await Semaphore.open(name, { connection: a, access: Access.GENERIC_READ });
      await assert.rejects(readOnly.release(), { code: 'ERROR_ACCESS_DENIED' });
      assert.equal((await readOnly.query()).state.count, 0, 'query needs only the query right');
      const syncOnly = await Semaphore.open(name, { connection: a, access: Access.SYNCHRONIZE });
      await assert.rejects(syncOnly.query(), { code: 'ERROR_ACCESS_DENIED' });
      await closeAll([syncOnly, readOnly, s]);
    });

    test('an object lives while any handle is open, and its name goes with the last one', async () => {
      const name = fresh('lifetime');
      const first = await Event.create(name, { connection: a, manualReset: true });
      const second = await Event.open(name, { connection: b });
      await first.set();
      await first.close();
      const third = await Event.open(name, { connection: a });
      assert.equal(third.objectId, first.objectId);
      assert.equal(await third.wait(0), 'signaled', 'the same object, its state kept');
      await second.close();
      await third.close();
      await assert.rejects(Event.open(name, { connection: a }), { code: 'ERROR_FILE_NOT_FOUND' });
      const reborn = await Event.create(name, { connection: a, manualReset: true });
      assert.equal(reborn.existed, false);
      assert.notEqual(reborn.objectId, first.objectId);
      assert.equal(await reborn.wait(0), 'timeout', 'a new object, in its initial state');
      await reborn.close();
    });

    test('every operation on a closed handle fails ERROR_INVALID_HANDLE', async () => {
      const m = await Mutex.create(undefined, { connection: a });
      const e = await Event.create(undefined, { connection: a });
      const s = await Semaphore.create(undefined, { connection: a, initialCount: 0, maximumCount: 1 });
      const t = await WaitableTimer.create(undefined, { connection: a });
      await closeAll([m, e, s, t]);
      const ops: [string, () => Promise<unknown>][] = [
        ['wait', () => m.wait(0)],
        ['query', () => m.query()],
        ['release mutex', () => m.release()],
        ['set', () => e.set()],
        ['reset', () => e.reset()],
        ['pulse', () => e.pulse()],
        ['release semaphore', () => s.release()],
        ['set timer', () => t.set(10)],
        ['cancel timer', () => t.cancel()],
        ['close again on the wire', () => a.request('closeHandle', { handle: m.handle })],
      ];
      for (const [what, op] of ops) await assert.rejects(op(), { code: 'ERROR_INVALID_HANDLE' }, what);
      await m.close(); // the client's second close is a no-op
    });

    test('handles belong to the process: every thread of it can use them, and a close ends them for all', async () => {
      const m = await Mutex.create(undefined, { connection: a });
      const onB = m.on(b);
      assert.equal(await onB.wait(0), 'signaled');
      assert.equal((await m.query()).state.owner, b.threadId, 'the thread that waited owns it');
      await onB.release();
      await m.close();
      await assert.rejects(onB.wait(0), { code: 'ERROR_INVALID_HANDLE' });
    });
  });
}

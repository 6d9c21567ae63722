/**
 * The durable queue store in one process: what goes in comes back after reopening, in
 * issue order; dirty and flushed(); bad arguments, the byte limit, one writer per directory;
 * what it does with a directory that is not its own. Every directory is removed in `after`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { open as openLmdb } from 'lmdb';
import { MESSAGE_OVERHEAD, QueueStore, STORE_FOLDER, defaultStateDir, type StoredMessage } from '../../src/broker/queue-store.ts';
import { tempDir } from '../helpers/daemon.ts';
import { Model, applyOp, assertSameState, opStream } from '../helpers/queue-store-model.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = tempDir('ntipc-qs-');
  dirs.push(dir);
  return path.join(dir, 'state');
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const msg = (seq: number, text: string, type = 1): StoredMessage => ({ seq, type, data: Buffer.from(text), sendPid: 4242, sendTime: 1_700_000_000_123.5 });

async function reopen(dir: string, store?: QueueStore) {
  await store?.close();
  return QueueStore.open(dir);
}

/** A code-matching predicate for assert.throws / assert.rejects. */
const code = (c: string) => (e: unknown) => {
  assert.equal((e as { code?: string }).code, c, (e as Error).message);
  return true;
};

describe('round trip', () => {
  test('a fresh directory opens empty, its folders 0700 and its files 0600', async () => {
    const dir = freshDir();
    const store = await QueueStore.open(dir);
    try {
      assert.deepEqual(store.load(), []);
      assert.equal(store.dirty, false);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      const folder = path.join(dir, STORE_FOLDER);
      assert.equal(store.path, folder);
      assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
      for (const f of ['data.mdb', 'lock.mdb', 'writer.lock']) assert.equal(fs.statSync(path.join(folder, f)).mode & 0o077, 0, f);
    } finally {
      await store.close();
    }
  });

  test('queues and messages come back after reopening: attributes, and messages in seq order, byte for byte', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    store.putQueue('0x2a', { mode: 0o640, maxBytes: 16384, owner: 'alice', lastPid: null, lastTime: 1.5 });
    store.putMessage('0x2a', { seq: 7, type: 3, data: big, sendPid: 100, sendTime: 2 });
    store.putMessage('0x2a', msg(3, ''));
    store.putMessage('0x2a', msg(5, 'five', 9));
    store.putQueue('named/key ü', { mode: 0o600 });
    await store.flushed();
    store = await reopen(dir, store);
    try {
      const loaded = store.load().sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(loaded, [
        {
          key: '0x2a',
          attrs: { mode: 0o640, maxBytes: 16384, owner: 'alice', lastPid: null, lastTime: 1.5 },
          messages: [msg(3, ''), msg(5, 'five', 9), { seq: 7, type: 3, data: big, sendPid: 100, sendTime: 2 }],
        },
        { key: 'named/key ü', attrs: { mode: 0o600 }, messages: [] },
      ]);
      assert.ok(Buffer.isBuffer(loaded[0]!.messages[0]!.data));
    } finally {
      await store.close();
    }
  });

  test('the store keeps its own copy of the data and attributes it is given', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    const data = Buffer.from('original');
    const attrs = { mode: 1 };
    store.putQueue('q', attrs);
    store.putMessage('q', { ...msg(1, ''), data });
    data.write('changed!');
    attrs.mode = 2;
    await store.flushed();
    store = await reopen(dir, store);
    try {
      const [q] = store.load();
      assert.deepEqual(q!.attrs, { mode: 1 });
      assert.equal(q!.messages[0]!.data.toString(), 'original');
    } finally {
      await store.close();
    }
  });

  test('operations issued in one turn take effect in issue order', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    store.putQueue('a', { v: 1 });
    store.putMessage('a', msg(1, 'one'));
    store.deleteMessage('a', 1);
    store.putMessage('a', msg(1, 'one again'));
    store.putMessage('a', msg(2, 'two'));
    store.putQueue('a', { v: 2 });
    store.putQueue('b', { v: 1 });
    store.putMessage('b', msg(3, 'gone with b'));
    store.deleteQueue('b');
    store.putQueue('b', { v: 3 });
    store.putMessage('b', msg(4, 'four'));
    store.putMessage('b', msg(4, 'four, replaced'));
    await store.flushed();
    store = await reopen(dir, store);
    try {
      const loaded = store.load().sort((x, y) => x.key.localeCompare(y.key));
      assert.deepEqual(loaded, [
        { key: 'a', attrs: { v: 2 }, messages: [msg(1, 'one again'), msg(2, 'two')] },
        { key: 'b', attrs: { v: 3 }, messages: [msg(4, 'four, replaced')] },
      ]);
    } finally {
      await store.close();
    }
  });

  test('deleteQueue removes every message of the queue, committed or not, and nothing of the others', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    store.putQueue('x', {});
    store.putQueue('y', {});
    for (let i = 1; i <= 100; i++) store.putMessage(i % 2 ? 'x' : 'y', msg(i, `m${i}`));
    await store.flushed();
    store.putMessage('x', msg(1001, 'uncommitted'));
    store.deleteQueue('x');
    store.deleteQueue('nonexistent');
    await store.flushed();
    store = await reopen(dir, store);
    try {
      const loaded = store.load();
      assert.deepEqual(
        loaded.map((q) => q.key),
        ['y'],
      );
      assert.equal(loaded[0]!.messages.length, 50);
    } finally {
      await store.close();
    }
  });

  test('a random stream of operations, flushed now and then and reopened twice, comes back exactly as the model says', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    const model = new Model();
    const ops = opStream(0x51ab_0001);
    try {
      for (let round = 0; round < 3; round++) {
        for (let burst = 0; burst < 40; burst++) {
          const n = 1 + ((burst * 7) % 60);
          for (let i = 0; i < n; i++) {
            const op = ops.next().value as Parameters<typeof applyOp>[1];
            applyOp(store, op);
            model.apply(op);
          }
          if (burst % 3 === 0) await store.flushed();
          else await new Promise<void>((resolve) => setImmediate(resolve));
        }
        await store.flushed();
        store = await reopen(dir, store);
        assertSameState(store.load(), model, `round ${round}`);
      }
    } finally {
      await store.close();
    }
  });
});

describe('dirty and flushed()', () => {
  test('flushed() with nothing issued resolves at once, and the store is clean', async () => {
    const store = await QueueStore.open(freshDir());
    try {
      assert.equal(store.dirty, false);
      await store.flushed();
      assert.equal(store.dirty, false);
    } finally {
      await store.close();
    }
  });

  test('an operation makes the store dirty until a flushed() issued after it resolves', async () => {
    const store = await QueueStore.open(freshDir());
    try {
      store.putQueue('q', {});
      assert.equal(store.dirty, true);
      const first = store.flushed();
      store.putMessage('q', msg(1, 'x'));
      const second = store.flushed();
      await first;
      await second;
      assert.equal(store.dirty, false);
    } finally {
      await store.close();
    }
  });

  test('operations that change nothing are not issued and leave the store clean', async () => {
    const store = await QueueStore.open(freshDir());
    try {
      store.deleteMessage('no-queue', 1);
      store.deleteQueue('no-queue');
      assert.equal(store.dirty, false);
      store.putQueue('q', {});
      await store.flushed();
      store.deleteMessage('q', 99);
      assert.equal(store.dirty, false);
    } finally {
      await store.close();
    }
  });

  test('flushed() calls resolve in order while more operations keep coming', async () => {
    const store = await QueueStore.open(freshDir());
    try {
      store.putQueue('q', {});
      const order: number[] = [];
      const all: Promise<void>[] = [];
      for (let i = 1; i <= 50; i++) {
        store.putMessage('q', msg(i, `m${i}`));
        all.push(store.flushed().then(() => void order.push(i)));
        if (i % 10 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(all);
      assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      await store.close();
    }
  });
});

describe('bad arguments and limits', () => {
  test('bad arguments fail EINVAL and change nothing', async () => {
    const dir = freshDir();
    let store = await QueueStore.open(dir);
    store.putQueue('q', { a: 1 });
    await store.flushed();
    const bad: [string, () => void][] = [
      ['empty key', () => store.putQueue('', {})],
      ['long key', () => store.putQueue('k'.repeat(1025), {})],
      ['key not a string', () => store.putQueue(7 as unknown as string, {})],
      ['attrs not an object', () => store.putQueue('q', null as unknown as {})],
      ['attrs array', () => store.putQueue('q', [] as unknown as {})],
      ['attr object value', () => store.putQueue('q', { a: {} as unknown as number })],
      ['attr long string', () => store.putQueue('q', { a: 'x'.repeat(5000) })],
      ['too many attrs', () => store.putQueue('q', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, i])))],
      ['message to no queue', () => store.putMessage('nope', msg(1, 'x'))],
      ['negative seq', () => store.putMessage('q', msg(-1, 'x'))],
      ['fractional seq', () => store.putMessage('q', msg(1.5, 'x'))],
      ['NaN type', () => store.putMessage('q', { ...msg(1, 'x'), type: NaN })],
      ['data not bytes', () => store.putMessage('q', { ...msg(1, 'x'), data: 'x' as unknown as Buffer })],
      ['infinite time', () => store.putMessage('q', { ...msg(1, 'x'), sendTime: Infinity })],
      ['data too long', () => store.putMessage('q', { ...msg(1, ''), data: Buffer.alloc(16 * 1024 * 1024 + 1) })],
    ];
    for (const [what, call] of bad) assert.throws(call, code('EINVAL'), what);
    assert.equal(store.dirty, false);
    store = await reopen(dir, store);
    try {
      assert.deepEqual(store.load(), [{ key: 'q', attrs: { a: 1 }, messages: [] }]);
    } finally {
      await store.close();
    }
  });

  test('a message past maxBytes fails ENOSPC and stores nothing; deleting makes room again', async () => {
    const dir = freshDir();
    const each = 1000 + MESSAGE_OVERHEAD;
    let store = await QueueStore.open(dir, { maxBytes: 3 * each });
    try {
      store.putQueue('q', {});
      for (let i = 1; i <= 3; i++) store.putMessage('q', { ...msg(i, ''), data: Buffer.alloc(1000, i) });
      assert.throws(() => store.putMessage('q', { ...msg(4, ''), data: Buffer.alloc(1000) }), code('ENOSPC'));
      // Replacing a message counts only the difference.
      store.putMessage('q', { ...msg(3, ''), data: Buffer.alloc(1000, 9) });
      store.deleteMessage('q', 1);
      store.putMessage('q', { ...msg(4, ''), data: Buffer.alloc(1000, 4) });
      await store.flushed();
      await store.close();
      store = await QueueStore.open(dir, { maxBytes: 3 * each });
      const [q] = store.load();
      assert.deepEqual(
        q!.messages.map((m) => [m.seq, m.data[0]]),
        [
          [2, 2],
          [3, 9],
          [4, 4],
        ],
      );
      // The limit counts what was already stored.
      assert.throws(() => store.putMessage('q', { ...msg(5, ''), data: Buffer.alloc(1) }), code('ENOSPC'));
      // A record its caller bounds (a receipt) still goes in when the store is full, and counts.
      store.putQueue('r', {});
      store.putMessage('r', { ...msg(1, ''), data: Buffer.alloc(1008, 7) }, { outsideLimit: true });
      store.deleteMessage('q', 2);
      assert.throws(() => store.putMessage('q', { ...msg(5, ''), data: Buffer.alloc(1000) }), code('ENOSPC'), 'the receipt took the room');
      await store.flushed();
      assert.deepEqual(store.load().find((x) => x.key === 'r')!.messages.map((m) => m.data.length), [1008]);
    } finally {
      await store.close();
    }
  });

  test('maxBytes must be a positive integer', async () => {
    await assert.rejects(QueueStore.open(freshDir(), { maxBytes: 0 }), code('EINVAL'));
  });
});

describe('one writer, and closing', () => {
  test('a second open of the same directory fails ERROR_SHARING_VIOLATION until the first closes', async () => {
    const dir = freshDir();
    const first = await QueueStore.open(dir);
    await assert.rejects(QueueStore.open(dir), (e: Error) => {
      code('ERROR_SHARING_VIOLATION')(e);
      assert.match(e.message, new RegExp(`process ${process.pid}`));
      return true;
    });
    first.putQueue('q', {});
    await first.close();
    const second = await QueueStore.open(dir);
    try {
      assert.deepEqual(second.load(), [{ key: 'q', attrs: {}, messages: [] }]);
    } finally {
      await second.close();
    }
  });

  test('close() makes what was issued durable; afterwards operations fail ERROR_INVALID_HANDLE; a second close is harmless', async () => {
    const dir = freshDir();
    const store = await QueueStore.open(dir);
    store.putQueue('q', {});
    store.putMessage('q', msg(1, 'not awaited'));
    const closing = store.close();
    assert.throws(() => store.putMessage('q', msg(2, 'late')), code('ERROR_INVALID_HANDLE'));
    assert.throws(() => store.load(), code('ERROR_INVALID_HANDLE'));
    await closing;
    await store.close();
    assert.equal(store.dirty, false);
    const again = await QueueStore.open(dir);
    try {
      assert.deepEqual(again.load(), [{ key: 'q', attrs: {}, messages: [msg(1, 'not awaited')] }]);
    } finally {
      await again.close();
    }
  });

  test('backup() makes a copy that opens as a store with the committed state', async () => {
    const dir = freshDir();
    const store = await QueueStore.open(dir);
    const copy = path.join(path.dirname(dir), 'copy');
    try {
      store.putQueue('q', { a: 1 });
      store.putMessage('q', msg(1, 'kept'));
      await store.flushed();
      await store.backup(path.join(copy, STORE_FOLDER));
      store.putMessage('q', msg(2, 'after the backup'));
      await store.flushed();
      await assert.rejects(store.backup(path.join(copy, STORE_FOLDER)), code('ERROR_ALREADY_EXISTS'));
    } finally {
      await store.close();
    }
    const restored = await QueueStore.open(copy);
    try {
      assert.deepEqual(restored.load(), [{ key: 'q', attrs: { a: 1 }, messages: [msg(1, 'kept')] }]);
    } finally {
      await restored.close();
    }
  });
});

describe('a directory that is not a store', () => {
  test('a data file that is not LMDB is refused ERROR_FILE_CORRUPT', async () => {
    const dir = freshDir();
    fs.mkdirSync(path.join(dir, STORE_FOLDER), { recursive: true });
    fs.writeFileSync(path.join(dir, STORE_FOLDER, 'data.mdb'), Buffer.alloc(64 * 1024, 'not a database '));
    await assert.rejects(QueueStore.open(dir), code('ERROR_FILE_CORRUPT'));
    // The refusal released the directory: fixing it lets it open.
    fs.rmSync(path.join(dir, STORE_FOLDER, 'data.mdb'));
    const store = await QueueStore.open(dir);
    await store.close();
  });

  test('a truncated data file is refused ERROR_FILE_CORRUPT rather than mapped', async () => {
    const dir = freshDir();
    const store = await QueueStore.open(dir);
    store.putQueue('q', {});
    for (let i = 1; i <= 200; i++) store.putMessage('q', { ...msg(i, ''), data: Buffer.alloc(8192, i) });
    await store.close();
    const file = path.join(dir, STORE_FOLDER, 'data.mdb');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    await assert.rejects(QueueStore.open(dir), (e: Error) => {
      code('ERROR_FILE_CORRUPT')(e);
      assert.match(e.message, /crashed a probe process \(SIGBUS\)/);
      return true;
    });
  });

  test("another program's LMDB database is refused ERROR_FILE_CORRUPT, and left as it was", async () => {
    const dir = freshDir();
    const foreign = openLmdb({ path: path.join(dir, STORE_FOLDER), noSubdir: false });
    await foreign.put('theirs', { x: 1 });
    await foreign.close();
    await assert.rejects(QueueStore.open(dir), (e: Error) => {
      code('ERROR_FILE_CORRUPT')(e);
      assert.match(e.message, /not an ntipc queue store/);
      return true;
    });
    const check = openLmdb({ path: path.join(dir, STORE_FOLDER), noSubdir: false });
    try {
      assert.deepEqual(check.get('theirs'), { x: 1 });
    } finally {
      await check.close();
    }
  });

  test('a store of a newer format is refused ERROR_REVISION_MISMATCH', async () => {
    const dir = freshDir();
    await (await QueueStore.open(dir)).close();
    const raw = openLmdb({ path: path.join(dir, STORE_FOLDER), noSubdir: false, maxDbs: 4 });
    const meta = raw.openDB({ name: 'meta' });
    await meta.put('format', { name: 'ntipc-queue-store', version: 99 });
    await raw.close();
    await assert.rejects(QueueStore.open(dir), code('ERROR_REVISION_MISMATCH'));
  });

  test('a malformed or orphaned record is refused ERROR_FILE_CORRUPT', async () => {
    for (const [db, key, value] of [
      ['messages', ['ghost', 1], [1, 1, 1, Buffer.from('x')]],
      ['messages', ['q', 2], 'not a message'],
      ['queues', 'r', [1, 2, 3]],
    ] as const) {
      const dir = freshDir();
      const store = await QueueStore.open(dir);
      store.putQueue('q', {});
      await store.close();
      const raw = openLmdb({ path: path.join(dir, STORE_FOLDER), noSubdir: false, maxDbs: 4 });
      await raw.openDB({ name: db }).put(key as never, value);
      await raw.close();
      await assert.rejects(QueueStore.open(dir), code('ERROR_FILE_CORRUPT'), `${db} ${JSON.stringify(key)}`);
    }
  });

  test('a file where the store folder should be is refused ERROR_FILE_CORRUPT', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, STORE_FOLDER), 'x');
    await assert.rejects(QueueStore.open(dir), code('ERROR_FILE_CORRUPT'));
  });
});

describe('defaultStateDir', () => {
  const home = os.homedir();
  test('NTIPC_STATE_DIR, else XDG_STATE_HOME/ntipc, else ~/.local/state/ntipc', () => {
    assert.equal(defaultStateDir({ NTIPC_STATE_DIR: '/srv/ntipc', XDG_STATE_HOME: '/x' }), '/srv/ntipc');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state' }), '/x/state/ntipc');
    assert.equal(defaultStateDir({}), path.join(home, '.local', 'state', 'ntipc'));
  });

  test('a namespace gets its own subdirectory, and a bad one is refused', () => {
    assert.equal(defaultStateDir({ NTIPC_STATE_DIR: '/srv/ntipc', NTIPC_NAMESPACE: 'blue' }), '/srv/ntipc/blue');
    assert.equal(defaultStateDir({ NTIPC_NAMESPACE: 'blue' }), path.join(home, '.local', 'state', 'ntipc', 'blue'));
    // The namespace `default` is the one in force when none is named.
    assert.equal(defaultStateDir({ NTIPC_STATE_DIR: '/srv/ntipc', NTIPC_NAMESPACE: 'default' }), '/srv/ntipc');
    assert.throws(() => defaultStateDir({ NTIPC_NAMESPACE: '../up' }), code('ERROR_INVALID_NAME'));
  });
});

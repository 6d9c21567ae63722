import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFrame, encodeError, encodeReply, encodeRequest, HEADER_SIZE } from '../../src/protocol/codec.ts';
import { f, MAX_LIST, ProtocolError, type Field, type Fields } from '../../src/protocol/fields.ts';
import { FrameKind, MAX_FRAME, PROTOCOL_VERSION, requestNames, requests, schemaVersion, type RequestName } from '../../src/protocol/schema.ts';

const names = Object.keys(requests) as RequestName[];

/**
 * Sample values for each field kind, edge cases included. A new kind without samples
 * fails the round-trip tests until it gets some here.
 */
const samples: Record<string, unknown[]> = {
  u8: [0, 1, 255],
  u32: [0, 1, 0x7fff_ffff, 0xffff_ffff],
  i32: [0, -1, 0x7fff_ffff, -0x8000_0000],
  f64: [0, 1.5, -1, Infinity, -Infinity, Number.NaN, Number.MAX_VALUE, Number.MIN_VALUE],
  bool: [false, true],
  str: ['', 'x', 'Local\\ümlaut 名前 😀', 'a'.repeat(300)],
  optStr: [undefined, '', 'Global\\name'],
  bytes: [new Uint8Array(0), Uint8Array.from([0, 1, 255])],
  u32list: [[], [4], [0, 0xffff_ffff, 8, 8], Array.from({ length: 64 }, (_, i) => i * 4)],
  json: [null, { id: 1, type: 'Mutex', name: 'ü', state: { owner: null, n: -2.5, ok: true } }, [1, 'two', [3]]],
};

function samplesOf(field: Field<unknown>): unknown[] {
  const values = samples[field.kind];
  assert.ok(values, `no sample values for field kind ${field.kind}: add them to this test`);
  return values;
}

/** Bodies for `fields`: each sample of each field at least once (the others cycling). */
function bodiesFor(fields: Fields): Record<string, unknown>[] {
  const keys = Object.keys(fields);
  const rounds = Math.max(1, ...keys.map((k) => samplesOf(fields[k]!).length));
  return Array.from({ length: rounds }, (_, i) =>
    Object.fromEntries(keys.map((k) => {
      const values = samplesOf(fields[k]!);
      return [k, values[i % values.length]];
    })),
  );
}

/** What a decoded body should equal: bytes come back as Buffers. */
function normalise(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v) : v]));
}

function frame(kind: number, requestId: number, number: number, payload: Buffer | number[] = []): Buffer {
  const body = Buffer.from(payload);
  const buf = Buffer.alloc(HEADER_SIZE + body.length);
  buf.writeUInt32LE(buf.length - 4, 0);
  buf[4] = kind;
  buf.writeUInt32LE(requestId, 5);
  buf.writeUInt16LE(number, 9);
  body.copy(buf, HEADER_SIZE);
  return buf;
}

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}

function rejects(buf: Buffer, message?: RegExp): void {
  assert.throws(() => decodeFrame(buf), (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('schema', () => {
  test('request numbers are unique and fit the u16 header field', () => {
    const ids = names.map((n) => requests[n].id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0 && id <= 0xffff, `id ${id}`);
    assert.equal(requestNames.size, names.length);
    for (const n of names) assert.equal(requestNames.get(requests[n].id), n);
  });

  test('the protocol version is a u32', () => {
    assert.ok(Number.isInteger(PROTOCOL_VERSION) && PROTOCOL_VERSION >= 0 && PROTOCOL_VERSION <= 0xffff_ffff);
  });
});

type SchemaLike = Parameters<typeof schemaVersion>[0];
const versionOf = schemaVersion;

function copySchema(): SchemaLike {
  return Object.fromEntries(
    Object.entries(requests as SchemaLike).map(([n, s]) => [n, { id: s.id, request: { ...s.request }, reply: { ...s.reply } }]),
  );
}

describe('the protocol version', () => {
  test('is the hash of the schema, and the same for an identical copy', () => {
    assert.equal(versionOf(requests), PROTOCOL_VERSION);
    assert.equal(versionOf(copySchema()), PROTOCOL_VERSION);
  });

  test('is the same in another process', async () => {
    const { execFileSync } = await import('node:child_process');
    const url = new URL('../../src/protocol/schema.ts', import.meta.url).href;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { PROTOCOL_VERSION } from ${JSON.stringify(url)}; console.log(PROTOCOL_VERSION)`], { encoding: 'utf8' });
    assert.equal(Number(out.trim()), PROTOCOL_VERSION);
  });

  const changes: Record<string, (s: SchemaLike) => void> = {
    'a field kind changes': (s) => (s.wait!.request.timeoutMs = f.u32),
    'a field is renamed': (s) => (s.closeHandle!.request = { h: f.u32 }),
    'a field is added to a request': (s) => (s.ping!.request = { extra: f.u32 }),
    'a reply field is added': (s) => (s.ping!.reply = { extra: f.u32 }),
    'a reply field kind changes': (s) => (s.releaseMutex!.reply = { previousCount: f.u32 }),
    'fields are reordered': (s) => {
      const { name, initialOwner, access } = s.createMutex!.request;
      s.createMutex!.request = { initialOwner: initialOwner!, name: name!, access: access! };
    },
    'a request number changes': (s) => (s.ping!.id = 99),
    'a request is renamed': (s) => {
      s.pong = s.ping!;
      delete s.ping;
    },
    'a request is added': (s) => (s.extra = { id: 200, request: {}, reply: {} }),
    'a request is removed': (s) => void delete s.cancel,
  };
  for (const [what, change] of Object.entries(changes)) {
    test(`changes when ${what}`, () => {
      const s = copySchema();
      change(s);
      assert.notEqual(versionOf(s), PROTOCOL_VERSION);
    });
  }
});

describe('every request and reply round-trips through the codec', () => {
  for (const name of names) {
    test(name, () => {
      const spec = requests[name];
      let requestId = 0;
      for (const body of bodiesFor(spec.request)) {
        requestId = (requestId * 7919 + 0x1234_5677) >>> 0;
        const buf = encodeRequest(requestId, name, body as never);
        assert.equal(buf.readUInt32LE(0), buf.length - 4, 'length prefix counts what follows it');
        assert.deepEqual(decodeFrame(buf), { kind: 'request', requestId, name, body: normalise(body) });
      }
      for (const body of bodiesFor(spec.reply)) {
        requestId = (requestId * 7919 + 0x1234_5677) >>> 0;
        const buf = encodeReply(requestId, name, body as never);
        assert.deepEqual(decodeFrame(buf), { kind: 'reply', requestId, name, body: normalise(body) });
      }
      const err = encodeError(0xffff_ffff, name, 123, 'bad name ü');
      assert.deepEqual(decodeFrame(err), { kind: 'error', requestId: 0xffff_ffff, name, status: 123, detail: 'bad name ü' });
    });
  }

  test('an error detail is cut to 512 characters', () => {
    const f = decodeFrame(encodeError(1, 'ping', 87, 'x'.repeat(2000)));
    assert.equal(f.kind === 'error' && f.detail.length, 512);
  });

  test('a request with an empty body is exactly a header', () => {
    const buf = encodeRequest(9, 'ping', {});
    assert.equal(buf.length, HEADER_SIZE);
    assert.deepEqual([...buf], [HEADER_SIZE - 4, 0, 0, 0, FrameKind.request, 9, 0, 0, 0, requests.ping.id, 0]);
  });

  test('encoding a frame larger than MAX_FRAME throws ProtocolError', () => {
    assert.throws(() => encodeReply(1, 'queryObject', { info: { pad: 'x'.repeat(MAX_FRAME) } as never }), ProtocolError);
  });
});

describe('decodeFrame rejects malformed frames with ProtocolError', () => {
  const ping = requests.ping.id;
  const closeHandle = requests.closeHandle.id;

  test('shorter than the header', () => {
    for (let n = 0; n < HEADER_SIZE; n++) {
      const buf = Buffer.alloc(n);
      if (n >= 4) buf.writeUInt32LE(n - 4, 0);
      rejects(buf, /shorter than its header/);
    }
  });

  test('length prefix that does not match the frame', () => {
    const buf = frame(FrameKind.request, 1, ping);
    for (const len of [0, buf.length - 5, buf.length - 3, buf.length, 0xffff_ffff]) {
      const bad = Buffer.from(buf);
      bad.writeUInt32LE(len, 0);
      rejects(bad, /length does not match/);
    }
  });

  test('unknown frame kind', () => {
    for (const kind of [0, 4, 255]) rejects(frame(kind, 1, ping), /unknown frame kind/);
  });

  test('unknown request number', () => {
    for (const n of [0, 11, 0xffff]) {
      assert.equal(requestNames.has(n), false);
      rejects(frame(FrameKind.request, 1, n), /unknown request number/);
    }
  });

  test('truncated fields, at every cut', () => {
    const full = encodeRequest(3, 'createSemaphore', { name: 'sem', initialCount: 1, maximumCount: 2, access: 0 });
    for (let cut = HEADER_SIZE; cut < full.length; cut++) {
      const buf = Buffer.from(full.subarray(0, cut));
      buf.writeUInt32LE(cut - 4, 0);
      rejects(buf, /truncated/);
    }
    rejects(frame(FrameKind.error, 1, ping, [87, 0]), /truncated/);
    rejects(frame(FrameKind.error, 1, ping, [...u32(87), ...u32(10), 0x61]), /truncated/);
  });

  test('a string length beyond the frame', () => {
    rejects(frame(FrameKind.request, 1, requests.openMutex.id, [...u32(0xffff_ffff), 0x61, ...u32(0)]), /truncated/);
  });

  test('trailing bytes after the last field', () => {
    rejects(frame(FrameKind.request, 1, ping, [0]), /trailing/);
    rejects(frame(FrameKind.reply, 1, closeHandle, [0]), /trailing/);
    rejects(frame(FrameKind.request, 1, closeHandle, [...u32(4), 1, 2]), /trailing/);
    rejects(frame(FrameKind.error, 1, ping, [...u32(87), ...u32(0), 9]), /trailing/);
  });

  test('a boolean other than 0 or 1', () => {
    const base = [...u32(1), 0, 0, 0, 0];
    const ok = encodeRequest(1, 'createMutex', { name: undefined, initialOwner: true, access: 0 });
    assert.deepEqual([...ok.subarray(HEADER_SIZE)], [0, 1, ...u32(0)]);
    for (const v of [2, 0x80, 0xff]) {
      rejects(frame(FrameKind.request, 1, requests.createMutex.id, [0, v, ...u32(0)]), /bad boolean/);
      rejects(frame(FrameKind.request, 1, requests.wait.id, [...base, v, ...Array(8).fill(0)]), /bad boolean/);
    }
  });

  test('an optional string whose presence flag is other than 0 or 1', () => {
    for (const v of [2, 0xff]) {
      rejects(frame(FrameKind.request, 1, requests.createMutex.id, [v, ...u32(1), 0x61, 0, ...u32(0)]), /presence flag/);
      rejects(frame(FrameKind.request, 1, requests.listObjects.id, [v]), /presence flag/);
    }
  });

  test('invalid UTF-8 in a string', () => {
    for (const bytes of [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x61, 0x80]]) {
      rejects(frame(FrameKind.request, 1, requests.openMutex.id, [...u32(bytes.length), ...bytes, ...u32(0)]), /UTF-8/);
      rejects(frame(FrameKind.request, 1, requests.createMutex.id, [1, ...u32(bytes.length), ...bytes, 0, ...u32(0)]), /UTF-8/);
    }
  });

  test('a json field that does not parse', () => {
    const text = [...Buffer.from('{"id":')];
    rejects(frame(FrameKind.reply, 1, requests.queryObject.id, [...u32(text.length), ...text]), /json/);
  });

  test('a list longer than MAX_LIST, however long the frame', () => {
    const wait = requests.wait.id;
    const tail = [0, ...Array(8).fill(0)];
    rejects(frame(FrameKind.request, 1, wait, [...u32(MAX_LIST + 1), ...tail]), /too long/);
    rejects(frame(FrameKind.request, 1, wait, [...u32(0xffff_ffff), ...tail]), /too long/);
    const atLimit = Array.from({ length: MAX_LIST }, (_, i) => i);
    const ok = decodeFrame(encodeRequest(1, 'wait', { handles: atLimit, all: false, timeoutMs: 0, detectDeadlock: false }));
    assert.equal(ok.kind === 'request' && (ok.body.handles as number[]).length, MAX_LIST);
  });

  test('a list shorter than its count', () => {
    rejects(frame(FrameKind.request, 1, requests.wait.id, [...u32(3), ...u32(4), ...u32(8)]), /truncated/);
  });
});

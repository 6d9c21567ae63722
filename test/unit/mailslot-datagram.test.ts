import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_DATAGRAM,
  MAX_DIRECTED_MESSAGE,
  decodeDatagram,
  encodeDatagram,
  type MailslotDatagram,
} from '../../src/protocol/mailslot-datagram.ts';

const SECRET = 'correct horse battery staple';

function datagram(over: Partial<MailslotDatagram> = {}): MailslotDatagram {
  return {
    sender: Buffer.from('0102030405060708', 'hex'),
    seq: 7,
    time: 1_700_000_000_123.5,
    target: 'WORKGROUP',
    senderHost: 'alpha.lan',
    senderDomain: 'WORKGROUP',
    path: 'status\\Über',
    data: Buffer.from('hello'),
    ...over,
  };
}

function decodeOk(buf: Buffer, secret?: string) {
  const r = decodeDatagram(buf, secret);
  assert.ok(r.ok, `expected a valid datagram, got ${JSON.stringify(r)}`);
  return r;
}

test('a datagram decodes to what was encoded, unsigned and signed', () => {
  for (const secret of [undefined, SECRET]) {
    const d = datagram();
    const r = decodeOk(encodeDatagram(d, secret), secret);
    assert.equal(r.signed, secret !== undefined);
    assert.deepEqual({ ...r.datagram, data: Buffer.from(r.datagram.data) }, { ...d, data: Buffer.from(d.data) });
  }
});

test('zero-length and maximum-length messages travel', () => {
  assert.equal(decodeOk(encodeDatagram(datagram({ data: Buffer.alloc(0) }))).datagram.data.length, 0);
  const big = Buffer.alloc(MAX_DIRECTED_MESSAGE, 0xab);
  const buf = encodeDatagram(datagram({ data: big, target: 'x'.repeat(253), senderHost: 'h'.repeat(253), senderDomain: 'd'.repeat(253), path: 'p'.repeat(1024) }), SECRET);
  assert.ok(buf.length <= MAX_DATAGRAM, 'the largest datagram fits in one UDP datagram');
  assert.deepEqual(Buffer.from(decodeOk(buf, SECRET).datagram.data), big);
});

test('the layout starts with the magic, the version and the flags', () => {
  const buf = encodeDatagram(datagram(), SECRET);
  assert.equal(buf.subarray(0, 4).toString('ascii'), 'NTMS');
  assert.equal(buf[4], 1);
  assert.equal(buf[5], 1, 'signed');
  assert.equal(encodeDatagram(datagram())[5], 0, 'unsigned');
});

test('every truncation of a datagram is malformed, and so is a byte too many', () => {
  for (const secret of [undefined, SECRET]) {
    const buf = encodeDatagram(datagram(), secret);
    for (let n = 0; n < buf.length; n++) {
      assert.deepEqual(decodeDatagram(buf.subarray(0, n), secret), { ok: false, reason: 'malformed' }, `${n} of ${buf.length} bytes`);
    }
    assert.deepEqual(decodeDatagram(Buffer.concat([buf, Buffer.from([0])]), secret), { ok: false, reason: 'malformed' });
  }
});

test('a wrong magic, version or unknown flag is malformed', () => {
  const buf = encodeDatagram(datagram());
  for (const [at, value] of [[0, 0x58], [4, 2], [5, 0x80]] as const) {
    const bad = Buffer.from(buf);
    bad[at] = value;
    assert.deepEqual(decodeDatagram(bad), { ok: false, reason: 'malformed' }, `byte ${at}`);
  }
  assert.deepEqual(decodeDatagram(Buffer.from('not a datagram at all')), { ok: false, reason: 'malformed' });
  assert.deepEqual(decodeDatagram(Buffer.alloc(0)), { ok: false, reason: 'malformed' });
});

test('names that a mailslot name could not hold are malformed: empty, *, a space', () => {
  const buf = encodeDatagram(datagram({ target: 'abc' }));
  const at = buf.indexOf('abc', 0, 'ascii');
  for (const replacement of ['*bc', 'a c', '.bc']) {
    const bad = Buffer.from(buf);
    bad.write(replacement, at, 'ascii');
    assert.deepEqual(decodeDatagram(bad), { ok: false, reason: 'malformed' }, replacement);
  }
  const empty = Buffer.from(buf);
  empty[at - 1] = 0; // target length 0: the rest no longer lines up, or the name is empty
  assert.equal(decodeDatagram(empty).ok, false);
});

test('a path that is not UTF-8 is malformed', () => {
  const buf = encodeDatagram(datagram({ path: 'ab' }));
  const at = buf.indexOf('ab', 30, 'ascii');
  buf[at] = 0xff;
  assert.deepEqual(decodeDatagram(buf), { ok: false, reason: 'malformed' });
});

test('a message longer than any datagram carries is oversized, as is a datagram past the UDP maximum', () => {
  // Forge a length field past the limit (the encoder refuses to write one).
  const buf = encodeDatagram(datagram({ data: Buffer.alloc(4) }));
  buf.writeUInt16BE(MAX_DIRECTED_MESSAGE + 1, buf.length - 6);
  assert.deepEqual(decodeDatagram(buf), { ok: false, reason: 'oversized' });
  assert.deepEqual(decodeDatagram(Buffer.alloc(MAX_DATAGRAM + 1)), { ok: false, reason: 'oversized' });
});

test('a signature must be there, be right and be ours: otherwise badHmac', () => {
  const signed = encodeDatagram(datagram(), SECRET);
  const unsigned = encodeDatagram(datagram());
  assert.deepEqual(decodeDatagram(unsigned, SECRET), { ok: false, reason: 'badHmac' }, 'unsigned where a secret is set');
  assert.deepEqual(decodeDatagram(signed), { ok: false, reason: 'badHmac' }, 'signed where none is set');
  assert.deepEqual(decodeDatagram(signed, 'another secret of some length'), { ok: false, reason: 'badHmac' }, 'another secret');
  const tampered = Buffer.from(signed);
  tampered[signed.indexOf('hello', 0, 'ascii')]! ^= 1;
  assert.deepEqual(decodeDatagram(tampered, SECRET), { ok: false, reason: 'badHmac' }, 'a changed message');
  const macFlipped = Buffer.from(signed);
  macFlipped[macFlipped.length - 1]! ^= 1;
  assert.deepEqual(decodeDatagram(macFlipped, SECRET), { ok: false, reason: 'badHmac' }, 'a changed signature');
});

test('the encoder refuses fields it cannot carry', () => {
  assert.throws(() => encodeDatagram(datagram({ sender: Buffer.alloc(4) })), RangeError);
  assert.throws(() => encodeDatagram(datagram({ seq: -1 })), RangeError);
  assert.throws(() => encodeDatagram(datagram({ target: '*' })), RangeError);
  assert.throws(() => encodeDatagram(datagram({ senderHost: 'x'.repeat(254) })), RangeError);
  assert.throws(() => encodeDatagram(datagram({ path: '' })), RangeError);
  assert.throws(() => encodeDatagram(datagram({ data: Buffer.alloc(MAX_DIRECTED_MESSAGE + 1) })), RangeError);
});

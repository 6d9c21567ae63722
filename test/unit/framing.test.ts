import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeError, encodeReply, encodeRequest, HEADER_SIZE } from '../../src/protocol/codec.ts';
import { ProtocolError } from '../../src/protocol/fields.ts';
import { FrameSplitter } from '../../src/protocol/framing.ts';
import { MAX_FRAME } from '../../src/protocol/schema.ts';

/** A few frames of different sizes, one of them larger than a typical socket chunk. */
const frames = [
  encodeRequest(1, 'ping', {}),
  encodeRequest(2, 'createMutex', { name: 'Local\\m', initialOwner: true, access: 0x1f0001 }),
  encodeReply(2, 'createMutex', { handle: 4, objectId: 7, existed: false }),
  encodeError(3, 'openMutex', 2, 'missing'),
  encodeRequest(4, 'openEvent', { name: 'e'.repeat(70_000), access: 0 }),
  encodeRequest(5, 'wait', { handles: [4, 8, 12], all: true, timeoutMs: Infinity, detectDeadlock: false }),
];
const stream = Buffer.concat(frames);

function lengthPrefix(len: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(len);
  return b;
}

test('frames coalesced into one chunk come out whole and in order', () => {
  const out = new FrameSplitter().push(stream);
  assert.deepEqual(out, frames);
  for (const f of out) decodeFrame(f);
});

test('a stream cut at every byte boundary gives the same frames', () => {
  for (let cut = 0; cut <= stream.length; cut += cut < 200 ? 1 : 997) {
    const s = new FrameSplitter();
    const out = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))];
    assert.deepEqual(out, frames, `cut at ${cut}`);
  }
});

test('a stream fed one byte at a time gives the same frames', () => {
  const small = Buffer.concat(frames.filter((f) => f.length < 1000));
  const s = new FrameSplitter();
  const out: Buffer[] = [];
  for (let i = 0; i < small.length; i++) out.push(...s.push(small.subarray(i, i + 1)));
  assert.deepEqual(Buffer.concat(out), small);
  assert.equal(out.length, frames.filter((f) => f.length < 1000).length);
});

test('a frame is not delivered before its last byte, nor twice', () => {
  const s = new FrameSplitter();
  const f = frames[1]!;
  assert.deepEqual(s.push(f.subarray(0, f.length - 1)), []);
  assert.deepEqual(s.push(f.subarray(f.length - 1)), [f]);
  assert.deepEqual(s.push(Buffer.alloc(0)), []);
});

test('an empty chunk is harmless anywhere', () => {
  const s = new FrameSplitter();
  assert.deepEqual(s.push(Buffer.alloc(0)), []);
  assert.deepEqual(s.push(stream.subarray(0, 3)), []);
  assert.deepEqual(s.push(Buffer.alloc(0)), []);
  assert.deepEqual(s.push(stream.subarray(3)), frames);
});

test('a length prefix beyond MAX_FRAME throws at once, before the body arrives', () => {
  for (const len of [MAX_FRAME - 3, MAX_FRAME, 0x7fff_ffff, 0xffff_ffff]) {
    assert.throws(() => new FrameSplitter().push(lengthPrefix(len)), ProtocolError, `length ${len}`);
  }
});

test('the largest frame MAX_FRAME allows is accepted', () => {
  const len = MAX_FRAME - 4;
  const s = new FrameSplitter();
  assert.deepEqual(s.push(lengthPrefix(len)), []);
  const out = s.push(Buffer.alloc(len));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, MAX_FRAME);
});

test('a length prefix below the header size throws', () => {
  for (let len = 0; len + 4 < HEADER_SIZE; len++) {
    assert.throws(() => new FrameSplitter().push(lengthPrefix(len)), ProtocolError, `length ${len}`);
  }
  assert.equal(new FrameSplitter().push(Buffer.concat([lengthPrefix(HEADER_SIZE - 4), Buffer.alloc(HEADER_SIZE - 4)])).length, 1);
});

test('a bad length after good frames in the same chunk throws', () => {
  assert.throws(() => new FrameSplitter().push(Buffer.concat([frames[0]!, lengthPrefix(1)])), ProtocolError);
});

test('a bad length split across chunks throws once the prefix is complete', () => {
  const s = new FrameSplitter();
  const bad = lengthPrefix(0xffff_ffff);
  assert.deepEqual(s.push(bad.subarray(0, 2)), []);
  assert.throws(() => s.push(bad.subarray(2)), ProtocolError);
});

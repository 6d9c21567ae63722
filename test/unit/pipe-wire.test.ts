/**
 * The pipe data plane's frames and its receive queue, without sockets: the parser reads the
 * same frames however the stream is cut, refuses what breaks the rules, and the queue's
 * ReadFile / PeekNamedPipe arithmetic over writes that arrived in several slices.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiveQueue } from '../../src/client/pipe-receive-queue.ts';
import { ProtocolError } from '../../src/protocol/fields.ts';
import {
  CONSUMED_FRAME,
  DataKind,
  encodeControl,
  FRAME_HEADER,
  MAX_CONTROL_FRAME,
  MAX_DATA_FRAME,
  PipeFrameParser,
  writeConsumed,
  writeDataHeader,
  type ControlFrame,
} from '../../src/protocol/pipe-wire.ts';

function dataFrame(payload: Buffer, end: boolean): Buffer {
  const f = Buffer.alloc(FRAME_HEADER + payload.length);
  writeDataHeader(f, 0, payload.length, end);
  payload.copy(f, FRAME_HEADER);
  return f;
}

/** Feed `bytes` to a parser in pieces of `step` bytes; what it reports, as a list of events. */
function parse(bytes: Buffer, step: number): string[] {
  const events: string[] = [];
  let data: Buffer[] = [];
  const parser = new PipeFrameParser({
    control: (f: ControlFrame) => events.push(`${f.name} ${JSON.stringify(f.body)}`),
    data: (b) => data.push(Buffer.from(b)),
    dataEnd: (last) => {
      events.push(`data ${Buffer.concat(data).toString()}${last ? ' END' : ''}`);
      data = [];
    },
    fail: () => {},
  });
  for (let i = 0; i < bytes.length; i += step) parser.push(bytes.subarray(i, i + step));
  return events;
}

test('the parser reads the same frames however the byte stream is cut', () => {
  const stream = Buffer.concat([
    encodeControl('hello', { version: 1, token: 'abc', pid: 42, quota: 4096 }),
    dataFrame(Buffer.from('first part '), false),
    dataFrame(Buffer.from('and the end'), true),
    dataFrame(Buffer.alloc(0), true),
    encodeControl('consumed', { bytes: 123456789 }),
    encodeControl('disconnect', {}),
    dataFrame(Buffer.from('x'), true),
  ]);
  const whole = parse(stream, stream.length);
  assert.deepEqual(whole, [
    'hello {"version":1,"token":"abc","pid":42,"quota":4096}',
    'data first part ',
    'data and the end END',
    'data  END',
    'consumed {"bytes":123456789}',
    'disconnect {}',
    'data x END',
  ]);
  for (const step of [1, 2, 3, 5, 7, 13]) {
    // The bytes of one data frame may come in several slices; joined per frame they are the same.
    assert.deepEqual(parse(stream, step), whole, `in pieces of ${step}`);
  }
});

test('the credit frame written in place is the declared consumed frame', () => {
  const buf = Buffer.alloc(CONSUMED_FRAME);
  for (const n of [0, 1, 65536, 2 ** 40 + 3]) {
    writeConsumed(buf, 0, n);
    assert.deepEqual(buf, encodeControl('consumed', { bytes: n }));
  }
});

test('the parser refuses unknown kinds, oversized frames, empty middle frames and control frames that do not decode', () => {
  const header = (length: number, kind: number) => {
    const h = Buffer.alloc(FRAME_HEADER);
    h.writeUInt32LE(length, 0);
    h[4] = kind;
    return h;
  };
  const bad = [
    header(0, 99),
    header(MAX_DATA_FRAME + 1, DataKind.end),
    header(0, DataKind.more),
    header(MAX_CONTROL_FRAME + 1, 4),
    Buffer.concat([header(3, 4), Buffer.from([1, 2, 3])]), // consumed with 3 bytes for an f64
    Buffer.concat([header(9, 4), Buffer.alloc(9)]), // a trailing byte
    Buffer.concat([header(8, 1), Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f])]), // a token longer than its frame
  ];
  for (const b of bad) {
    const parser = new PipeFrameParser({ control() {}, data() {}, dataEnd() {}, fail() {} });
    assert.throws(() => parser.push(b), ProtocolError, b.toString('hex'));
  }
});

test('a stopped parser ignores the rest of its input', () => {
  const events: string[] = [];
  const parser: PipeFrameParser = new PipeFrameParser({
    control: (f) => {
      events.push(f.name);
      parser.stop();
    },
    data() {},
    dataEnd() {},
    fail() {},
  });
  parser.push(Buffer.concat([encodeControl('disconnect', {}), Buffer.from('garbage that would throw')]));
  assert.deepEqual(events, ['disconnect']);
});

test('the receive queue: reads across slices of one write, message and byte read modes, zero-length writes', () => {
  const q = new ReceiveQueue();
  q.push([Buffer.from('ab'), Buffer.from('cde')], 5, 1);
  q.push([], 0, 2);
  q.push([Buffer.from('fg')], 2, 3);
  assert.deepEqual([q.count, q.bytes], [3, 7]);
  const b3 = new Uint8Array(3);
  assert.deepEqual(q.readInto(b3, true), { bytesRead: 3, moreData: true });
  assert.equal(Buffer.from(b3).toString(), 'abc');
  assert.deepEqual(q.peek(10, true), { data: Buffer.from('de'), bytesAvailable: 4, messageBytesLeft: 0 });
  assert.deepEqual(q.peek(10, false).data.toString(), 'defg', 'a byte pipe peeks across writes');
  // Byte read mode runs over the empty write on its way.
  const b10 = new Uint8Array(10);
  assert.deepEqual(q.readInto(b10, false), { bytesRead: 4, moreData: false });
  assert.equal(Buffer.from(b10.subarray(0, 4)).toString(), 'defg');
  assert.deepEqual([q.count, q.bytes], [0, 0]);
});

test('the receive queue: a whole message in one slice is handed out as it is; dropAfter keeps the first writes', () => {
  const q = new ReceiveQueue();
  const slice = Buffer.from('one');
  q.push([slice], 3, 1);
  q.push([Buffer.from('tw'), Buffer.from('o')], 3, 2);
  q.push([Buffer.from('three')], 5, 3);
  assert.equal(q.takeMessage(true), slice);
  assert.equal(q.takeMessage(true).toString(), 'two');
  q.push([Buffer.from('four')], 4, 4);
  q.dropAfter(3);
  assert.deepEqual([q.count, q.bytes], [1, 5]);
  assert.deepEqual(q.readHead(2), { data: Buffer.from('th'), moreData: true });
  assert.equal(q.takeChunk()!.toString(), 'ree');
  assert.equal(q.takeChunk(), null);
});

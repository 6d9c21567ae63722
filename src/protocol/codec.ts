/**
 * Encoder and decoder for every frame, derived from the schema. A frame is
 * `u32 length | u8 kind | u32 requestId | u16 request number | payload`, the length
 * counting everything after itself.
 */
import { ProtocolError, Reader, Writer, type Fields } from './fields.ts';
import {
  FrameKind,
  MAX_FRAME,
  requestNames,
  requests,
  type ReplyOf,
  type RequestName,
  type RequestOf,
} from './schema.ts';

export const HEADER_SIZE = 11;

export type Frame =
  | { kind: 'request'; requestId: number; name: RequestName; body: Record<string, unknown> }
  | { kind: 'reply'; requestId: number; name: RequestName; body: Record<string, unknown> }
  | { kind: 'error'; requestId: number; name: RequestName; status: number; detail: string };

function writeFields(w: Writer, fields: Fields, value: Record<string, unknown>): void {
  for (const key in fields) fields[key]!.write(w, value[key] as never);
}

function readFields(r: Reader, fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) out[key] = fields[key]!.read(r);
  return out;
}

function begin(kind: number, requestId: number, name: RequestName): Writer {
  const w = new Writer(64);
  w.u32(0);
  w.u8(kind);
  w.u32(requestId);
  w.u16(requests[name].id);
  return w;
}

function finish(w: Writer): Buffer {
  const frame = w.done();
  if (frame.length > MAX_FRAME) throw new ProtocolError(`frame of ${frame.length} bytes exceeds ${MAX_FRAME}`);
  frame.writeUInt32LE(frame.length - 4, 0);
  return frame;
}

export function encodeRequest<K extends RequestName>(requestId: number, name: K, body: RequestOf<K>): Buffer {
  const w = begin(FrameKind.request, requestId, name);
  writeFields(w, requests[name].request, body as Record<string, unknown>);
  return finish(w);
}

export function encodeReply<K extends RequestName>(requestId: number, name: K, body: ReplyOf<K>): Buffer {
  const w = begin(FrameKind.reply, requestId, name);
  writeFields(w, requests[name].reply, body as Record<string, unknown>);
  return finish(w);
}

export function encodeError(requestId: number, name: RequestName, status: number, detail = ''): Buffer {
  const w = begin(FrameKind.error, requestId, name);
  w.u32(status);
  w.bytes(Buffer.from(detail.slice(0, 512), 'utf8'));
  return finish(w);
}

/** Decode one whole frame (length prefix included). Throws ProtocolError on anything malformed. */
export function decodeFrame(frame: Buffer): Frame {
  if (frame.length < HEADER_SIZE) throw new ProtocolError('frame shorter than its header');
  if (frame.readUInt32LE(0) !== frame.length - 4) throw new ProtocolError('frame length does not match');
  const kind = frame[4]!;
  const requestId = frame.readUInt32LE(5);
  const number = frame.readUInt16LE(9);
  const name = requestNames.get(number);
  if (name === undefined) throw new ProtocolError(`unknown request number ${number}`);
  const r = new Reader(frame, HEADER_SIZE);
  let out: Frame;
  switch (kind) {
    case FrameKind.request:
      out = { kind: 'request', requestId, name, body: readFields(r, requests[name].request) };
      break;
    case FrameKind.reply:
      out = { kind: 'reply', requestId, name, body: readFields(r, requests[name].reply) };
      break;
    case FrameKind.error: {
      const status = r.u32();
      const detail = r.bytes().toString('utf8');
      out = { kind: 'error', requestId, name, status, detail };
      break;
    }
    default:
      throw new ProtocolError(`unknown frame kind ${kind}`);
  }
  if (!r.atEnd()) throw new ProtocolError(`${frame.length - r.pos} trailing bytes after ${name}`);
  return out;
}

/**
 * The named-pipe data plane on the wire, declared once: the frames a client and a server
 * process exchange over their own Unix socket once the object manager has matched them.
 *
 * A frame is `u32 payload length | u8 kind | payload`. Data frames carry a write's bytes
 * as they are (`more`: further frames of the same write follow; `end`: the write's last
 * frame, so a write is one message on a message pipe and a torn last write can be told
 * from a whole one). Control frames carry fields declared below, encoded with the same
 * field codecs as the object manager's protocol. A frame that breaks these rules closes
 * that one connection.
 */
import { f, ProtocolError, Reader, Writer, type Fields, type ValueOf } from './fields.ts';

/** Checked at the handshake: a peer speaking another version is refused. */
export const PIPE_WIRE_VERSION = 2;

/** `u32 payload length | u8 kind`. */
export const FRAME_HEADER = 5;

/** The largest payload of one data frame; a longer write goes as several frames. */
export const MAX_DATA_FRAME = 1 << 20;

/** The largest payload of a control frame. */
export const MAX_CONTROL_FRAME = 512;

/**
 * The largest message a message pipe carries. The reader holds a message whole before it
 * shows it (so that a writer dying mid-message never delivers part of it), so this bounds
 * what one write can make a reader hold beyond its buffer.
 */
export const MAX_MESSAGE = 64 << 20;

/** Data frame kinds. */
export const DataKind = { more: 16, end: 17 } as const;

/** Control frames: kind number and fields. */
export const controlFrames = {
  /** Client → server, first: who I am and how much of your unread data I hold before you wait. */
  hello: { kind: 1, fields: { version: f.u32, token: f.str, pid: f.u32, quota: f.u32 } },
  /** Server → client, answering hello. */
  welcome: { kind: 2, fields: { pid: f.u32, quota: f.u32 } },
  /** Server → client instead of welcome: a wire status (unknown token, other version), then close. */
  refuse: { kind: 3, fields: { status: f.u32 } },
  /** Credit: the sender has consumed this many more of the receiver's bytes. */
  consumed: { kind: 4, fields: { bytes: f.f64 } },
  /** The sender closes its end; only its first `writes` writes count (later ones were never resolved). */
  close: { kind: 5, fields: { writes: f.f64 } },
  /** Server → client: the server disconnected; discard everything. */
  disconnect: { kind: 6, fields: {} },
  /** Client → server: the disconnect is seen. */
  disconnectAck: { kind: 7, fields: {} },
  /** The writer waits in FlushFileBuffers: report reads at once until everything is read. */
  flush: { kind: 8, fields: {} },
} as const satisfies Record<string, { kind: number; fields: Fields }>;

export type ControlName = keyof typeof controlFrames;
export type ControlBody<K extends ControlName> = ValueOf<(typeof controlFrames)[K]['fields']>;
export type ControlFrame = { [K in ControlName]: { name: K; body: ControlBody<K> } }[ControlName];

const controlByKind = new Map<number, ControlName>(
  Object.entries(controlFrames).map(([name, spec]) => [spec.kind, name as ControlName]),
);

/** One control frame, header included. */
export function encodeControl<K extends ControlName>(name: K, body: ControlBody<K>): Buffer {
  const spec = controlFrames[name];
  const w = new Writer(32);
  w.u32(0);
  w.u8(spec.kind);
  const fields = spec.fields as Fields;
  for (const key in fields) fields[key]!.write(w, (body as Record<string, unknown>)[key] as never);
  const frame = w.done();
  if (frame.length - FRAME_HEADER > MAX_CONTROL_FRAME) throw new ProtocolError(`${name} frame exceeds ${MAX_CONTROL_FRAME} bytes`);
  frame.writeUInt32LE(frame.length - FRAME_HEADER, 0);
  return frame;
}

function decodeControl(kind: number, payload: Buffer): ControlFrame {
  const name = controlByKind.get(kind)!;
  const fields = controlFrames[name].fields as Fields;
  const r = new Reader(payload);
  const body: Record<string, unknown> = {};
  for (const key in fields) body[key] = fields[key]!.read(r);
  if (!r.atEnd()) throw new ProtocolError(`${payload.length - r.pos} trailing bytes after ${name}`);
  return { name, body } as ControlFrame;
}

const CONSUMED_KIND = controlFrames.consumed.kind;

/** Bytes of an encoded `consumed` frame. */
export const CONSUMED_FRAME = FRAME_HEADER + 8;

/** Write a `consumed` frame at `pos` of `buf`: what encodeControl('consumed') makes, without its generality (it goes once per turn). */
export function writeConsumed(buf: Buffer, pos: number, bytes: number): void {
  buf.writeUInt32LE(8, pos);
  buf[pos + 4] = controlFrames.consumed.kind;
  buf.writeDoubleLE(bytes, pos + FRAME_HEADER);
}

/** Write a data frame's header at `pos` of `buf`. */
export function writeDataHeader(buf: Buffer, pos: number, length: number, end: boolean): void {
  buf[pos] = length;
  buf[pos + 1] = length >>> 8;
  buf[pos + 2] = length >>> 16;
  buf[pos + 3] = length >>> 24;
  buf[pos + 4] = end ? DataKind.end : DataKind.more;
}

/** Where the parser hands what it reads. It may be replaced between two frames (the handshake hands over to the channel). */
export interface FrameSink {
  control(frame: ControlFrame): void;
  /** Bytes of a data frame's payload, in order, as they arrive: slices of the received chunks, never copies. */
  data(bytes: Buffer): void;
  /** The data frame whose bytes came last is complete; `last`: it was its write's last frame. */
  dataEnd(last: boolean): void;
  /**
   * Optional: a write's last data frame, not empty, whole in one received chunk (a slice of
   * it). Without it the parser calls data() then dataEnd(true), which must mean the same.
   */
  message?(bytes: Buffer): void;
  /** The stream broke the protocol (what the parser or a callback threw): close the connection. */
  fail(error: Error): void;
}

/**
 * Splits the received byte stream into frames without copying data payloads. A length
 * beyond the kind's bound, an unknown kind, an empty `more` frame or a control frame that
 * does not decode throws ProtocolError; the caller closes the connection.
 */
export class PipeFrameParser {
  private readonly header = Buffer.alloc(FRAME_HEADER);
  private headerFill = 0;
  private kind = 0;
  /** Payload bytes still to come of the current frame; -1 between frames. */
  private remaining = -1;
  private control: Buffer | undefined;
  private controlFill = 0;
  private stopped = false;

  constructor(public sink: FrameSink) {}

  /** Ignore everything after this (the connection is done with). */
  stop(): void {
    this.stopped = true;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && !this.stopped) {
      if (this.remaining < 0) {
        let length: number;
        if (this.headerFill === 0 && n - pos >= FRAME_HEADER) {
          length = (chunk[pos]! | (chunk[pos + 1]! << 8) | (chunk[pos + 2]! << 16) | (chunk[pos + 3]! << 24)) >>> 0;
          const kind = chunk[pos + 4]!;
          pos += FRAME_HEADER;
          if (kind === DataKind.end && length > 0 && length <= MAX_DATA_FRAME && n - pos >= length && this.sink.message !== undefined) {
            // The common case: a whole write in one frame, whole in this chunk.
            this.kind = kind;
            pos += length;
            this.sink.message(chunk.subarray(pos - length, pos));
            continue;
          }
          this.kind = kind;
        } else {
          const take = Math.min(FRAME_HEADER - this.headerFill, n - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + take);
          this.headerFill += take;
          pos += take;
          if (this.headerFill < FRAME_HEADER) return;
          this.headerFill = 0;
          length = this.header.readUInt32LE(0);
          this.kind = this.header[4]!;
        }
        if (this.begin(length)) {
          if (this.kind === CONSUMED_KIND && length === 8 && n - pos >= 8) {
            // The frame that goes most often, whole here: decoded without the general codec.
            this.remaining = -1;
            pos += 8;
            this.sink.control({ name: 'consumed', body: { bytes: chunk.readDoubleLE(pos - 8) } });
            continue;
          }
          if (n - pos >= length) {
            // A control frame whole in this chunk: decoded where it lies.
            this.remaining = -1;
            pos += length;
            this.sink.control(decodeControl(this.kind, chunk.subarray(pos - length, pos)));
            continue;
          }
          this.control = Buffer.allocUnsafe(length);
          this.controlFill = 0;
        }
        if (this.remaining === 0) this.complete();
        continue;
      }
      const take = Math.min(this.remaining, n - pos);
      if (this.control === undefined) {
        this.sink.data(chunk.subarray(pos, pos + take));
      } else {
        chunk.copy(this.control, this.controlFill, pos, pos + take);
        this.controlFill += take;
      }
      pos += take;
      this.remaining -= take;
      if (this.remaining === 0) this.complete();
    }
  }

  /** A frame's header has been read; true for a control frame. */
  private begin(length: number): boolean {
    const kind = this.kind;
    this.remaining = length;
    if (kind === DataKind.more || kind === DataKind.end) {
      if (length > MAX_DATA_FRAME) throw new ProtocolError(`data frame of ${length} bytes exceeds ${MAX_DATA_FRAME}`);
      if (length === 0 && kind === DataKind.more) throw new ProtocolError('empty data frame in the middle of a write');
      this.control = undefined;
      return false;
    }
    if (!controlByKind.has(kind)) throw new ProtocolError(`unknown frame kind ${kind}`);
    if (length > MAX_CONTROL_FRAME) throw new ProtocolError(`control frame of ${length} bytes exceeds ${MAX_CONTROL_FRAME}`);
    return true;
  }

  private complete(): void {
    this.remaining = -1;
    const control = this.control;
    if (control === undefined) {
      this.sink.dataEnd(this.kind === DataKind.end);
      return;
    }
    this.control = undefined;
    this.sink.control(decodeControl(this.kind, control));
  }
}

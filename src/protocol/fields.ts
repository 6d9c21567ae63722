/**
 * Field codecs: each knows how to write and read one value. The schema is built from
 * these, and the request and reply types are inferred from them.
 */

/** A frame or field that breaks the protocol; the connection that sent it is closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Appends values to a growing buffer. */
export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void { this.reserve(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.reserve(2); this.buf.writeUInt16LE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.reserve(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  i32(v: number): void { this.reserve(4); this.buf.writeInt32LE(v | 0, this.pos); this.pos += 4; }
  f64(v: number): void { this.reserve(8); this.buf.writeDoubleLE(v, this.pos); this.pos += 8; }
  bytes(v: Uint8Array): void {
    this.u32(v.length);
    this.reserve(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
  done(): Buffer { return this.buf.subarray(0, this.pos); }
}

/** Reads values from a buffer, failing with ProtocolError on any overrun. */
export class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }
  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtocolError(`truncated field at offset ${this.pos}`);
  }
  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  u16(): number { this.need(2); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  i32(): number { this.need(4); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return v; }
  f64(): number { this.need(8); const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  atEnd(): boolean { return this.pos === this.end; }
}

/** One field's codec; `T` is the TypeScript type of its value. */
export interface Field<T> {
  readonly kind: string;
  write(w: Writer, v: T): void;
  read(r: Reader): T;
}

const text = new TextDecoder('utf-8', { fatal: true });

function field<T>(kind: string, write: (w: Writer, v: T) => void, read: (r: Reader) => T): Field<T> {
  return { kind, write, read };
}

function readString(r: Reader): string {
  const bytes = r.bytes();
  try {
    return text.decode(bytes);
  } catch {
    throw new ProtocolError('string field is not valid UTF-8');
  }
}

/** Largest list a list field may carry (a wait takes 64 handles at most; this is a sanity bound). */
export const MAX_LIST = 4096;

/** The field kinds. */
export const f = {
  u8: field<number>('u8', (w, v) => w.u8(v), (r) => r.u8()),
  u32: field<number>('u32', (w, v) => w.u32(v), (r) => r.u32()),
  i32: field<number>('i32', (w, v) => w.i32(v), (r) => r.i32()),
  f64: field<number>('f64', (w, v) => w.f64(v), (r) => r.f64()),
  bool: field<boolean>('bool', (w, v) => w.u8(v ? 1 : 0), (r) => {
    const v = r.u8();
    if (v > 1) throw new ProtocolError(`bad boolean ${v}`);
    return v === 1;
  }),
  str: field<string>('str', (w, v) => w.bytes(Buffer.from(v, 'utf8')), readString),
  optStr: field<string | undefined>(
    'optStr',
    (w, v) => {
      w.u8(v === undefined ? 0 : 1);
      if (v !== undefined) w.bytes(Buffer.from(v, 'utf8'));
    },
    (r) => {
      const present = r.u8();
      if (present > 1) throw new ProtocolError(`bad presence flag ${present}`);
      return present === 0 ? undefined : readString(r);
    },
  ),
  bytes: field<Uint8Array>('bytes', (w, v) => w.bytes(v), (r) => r.bytes()),
  u32list: field<number[]>(
    'u32list',
    (w, v) => {
      w.u32(v.length);
      for (const x of v) w.u32(x);
    },
    (r) => {
      const n = r.u32();
      if (n > MAX_LIST) throw new ProtocolError(`list of ${n} items is too long`);
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = r.u32();
      return out;
    },
  ),
  /** A structured value sent as JSON text: for descriptions and listings, never for hot paths. */
  json<T>(): Field<T> {
    return field<T>('json', (w, v) => w.bytes(Buffer.from(JSON.stringify(v), 'utf8')), (r) => {
      const s = readString(r);
      try {
        return JSON.parse(s) as T;
      } catch {
        throw new ProtocolError('json field does not parse');
      }
    });
  },
} as const;

/** A record of fields, and the value type it describes. */
export type Fields = Record<string, Field<any>>;
export type ValueOf<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

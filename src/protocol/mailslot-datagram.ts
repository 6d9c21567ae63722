/**
 * The mailslot datagram: one UDP datagram carries one mailslot message from one object
 * manager to the others. Declared once here; the broker's network part sends and receives
 * it. All integers are big-endian; strings are length-prefixed.
 *
 * ```
 *  magic     4   "NTMS"
 *  version   u8  1
 *  flags     u8  bit 0: signed (an HMAC-SHA256 trailer follows); other bits 0
 *  sender    8   random id of the sending object manager (new at each start)
 *  seq       u32 the sender's datagram counter
 *  time      f64 the sender's wall clock, ms since the epoch
 *  target    u8 length + ASCII   the name addressed: a domain or a host (never * or .)
 *  host      u8 length + ASCII   the sender's host name
 *  domain    u8 length + ASCII   the sender's domain
 *  path      u16 length + UTF-8  the mailslot path, as in \\X\mailslot\PATH
 *  data      u16 length + bytes  the message
 *  mac       32  HMAC-SHA256(secret, every byte before it), when signed
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DATAGRAM_MAGIC = 'NTMS';
export const DATAGRAM_VERSION = 1;

/** The longest message broadcast to a domain (`\\*`, `\\DOMAIN`), as on Windows. */
export const MAX_BROADCAST_MESSAGE = 424;
/**
 * The longest message addressed to one host. Windows says "smaller than 64 KB"; this bound
 * leaves room for the header within one UDP datagram.
 */
export const MAX_DIRECTED_MESSAGE = 60 * 1024;
/** The largest UDP payload over IPv4; anything larger is not a datagram we sent. */
export const MAX_DATAGRAM = 65_507;
/** Longest host, domain or target name (a DNS name's limit). */
export const MAX_NETWORK_NAME = 253;
/** Longest mailslot path in bytes (256 characters of UTF-8 at most). */
export const MAX_PATH_BYTES = 1024;

const FLAG_SIGNED = 1;
const MAC_BYTES = 32;
const SENDER_BYTES = 8;

/** What a host, domain or target name may look like: the host form of `\\HOST\mailslot\…`. */
export const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface MailslotDatagram {
  /** The sending object manager's random id (8 bytes). */
  sender: Buffer;
  seq: number;
  /** The sender's wall clock when it sent, ms since the epoch. */
  time: number;
  /** The name addressed: a domain or a host name, as written. */
  target: string;
  senderHost: string;
  senderDomain: string;
  /** The mailslot path (what follows `\mailslot\`). */
  path: string;
  data: Uint8Array;
}

/** Why a datagram was not accepted by the codec. */
export type DecodeFailure = 'malformed' | 'oversized' | 'badHmac';

export type DecodeResult = { ok: true; datagram: MailslotDatagram; signed: boolean } | { ok: false; reason: DecodeFailure };

/**
 * Encode a datagram, signed with `secret` if one is given. Throws RangeError for a field
 * out of bounds (the caller checks message sizes first and reports them properly).
 */
export function encodeDatagram(d: MailslotDatagram, secret?: string | Buffer): Buffer {
  if (d.sender.length !== SENDER_BYTES) throw new RangeError('sender id must be 8 bytes');
  if (!Number.isInteger(d.seq) || d.seq < 0 || d.seq > 0xffff_ffff) throw new RangeError('seq out of range');
  const names = [d.target, d.senderHost, d.senderDomain].map((s) => {
    if (!NETWORK_NAME.test(s) || s.length > MAX_NETWORK_NAME) throw new RangeError(`bad network name ${JSON.stringify(s)}`);
    return Buffer.from(s, 'ascii');
  });
  const path = Buffer.from(d.path, 'utf8');
  if (path.length === 0 || path.length > MAX_PATH_BYTES) throw new RangeError('mailslot path length out of range');
  if (d.data.length > MAX_DIRECTED_MESSAGE) throw new RangeError('message longer than a datagram carries');
  const signed = secret !== undefined;
  const size =
    4 + 1 + 1 + SENDER_BYTES + 4 + 8 + names.reduce((n, b) => n + 1 + b.length, 0) + 2 + path.length + 2 + d.data.length + (signed ? MAC_BYTES : 0);
  const buf = Buffer.alloc(size);
  let o = buf.write(DATAGRAM_MAGIC, 0, 'ascii');
  o = buf.writeUInt8(DATAGRAM_VERSION, o);
  o = buf.writeUInt8(signed ? FLAG_SIGNED : 0, o);
  o += d.sender.copy(buf, o);
  o = buf.writeUInt32BE(d.seq, o);
  o = buf.writeDoubleBE(d.time, o);
  for (const n of names) {
    o = buf.writeUInt8(n.length, o);
    o += n.copy(buf, o);
  }
  o = buf.writeUInt16BE(path.length, o);
  o += path.copy(buf, o);
  o = buf.writeUInt16BE(d.data.length, o);
  o += Buffer.from(d.data.buffer, d.data.byteOffset, d.data.length).copy(buf, o);
  if (signed) mac(secret, buf.subarray(0, o)).copy(buf, o);
  return buf;
}

/**
 * Decode and check a datagram: its structure (every length inside the datagram, nothing
 * after the end, names of the allowed form, the path valid UTF-8), its size, and, when
 * `secret` is given, its signature. A datagram signed when we have no secret, or unsigned
 * when we have one, fails `badHmac`: every member of a domain must share one setting.
 */
export function decodeDatagram(buf: Buffer, secret?: string | Buffer): DecodeResult {
  if (buf.length > MAX_DATAGRAM) return { ok: false, reason: 'oversized' };
  const r = new Reader(buf);
  try {
    if (r.bytes(4).toString('latin1') !== DATAGRAM_MAGIC) return { ok: false, reason: 'malformed' };
    if (r.u8() !== DATAGRAM_VERSION) return { ok: false, reason: 'malformed' };
    const flags = r.u8();
    if ((flags & ~FLAG_SIGNED) !== 0) return { ok: false, reason: 'malformed' };
    const signed = (flags & FLAG_SIGNED) !== 0;
    const sender = Buffer.from(r.bytes(SENDER_BYTES));
    const seq = r.u32();
    const time = r.f64();
    const target = r.name();
    const senderHost = r.name();
    const senderDomain = r.name();
    const pathLength = r.u16();
    if (pathLength === 0 || pathLength > MAX_PATH_BYTES) return { ok: false, reason: 'malformed' };
    const path = new TextDecoder('utf-8', { fatal: true }).decode(r.bytes(pathLength));
    const dataLength = r.u16();
    if (dataLength > MAX_DIRECTED_MESSAGE) return { ok: false, reason: 'oversized' };
    const data = Buffer.from(r.bytes(dataLength));
    const signedPart = r.offset;
    if (buf.length - signedPart !== (signed ? MAC_BYTES : 0) || !Number.isFinite(time)) return { ok: false, reason: 'malformed' };
    if ((secret !== undefined) !== signed) return { ok: false, reason: 'badHmac' };
    if (secret !== undefined && !timingSafeEqual(mac(secret, buf.subarray(0, signedPart)), buf.subarray(signedPart))) {
      return { ok: false, reason: 'badHmac' };
    }
    return { ok: true, signed, datagram: { sender, seq, time, target, senderHost, senderDomain, path, data } };
  } catch {
    // A length past the end, a bad name, invalid UTF-8.
    return { ok: false, reason: 'malformed' };
  }
}

function mac(secret: string | Buffer, bytes: Buffer): Buffer {
  return createHmac('sha256', secret).update(bytes).digest();
}

/** Bounds-checked reads; any read past the end throws. */
class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  private take(n: number): number {
    const at = this.offset;
    if (at + n > this.buf.length) throw new RangeError('past the end');
    this.offset += n;
    return at;
  }
  u8(): number {
    return this.buf.readUInt8(this.take(1));
  }
  u16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }
  u32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }
  f64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }
  bytes(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }
  name(): string {
    const length = this.u8();
    const s = this.bytes(length).toString('latin1');
    if (length === 0 || length > MAX_NETWORK_NAME || !NETWORK_NAME.test(s)) throw new RangeError('bad name');
    return s;
  }
}

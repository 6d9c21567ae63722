/**
 * Splits a byte stream into whole frames by their length prefix. A length beyond
 * MAX_FRAME or below the header size is a protocol violation.
 */
import { ProtocolError } from './fields.ts';
import { HEADER_SIZE } from './codec.ts';
import { MAX_FRAME } from './schema.ts';

export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Feed a chunk; returns the whole frames it completes, each with its length prefix. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let buf: Buffer;
    if (this.pendingBytes === 0) buf = chunk;
    else {
      this.pending.push(chunk);
      buf = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = buf.readUInt32LE(pos);
      if (len + 4 > MAX_FRAME) throw new ProtocolError(`frame length ${len} exceeds ${MAX_FRAME}`);
      if (len + 4 < HEADER_SIZE) throw new ProtocolError(`frame length ${len} is below the header size`);
      if (buf.length - pos < len + 4) break;
      frames.push(buf.subarray(pos, pos + len + 4));
      pos += len + 4;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return frames;
  }
}

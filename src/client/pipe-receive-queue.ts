/**
 * What one end of a named pipe holds of its peer's writes, unread: whole writes in arrival
 * order (each a message on a message pipe), with ReadFile's and PeekNamedPipe's arithmetic
 * over them. The bytes stay the slices of the socket chunks they arrived in; a partial
 * read moves a cursor in the head write. Pure: no I/O.
 */

/** One whole write of the peer, and how much of it is read. */
interface Entry {
  parts: Buffer[];
  /** Cursor: the part and the offset in it of the next unread byte. */
  index: number;
  offset: number;
  /** Bytes not yet read. */
  left: number;
}

const EMPTY = Buffer.alloc(0);

export class ReceiveQueue {
  /**
   * The writes; one that is a single slice and wholly unread is kept as that slice (the
   * common case: no object of its own), and becomes an Entry once part of it is read.
   */
  private entries: (Entry | Buffer)[] = [];
  /** The peer's count of writes, each entry's included (for the discard at its close). */
  private seqs: number[] = [];
  private head = 0;
  /** Unread bytes, every write together. */
  bytes = 0;

  /** Writes not wholly read (zero-length messages count). */
  get count(): number {
    return this.entries.length - this.head;
  }

  push(parts: Buffer[], size: number, seq: number): void {
    this.entries.push(parts.length === 1 && size > 0 && parts[0]!.length === size ? parts[0]! : { parts, index: 0, offset: 0, left: size });
    this.seqs.push(seq);
    this.bytes += size;
  }

  /** A write whose bytes are one slice. */
  pushOne(part: Buffer, seq: number): void {
    this.entries.push(part);
    this.seqs.push(seq);
    this.bytes += part.length;
  }

  /** The entry at `i` as an Entry (a whole slice becomes one). */
  private at(i: number): Entry {
    const e = this.entries[i]!;
    if (!(e instanceof Uint8Array)) return e;
    const entry: Entry = { parts: [e], index: 0, offset: 0, left: e.length };
    this.entries[i] = entry;
    return entry;
  }

  /** Unread bytes of the entry at `i`. */
  private left(i: number): number {
    const e = this.entries[i]!;
    return e instanceof Uint8Array ? e.length : e.left;
  }

  /**
   * ReadFile into `buf` (the queue is not empty). Message read mode: from the head message
   * only, `moreData` when some of it is left. Byte read mode: across writes, as much as
   * fits; writes read to their end leave the queue, zero-length ones met on the way too.
   */
  readInto(buf: Uint8Array, messageMode: boolean): { bytesRead: number; moreData: boolean } {
    if (messageMode) {
      const whole = this.entries[this.head]!;
      if (whole instanceof Uint8Array && whole.length <= buf.length) {
        buf.set(whole, 0);
        this.bytes -= whole.length;
        this.shift();
        return { bytesRead: whole.length, moreData: false };
      }
      const e = this.at(this.head);
      const n = Math.min(buf.length, e.left);
      this.copyOut(e, buf, 0, n);
      const moreData = e.left > 0;
      if (!moreData) this.shift();
      return { bytesRead: n, moreData };
    }
    const out = Math.min(buf.length, this.bytes);
    let written = 0;
    do {
      const whole = this.entries[this.head]!;
      if (whole instanceof Uint8Array && whole.length <= out - written) {
        // A whole slice that fits: copied as it is, no cursor needed.
        buf.set(whole, written);
        written += whole.length;
        this.bytes -= whole.length;
        this.shift();
        continue;
      }
      const e = this.at(this.head);
      const n = Math.min(out - written, e.left);
      this.copyOut(e, buf, written, n);
      written += n;
      if (e.left === 0) this.shift();
    } while (written < out);
    return { bytesRead: out, moreData: false };
  }

  /** The rest of the head message (message read mode), or everything queued (byte read mode). */
  takeMessage(messageMode: boolean): Buffer {
    if (messageMode) {
      const e = this.entries[this.head]!;
      if (e instanceof Uint8Array) {
        // A message unread and in one slice, the common case: as it is.
        this.bytes -= e.length;
        this.shift();
        return e;
      }
      if (e.parts.length === 1 && e.offset === 0) {
        const part = e.parts[0]!;
        this.bytes -= e.left;
        this.shift();
        return part;
      }
      return this.readHead(Infinity).data;
    }
    const out = this.bytes === 0 ? EMPTY : Buffer.allocUnsafe(this.bytes);
    let written = 0;
    while (this.count > 0) {
      const whole = this.entries[this.head]!;
      if (whole instanceof Uint8Array) {
        out.set(whole, written);
        written += whole.length;
        this.bytes -= whole.length;
      } else {
        written += this.copyOut(whole, out, written, whole.left);
      }
      this.shift();
    }
    return out;
  }

  /** Up to `max` bytes of the head message; what is left of it stays queued (`moreData`). */
  readHead(max: number): { data: Buffer; moreData: boolean } {
    const whole = this.entries[this.head]!;
    if (whole instanceof Uint8Array && whole.length <= max) {
      this.bytes -= whole.length;
      this.shift();
      return { data: whole, moreData: false };
    }
    const e = this.at(this.head);
    const n = Math.min(max, e.left);
    let out: Buffer;
    const part = e.parts[e.index];
    if (part !== undefined && e.offset === 0 && part.length === n) {
      // The whole of one received slice: as it is.
      out = part;
      this.advance(e, n);
    } else if (part !== undefined && part.length - e.offset >= n) {
      // Within one received chunk: a slice, no copy.
      out = part.subarray(e.offset, e.offset + n);
      this.advance(e, n);
    } else {
      out = Buffer.allocUnsafe(n);
      this.copyOut(e, out, 0, n);
    }
    const moreData = e.left > 0;
    if (!moreData) this.shift();
    return { data: out, moreData };
  }

  /**
   * For a byte stream: the next unread bytes of the head write as they lie (a slice of one
   * chunk), skipping zero-length messages; null when nothing but those was there.
   */
  takeChunk(): Buffer | null {
    while (this.count > 0) {
      const whole = this.entries[this.head]!;
      if (whole instanceof Uint8Array) {
        this.bytes -= whole.length;
        this.shift();
        return whole;
      }
      const e = this.at(this.head);
      if (e.left === 0) {
        this.shift();
        continue;
      }
      const part = e.parts[e.index]!;
      const out = part.subarray(e.offset);
      this.advance(e, out.length);
      if (e.left === 0) this.shift();
      return out;
    }
    return null;
  }

  /**
   * PeekNamedPipe's arithmetic. `messageType`: the pipe's type is message, so `data` stops
   * at the end of the head message, whatever the read mode.
   */
  peek(maxBytes: number, messageType: boolean): { data: Buffer; bytesAvailable: number; messageBytesLeft: number } {
    const avail = this.bytes;
    const messageLength = messageType && avail > 0 ? this.left(this.head) : 0;
    let n = Math.min(maxBytes, avail);
    if (messageType && avail > 0) n = Math.min(n, messageLength);
    const data = n === 0 ? Buffer.alloc(0) : Buffer.allocUnsafe(n);
    let written = 0;
    for (let i = this.head; written < n; i++) {
      const e = this.at(i);
      let index = e.index;
      let offset = e.offset;
      while (written < n && index < e.parts.length) {
        const part = e.parts[index]!;
        const take = Math.min(n - written, part.length - offset);
        part.copy(data, written, offset, offset + take);
        written += take;
        index++;
        offset = 0;
      }
    }
    return { data, bytesAvailable: avail, messageBytesLeft: messageType ? messageLength - n : 0 };
  }

  /** Drop the writes after the peer's `writes`-th (the peer closed before they resolved). */
  dropAfter(writes: number): void {
    while (this.count > 0) {
      if (this.seqs[this.seqs.length - 1]! <= writes) break;
      this.bytes -= this.left(this.entries.length - 1);
      this.entries.pop();
      this.seqs.pop();
    }
  }

  clear(): void {
    this.entries = [];
    this.seqs = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Copy `n` unread bytes of `e` into `dst` at `at`, consuming them. */
  private copyOut(e: Entry, dst: Uint8Array, at: number, n: number): number {
    let done = 0;
    while (done < n) {
      const part = e.parts[e.index]!;
      const take = Math.min(n - done, part.length - e.offset);
      dst.set(take === part.length ? part : part.subarray(e.offset, e.offset + take), at + done);
      done += take;
      this.advance(e, take);
    }
    return done;
  }

  private advance(e: Entry, n: number): void {
    e.left -= n;
    this.bytes -= n;
    e.offset += n;
    while (e.index < e.parts.length && e.offset >= e.parts[e.index]!.length) {
      e.offset -= e.parts[e.index]!.length;
      e.index++;
    }
  }

  private shift(): void {
    this.entries[this.head] = undefined as unknown as Entry;
    this.head++;
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.seqs.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * A raw connection to the object manager for bad-input tests: it sends whatever bytes it
 * is given and collects whole frames back, with none of the client library's checks.
 */
import net from 'node:net';
import { encodeRequest, decodeFrame, HEADER_SIZE, type Frame } from '../../src/protocol/codec.ts';
import { FrameSplitter } from '../../src/protocol/framing.ts';
import { PROTOCOL_VERSION, type ReplyOf, type RequestName, type RequestOf } from '../../src/protocol/schema.ts';

export class RawClient {
  /** Frames nobody has asked for yet, in arrival order. */
  private readonly frames: Frame[] = [];
  /** Who awaits a frame: one request id, or any frame (undefined). */
  private readonly waiting: Array<{ requestId: number | undefined; resolve: (f: Frame | undefined) => void }> = [];
  private readonly splitter = new FrameSplitter();
  private nextId = 1;
  private ended = false;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      for (const bytes of this.splitter.push(chunk)) this.deliver(decodeFrame(bytes));
    });
    // The broker may close while we still write: EPIPE / ECONNRESET are expected here.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.ended = true;
      for (const w of this.waiting.splice(0)) w.resolve(undefined);
    });
  }

  static connect(socketPath: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Connect and say a valid hello. */
  static async hello(socketPath: string): Promise<RawClient> {
    const c = await RawClient.connect(socketPath);
    const reply = await c.request('hello', { version: PROTOCOL_VERSION, pid: process.pid, agent: 'raw' });
    if (reply.kind !== 'reply') throw new Error(`hello refused: ${JSON.stringify(reply)}`);
    return c;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private deliver(frame: Frame): void {
    // A request awaiting this id first, then whoever awaits any frame.
    let at = this.waiting.findIndex((w) => w.requestId === frame.requestId);
    if (at < 0) at = this.waiting.findIndex((w) => w.requestId === undefined);
    if (at < 0) {
      this.frames.push(frame);
      return;
    }
    this.waiting.splice(at, 1)[0]!.resolve(frame);
  }

  private take(requestId: number | undefined): Promise<Frame | undefined> {
    const at = this.frames.findIndex((f) => requestId === undefined || f.requestId === requestId);
    if (at >= 0) return Promise.resolve(this.frames.splice(at, 1)[0]);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push({ requestId, resolve }));
  }

  /** The next frame not claimed by a request, or undefined once the connection has closed. */
  next(): Promise<Frame | undefined> {
    return this.take(undefined);
  }

  /** Take every frame received and not claimed yet. */
  drain(): Frame[] {
    return this.frames.splice(0);
  }

  /** The frame answering `requestId`, or undefined once the connection has closed. */
  answer(requestId: number): Promise<Frame | undefined> {
    return this.take(requestId);
  }

  send(bytes: Buffer | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** A fresh request id. */
  id(): number {
    return this.nextId++;
  }

  /** Send a well-formed request and await its reply or error. */
  async request<K extends RequestName>(name: K, body: RequestOf<K>): Promise<Frame> {
    const id = this.id();
    this.send(encodeRequest(id, name, body));
    const f = await this.answer(id);
    if (f === undefined) throw new Error(`connection closed instead of answering ${name}`);
    return f;
  }

  /** Send a request that must succeed; its reply body. */
  async ok<K extends RequestName>(name: K, body: RequestOf<K>): Promise<ReplyOf<K>> {
    const f = await this.request(name, body);
    if (f.kind !== 'reply') throw new Error(`${name} failed: ${JSON.stringify(f)}`);
    return f.body as ReplyOf<K>;
  }

  /** Half-close our side (the broker sees end of stream). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Have the broker close this connection (a length prefix it must refuse) and await the
   * close. The broker drops the connection before its socket closes, so a request on
   * another connection after this sees it gone. Nothing may be left half-sent before it.
   */
  async kick(): Promise<void> {
    this.send(POISON);
    await this.closed;
  }
}

/** A frame built by hand: header fields and a raw payload, the length prefix computed. */
export function rawFrame(kind: number, requestId: number, number: number, payload: Buffer | number[] = []): Buffer {
  const body = Buffer.from(payload);
  const buf = Buffer.alloc(HEADER_SIZE + body.length);
  buf.writeUInt32LE(buf.length - 4, 0);
  buf[4] = kind;
  buf.writeUInt32LE(requestId >>> 0, 5);
  buf.writeUInt16LE(number, 9);
  body.copy(buf, HEADER_SIZE);
  return buf;
}

/** A deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** A length prefix far beyond MAX_FRAME: the broker closes the connection on reading it. */
export const POISON = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/**
 * The raw baseline: plain Unix-domain sockets through Node's `net`, no protocol. An echo
 * server, a 16-byte ping-pong (perf-baselines.md `uds.rtt16`), a pipelined echo flood with
 * one write per message, as the ntipc client writes one frame per request, and one-way
 * length-prefixed messages coalesced per write with their reader.
 */
import net from 'node:net';

/** 16 bytes, as in `uds.rtt16`. */
export const MESSAGE_SIZE = 16;
const message = Buffer.alloc(MESSAGE_SIZE, 0x5a);

/** Echo every chunk back as it arrives. */
export function echoServer(path: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', () => socket.destroy());
    });
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

export function connectRaw(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** `n` round trips of 16 bytes, one in flight; nanoseconds elapsed. */
export function pingPong(socket: net.Socket, n: number): Promise<bigint> {
  return new Promise((resolve) => {
    let received = 0;
    let left = n;
    const t0 = process.hrtime.bigint();
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      while (received >= MESSAGE_SIZE) {
        received -= MESSAGE_SIZE;
        if (--left === 0) {
          const t1 = process.hrtime.bigint();
          socket.off('data', onData);
          resolve(t1 - t0);
          return;
        }
        socket.write(message);
      }
    };
    socket.on('data', onData);
    socket.write(message);
  });
}

/**
 * Send `count` 16-byte messages with at most `window` unanswered, one write each, and
 * count the echoes. Resolves with the monotonic start and end (comparable across
 * processes: hrtime is CLOCK_MONOTONIC).
 */
export function flood(socket: net.Socket, count: number, window: number): Promise<{ t0: string; t1: string; count: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let bytes = 0;
    const total = count * MESSAGE_SIZE;
    const t0 = process.hrtime.bigint();
    const onData = (chunk: Buffer) => {
      const before = Math.floor(bytes / MESSAGE_SIZE);
      bytes += chunk.length;
      if (bytes >= total) {
        const t1 = process.hrtime.bigint();
        socket.off('data', onData);
        resolve({ t0: String(t0), t1: String(t1), count });
        return;
      }
      let answered = Math.floor(bytes / MESSAGE_SIZE) - before;
      while (answered-- > 0 && sent < count) {
        sent++;
        socket.write(message);
      }
    };
    socket.on('data', onData);
    for (; sent < Math.min(window, count); sent++) socket.write(message);
  });
}

/**
 * One-way framed messages, the raw floor of a message channel: `count` messages of `size`
 * bytes, each behind a u32 (LE) length, `batch` of them coalesced per write and each write
 * awaited (its callback), as the ntipc client joins the frames of one turn into one write.
 * Resolves with the start instant.
 */
export async function framedSend(socket: net.Socket, count: number, size: number, batch: number): Promise<bigint> {
  const m = Buffer.alloc(size, 0x33);
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < count; ) {
    const n = Math.min(batch, count - sent);
    const buf = Buffer.allocUnsafe(n * (4 + size));
    for (let i = 0; i < n; i++) {
      buf.writeUInt32LE(size, i * (4 + size));
      m.copy(buf, i * (4 + size) + 4);
    }
    await new Promise<void>((resolve, reject) => socket.write(buf, (e) => (e ? reject(e) : resolve())));
    sent += n;
  }
  return t0;
}

/**
 * Split the length-prefixed messages arriving on `socket`, a subarray each (as a reader of
 * such a protocol would), calling `onMessage` with each. Returns the function that stops it.
 */
export function readFramed(socket: net.Socket, onMessage: (m: Buffer) => void): () => void {
  let rest: Buffer | undefined;
  const onData = (chunk: Buffer) => {
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    rest = undefined;
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = buf.readUInt32LE(pos);
      if (buf.length - pos - 4 < len) break;
      const m = buf.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      onMessage(m);
    }
    if (pos < buf.length) rest = buf.subarray(pos);
  };
  socket.on('data', onData);
  return () => socket.off('data', onData);
}

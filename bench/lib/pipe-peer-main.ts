/**
 * One side of the named-pipe benchmarks in its own process, driven over the IPC channel
 * (`{ id, op, args }` → `{ id, ok, value }`, never on a measured path): a named-pipe server
 * or client, or a raw Unix-socket peer for the baselines. Each op runs its whole loop here
 * and reports elapsed nanoseconds or monotonic instants (process.hrtime is CLOCK_MONOTONIC,
 * so two processes' readings compare).
 */
import { once } from 'node:events';
import net from 'node:net';
import { connect, NamedPipe, NamedPipeServer, type Connection, type NamedPipeEnd } from '../../src/client/index.ts';

const hr = () => process.hrtime.bigint();
let connection: Connection | undefined;
let server: NamedPipeServer | undefined;
let end: NamedPipeEnd | undefined;
let rawServer: net.Server | undefined;
let raw: net.Socket | undefined;
let rawAccepted: Promise<net.Socket> | undefined;
let receiving: Promise<string> | undefined;

function pipe(): NamedPipeEnd {
  if (end === undefined) throw new Error('no pipe end');
  return end;
}

/** Read `count` length-prefixed (u32) messages from `socket`, a subarray each, as a reader of such a protocol would; the end instant. */
function countFramed(socket: net.Socket, count: number): Promise<string> {
  return new Promise((resolve) => {
    let seen = 0;
    let rest: Buffer | undefined;
    let last: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
      rest = undefined;
      let pos = 0;
      while (buf.length - pos >= 4) {
        const len = buf.readUInt32LE(pos);
        if (buf.length - pos - 4 < len) break;
        last = buf.subarray(pos + 4, pos + 4 + len);
        pos += 4 + len;
        seen++;
      }
      if (pos < buf.length) rest = buf.subarray(pos);
      if (seen >= count && last !== undefined) {
        socket.off('data', onData);
        resolve(String(hr()));
      }
    };
    socket.on('data', onData);
  });
}

const ops: Record<string, (...args: any[]) => unknown> = {
  async connect(socketPath: string) {
    connection = await connect({ socketPath, autoStart: false });
  },
  async pipeCreate(name: string, bufferSize: number) {
    server = await NamedPipeServer.create(name, { connection, type: 'message', readMode: 'message', maxInstances: 1, inBufferSize: bufferSize, outBufferSize: bufferSize });
    end = server;
  },
  async pipeOpen(name: string) {
    const c = await NamedPipe.open(name, { connection });
    await c.setState({ readMode: 'message' });
    end = c;
  },
  async pipeConnected() {
    await server!.connect();
  },
  /** Answer every message with itself until the other end closes. */
  pipeEcho() {
    const p = pipe();
    const loop = (): void => {
      p.readMessage().then(
        (m) => {
          p.write(m).catch(() => {});
          loop();
        },
        () => {},
      );
    };
    loop();
  },
  /** `n` transactions of `size` bytes, one at a time; elapsed ns. */
  async pipeTransact(n: number, size: number) {
    const p = pipe();
    const m = Buffer.alloc(size, 0x5a);
    const t0 = hr();
    for (let i = 0; i < n; i++) await p.transact(m, size);
    return String(hr() - t0);
  },
  /** Write `count` messages of `size` bytes, awaiting every `window`-th (writes resolve in order); the start instant. */
  async pipeSend(count: number, size: number, window: number) {
    const p = pipe();
    const m = Buffer.alloc(size, 0x33);
    const t0 = hr();
    let last: Promise<number> | undefined;
    for (let i = 0; i < count; i++) {
      last = p.write(m);
      if (i % window === window - 1) await last;
    }
    await last;
    return String(t0);
  },
  /** Arm a reader of `count` messages: 'copy' reads each into a record buffer of its own, 'message' takes each as a Buffer. */
  pipeReceiveStart(count: number, size: number, how: 'copy' | 'message') {
    const p = pipe();
    const record = Buffer.alloc(size);
    receiving = (async () => {
      for (let i = 0; i < count; i++) {
        if (how === 'copy') await p.read(record);
        else await p.readMessage();
      }
      return String(hr());
    })();
  },
  receiveWait: () => receiving,
  async pipeClose() {
    await end?.close();
    end = undefined;
    server = undefined;
  },

  async rawListen(path: string) {
    rawServer = net.createServer();
    rawAccepted = once(rawServer, 'connection').then(([s]) => (raw = s as net.Socket));
    await new Promise<void>((resolve) => rawServer!.listen(path, resolve));
  },
  async rawConnect(path: string) {
    raw = net.createConnection({ path });
    await once(raw, 'connect');
  },
  async rawAccepted() {
    await rawAccepted;
  },
  rawEcho() {
    raw!.on('data', (chunk: Buffer) => raw!.write(chunk));
  },
  /** `n` round trips of `size` bytes, one in flight; elapsed ns. */
  rawPingPong(n: number, size: number) {
    const socket = raw!;
    const m = Buffer.alloc(size, 0x5a);
    return new Promise<string>((resolve) => {
      let got = 0;
      let left = n;
      const t0 = hr();
      const onData = (chunk: Buffer) => {
        got += chunk.length;
        while (got >= size) {
          got -= size;
          if (--left === 0) {
            socket.off('data', onData);
            resolve(String(hr() - t0));
            return;
          }
          socket.write(m);
        }
      };
      socket.on('data', onData);
      socket.write(m);
    });
  },
  /** `count` writes of `size` bytes, waiting for 'drain' when write() says so; the start instant. */
  async rawStreamSend(count: number, size: number) {
    const m = Buffer.alloc(size, 0x33);
    const t0 = hr();
    for (let i = 0; i < count; i++) if (!raw!.write(m)) await once(raw!, 'drain');
    return String(t0);
  },
  /** Arm a reader of `bytes` bytes, copying every chunk into a record buffer of `size`. */
  rawStreamReceiveStart(bytes: number, size: number) {
    const socket = raw!;
    const record = Buffer.alloc(size);
    receiving = new Promise((resolve) => {
      let got = 0;
      let at = 0;
      const onData = (chunk: Buffer) => {
        let pos = 0;
        while (pos < chunk.length) {
          const n = Math.min(size - at, chunk.length - pos);
          chunk.copy(record, at, pos, pos + n);
          pos += n;
          at = (at + n) % size;
        }
        got += chunk.length;
        if (got >= bytes) {
          socket.off('data', onData);
          resolve(String(hr()));
        }
      };
      socket.on('data', onData);
    });
  },
  /** `count` length-prefixed messages of `size` bytes, `batch` coalesced per write, each write awaited; the start instant. */
  async rawFramedSend(count: number, size: number, batch: number) {
    const m = Buffer.alloc(size, 0x33);
    const t0 = hr();
    for (let sent = 0; sent < count; ) {
      const n = Math.min(batch, count - sent);
      const buf = Buffer.allocUnsafe(n * (4 + size));
      for (let i = 0; i < n; i++) {
        buf.writeUInt32LE(size, i * (4 + size));
        m.copy(buf, i * (4 + size) + 4);
      }
      await new Promise<void>((resolve) => raw!.write(buf, () => resolve()));
      sent += n;
    }
    return String(t0);
  },
  rawFramedReceiveStart(count: number) {
    receiving = countFramed(raw!, count);
  },
  rawClose() {
    raw?.destroy();
    rawServer?.close();
    raw = undefined;
  },
  /** Peak resident set of this process so far, in bytes. */
  maxRss: () => process.resourceUsage().maxRSS * 1024,
};

process.on('message', async (m: { id: number; op: string; args: unknown[] }) => {
  try {
    const op = ops[m.op];
    if (!op) throw new Error(`unknown op ${m.op}`);
    process.send!({ id: m.id, ok: true, value: await op(...m.args) });
  } catch (e) {
    process.send!({ id: m.id, ok: false, message: (e as Error).stack ?? String(e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, ok: true });

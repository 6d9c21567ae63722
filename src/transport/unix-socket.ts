/** Frames over a Unix-domain stream socket. */
import net from 'node:net';
import { FrameSplitter } from '../protocol/framing.ts';
import { peerCredentials } from '../native/peer-credentials.ts';
import type { ConnectionHandler, Listener, PeerCredentials, Transport } from './transport.ts';

class SocketTransport implements Transport {
  onFrame: (frame: Buffer) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  private readonly splitter = new FrameSplitter();
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly peer: PeerCredentials | undefined,
  ) {
    socket.setNoDelay?.(true);
    let failure: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      let frames: Buffer[];
      try {
        frames = this.splitter.push(chunk);
      } catch (e) {
        failure = e as Error;
        this.close();
        return;
      }
      for (const frame of frames) {
        if (this.closed) return;
        this.onFrame(frame);
      }
    });
    socket.on('error', (e) => {
      failure ??= e;
    });
    socket.on('close', () => {
      this.closed = true;
      this.onClose(failure);
    });
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    // Frames sent in one turn of the event loop leave in one write (writev).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(frame);
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  setKeepAlive(on: boolean): void {
    if (on) this.socket.ref();
    else this.socket.unref();
  }
}

/** Connect to a listening socket. Rejects with the socket error (ENOENT, ECONNREFUSED, …). */
export function connectUnix(path: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new SocketTransport(socket, undefined));
    });
  });
}

/** Listen on `path` (which must not exist). */
export function listenUnix(path: string, onConnection: ConnectionHandler): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      onConnection(new SocketTransport(socket, fd === undefined ? undefined : peerCredentials(fd)));
    });
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve({
        address: path,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

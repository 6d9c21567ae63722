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

  /**
   * The first frame of a turn of the event loop is written at once (a ping-pong pays no
   * batching delay); frames that follow it in the same turn are joined into one write.
   */
  send(frame: Buffer): void {
    if (this.closed) return;
    if (!this.writtenThisTurn) {
      this.writtenThisTurn = true;
      process.nextTick(this.flush);
      this.socket.write(frame);
      return;
    }
    this.batch.push(frame);
  }

  private writtenThisTurn = false;
  private batch: Buffer[] = [];
  private readonly flush = (): void => {
    this.writtenThisTurn = false;
    if (this.batch.length === 0) return;
    const frames = this.batch;
    this.batch = [];
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Frames sent in this turn (a last reply, an error before closing) go out first; then
    // the socket closes whatever the peer does.
    this.flush();
    this.socket.destroySoon();
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

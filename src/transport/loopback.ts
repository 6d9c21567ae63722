/**
 * An in-process transport pair, for tests: frames cross as copies on the microtask queue,
 * so everything above the transport (codec, session, kernel, client) runs as it does over
 * a socket, without one.
 */
import type { ConnectionHandler, Listener, PeerCredentials, Transport } from './transport.ts';

class LoopbackEnd implements Transport {
  onFrame: (frame: Buffer) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  other!: LoopbackEnd;
  closed = false;
  private keepAlive: NodeJS.Timeout | undefined;
  constructor(readonly peer: PeerCredentials | undefined) {}

  send(frame: Buffer): void {
    if (this.closed) return;
    const copy = Buffer.from(frame);
    queueMicrotask(() => {
      if (!this.other.closed) this.other.onFrame(copy);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.setKeepAlive(false);
    queueMicrotask(() => {
      this.onClose();
      if (!this.other.closed) {
        this.other.closed = true;
        this.other.setKeepAlive(false);
        this.other.onClose();
      }
    });
  }

  /**
   * No socket holds the event loop open here, and the broker's timers do not either: while
   * a client has requests in flight (a timed wait), an idle timer stands in for the socket.
   */
  setKeepAlive(on: boolean): void {
    if (on && this.keepAlive === undefined && !this.closed) this.keepAlive = setInterval(() => {}, 0x7fff_ffff);
    else if (!on && this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}

/** A listener whose `connect` yields the client end of a new pair; the pid is the caller's to choose. */
export function createLoopback(onConnection: ConnectionHandler): Listener & { connect(pid?: number): Transport } {
  return {
    address: 'loopback',
    connect(pid = process.pid): Transport {
      const client = new LoopbackEnd(undefined);
      const server = new LoopbackEnd({ pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
      client.other = server;
      server.other = client;
      onConnection(server);
      return client;
    },
    close: async () => {},
  };
}

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
    queueMicrotask(() => {
      this.onClose();
      if (!this.other.closed) {
        this.other.closed = true;
        this.other.onClose();
      }
    });
  }

  setKeepAlive(): void {}
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

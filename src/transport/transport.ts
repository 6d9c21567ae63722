/**
 * The seam between the two sides and the bytes: a transport carries whole frames. The
 * client and the broker know this interface; the Unix socket and the in-process loopback
 * implement it.
 */

/** What the listening side knows of a peer from the OS (SO_PEERCRED), when it can. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface Transport {
  /** Send one whole frame (length prefix included). */
  send(frame: Buffer): void;
  /** Close; `onClose` follows. */
  close(): void;
  /** Called with each whole frame received. */
  onFrame: (frame: Buffer) => void;
  /** Called once when the transport closes, with the reason if it was an error. */
  onClose: (error?: Error) => void;
  /** Whether this transport keeps the Node event loop alive (clients unref it when idle). */
  setKeepAlive(on: boolean): void;
  /** Credentials of the peer, on the listening side, when the OS tells them. */
  readonly peer: PeerCredentials | undefined;
}

export interface Listener {
  /** Where clients reach it (a socket path, or a label for loopback). */
  readonly address: string;
  close(): Promise<void>;
}

export type ConnectionHandler = (transport: Transport) => void;

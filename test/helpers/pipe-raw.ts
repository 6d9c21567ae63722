/**
 * A raw connection to a pipe endpoint for bad-input tests: it sends whatever bytes it is
 * given and collects the control frames the endpoint answers with, with none of the
 * dialer's checks.
 */
import net from 'node:net';
import { PipeFrameParser, type ControlFrame } from '../../src/protocol/pipe-wire.ts';

export interface RawResult {
  /** Control frames received, in order. */
  replies: ControlFrame[];
  /** The endpoint closed the connection. */
  closed: boolean;
  /** With keepOpen: the socket, after the first reply. */
  socket?: net.Socket;
}

/**
 * Connect to `address`, send `bytes`, and resolve once the endpoint has closed the
 * connection, or (keepOpen) once it has answered with a first control frame.
 */
export function rawHandshake(address: string, bytes: Buffer, opts: { keepOpen?: boolean } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const replies: ControlFrame[] = [];
    const socket = net.createConnection({ path: address });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      resolve({ replies, closed, socket: opts.keepOpen ? socket : undefined });
    };
    const parser = new PipeFrameParser({
      control(frame) {
        replies.push(frame);
        if (opts.keepOpen) finish(false);
      },
      data() {},
      dataEnd() {},
      fail(e) {
        if (!done) reject(e);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (e) {
        parser.sink.fail(e as Error);
      }
    });
    socket.on('error', () => {}); // EPIPE / ECONNRESET when the endpoint hangs up first
    socket.once('close', () => finish(true));
    socket.once('connect', () => socket.write(bytes));
  });
}

/**
 * A Node Duplex over one pipe channel, for byte streams and stream.pipeline(). A write's
 * callback waits for the channel's write to resolve, so the pipe's buffer is the stream's
 * backpressure; bytes are read only when the stream wants more, so a slow consumer makes
 * the other end's writes wait. The stream ends ('end') when the other end closes.
 */
import { Duplex } from 'node:stream';
import { IpcError } from '../errors.ts';
import type { PipeChannel } from './pipe-channel.ts';

/** Ways a read ends that mean "no more bytes", not a failure: the other end closed, or this one did. */
const END_OF_STREAM = new Set(['ERROR_BROKEN_PIPE', 'ERROR_OPERATION_ABORTED', 'ERROR_INVALID_HANDLE']);

export function channelStream(channel: PipeChannel): Duplex {
  let reading: AbortController | undefined;
  return new Duplex({
    allowHalfOpen: true,
    write(chunk: Buffer, _encoding, callback) {
      channel.write(chunk).then(
        () => callback(),
        (e: Error) => callback(e),
      );
    },
    final(callback) {
      // Writes are already resolved when final runs: nothing is left to flush. Closing is
      // the pipe handle's business (a pipe has no half-close).
      callback();
    },
    read() {
      if (reading !== undefined) return;
      const controller = (reading = new AbortController());
      channel.readChunk(controller.signal).then(
        (chunk) => {
          reading = undefined;
          this.push(chunk);
        },
        (e: unknown) => {
          reading = undefined;
          if (controller.signal.aborted) return;
          if (e instanceof IpcError && END_OF_STREAM.has(e.code)) this.push(null);
          else this.destroy(e as Error);
        },
      );
    },
    destroy(error, callback) {
      // A read still pending would take bytes nobody will see: give them back to the pipe.
      reading?.abort();
      callback(error);
    },
  });
}

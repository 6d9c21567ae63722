/**
 * One connection on the broker side: the hello, then requests in, replies out. A frame
 * that breaks the protocol closes this connection and nothing else; a request that fails
 * gets an error reply; an exception the kernel did not expect is logged and answered.
 */
import { StatusError, wireStatus, type StatusCode } from '../errors.ts';
import { decodeFrame, encodeError, encodeReply, type Frame } from '../protocol/codec.ts';
import { ProtocolError } from '../protocol/fields.ts';
import { PROTOCOL_VERSION, type ReplyOf, type RequestName } from '../protocol/schema.ts';
import { traceFrame } from '../protocol/trace.ts';
import { PENDING, type KernelRequest } from '../kernel/kernel.ts';
import type { CompletionSink, Thread } from '../kernel/process.ts';
import type { Transport } from '../transport/transport.ts';
import type { Outbox } from './reply-barrier.ts';
import type { Broker } from './server.ts';

export class Session implements CompletionSink {
  private thread: Thread | undefined;
  private label = 'new';
  /** Replies wait here while durable state they may follow is not yet on disk. */
  private readonly outbox: Outbox;

  constructor(
    private readonly broker: Broker,
    private readonly transport: Transport,
  ) {
    this.outbox = broker.barrier.outbox((frame) => {
      this.trace(frame);
      this.transport.send(frame);
    });
    transport.onFrame = (frame) => this.receive(frame);
    transport.onClose = (error) => this.closed(error);
  }

  reply<K extends RequestName>(requestId: number, name: K, reply: ReplyOf<K>): void {
    let frame: Buffer;
    try {
      frame = encodeReply(requestId, name, reply);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.fail(requestId, name, 'ERROR_INSUFFICIENT_BUFFER', e.message);
      return;
    }
    this.outbox.send(frame);
  }

  fail(requestId: number, name: RequestName, code: StatusCode, detail?: string): void {
    this.outbox.send(encodeError(requestId, name, wireStatus(code), detail));
  }

  /** Refuse a hello and close: the error goes at once, ahead of the close. */
  private refuse(requestId: number, code: StatusCode, detail: string): void {
    const frame = encodeError(requestId, 'hello', wireStatus(code), detail);
    this.trace(frame);
    this.transport.send(frame);
    this.transport.close();
  }

  private trace(frame: Buffer): void {
    if (this.broker.tracer) this.broker.tracer(traceFrame(this.label, '<', decodeFrame(frame)));
  }

  private receive(bytes: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
      if (frame.kind !== 'request') throw new ProtocolError(`a client sent a ${frame.kind} frame`);
    } catch (e) {
      this.violation(e as Error);
      return;
    }
    this.broker.tracer?.(traceFrame(this.label, '>', frame));
    if (this.thread === undefined) {
      this.hello(frame);
      return;
    }
    this.request(frame.requestId, frame.name, frame.body);
  }

  private hello(frame: Frame & { kind: 'request' }): void {
    if (frame.name !== 'hello') {
      this.violation(new ProtocolError(`${frame.name} before hello`));
      return;
    }
    const { version, pid, agent } = frame.body as { version: number; pid: number; agent: string };
    if (version !== PROTOCOL_VERSION) {
      this.refuse(frame.requestId, 'ERROR_REVISION_MISMATCH', `broker speaks ${PROTOCOL_VERSION}, client ${version}`);
      return;
    }
    // The OS's word on who is calling wins over the client's own; only our own user (or
    // root) may use this object manager, whatever the directory's mode says.
    const peer = this.transport.peer;
    const uid = process.getuid?.();
    if (peer !== undefined && uid !== undefined && peer.uid !== uid && peer.uid !== 0) {
      this.refuse(frame.requestId, 'ERROR_ACCESS_DENIED', `uid ${peer.uid} may not use this object manager`);
      return;
    }
    const realPid = peer?.pid ?? pid;
    this.thread = this.broker.kernel.connect(realPid, this, agent);
    // Who it is, for the System V permission checks: the OS's word, else this broker's own user.
    this.thread.process.credentials ??= peer ? { uid: peer.uid, gid: peer.gid } : { uid: uid ?? 0, gid: process.getgid?.() ?? 0 };
    this.label = `${realPid}.${this.thread.id}`;
    this.broker.sessionOpened();
    this.reply(frame.requestId, 'hello', { threadId: this.thread.id, brokerPid: process.pid });
  }

  private request(requestId: number, name: RequestName, body: Record<string, unknown>): void {
    try {
      switch (name) {
        case 'hello':
          throw new StatusError('ERROR_INVALID_FUNCTION', 'hello was already said');
        case 'status':
          this.reply(requestId, name, { status: this.broker.status() });
          return;
        case 'shutdown':
          this.reply(requestId, name, {});
          this.broker.barrier.afterReplies(() => this.broker.shutdown());
          return;
        default: {
          const reply = this.broker.kernel.dispatch(this.thread!, requestId, name as KernelRequest, body as never);
          if (reply !== PENDING) this.reply(requestId, name, reply as never);
        }
      }
    } catch (e) {
      if (e instanceof StatusError) this.fail(requestId, name, e.code, e.detail);
      else {
        this.broker.log(`internal error in ${name}: ${(e as Error).stack ?? e}`);
        this.fail(requestId, name, 'ERROR_INVALID_FUNCTION', 'internal error');
      }
    } finally {
      this.broker.afterRequest();
    }
  }

  private violation(error: Error): void {
    this.broker.log(`closing connection ${this.label}: ${error.message}`);
    this.transport.close();
  }

  private closed(error?: Error): void {
    if (error && !(error instanceof ProtocolError)) this.broker.log(`connection ${this.label} failed: ${error.message}`);
    this.outbox.close();
    if (this.thread !== undefined) {
      this.broker.kernel.disconnect(this.thread);
      this.thread = undefined;
      this.broker.sessionClosed();
      this.broker.afterRequest();
    }
  }
}

/**
 * Where a named-pipe client and server process meet once the object manager has matched
 * them: each server process listens on one socket of its own (started lazily), the client
 * connects to it and presents the token the object manager gave it, and both exchange how
 * much unread data they hold (their buffer sizes). The result is a PipeChannel at each end.
 *
 * Trust: the listener takes connections only from processes of its own user (SO_PEERCRED)
 * presenting a token it expects, each token once; the client checks that the process it
 * reached is the server the object manager named.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { IpcError, statusFromWire, wireStatus } from '../errors.ts';
import { peerCredentials } from '../native/peer-credentials.ts';
import { encodeControl, PIPE_WIRE_VERSION, PipeFrameParser, type ControlFrame, type FrameSink } from '../protocol/pipe-wire.ts';
import { ensurePrivateDir, MAX_SOCKET_PATH, runtimeDir } from '../transport/paths.ts';
import { PipeChannel, type ChannelConfig } from './pipe-channel.ts';

/** A connection that has not said hello by then is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** This process's listener for pipe data connections. */
export interface PipeEndpoint {
  /** Where clients connect (on Linux an abstract socket name, starting with NUL). */
  readonly address: string;
  /**
   * Expect one client presenting `token` (a fresh token per listening generation of an
   * instance). `channel` resolves once it has connected and the handshake is done.
   * cancel() stops expecting it: `channel` (if still pending) rejects
   * ERROR_OPERATION_ABORTED and a later arrival with that token is refused.
   */
  expect(token: string, config: ChannelConfig): { channel: Promise<PipeChannel>; cancel(): void };
}

/** 128 random bits, hex. */
export function newPipeToken(): string {
  return randomBytes(16).toString('hex');
}

const myUid = (): number | undefined => process.getuid?.();

function socketFd(socket: net.Socket): number | undefined {
  return (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
}

function parserFor(socket: net.Socket, sink: FrameSink): PipeFrameParser {
  const parser = new PipeFrameParser(sink);
  socket.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (e) {
      parser.sink.fail(e as Error);
    }
  });
  return parser;
}

/** A sink for the handshake: one control frame, anything else is a protocol error. */
function handshakeSink(onControl: (frame: ControlFrame) => void, onFail: (e: Error) => void): FrameSink {
  const early = () => {
    throw new Error('data before the handshake');
  };
  return { control: onControl, data: early, dataEnd: early, fail: onFail };
}

/** A config the wire can carry, or ERROR_INVALID_PARAMETER. */
function checkConfig(config: ChannelConfig, syscall: string): void {
  const q = config?.receiveQuota;
  if (!Number.isInteger(q) || q < 0 || q > 0xffff_ffff || (config.type !== 'byte' && config.type !== 'message')) {
    throw new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, 'a channel needs a type and a receive quota of 0 to 2^32-1 bytes');
  }
}

interface Expected {
  config: ChannelConfig;
  resolve(channel: PipeChannel): void;
  reject(e: Error): void;
}

class Endpoint implements PipeEndpoint {
  private readonly expected = new Map<string, Expected>();

  constructor(readonly address: string) {}

  expect(token: string, config: ChannelConfig): { channel: Promise<PipeChannel>; cancel(): void } {
    if (typeof token !== 'string' || token.length === 0 || this.expected.has(token)) {
      throw new IpcError('ERROR_INVALID_PARAMETER', 'expect', undefined, 'a fresh token is needed');
    }
    checkConfig(config, 'expect');
    let entry!: Expected;
    const channel = new Promise<PipeChannel>((resolve, reject) => (entry = { config: { ...config }, resolve, reject }));
    // Nobody may be waiting when it is cancelled: the rejection must not go unhandled.
    channel.catch(() => {});
    this.expected.set(token, entry);
    return {
      channel,
      cancel: () => {
        if (this.expected.get(token) !== entry) return;
        this.expected.delete(token);
        entry.reject(new IpcError('ERROR_OPERATION_ABORTED', 'ConnectNamedPipe', undefined, 'no longer expecting this client'));
      },
    };
  }

  accept(socket: net.Socket): void {
    socket.on('error', () => {});
    const fd = socketFd(socket);
    const cred = fd === undefined ? undefined : peerCredentials(fd);
    const uid = myUid();
    if (cred !== undefined && uid !== undefined && cred.uid !== uid) {
      socket.destroy();
      return;
    }
    // Until a client has said hello, it keeps nothing alive and gets only so long.
    socket.unref();
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    const done = () => clearTimeout(timer);
    socket.once('close', done);
    const refuse = (status: number) => {
      parser.stop();
      done();
      socket.end(encodeControl('refuse', { status }));
    };
    const parser = parserFor(
      socket,
      handshakeSink(
        (frame) => {
          if (frame.name !== 'hello') throw new Error(`${frame.name} before hello`);
          const { version, token, pid, quota } = frame.body;
          if (version !== PIPE_WIRE_VERSION) return refuse(wireStatus('ERROR_REVISION_MISMATCH'));
          const entry = this.expected.get(token);
          if (entry === undefined) return refuse(wireStatus('ERROR_PIPE_NOT_CONNECTED'));
          this.expected.delete(token);
          done();
          socket.off('close', done);
          socket.write(encodeControl('welcome', { pid: process.pid, quota: entry.config.receiveQuota }));
          entry.resolve(new PipeChannel(socket, parser, entry.config, { pid: cred?.pid ?? pid, quota }));
        },
        () => {
          parser.stop();
          socket.destroy();
        },
      ),
    );
  }
}

function listenAddress(): string {
  const tag = `${myUid() ?? 0}-${process.pid}-${randomBytes(6).toString('hex')}`;
  if (process.platform === 'linux') return `\0ntipc-pipe-${tag}`;
  // No abstract sockets: a socket file in the private runtime directory, removed at exit.
  const file = path.join(runtimeDir(), `pipe-${tag}.sock`);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH) throw new IpcError('ERROR_FILENAME_EXCED_RANGE', 'listen', file);
  ensurePrivateDir(file);
  process.once('exit', () => fs.rmSync(file, { force: true }));
  return file;
}

async function startEndpoint(): Promise<Endpoint> {
  const address = listenAddress();
  const endpoint = new Endpoint(address);
  const server = net.createServer((socket) => endpoint.accept(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: address }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  // The listener alone never keeps the process alive; what waits on it (a connect) does.
  server.unref();
  return endpoint;
}

let endpoint: Promise<Endpoint> | undefined;

/** This process's (this thread's) pipe listener, started on first use. */
export function pipeEndpoint(): Promise<PipeEndpoint> {
  endpoint ??= startEndpoint().catch((e: unknown) => {
    endpoint = undefined;
    throw new IpcError('ERROR_PIPE_NOT_CONNECTED', 'listen', undefined, (e as Error).message);
  });
  return endpoint;
}

/**
 * Client: connect to the server process's endpoint, present `token`, check that the process
 * reached is `serverPid` (SO_PEERCRED), exchange buffer sizes; resolves with the connected
 * channel. Fails ERROR_PIPE_NOT_CONNECTED when the server process is gone or refuses the
 * token, ERROR_ACCESS_DENIED when another process (or another user's) answers.
 */
export function dialPipe(address: string, token: string, serverPid: number, config: ChannelConfig): Promise<PipeChannel> {
  const syscall = 'CreateFile';
  if (typeof address !== 'string' || address.length === 0 || typeof token !== 'string' || !Number.isInteger(serverPid)) {
    return Promise.reject(new IpcError('ERROR_INVALID_PARAMETER', syscall, undefined, 'an endpoint, a token and a server pid are needed'));
  }
  try {
    checkConfig(config, syscall);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise<PipeChannel>((resolve, reject) => {
    let settled = false;
    const fail = (code: 'ERROR_PIPE_NOT_CONNECTED' | 'ERROR_ACCESS_DENIED' | 'ERROR_REVISION_MISMATCH', detail: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new IpcError(code, syscall, undefined, detail));
    };
    const socket = net.createConnection({ path: address });
    socket.on('error', (e) => fail('ERROR_PIPE_NOT_CONNECTED', `the server process cannot be reached: ${e.message}`));
    socket.once('close', () => fail('ERROR_PIPE_NOT_CONNECTED', 'the server process closed the connection'));
    const parser = parserFor(
      socket,
      handshakeSink(
        (frame) => {
          if (frame.name === 'refuse') {
            const code = statusFromWire(frame.body.status) === 'ERROR_REVISION_MISMATCH' ? 'ERROR_REVISION_MISMATCH' : 'ERROR_PIPE_NOT_CONNECTED';
            return fail(code, 'the server process refused the connection');
          }
          if (frame.name !== 'welcome') throw new Error(`${frame.name} instead of welcome`);
          if (frame.body.pid !== serverPid) return fail('ERROR_ACCESS_DENIED', `process ${frame.body.pid} answered for server ${serverPid}`);
          settled = true;
          resolve(new PipeChannel(socket, parser, { ...config }, { pid: serverPid, quota: frame.body.quota }));
        },
        (e) => fail('ERROR_PIPE_NOT_CONNECTED', `the server process broke the handshake: ${e.message}`),
      ),
    );
    socket.once('connect', () => {
      const fd = socketFd(socket);
      const cred = fd === undefined ? undefined : peerCredentials(fd);
      const uid = myUid();
      if (cred !== undefined && (cred.pid !== serverPid || (uid !== undefined && cred.uid !== uid))) {
        return fail('ERROR_ACCESS_DENIED', `the endpoint belongs to process ${cred.pid} (uid ${cred.uid}), not server ${serverPid}`);
      }
      socket.write(encodeControl('hello', { version: PIPE_WIRE_VERSION, token, pid: process.pid, quota: config.receiveQuota }));
    });
  });
}

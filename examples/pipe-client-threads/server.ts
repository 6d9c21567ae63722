/**
 * The seed's multi-instance pipe server. The main loop takes an instance of the pipe, waits
 * for a client to connect to it (ConnectNamedPipe) and hands it to a client thread — here an
 * async task — which reads requests and writes answers until the client goes away; the
 * loop meanwhile goes on to the next instance, so that every connected client has its own
 * instance and its own thread.
 *
 * The pipe has at most `maxInstances` instances. The seed's loop creates a new one each
 * time round and would fail ERROR_PIPE_BUSY past the maximum; this one creates instances
 * while there are fewer, and otherwise waits for a client thread to finish and reuses its
 * instance: the thread disconnects it (DisconnectNamedPipe) and the loop connects it again.
 * No instance is closed before the end, so the pipe's name exists all along and a waiting
 * client never finds it gone.
 */
import { IpcError, NamedPipeServer } from '../../src/client/index.ts';
import { answer, encode, parseRequest } from './messages.ts';

export interface ServerReport {
  /** Clients connected, one client thread each. */
  sessions: number;
  /** Requests answered in all. */
  requests: number;
  instances: number;
  /** The most client threads running at once. */
  peak: number;
  /** What went wrong in a client thread, if anything did. */
  failures: string[];
}

export class ClientThreadsServer {
  /** Instance n is instances[n - 1]. */
  private readonly instances: NamedPipeServer[] = [];
  /** Instances serving no client: just created, or disconnected by their thread. */
  private readonly idle: number[] = [];
  private readonly threads = new Set<Promise<void>>();
  private running = 0;
  private readonly report: ServerReport = { sessions: 0, requests: 0, instances: 0, peak: 0, failures: [] };

  private constructor(
    readonly name: string,
    readonly maxInstances: number,
    private readonly log: (line: string) => void,
  ) {}

  /** The server with its first instance listening: clients may come from now on. */
  static async create(name: string, maxInstances: number, log: (line: string) => void): Promise<ClientThreadsServer> {
    const server = new ClientThreadsServer(name, maxInstances, log);
    server.idle.push(await server.createInstance());
    return server;
  }

  /**
   * The main loop: connect `clients` clients, one client thread each, then wait for the
   * threads. `signal` stops the loop early (clients that will never come); the threads
   * still run to their end. Every instance is closed before it resolves.
   */
  async run(clients: number, signal: AbortSignal): Promise<ServerReport> {
    const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    stopped.catch(() => {});
    try {
      while (this.report.sessions < clients) {
        const n = await Promise.race([this.nextInstance(), stopped]);
        const pipe = this.instances[n - 1]!;
        try {
          await pipe.connect({ signal }); // ConnectNamedPipe: wait for a client
        } catch (e) {
          if (!(e instanceof IpcError && e.code === 'ERROR_NO_DATA')) throw e;
          // A client came and closed before we got to it: free the instance and go on.
          await pipe.disconnect();
          this.idle.push(n);
          continue;
        }
        this.report.sessions++;
        const thread = this.clientThread(n); // CreateThread(ClientThread, h)
        this.threads.add(thread);
        void thread.finally(() => this.threads.delete(thread));
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      await Promise.all(this.threads);
      for (const pipe of this.instances) await pipe.close();
    }
    return this.report;
  }

  /** An instance for the next client: an idle one, else a new one, else the first a thread gives back. */
  private async nextInstance(): Promise<number> {
    for (;;) {
      const n = this.idle.shift();
      if (n !== undefined) return n;
      if (this.instances.length < this.maxInstances) return this.createInstance();
      // Every instance is serving a client: wait for one of their threads to end.
      await Promise.race(this.threads);
    }
  }

  /** CreateNamedPipe(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, maxInstances, ...) */
  private async createInstance(): Promise<number> {
    const pipe = await NamedPipeServer.create(this.name, { type: 'message', readMode: 'message', maxInstances: this.maxInstances });
    this.instances.push(pipe);
    this.report.instances = this.instances.length;
    return this.instances.length;
  }

  /** The client thread of instance n: answer each request until the client closes its end. */
  private async clientThread(n: number): Promise<void> {
    const pipe = this.instances[n - 1]!;
    this.report.peak = Math.max(this.report.peak, ++this.running);
    let client: number | undefined;
    let requests = 0;
    try {
      const pid = (await pipe.state()).clientPid; // GetNamedPipeClientProcessId
      for (;;) {
        let message: Buffer;
        try {
          message = await pipe.readMessage(); // ReadFile: wait for a request
        } catch (e) {
          if (e instanceof IpcError && e.code === 'ERROR_BROKEN_PIPE') break; // the client is gone
          throw e;
        }
        const request = parseRequest(message);
        client = request.client;
        await pipe.write(encode(answer(request, n))); // WriteFile: the answer
        requests++;
      }
      this.log(`instance ${n} served client ${client ?? '?'} (pid ${pid}): ${requests} requests answered`);
    } catch (e) {
      const failure = `instance ${n}, client ${client ?? '?'}: ${(e as Error).message}`;
      this.report.failures.push(failure);
      this.log(failure);
    } finally {
      this.running--;
      this.report.requests += requests;
      // DisconnectNamedPipe: the instance is free for the next client.
      await pipe.disconnect().catch(() => {});
      this.idle.push(n);
    }
  }
}

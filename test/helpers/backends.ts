/**
 * The two backends the conformance suite runs over: the in-process kernel through the
 * loopback transport, and the real object manager over its Unix socket. A suite asks its
 * backend for threads (connections of this process) and never knows which it has.
 */
import { Broker } from '../../src/broker/server.ts';
import { Connection, connect } from '../../src/client/connection.ts';
import { startDaemon, type Daemon } from './daemon.ts';

export interface Backend {
  readonly name: string;
  /** A new thread: its own connection, in this process. */
  thread(): Promise<Connection>;
  /** Close every thread and stop the object manager. */
  close(): Promise<void>;
}

class LoopbackBackend implements Backend {
  readonly name = 'loopback';
  private readonly broker = Broker.loopback();
  private readonly threads: Connection[] = [];
  async thread(): Promise<Connection> {
    const c = await Connection.over(this.broker.connect());
    this.threads.push(c);
    return c;
  }
  async close(): Promise<void> {
    for (const c of this.threads) c.close();
    this.broker.shutdown();
    await this.broker.closed;
  }
}

class DaemonBackend implements Backend {
  readonly name = 'daemon';
  private readonly threads: Connection[] = [];
  constructor(private readonly daemon: Daemon) {}
  async thread(): Promise<Connection> {
    const c = await connect({ socketPath: this.daemon.socketPath, autoStart: false });
    this.threads.push(c);
    return c;
  }
  async close(): Promise<void> {
    for (const c of this.threads) c.close();
    await this.daemon.stop();
  }
}

export const backendNames = ['loopback', 'daemon'] as const;

export async function openBackend(name: (typeof backendNames)[number]): Promise<Backend> {
  return name === 'loopback' ? new LoopbackBackend() : new DaemonBackend(await startDaemon());
}

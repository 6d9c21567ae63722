/**
 * The command's one connection to the object manager (one thread in the NT sense: the
 * mutexes `ntipc` holds belong to it), opened on first use from the global options.
 */
import type { Command } from 'commander';
import { connect, socketPath, type Connection } from '../client/index.ts';

export class Session {
  private connection: Promise<Connection> | undefined;

  constructor(private readonly program: Command) {}

  /** `--socket`, else NTIPC_SOCKET / NTIPC_NAMESPACE. */
  get socket(): string {
    return (this.program.opts().socket as string | undefined) ?? socketPath();
  }

  /** False with `--no-start` or NTIPC_NO_START=1: fail rather than start an object manager. */
  get autoStart(): boolean {
    return (this.program.opts().start as boolean | undefined) !== false && process.env.NTIPC_NO_START !== '1';
  }

  /** The connection, opened (and the object manager started, unless told not to) on first use. */
  connect(): Promise<Connection> {
    this.connection ??= connect({ socketPath: this.socket, autoStart: this.autoStart });
    return this.connection;
  }

  /** Close the connection if one was opened: whatever ntipc still owns is released by the object manager. */
  async close(): Promise<void> {
    const c = await this.connection?.catch(() => undefined);
    c?.close();
  }
}

/**
 * Mailslots: one reader (Mailslot), any number of writers (MailslotClient). A message is
 * one write, read whole and once, in arrival order; writes are never blocked and never
 * acknowledged by the reader.
 */
import { IpcError } from '../errors.ts';
import type { Connection } from './connection.ts';
import { connectionOf, KernelHandle, type HandleOptions } from './handle.ts';
import { cancellable, checkTimeout } from './wait.ts';

export interface MailslotCreateOptions extends Pick<HandleOptions, 'connection'> {
  /** The largest message it takes, in bytes; 0 (the default): any size up to the object manager's limit. */
  maxMessageSize?: number;
  /** How long `read()` waits for a message, in ms: 0 does not wait, Infinity (the default) waits forever. */
  readTimeoutMs?: number;
}

/** What GetMailslotInfo tells. */
export interface MailslotInfo {
  /** As created: 0 for any size. */
  maxMessageSize: number;
  /** Size of the next message (0 for a zero-length one); null when there is none (MAILSLOT_NO_MESSAGE). */
  nextSize: number | null;
  messageCount: number;
  /** Infinity for MAILSLOT_WAIT_FOREVER. */
  readTimeoutMs: number;
}

export interface MailslotReadOptions {
  /** Cancels a read that is waiting: it rejects with the signal's reason and takes no message. */
  signal?: AbortSignal;
  /**
   * The caller's buffer size: a longer next message fails ERROR_INSUFFICIENT_BUFFER and stays
   * queued (ReadFile's rule). Default: any size.
   */
  maxBytes?: number;
}

/** The reader (server) end of a mailslot: CreateMailslot. */
export class Mailslot extends KernelHandle {
  /**
   * CreateMailslot(`\\.\mailslot\NAME`). Path components are allowed (`\\.\mailslot\a\b`)
   * and names are case-insensitive. Fails ERROR_ALREADY_EXISTS when the name has a reader
   * already (a mailslot is never opened by create), ERROR_INVALID_NAME for any other form
   * (another host included), ERROR_PATH_NOT_FOUND for no name, ERROR_INVALID_PARAMETER for
   * a maximum size that is not an integer from 0 to 0xFFFFFFFF or a bad read timeout.
   */
  static async create(name: string, opts: MailslotCreateOptions = {}): Promise<Mailslot> {
    if (name === undefined || name === null) throw new IpcError('ERROR_PATH_NOT_FOUND', 'CreateMailslot', undefined, 'no mailslot name');
    if (typeof name !== 'string') throw new IpcError('ERROR_INVALID_NAME', 'CreateMailslot', undefined, 'a mailslot name is a string');
    const maxMessageSize = opts.maxMessageSize ?? 0;
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 0 || maxMessageSize > 0xffff_ffff) {
      throw new IpcError('ERROR_INVALID_PARAMETER', 'CreateMailslot', name, `maximum message size ${String(maxMessageSize)}`);
    }
    const readTimeoutMs = opts.readTimeoutMs ?? Infinity;
    checkTimeout(readTimeoutMs, 'CreateMailslot');
    const c = await connectionOf(opts);
    const r = await c.request('createMailslot', { name, maxMessageSize, readTimeoutMs });
    return new Mailslot(c, r.handle, r.objectId, name);
  }

  /**
   * ReadFile: the next message, whole. With none queued it waits up to the read timeout and
   * then fails ERROR_SEM_TIMEOUT (at once for timeout 0). Reads waiting together are served
   * in the order they were made. Fails ERROR_INSUFFICIENT_BUFFER for a message longer than
   * `maxBytes` (it stays queued), ERROR_OPERATION_ABORTED when the mailslot is closed while
   * the read waits.
   */
  async read(opts: MailslotReadOptions = {}): Promise<Buffer> {
    const maxBytes = opts.maxBytes ?? Infinity;
    if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
      throw new IpcError('ERROR_INVALID_PARAMETER', 'ReadFile', this.name, `buffer of ${String(maxBytes)} bytes`);
    }
    const { data } = await cancellable(this.connection, 'readMailslot', { handle: this.handle, maxBytes }, opts.signal);
    return data as Buffer;
  }

  /** The same handle, used from another thread (connection) of this process. */
  on(connection: Connection): Mailslot {
    return new Mailslot(connection, this.handle, this.objectId, this.name);
  }

  /** GetMailslotInfo. */
  async info(): Promise<MailslotInfo> {
    const r = await this.connection.request('getMailslotInfo', { handle: this.handle });
    return { maxMessageSize: r.maxMessageSize, nextSize: r.nextSize < 0 ? null : r.nextSize, messageCount: r.messageCount, readTimeoutMs: r.readTimeoutMs };
  }

  /** SetMailslotInfo: the read timeout of later reads (ms; 0 does not wait, Infinity forever). A read already waiting keeps its own. */
  async setReadTimeout(ms: number): Promise<void> {
    checkTimeout(ms, 'SetMailslotInfo');
    await this.connection.request('setMailslotInfo', { handle: this.handle, readTimeoutMs: ms });
  }
}

/** A writer of a mailslot: CreateFile on a mailslot name. */
export class MailslotClient extends KernelHandle {
  /**
   * Open a writer. `\\.\mailslot\NAME` writes to this machine's mailslot, which must exist
   * (else ERROR_FILE_NOT_FOUND); `\\*\mailslot\NAME` broadcasts to every machine of the
   * primary domain, `\\DOMAIN\mailslot\NAME` to every machine of that domain and
   * `\\HOST\mailslot\NAME` to that machine: those always open, as on Windows, whether or not
   * anyone reads. Bad names fail ERROR_INVALID_NAME.
   */
  static async open(name: string, opts: Pick<HandleOptions, 'connection'> = {}): Promise<MailslotClient> {
    if (name === undefined || name === null) throw new IpcError('ERROR_PATH_NOT_FOUND', 'CreateFile', undefined, 'no mailslot name');
    if (typeof name !== 'string') throw new IpcError('ERROR_INVALID_NAME', 'CreateFile', undefined, 'a mailslot name is a string');
    const c = await connectionOf(opts);
    const r = await c.request('openMailslot', { name });
    return new MailslotClient(c, r.handle, r.objectId, name);
  }

  /** The same handle, used from another thread (connection) of this process. */
  on(connection: Connection): MailslotClient {
    return new MailslotClient(connection, this.handle, this.objectId, this.name);
  }

  /**
   * WriteFile: one message (zero bytes is a message too); a string is sent as UTF-8.
   * Resolves with the bytes written once the message is queued in the mailslot (or, for
   * another machine, handed to the network, with no word of its arrival). Fails
   * ERROR_INVALID_PARAMETER for a message over the mailslot's maximum size or over 424 bytes
   * to `\\*`, ERROR_NOT_ENOUGH_QUOTA when the mailslot holds too much unread, and
   * ERROR_FILE_NOT_FOUND once the reader has closed the mailslot. Nothing is delivered
   * when it fails.
   */
  async write(data: Uint8Array | string): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array)) throw new IpcError('ERROR_INVALID_PARAMETER', 'WriteFile', this.name, 'data must be a Uint8Array or a string');
    return (await this.connection.request('writeMailslot', { handle: this.handle, data: bytes })).bytesWritten;
  }
}

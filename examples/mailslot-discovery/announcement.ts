/**
 * What travels on the example's mailslots: a server's status announcement, broadcast on
 * `\\*\mailslot\status`, and the client's answer to one server's own mailslot.
 */

/** Where clients listen (each machine's own) and where servers announce (every machine of the domain). */
export const STATUS_MAILSLOT = '\\\\.\\mailslot\\status';
export const STATUS_BROADCAST = '\\\\*\\mailslot\\status';

/** A broadcast is at most 424 bytes: announcements stay well under. */
const MAX_BROADCAST = 424;

export interface Announcement {
  server: string;
  /** The host name the server's object manager answers to on the network. */
  host: string;
  pid: number;
  /** How busy it says it is (lower is better). */
  load: number;
  /** The mailslot that reaches this server, from any machine: `\\HOST\mailslot\discovery\NAME`. */
  inbox: string;
}

export interface Answer {
  picked: boolean;
  /** The client's pid, for the server's log line. */
  client: number;
}

export function encodeAnnouncement(a: Announcement): Buffer {
  const bytes = Buffer.from(JSON.stringify(a));
  if (bytes.length > MAX_BROADCAST) throw new RangeError(`an announcement of ${bytes.length} bytes is too long to broadcast`);
  return bytes;
}

/** The announcement in a message, or undefined for anything else (anyone may write to a mailslot). */
export function parseAnnouncement(data: Buffer): Announcement | undefined {
  try {
    const a = JSON.parse(data.toString('utf8')) as Partial<Announcement>;
    const ok =
      typeof a.server === 'string' &&
      typeof a.host === 'string' &&
      typeof a.pid === 'number' &&
      typeof a.load === 'number' &&
      typeof a.inbox === 'string' &&
      /^\\\\[^\\]+\\mailslot\\/i.test(a.inbox);
    return ok ? (a as Announcement) : undefined;
  } catch {
    return undefined;
  }
}

export function inboxPath(server: string): string {
  return `discovery\\${server}`;
}

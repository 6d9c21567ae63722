/**
 * The client side of the seed's "locate a server via mailslot": create this machine's
 * `\\.\mailslot\status`, read the announcements servers broadcast to it, pick the least
 * loaded server, and tell each server heard whether it was picked (through its own
 * mailslot, which any machine can reach by host name).
 */
import { IpcError, Mailslot, MailslotClient } from '../../src/client/index.ts';
import { STATUS_MAILSLOT, parseAnnouncement, type Announcement, type Answer } from './announcement.ts';

export class Discovery {
  /** The latest announcement of each server heard, by server name. */
  readonly heard = new Map<string, Announcement>();
  announcements = 0;

  private constructor(private readonly slot: Mailslot) {}

  /** CreateMailslot("\\\\.\\mailslot\\status"): one reader per machine. */
  static async open(): Promise<Discovery> {
    return new Discovery(await Mailslot.create(STATUS_MAILSLOT));
  }

  /**
   * Read announcements for at most `timeMs`, or until `expect` servers have been heard.
   * Each server is reported the first time it is heard.
   */
  async collect(opts: { timeMs: number; expect?: number }): Promise<void> {
    const deadline = Date.now() + opts.timeMs;
    while (opts.expect === undefined || this.heard.size < opts.expect) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      // The read timeout is the collection window's remainder (SetMailslotInfo).
      await this.slot.setReadTimeout(left);
      let data: Buffer;
      try {
        data = await this.slot.read();
      } catch (e) {
        if (e instanceof IpcError && e.code === 'ERROR_SEM_TIMEOUT') return;
        throw e;
      }
      const a = parseAnnouncement(data);
      if (a === undefined) {
        console.log(`ignored a message that is not an announcement (${data.length} bytes)`);
        continue;
      }
      this.announcements++;
      if (!this.heard.has(a.server)) console.log(`heard ${a.server} on ${a.host} (pid ${a.pid}, load ${a.load})`);
      this.heard.set(a.server, a);
    }
  }

  /** The least loaded server heard (ties: the first name in order). */
  pick(): Announcement | undefined {
    return [...this.heard.values()].sort((a, b) => a.load - b.load || a.server.localeCompare(b.server))[0];
  }

  /** Tell every server heard whether it was picked. Delivery is not guaranteed: mailslots are datagrams. */
  async answer(picked: Announcement | undefined): Promise<void> {
    for (const a of this.heard.values()) {
      const answer: Answer = { picked: a.server === picked?.server, client: process.pid };
      // CreateFile("\\\\HOST\\mailslot\\discovery\\NAME") and WriteFile.
      const inbox = await MailslotClient.open(a.inbox);
      try {
        await inbox.write(Buffer.from(JSON.stringify(answer)));
      } finally {
        await inbox.close();
      }
    }
  }

  async close(): Promise<void> {
    await this.slot.close();
  }
}

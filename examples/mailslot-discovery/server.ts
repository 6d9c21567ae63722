/**
 * One server of the discovery example: it announces its status on `\\*\mailslot\status`
 * (every machine of the domain) every interval until a client answers through the
 * server's own mailslot, then says whether it was picked and stops. The wait between
 * announcements is the read timeout of that mailslot, so an answer ends it at once.
 *
 * usage: server.ts NAME LOAD [--interval MS=1000] [--time MS=60000]
 */
import { parseArgs } from 'node:util';
import { IpcError, Mailslot, MailslotClient, brokerStatus } from '../../src/client/index.ts';
import { STATUS_BROADCAST, encodeAnnouncement, inboxPath, type Answer } from './announcement.ts';

process.env.NTIPC_NAMESPACE ??= 'example-mailslot-discovery';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { interval: { type: 'string', default: '1000' }, time: { type: 'string', default: '60000' } },
});
const [name, load] = positionals as [string, string];
const interval = Number(values.interval);
const stopAt = Date.now() + Number(values.time);

// The server's own mailslot; the read timeout paces the announcements.
const inbox = await Mailslot.create(`\\\\.\\mailslot\\${inboxPath(name)}`, { readTimeoutMs: interval });
// The host name our object manager answers to on the network (its config; by default this machine's name).
const host = (await brokerStatus()).mailslotNetwork?.host ?? 'localhost';
const status = await MailslotClient.open(STATUS_BROADCAST);
let announced = 0;
let answer: Answer | undefined;
try {
  while (answer === undefined && Date.now() < stopAt) {
    await status.write(encodeAnnouncement({ server: name, host, pid: process.pid, load: Number(load), inbox: `\\\\${host}\\mailslot\\${inboxPath(name)}` }));
    announced++;
    try {
      answer = JSON.parse((await inbox.read()).toString('utf8')) as Answer;
    } catch (e) {
      if (!(e instanceof IpcError && e.code === 'ERROR_SEM_TIMEOUT')) throw e;
    }
  }
} finally {
  await status.close();
  await inbox.close();
}
if (answer === undefined) {
  console.log(`${name} (pid ${process.pid}): no client answered; stopping after ${announced} announcements`);
  process.exitCode = 2;
} else {
  console.log(`${name} (pid ${process.pid}): ${answer.picked ? 'picked' : 'not picked'} by client ${answer.client} after ${announced} announcement${announced === 1 ? '' : 's'}`);
}

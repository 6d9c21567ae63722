/**
 * The seed's "locate a server via mailslot": servers announce their status every second
 * on `\\*\mailslot\status`, which reaches the mailslot `status` of every machine in the
 * domain; a client reads the announcements from its own `\\.\mailslot\status`, picks the
 * least loaded server, and answers each server through that server's own mailslot.
 *
 * Here the client is this program and it starts the servers itself, on this machine. With
 * the mailslot network configured (docs/network.md), servers started on other machines
 * (server.ts) are heard as well.
 *
 *   npx tsx examples/mailslot-discovery/main.ts [--servers N=3] [--interval MS=1000] [--time MS=10000]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessHandle, waitAll } from '../../src/client/index.ts';
import { Discovery } from './discovery.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-mailslot-discovery';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '3' },
    interval: { type: 'string', default: '1000' },
    time: { type: 'string', default: '10000' },
  },
});
const servers = Number(values.servers);

// The mailslot first, so that no announcement is missed (a missed one would come again).
const discovery = await Discovery.open();
const children: ProcessHandle[] = [];
try {
  console.log('listening on \\\\.\\mailslot\\status for server announcements');
  const server = fileURLToPath(new URL('./server.ts', import.meta.url));
  for (let i = 1; i <= servers; i++) {
    const load = Math.floor(Math.random() * 100);
    const args = [...process.execArgv, server, `server-${i}`, String(load), '--interval', values.interval, '--time', values.time];
    children.push(await ProcessHandle.spawn(process.execPath, args, { stdio: 'inherit' }));
  }
  await discovery.collect({ timeMs: Number(values.time), expect: servers });
  const picked = discovery.pick();
  console.log(
    picked
      ? `picked ${picked.server} on ${picked.host} (load ${picked.load}) out of ${discovery.heard.size} servers, from ${discovery.announcements} announcements`
      : 'no server heard',
  );
  await discovery.answer(picked);
  if (children.length > 0) await waitAll(children);
  console.log(`all ${servers} servers stopped`);
  if (picked === undefined || discovery.heard.size < servers || children.some((c) => c.exitCode !== 0)) process.exitCode = 1;
} finally {
  for (const c of children) {
    if (c.exitCode === null) c.child?.kill();
    await c.close();
  }
  await discovery.close();
}

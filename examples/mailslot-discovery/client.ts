/**
 * The discovery client alone: listen on this machine's `\\.\mailslot\status` for server
 * announcements from every machine of the domain, pick the least loaded server, and tell
 * the servers heard. Run it beside servers started elsewhere (server.ts).
 *
 * usage: client.ts [--time MS=3000] [--expect N]   (N: stop as soon as N servers are heard)
 */
import { parseArgs } from 'node:util';
import { Discovery } from './discovery.ts';

process.env.NTIPC_NAMESPACE ??= 'example-mailslot-discovery';

const { values } = parseArgs({ options: { time: { type: 'string', default: '3000' }, expect: { type: 'string' } } });
const discovery = await Discovery.open();
try {
  console.log('listening on \\\\.\\mailslot\\status for server announcements');
  await discovery.collect({ timeMs: Number(values.time), expect: values.expect === undefined ? undefined : Number(values.expect) });
  const picked = discovery.pick();
  console.log(picked ? `picked ${picked.server} on ${picked.host} (load ${picked.load}) out of ${discovery.heard.size} servers` : 'no server heard');
  await discovery.answer(picked);
  if (picked === undefined) process.exitCode = 1;
} finally {
  await discovery.close();
}

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runExample } from '../helpers/run-example.ts';
import { startMachines, uniqueName, type Machine } from '../helpers/mailslot-network.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

/** Every `heard NAME on HOST (pid P, load L)` line, and the `picked` line, checked: the least loaded was picked. */
function checkPick(out: string, servers: number): { heard: Map<string, { host: string; load: number }>; picked: string } {
  const heard = new Map<string, { host: string; load: number }>();
  for (const l of lines(out, /^heard /)) {
    const [, name, host, load] = /^heard (\S+) on (\S+) \(pid \d+, load (\d+)\)$/.exec(l)!;
    assert.equal(heard.has(name!), false, `each server is reported once: ${l}`);
    heard.set(name!, { host: host!, load: Number(load) });
  }
  assert.equal(heard.size, servers, out);
  const m = /^picked (\S+) on (\S+) \(load (\d+)\) out of (\d+) servers/m.exec(out);
  assert.ok(m, out);
  const [, picked, , load, of] = m;
  assert.equal(Number(of), servers);
  const least = Math.min(...[...heard.values()].map((h) => h.load));
  assert.equal(Number(load), least, 'the least loaded server is picked');
  assert.equal(heard.get(picked!)?.load, least);
  return { heard, picked: picked! };
}

test('the mailslot-discovery example: servers announce on \\\\*\\mailslot\\status, the client hears each, picks the least loaded and tells them', async (t) => {
  // Whatever network a user's config file sets up, this run is this machine's alone.
  process.env.NTIPC_CONFIG = '';
  const out = await runExample(t, 'mailslot-discovery', ['--servers', '3', '--interval', '50', '--time', '60000']);
  const { picked } = checkPick(out, 3);
  assert.match(out, /^listening on \\\\\.\\mailslot\\status for server announcements$/m);
  assert.deepEqual(lines(out, /: picked by client \d+ after \d+ announcements?$/).map((l) => l.split(' ')[0]), [picked]);
  assert.equal(lines(out, /: not picked by client \d+ after \d+ announcements?$/).length, 2, out);
  assert.match(out, /^all 3 servers stopped$/m);
});

test('the discovery example across object managers: a client on one machine hears servers of two, and answers each through \\\\HOST\\mailslot', async (t) => {
  const domain = uniqueName('DISC');
  const [alpha, beta] = (await startMachines(
    t,
    [
      { host: uniqueName('alpha'), domain },
      { host: uniqueName('beta'), domain },
    ],
    { mode: 'multicast' },
  )) as [Machine, Machine];
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const run = (m: Machine, script: string, args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NTIPC_SOCKET: m.daemon.socketPath, NTIPC_NO_START: '1' };
    delete env.NTIPC_NAMESPACE;
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/mailslot-discovery/${script}`, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    return (async () => {
      const [code] = await once(child, 'close');
      assert.equal(code, 0, `${script} ${args.join(' ')} exited with ${code}\n${out}\n${err}`);
      return out;
    })();
  };
  // The client first, so that its mailslot is there (announcements before it would simply be missed).
  const client = run(alpha, 'client.ts', ['--expect', '3', '--time', '60000']);
  const servers = [run(alpha, 'server.ts', ['a1', '40', '--interval', '50']), run(beta, 'server.ts', ['b1', '30', '--interval', '50']), run(beta, 'server.ts', ['b2', '20', '--interval', '50'])];
  const out = await client;
  const { heard, picked } = checkPick(out, 3);
  assert.equal(picked, 'b2');
  assert.deepEqual(
    Object.fromEntries([...heard].map(([name, h]) => [name, h.host])),
    { a1: alpha.host, b1: beta.host, b2: beta.host },
    'each server announces the host name of its own object manager',
  );
  const [a1, b1, b2] = (await Promise.all(servers)) as [string, string, string];
  assert.match(a1, /^a1 \(pid \d+\): not picked by client/m);
  assert.match(b1, /^b1 \(pid \d+\): not picked by client/m);
  assert.match(b2, /^b2 \(pid \d+\): picked by client/m);
  assert.ok((await beta.status()).received > 0, 'beta heard the client over the network');
});

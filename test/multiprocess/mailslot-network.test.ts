/**
 * Mailslots across machines: several object managers on this machine, each its own
 * process with its own host name and domain, on one multicast group on loopback or on a
 * list of loopback peers. Absence of a message is shown by order, never by waiting: a
 * message sent later by the same sender arrives first (one sender's datagrams on loopback
 * keep their order).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, Mailslot, MailslotClient, type Connection } from '../../src/client/index.ts';
import { decodeDatagram, encodeDatagram, type MailslotDatagram } from '../../src/protocol/mailslot-datagram.ts';
import { startDaemon, tempDir } from '../helpers/daemon.ts';
import { Cleanups, freeUdpPorts, isolatedEnv, startMachines, uniqueName, type Machine } from '../helpers/mailslot-network.ts';

/** A bound on a read that should succeed: a lost message fails the test instead of hanging it. */
const READ_BOUND_MS = 30_000;

async function reader(m: Machine | Connection, name: string, opts: { maxMessageSize?: number } = {}): Promise<Mailslot> {
  const connection = 'connection' in m ? m.connection : m;
  return Mailslot.create(`\\\\.\\mailslot\\${name}`, { connection, readTimeoutMs: READ_BOUND_MS, ...opts });
}

async function write(m: Machine | Connection, name: string, data: string | Buffer): Promise<number> {
  const connection = 'connection' in m ? m.connection : m;
  const w = await MailslotClient.open(name, { connection });
  try {
    return await w.write(data);
  } finally {
    await w.close();
  }
}

const text = async (slot: Mailslot) => (await slot.read()).toString();

describe('one domain of three object managers and a fourth of another domain, on one multicast group', () => {
  const lab = uniqueName('LAB');
  const other = uniqueName('OTHER');
  let a: Machine, b: Machine, c: Machine, e: Machine;
  let machines: Machine[];

  const cleanups = new Cleanups();
  after(() => cleanups.run());

  before(async () => {
    machines = await startMachines(
      cleanups,
      [
        { host: uniqueName('alpha'), domain: lab },
        { host: uniqueName('beta'), domain: lab },
        { host: uniqueName('gamma'), domain: lab },
        { host: uniqueName('epsilon'), domain: other },
      ],
      { mode: 'multicast' },
    );
    [a, b, c, e] = machines as [Machine, Machine, Machine, Machine];
  });

  test('each knows who it is: host, domain, multicast, signed', async () => {
    const s = await b.status();
    assert.equal(s.host, b.host);
    assert.equal(s.domain, lab);
    assert.equal(s.mode, 'multicast');
    assert.equal(s.signed, true);
    assert.match(s.address ?? '', new RegExp(`:${b.port}$`));
  });

  test('\\\\*\\mailslot reaches the mailslot of that name on every object manager of the domain, the sender\'s own included, and no other domain', async () => {
    const slots = await Promise.all(machines.map((m) => reader(m, 'bcast')));
    const [sa, sb, sc, se] = slots as [Mailslot, Mailslot, Mailslot, Mailslot];
    const foreignBefore = (await e.status()).dropped.foreignDomain;
    assert.equal(await write(a, '\\\\*\\mailslot\\bcast', 'to the whole lab'), 16);
    assert.equal(await text(sa), 'to the whole lab');
    assert.equal(await text(sb), 'to the whole lab');
    assert.equal(await text(sc), 'to the whole lab');
    // Addressed to e's host, e takes it even from another domain; it comes after the broadcast.
    await write(a, `\\\\${e.host}\\mailslot\\bcast`, 'for epsilon');
    assert.equal(await text(se), 'for epsilon', 'the other domain never got the broadcast');
    assert.ok((await e.status()).dropped.foreignDomain > foreignBefore, 'the broadcast was dropped as foreign and counted');
    for (const s of slots) assert.equal((await s.info()).messageCount, 0);
    for (const s of slots) await s.close();
  });

  test('\\\\HOST\\mailslot reaches only that host (its name in any case)', async () => {
    const [sa, sb, sc] = (await Promise.all([a, b, c].map((m) => reader(m, 'direct')))) as [Mailslot, Mailslot, Mailslot];
    await write(a, `\\\\${b.host.toUpperCase()}\\mailslot\\DIRECT`, 'for beta only');
    await write(a, '\\\\*\\mailslot\\direct', 'for all');
    assert.equal(await text(sb), 'for beta only');
    assert.equal(await text(sb), 'for all');
    assert.equal(await text(sc), 'for all', 'gamma never got the one for beta');
    assert.equal(await text(sa), 'for all', 'nor did the sender itself');
    assert.ok((await c.status()).notAddressed > 0, 'gamma saw it and let it pass');
    for (const s of [sa, sb, sc]) await s.close();
  });

  test('\\\\DOMAIN\\mailslot reaches every object manager of that domain, even from outside it, and not the sender', async () => {
    const slots = (await Promise.all(machines.map((m) => reader(m, 'bydomain')))) as Mailslot[];
    await write(e, `\\\\${lab.toLowerCase()}\\mailslot\\bydomain`, 'to the lab from outside');
    for (const s of slots.slice(0, 3)) assert.equal(await text(s), 'to the lab from outside');
    await write(e, '\\\\*\\mailslot\\bydomain', 'own domain');
    assert.equal(await text(slots[3]!), 'own domain', 'epsilon is not in the lab');
    // And the domain's own name works like * from inside.
    await write(b, `\\\\${lab}\\mailslot\\bydomain`, 'lab by name');
    for (const s of slots.slice(0, 3)) assert.equal(await text(s), 'lab by name');
    for (const s of slots) await s.close();
  });

  test('a machine without the mailslot, or whose mailslot refuses the message, just does not deliver it', async () => {
    const [sa, sc] = (await Promise.all([reader(a, 'partial'), reader(c, 'partial', { maxMessageSize: 10 })])) as [Mailslot, Mailslot];
    const before = await c.status();
    await write(b, '\\\\*\\mailslot\\partial', 'eleven byte');
    assert.equal(await text(sa), 'eleven byte');
    await write(b, '\\\\*\\mailslot\\partial', 'ten bytes!');
    assert.equal(await text(sc), 'ten bytes!', 'the longer one never reached gamma');
    const after = await c.status();
    assert.equal(after.tooLarge - before.tooLarge, 1);
    assert.ok((await b.status()).noMailslot >= 2, 'beta has no mailslot of that name: nothing to deliver to');
    await sa.close();
    await sc.close();
  });

  test('a broadcast over 424 bytes is refused before it is sent; 424 bytes go everywhere', async () => {
    const [sa, sb] = (await Promise.all([reader(a, 'sizes'), reader(b, 'sizes')])) as [Mailslot, Mailslot];
    const sentBefore = (await a.status()).sent;
    await assert.rejects(write(a, '\\\\*\\mailslot\\sizes', Buffer.alloc(425, 1)), { code: 'ERROR_INVALID_PARAMETER' });
    await assert.rejects(write(a, `\\\\${lab}\\mailslot\\sizes`, Buffer.alloc(425, 2)), { code: 'ERROR_INVALID_PARAMETER' });
    assert.equal((await a.status()).sent, sentBefore, 'nothing went out');
    await write(a, '\\\\*\\mailslot\\sizes', Buffer.alloc(424, 3));
    assert.deepEqual(await sb.read(), Buffer.alloc(424, 3));
    assert.deepEqual(await sa.read(), Buffer.alloc(424, 3), 'the refused ones were not delivered here either');
    await sa.close();
    await sb.close();
  });

  test('a message to one host may be up to 60 KiB; longer is refused before it is sent', async () => {
    const sb = await reader(b, 'big');
    const big = randomBytes(60 * 1024);
    await assert.rejects(write(a, `\\\\${b.host}\\mailslot\\big`, Buffer.alloc(60 * 1024 + 1)), { code: 'ERROR_INVALID_PARAMETER' });
    await write(a, `\\\\${b.host}\\mailslot\\big`, big);
    assert.deepEqual(await sb.read(), big);
    await sb.close();
  });
});

describe('datagrams that are malformed, oversized, unsigned, forged, replayed, stale or for others', () => {
  test('are dropped and counted, never delivered; and what the object manager sends is signed and addressed', async (t) => {
    // One object manager whose only peer is this test's raw socket.
    const raw = dgram.createSocket('udp4');
    const heard: Buffer[] = [];
    const waiting: ((b: Buffer) => void)[] = [];
    raw.on('message', (m) => (waiting.length > 0 ? waiting.shift()!(m) : heard.push(m)));
    const next = () => (heard.length > 0 ? Promise.resolve(heard.shift()!) : new Promise<Buffer>((r) => waiting.push(r)));
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    t.after(() => raw.close());
    const rawPort = raw.address().port;
    const secret = randomBytes(16).toString('hex');
    const domain = uniqueName('DOM');
    const host = uniqueName('x');
    const [port] = await freeUdpPorts(1);
    const daemon = await startDaemon({
      env: isolatedEnv({
        NTIPC_HOST: host,
        NTIPC_DOMAIN: domain,
        NTIPC_MAILSLOT_NETWORK: 'on',
        NTIPC_MAILSLOT_PORT: String(port),
        NTIPC_MAILSLOT_INTERFACE: '127.0.0.1',
        NTIPC_MAILSLOT_PEERS: `127.0.0.1:${rawPort}`,
        NTIPC_MAILSLOT_SECRET: secret,
      }),
    });
    t.after(() => daemon.stop());
    const conn = await connect({ socketPath: daemon.socketPath, autoStart: false });
    t.after(() => conn.close());
    const inbox = await reader(conn, 'inbox');

    let seq = 0;
    const sender = randomBytes(8);
    const dg = (over: Partial<MailslotDatagram> = {}): MailslotDatagram => ({
      sender,
      seq: ++seq,
      time: Date.now(),
      target: domain,
      senderHost: 'rawhost',
      senderDomain: domain,
      path: 'inbox',
      data: Buffer.from('should never arrive'),
      ...over,
    });
    const send = (buf: Buffer) => new Promise<void>((resolve, reject) => raw.send(buf, port!, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    const first = encodeDatagram(dg({ data: Buffer.from('first') }), secret);
    for (const buf of [
      Buffer.from('not a datagram'),
      encodeDatagram(dg()), // unsigned
      encodeDatagram(dg(), 'a secret that is not the one'),
      encodeDatagram(dg({ data: Buffer.alloc(425) }), secret), // a broadcast past 424 bytes
      encodeDatagram(dg({ senderDomain: 'ELSEWHERE', target: 'ELSEWHERE' }), secret),
      encodeDatagram(dg({ target: 'some-other-host' }), secret),
      encodeDatagram(dg({ time: Date.now() - 120_000 }), secret),
      encodeDatagram(dg({ path: 'in\u0001box' }), secret),
      first,
      first, // replayed
      encodeDatagram(dg({ data: Buffer.from('second'), target: host }), secret),
    ]) {
      await send(buf);
    }
    assert.equal(await text(inbox), 'first');
    assert.equal(await text(inbox), 'second');
    const s = (await conn.request('status', {})).status.mailslotNetwork!;
    assert.equal(s.received, 11);
    assert.deepEqual(s.dropped, { malformed: 2, oversized: 1, badHmac: 2, foreignDomain: 1, stale: 1, replay: 1 });
    assert.equal(s.notAddressed, 1);
    assert.equal(s.delivered, 2);
    assert.match(daemon.stderr(), /dropped a datagram from 127\.0\.0\.1:\d+ \(malformed\)/);

    // Outgoing: a broadcast is one signed datagram to the peer, addressed to the domain.
    await write(conn, '\\\\*\\mailslot\\Inbox', 'hello peer');
    const out = decodeDatagram(await next(), secret);
    assert.ok(out.ok);
    assert.equal(out.signed, true);
    assert.equal(out.datagram.target, domain);
    assert.equal(out.datagram.senderHost, host);
    assert.equal(out.datagram.senderDomain, domain);
    assert.equal(out.datagram.path, 'Inbox');
    assert.equal(Buffer.from(out.datagram.data).toString(), 'hello peer');
    assert.equal(await text(inbox), 'hello peer', 'and this machine has it too');
    await assert.rejects(write(conn, '\\\\*\\mailslot\\inbox', Buffer.alloc(425)), { code: 'ERROR_INVALID_PARAMETER' });
    await write(conn, '\\\\rawhost\\mailslot\\inbox', 'to the raw host');
    const directed = decodeDatagram(await next(), secret);
    assert.ok(directed.ok);
    assert.equal(directed.datagram.target, 'rawhost', 'the refused broadcast never went out');
    assert.equal(directed.datagram.seq, out.datagram.seq + 1);
    await inbox.close();
  });
});

describe('peers instead of multicast, and a peer that is down', () => {
  test('a down host neither blocks nor fails the sender, even killed mid-stream; the others, named by host name, get every message', async (t) => {
    const [deadPort] = await freeUdpPorts(1);
    const lab = uniqueName('PEERS');
    const [a, b, c] = (await startMachines(
      t,
      [
        { host: uniqueName('pa'), domain: lab, extraPeers: [`127.0.0.1:${deadPort}`, 'no-such-host.invalid'] },
        { host: uniqueName('pb'), domain: lab },
        { host: uniqueName('pc'), domain: lab },
      ],
      { mode: 'peers', peerAddress: 'localhost' },
    )) as [Machine, Machine, Machine];
    assert.equal((await a.status()).mode, 'peers');
    const [sa, sb, sc] = (await Promise.all([a, b, c].map((m) => reader(m, 'stream')))) as [Mailslot, Mailslot, Mailslot];
    await write(a, '\\\\*\\mailslot\\stream', 'before');
    for (const s of [sa, sb, sc]) assert.equal(await text(s), 'before');

    const writer = await MailslotClient.open('\\\\*\\mailslot\\stream', { connection: a.connection });
    const toB = await MailslotClient.open(`\\\\${b.host}\\mailslot\\stream`, { connection: a.connection });
    let killed: Promise<unknown> | undefined;
    for (let i = 0; i < 20; i++) {
      if (i === 5) {
        killed = once(b.daemon.proc, 'exit');
        b.daemon.proc.kill('SIGKILL');
      }
      assert.equal(await writer.write(`m${i}`), `m${i}`.length);
      assert.equal(await toB.write(`to b ${i}`), `to b ${i}`.length);
    }
    await killed;
    await writer.close();
    await toB.close();
    for (let i = 0; i < 20; i++) assert.equal(await text(sc), `m${i}`);
    for (let i = 0; i < 20; i++) assert.equal(await text(sa), `m${i}`);
    const s = await a.status();
    assert.equal(s.peers.length, 4);
    assert.equal(s.sent, 41 * 4, 'every datagram went to every peer, the down ones included');
    assert.ok(s.sendErrors >= 41, 'those to a name that does not resolve failed, and were counted');
    await sa.close();
    await sc.close();
  });
});

describe('the network off (the default)', () => {
  test('\\\\* and this machine\'s own names reach this machine only; another machine is ERROR_BAD_NETPATH', async (t) => {
    const dir = tempDir();
    const host = uniqueName('solo');
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ host, domain: 'FROMFILE' }));
    const daemon = await startDaemon({ dir, env: isolatedEnv({ NTIPC_CONFIG: config, NTIPC_DOMAIN: 'FROMENV' }) });
    t.after(() => daemon.stop());
    const conn = await connect({ socketPath: daemon.socketPath, autoStart: false });
    t.after(() => conn.close());
    const s = (await conn.request('status', {})).status.mailslotNetwork!;
    assert.deepEqual([s.mode, s.host, s.domain, s.address], ['off', host, 'FROMENV', null], 'host from the file, domain from the environment');

    const slot = await reader(conn, 'solo');
    await write(conn, '\\\\*\\mailslot\\solo', 'star');
    await write(conn, '\\\\fromenv\\mailslot\\solo', 'own domain');
    await write(conn, `\\\\${host}\\mailslot\\solo`, 'own host');
    await assert.rejects(write(conn, '\\\\elsewhere\\mailslot\\solo', 'x'), { code: 'ERROR_BAD_NETPATH' });
    await assert.rejects(write(conn, '\\\\*\\mailslot\\solo', Buffer.alloc(425)), { code: 'ERROR_INVALID_PARAMETER' });
    for (const m of ['star', 'own domain', 'own host']) assert.equal(await text(slot), m);
    assert.equal((await slot.info()).messageCount, 0);
    await slot.close();
  });
});

describe('a configuration that cannot work', () => {
  /** A directory for a daemon that will not start (startDaemon removes only the ones it stops). */
  function ownDir(t: import('node:test').TestContext): string {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  test('a bad setting keeps the object manager from starting, and says which', async (t) => {
    await assert.rejects(
      startDaemon({ dir: ownDir(t), env: isolatedEnv({ NTIPC_MAILSLOT_GROUP: '10.1.2.3' }) }),
      /exited with 1 .*bad configuration: NTIPC_MAILSLOT_GROUP must be an IPv4 multicast address/s,
    );
  });

  test('a UDP port another program holds keeps it from starting', async (t) => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    t.after(() => holder.close());
    const env = isolatedEnv({
      NTIPC_MAILSLOT_NETWORK: 'on',
      NTIPC_MAILSLOT_INTERFACE: '127.0.0.1',
      NTIPC_MAILSLOT_PORT: String(holder.address().port),
      NTIPC_MAILSLOT_PEERS: '127.0.0.1:9',
    });
    await assert.rejects(startDaemon({ dir: ownDir(t), env }), /exited with 1 .*cannot listen on UDP 127\.0\.0\.1:\d+/s);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../src/errors.ts';
import { resolveConfig } from '../../src/broker/config.ts';
import { MAX_CLOCK_SKEW_MS, MailslotNetwork, type Delivery } from '../../src/broker/mailslot-network.ts';
import { encodeDatagram, type MailslotDatagram } from '../../src/protocol/mailslot-datagram.ts';

const SECRET = 'a shared secret for the unit test';
const FROM = { address: '192.0.2.9', port: 41138 };

/** A network part that is not bound (sockets belong to the multiprocess tests), with its deliveries recorded. */
function network(opts: { enabled?: boolean; secret?: string; slots?: Record<string, Delivery>; now?: () => number } = {}) {
  const config = resolveConfig({ host: 'alpha.lab.example', domain: 'Lab', mailslotNetwork: { enabled: opts.enabled ?? false } }, {});
  const delivered: { key: string; data: string }[] = [];
  const logs: string[] = [];
  const net = new MailslotNetwork({
    host: config.host,
    domain: config.domain,
    network: { ...config.mailslotNetwork, secret: opts.secret },
    deliver(key, data) {
      delivered.push({ key, data: Buffer.from(data).toString() });
      return opts.slots?.[key] ?? 'delivered';
    },
    log: (line) => logs.push(line),
    wallNow: opts.now,
  });
  return { net, delivered, logs };
}

let seq = 0;
function datagram(over: Partial<MailslotDatagram> = {}): MailslotDatagram {
  return {
    sender: Buffer.from('aabbccddeeff0011', 'hex'),
    seq: ++seq,
    time: Date.now(),
    target: 'LAB',
    senderHost: 'beta',
    senderDomain: 'lab',
    path: 'Status',
    data: Buffer.from('hi'),
    ...over,
  };
}

const flush = () => new Promise<void>((r) => queueMicrotask(r));

function statusCode(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    return e.code;
  }
  return 'no error';
}

test('with the network off, \\\\*, this domain and this host reach this machine only, just after the write', async () => {
  const { net, delivered } = network();
  for (const target of ['*', 'lab', 'LAB', 'alpha.lab.example', 'ALPHA']) net.send(target, 'Box\\In', Buffer.from(target));
  assert.equal(delivered.length, 0, 'not inside the request that wrote it');
  await flush();
  assert.deepEqual(
    delivered.map((d) => d.data),
    ['*', 'lab', 'LAB', 'alpha.lab.example', 'ALPHA'],
  );
  assert.ok(delivered.every((d) => d.key === 'box\\in'), 'the key is the path in lower case');
  const s = net.status();
  assert.equal(s.mode, 'off');
  assert.equal(s.sent, 0);
  assert.equal(s.delivered, 5);
});

test('with the network off, another machine cannot be reached: ERROR_BAD_NETPATH, and nothing is delivered', async () => {
  const { net, delivered } = network();
  assert.equal(statusCode(() => net.send('beta', 'status', Buffer.from('x'))), 'ERROR_BAD_NETPATH');
  assert.equal(statusCode(() => net.send('OtherDomain', 'status', Buffer.from('x'))), 'ERROR_BAD_NETPATH');
  await flush();
  assert.deepEqual(delivered, []);
});

test('a message over 424 bytes to a domain, or over 60 KiB to a host, is refused before anything is sent', async () => {
  const { net, delivered } = network({ enabled: true });
  assert.equal(statusCode(() => net.send('*', 's', Buffer.alloc(425))), 'ERROR_INVALID_PARAMETER');
  assert.equal(statusCode(() => net.send('lab', 's', Buffer.alloc(425))), 'ERROR_INVALID_PARAMETER');
  assert.equal(statusCode(() => net.send('beta', 's', Buffer.alloc(60 * 1024 + 1))), 'ERROR_INVALID_PARAMETER');
  assert.equal(statusCode(() => net.send('alpha', 's', Buffer.alloc(60 * 1024 + 1))), 'ERROR_INVALID_PARAMETER');
  net.send('*', 's', Buffer.alloc(424));
  net.send('alpha', 's', Buffer.alloc(60 * 1024));
  await flush();
  assert.deepEqual(delivered.map((d) => d.data.length), [424, 60 * 1024]);
});

test('a datagram to this domain or this host is delivered; to another host of the domain it is ignored', () => {
  const { net, delivered } = network();
  net.receive(encodeDatagram(datagram({ target: 'lab', data: Buffer.from('domain') })), FROM);
  net.receive(encodeDatagram(datagram({ target: 'Alpha', data: Buffer.from('short host') })), FROM);
  net.receive(encodeDatagram(datagram({ target: 'alpha.lab.example', data: Buffer.from('full host') })), FROM);
  net.receive(encodeDatagram(datagram({ target: 'gamma', data: Buffer.from('not ours') })), FROM);
  assert.deepEqual(
    delivered.map((d) => d.data),
    ['domain', 'short host', 'full host'],
  );
  const s = net.status();
  assert.equal(s.received, 4);
  assert.equal(s.notAddressed, 1);
  assert.equal(s.dropped.foreignDomain, 0);
});

test('a datagram for another domain is dropped as foreign; one from another domain that names this domain or host is delivered', () => {
  const { net, delivered } = network();
  net.receive(encodeDatagram(datagram({ senderDomain: 'Other', target: 'Other', data: Buffer.from('theirs') })), FROM);
  net.receive(encodeDatagram(datagram({ senderDomain: 'Other', target: 'LAB', data: Buffer.from('to our domain') })), FROM);
  net.receive(encodeDatagram(datagram({ senderDomain: 'Other', target: 'alpha', data: Buffer.from('to us') })), FROM);
  assert.deepEqual(
    delivered.map((d) => d.data),
    ['to our domain', 'to us'],
  );
  assert.equal(net.status().dropped.foreignDomain, 1);
});

test('malformed datagrams, bad paths and broadcasts over 424 bytes are dropped and counted, never delivered', () => {
  const { net, delivered, logs } = network();
  net.receive(Buffer.from('garbage'), FROM);
  net.receive(Buffer.from('more garbage'), FROM);
  net.receive(encodeDatagram(datagram({ path: 'a\\\\b' })), FROM); // an empty component
  net.receive(encodeDatagram(datagram({ path: 'bell\u0007' })), FROM);
  net.receive(encodeDatagram(datagram({ target: 'lab', data: Buffer.alloc(425) })), FROM);
  net.receive(encodeDatagram(datagram({ target: 'alpha', data: Buffer.alloc(425) })), FROM); // to a host: allowed
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0]!.data.length, 425);
  const s = net.status();
  assert.equal(s.dropped.malformed, 4);
  assert.equal(s.dropped.oversized, 1);
  assert.equal(logs.filter((l) => l.includes('malformed')).length, 1, 'logged once, then only counted');
});

test('with a secret: unsigned or wrongly signed datagrams are dropped as badHmac', () => {
  const { net, delivered } = network({ secret: SECRET });
  net.receive(encodeDatagram(datagram()), FROM);
  net.receive(encodeDatagram(datagram(), 'some other secret value'), FROM);
  net.receive(encodeDatagram(datagram({ data: Buffer.from('good') }), SECRET), FROM);
  assert.deepEqual(
    delivered.map((d) => d.data),
    ['good'],
  );
  assert.equal(net.status().dropped.badHmac, 2);
  assert.equal(net.status().signed, true);
});

test('with a secret: a replayed datagram is dropped, and so is one whose clock is too far off', () => {
  let now = 1_000_000_000_000;
  const { net, delivered } = network({ secret: SECRET, now: () => now });
  const sender = Buffer.from('0000000000000001', 'hex');
  const first = encodeDatagram(datagram({ sender, seq: 10, time: now, data: Buffer.from('10') }), SECRET);
  net.receive(first, FROM);
  net.receive(first, FROM);
  // Out of order within the window is fine; each still only once.
  net.receive(encodeDatagram(datagram({ sender, seq: 12, time: now, data: Buffer.from('12') }), SECRET), FROM);
  net.receive(encodeDatagram(datagram({ sender, seq: 11, time: now, data: Buffer.from('11') }), SECRET), FROM);
  net.receive(encodeDatagram(datagram({ sender, seq: 11, time: now, data: Buffer.from('11 again') }), SECRET), FROM);
  // A jump ahead is fine; then one far behind the newest is taken for a replay, seen or not.
  net.receive(encodeDatagram(datagram({ sender, seq: 5000, time: now, data: Buffer.from('5000') }), SECRET), FROM);
  net.receive(encodeDatagram(datagram({ sender, seq: 13, time: now, data: Buffer.from('13') }), SECRET), FROM);
  net.receive(encodeDatagram(datagram({ seq: 1, time: now - MAX_CLOCK_SKEW_MS - 1, data: Buffer.from('old') }), SECRET), FROM);
  net.receive(encodeDatagram(datagram({ seq: 2, time: now + MAX_CLOCK_SKEW_MS + 1, data: Buffer.from('future') }), SECRET), FROM);
  assert.deepEqual(
    delivered.map((d) => d.data),
    ['10', '12', '11', '5000'],
  );
  const s = net.status();
  assert.equal(s.dropped.replay, 3);
  assert.equal(s.dropped.stale, 2);
});

test('what the local mailslot makes of a message is counted', () => {
  const { net } = network({ slots: { a: 'delivered', b: 'no-mailslot', c: 'too-large', d: 'quota' } });
  for (const path of ['a', 'b', 'c', 'd', 'b']) net.receive(encodeDatagram(datagram({ path })), FROM);
  const s = net.status();
  assert.deepEqual([s.delivered, s.noMailslot, s.tooLarge, s.quota], [1, 2, 1, 1]);
});

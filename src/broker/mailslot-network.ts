/**
 * Mailslots across machines. Every object manager answers to two names: its host name and
 * its domain. A write to `\\*\mailslot\P` goes to every object manager of this domain,
 * `\\NAME\mailslot\P` to every one whose domain or host is NAME; each delivers to its own
 * mailslot P if it has one. This machine is reached directly, the others by one UDP
 * datagram (mailslot-datagram.ts) sent to a multicast group or to each configured peer,
 * unreliable as Windows' are: a host that is down or a datagram lost is never the
 * sender's failure. With the network off, only this machine is reached.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIPv4 } from 'node:net';
import { StatusError, check } from '../errors.ts';
import { parseDeviceName } from '../names.ts';
import {
  MAX_BROADCAST_MESSAGE,
  MAX_DIRECTED_MESSAGE,
  decodeDatagram,
  encodeDatagram,
  type MailslotDatagram,
} from '../protocol/mailslot-datagram.ts';
import type { MailslotNetworkStatus } from '../protocol/schema.ts';
import type { MailslotDelivery } from '../kernel/objects/mailslot.ts';
import type { MailslotNetworkConfig } from './config.ts';

/** What a local mailslot made of a message (deliverMailslotMessage's answer). */
export type Delivery = MailslotDelivery;

export interface MailslotNetworkOptions {
  host: string;
  domain: string;
  network: MailslotNetworkConfig;
  /** Put a message in this machine's mailslot `key`; called outside any request. */
  deliver(key: string, data: Uint8Array): Delivery;
  log(line: string): void;
  /** Wall clock, ms since the epoch (signed datagrams carry it). */
  wallNow?: () => number;
}

/** How far a signed datagram's clock may be from ours, either way. */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** Sequence numbers remembered per sender, for replays. */
const REPLAY_WINDOW = 1024;
/** Senders remembered, for replays; the least recently heard is forgotten first. */
const MAX_SENDERS = 4096;
/** How long a peer's resolved address is used before it is looked up again. */
const RESOLVE_TTL_MS = 30_000;
/** How long start() waits for peers' names to resolve before it serves without them. */
const FIRST_RESOLVE_MS = 2_000;

type Dropped = MailslotNetworkStatus['dropped'];

export class MailslotNetwork {
  private socket: dgram.Socket | undefined;
  private boundAddress: string | undefined;
  private id = randomBytes(8);
  private seq = 0;
  private readonly replay = new Map<string, { top: number; seen: Set<number> }>();
  private readonly hostKey: string;
  private readonly shortHostKey: string;
  private readonly domainKey: string;
  private readonly counters = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    delivered: 0,
    noMailslot: 0,
    tooLarge: 0,
    quota: 0,
    notAddressed: 0,
  };
  private readonly dropped: Dropped = { malformed: 0, oversized: 0, badHmac: 0, foreignDomain: 0, stale: 0, replay: 0 };
  private lastSendError = '';
  /** Peers named by host name: their address, looked up in the background and kept a while. */
  private readonly resolved = new Map<string, { address: string | undefined; at: number; looking: Promise<void> | undefined }>();

  constructor(private readonly options: MailslotNetworkOptions) {
    this.hostKey = options.host.toLowerCase();
    this.shortHostKey = this.hostKey.split('.')[0]!;
    this.domainKey = options.domain.toLowerCase();
  }

  get enabled(): boolean {
    return this.options.network.enabled;
  }

  /** Bind the UDP socket (when the network is on). Fails with the socket's error. */
  async start(): Promise<void> {
    const net = this.options.network;
    if (!net.enabled || this.socket !== undefined) return;
    const multicast = net.peers.length === 0;
    // Several object managers of one machine share the multicast port; a peer port is one's own.
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: multicast });
    const where = `UDP ${multicast ? '*' : (net.interface ?? '*')}:${net.port}`;
    await new Promise<void>((resolve, reject) => {
      const failed = (e: Error) => reject(new Error(`mailslot network: cannot listen on ${where}: ${e.message}`));
      socket.once('error', failed);
      // Multicast arrives only at a socket bound to the wildcard address.
      socket.bind({ port: net.port, address: multicast ? undefined : net.interface }, () => {
        socket.off('error', failed);
        resolve();
      });
    });
    socket.on('error', (e) => this.options.log(`mailslot network: ${e.message}`));
    try {
      if (multicast) {
        socket.addMembership(net.group, net.interface);
        if (net.interface !== undefined) socket.setMulticastInterface(net.interface);
        socket.setMulticastTTL(net.ttl);
        // Other object managers on this machine are members too.
        socket.setMulticastLoopback(true);
      }
    } catch (e) {
      socket.close();
      throw new Error(`mailslot network: cannot join ${net.group} on ${net.interface ?? 'the default interface'}: ${(e as Error).message}`);
    }
    socket.on('message', (msg, from) => this.receive(msg, from));
    // Names looked up before the first send, unless the resolver is slow.
    for (const p of net.peers) this.addressOf(p.address);
    const lookups = [...this.resolved.values()].map((e) => e.looking);
    if (lookups.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(lookups), new Promise((r) => (timer = setTimeout(r, FIRST_RESOLVE_MS)))]);
      clearTimeout(timer);
    }
    const a = socket.address();
    this.boundAddress = `${a.address}:${a.port}`;
    this.socket = socket;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  /**
   * Send a message written to `\\TARGET\mailslot\PATH` (the kernel's Host.sendMailslot).
   * Returns at once; this machine's mailslot gets it just after the request that wrote it.
   * Throws StatusError only when it cannot be sent at all: ERROR_INVALID_PARAMETER for a
   * message over 424 bytes to a domain or over 60 KiB to a host, ERROR_BAD_NETPATH for
   * another machine while the network is off.
   */
  send(target: string, path: string, data: Uint8Array): void {
    const t = target.toLowerCase();
    const key = path.toLowerCase();
    const toDomain = t === '*' || t === this.domainKey;
    const toSelf = t === '.' || this.isThisHost(t);
    const limit = toDomain ? MAX_BROADCAST_MESSAGE : MAX_DIRECTED_MESSAGE;
    check(
      data.length <= limit,
      'ERROR_INVALID_PARAMETER',
      `a mailslot message to ${toDomain ? 'a domain' : 'a host'} is at most ${limit} bytes, not ${data.length}`,
    );
    if (toDomain || toSelf) {
      const copy = Buffer.from(data);
      // After the request that wrote it, as a message from the network would arrive.
      queueMicrotask(() => this.deliver(key, copy));
    }
    if (toSelf) return;
    if (!this.enabled) {
      if (toDomain) return;
      throw new StatusError('ERROR_BAD_NETPATH', `\\\\${target} is not this machine and the mailslot network is off`);
    }
    this.transmit(toDomain ? this.options.domain : target, path, data);
  }

  /** One datagram off the network. */
  receive(buf: Buffer, from: { address: string; port: number }): void {
    const secret = this.options.network.secret;
    const decoded = decodeDatagram(buf, secret);
    if (decoded.ok && decoded.datagram.sender.equals(this.id)) return; // our own, looped back
    this.counters.received++;
    if (!decoded.ok) return this.drop(decoded.reason, from);
    const d = decoded.datagram;
    let key: string;
    try {
      key = parseDeviceName(`\\\\.\\mailslot\\${d.path}`, 'mailslot').key;
    } catch {
      return this.drop('malformed', from);
    }
    const t = d.target.toLowerCase();
    const toDomain = t === this.domainKey;
    if (!toDomain && !this.isThisHost(t)) {
      if (d.senderDomain.toLowerCase() === this.domainKey) this.counters.notAddressed++;
      else this.drop('foreignDomain', from);
      return;
    }
    if (secret !== undefined) {
      if (Math.abs(d.time - this.wallNow()) > MAX_CLOCK_SKEW_MS) return this.drop('stale', from);
      if (!this.firstSight(d)) return this.drop('replay', from);
    }
    if (toDomain && d.data.length > MAX_BROADCAST_MESSAGE) return this.drop('oversized', from);
    this.deliver(key, d.data);
  }

  status(): MailslotNetworkStatus {
    const net = this.options.network;
    const mode = !net.enabled ? 'off' : net.peers.length > 0 ? 'peers' : 'multicast';
    return {
      host: this.options.host,
      domain: this.options.domain,
      mode,
      address: this.boundAddress ?? null,
      group: mode === 'multicast' ? net.group : null,
      peers: net.peers.map((p) => `${p.address}:${p.port}`),
      signed: net.secret !== undefined,
      ...this.counters,
      dropped: { ...this.dropped },
    };
  }

  private isThisHost(t: string): boolean {
    return t === this.hostKey || t === this.shortHostKey;
  }

  private wallNow(): number {
    return (this.options.wallNow ?? Date.now)();
  }

  private deliver(key: string, data: Uint8Array): void {
    const result = this.options.deliver(key, data);
    if (result === 'delivered') this.counters.delivered++;
    else if (result === 'no-mailslot') this.counters.noMailslot++;
    else if (result === 'too-large') this.counters.tooLarge++;
    else this.counters.quota++;
  }

  private drop(reason: keyof Dropped, from: { address: string; port: number }): void {
    // Counted, not logged one by one: anyone on the network can send us datagrams.
    if (this.dropped[reason]++ === 0) this.options.log(`mailslot network: dropped a datagram from ${from.address}:${from.port} (${reason}); further ones are only counted`);
  }

  /** Whether this datagram is new from its sender (replays of signed datagrams are dropped). */
  private firstSight(d: MailslotDatagram): boolean {
    const sender = d.sender.toString('hex');
    let w = this.replay.get(sender);
    if (w === undefined) {
      if (this.replay.size >= MAX_SENDERS) this.replay.delete(this.replay.keys().next().value!);
      w = { top: d.seq, seen: new Set() };
    }
    this.replay.delete(sender);
    this.replay.set(sender, w); // most recently heard last
    if (d.seq + REPLAY_WINDOW <= w.top || w.seen.has(d.seq)) return false;
    w.seen.add(d.seq);
    if (d.seq > w.top) {
      w.top = d.seq;
      for (const s of w.seen) if (s + REPLAY_WINDOW <= w.top) w.seen.delete(s);
    }
    return true;
  }

  private transmit(target: string, path: string, data: Uint8Array): void {
    const socket = this.socket;
    if (socket === undefined) return; // closing
    if (this.seq === 0xffff_ffff) {
      // A fresh identity rather than a counter that wraps into the replay window.
      this.id = randomBytes(8);
      this.seq = 0;
    }
    const net = this.options.network;
    const datagram = encodeDatagram(
      { sender: this.id, seq: ++this.seq, time: this.wallNow(), target, senderHost: this.options.host, senderDomain: this.options.domain, path, data },
      net.secret,
    );
    const destinations = net.peers.length > 0 ? net.peers : [{ address: net.group, port: net.port }];
    for (const to of destinations) {
      this.counters.sent++;
      const address = this.addressOf(to.address);
      if (address === undefined) {
        this.sendFailed(to, 'address not known (yet)');
        continue;
      }
      socket.send(datagram, to.port, address, (e) => e && this.sendFailed(to, e.message));
    }
  }

  private sendFailed(to: { address: string; port: number }, why: string): void {
    this.counters.sendErrors++;
    if (why !== this.lastSendError) this.options.log(`mailslot network: cannot send to ${to.address}:${to.port}: ${why}`);
    this.lastSendError = why;
  }

  /**
   * A peer's IPv4 address. Names are looked up in the background, never while sending: a
   * datagram for a peer whose name is not resolved yet (or not at all) is not sent.
   */
  private addressOf(name: string): string | undefined {
    if (isIPv4(name)) return name;
    const now = Date.now();
    let entry = this.resolved.get(name);
    if (entry === undefined) this.resolved.set(name, (entry = { address: undefined, at: 0, looking: undefined }));
    if (entry.looking === undefined && now - entry.at >= RESOLVE_TTL_MS) {
      const e = entry;
      e.looking = new Promise((resolve) =>
        dns.lookup(name, { family: 4 }, (err, address) => {
          e.looking = undefined;
          e.at = Date.now();
          // A failed look-up keeps the last address known, if any.
          if (!err) e.address = address;
          else this.options.log(`mailslot network: cannot resolve peer ${name}: ${err.code ?? err.message}`);
          resolve();
        }),
      );
    }
    return entry.address;
  }
}

/**
 * The dashboard's HTTP server: the page built into dist/dashboard, served from disk, and a
 * live stream of the object manager's state as server-sent events (`/events`: a snapshot on
 * connect, then deltas, at most ten a second). Loopback only: it binds 127.0.0.1, answers
 * only requests whose Host (and Origin, when sent) names that address or localhost with its
 * port, so that a page of another site cannot reach it by DNS rebinding, and, on Linux,
 * only connections from this user (the peer's uid read from /proc/net/tcp), as the socket's
 * mode 0600 does for clients. docs/dashboard.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from '../kernel/inspect.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { DashboardEvent, diffSnapshots } from '../protocol/dashboard-events.ts';
import type { Snapshot } from '../protocol/inspection.ts';

/** The port `--dashboard` takes when given none (and an ephemeral one when it is taken). */
export const DEFAULT_DASHBOARD_PORT = 41139;

/** At most this many events a second per stream: changes in between are coalesced. */
const MIN_EVENT_INTERVAL_MS = 100;

/** A comment line this often keeps idle streams open through anything in between. */
const KEEPALIVE_MS = 15_000;

/** A stream that has fallen this far behind (bytes unsent) is closed; the page reconnects. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export interface DashboardOptions {
  /** The port; 0 for an ephemeral one. */
  port: number;
  /** When `port` is taken, take an ephemeral one instead of failing (the default port does). */
  fallbackToEphemeral?: boolean;
  /** The built page (default: dist/dashboard beside the compiled broker). */
  root?: string;
  log?: (line: string) => void;
}

export interface Dashboard {
  readonly port: number;
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** Close every stream and stop listening. */
  close(): Promise<void>;
}

/**
 * Serve the dashboard of `kernel` on 127.0.0.1. Fails with the listen error (EADDRINUSE,
 * EACCES) unless `fallbackToEphemeral`.
 */
export async function startDashboard(kernel: Kernel, opts: DashboardOptions): Promise<Dashboard> {
  const root = opts.root ?? defaultRoot();
  if (!fs.existsSync(path.join(root, 'index.html'))) opts.log?.(`dashboard: no page built in ${root} (npm run build); serving the live stream only`);
  const live = new LiveState(kernel, opts.log);
  let port = 0;
  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      opts.log?.(`dashboard: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    }
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!sameUser(req.socket)) return send(res, 403, 'refused: another user');
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    if (!hosts.includes((req.headers.host ?? '').toLowerCase())) return send(res, 403, 'refused: Host must be 127.0.0.1 or localhost with this port');
    const origin = req.headers.origin;
    if (origin !== undefined && !hosts.some((h) => origin.toLowerCase() === `http://${h}`)) return send(res, 403, 'refused: cross-origin request');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/events') return live.stream(res);
    if (url.pathname === '/snapshot.json') return send(res, 200, JSON.stringify(live.current()), { 'Content-Type': 'application/json' });
    serveFile(root, url.pathname, req, res);
  }

  server.on('clientError', (_e, socket) => socket.destroy());
  port = await listen(server, opts.port).catch((e: NodeJS.ErrnoException) => {
    if (!opts.fallbackToEphemeral || opts.port === 0) throw e;
    opts.log?.(`dashboard: port ${opts.port} unavailable (${e.code ?? e.message}), taking an ephemeral one`);
    return listen(server, 0);
  });
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    close: () => {
      live.close();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The stream shared by every open page: one baseline, the last state sent, from which each
 * delta is computed once for all. The kernel is observed only while a page is open.
 */
class LiveState {
  private readonly streams = new Set<http.ServerResponse>();
  private last: Snapshot | undefined;
  private unobserve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly kernel: Kernel,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.keepalive = setInterval(() => this.broadcast(': keepalive\n\n'), KEEPALIVE_MS).unref();
  }

  /** The state now (the baseline when a page is open and nothing changed since). */
  current(): Snapshot {
    if (this.streams.size > 0) {
      if (this.timer !== undefined) this.flush();
      if (this.last !== undefined) return this.last;
    }
    return inspect(this.kernel, {});
  }

  stream(res: http.ServerResponse): void {
    const snapshot = this.current();
    if (this.streams.size === 0) {
      this.last = snapshot;
      this.unobserve = this.kernel.observe(() => this.changed());
    }
    this.streams.add(res);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      ...SECURITY_HEADERS,
    });
    res.write(`retry: 1000\n${event(DashboardEvent.snapshot, snapshot)}`);
    res.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.idle();
    });
  }

  /** The kernel did some work: send what changed, no sooner than the interval after the last event. */
  private changed(): void {
    if (this.timer !== undefined) return;
    const delay = Math.max(0, this.lastSent + MIN_EVENT_INTERVAL_MS - performance.now());
    this.timer = setTimeout(() => this.flush(), delay).unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastSent = performance.now();
    if (this.last === undefined) return;
    let next: Snapshot;
    try {
      next = inspect(this.kernel, {});
    } catch (e) {
      this.log?.(`dashboard: inspection failed: ${(e as Error).stack ?? e}`);
      return;
    }
    const delta = diffSnapshots(this.last, next);
    this.last = next;
    if (delta !== null) this.broadcast(event(DashboardEvent.delta, delta));
  }

  private broadcast(text: string): void {
    for (const res of this.streams) {
      if (res.writableLength > MAX_BACKLOG) res.destroy();
      else res.write(text);
    }
  }

  private idle(): void {
    this.unobserve?.();
    this.unobserve = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const res of this.streams) res.end();
    this.idle();
  }
}

function event(name: DashboardEvent, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const PAGE_HEADERS = {
  ...SECURITY_HEADERS,
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

/** A file of the built page; `/` is index.html. Nothing outside `root` is reachable. */
function serveFile(root: string, pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return send(res, 400, 'bad path');
  }
  const file = path.join(root, path.normalize(relative));
  if (relative.includes('\0') || !file.startsWith(root + path.sep)) return send(res, 404, 'not found');
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return send(res, 404, pathname === '/' ? 'the dashboard page is not built: run npm run build' : 'not found');
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    // Vite names assets by their content hash; the page itself is always asked for again.
    'Cache-Control': relative.startsWith('/assets/') ? 'max-age=31536000, immutable' : 'no-cache',
    ...PAGE_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** dist/dashboard: beside the compiled broker (dist/broker), or from the source tree (src/broker). */
function defaultRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = path.resolve(here, '../dashboard');
  return fs.existsSync(path.join(compiled, 'index.html')) ? compiled : path.resolve(here, '../../dist/dashboard');
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

const peerChecked = new WeakMap<net.Socket, boolean>();

/**
 * Whether the peer of a loopback TCP connection runs as this user. On Linux the peer's end
 * is a line of /proc/net/tcp (local port = our remote port, remote port = our local port)
 * giving its uid; elsewhere (no /proc) every local peer is let in.
 */
function sameUser(socket: net.Socket): boolean {
  const known = peerChecked.get(socket);
  if (known !== undefined) return known;
  const uid = process.getuid?.();
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    peerChecked.set(socket, true);
    return true;
  }
  const hexPort = (n: number | undefined) => (n ?? -1).toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hexPort(socket.remotePort)}`;
  const remote = `:${hexPort(socket.localPort)}`;
  let ok = false;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(local) && fields[2]?.endsWith(remote)) {
      ok = uid === undefined || Number(fields[7]) === uid;
      break;
    }
  }
  peerChecked.set(socket, ok);
  return ok;
}

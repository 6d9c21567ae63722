/**
 * The dashboard end to end: a real object manager started with `--dashboard 0`, its page in
 * real headless Chromium (Debian's, driven by playwright-core), objects made by this test
 * process appearing in the table, and a deadlock between two threads drawn in red. The
 * screenshot is kept under test-results/. Without /usr/bin/chromium the browser test skips.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { connect, Event, Mutex, type Connection } from '../../src/client/index.ts';
import { DashboardEvent } from '../../src/protocol/dashboard-events.ts';
import type { Snapshot } from '../../src/protocol/inspection.ts';
import { startDaemon, tempDir, type Daemon } from '../helpers/daemon.ts';

const CHROMIUM = '/usr/bin/chromium';
const repo = fileURLToPath(new URL('../..', import.meta.url));
const results = path.join(repo, 'test-results');

/** GET `path` with these headers; the status and up to the first blank line of the body. */
function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
        // An event stream never ends: stop after its first event.
        if (res.headers['content-type']?.startsWith('text/event-stream') && /\n\n(?=event:)|data: .*\n\n/.test(body)) req.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body });
      res.on('end', done).on('close', done);
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
  });
}

describe('dashboard', () => {
  let daemon: Daemon;
  let port: number;

  before(async () => {
    daemon = await startDaemon({ args: ['--dashboard', '0'] });
    const m = /ntipc: dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(daemon.stdout());
    assert.ok(m, `no dashboard line in: ${daemon.stdout()}`);
    port = Number(m[1]);
  });
  after(() => daemon.stop());

  test('serves on 127.0.0.1 and refuses another Host (DNS rebinding) or Origin', async () => {
    assert.equal((await get(port, '/snapshot.json', { Host: 'evil.example:80' })).status, 403);
    assert.equal((await get(port, '/snapshot.json', { Host: `attacker.example:${port}` })).status, 403);
    assert.equal((await get(port, '/snapshot.json', { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await get(port, '/../../package.json')).status, 404);
    const ok = await get(port, '/snapshot.json', { Host: `localhost:${port}` });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray((JSON.parse(ok.body) as Snapshot).objects));
  });

  test('the event stream starts with a snapshot', async () => {
    const r = await get(port, '/events');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/event-stream/);
    assert.match(r.body, new RegExp(`^retry: \\d+\\nevent: ${DashboardEvent.snapshot}\\ndata: \\{`));
  });

  test('shows objects as they are made and a deadlock as a red cycle, in Chromium', { skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`, timeout: 90_000 }, async () => {
    assert.ok(fs.existsSync(path.join(repo, 'dist/dashboard/index.html')), 'the dashboard page is not built: run npm run build');
    const profile = tempDir('ntipc-chromium-');
    const connections: Connection[] = [];
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1280, height: 1000 },
      });
      const page: Page = context.pages()[0] ?? (await context.newPage());
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.locator('[data-live="on"]').waitFor();

      const a = await connect({ socketPath: daemon.socketPath, autoStart: false });
      const b = await connect({ socketPath: daemon.socketPath, autoStart: false });
      connections.push(a, b);
      const m1 = await Mutex.create('dash-M1', { connection: a, initialOwner: true });
      const m2 = await Mutex.create('dash-M2', { connection: b, initialOwner: true });
      const ev = await Event.create('dash-E', { connection: a, manualReset: false });
      for (const name of ['dash-M1', 'dash-M2', 'dash-E']) await page.locator(`tr[data-object-name="${name}"]`).waitFor();

      // Filters: by type, then by name.
      await page.locator('select[data-filter="type"]').selectOption('Event');
      await page.locator('tr[data-object-name="dash-M1"]').waitFor({ state: 'detached' });
      assert.equal(await page.locator('tr[data-object-name="dash-E"]').count(), 1);
      await page.locator('select[data-filter="type"]').selectOption('');
      await page.locator('input[data-filter="name"]').fill('dash-m?');
      await page.locator('tr[data-object-name="dash-E"]').waitFor({ state: 'detached' });
      assert.equal(await page.locator('tr[data-object-name^="dash-M"]').count(), 2);
      await page.locator('input[data-filter="name"]').fill('');

      // Activity: signals on the event show as a rate.
      for (let i = 0; i < 20; i++) await ev.set();
      const signalsCell = page.locator('tr[data-object-name="dash-E"] td').nth(9);
      await page.waitForFunction((el) => el !== null && el.textContent !== '0', await signalsCell.elementHandle());

      // A deadlock: thread A owns M1 and waits on M2, thread B owns M2 and waits on M1.
      const aWaits = m2.on(a).lock().catch((e: Error) => e);
      const bWaits = m1.on(b).lock().catch((e: Error) => e);
      const banner = page.locator('[data-deadlock-banner]');
      await banner.waitFor();
      assert.match((await banner.textContent()) ?? '', /deadlock: .*dash-M[12].*dash-M[12]/);
      await page.locator('tr[data-object-name="dash-M1"][data-deadlock]').waitFor();
      await page.locator('tr[data-object-name="dash-M2"][data-deadlock]').waitFor();
      assert.equal(await page.locator('svg.graph g[data-deadlock]').count(), 4, 'two threads and two mutexes in the cycle');
      assert.equal(await page.locator('svg.graph line[data-deadlock]').count(), 4, 'two waits-for and two held-by edges');
      assert.ok(await page.locator('tr[data-object-name="dash-E"]:not([data-deadlock])').count());

      fs.mkdirSync(results, { recursive: true });
      await page.screenshot({ path: path.join(results, 'dashboard-deadlock.png'), fullPage: true });

      // Thread A ends: M1 is abandoned to B, the cycle is gone from the page.
      a.close();
      await banner.waitFor({ state: 'detached' });
      await page.locator('tr[data-object-name="dash-M1"]:not([data-deadlock])').waitFor();
      const bLock = await bWaits;
      assert.ok(!(bLock instanceof Error) && bLock.abandoned, 'B gets M1, abandoned');
      assert.ok((await aWaits) instanceof Error, "A's wait ends with its connection");
      assert.deepEqual(pageErrors, []);
    } finally {
      for (const c of connections) c.close();
      await context?.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
});

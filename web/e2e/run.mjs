#!/usr/bin/env node
/* End-to-end: the built dashboard (web/dist) in Debian's Chromium, driven by
 * playwright-core, against a server on loopback started here on a free port:
 * the real `volsurf serve` when the binary has it, else the mock
 * (web/mock/server.mjs) with a clear notice.  Checks: the page loads and
 * goes live, smiles render with points and curve, switching assets works,
 * every view renders, CSV export, and a killed server shows STALE then
 * recovers after a restart.  Screenshots go to build/web-artifacts/.
 *   VOLSURF_BIN=path       the volsurf binary (default build/host/volsurf)
 *   VOLSURF_E2E_SERVER=    real | mock | auto (default auto)
 *   CHROMIUM=path          (default /usr/bin/chromium)
 * Ends with "N passed, N failed"; exit 0 only when all passed; exit 77 =
 * skipped (no chromium, or no dist).  Bounded: 120 s in all. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(WEB, '..');
const DIST = join(WEB, 'dist');
const ART = resolve(process.env.VOLSURF_WEB_ARTIFACTS ?? join(ROOT, 'build', 'web-artifacts'));
const BIN = resolve(process.env.VOLSURF_BIN ?? join(ROOT, 'build', 'host', 'volsurf'));
const CHROME = process.env.CHROMIUM ?? '/usr/bin/chromium';
const MODE = process.env.VOLSURF_E2E_SERVER ?? 'auto';
const TOTAL_MS = 120_000;

const skip = (why) => {
  console.log(`e2e SKIPPED: ${why}`);
  process.exit(77);
};
if (!existsSync(CHROME)) skip(`no Chromium at ${CHROME} (apt-get install -y chromium)`);
if (!existsSync(join(DIST, 'index.html'))) skip('web/dist not built (npm run build)');

let serveHelp = '';
function hasServe() {
  if (!existsSync(BIN)) return false;
  const r = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8', timeout: 5000 });
  serveHelp = `${r.stdout}${r.stderr}`;
  return r.status === 0 && /--static/.test(serveHelp) && !/unknown command/i.test(serveHelp);
}
let useReal = MODE === 'real' || (MODE === 'auto' && hasServe());
if (MODE === 'real' && !hasServe()) skip(`${BIN} has no 'serve' command`);
if (!useReal)
  console.log(
    MODE === 'mock' ? 'e2e: against the mock server (VOLSURF_E2E_SERVER=mock)' : `e2e: ${BIN} lacks 'serve': running against the mock server (web/mock/server.mjs) instead`,
  );

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

let server = null;
let simPort = 0; /* the built-in simulator's loopback port, when serve has one */
const serverLog = [];
function startServer(port) {
  const [cmd, argv] = useReal
    ? [BIN, ['serve', '--port', String(port), ...(/--iface/.test(serveHelp) ? ['--iface', '127.0.0.1'] : []),
        ...(simPort ? ['--listen-sim', `127.0.0.1:${simPort}`] : []), '--static', DIST, ...(process.env.VOLSURF_SERVE_ARGS ?? '').split(' ').filter(Boolean)]]
    : [process.execPath, [join(WEB, 'mock', 'server.mjs'), '--port', String(port), '--static', DIST]];
  const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d) => {
    serverLog.push(String(d));
    if (serverLog.length > 200) serverLog.shift();
  };
  p.stdout.on('data', keep);
  p.stderr.on('data', keep);
  server = p;
  return p;
}
async function stopServer() {
  const p = server;
  server = null;
  if (!p || p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}
async function waitHttp(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not answer within ${ms} ms`);
}

/* never leave a server behind, however this process ends */
process.on('exit', () => server?.kill('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE'])
  process.on(sig, () => {
    server?.kill('SIGKILL');
    process.exit(1);
  });

const results = [];
let browser = null;
const hardStop = setTimeout(async () => {
  console.log(`e2e: over ${TOTAL_MS} ms in all, aborting`);
  await stopServer();
  process.exit(1);
}, TOTAL_MS);

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`  ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`  FAIL ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
  }
}
function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  mkdirSync(ART, { recursive: true });
  const port = await freePort();
  if (useReal && /--listen-sim/.test(serveHelp)) while (!simPort || simPort === port) simPort = await freePort();
  startServer(port);
  await waitHttp(port, 15000);
  browser = await chromium.launch({
    executablePath: CHROME,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1500, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const shot = (name) => page.screenshot({ path: join(ART, `${name}.png`) });
  const live = () => page.waitForSelector('[data-testid=surface-state][data-live="1"]', { timeout: 20000 });
  const smileCounts = async () =>
    page.$eval('[data-testid=smile-chart]', (el) => [Number(el.getAttribute('data-points')), Number(el.getAttribute('data-curve'))]);

  await test('page loads, connects and shows a live surface', async () => {
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 10000 });
    await page.waitForSelector('[data-testid=conn-state][data-state=live]', { timeout: 10000 });
    await live();
    check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  });

  await test('smile renders bid/ask/mark points and the SVI curve', async () => {
    await page.waitForSelector('[data-testid=smile-chart] canvas', { timeout: 10000 });
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid=smile-chart]');
        return el && Number(el.getAttribute('data-points')) > 0 && Number(el.getAttribute('data-curve')) > 0;
      },
      null,
      { timeout: 10000 },
    );
    const [pts, curve] = await smileCounts();
    check(pts >= 3 && curve >= 20, `points ${pts}, curve ${curve}`);
    /* the canvas has ink: count non-background pixels */
    const ink = await page.$eval('[data-testid=smile-chart] canvas', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    check(ink > 500, `canvas looks empty (${ink} painted pixels)`);
    await shot('01-smile-k');
    await page.click('[data-testid=expiry-list] button:first-child');
    await page.waitForTimeout(300);
    await shot('01b-smile-first-expiry');
    await page.click('[data-testid=expiry-list] button:nth-child(5)');
    for (const m of ['strike', 'delta']) {
      await page.click(`[data-testid=x-${m}]`);
      await page.waitForTimeout(300);
      const [p2, c2] = await smileCounts();
      check(p2 > 0 && c2 > 0, `${m} axis: points ${p2}, curve ${c2}`);
      await shot(`02-smile-${m}`);
    }
    await page.click('[data-testid=x-k]');
  });

  await test('switching assets shows the other surface', async () => {
    const before = await page.textContent('[data-testid=surface-facts] b');
    /* surfaces appear as their first fits publish: wait for a second asset */
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=asset-picker] button').length >= 2, null, { timeout: 20000 });
    const assets = await page.$$eval('[data-testid=asset-picker] button', (bs) => bs.map((b) => b.getAttribute('data-asset')));
    check(assets.length >= 2, `asset picker has ${assets.length} assets`);
    const target = assets.find((a) => !before.endsWith(`.${a}`));
    await page.click(`[data-testid=asset-picker] button[data-asset="${target}"]`);
    await page.waitForFunction((a) => document.querySelector('[data-testid=surface-facts] b')?.textContent?.endsWith(`.${a}`), target, { timeout: 10000 });
    await live();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=smile-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 10000 });
    await shot(`03-switched-${target}`);
    await page.click(`[data-testid=asset-picker] button[data-asset="${before.split('.')[1]}"]`);
    await page.waitForFunction((id) => document.querySelector('[data-testid=surface-facts] b')?.textContent === id, before, { timeout: 10000 });
  });

  await test('term, RR/fly, heatmap and diagnostics views render', async () => {
    for (const [tab, sel] of [['term', 'term-chart'], ['skew', 'skew-chart'], ['heat', 'heatmap'], ['diag', 'diag-table']]) {
      await page.click(`[data-testid=tab-${tab}]`);
      await page.waitForSelector(`[data-testid=${sel}]`, { timeout: 5000 });
      await page.waitForTimeout(200);
      await shot(`04-view-${tab}`);
    }
    const rows = await page.$$eval('[data-testid=diag-table] tbody tr', (r) => r.length);
    check(rows > 0, 'diagnostics table is empty');
  });

  await test('export writes the current view as CSV', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), page.click('[data-testid=export-csv]')]);
    const path = join(ART, 'export-diag.csv');
    await dl.saveAs(path);
    const text = readFileSync(path, 'utf8');
    check(text.startsWith('surface,expiry,T,forward'), `unexpected CSV header: ${text.slice(0, 60)}`);
    check(text.split('\r\n').length > 2, 'CSV has no rows');
    await page.click('[data-testid=tab-smile]');
  });

  await test('measure: frames and long tasks while patches stream (reported, not asserted)', async () => {
    await live();
    const m = await page.evaluate(
      () =>
        new Promise((done) => {
          const conn = window.volsurf;
          const id = new URL(location.href).searchParams.get('surface');
          const seq0 = conn.store.get(id)?.seq ?? 0;
          let long = 0;
          let longMs = 0;
          const po = new PerformanceObserver((l) => {
            for (const e of l.getEntries()) (long++, (longMs += e.duration));
          });
          try {
            po.observe({ type: 'longtask', buffered: false });
          } catch {
            /* no longtask support */
          }
          const gaps = [];
          let last = performance.now();
          const t0 = last;
          const frame = (t) => {
            gaps.push(t - last);
            last = t;
            if (t - t0 < 3000) requestAnimationFrame(frame);
            else {
              po.disconnect();
              gaps.sort((a, b) => a - b);
              done({
                updates: (conn.store.get(id)?.seq ?? 0) - seq0,
                frames: gaps.length,
                p50: gaps[Math.floor(gaps.length * 0.5)],
                p99: gaps[Math.floor(gaps.length * 0.99)],
                max: gaps[gaps.length - 1],
                long,
                longMs,
              });
            }
          };
          requestAnimationFrame(frame);
        }),
    );
    console.log(
      `       3 s on the smile view: ${m.updates} surface versions applied, ${m.frames} frames, frame gap p50 ${m.p50.toFixed(1)} ms p99 ${m.p99.toFixed(1)} ms max ${m.max.toFixed(1)} ms, long tasks ${m.long} (${m.longMs.toFixed(0)} ms)`,
    );
    check(m.updates > 0, 'no surface versions arrived in 3 s');
  });

  await test('a killed server shows STALE, then recovers after restart', async () => {
    await live();
    await stopServer();
    await page.waitForSelector('[data-testid=surface-state][data-live="0"]', { timeout: 8000 });
    const label = await page.textContent('[data-testid=surface-state]');
    check(label === 'STALE', `surface state while down: ${label}`);
    const conn = await page.getAttribute('[data-testid=conn-state]', 'data-state');
    check(conn !== 'live', `connection still says ${conn}`);
    await page.waitForTimeout(1500);
    await shot('05-server-down');
    check((await page.getAttribute('[data-testid=surface-state]', 'data-live')) === '0', 'shown live while the server is down');
    startServer(port);
    await waitHttp(port, 15000);
    await page.waitForSelector('[data-testid=conn-state][data-state=live]', { timeout: 15000 });
    await live();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=smile-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 10000 });
    await shot('06-recovered');
  });

  await test('no page errors', async () => {
    check(pageErrors.length === 0, pageErrors.join('; '));
  });
}

try {
  await main();
} catch (e) {
  results.push(['setup', false]);
  console.log(`  FAIL setup: ${e instanceof Error ? e.message : e}`);
  if (serverLog.length) console.log(`server output (tail):\n${serverLog.join('').slice(-2000)}`);
} finally {
  clearTimeout(hardStop);
  if (browser) await browser.close().catch(() => {});
  await stopServer();
}
const passed = results.filter((r) => r[1]).length;
const failed = results.length - passed;
if (failed && serverLog.length) console.log(`server output (tail):\n${serverLog.join('').slice(-1500)}`);
console.log(`screenshots: ${ART}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

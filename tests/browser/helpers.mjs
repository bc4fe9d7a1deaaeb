// Helpers for the browser tests: start the real server on a free port with a
// throw-away database, add a facilitator with the CLI, launch Debian's
// Chromium through playwright-core, run axe-core, take screenshots.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const screenshotsDir = join(here, 'screenshots');
const binary = process.env.PEERCIRCLE_BIN || join(repoRoot, 'target', 'debug', 'peercircle');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts `peercircle serve` with a fresh database, and adds a facilitator.
 * @param {{email: string, name: string, password: string}} facilitator
 * @param {Record<string, string>} [extraEnv]
 */
export async function startServer(facilitator, extraEnv = {}) {
  if (!existsSync(binary)) {
    console.log(`# building the server (${binary} is missing)…`);
    const built = spawnSync('cargo', ['build'], { cwd: repoRoot, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('cargo build failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'peercircle-browser-'));
  const port = await freePort();
  const env = {
    ...process.env,
    PEERCIRCLE_LISTEN: `127.0.0.1:${port}`,
    PEERCIRCLE_DATABASE: `sqlite://${join(dir, 'peercircle.db')}`,
    PEERCIRCLE_DEMO: 'false',
    PEERCIRCLE_LOG: 'warn',
    // Every test browser joins from 127.0.0.1, which is rate-limited by default.
    PEERCIRCLE_RATE_LIMIT_LOOPBACK: 'false',
    ...extraEnv,
  };
  const add = spawnSync(binary, ['facilitator', 'add', '--email', facilitator.email, '--name', facilitator.name, '--password-stdin'], {
    cwd: repoRoot, env, input: `${facilitator.password}\n`, encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`facilitator add failed: ${add.stderr || add.stdout}`);
  const child = spawn(binary, ['serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${log}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not answer /healthz:\n${log}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    base,
    port,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); setTimeout(r, 5000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Collects page errors and console errors, so a test can assert none.
 * @param {import('playwright-core').Page} page
 * @param {string} who
 */
export function watch(page, who) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(m.text())) problems.push(`${who}: console: ${m.text()}`);
  });
  page.on('dialog', (d) => { problems.push(`${who}: unexpected browser dialog: ${d.message()}`); void d.dismiss(); });
  return problems;
}

const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Runs axe-core and returns the serious and critical violations.
 * @param {import('playwright-core').Page} page
 */
export async function axeSerious(page) {
  // Evaluated, not added as a <script>: the server's CSP forbids inline script.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // @ts-ignore
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} :: ${n.failureSummary}`),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Full-page screenshots at 1280 px and 360 px wide.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshots(page, name) {
  mkdirSync(screenshotsDir, { recursive: true });
  const original = page.viewportSize() || { width: 1280, height: 900 };
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(screenshotsDir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.waitForTimeout(50);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: join(screenshotsDir, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(original);
  if (overflow > 0) throw new Error(`the ${name} screen scrolls sideways at 360 px (${overflow} px too wide)`);
  return { overflow };
}

/**
 * A wall-clock time in a time zone as a `datetime-local` value.
 * @param {number} ms
 * @param {string} tz
 */
export function wallTime(ms, tz) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

/**
 * Waits until `fn` (run in the page) returns true.
 * @param {import('playwright-core').Page} page
 * @param {string} what
 * @param {Function} fn
 * @param {unknown} [arg]
 * @param {number} [timeout]
 */
export async function until(page, what, fn, arg, timeout = 10_000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Error(`timed out waiting for: ${what}`, { cause: e });
  }
}

/**
 * The texts of the messages in a room's log, in order.
 * @param {import('playwright-core').Page} page
 * @param {string} [room]
 */
export function logTexts(page, room = 'main') {
  return page.locator(`ol.log[data-room="${room}"] .msg-text`).allTextContents();
}

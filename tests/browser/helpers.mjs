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
 * Starts `peercircle serve` with a fresh database, and adds the facilitators.
 * @param {{email: string, name: string, password: string} | Array<{email: string, name: string, password: string}>} facilitators
 * @param {Record<string, string>} [extraEnv]
 */
export async function startServer(facilitators, extraEnv = {}) {
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
  for (const facilitator of Array.isArray(facilitators) ? facilitators : [facilitators]) {
    const add = spawnSync(binary, ['facilitator', 'add', '--email', facilitator.email, '--name', facilitator.name, '--password-stdin'], {
      cwd: repoRoot, env, input: `${facilitator.password}\n`, encoding: 'utf8',
    });
    if (add.status !== 0) throw new Error(`facilitator add failed: ${add.stderr || add.stdout}`);
  }
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

/** The two screens every test looks at: a laptop and a small phone. */
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

/**
 * Full-page screenshots at 1280×800 and 360×740 (the session screen fits
 * the window, so for it "full page" is what a person sees).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshots(page, name) {
  mkdirSync(screenshotsDir, { recursive: true });
  const original = page.viewportSize() || LAPTOP;
  await page.setViewportSize(LAPTOP);
  await page.waitForTimeout(50);
  await page.screenshot({ path: join(screenshotsDir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(PHONE);
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

/**
 * Whether an element is on screen now, without scrolling: inside the
 * viewport, shown, and not covered by something else at its centre.
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 * @returns {Promise<{ok: boolean, why: string}>}
 */
export function inView(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return { ok: false, why: 'not in the page' };
    if (el.closest('[hidden]')) return { ok: false, why: 'hidden' };
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return { ok: false, why: 'has no size' };
    const inside = r.top >= -1 && r.left >= -1 && r.bottom <= window.innerHeight + 1 && r.right <= window.innerWidth + 1;
    if (!inside) return { ok: false, why: `outside the viewport: ${JSON.stringify({ top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right), vw: window.innerWidth, vh: window.innerHeight })}` };
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(el === hit || el.contains(hit) || hit.contains(el))) return { ok: false, why: `covered by ${hit ? hit.tagName + '#' + hit.id + '.' + hit.className : 'nothing'}` };
    return { ok: true, why: '' };
  }, selector);
}

/**
 * Waits until an element is on screen without scrolling (see `inView`).
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 * @param {string} what
 * @param {number} [timeout]
 */
export async function untilInView(page, selector, what, timeout = 2000) {
  const deadline = Date.now() + timeout;
  let last = { ok: false, why: '' };
  for (;;) {
    last = await inView(page, selector);
    if (last.ok) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${selector} is not in view within ${timeout} ms (${last.why})`);
    await page.waitForTimeout(50);
  }
}

/**
 * A JSON call to the server's API from the test.
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {string} [token]
 */
export async function call(base, method, path, body, token) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text}`), { status: res.status, data });
  return data;
}

/**
 * Signs in over the API, makes a group and a session starting soon.
 * @param {string} base
 * @param {{email: string, password: string}} fac
 * @param {{group?: Record<string, unknown>, startsInMs?: number, minutes?: number}} [opts]
 */
export async function setupSession(base, fac, opts = {}) {
  const login = await call(base, 'POST', '/api/login', { email: fac.email, password: fac.password });
  const group = await call(base, 'POST', '/api/groups', {
    name: 'Tuesday evening circle', description: 'A small peer-support group.', agreement: 'What is said here stays here.',
    ...(opts.group || {}),
  }, login.token);
  const [session] = await call(base, 'POST', `/api/groups/${group.id}/sessions`, {
    starts_at: new Date(Date.now() + (opts.startsInMs ?? 2 * 60_000)).toISOString(), duration_minutes: opts.minutes ?? 60,
  }, login.token);
  return { token: login.token, facilitator: login.facilitator, group, session: session.id, joinUrl: `${base}/s/${session.id}` };
}

/**
 * Opens the facilitator console of a session in a page, signed in.
 * @param {import('playwright-core').Page} page
 * @param {string} base
 * @param {{email: string, password: string}} fac
 * @param {string} session
 */
export async function openConsole(page, base, fac, session) {
  await page.goto(`${base}/`);
  const login = await page.evaluate(async ({ email, password }) => {
    const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    return res.json();
  }, { email: fac.email, password: fac.password });
  await page.evaluate((l) => sessionStorage.setItem('peercircle.facilitator', JSON.stringify({ token: l.token, id: l.facilitator.id, name: l.facilitator.name })), login);
  await page.goto(`${base}/s/${session}?facilitate=1`);
  await page.locator('#session').waitFor();
}

/**
 * Joins a session as a participant through the page's own API call (so the
 * browser gets its device cookie), then opens the session.
 * @param {import('playwright-core').Page} page
 * @param {string} base
 * @param {string} session
 * @param {string} name
 */
export async function joinAs(page, base, session, name) {
  await page.goto(`${base}/`);
  await page.evaluate(async ({ session, name }) => {
    const res = await fetch(`/api/sessions/${session}/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, agree: true }) });
    const answer = await res.json();
    if (!res.ok) throw new Error(JSON.stringify(answer));
    localStorage.setItem(`peercircle.join.${session}`, JSON.stringify({ participant_id: answer.participant_id, token: answer.token, name }));
  }, { session, name });
  await page.goto(`${base}/s/${session}`);
  await page.locator('#session').waitFor();
}

/**
 * Counts the soft sounds a page plays (Web Audio oscillators started), so
 * a test can tell a chime from silence. Call before the page loads.
 * @param {import('playwright-core').BrowserContext} ctx
 */
export async function countSounds(ctx) {
  await ctx.addInitScript(() => {
    // @ts-ignore
    window.__sounds = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) {
      // @ts-ignore
      window.__sounds += 1;
      return start.apply(this, args);
    };
  });
}

/**
 * Asserts axe-core finds nothing serious or critical, at a laptop's and a
 * phone's size (and restores the page's size).
 * @param {import('playwright-core').Page} page
 * @param {string} screen
 */
export async function noSeriousAxeAtBothSizes(page, screen) {
  const size = page.viewportSize();
  for (const viewport of [LAPTOP, PHONE]) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(50);
    const found = await axeSerious(page);
    if (found.length) throw new Error(`axe-core found serious or critical problems on the ${screen} screen at ${viewport.width} px:\n${JSON.stringify(found, null, 2)}`);
  }
  if (size) await page.setViewportSize(size);
}

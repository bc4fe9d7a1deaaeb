// Issue 11, arriving and the dashboard: the join page says when the doors
// open before anyone fills in a form; someone who agreed and chose a name
// early waits calmly and is let in by itself when the facilitator starts
// early; `sms:` and `tel:` support contacts are real links; the dashboard
// shows the newest group first, the schedule form above the list and each
// upcoming session on one line with a working "Copy link"; a barred person
// trying again with the right access code is told about the bar (from the
// server's `error.reason`), not blamed on the code. axe-core checks each
// screen at 1280×800 and 360×740, and in dark mode.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, watch, screenshots, until, untilInView,
  setupSession, openConsole, call, noSeriousAxeAtBothSizes, LAPTOP, PHONE,
} from './helpers.mjs';

const DANA = { email: 'dana@example.org', name: 'Dana', password: 'a calm and long password' };
const SUPPORT = [
  { label: 'Samaritans: call 116 123, free, day or night', url: 'tel:116123' },
  { label: 'Shout: text SHOUT to 85258', url: 'sms:85258?body=SHOUT' },
  { label: 'NHS 111 online', url: 'https://111.nhs.uk' },
];

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer(DANA);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const noSeriousAxe = noSeriousAxeAtBothSizes;

test('an early arrival waits calmly and comes in by itself when the facilitator starts early', { timeout: 60_000 }, async () => {
  const s = await setupSession(server.base, DANA, { startsInMs: 2 * 60 * 60_000, group: { support_resources: SUPPORT } });
  const ctxKai = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const ctxDana = await browser.newContext({ viewport: LAPTOP });
  const kai = await ctxKai.newPage();
  const dana = await ctxDana.newPage();
  const problems = [watch(kai, 'Kai'), watch(dana, 'Dana')];
  // The waiting page's clock is the test's to move on.
  await kai.clock.install();

  await kai.goto(s.joinUrl);
  await kai.locator('#doors-notice').waitFor();
  await untilInView(kai, '#doors-notice', 'when the doors open, before any form');
  assert.match(await kai.locator('#doors-notice').textContent() || '', /The doors open in 1 hour 45 min, at/);
  assert.ok(await kai.evaluate(() => {
    const notice = document.getElementById('doors-notice');
    const agree = document.getElementById('agree');
    return !!notice && !!agree && (notice.compareDocumentPosition(agree) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  }), 'the notice comes before the agreement and the form');

  // "Need help now?" shows phone and text contacts as real links.
  await kai.tap('#help-open');
  await kai.locator('#help-dialog[open]').waitFor();
  assert.equal(await kai.getByRole('link', { name: 'Shout: text SHOUT to 85258' }).getAttribute('href'), 'sms:85258?body=SHOUT');
  assert.equal(await kai.getByRole('link', { name: 'Samaritans: call 116 123, free, day or night' }).getAttribute('href'), 'tel:116123');
  assert.equal(await kai.getByRole('link', { name: 'Shout: text SHOUT to 85258' }).getAttribute('target'), null, 'opens the phone\'s own app');
  await noSeriousAxe(kai, 'need help now');
  await kai.keyboard.press('Escape');

  await kai.tap('#agree');
  await kai.fill('#pseudonym', 'Kai');
  assert.equal(await kai.locator('#join-submit').textContent(), 'Wait for the doors to open');
  await noSeriousAxe(kai, 'join, early');
  await screenshots(kai, 'join-early');
  await kai.tap('#join-submit');
  await kai.locator('#waiting').waitFor();
  assert.match(await kai.locator('#waiting').textContent() || '', /You're all set, Kai\..*The doors open in 1 hour 45 min/s);
  await noSeriousAxe(kai, 'waiting for the doors');
  await kai.emulateMedia({ colorScheme: 'dark' });
  await noSeriousAxe(kai, 'waiting for the doors (dark)');
  await screenshots(kai, 'waiting');
  await kai.emulateMedia({ colorScheme: 'light' });

  // The facilitator opens the console early: the page asks again, and still waits.
  await openConsole(dana, server.base, DANA, s.session);
  await kai.clock.fastForward(21_000);
  await kai.waitForTimeout(600);
  assert.equal(await kai.locator('#waiting').count(), 1, 'still waiting while the doors are shut');

  // The facilitator starts early: the page lets Kai in by itself.
  await dana.click('#start');
  await until(dana, 'live', () => /In session/.test(document.getElementById('status-line')?.textContent || ''));
  await kai.clock.fastForward(21_000);
  await kai.locator('#session').waitFor({ timeout: 5000 });
  await until(kai, 'in the session, with the composer', () => document.getElementById('composer-text') !== null);
  await until(dana, 'Kai is in the list', () => /Kai/.test(document.getElementById('people')?.textContent || ''));

  const all = problems.flat();
  assert.deepEqual(all, [], `the pages reported problems:\n${all.join('\n')}`);
  await ctxKai.close();
  await ctxDana.close();
});

test('the dashboard: newest group first, scheduling above the list, one line per session', { timeout: 60_000 }, async () => {
  const login = await call(server.base, 'POST', '/api/login', { email: DANA.email, password: DANA.password });
  await call(server.base, 'POST', '/api/groups', { name: 'An older group', agreement: 'Be kind.' }, login.token);
  await new Promise((r) => setTimeout(r, 20));
  const newer = await call(server.base, 'POST', '/api/groups', { name: 'The newest group', agreement: 'Be kind.' }, login.token);
  for (let i = 1; i <= 3; i++) {
    await call(server.base, 'POST', `/api/groups/${newer.id}/sessions`, { starts_at: new Date(Date.now() + i * 86_400_000).toISOString(), duration_minutes: 60 }, login.token);
  }
  const ctx = await browser.newContext({ viewport: LAPTOP });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await ctx.newPage();
  const problems = watch(page, 'Dana');
  await page.goto(`${server.base}/facilitate`);
  await page.fill('#login-email', DANA.email);
  await page.fill('#login-password', DANA.password);
  await page.click('#login-form button[type=submit]');
  await until(page, 'three sessions listed', () => document.querySelectorAll('.session-row').length >= 3);
  const names = await page.locator('section.group h2').allTextContents();
  assert.equal(names[0], 'The newest group', names.join(', '));
  const card = page.locator('section.group', { hasText: 'The newest group' });
  assert.ok(await card.evaluate((c) => {
    const form = c.querySelector('details.schedule-box');
    const list = c.querySelector('ul.sessions');
    return !!form && !!list && (form.compareDocumentPosition(list) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  }), 'the schedule form is above the list');
  for (const box of await card.locator('.session-row').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height))) {
    assert.ok(box < 60, `one line per upcoming session (${box} px)`);
  }
  const row = card.locator('.session-row').first();
  await row.getByRole('button', { name: /^Copy link/ }).click();
  await until(page, 'copied', () => /The join link is copied/.test(document.getElementById('dash-status')?.textContent || ''));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await row.getAttribute('data-join-url'));
  await noSeriousAxe(page, 'dashboard');
  await page.emulateMedia({ colorScheme: 'dark' });
  await noSeriousAxe(page, 'dashboard (dark)');
  await page.emulateMedia({ colorScheme: 'light' });
  await screenshots(page, 'dashboard-groups');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a barred person is told so kindly, never blamed on the access code they typed', { timeout: 60_000 }, async () => {
  const s = await setupSession(server.base, DANA, { group: { name: 'Carers evening', access_code: 'tea-and-toast' } });
  const ctx = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  const problems = watch(page, 'Ola');
  // Ola joins from this browser (its device cookie), then is removed and barred.
  await page.goto(`${server.base}/`);
  const joined = await page.evaluate(async (session) => {
    const res = await fetch(`/api/sessions/${session}/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ola', access_code: 'tea-and-toast', agree: true }) });
    return res.json();
  }, s.session);
  await call(server.base, 'DELETE', `/api/sessions/${s.session}/participants/${joined.participant_id}?ban=true`, undefined, s.token);
  // Trying again with the right code: the words are about the bar, and the
  // code field is not marked wrong (the server's `reason` says which it is).
  await page.goto(s.joinUrl);
  await page.tap('#agree');
  await page.fill('#pseudonym', 'Ola again');
  await page.fill('#access-code', 'tea-and-toast');
  await page.tap('#join-form button[type=submit]');
  await until(page, 'the refusal', () => !document.getElementById('join-error')?.hidden);
  assert.match(await page.locator('#join-error').textContent() || '', /can't join/);
  assert.doesNotMatch(await page.locator('#join-error').textContent() || '', /code/);
  assert.equal(await page.locator('#access-code[aria-invalid="true"]').count(), 0, 'not blamed on the access code');
  assert.deepEqual(problems, []);
  await ctx.close();
});

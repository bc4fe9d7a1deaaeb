// Issue 11, "every control tells the truth": one "…" menu per message, used
// with the keyboard; focus that lands where it makes sense and never on
// <body>; a muted person and a resumed group are told; "Give stick" offered
// only when it would work; "Take the stick back" saying who gets it next; a
// refusal explained next to the control that caused it; a remove dialog
// that promises only what the server does; a removed person told kindly,
// again when they open the link, and a ban refused kindly. And a long
// conversation: the welcome holds the newest messages, "Show earlier
// messages" brings the rest, in order, without losing the reader's place.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, watch, axeSerious, screenshots, until, untilInView,
  setupSession, openConsole, joinAs, LAPTOP, PHONE,
} from './helpers.mjs';

const DANA = { email: 'dana@example.org', name: 'Dana', password: 'a calm and long password' };

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  // A small welcome (4 KiB of text), so a few long messages need paging.
  server = await startServer(DANA, { PEERCIRCLE_WELCOME_TEXT_BYTES: '4096' });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/**
 * @param {import('playwright-core').Page} page
 * @param {string} screen
 */
async function noSeriousAxe(page, screen) {
  const found = await axeSerious(page);
  assert.deepEqual(found, [], `axe-core found serious or critical problems on the ${screen} screen:\n${JSON.stringify(found, null, 2)}`);
}

/**
 * Keeps what the page says to screen readers (the polite announcer).
 * @param {import('playwright-core').BrowserContext} ctx
 */
async function recordAnnouncements(ctx) {
  await ctx.addInitScript(() => {
    /** @type {any} */ (window).__said = [];
    document.addEventListener('DOMContentLoaded', () => {
      const region = document.getElementById('announcer');
      if (!region) return;
      new MutationObserver(() => {
        if (region.textContent) /** @type {any} */ (window).__said.push(region.textContent);
      }).observe(region, { childList: true, characterData: true, subtree: true });
    });
  });
}

/** @param {import('playwright-core').Page} page */
const said = (page) => page.evaluate(() => /** @type {any} */ (window).__said.join('\n'));

/** @param {import('playwright-core').Page} page */
const focused = (page) => page.evaluate(() => document.activeElement === document.body ? 'BODY' : document.activeElement?.id || document.activeElement?.getAttribute('data-key') || document.activeElement?.tagName);

test('controls tell the truth, and focus and words follow what happens', { timeout: 120_000 }, async (t) => {
  const s = await setupSession(server.base, DANA);
  const ctxDana = await browser.newContext({ viewport: LAPTOP });
  const ctxAna = await browser.newContext({ viewport: LAPTOP });
  const ctxBen = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  await recordAnnouncements(ctxAna);
  await recordAnnouncements(ctxBen);
  // Dana's socket runs through a proxy that can hold events back, so her
  // page can act on a picture that is a moment out of date.
  const hold = { on: false, queue: /** @type {Array<() => void>} */ ([]) };
  await ctxDana.routeWebSocket(/\/ws\?session=/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => upstream.send(m));
    upstream.onMessage((m) => {
      if (hold.on && typeof m === 'string' && m.includes('"type":"event"')) hold.queue.push(() => ws.send(m));
      else ws.send(m);
    });
    upstream.onClose((code, reason) => ws.close({ code: code && code >= 3000 ? code : 1011, reason }));
    ws.onClose((code, reason) => upstream.close({ code, reason }));
  });
  const dana = await ctxDana.newPage();
  const ana = await ctxAna.newPage();
  const ben = await ctxBen.newPage();
  const problems = [watch(dana, 'Dana'), watch(ana, 'Ana'), watch(ben, 'Ben')];

  await openConsole(dana, server.base, DANA, s.session);
  await joinAs(ana, server.base, s.session, 'Ana');
  await joinAs(ben, server.base, s.session, 'Ben');

  await t.test('one "…" menu per message, by keyboard; facilitators remove rather than report', async () => {
    // Open conversation first, so everyone can write.
    await dana.uncheck('#start-stick');
    await dana.click('#start');
    await until(ana, 'live', () => /In session/.test(document.getElementById('status-line')?.textContent || ''));
    await ana.fill('#composer-text', 'Hello, I am new here.');
    await ana.press('#composer-text', 'Enter');
    await dana.fill('#composer-text', 'Welcome, Ana.');
    await dana.press('#composer-text', 'Enter');
    await until(ben, 'two messages', () => document.querySelectorAll('ol.log[data-room="main"] li.msg').length === 2);
    const stops = await ben.evaluate(() => [...document.querySelectorAll('ol.log[data-room="main"] li.msg')].map((li) =>
      [...li.querySelectorAll('button, a[href], input, textarea, select, [tabindex]')].filter((e) => e.getAttribute('tabindex') !== '-1').length));
    assert.deepEqual(stops, [1, 1], 'one tab stop per message');

    const anaMsg = ben.locator('ol.log[data-room="main"] li.msg', { hasText: 'Hello, I am new here.' });
    await anaMsg.getByRole('button', { name: "Actions for Ana's message" }).focus();
    await ben.keyboard.press('Enter');
    await until(ben, 'the menu opens on its first item', () => document.activeElement?.getAttribute('role') === 'menuitem' && /Heart/.test(document.activeElement.textContent || ''));
    assert.equal(await anaMsg.getByRole('button', { name: "Actions for Ana's message" }).getAttribute('aria-expanded'), 'true');
    const items = await ben.getByRole('menuitem').allTextContents();
    assert.deepEqual(items.map((x) => x.replace(/^[^\p{L}]+/u, '')), ['Heart', 'Clap', 'Hug', 'Thanks', 'Me too', 'Report to the facilitator…']);
    await noSeriousAxe(ben, 'message menu on a phone');
    await screenshots(ben, 'phone-message-menu');
    await ben.keyboard.press('ArrowDown');
    await ben.keyboard.press('Enter');
    await until(ana, 'Ana sees the clap', () => /Clap: 1/.test(document.querySelector('ol.log[data-room="main"] li.msg .reaction-counts')?.textContent || ''));
    assert.equal(await focused(ben), `menu-${await anaMsg.getAttribute('data-msg')}`, 'focus is back on the "…" button');
    await ben.keyboard.press('ArrowUp');
    await until(ben, 'opens on the last item', () => /Report/.test(document.activeElement?.textContent || ''));
    await ben.keyboard.press('Escape');
    assert.equal(await ben.getByRole('menu').count(), 0, 'Escape closes it');
    assert.equal(await focused(ben), `menu-${await anaMsg.getAttribute('data-msg')}`);

    await dana.locator('ol.log[data-room="main"] li.msg', { hasText: 'Hello, I am new here.' }).getByRole('button', { name: "Actions for Ana's message" }).click();
    const facItems = await dana.getByRole('menuitem').allTextContents();
    assert.ok(facItems.some((x) => /Remove this message…/.test(x)) && facItems.some((x) => /Remove Ana from the session…/.test(x)), facItems.join(' | '));
    assert.ok(!facItems.some((x) => /Report/.test(x)), 'a facilitator does not report');
    await dana.keyboard.press('Escape');
  });

  await t.test('focus follows the turn; the muted are told; resuming says so', async () => {
    await dana.check('#mode-stick');
    await dana.click('#mode-form button[type=submit]');
    await until(ana, 'stick mode', () => document.getElementById('hand') !== null);
    await ana.click('#hand');
    await until(ana, 'focus on the composer when the turn starts', () => document.activeElement?.id === 'composer-text');
    await ana.click('#done');
    await until(ana, 'focus on "Raise my hand" after "I\'m done"', () => document.activeElement?.id === 'hand');
    await ana.click('#take-break');
    await until(ana, 'focus on "I\'m back"', () => document.activeElement?.id === 'back');
    await ana.click('#back');
    await until(ana, 'focus back on "Raise my hand"', () => document.activeElement?.id === 'hand');

    await dana.click('button[aria-label="Mute Ben"]');
    await until(ben, 'Ben is told he is muted', () => /The facilitator has muted you for now/.test(/** @type {any} */ (window).__said.join('\n')));
    assert.equal(await ben.locator('#hand').isDisabled(), true);
    assert.match(await ben.locator('#actions').textContent() || '', /You're muted, so you can't raise your hand just now/);
    assert.equal(await dana.locator('button[aria-label="Give stick to Ben"]').count(), 0, 'no "Give stick" for someone muted');
    await dana.click('button[aria-label="Unmute Ben"]');
    await until(ben, 'Ben is told he can write again', () => /You can write again/.test(/** @type {any} */ (window).__said.join('\n')));

    await dana.click('#pause');
    await until(dana, 'focus on "Resume"', () => document.activeElement?.id === 'resume');
    await until(ana, 'paused', () => /Paused/.test(document.getElementById('status-line')?.textContent || ''));
    await dana.click('#resume');
    await until(ana, '"The group has resumed"', () => /The group has resumed\./.test(/** @type {any} */ (window).__said.join('\n')));
    assert.doesNotMatch((await said(ana)).split('The group has resumed.')[1] || '', /has started/, 'not "started" again');
  });

  await t.test('"Take the stick back" says who gets it next, and does that', async () => {
    await ana.click('#hand');
    await until(ana, "Ana's turn", () => document.getElementById('your-turn')?.hidden === false);
    await ben.tap('#hand');
    await until(dana, 'Ben queued', () => document.querySelectorAll('#queue .queue-item').length === 1);
    assert.equal(await dana.locator('#take-stick-hint').textContent(),
      "Ana's turn ends now, and the stick goes straight to Ben, next in the queue.");
    await dana.click('#take-stick');
    await until(ben, "Ben's turn", () => document.getElementById('your-turn')?.hidden === false);
    await until(dana, 'the hint now', () => /Ben's turn ends now, and nobody else is waiting here/.test(document.getElementById('take-stick-hint')?.textContent || ''));
  });

  await t.test('a refusal is explained next to the control that caused it', async () => {
    await ben.tap('#done');
    await until(dana, 'nobody holds', () => /Nobody has the talking stick/.test(document.getElementById('stick-controls')?.textContent || ''));
    hold.on = true;
    await ana.click('#take-break');
    await until(ana, 'Ana on a break', () => document.getElementById('back') !== null);
    // Dana's page has not heard yet, and still offers the stick to Ana.
    await dana.click('button[aria-label="Give stick to Ana"]');
    await until(dana, 'the refusal, beside the button', () => {
      const b = document.querySelector('button[aria-label="Give stick to Ana"]');
      const next = b && b.nextElementSibling;
      return !!next && next.classList.contains('refusal') && /isn't here right now/.test(next.textContent || '');
    });
    await untilInView(dana, '.refusal', 'the refusal');
    assert.match(await dana.locator('button[aria-label="Give stick to Ana"]').getAttribute('aria-describedby') || '', /refusal-give-/);
    assert.equal(await dana.locator('#notice:not([hidden])').count(), 0, 'not only at the top of the page');
    hold.on = false;
    for (const send of hold.queue.splice(0)) send();
    await until(dana, 'the button goes once Dana hears of the break', () => !document.querySelector('button[aria-label="Give stick to Ana"]'));
    await ana.click('#back');
  });

  await t.test('removing promises what the server does; the removed are told kindly, and may come back unless barred', async () => {
    await dana.click('button[aria-label="Remove Ben from the session"]');
    await dana.locator('#modal[open]').waitFor();
    assert.match(await dana.locator('#modal-body').textContent() || '', /Without this, Ben can join this session again under a new name/);
    await noSeriousAxe(dana, 'remove dialog');
    await dana.click('#modal-ok');
    await ben.locator('h1', { hasText: 'The facilitator asked you to leave this session' }).waitFor();
    await noSeriousAxe(ben, 'removed, on a phone');
    await screenshots(ben, 'phone-removed');
    await ben.reload();
    await ben.locator('h1', { hasText: 'The facilitator asked you to leave this session' }).waitFor();
    await ben.tap('#join-again');
    await ben.tap('#agree');
    await ben.fill('#pseudonym', 'Ben');
    await ben.tap('#join-form button[type=submit]');
    await ben.locator('#session').waitFor();

    // Barred: the same browser is refused, kindly, when it tries again.
    await dana.click('button[aria-label="Remove Ana from the session"]');
    await dana.check('#remove-ban');
    await dana.click('#modal-ok');
    await ana.locator('h1', { hasText: 'The facilitator asked you to leave this session' }).waitFor();
    await ana.click('#join-again');
    await ana.click('#agree');
    await ana.fill('#pseudonym', 'Ana again');
    await ana.click('#join-form button[type=submit]');
    await until(ana, 'the kind refusal', () => /You can't join this group's sessions/.test(document.getElementById('join-error')?.textContent || ''));
    assert.equal(await ana.locator('#access-code[aria-invalid="true"]').count(), 0, 'not blamed on an access code');
  });

  const all = problems.flat();
  assert.deepEqual(all, [], `the pages reported problems:\n${all.join('\n')}`);
  for (const c of [ctxDana, ctxAna, ctxBen]) await c.close();
});

test('"Show earlier messages" brings the older part of a long conversation, in order', { timeout: 60_000 }, async () => {
  const s = await setupSession(server.base, DANA);
  const ctxDana = await browser.newContext({ viewport: LAPTOP });
  const ctxAna = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const dana = await ctxDana.newPage();
  const ana = await ctxAna.newPage();
  const problems = [watch(dana, 'Dana'), watch(ana, 'Ana')];
  await openConsole(dana, server.base, DANA, s.session);
  await dana.uncheck('#start-stick');
  await dana.click('#start');
  const texts = Array.from({ length: 30 }, (_, i) => `Message ${String(i + 1).padStart(2, '0')}: ${'a calm and fairly long sentence, '.repeat(9)}`.trimEnd());
  for (const text of texts) {
    await dana.fill('#composer-text', text);
    await dana.press('#composer-text', 'Enter');
  }
  await until(dana, 'all sent', () => document.querySelectorAll('ol.log[data-room="main"] li.msg').length === 30 && document.querySelectorAll('.msg-pending').length === 0);

  await joinAs(ana, server.base, s.session, 'Ana');
  const shown = () => ana.locator('ol.log[data-room="main"] .msg-text').allTextContents();
  const first = await shown();
  assert.ok(first.length > 0 && first.length < 30, `the welcome holds the newest messages only (${first.length})`);
  assert.deepEqual(first, texts.slice(30 - first.length), 'the newest, in order');
  const earlier = ana.getByRole('button', { name: 'Show earlier messages' });
  assert.equal(await earlier.count(), 1);
  let count = first.length;
  for (let round = 0; round < 10 && (await earlier.count()) > 0; round++) {
    await earlier.focus();
    await ana.keyboard.press('Enter');
    await until(ana, 'older messages arrive', (n) => document.querySelectorAll('ol.log[data-room="main"] li.msg').length > n, count);
    count = (await shown()).length;
    assert.notEqual(await focused(ana), 'BODY', 'focus stays in the conversation');
  }
  assert.deepEqual(await shown(), texts, 'every message, once, in order');
  assert.equal(await earlier.count(), 0, 'no button once nothing older is left');
  await until(ana, 'said so', () => /earlier messages? shown above/.test(/** @type {any} */ (window).__said?.join('\n') || document.getElementById('announcer')?.textContent || ''));
  const all = problems.flat();
  assert.deepEqual(all, [], `the pages reported problems:\n${all.join('\n')}`);
  await ctxDana.close();
  await ctxAna.close();
});

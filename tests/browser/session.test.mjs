// A facilitator and two participants, in three browser contexts, run a whole
// session against the real server: dashboard sign-in and scheduling, join
// with the agreement, lobby, hands up, the stick passing, a participant on a
// break skipped, pause with its reason, mute, a dropped socket resumed with
// nothing lost, remove, end. axe-core checks the main screens; screenshots of
// each main screen at 1280 px and 360 px go to tests/browser/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  startServer, launchBrowser, watch, axeSerious, screenshots, screenshotsDir, wallTime, until, logTexts, noSeriousAxeAtBothSizes, LAPTOP,
} from './helpers.mjs';

const FAC = { email: 'facilitator@example.org', name: 'Dana', password: 'a calm and long password' };

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {string[]} */
const problems = [];

before(async () => {
  console.log(`# screenshots: ${screenshotsDir}`);
  // A 28 s warning, so the client must take the seconds from the server.
  server = await startServer(FAC, { PEERCIRCLE_GRACE_SECS: '30', PEERCIRCLE_TURN_WARNING_SECS: '28' });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  console.log(`# screenshots written to ${screenshotsDir}`);
});

/**
 * @param {import('playwright-core').Page} page
 * @param {string} screen
 */
async function noSeriousAxe(page, screen) {
  const found = await axeSerious(page);
  assert.deepEqual(found, [], `axe-core found serious or critical problems on the ${screen} screen:\n${JSON.stringify(found, null, 2)}`);
}

test('a facilitator and two participants run a session', { timeout: 170_000 }, async (t) => {
  const ctxF = await browser.newContext({ viewport: LAPTOP });
  const ctxA = await browser.newContext({ viewport: LAPTOP });
  const ctxB = await browser.newContext({ viewport: LAPTOP });

  // Participant A's socket runs through a proxy the test controls, so the
  // test can drop it "from the server side" and hold the line down.
  const proxy = {
    down: false, dropAcks: false, links: /** @type {Array<() => void>} */ ([]), opened: 0,
    /** frames the page sent, parsed */ sent: /** @type {any[]} */ ([]),
    /** welcome frames the page got */ welcomes: /** @type {any[]} */ ([]),
  };
  await ctxA.routeWebSocket(/\/ws\?session=/, (ws) => {
    if (proxy.down) {
      ws.close({ code: 1011, reason: 'server away' });
      return;
    }
    proxy.opened += 1;
    const upstream = ws.connectToServer();
    ws.onMessage((m) => {
      try { proxy.sent.push(JSON.parse(String(m))); } catch { /* not JSON */ }
      upstream.send(m);
    });
    upstream.onMessage((m) => {
      if (typeof m === 'string' && m.includes('"welcome"')) {
        try { const f = JSON.parse(m); if (f.type === 'welcome') proxy.welcomes.push(f); } catch { /* not JSON */ }
      }
      if (proxy.dropAcks && typeof m === 'string' && m.includes('"type":"ack"')) return;
      ws.send(m);
    });
    upstream.onClose((code, reason) => ws.close({ code: code && code >= 3000 ? code : 1011, reason }));
    ws.onClose((code, reason) => upstream.close({ code, reason }));
    proxy.links.push(() => {
      upstream.close({ code: 1000, reason: 'test drops' });
      ws.close({ code: 1011, reason: 'server dropped the socket' });
    });
  });

  const fac = await ctxF.newPage();
  const alex = await ctxA.newPage();
  const kai = await ctxB.newPage();
  problems.push(...[]);
  const pf = watch(fac, 'facilitator');
  const pa = watch(alex, 'Alex');
  const pb = watch(kai, 'Kai');

  /** @type {string} */
  let joinUrl = '';

  await t.test('the facilitator signs in, creates a group and schedules a session', async () => {
    await fac.goto(`${server.base}/facilitate`);
    await fac.fill('#login-email', FAC.email);
    await fac.fill('#login-password', FAC.password);
    await fac.click('#login-form button[type=submit]');
    await fac.locator('#new-group').waitFor();
    await fac.click('#new-group');
    await fac.fill('#gf-name', 'Thursday carers circle');
    await fac.fill('#gf-description', 'For anyone caring for someone they love. Come as you are.');
    await fac.fill('#gf-capacity', '12');
    await fac.click('#group-form button[type=submit]');
    const card = fac.locator('section.group').first();
    await card.waitFor();
    // A new group opens its schedule form by itself, above the (empty) list.
    await until(fac, 'the schedule form opens', () => document.querySelector('section.group details.schedule-box')?.hasAttribute('open'));
    assert.ok(await card.evaluate((c) => {
      const form = c.querySelector('details.schedule-box');
      const list = c.querySelector('ul.sessions');
      return !!form && !!list && (form.compareDocumentPosition(list) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    }), 'the schedule form is above the list');
    await card.locator('input[type="datetime-local"]').fill(wallTime(Date.now() + 3 * 60_000, 'Europe/London'));
    await card.locator('input[type="number"]').first().fill('60');
    await card.locator('form.schedule button[type=submit]').click();
    const row = card.locator('.session-row').first();
    await row.waitFor();
    joinUrl = await row.getAttribute('data-join-url') || '';
    const rowBox = await row.boundingBox();
    assert.ok(rowBox && rowBox.height < 70, `an upcoming session is one compact line (${rowBox && rowBox.height} px)`);
    assert.match(joinUrl, /\/s\/[^/]+$/);
    assert.match(await card.locator('a[href$="calendar.ics"]').getAttribute('href') || '', /\/api\/groups\/.+\/calendar\.ics$/);
    // Edit the group: add an access code.
    await card.getByRole('button', { name: 'Edit Thursday carers circle' }).click();
    await fac.locator('#group-form').waitFor();
    assert.equal(await fac.inputValue('#gf-name'), 'Thursday carers circle');
    await fac.fill('#gf-code', 'tea-and-biscuits');
    await fac.click('#group-form button[type=submit]');
    await until(fac, 'the code is set', () => /access code set/.test(document.querySelector('section.group')?.textContent || ''));
    await noSeriousAxe(fac, 'dashboard');
    await screenshots(fac, 'dashboard');
  });

  await t.test('two participants read the agreement, agree, pick a pseudonym and wait in the lobby', async () => {
    for (const [page, name] of /** @type {const} */ ([[alex, 'Alex'], [kai, 'Kai']])) {
      await page.goto(joinUrl);
      await page.locator('#agree').waitFor();
      assert.equal(await page.locator('#join-form').isVisible(), false, 'nothing before the agreement');
      assert.ok(await page.locator('#help-open').isVisible(), '"Need help now?" is visible');
      await page.click('#agree');
      await page.locator('#pseudonym').waitFor();
      if (name === 'Alex') {
        // The pseudonym rules are explained inline.
        await page.fill('#pseudonym', 'alex@example.org');
        await page.click('#join-form button[type=submit]');
        await page.locator('#pseudonym-error').waitFor();
        assert.match(await page.locator('#pseudonym-error').textContent() || '', /e-mail/);
        await noSeriousAxe(page, 'join');
        await screenshots(page, 'join');
      }
      await page.fill('#pseudonym', name);
      if (name === 'Kai') {
        // A wrong code is refused kindly, and the right one lets Kai in.
        await page.fill('#access-code', 'coffee');
        await page.click('#join-form button[type=submit]');
        await until(page, 'the wrong-code sentence', () => /didn't match/.test(document.getElementById('join-error')?.textContent || ''));
      }
      assert.equal(await page.locator('#access-code').isVisible(), true, 'the access code field is shown when needed');
      await page.fill('#access-code', 'tea-and-biscuits');
      await page.click('#join-form button[type=submit]');
      await page.locator('#lobby').waitFor();
    }
    assert.match(await alex.locator('#lobby').textContent() || '', /starts|start/);
    await noSeriousAxeAtBothSizes(alex, 'lobby');
    await screenshots(alex, 'lobby');
    // "Need help now?" opens the group's support resources.
    await kai.click('#help-open');
    await kai.locator('#help-dialog .support-list a').first().waitFor();
    await kai.keyboard.press('Escape');
  });

  await t.test('the facilitator opens the console and starts; the stick passes by raised hands', async () => {
    await fac.goto(joinUrl.replace(/\/s\//, '/s/') + '?facilitate=1');
    await fac.locator('#start').waitFor();
    await fac.click('#start');
    for (const page of [alex, kai]) await page.locator('#composer').waitFor({ state: 'visible' });

    // Talking stick mode, 5-minute turns.
    await fac.check('#mode-stick');
    await fac.fill('#turn-seconds', '300');
    await fac.click('#mode-form button[type=submit]');
    await until(kai, 'stick mode', () => /has the stick|Nobody has the stick/.test(document.getElementById('status-line')?.textContent || ''));

    // Alex raises a hand and gets the stick at once; Kai raises and waits.
    await alex.click('#hand');
    await until(alex, 'Alex holds the stick', () => document.getElementById('your-turn')?.hidden === false);
    assert.match(await alex.title(), /Your turn/);
    await kai.click('#hand');
    await until(kai, 'Kai is 1st in the queue', () => /Alex has the talking stick, you are 1st in the queue/.test(document.getElementById('composer-reason')?.textContent || ''));
    assert.equal(await kai.locator('#send').isDisabled(), true, 'Kai cannot send while Alex has the stick');

    await alex.fill('#composer-text', 'Thank you for having me. It has been a long week.');
    await alex.click('#send');
    await until(kai, "Kai sees Alex's message", () => [...document.querySelectorAll('ol.log[data-room="main"] .msg-text')].some((e) => e.textContent === 'Thank you for having me. It has been a long week.'));
    await noSeriousAxeAtBothSizes(kai, 'session');
    await screenshots(kai, 'session-participant');

    // Alex is done: the stick goes to Kai.
    await alex.click('#done');
    await until(kai, 'Kai holds the stick', () => document.getElementById('your-turn')?.hidden === false);
    await until(fac, 'the console shows Kai holding', () => /Kai has the talking stick/.test(document.getElementById('stick-controls')?.textContent || ''));
  });

  await t.test('a participant on a break keeps their place and is skipped', async () => {
    await alex.click('#hand');
    await until(alex, 'Alex is 1st in the queue', () => /1st in the queue/.test(document.getElementById('status-line')?.textContent || ''));
    await alex.click('#take-break');
    await until(alex, 'Alex sees "You\'re on a break. Your place is kept."', () => /You're on a break\. Your place is kept\./.test(document.querySelector('#actions .break-box')?.textContent || ''));
    await until(alex, 'focus moves to "I\'m back"', () => document.activeElement?.id === 'back');
    await alex.click('.break-note-box summary');
    await alex.fill('#break-note', 'back in a few minutes');
    await alex.click('#break-note-save');
    await until(kai, "Kai sees Alex's break and note", () => /On a break: back in a few minutes/.test(document.querySelector('#people [data-person]:not(.presence-online)')?.textContent || ''));

    await kai.click('#done');
    await until(fac, 'nobody holds: Alex was skipped', () => /Nobody has the talking stick/.test(document.getElementById('stick-controls')?.textContent || ''));
    const alexRow = fac.locator('#queue .queue-item');
    assert.equal(await alexRow.count(), 1, 'Alex keeps a place in the queue');
    assert.match(await alexRow.first().textContent() || '', /Alex.*on a break \(skipped until back\)/);
    assert.equal(await fac.getByRole('button', { name: 'Give stick to Alex' }).count(), 0, '"Give stick" is not offered for someone on a break');

    await alex.click('#back');
    await until(alex, 'Alex is back and holds the stick', () => document.getElementById('your-turn')?.hidden === false);
    await alex.click('#done');
    await until(fac, 'nobody holds', () => /Nobody has the talking stick/.test(document.getElementById('stick-controls')?.textContent || ''));
    // A short turn shows the gentle warning on the turn clock.
    await fac.fill('#turn-seconds', '30');
    await fac.click('#mode-form button[type=submit]');
    await alex.click('#hand');
    await until(alex, 'the gentle warning, with the server\'s seconds', () => /About 28 seconds left; no rush, finish your thought/.test(document.getElementById('your-turn')?.textContent || ''));
    await until(kai, 'the clock says nearly time', () => /left · nearly time/.test(document.getElementById('turn-clock')?.textContent || ''));
    await alex.click('#done');
    await until(fac, 'nobody holds again', () => /Nobody has the talking stick/.test(document.getElementById('stick-controls')?.textContent || ''));
    await noSeriousAxeAtBothSizes(fac, 'facilitator session');
    await screenshots(fac, 'session-facilitator');
  });

  await t.test('pause disables the composer and says why', async () => {
    await fac.fill('#pause-note', 'Let us take a breath together');
    await fac.click('#pause');
    for (const page of [alex, kai]) {
      await until(page, 'paused reason', () => /Paused by the facilitator: Let us take a breath together/.test(document.getElementById('composer-reason')?.textContent || ''));
      assert.equal(await page.locator('#send').isDisabled(), true);
    }
    await screenshots(kai, 'session-paused');

    // While paused nobody is handed the stick, so the queue can be arranged:
    // by keyboard (Alt + ArrowUp) and by pointer (dragging the handle).
    await alex.click('#hand');
    await until(fac, 'Alex queued', () => document.querySelectorAll('#queue .queue-item').length === 1);
    await kai.click('#hand');
    const order = () => fac.locator('#queue .queue-item .queue-name > span:first-child').allTextContents();
    await until(fac, 'two queued', () => document.querySelectorAll('#queue .queue-item').length === 2);
    // Fair order: Kai has had fewer turns than Alex, so Kai goes first.
    assert.deepEqual(await order(), ['Kai', 'Alex']);
    await fac.getByRole('button', { name: 'Move Alex up' }).focus();
    await fac.keyboard.press('Alt+ArrowUp');
    await until(fac, 'Alex moved up', () => /Alex/.test(document.querySelector('#queue .queue-item .queue-name')?.textContent || ''));
    assert.deepEqual(await order(), ['Alex', 'Kai']);
    assert.equal(await fac.evaluate(() => document.activeElement?.closest('.queue-item')?.textContent?.includes('Alex')), true, 'focus stays with Alex');
    await until(alex, 'Alex is 1st', () => /You are 1st in the queue/.test(document.getElementById('status-line')?.textContent || ''));
    const handle = fac.locator('#queue .queue-item').first().locator('.drag-handle');
    const target = fac.locator('#queue .queue-item').last();
    const hb = await handle.boundingBox();
    const tb = await target.boundingBox();
    await fac.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await fac.mouse.down();
    await fac.mouse.move(hb.x + hb.width / 2, tb.y + tb.height - 4, { steps: 6 });
    await fac.mouse.up();
    await until(fac, 'Alex dragged below Kai', () => /Kai/.test(document.querySelector('#queue .queue-item .queue-name')?.textContent || ''));
    assert.deepEqual(await order(), ['Kai', 'Alex']);
    await fac.getByRole('button', { name: "Lower Alex's hand" }).click();
    await fac.getByRole('button', { name: "Lower Kai's hand" }).click();
    await until(fac, 'queue empty', () => document.querySelectorAll('#queue .queue-item').length === 0);

    await fac.click('#resume');
    await until(kai, 'resumed', () => !/Paused/.test(document.getElementById('composer-reason')?.textContent || ''));
  });

  await t.test('mute stops one person sending and says so', async () => {
    await fac.check('#mode-open');
    await fac.click('#mode-form button[type=submit]');
    await until(kai, 'open mode', () => document.getElementById('send') instanceof HTMLButtonElement && !document.getElementById('send').disabled);
    await fac.getByRole('button', { name: 'Mute Kai' }).click();
    await until(kai, 'Kai is muted', () => /You are muted/.test(document.getElementById('composer-reason')?.textContent || ''));
    assert.equal(await kai.locator('#send').isDisabled(), true);
    assert.equal(await alex.locator('#send').isDisabled(), false, 'Alex can still send');
    await fac.getByRole('button', { name: 'Unmute Kai' }).click();
    await until(kai, 'Kai is unmuted', () => !document.getElementById('send')?.hasAttribute('disabled'));
  });

  await t.test('content notes, reactions, reports, "I\'m struggling", private check-ins, redaction, announcements, side rooms', async () => {
    const grief = 'My mum died last spring and the house is so quiet.';
    await kai.click('#composer summary');
    await kai.fill('#composer-cw', 'grief');
    await kai.fill('#composer-text', grief);
    await kai.click('#send');
    const msg = alex.locator('ol.log[data-room="main"] li.msg', { hasText: 'Content note: grief' });
    await msg.waitFor();
    assert.equal(await msg.locator('.msg-text').isVisible(), false, 'hidden behind "Show"');
    await msg.getByRole('button', { name: 'Show' }).click();
    assert.equal(await msg.locator('.msg-text').textContent(), grief);

    await msg.getByRole('button', { name: "Actions for Kai's message" }).click();
    await msg.getByRole('menuitem', { name: 'Heart' }).click();
    await until(kai, 'Kai sees the heart', () => /Heart: 1/.test(document.querySelector('ol.log[data-room="main"] li.msg:last-child .reaction-counts')?.textContent || ''));

    await alex.locator('ol.log[data-room="main"] li.msg', { hasText: 'Content note: grief' }).getByRole('button', { name: "Actions for Kai's message" }).click();
    await alex.getByRole('menuitem', { name: 'Report to the facilitator…' }).click();
    await alex.locator('#modal[open]').waitFor();
    await alex.check('#report-reason-1');
    await alex.click('#modal-ok');
    await until(fac, 'the report reaches the inbox', () => /Alex reported a message by Kai/.test(document.getElementById('inbox')?.textContent || ''));

    await kai.click('#struggling');
    await kai.locator('#modal[open]').waitFor();
    await kai.fill('#help-note', 'Today is the anniversary');
    await kai.click('#modal-ok');
    await until(fac, 'the help request reaches the inbox', () => /Kai asked for help/.test(document.getElementById('inbox')?.textContent || ''));
    // The inbox survives a reload of the console (it comes back in the snapshot).
    await fac.reload();
    await until(fac, 'the inbox after a reload', () => /Kai asked for help/.test(document.getElementById('inbox')?.textContent || '') && /Alex reported a message by Kai/.test(document.getElementById('inbox')?.textContent || ''));
    await screenshots(fac, 'facilitator-inbox');

    // A private check-in, and Kai's answer.
    await fac.locator('#inbox .inbox-help').getByRole('button', { name: 'Check in privately' }).click();
    await fac.fill('#dm-text', 'I am here, Kai. Would you like a quiet moment?');
    await fac.click('#dm-send');
    await until(kai, 'Kai gets the check-in', () => /Would you like a quiet moment/.test(document.getElementById('private')?.textContent || ''));
    await kai.fill('#dm-text', 'Thank you, I will be okay.');
    await kai.click('#dm-send');
    await until(fac, 'the facilitator gets the answer', () => /I will be okay/.test(document.getElementById('private')?.textContent || ''));
    assert.doesNotMatch(await alex.locator('#private').textContent() || '', /quiet moment/, 'Alex does not see it');

    // Redaction from the report.
    await fac.locator('#inbox .inbox-report').getByRole('button', { name: 'Remove the message' }).click();
    await fac.locator('#modal[open]').waitFor();
    await fac.click('#modal-ok');
    await until(alex, 'the message is taken down', () => /This message was removed by the facilitator/.test(document.querySelector('ol.log[data-room="main"]')?.textContent || ''));

    // An announcement, and a side room.
    await fac.fill('#announce-text', 'Five minutes of quiet reflection now.');
    await fac.click('#announce-form button[type=submit]');
    await until(alex, 'the announcement', () => /Five minutes of quiet reflection/.test(document.getElementById('announcement')?.textContent || ''));
    await fac.fill('#room-name', 'Quiet corner');
    await fac.click('#room-form button[type=submit]');
    await alex.getByRole('tab', { name: 'Quiet corner' }).waitFor();
    await alex.getByRole('tab', { name: 'Quiet corner' }).click();
    await alex.fill('#composer-text', 'Just sitting here for a bit.');
    await alex.click('#send');
    await until(kai, 'the side room tab counts the new message', () => /Quiet corner \(1 new\)/.test(document.getElementById('room-tabs')?.textContent || ''));
    await alex.getByRole('tab', { name: 'Main circle' }).click();

    // Dark scheme: still no serious axe problem (contrast included).
    await kai.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await noSeriousAxeAtBothSizes(kai, 'session (dark)');
    await screenshots(kai, 'session-dark');
    await kai.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  });

  await t.test('a dropped socket resumes and nothing typed is lost', async () => {
    // 1. Alex sends; the server applies it, but the ack never arrives.
    proxy.dropAcks = true;
    await alex.fill('#composer-text', 'First message, its ack gets lost');
    await alex.click('#send');
    await until(kai, 'Kai sees the first message', () => [...document.querySelectorAll('ol.log[data-room="main"] .msg-text')].some((e) => e.textContent === 'First message, its ack gets lost'));
    // 2. The server drops the socket and stays away for a moment.
    proxy.down = true;
    for (const drop of proxy.links.splice(0)) drop();
    await until(alex, 'the Reconnecting banner', () => { const b = document.getElementById('banner'); return !!b && !b.hidden && /Reconnecting/.test(b.textContent || ''); });
    await screenshots(alex, 'session-reconnecting');
    // 3. Meanwhile Alex sends a second message and keeps typing a third; Kai writes too.
    await alex.fill('#composer-text', 'Second message, written while offline');
    await alex.click('#send');
    await alex.fill('#composer-text', 'A draft I have not sent yet');
    await kai.fill('#composer-text', 'Kai, while Alex was away');
    await kai.click('#send');
    await until(kai, 'Kai sees own message', () => [...document.querySelectorAll('ol.log[data-room="main"] .msg-text')].some((e) => e.textContent === 'Kai, while Alex was away'));
    await alex.waitForTimeout(800);
    // 4. The server is back: Alex resumes, resends with the same refs.
    proxy.dropAcks = false;
    proxy.down = false;
    await until(alex, 'the banner goes away', () => document.getElementById('banner')?.hidden === true, undefined, 25_000);
    await until(alex, "Alex has Kai's message and both of its own", () => {
      const texts = [...document.querySelectorAll('ol.log[data-room="main"] .msg-text')].map((e) => e.textContent);
      return texts.includes('Kai, while Alex was away') && texts.includes('Second message, written while offline') && document.querySelectorAll('.msg-pending').length === 0;
    });
    await until(kai, "Kai has Alex's offline message", () => [...document.querySelectorAll('ol.log[data-room="main"] .msg-text')].some((e) => e.textContent === 'Second message, written while offline'));
    for (const page of [alex, kai]) {
      const texts = await logTexts(page);
      assert.equal(texts.filter((x) => x === 'First message, its ack gets lost').length, 1, 'the resent command was not applied twice');
      assert.equal(texts.filter((x) => x === 'Second message, written while offline').length, 1);
      assert.equal(texts.filter((x) => x === 'Kai, while Alex was away').length, 1);
    }
    assert.equal(await alex.locator('#composer-text').inputValue(), 'A draft I have not sent yet', 'the draft survived');
    assert.ok(proxy.opened >= 2, 'Alex reconnected');
    // The unacknowledged command went out again with the same ref…
    const first = proxy.sent.filter((f) => f.type === 'say' && f.text === 'First message, its ack gets lost');
    assert.ok(first.length >= 2, 'the unacknowledged say was resent');
    assert.ok(first.every((f) => f.ref === first[0].ref), 'with the same ref');
    // …after a hello that resumed with epoch and last_seq.
    const hellos = proxy.sent.filter((f) => f.type === 'hello');
    const last = hellos[hellos.length - 1];
    assert.ok(last.epoch && typeof last.last_seq === 'number', `the reconnect hello resumes: ${JSON.stringify({ ...last, token: '…' })}`);
    assert.equal(proxy.welcomes[proxy.welcomes.length - 1].resumed, true, 'the server resumed the session');
  });

  await t.test('the facilitator removes a participant; their page says so', async () => {
    await fac.getByRole('button', { name: 'Remove Kai' }).click();
    await fac.locator('#modal[open]').waitFor();
    await fac.click('#modal-ok');
    await kai.locator('h1', { hasText: 'The facilitator asked you to leave this session' }).waitFor();
    await until(alex, 'Kai is gone from the list', () => ![...document.querySelectorAll('#people .person-name')].some((e) => e.textContent === 'Kai'));
    await screenshots(kai, 'removed');
    // A reload does not bring Kai back in, and says so again; with the group
    // locked, joining again is refused kindly.
    await fac.click('#lock');
    await until(fac, 'locked', () => document.getElementById('lock')?.getAttribute('aria-pressed') === 'true');
    await kai.reload();
    await kai.locator('h1', { hasText: 'The facilitator asked you to leave this session' }).waitFor();
    await kai.click('#join-again');
    await kai.locator('#agree').waitFor();
    await kai.click('#agree');
    await kai.fill('#pseudonym', 'Kai again');
    await kai.fill('#access-code', 'tea-and-biscuits');
    await kai.click('#join-form button[type=submit]');
    await until(kai, 'the locked sentence', () => /closed the group to new people/.test(document.getElementById('join-error')?.textContent || ''));
  });

  await t.test('the facilitator ends the session', async () => {
    await fac.click('#end');
    await fac.locator('#modal[open]').waitFor();
    await fac.click('#modal-ok');
    await alex.locator('h1', { hasText: 'The session has ended' }).waitFor();
    await noSeriousAxeAtBothSizes(alex, 'ended');
    await screenshots(alex, 'ended');
    // The facilitator lands on the dashboard with the session's summary.
    await fac.waitForURL(/\/facilitate\?summary=/);
    await until(fac, 'the summary', () => /Who came/.test(document.getElementById('summary')?.textContent || ''));
    const summary = await fac.locator('#summary').textContent() || '';
    assert.match(summary, /Alex/);
    assert.match(summary, /Kai asked for help\. Seen by Dana after/);
    assert.match(summary, /Alex reported a message by Kai\. Seen by Dana after/, 'removing the reported message marked it seen');
    assert.doesNotMatch(summary, /Thank you for having me|house is so quiet/, 'never message text');
    // A copy to keep, as a file: the same facts, never message text.
    const [download] = await Promise.all([fac.waitForEvent('download'), fac.click('#summary-download')]);
    const kept = readFileSync(await download.path(), 'utf8');
    assert.match(kept, /^Session summary: Thursday carers circle/);
    assert.match(kept, /- Kai \(asked to leave\): 1 turn/);
    assert.match(kept, /Kai: seen by Dana after/);
    assert.doesNotMatch(kept, /Thank you for having me|house is so quiet|anniversary/, 'never message text or notes');
    await noSeriousAxeAtBothSizes(fac, 'summary');
    await fac.emulateMedia({ colorScheme: 'dark' });
    await noSeriousAxeAtBothSizes(fac, 'summary (dark)');
    await fac.emulateMedia({ colorScheme: 'light' });
    await screenshots(fac, 'summary');
  });

  const all = [...pf, ...pa, ...pb];
  assert.deepEqual(all, [], `the pages reported problems:\n${all.join('\n')}`);
  await ctxF.close();
  await ctxA.close();
  await ctxB.close();
});

test('the landing page and an out-of-date link are calm and accessible', { timeout: 30_000 }, async () => {
  const ctx = await browser.newContext({ viewport: LAPTOP });
  const page = await ctx.newPage();
  const seen = watch(page, 'visitor');
  await page.goto(`${server.base}/`);
  await page.locator('h1', { hasText: 'Welcome to peercircle' }).waitFor();
  await noSeriousAxeAtBothSizes(page, 'landing');
  await screenshots(page, 'landing');
  await page.fill('#landing-link', 'not a link at all');
  await page.click('#landing-form button[type=submit]');
  await page.locator('#landing-error').waitFor();
  await page.goto(`${server.base}/s/s_no_such_session`);
  await page.locator('h1', { hasText: "We couldn't find this group" }).waitFor();
  await noSeriousAxeAtBothSizes(page, 'not found');
  assert.ok(await page.locator('#help-open').isVisible(), '"Need help now?" is there too');
  await page.click('#help-open');
  await page.locator('#help-dialog[open]').waitFor();
  await noSeriousAxe(page, 'need help');
  assert.deepEqual(seen.filter((x) => !/404/.test(x)), []);
  await ctx.close();
});

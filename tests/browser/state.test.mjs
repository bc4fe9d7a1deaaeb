// The client's session model (web-client/state.js) is pure, so it is tested
// here directly in Node, against the golden protocol fixtures shared with
// the server (tests/fixtures/protocol): a model is built from the welcome
// frames and fed every event file of events/ (read from the directory, so a
// new event kind without handling here fails), and each must change what a
// person would notice. Unknown kinds are ignored, never thrown on. Then a
// large room: a welcome that lists a first page, pages of `people`, batched
// `people` events, and the counters that must stay right whatever is listed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromWelcome, applyEvent, applyHistory, applyPeoplePage } from '../../web-client/state.js';
import {
  composerBlock, openHelpRequests, openReports, nextInLine, cannotGiveStick, nameOf, peopleCounts, peopleInOrder, unlistedNamed,
} from '../../web-client/queries.js';
import { warningWords } from '../../web-client/strings.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'protocol');
/** @param {string} path */
const fixture = (path) => JSON.parse(readFileSync(join(fixtures, path), 'utf8'));

// The people of the fixtures.
const ALEX = 'f_7pRk2WqZx9LmB3nD'; // facilitator
const SAM = 'p_Hs4kT9xQ2mVb7LwA'; // the participant the welcome is for; queued 2nd
const PRIYA = 'p_Lw5eM1tG8hUv4XsB'; // on a break, queued 1st
const ROBIN = 'p_Jd8nR3yK6pFq2ZcE'; // holds the stick
const JO = 'p_Mz2cV6bN0xRt8YqW'; // away

const participantModel = () => fromWelcome(fixture('frames/welcome.json'));
const facilitatorModel = () => fromWelcome(fixture('frames/welcome_facilitator.json'));
/** A facilitator who has nothing in the inbox yet. */
const freshFacilitatorModel = () => {
  const w = fixture('frames/welcome_facilitator.json');
  w.state.inbox = [];
  return fromWelcome(w);
};

const names = (m) => [...m.participants.values()].map((p) => p.name);

/**
 * What each event kind must do that a person would notice. A kind missing
 * here fails the test below, so a new kind needs handling and a check.
 * @type {Record<string, {model?: () => any, setup?: (m: any, ev: any) => void, check: (m: any, changes: any[], ev: any) => void}>}
 */
const EXPECT = {
  announced: {
    check: (m) => assert.equal(m.announcements.at(-1).text, "Ten minutes left. We'll close with a round of one word each."),
  },
  dm: {
    model: facilitatorModel,
    check: (m, changes) => {
      assert.equal(m.dms.at(-1).text, 'Yes please, thank you.');
      assert.equal(changes[0].dm.from, JO);
    },
  },
  ending_soon: {
    check: (m) => { assert.equal(m.session.ending_soon, true); assert.equal(m.session.ends_at, 1792092600000); },
  },
  help_requested: {
    model: freshFacilitatorModel,
    check: (m) => {
      const open = openHelpRequests(m);
      assert.equal(open.length, 1);
      assert.deepEqual({ id: open[0].id, from: open[0].from, note: open[0].note }, { id: 'i2', from: JO, note: 'Finding tonight hard.' });
    },
  },
  joined: {
    setup: (m) => m.participants.delete(JO),
    check: (m) => { assert.ok(names(m).includes('Jo')); assert.equal(m.participants.get(JO).presence, 'online'); },
  },
  left: {
    check: (m) => assert.ok(!names(m).includes('Jo'), 'Jo is no longer listed'),
  },
  people: {
    check: (m) => {
      assert.ok(names(m).includes('Kim'), 'a newcomer of a large room is listed');
      assert.equal(m.participants.get(PRIYA).presence, 'away', 'a changed presence replaces the old one');
      assert.equal(peopleCounts(m).total, 412, 'the count is the server\'s');
    },
  },
  locked: {
    check: (m) => assert.equal(m.session.locked, true),
  },
  marked_seen: {
    model: freshFacilitatorModel,
    setup: (m) => applyEvent(m, fixture('events/help_requested.json')),
    check: (m) => {
      assert.equal(openHelpRequests(m).length, 0, 'no longer open for any facilitator');
      assert.equal(m.inbox[0].seen_by, ALEX);
      assert.equal(m.inbox[0].seen_at, 1792088641000);
    },
  },
  mode: {
    check: (m, changes) => {
      assert.equal(m.session.mode, 'stick');
      assert.equal(m.session.turn_seconds, 120);
      assert.equal(changes[0].roundOver, true, 'the round is over');
    },
  },
  muted: {
    check: (m) => assert.equal(m.participants.get(JO).muted, true),
  },
  phase: {
    check: (m) => {
      assert.equal(m.session.phase, 'paused');
      assert.match(composerBlock(m, 'main') || '', /until the facilitator is back/);
    },
  },
  presence: {
    check: (m) => assert.equal(m.participants.get(PRIYA).presence, 'away'),
  },
  queue: {
    check: (m) => {
      assert.deepEqual(m.queue, [PRIYA, SAM, JO]);
      assert.equal(m.participants.get(JO).hand, true);
    },
  },
  reacted: {
    check: (m) => assert.deepEqual(m.rooms.get('main').messages.find((x) => x.id === 'm4').reactions, { thanks: 1, hug: 1 }),
  },
  redacted: {
    // m7 is the docs' example message in the quiet corner.
    setup: (m) => applyEvent(m, { type: 'event', seq: 90, at: 1, kind: 'said', room: 'r1', msg: { id: 'm7', from: JO, text: 'a private detail', cw: null, at: 1 } }),
    check: (m) => {
      const msg = m.rooms.get('r1').messages.find((x) => x.id === 'm7');
      assert.equal(msg.redacted, true);
      assert.equal(msg.text, '');
    },
  },
  reported: {
    model: freshFacilitatorModel,
    check: (m) => {
      const open = openReports(m);
      assert.equal(open.length, 1);
      assert.deepEqual({ id: open[0].id, by: open[0].by, from: open[0].from, msg: open[0].msg, room: open[0].room },
        { id: 'i1', by: SAM, from: JO, msg: 'm7', room: 'r1' });
    },
  },
  room_closed: {
    check: (m) => assert.deepEqual([...m.rooms.keys()], ['main']),
  },
  room_opened: {
    setup: (m) => m.rooms.delete('r1'),
    check: (m) => assert.equal(m.rooms.get('r1').name, 'Quiet corner'),
  },
  said: {
    check: (m) => {
      const last = m.rooms.get('main').messages.at(-1);
      assert.deepEqual({ id: last.id, from: last.from, text: last.text }, { id: 'm6', from: SAM, text: 'Thank you for listening, everyone.' });
    },
  },
  spoke: {
    check: (m) => {
      assert.equal(m.participants.get(ROBIN).turns, 2);
      assert.equal(m.participants.get(ROBIN).spoken_ms, 264000);
    },
  },
  stick: {
    check: (m) => {
      assert.equal(m.stick.holder, SAM);
      assert.equal(m.stick.ends_at, 1792088784000);
      assert.ok(!m.queue.includes(SAM), 'the holder leaves the queue');
      assert.equal(composerBlock(m, 'main'), null, 'Sam may write');
    },
  },
  turn_warning: {
    check: (m, changes) => {
      assert.equal(m.stick.warned, true);
      assert.equal(changes[0].seconds, 30, 'the seconds come from ends_at - at');
    },
  },
};

test('every event fixture is understood and changes what a person would notice', () => {
  const files = readdirSync(join(fixtures, 'events')).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 22, `found ${files.length} event fixtures`);
  for (const file of files) {
    const ev = fixture(`events/${file}`);
    const expect = EXPECT[ev.kind];
    assert.ok(expect, `events/${file}: kind "${ev.kind}" has no expectation in state.test.mjs (and maybe no handling in state.js)`);
    const m = (expect.model || participantModel)();
    if (expect.setup) expect.setup(m, ev);
    const changes = applyEvent(m, ev);
    assert.ok(changes.length > 0, `events/${file}: nothing changed`);
    assert.ok(!changes.some((c) => c.what === 'unknown'), `events/${file}: reported as unknown`);
    expect.check(m, changes, ev);
  }
  assert.deepEqual(Object.keys(EXPECT).sort(), files.map((f) => fixture(`events/${f}`).kind).sort(), 'no expectation without a fixture');
});

test('the welcome builds the model a participant sees', () => {
  const m = participantModel();
  assert.equal(m.you.name, 'Sam');
  assert.deepEqual(names(m), ['Alex', 'Sam', 'Priya', 'Robin', 'Jo']);
  assert.equal(m.participants.get(PRIYA).break_note, 'Back in five minutes');
  assert.equal(m.stick.holder, ROBIN);
  assert.deepEqual([...m.rooms.keys()], ['main', 'r1']);
  assert.equal(m.rooms.get('main').messages[1].redacted, true);
  assert.deepEqual(m.rooms.get('main').messages[2].reactions, { heart: 2, hug: 3 });
  assert.equal(m.rooms.get('main').messages[2].cw, 'hospital');
  assert.equal(m.rooms.get('main').more, false);
  assert.equal(m.dms.length, 2);
  assert.deepEqual(m.inbox, [], 'participants have no inbox');
  assert.equal(composerBlock(m, 'main'), 'Robin has the talking stick, you are 2nd in the queue.');
  assert.equal(composerBlock(m, 'r1'), null, 'side rooms are always open');
});

test("the facilitator's welcome carries the inbox with who has seen what", () => {
  const m = facilitatorModel();
  assert.equal(m.inbox.length, 2);
  assert.deepEqual(openReports(m), [], 'the report was seen by Alex');
  assert.deepEqual(openHelpRequests(m).map((i) => i.id), ['i2']);
  assert.equal(m.inbox[0].seen_by, ALEX);
  assert.equal(m.inbox[0].seen_at, 1792088630000);
});

test('a help request seen again, or the same event twice, changes nothing more', () => {
  const m = freshFacilitatorModel();
  const ev = fixture('events/help_requested.json');
  assert.equal(applyEvent(m, ev).length, 1);
  assert.deepEqual(applyEvent(m, ev), [], 'the same id is not listed twice');
  assert.deepEqual(applyEvent(m, { ...fixture('events/marked_seen.json'), item: 'i99' }), [], 'an item this page never had');
});

test('the turn warning says the seconds the server gave', () => {
  const m = participantModel();
  const ev = fixture('events/turn_warning.json');
  const [c] = applyEvent(m, { ...ev, at: ev.ends_at - 20_000 });
  assert.equal(c.seconds, 20);
  assert.equal(warningWords(m.session.warning_ms), 'About 20 seconds left; no rush, finish your thought.');
  assert.deepEqual(applyEvent(m, { ...ev, holder: SAM }), [], "a warning for someone who doesn't hold the stick is stale");
});

test('older messages from history go in front, once, and say whether there are more', () => {
  const w = fixture('frames/welcome.json');
  const main = w.state.rooms[0];
  main.messages = main.messages.slice(2); // m3, m4: the welcome was bounded
  main.more = true;
  const m = fromWelcome(w);
  assert.equal(m.rooms.get('main').more, true);
  const frame = fixture('frames/history.json');
  const added = applyHistory(m, frame);
  assert.deepEqual(added.map((x) => x.id), ['m1', 'm2']);
  assert.deepEqual(m.rooms.get('main').messages.map((x) => x.id), ['m1', 'm2', 'm3', 'm4']);
  assert.equal(m.rooms.get('main').more, false);
  assert.deepEqual(applyHistory(m, frame), [], 'nothing twice');
  assert.equal(applyHistory(m, { ...frame, room: 'r9' }), null, 'a closed room');
});

test('the removed holder: their turn ends after they left, and nobody "Someone" appears', () => {
  const m = participantModel();
  applyEvent(m, { type: 'event', seq: 92, at: 5, kind: 'left', participant: ROBIN, reason: 'removed' });
  applyEvent(m, { type: 'event', seq: 93, at: 5, kind: 'spoke', participant: ROBIN, reason: 'removed', held_ms: 1, spoken_ms: 1, turn: 3, turns: 2 });
  applyEvent(m, { type: 'event', seq: 94, at: 5, kind: 'stick', holder: null, ends_at: null, turn: null });
  assert.deepEqual(names(m), ['Alex', 'Sam', 'Priya', 'Jo']);
  assert.equal(m.stick.holder, null);
});

test('who gets the stick next, and why it cannot be given', () => {
  const m = participantModel();
  assert.equal(nextInLine(m), SAM, 'Priya is on a break, so Sam is next');
  assert.equal(cannotGiveStick(m, PRIYA), 'They are on a break.');
  assert.equal(cannotGiveStick(m, JO), 'Their connection dropped.');
  assert.equal(cannotGiveStick(m, ALEX), 'Facilitators do not take the stick.');
  assert.equal(cannotGiveStick(m, SAM), null);
  applyEvent(m, { ...fixture('events/muted.json'), participant: SAM });
  assert.equal(cannotGiveStick(m, SAM), 'They are muted: unmute them first.');
  assert.equal(nextInLine(m), null, 'Sam left the queue when muted');
  applyEvent(m, fixture('events/phase.json'));
  assert.equal(cannotGiveStick(m, ROBIN), 'The group is paused.');
});

test('a facilitator may write while the group is paused; a muted participant is told', () => {
  const f = facilitatorModel();
  applyEvent(f, { type: 'event', seq: 1, at: 1, kind: 'phase', phase: 'paused', by: ALEX, note: 'a breath' });
  assert.equal(composerBlock(f, 'main'), null);
  const m = participantModel();
  applyEvent(m, { type: 'event', seq: 1, at: 1, kind: 'phase', phase: 'paused', by: ALEX, note: 'a breath' });
  assert.equal(composerBlock(m, 'main'), 'Paused by the facilitator: a breath');
  applyEvent(m, { type: 'event', seq: 2, at: 2, kind: 'phase', phase: 'live', by: ALEX });
  applyEvent(m, { ...fixture('events/muted.json'), participant: SAM });
  assert.match(composerBlock(m, 'main') || '', /You are muted/);
});

test('unknown kinds are ignored, not thrown on', () => {
  const m = participantModel();
  assert.deepEqual(applyEvent(m, { type: 'event', seq: 500, at: 1, kind: 'a_kind_from_the_future', x: 1 }), [{ what: 'unknown', kind: 'a_kind_from_the_future' }]);
});

// ---- Large rooms ----

const KIM = 'p_Qa1zX9wE3rT5yU7i';

/**
 * A participant object.
 * @param {string} id
 * @param {string} name
 * @param {Record<string, unknown>} [more]
 */
const person = (id, name, more = {}) => ({ id, name, role: 'participant', presence: 'online', muted: false, turns: 0, spoken_ms: 0, hand: false, ...more });

/**
 * A large room of `total` as the server would welcome Sam: the facilitator,
 * the holder and the queue wherever they came, Sam, and the first `first`
 * others; the rest to page. People are p_0001… in the order they came.
 * @param {number} total
 * @param {number} first
 */
function largeRoom(total, first) {
  const everyone = [{ ...person(ALEX, 'Alex'), role: 'facilitator' }];
  for (let i = 1; i < total; i++) everyone.push(person(`p_${String(i).padStart(4, '0')}`, `Person ${i}`));
  everyone[30] = person(SAM, 'Sam');
  const holder = everyone[250].id;
  const queue = [everyone[300].id, everyone[20].id];
  const always = new Set([ALEX, SAM, holder, ...queue]);
  let others = 0;
  const listed = everyone.filter((p) => always.has(p.id) || (others < first && ++others > 0));
  const w = fixture('frames/welcome.json');
  Object.assign(w.state, {
    participants: listed, participants_total: total, participants_more: listed.length < total,
    queue, stick: { holder, ends_at: 1792088520000, turn: 9 },
    rooms: w.state.rooms.map((/** @type {any} */ r) => ({ ...r, messages: [] })),
  });
  return { model: fromWelcome(w), everyone, holder, queue };
}

/**
 * The server's answer to `people {after, limit}`.
 * @param {any[]} everyone
 * @param {string | null} after
 * @param {number} limit
 */
function page(everyone, after, limit) {
  const start = after ? everyone.findIndex((p) => p.id === after) + 1 : 0;
  return { type: 'people', ref: 'c-1', participants: everyone.slice(start, start + limit), more: start + limit < everyone.length };
}

test("a large room's welcome lists a first page and counts everyone", () => {
  const { model: m, everyone, holder } = largeRoom(400, 10);
  const c = peopleCounts(m);
  assert.equal(c.total, 400);
  assert.equal(c.listed, 15, 'Alex, the first ten others, and wherever they came: Sam, the holder and the two in the queue');
  assert.equal(c.complete, false);
  assert.equal(c.handsUp, 2);
  assert.equal(m.roster.after, everyone[10].id, 'the next page starts after the last of the first ten');
  // The order of "Who is here": facilitator, holder, queue, then as they came.
  assert.deepEqual(peopleInOrder(m, new Set()).slice(0, 5).map((p) => p.name), ['Alex', 'Person 250', 'Person 300', 'Person 20', 'Person 1']);
  assert.equal(nameOf(m, holder), 'Person 250');
  assert.equal(nameOf(m, 'p_0399'), 'Someone', 'not listed yet, not "left"');
  // The fixture welcomes of small rooms list everyone.
  assert.equal(participantModel().roster.more, false);
  assert.equal(peopleCounts(participantModel()).total, 5);
});

test('pages of people list the rest, in order, once, until the end', () => {
  const { model: m, everyone } = largeRoom(400, 10);
  let asked = 0;
  while (m.roster.more) {
    const after = m.roster.after;
    const added = applyPeoplePage(m, page(everyone, after, 100), after);
    assert.ok(added > 0, 'each page adds people');
    asked += 1;
    assert.ok(asked < 10, 'the pages come to an end');
  }
  assert.equal(asked, 4, '389 people after the first page: four pages of 100');
  const c = peopleCounts(m);
  assert.deepEqual({ total: c.total, listed: c.listed, complete: c.complete }, { total: 400, listed: 400, complete: true });
  assert.equal(new Set(peopleInOrder(m, new Set()).map((p) => p.id)).size, 400, 'nobody twice');
  assert.equal(nameOf(m, 'p_0399'), 'Person 399');
  assert.equal(nameOf(m, 'p_gone'), 'Someone who has left', 'with everyone listed, an unknown id has left');
});

test('a page asked for before a fresh welcome does not move the new cursor', () => {
  const { model: m, everyone } = largeRoom(400, 10);
  const cursor = m.roster.after;
  // An answer to a question this model never asked (undefined), or for another cursor.
  applyPeoplePage(m, page(everyone, everyone[200].id, 50), undefined);
  applyPeoplePage(m, page(everyone, everyone[300].id, 50), everyone[300].id);
  assert.equal(m.roster.after, cursor);
  assert.equal(m.roster.more, true);
  assert.equal(m.participants.get(everyone[210].id)?.name, 'Person 210', 'the people it carried are listed all the same');
  // The docs' page.
  const frame = fixture('frames/people.json');
  const before = m.participants.size;
  applyPeoplePage(m, frame, cursor);
  assert.equal(m.participants.get(KIM)?.name, 'Kim');
  assert.equal(m.participants.size, before + 1);
  assert.equal(m.roster.after, KIM);
  assert.equal(m.roster.more, false);
});

test('people events keep the count exact, listed or not', () => {
  const { model: m, everyone } = largeRoom(400, 10);
  // A presence change of someone never listed, and an arrival: the count is the server's.
  const ev = fixture('events/people.json');
  applyEvent(m, { ...ev, people: [{ ...everyone[350], presence: 'away' }, person('p_new1', 'Newcomer')], participants_total: 401 });
  let c = peopleCounts(m);
  assert.equal(c.total, 401);
  assert.equal(c.listed, 17);
  assert.equal(m.participants.get(everyone[350].id)?.presence, 'away');
  // Someone removed who was never listed still counted.
  applyEvent(m, { type: 'event', seq: 300, at: 1, kind: 'left', participant: everyone[390].id, reason: 'removed' });
  assert.equal(peopleCounts(m).total, 400);
  // A hand from someone not listed: named "Someone" until a page lists them.
  everyone[380].hand = true; // as the server has it from now on
  applyEvent(m, { type: 'event', seq: 301, at: 1, kind: 'queue', queue: [...m.queue, everyone[380].id] });
  assert.equal(peopleCounts(m).handsUp, 3);
  applyEvent(m, { type: 'event', seq: 302, at: 1, kind: 'said', room: 'main', msg: { id: 'm90', from: everyone[370].id, text: 'Hello', cw: null, at: 1 } });
  assert.deepEqual(unlistedNamed(m).sort(), [everyone[370].id, everyone[380].id]);
  assert.match(composerBlock(m, 'main') || '', /^Person 250 has the talking stick/);
  // Paging to the end lists them, with their hand up.
  while (m.roster.more) applyPeoplePage(m, page(everyone, m.roster.after, 500), m.roster.after);
  assert.deepEqual(unlistedNamed(m), []);
  c = peopleCounts(m);
  assert.equal(c.complete, true);
  assert.equal(m.participants.get(everyone[380].id)?.hand, true);
  assert.equal(c.total, c.listed, 'with everyone listed, the count is who is listed');
});

test('in a small room joined and left keep the count', () => {
  const m = participantModel();
  applyEvent(m, { type: 'event', seq: 200, at: 1, kind: 'joined', participant: person('p_new2', 'Lou') });
  assert.equal(peopleCounts(m).total, 6);
  applyEvent(m, { type: 'event', seq: 201, at: 1, kind: 'joined', participant: person('p_new2', 'Lou') });
  assert.equal(peopleCounts(m).total, 6, 'the same person twice counts once');
  applyEvent(m, fixture('events/left.json'));
  const c = peopleCounts(m);
  assert.deepEqual({ total: c.total, online: c.online, handsUp: c.handsUp }, { total: 5, online: 4, handsUp: 2 });
});

test('a reload during a pause says why from the snapshot', () => {
  const byFacilitator = fixture('frames/welcome.json');
  byFacilitator.state.session = { ...byFacilitator.state.session, phase: 'paused', pause: { by: ALEX, note: 'Two minutes to breathe' } };
  const m = fromWelcome(byFacilitator);
  assert.equal(composerBlock(m, 'main'), 'Paused by the facilitator: Two minutes to breathe');
  const byItself = fixture('frames/welcome.json');
  byItself.state.session = { ...byItself.state.session, phase: 'paused', pause: { reason: 'no_facilitator' } };
  assert.match(composerBlock(fromWelcome(byItself), 'main') || '', /^Paused until the facilitator is back/);
  // Resuming forgets the pause's words.
  applyEvent(m, { type: 'event', seq: 2, at: 2, kind: 'phase', phase: 'live', by: ALEX });
  assert.equal(m.session.note, null);
});

// The client's session model (web-client/state.js) is pure, so it is tested
// here directly in Node: events move it on, unknown kinds are ignored (never
// thrown on), and the composer says why it cannot send.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromWelcome, applyEvent, composerBlock } from '../../web-client/state.js';

function welcome(overrides = {}) {
  return fromWelcome({
    you: { id: 'p2', name: 'Kai', role: 'participant' },
    state: {
      session: { phase: 'live', mode: 'stick', locked: false, turn_seconds: 180, ends_at: null, ...overrides },
      participants: [
        { id: 'f1', name: 'Dana', role: 'facilitator', presence: 'online', muted: false, turns: 0, spoken_ms: 0, hand: false },
        { id: 'p1', name: 'Sam', role: 'participant', presence: 'online', muted: false, turns: 0, spoken_ms: 0, hand: false },
        { id: 'p2', name: 'Kai', role: 'participant', presence: 'online', muted: false, turns: 0, spoken_ms: 0, hand: true },
      ],
      queue: ['p2'],
      stick: { holder: 'p1', ends_at: 1_000_000, turn: 1 },
      rooms: [{ id: 'main', name: 'Main circle', messages: [{ id: 'm1', room: 'main', from: 'p1', text: 'hi', cw: null, at: 1, reactions: { heart: 1 } }] }],
      dms: [],
    },
  });
}

let seq = 100;
const ev = (kind, data = {}) => ({ type: 'event', seq: ++seq, at: 5, kind, ...data });

test('the composer says who has the stick and your place', () => {
  const m = welcome();
  assert.equal(composerBlock(m, 'main'), 'Sam has the talking stick, you are 1st in the queue.');
  assert.equal(composerBlock(m, 'side'), null, 'side rooms are always open');
  applyEvent(m, ev('phase', { phase: 'paused', note: 'a breath' }));
  assert.equal(composerBlock(m, 'main'), 'Paused by the facilitator: a breath');
  applyEvent(m, ev('phase', { phase: 'live' }));
  applyEvent(m, ev('muted', { participant: 'p2', on: true }));
  assert.match(composerBlock(m, 'main') || '', /You are muted/);
  assert.deepEqual(m.queue, [], 'a muted participant leaves the queue');
});

test('the stick moves, the holder leaves the queue, reactions and redaction apply', () => {
  const m = welcome();
  applyEvent(m, ev('stick', { holder: 'p2', ends_at: 2_000_000, turn: 2 }));
  assert.equal(m.stick.holder, 'p2');
  assert.deepEqual(m.queue, []);
  assert.equal(composerBlock(m, 'main'), null);
  applyEvent(m, ev('reacted', { msg: 'm1', emoji: 'heart', count: 2, room: 'main', from: 'p2' }));
  assert.equal(m.rooms.get('main').messages[0].reactions.heart, 2);
  applyEvent(m, ev('redacted', { msg: 'm1', room: 'main' }));
  assert.equal(m.rooms.get('main').messages[0].redacted, true);
  assert.equal(m.rooms.get('main').messages[0].text, '');
});

test('a message is added once, and unknown kinds are ignored, not thrown on', () => {
  const m = welcome();
  const said = { room: 'main', msg: { id: 'm2', from: 'p1', text: 'hello', cw: 'loss', at: 9 } };
  assert.equal(applyEvent(m, ev('said', said))[0].what, 'message');
  assert.deepEqual(applyEvent(m, ev('said', said)), []);
  assert.equal(m.rooms.get('main').messages.length, 2);
  assert.deepEqual(applyEvent(m, ev('a_kind_from_the_future', { x: 1 })), [{ what: 'unknown', kind: 'a_kind_from_the_future' }]);
});

test('breaks keep the place; presence and balance update', () => {
  const m = welcome();
  applyEvent(m, ev('presence', { participant: 'p2', presence: 'break', note: 'back soon' }));
  assert.equal(m.participants.get('p2').presence, 'break');
  assert.equal(m.participants.get('p2').break_note, 'back soon');
  assert.deepEqual(m.queue, ['p2'], 'still queued');
  applyEvent(m, ev('spoke', { participant: 'p1', turns: 1, spoken_ms: 42_000 }));
  assert.equal(m.participants.get('p1').spoken_ms, 42_000);
  applyEvent(m, ev('left', { participant: 'p1', reason: 'removed' }));
  assert.equal(m.participants.has('p1'), false);
});

//! The people side of the session screen: "You" (hand, break, "I'm
//! struggling", settings), "your turn" with its clock, "Who is here" (with
//! the facilitator's per-person actions), and the private thread between a
//! participant and the facilitators.

import { queuePlace } from './state.js';
import * as r from './render.js';
import { ordinal, clock, warningWords } from './strings.js';
import { announce, ask } from './ui.js';
import { pref, setPref } from './prefs.js';
import { unlockAudio, softBeep } from './sound.js';
import { command, notify } from './page.js';
import { rebuildLogs } from './room.js';

const { h, replace } = r;

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Participant} Participant
 * @typedef {import('./page.js').Page} Page
 */

/** @param {Page} p */
export function renderYourTurn(p) {
  const model = /** @type {Model} */ (p.model);
  const box = p.el.yourTurn;
  const mine = model.stick.holder === model.you.id && model.session.mode !== 'open';
  if (!mine) {
    if (!box.hidden) replace(box);
    box.hidden = true;
    return;
  }
  const left = model.stick.ends_at !== null ? model.stick.ends_at - Date.now() : model.stick.remaining_ms;
  if (box.hidden || !box.firstChild) {
    box.hidden = false;
    replace(box,
      h('p', null, h('strong', { text: "It's your turn." }), ' ', h('span', { class: 'your-turn-clock' })),
      h('button', { type: 'button', class: 'primary', id: 'done', 'data-key': 'done', text: "I'm done", onclick: () => { void command(p, 'pass'); } }));
  }
  const c = box.querySelector('.your-turn-clock');
  const warned = model.stick.warned && model.session.warning_ms !== null;
  const clockText = left === null ? '' : `${clock(left)} left.`;
  if (c) c.textContent = warned ? `${clockText} ${warningWords(/** @type {number} */ (model.session.warning_ms))}` : clockText;
}

/** @param {Page} p */
export function renderYou(p) {
  const model = /** @type {Model} */ (p.model);
  const me = model.participants.get(model.you.id);
  const facilitator = model.you.role === 'facilitator';
  const onBreak = me ? me.presence === 'break' : false;
  const hand = me ? (me.hand || model.queue.includes(me.id)) : false;
  const holder = model.stick.holder === model.you.id;
  const place = queuePlace(model, model.you.id);
  renderYourTurn(p);

  /** @type {r.Child[]} */
  const body = [h('h2', { id: 'you-heading', text: facilitator ? 'You (facilitator)' : 'You' })];
  if (!facilitator) {
    if (onBreak) {
      body.push(h('div', { class: 'break-box', role: 'group', 'aria-label': 'Your break' },
        h('p', null, h('strong', { text: "You're on a break. Your place is kept." })),
        me && me.break_note ? h('p', { class: 'muted' }, 'Your note: ', h('span', { text: me.break_note })) : null,
        h('button', { type: 'button', class: 'primary', id: 'back', 'data-key': 'back', text: "I'm back", onclick: () => { void command(p, 'break', { on: false }); } })));
    } else {
      const handButton = h('button', {
        type: 'button', class: hand ? 'secondary' : 'primary', id: 'hand', 'data-key': 'hand', 'aria-pressed': String(hand),
        disabled: holder || (me ? me.muted : false),
        text: hand ? 'Lower my hand' : 'Raise my hand',
        onclick: () => { void command(p, 'hand', { up: !hand }).then((ok) => { if (ok) announce(hand ? 'Your hand is down.' : 'Your hand is up. You will get a turn.'); }); },
      });
      body.push(h('div', { class: 'row' }, handButton,
        place ? h('span', { class: 'place', text: `You are ${ordinal(place)} in the queue` }) : null));
      const note = h('input', { id: 'break-note', type: 'text', maxlength: '80', autocomplete: 'off', placeholder: 'e.g. back in 5 minutes', 'data-key': 'break-note' });
      const prev = document.getElementById('break-note');
      if (prev instanceof HTMLInputElement) note.value = prev.value;
      body.push(h('div', { class: 'break-start stack' },
        h('label', { for: 'break-note', text: 'Note for the group (optional)' }), note,
        h('button', {
          type: 'button', class: 'secondary', id: 'take-break', 'data-key': 'take-break', 'aria-describedby': 'break-hint', text: 'Take a break',
          onclick: () => {
            const text = note.value.trim();
            /** @type {Record<string, unknown>} */
            const f = { on: true };
            if (text) f.note = text;
            void command(p, 'break', f).then((ok) => { if (ok) announce("You're on a break. Your place is kept."); });
          },
        }),
        h('p', { id: 'break-hint', class: 'hint', text: 'Step away any time. Your place is kept.' })));
    }
    body.push(h('div', { class: 'row' }, h('button', {
      type: 'button', class: 'quiet', id: 'struggling', 'data-key': 'struggling', text: "I'm struggling",
      onclick: () => { void struggling(p); },
    })));
  }
  const sound = h('input', { type: 'checkbox', id: 'pref-sound', checked: pref('turnCue', true) });
  sound.addEventListener('change', () => { setPref('turnCue', sound.checked); if (sound.checked) { unlockAudio(); softBeep(); } });
  const notes = h('input', { type: 'checkbox', id: 'pref-notes', checked: !pref('revealNotes', false) });
  notes.addEventListener('change', () => { setPref('revealNotes', !notes.checked); rebuildLogs(p); });
  body.push(h('details', { class: 'prefs' }, h('summary', { text: 'Settings' }),
    !facilitator ? h('div', { class: 'check' }, sound, h('label', { for: 'pref-sound', text: 'A soft sound and a title change when it is my turn' })) : null,
    h('div', { class: 'check' }, notes, h('label', { for: 'pref-notes', text: 'Hide messages with a content note until I choose “Show”' }))));
  const wasOpen = p.el.you.querySelector('details.prefs')?.hasAttribute('open');
  replace(p.el.you, ...body);
  if (wasOpen) p.el.you.querySelector('details.prefs')?.setAttribute('open', '');
}

/** @param {Page} p */
async function struggling(p) {
  const data = await ask({
    title: 'Let the facilitator know, privately',
    ok: 'Let them know',
    body: [
      h('p', { text: "Only the facilitators will see this. You don't have to explain; they will check in with you gently." }),
      h('div', { class: 'field' }, h('label', { for: 'help-note', text: 'Anything you want them to know (optional)' }),
        h('textarea', { id: 'help-note', name: 'note', rows: '2', maxlength: '500' })),
      h('p', { class: 'muted', text: 'If you are in danger right now, please use “Need help now?” at the top of the page.' }),
    ],
  });
  if (!data) return;
  const note = String(data.get('note') || '').trim();
  /** @type {Record<string, unknown>} */
  const f = {};
  if (note) f.note = note;
  if (await command(p, 'need_help', f)) notify(p, "The facilitator knows, privately. You're not alone.");
}

/** @param {Page} p */
export function renderPeople(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const people = [...model.participants.values()];
  // Facilitators first, then the stick holder, the queue, and everyone else in joining order.
  const rank = (/** @type {Participant} */ x) => x.role === 'facilitator' ? 0 : model.stick.holder === x.id ? 1 : queuePlace(model, x.id) ? 2 + queuePlace(model, x.id) : 10_000;
  people.sort((a, b) => rank(a) - rank(b));
  const here = people.filter((x) => x.presence !== 'offline').length;
  p.el.peopleCount.textContent = `(${here})`;
  replace(p.el.people, people.map((x) => r.participantRow(model, x, {
    facilitator,
    onMute: (q) => { void command(p, 'mute', { participant: q.id, on: !q.muted }); },
    onRemove: (q) => { void removeParticipant(p, q); },
    onDm: (q) => openDm(p, q.id),
    onGive: (q) => { void command(p, 'give', { participant: q.id }); },
  })));
}

/**
 * @param {Page} p
 * @param {string} id
 */
export function openDm(p, id) {
  p.dmWith = id;
  renderDms(p);
  const input = document.getElementById('dm-text');
  if (input) {
    input.scrollIntoView({ block: 'center' });
    input.focus();
  }
}

/**
 * @param {Page} p
 * @param {Participant} q
 */
async function removeParticipant(p, q) {
  const data = await ask({
    title: `Remove ${q.name} from this session?`,
    ok: 'Remove',
    danger: true,
    body: [
      h('p', { text: 'They will see that the facilitator removed them, with support contacts, and cannot come back to this session.' }),
      h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'remove-ban', name: 'ban', value: 'yes' }),
        h('label', { for: 'remove-ban', text: "Also bar them from this group's later sessions" })),
    ],
  });
  if (!data) return;
  if (await command(p, 'remove', { participant: q.id, ban: data.get('ban') === 'yes' })) announce(`${q.name} was removed.`);
}

/** @param {Page} p */
export function renderDms(p) {
  const model = p.model;
  if (!model) return;
  const facilitator = model.you.role === 'facilitator';
  if (facilitator) {
    const others = [...model.participants.values()].filter((x) => x.role !== 'facilitator');
    if (!p.dmWith && others.length) p.dmWith = null;
    replace(p.el.dmSelect,
      h('option', { value: '', text: others.length ? 'Choose someone' : 'Nobody has joined yet' }),
      others.map((x) => {
        const count = model.dms.filter((d) => d.from === x.id || d.to === x.id).length;
        return h('option', { value: x.id, selected: x.id === p.dmWith, text: count ? `${x.name} (${count})` : x.name });
      }));
    /** @type {HTMLSelectElement} */ (p.el.dmSelect).value = p.dmWith || '';
  }
  const who = facilitator ? p.dmWith : null;
  const thread = model.dms.filter((d) => !facilitator || (who !== null && (d.from === who || d.to === who)));
  replace(p.el.dmList, thread.length
    ? thread.map((d) => r.dmItem(model, d))
    : h('li', { class: 'log-empty muted', text: facilitator ? (who ? 'No private messages with them yet.' : 'Choose someone to check in with.') : 'Nothing here yet.' }));
  p.el.dmList.scrollTop = p.el.dmList.scrollHeight;
  const send = /** @type {HTMLButtonElement} */ (p.el.dmForm.querySelector('button'));
  send.disabled = facilitator ? !who : dmTarget(p) === null;
  // A participant's reply box appears once a facilitator has written.
  p.el.dmForm.hidden = !facilitator && dmTarget(p) === null;
}

/** @param {Page} p */

/**
 * The private thread's form (participant ↔ facilitator).
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
export function buildDmForm(p) {
  const input = h('textarea', { id: 'dm-text', rows: '2', maxlength: '2000' });
  const send = h('button', { type: 'submit', class: 'small', id: 'dm-send', text: 'Send privately' });
  const form = h('form', { class: 'stack', id: 'dm-form' },
    h('label', { for: 'dm-text', text: 'Private message' }), input, h('div', { class: 'row end' }, send));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!p.model) return;
    const to = dmTarget(p);
    const body = input.value.trim();
    if (!to || !body) {
      notify(p, to ? 'Write something first, then press Send privately.' : 'You can answer here once the facilitator has written to you. To ask them to, press “I\'m struggling”.');
      return;
    }
    input.value = '';
    if (!(await command(p, 'dm', { participant: to, text: body })) && !input.value) input.value = body;
  });
  return form;
}

/**
 * Whom a private message from this page goes to.
 * @param {Page} p
 * @returns {string | null}
 */
export function dmTarget(p) {
  const model = p.model;
  if (!model) return null;
  if (model.you.role === 'facilitator') return p.dmWith;
  // A participant answers the facilitator who last wrote to them (the
  // server only lets a participant reply once a facilitator has written).
  for (let i = model.dms.length - 1; i >= 0; i--) {
    const d = model.dms[i];
    if (d.from !== model.you.id) return d.from;
  }
  return null;
}

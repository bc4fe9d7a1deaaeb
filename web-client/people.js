//! The people parts of the session screen: "Who is here" (with the
//! facilitator's per-person actions and the "Asked for help" badge), the
//! private thread between a participant and the facilitators, and "Me"
//! (your place, "I'm struggling" and the settings; a facilitator's settings
//! live in the console).

import { queuePlace, openHelpRequests } from './queries.js';
import { h, replace, participantRow, dmItem } from './render.js';
import { ordinal } from './strings.js';
import { pref, setPref } from './prefs.js';
import { unlockAudio, softBeep, helpChime } from './sound.js';
import { command, refuse, unreadDms } from './page.js';
import { showPanel, markDmsRead } from './panels.js';
import { rebuildLogs } from './room.js';
import { removeParticipant, struggling } from './dialogs.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Participant} Participant
 * @typedef {import('./page.js').Page} Page
 */

/**
 * "Who is here", built once.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildPeople(p) {
  p.el.peopleCount = h('span', { class: 'muted' });
  p.el.people = h('ul', { class: 'people', id: 'people' });
  return h('section', { class: 'panel panel-people card', id: 'panel-people', 'aria-labelledby': 'people-heading' },
    h('h2', { id: 'people-heading', tabindex: '-1' }, 'Who is here ', p.el.peopleCount), p.el.people);
}

/** @param {Page} p */
export function renderPeople(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const asking = new Set(facilitator ? openHelpRequests(model).map((i) => i.from) : []);
  const people = [...model.participants.values()];
  // Facilitators first, then whoever asked for help, the stick holder, the
  // queue, and everyone else in joining order.
  /** @param {Participant} x */
  const rank = (x) => x.role === 'facilitator' ? 0 : asking.has(x.id) ? 1 : model.stick.holder === x.id ? 2 : queuePlace(model, x.id) ? 3 + queuePlace(model, x.id) : 10_000;
  people.sort((a, b) => rank(a) - rank(b));
  const here = people.filter((x) => x.presence !== 'offline').length;
  p.el.peopleCount.textContent = `(${here})`;
  replace(p.el.people, people.map((x) => participantRow(model, x, {
    facilitator,
    asksForHelp: asking.has(x.id),
    onMute: (q) => { void command(p, 'mute', { participant: q.id, on: !q.muted }, `mute-${q.id}`); },
    onRemove: (q) => { void removeParticipant(p, q, `remove-${q.id}`); },
    onDm: (q) => openDm(p, q.id),
    onGive: (q) => { void command(p, 'give', { participant: q.id }, `give-${q.id}`); },
  })));
}

/**
 * Opens the private thread with someone, ready to write.
 * @param {Page} p
 * @param {string} id
 */
export function openDm(p, id) {
  p.dmWith = id;
  showPanel(p, 'private');
  markDmsRead(p);
  p.rerender();
  const input = document.getElementById('dm-text');
  if (input) {
    input.scrollIntoView({ block: 'nearest' });
    input.focus();
  }
}

/**
 * The private thread, built once.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildPrivate(p) {
  const facilitator = p.model?.you.role === 'facilitator';
  p.el.dmList = h('ol', { class: 'log dm-log', 'aria-label': 'Private messages', tabindex: '0' });
  p.el.dmForm = buildDmForm(p);
  p.el.dmSelect = h('select', { id: 'dm-with', class: 'dm-with' });
  p.el.dmSelect.addEventListener('change', () => {
    p.dmWith = /** @type {HTMLSelectElement} */ (p.el.dmSelect).value || null;
    markDmsRead(p);
    p.rerender();
  });
  const section = h('section', { class: 'panel panel-private card', 'aria-labelledby': 'dm-heading', id: 'private' },
    h('h2', { id: 'dm-heading', tabindex: '-1', text: facilitator ? 'Private check-ins' : 'Private with the facilitator' }),
    facilitator
      ? h('div', { class: 'field' }, h('label', { for: 'dm-with', text: 'With' }), p.el.dmSelect)
      : h('p', { class: 'hint', text: 'Only you and the facilitators see this. Your facilitator may check in with you here, and you can answer. If you would like them to, press “I’m struggling”.' }),
    p.el.dmList, p.el.dmForm);
  // Reading or writing here is reading what arrived.
  section.addEventListener('focusin', () => {
    const before = unreadDms(p).length;
    markDmsRead(p);
    if (unreadDms(p).length !== before) p.rerender();
  });
  return section;
}

/** @param {Page} p */
export function renderPrivate(p) {
  const model = p.model;
  if (!model) return;
  const facilitator = model.you.role === 'facilitator';
  const unread = new Set(unreadDms(p).map((d) => d.id));
  if (facilitator) {
    const others = [...model.participants.values()].filter((x) => x.role !== 'facilitator');
    replace(p.el.dmSelect,
      h('option', { value: '', text: others.length ? 'Choose someone' : 'Nobody has joined yet' }),
      others.map((x) => {
        const fresh = model.dms.filter((d) => d.from === x.id && unread.has(d.id)).length;
        const count = model.dms.filter((d) => d.from === x.id || d.to === x.id).length;
        const words = fresh ? ` (${fresh} new)` : count ? ` (${count})` : '';
        return h('option', { value: x.id, selected: x.id === p.dmWith, text: `${x.name}${words}` });
      }));
    /** @type {HTMLSelectElement} */ (p.el.dmSelect).value = p.dmWith || '';
  }
  const who = facilitator ? p.dmWith : null;
  const thread = model.dms.filter((d) => !facilitator || (who !== null && (d.from === who || d.to === who)));
  const list = p.el.dmList;
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  replace(list, thread.length
    ? thread.map((d) => dmItem(model, d, unread.has(d.id)))
    : h('li', { class: 'log-empty muted', text: facilitator ? (who ? 'No private messages with them yet.' : 'Choose someone to check in with.') : 'Nothing here yet.' }));
  if (atEnd || thread.some((d) => unread.has(d.id))) list.scrollTop = list.scrollHeight;
  const send = /** @type {HTMLButtonElement} */ (p.el.dmForm.querySelector('button'));
  send.disabled = facilitator ? !who : dmTarget(p) === null;
  // A participant's reply box appears once a facilitator has written.
  p.el.dmForm.hidden = !facilitator && dmTarget(p) === null;
}

/**
 * The private thread's form (participant ↔ facilitator).
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
function buildDmForm(p) {
  const input = h('textarea', { id: 'dm-text', rows: '2', maxlength: '2000' });
  const send = h('button', { type: 'submit', class: 'small primary', id: 'dm-send', 'data-key': 'dm-send', text: 'Send privately' });
  const form = h('form', { class: 'stack', id: 'dm-form' },
    h('label', { for: 'dm-text', text: 'Private message' }), input, h('div', { class: 'row end' }, send));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!p.model) return;
    const to = dmTarget(p);
    const body = input.value.trim();
    if (!to || !body) {
      refuse(p, to ? 'Write something first, then press Send privately.' : 'You can answer here once the facilitator has written to you. To ask them to, press “I\'m struggling”.', 'dm-send');
      return;
    }
    input.value = '';
    if (!(await command(p, 'dm', { participant: to, text: body }, 'dm-send')) && !input.value) input.value = body;
  });
  return form;
}

/**
 * Whom a private message from this page goes to.
 * @param {Page} p
 * @returns {string | null}
 */
function dmTarget(p) {
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

/**
 * "Me": a participant's own part, built once.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildMe(p) {
  p.el.you = h('div', { class: 'stack' });
  return h('section', { class: 'panel panel-me card you', 'aria-labelledby': 'you-heading', id: 'panel-me' },
    h('h2', { id: 'you-heading', tabindex: '-1', text: 'You' }), p.el.you);
}

/** @param {Page} p */
export function renderMe(p) {
  const model = /** @type {Model} */ (p.model);
  const me = model.participants.get(model.you.id);
  const place = queuePlace(model, model.you.id);
  const where = !me ? '' : me.presence === 'break' ? "You're on a break. Your place is kept."
    : model.stick.holder === me.id ? 'You have the talking stick.'
    : place ? `Your hand is up: you are ${ordinal(place)} in the queue.`
    : model.session.mode === 'open' ? 'This is open conversation: write whenever you like.'
    : 'Raise your hand under the conversation when you would like a turn.';
  replace(p.el.you,
    h('p', { text: `You are here as ${model.you.name}.` }),
    where ? h('p', { class: 'muted', text: where }) : null,
    h('div', null,
      h('button', { type: 'button', class: 'secondary', id: 'struggling', 'data-key': 'struggling', text: "I'm struggling", 'aria-describedby': 'struggling-hint', onclick: () => { void struggling(p); } }),
      h('p', { class: 'hint', id: 'struggling-hint', text: 'Lets the facilitators know, privately, that you would like them to check in with you.' })),
    settings(p));
}

/**
 * The viewer's settings, kept on this device.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function settings(p) {
  const facilitator = p.model?.you.role === 'facilitator';
  const open = document.querySelector('details.prefs')?.hasAttribute('open') ?? false;
  const turn = h('input', { type: 'checkbox', id: 'pref-sound', checked: pref('turnCue', true) });
  turn.addEventListener('change', () => { setPref('turnCue', turn.checked); if (turn.checked) { unlockAudio(); softBeep(); } p.rerender(); });
  const help = h('input', { type: 'checkbox', id: 'pref-help-sound', checked: pref('helpSound', true) });
  help.addEventListener('change', () => { setPref('helpSound', help.checked); if (help.checked) { unlockAudio(); helpChime(); } });
  const notes = h('input', { type: 'checkbox', id: 'pref-notes', checked: !pref('revealNotes', false) });
  notes.addEventListener('change', () => { setPref('revealNotes', !notes.checked); rebuildLogs(p); });
  return h('details', { class: 'prefs', open },
    h('summary', { text: 'Settings' }),
    facilitator
      ? h('div', { class: 'check' }, help, h('label', { for: 'pref-help-sound', text: 'A soft sound when someone asks for help' }))
      : h('div', { class: 'check' }, turn, h('label', { for: 'pref-sound', text: 'A soft sound and a title change when it is my turn' })),
    h('div', { class: 'check' }, notes, h('label', { for: 'pref-notes', text: 'Hide messages with a content note until I choose “Show”' })));
}

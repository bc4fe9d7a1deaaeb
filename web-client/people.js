//! The people parts of the session screen: "Who is here" (with the
//! facilitator's per-person actions and the "Asked for help" badge), the
//! private thread between a participant and the facilitators, and "Me"
//! (your place, "I'm struggling" and the settings; a facilitator's settings
//! live in the console).
//!
//! "Who is here" is a virtualized list (`vlist.js`): with thousands of
//! people only the rows in view are in the page. Its counters come from the
//! model (`peopleCounts`), never from the rows. In a large room the model
//! lists people a page at a time: the next page is asked for when the end
//! of the list comes into view, with "Show more people", or (for a
//! facilitator) when someone is named who is not listed yet.

import { queuePlace, openHelpRequests, peopleCounts, peopleInOrder, unlistedNamed, cannotGiveStick } from './queries.js';
import { applyPeoplePage } from './state.js';
import { CommandError } from './connection.js';
import { h, replace, participantRow, dmItem } from './render.js';
import { VirtualList } from './vlist.js';
import { ordinal } from './strings.js';
import { announce } from './ui.js';
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

/** People asked for per page of a large room (the most the server gives:
 * scrolling to the end of 5,000 takes ten pages, within its rate limit). */
const PEOPLE_PAGE = 500;

/** How long to wait before asking again after being told to slow down. */
const PEOPLE_RETRY_MS = 5000;

/** Above this many, a facilitator's "With" list holds only those with a thread. */
const DM_CHOICES = 60;

/**
 * "Who is here", built once: the heading with the count, a line of
 * counters, the list (virtualized) and "Show more people".
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildPeople(p) {
  p.el.peopleCount = h('span', { class: 'muted' });
  p.el.peopleSummary = h('p', { class: 'people-summary muted', id: 'people-summary' });
  p.el.people = h('ul', {
    class: 'people', id: 'people', tabindex: '0', 'aria-labelledby': 'people-heading', 'aria-describedby': 'people-summary',
  });
  p.el.peopleMore = h('button', {
    type: 'button', class: 'secondary small', id: 'people-more', 'data-key': 'people-more', hidden: true,
    onclick: () => { void showMorePeople(p); },
  });
  p.peopleList = new VirtualList({
    list: p.el.people,
    estimate: 52,
    key: (/** @type {Participant} */ x) => x.id,
    signature: (/** @type {Participant} */ x) => rowSignature(p, x),
    row: (/** @type {Participant} */ x) => personRow(p, x),
    nearEnd: () => {
      if (p.model && p.model.roster.more && !p.peopleLoading) setTimeout(() => { void loadMorePeople(p); }, 0);
    },
  });
  wirePeopleKeyboard(p, p.el.people);
  return h('section', { class: 'panel panel-people card', id: 'panel-people', 'aria-labelledby': 'people-heading' },
    h('h2', { id: 'people-heading', tabindex: '-1' }, 'Who is here ', p.el.peopleCount),
    p.el.peopleSummary, p.el.people, h('div', { class: 'people-foot' }, p.el.peopleMore));
}

/** @param {Page} p */
export function renderPeople(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  p.peopleAsking = new Set(facilitator ? openHelpRequests(model).map((i) => i.from) : []);
  const c = peopleCounts(model);
  p.el.peopleCount.textContent = `(${c.total.toLocaleString()})`;
  // Hands are raised only to take turns with the stick.
  const hands = model.session.mode === 'open' ? ''
    : ` · ${c.handsUp === 0 ? 'no hands up' : c.handsUp === 1 ? '1 hand up' : `${c.handsUp.toLocaleString()} hands up`}`;
  const away = c.listed - c.online;
  p.el.peopleSummary.textContent = c.complete
    ? `${c.online.toLocaleString()} here now${away ? `, ${away.toLocaleString()} away` : ''}${hands}.`
    : `${c.total.toLocaleString()} people${hands}. Listing ${c.listed.toLocaleString()} of ${c.total.toLocaleString()}: more load as you scroll down.`;
  const more = p.el.peopleMore;
  more.hidden = c.complete;
  more.textContent = p.peopleLoading ? 'Loading more people…' : 'Show more people';
  more.setAttribute('aria-describedby', 'people-summary');
  p.peopleList?.update(peopleInOrder(model, p.peopleAsking), c.total);
  // A facilitator needs the names of those who call on them.
  if (facilitator && !p.peopleLoading && unlistedNamed(model).length) void loadMorePeople(p);
}

/**
 * What a row of "Who is here" shows, so only changed rows are drawn again.
 * @param {Page} p
 * @param {Participant} x
 * @returns {string}
 */
function rowSignature(p, x) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const give = facilitator && x.role !== 'facilitator' && cannotGiveStick(model, x.id) === null;
  return [x.name, x.role, x.presence, x.break_note ?? '', x.muted, p.peopleAsking.has(x.id), model.stick.holder === x.id,
    queuePlace(model, x.id), give, facilitator].join('\u0000');
}

/**
 * One row, with the facilitator's actions.
 * @param {Page} p
 * @param {Participant} x
 * @returns {HTMLElement}
 */
function personRow(p, x) {
  const model = /** @type {Model} */ (p.model);
  return participantRow(model, x, {
    facilitator: model.you.role === 'facilitator',
    asksForHelp: p.peopleAsking.has(x.id),
    onMute: (q) => { void command(p, 'mute', { participant: q.id, on: !q.muted }, `mute-${q.id}`); },
    onRemove: (q) => { void removeParticipant(p, q, `remove-${q.id}`); },
    onDm: (q) => openDm(p, q.id),
    onGive: (q) => { void command(p, 'give', { participant: q.id }, `give-${q.id}`); },
  });
}

/**
 * Up and Down on a person's control go to the same control of the person
 * above or below (drawing their row if it was not in the page).
 * @param {Page} p
 * @param {HTMLElement} list
 */
function wirePeopleKeyboard(p, list) {
  list.addEventListener('keydown', (ev) => {
    if ((ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') || ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    const target = ev.target;
    if (!(target instanceof HTMLElement) || target === list) return; // the list itself scrolls
    const row = target.closest('[data-vkey]');
    if (!(row instanceof HTMLElement)) return;
    const vl = /** @type {VirtualList<Participant>} */ (p.peopleList);
    const from = vl.indexOfKey(row.dataset.vkey || '');
    const next = vl.reveal(from + (ev.key === 'ArrowDown' ? 1 : -1));
    ev.preventDefault();
    if (!next) return;
    const key = target.getAttribute('data-key') || '';
    const action = key.includes('-') ? key.slice(0, key.indexOf('-')) : '';
    const same = action ? next.querySelector(`[data-key="${CSS.escape(`${action}-${next.dataset.vkey}`)}"]`) : null;
    const to = same instanceof HTMLElement ? same : next.querySelector('button:not(:disabled)');
    if (to instanceof HTMLElement) to.focus();
    else list.focus();
  });
}

/**
 * "Show more people": the next page, then says how many are listed now.
 * When that was the last page the button goes, and focus moves to the
 * first person it listed (or the list), never to the page's body.
 * @param {Page} p
 */
async function showMorePeople(p) {
  if (!p.model) return;
  const before = new Set(p.model.participants.keys());
  await loadMorePeople(p);
  const model = p.model;
  if (!model) return;
  const added = model.participants.size - before.size;
  const c = peopleCounts(model);
  announce(added > 0
    ? `${added.toLocaleString()} more ${added === 1 ? 'person' : 'people'} listed: ${c.listed.toLocaleString()} of ${c.total.toLocaleString()}.`
    : c.complete ? 'Everyone is listed now.' : 'No more people could be listed just now. Please try again in a moment.');
  const button = p.el.peopleMore;
  if (!button.hidden || (document.activeElement !== button && document.activeElement !== document.body)) return;
  const vl = p.peopleList;
  const order = peopleInOrder(model, p.peopleAsking);
  const first = order.findIndex((x) => !before.has(x.id));
  const row = vl && first >= 0 ? vl.reveal(first) : null;
  const control = row ? row.querySelector('button:not(:disabled)') : null;
  if (control instanceof HTMLElement) control.focus();
  else p.el.people.focus();
}

/**
 * Asks the server for the next page of a large room's people (one page at a
 * time). The page itself arrives before the `ack`, through `peoplePage`.
 * @param {Page} p
 * @returns {Promise<void>}
 */
export async function loadMorePeople(p) {
  const model = p.model;
  if (!model || !model.roster.more || p.peopleLoading || p.over) return;
  if (p.peopleRetryAt && Date.now() < p.peopleRetryAt) return;
  const after = model.roster.after;
  p.peopleLoading = { model, after };
  p.el.peopleMore.textContent = 'Loading more people…';
  p.el.people.setAttribute('aria-busy', 'true');
  /** @type {Record<string, unknown>} */
  const fields = { limit: PEOPLE_PAGE };
  if (after) fields.after = after;
  try {
    await p.conn.send('people', fields);
  } catch (e) {
    const code = e instanceof CommandError ? e.code : 'internal';
    // Someone the page started after is gone: start again from the first
    // (pages replace what is listed, so nobody is listed twice).
    if (code === 'not_found' && model.roster.after === after) model.roster.after = null;
    else p.peopleRetryAt = Date.now() + PEOPLE_RETRY_MS;
  } finally {
    p.peopleLoading = null;
    p.el.people.removeAttribute('aria-busy');
  }
  if (p.model === model && !p.over) p.rerender();
}

/**
 * A page of people arrived (before the `ack` of `people`).
 * @param {Page} p
 * @param {import('./connection.js').PeopleFrame} frame
 */
export function peoplePage(p, frame) {
  const model = p.model;
  if (!model) return;
  // A page this model did not ask for (an older model's) only refreshes people.
  applyPeoplePage(model, frame, p.peopleLoading && p.peopleLoading.model === model ? p.peopleLoading.after : undefined);
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
  p.el.dmSelect = h('select', { id: 'dm-with', class: 'dm-with', 'aria-describedby': 'dm-with-hint' });
  p.el.dmWithHint = h('p', { class: 'hint', id: 'dm-with-hint', hidden: true, text: 'To write to someone else, use “Check in” next to their name under “Who is here”.' });
  p.el.dmSelect.addEventListener('change', () => {
    p.dmWith = /** @type {HTMLSelectElement} */ (p.el.dmSelect).value || null;
    markDmsRead(p);
    p.rerender();
  });
  const section = h('section', { class: 'panel panel-private card', 'aria-labelledby': 'dm-heading', id: 'private' },
    h('h2', { id: 'dm-heading', tabindex: '-1', text: facilitator ? 'Private check-ins' : 'Private with the facilitator' }),
    facilitator
      ? h('div', { class: 'field' }, h('label', { for: 'dm-with', text: 'With' }), p.el.dmSelect, p.el.dmWithHint)
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
  if (facilitator) renderDmChoices(p, unread);
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
 * A facilitator's "With" list: everyone in a small group; in a large one,
 * those with a private thread and whoever is open (others are reached with
 * "Check in" next to their name), so the list never holds thousands.
 * Redrawn only when what it offers changes.
 * @param {Page} p
 * @param {Set<string>} unread
 */
function renderDmChoices(p, unread) {
  const model = /** @type {Model} */ (p.model);
  /** @type {Map<string, {fresh: number, count: number}>} */
  const threads = new Map();
  for (const d of model.dms) {
    for (const id of [d.from, d.to]) {
      const t = threads.get(id) || { fresh: 0, count: 0 };
      t.count += 1;
      if (id === d.from && unread.has(d.id)) t.fresh += 1;
      threads.set(id, t);
    }
  }
  const counts = peopleCounts(model);
  const few = counts.complete && counts.listed <= DM_CHOICES;
  /** @type {Participant[]} */
  const others = [];
  for (const x of model.participants.values()) {
    if (x.role !== 'facilitator' && (few || threads.has(x.id) || x.id === p.dmWith)) others.push(x);
  }
  const options = others.map((x) => {
    const t = threads.get(x.id);
    const words = t && t.fresh ? ` (${t.fresh} new)` : t ? ` (${t.count})` : '';
    return { id: x.id, text: `${x.name}${words}` };
  });
  const first = others.length ? 'Choose someone' : few ? 'Nobody has joined yet' : 'Nobody yet';
  p.el.dmWithHint.hidden = few;
  const signature = `${first}\u0000${p.dmWith || ''}\u0000${options.map((o) => `${o.id}:${o.text}`).join('\u0000')}`;
  const select = /** @type {HTMLSelectElement} */ (p.el.dmSelect);
  if (select.dataset.signature !== signature) {
    select.dataset.signature = signature;
    replace(select,
      h('option', { value: '', text: first }),
      options.map((o) => h('option', { value: o.id, selected: o.id === p.dmWith, text: o.text })));
  }
  select.value = p.dmWith || '';
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

//! The cockpit: what must never be out of sight, at the top of the session
//! screen on every width. The status bar (phase and mode, who holds the stick
//! and the clock, the queue and your place; for facilitators the counters of
//! open help requests, reports and unread private messages, each opening its
//! panel), the help-request banner (facilitators: the one thing that may
//! interrupt a screen reader), the private-message banner (participants),
//! the latest announcement, and the tab title. ("It's your turn" and "I'm
//! done" sit with the conversation, in `actions.js`.)
//!
//! It reads the model and the page; it changes nothing but its own nodes,
//! the title and the sound.

import { nameOf, queuePlace, openHelpRequests, openReports } from './queries.js';
import { h, replace, modeName, timeOfDay } from './render.js';
import { ordinal, clock } from './strings.js';
import { baseTitle } from './chrome.js';
import { pref } from './prefs.js';
import { softBeep, helpChime } from './sound.js';
import { command, unreadDms } from './page.js';
import { showPanel, markDmsRead } from './panels.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').HelpRequest} HelpRequest
 * @typedef {import('./page.js').Page} Page
 */

/** The help requests shown in full in the banner; more are counted. */
const BANNER_ITEMS = 2;

/**
 * Builds the cockpit's skeleton once.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildCockpit(p) {
  const el = p.el;
  el.status = h('p', { class: 'status-line', id: 'status-line' });
  el.clock = h('span', { class: 'turn-clock', role: 'timer', 'aria-live': 'off', id: 'turn-clock' });
  el.counters = h('div', { class: 'counters', id: 'counters' });
  el.statusBar = h('div', { class: 'statusbar', id: 'statusbar', role: 'region', 'aria-label': 'Where the session stands', tabindex: '-1' },
    el.status, el.counters);
  // Always in the page, so screen readers hear what is put in it.
  el.helpAlert = h('div', { class: 'help-alert', id: 'help-alert', role: 'alert', 'aria-atomic': 'true' });
  el.dmAlert = h('div', { class: 'dm-alert', id: 'dm-alert', role: 'status' });
  el.announcement = h('div', { class: 'announcement', id: 'announcement', hidden: true });
  el.notice = h('p', { class: 'notice', role: 'status', hidden: true, id: 'notice' });
  return h('div', { class: 'cockpit', id: 'cockpit' },
    el.statusBar, el.helpAlert, el.dmAlert, el.announcement, el.notice);
}

/**
 * Everything in the cockpit, from the model.
 * @param {Page} p
 */
export function renderCockpit(p) {
  renderStatus(p);
  renderHelpAlert(p);
  renderDmAlert(p);
  renderCounters(p);
  renderAnnouncement(p);
  renderTitle(p);
}

/**
 * What changes with the clock alone: the turn clock and "your turn".
 * @param {Page} p
 */
export function tickCockpit(p) {
  renderClock(p);
}

/** @param {Page} p */
function renderStatus(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  /** @type {import('./render.js').Child[]} */
  const parts = [];
  if (s.phase === 'lobby') parts.push(h('span', { class: 'pill', text: 'Not started yet' }));
  else if (s.phase === 'paused') parts.push(h('span', { class: 'pill pill-paused', text: s.reason === 'no_facilitator' ? 'Paused until the facilitator is back' : 'Paused' }));
  else if (s.phase === 'live') parts.push(h('span', { class: 'pill pill-live', text: 'In session' }));
  parts.push(h('span', { class: 'pill', text: modeName(s.mode) }));
  if (s.locked) parts.push(h('span', { class: 'pill', text: 'Closed to new people' }));
  if (s.mode !== 'open') {
    const holder = model.stick.holder;
    parts.push(h('span', { class: 'status-stick' }, holder
      ? (holder === model.you.id ? h('strong', { text: 'You have the stick' }) : [h('strong', { text: nameOf(model, holder) }), ' has the stick'])
      : 'Nobody has the stick', ' ', p.el.clock));
    const place = queuePlace(model, model.you.id);
    if (place) parts.push(h('span', { class: 'status-place', text: `You are ${ordinal(place)} in the queue` }));
    else parts.push(h('span', { class: 'status-queue', text: model.queue.length === 0 ? 'Nobody waiting' : `${model.queue.length} waiting` }));
  }
  if (s.phase === 'paused' && s.note) parts.push(h('span', { class: 'status-note' }, 'Note: ', h('span', { text: s.note })));
  if (s.ending_soon) parts.push(h('span', { class: 'pill', text: 'Ending soon' }));
  replace(p.el.status, ...parts);
  renderClock(p);
}

/**
 * The turn clock, updated every second by the ticker.
 * @param {Page} p
 */
function renderClock(p) {
  const model = p.model;
  if (!model) return;
  const st = model.stick;
  const c = p.el.clock;
  const left = st.ends_at !== null ? st.ends_at - Date.now() : st.remaining_ms;
  if (!st.holder || model.session.mode === 'open' || left === null) {
    c.textContent = '';
    c.hidden = true;
    c.classList.remove('clock-warning');
    return;
  }
  c.hidden = false;
  const warning = st.warned || (model.session.warning_ms !== null && left <= model.session.warning_ms);
  c.classList.toggle('clock-warning', warning);
  const paused = st.ends_at === null;
  c.textContent = `${clock(left)} left${paused ? ' (paused)' : ''}${warning ? ' · nearly time' : ''}`;
}

/**
 * The counters: buttons that open their panel. Facilitators always see
 * help requests, reports and unread private messages; participants see
 * their unread private messages when there are any.
 * @param {Page} p
 */
function renderCounters(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const dms = unreadDms(p).length;
  /**
   * @param {string} id
   * @param {string} label  short, for a phone
   * @param {string} more  the rest of the label, on wider screens
   * @param {number} n
   * @param {string} words  for screen readers, after the number
   * @param {string} cls
   * @param {() => void} open
   */
  const counter = (id, label, more, n, words, cls, open) => h('button', {
    type: 'button', id, 'data-key': id, class: `counter${n > 0 ? ` ${cls}` : ''}`, onclick: open,
  }, h('span', { class: 'counter-label' }, label, h('span', { class: 'counter-more', text: more })), ' ',
  h('span', { class: 'counter-n', text: String(n) }), h('span', { class: 'visually-hidden', text: ` ${words}` }));
  if (facilitator) {
    replace(p.el.counters,
      counter('count-help', 'Help', ' requests', openHelpRequests(model).length, 'open', 'counter-help', () => openInbox(p)),
      counter('count-reports', 'Reports', '', openReports(model).length, 'open', 'counter-on', () => openInbox(p)),
      counter('count-private', 'Private', ' messages', dms, 'unread', 'counter-on', () => openPrivate(p, null)));
    p.el.counters.hidden = false;
  } else {
    // A participant's banner already says it; the counter stays once the
    // banner is put aside ("Later").
    const bannerShown = p.el.dmAlert.classList.contains('is-open');
    const show = dms > 0 && !bannerShown;
    p.el.counters.hidden = !show;
    replace(p.el.counters, show ? counter('count-private', 'Private', ' messages', dms, 'unread', 'counter-on', () => openPrivate(p, null)) : null);
  }
}

/**
 * Opens the inbox of help requests and reports (the console).
 * @param {Page} p
 */
export function openInbox(p) {
  showPanel(p, 'console');
  const heading = document.getElementById('c-inbox');
  if (heading) {
    heading.scrollIntoView({ block: 'start' });
    heading.focus({ preventScroll: true });
  }
}

/**
 * Opens the private thread (with someone, for a facilitator) and puts the
 * cursor in the reply box.
 * @param {Page} p
 * @param {string | null} withId
 */
export function openPrivate(p, withId) {
  if (withId) p.dmWith = withId;
  else if (!p.dmWith && p.model && p.model.you.role === 'facilitator') {
    const first = unreadDms(p)[0];
    if (first) p.dmWith = first.from;
  }
  showPanel(p, 'private');
  markDmsRead(p);
  p.rerender();
  const input = document.getElementById('dm-text');
  if (input instanceof HTMLTextAreaElement && !input.closest('[hidden]')) {
    input.scrollIntoView({ block: 'nearest' });
    input.focus();
  } else {
    document.getElementById('dm-heading')?.focus();
  }
}

/**
 * The help-request banner: calm but unmistakable, with the person's name,
 * their note and what to do. Redrawn only when what it says changes, so a
 * screen reader hears each request once.
 * @param {Page} p
 */
function renderHelpAlert(p) {
  const model = /** @type {Model} */ (p.model);
  const box = p.el.helpAlert;
  const open = model.you.role === 'facilitator' ? openHelpRequests(model) : [];
  const shown = open.slice(-BANNER_ITEMS).reverse();
  const signature = shown.map((i) => `${i.id}:${nameOf(model, i.from)}`).join('|') + `+${open.length}`;
  if (signature === p.helpShown) return;
  p.helpShown = signature;
  box.classList.toggle('is-open', open.length > 0);
  if (!open.length) {
    replace(box);
    return;
  }
  replace(box,
    shown.map((item) => helpItem(p, item)),
    open.length > shown.length
      ? h('p', { class: 'help-more' }, h('button', {
          type: 'button', class: 'link-button', 'data-key': 'help-more', onclick: () => openInbox(p),
          text: `${open.length - shown.length} more ${open.length - shown.length === 1 ? 'request' : 'requests'} for help in the inbox`,
        }))
      : null);
}

/**
 * @param {Page} p
 * @param {HelpRequest} item
 * @returns {HTMLElement}
 */
function helpItem(p, item) {
  const model = /** @type {Model} */ (p.model);
  const who = nameOf(model, item.from);
  return h('div', { class: 'help-item', 'data-help': item.id },
    h('p', { class: 'help-title' },
      h('strong', { text: `${who} needs you.` }), ' ',
      h('span', { text: `They asked for help at ${timeOfDay(item.at)}.` })),
    item.note ? h('p', { class: 'help-note' }, '“', h('span', { text: item.note }), '”') : null,
    h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'primary', 'data-key': `alert-dm-${item.id}`, text: 'Check in privately',
        'aria-label': `Check in privately with ${who}`,
        onclick: () => {
          void command(p, 'mark_seen', { item: item.id }, `alert-dm-${item.id}`);
          openPrivate(p, item.from);
        },
      }),
      h('button', {
        type: 'button', class: 'secondary', 'data-key': `alert-seen-${item.id}`, text: 'Mark as seen',
        'aria-label': `Mark as seen: ${who}'s request`,
        onclick: () => { void markSeen(p, item.id, `alert-seen-${item.id}`); },
      })),
    h('p', { class: 'hint', text: 'Marking it as seen (checking in does too) tells your co-facilitators that someone has it.' }));
}

/**
 * Marks a help request or report as seen for every facilitator.
 * @param {Page} p
 * @param {string} id
 * @param {string} from  the data-key of the control
 */
export async function markSeen(p, id, from) {
  if (await command(p, 'mark_seen', { item: id }, from)) {
    const status = document.getElementById('statusbar');
    // The banner item is gone; put focus somewhere that still exists.
    if (document.activeElement === document.body && status) status.focus();
  }
}

/**
 * The participant's banner for a private message they have not opened.
 * @param {Page} p
 */
function renderDmAlert(p) {
  const model = /** @type {Model} */ (p.model);
  const box = p.el.dmAlert;
  const unread = model.you.role === 'facilitator' ? [] : unreadDms(p);
  const last = unread[unread.length - 1];
  const signature = last ? `${last.id}:${unread.length}` : '';
  if (box.dataset.shown === signature && (!last || box.dataset.dismissed !== last.id)) return;
  box.dataset.shown = signature;
  if (!last || box.dataset.dismissed === last.id) {
    box.classList.remove('is-open');
    replace(box);
    return;
  }
  box.classList.add('is-open');
  const from = nameOf(model, last.from);
  const preview = last.text.length > 160 ? `${last.text.slice(0, 157)}…` : last.text;
  replace(box,
    h('p', { class: 'dm-alert-title' },
      h('strong', { text: `${from} (facilitator) wrote to you` }),
      unread.length > 1 ? ` (${unread.length} new)` : '', ':'),
    h('p', { class: 'dm-alert-text' }, '“', h('span', { text: preview }), '”'),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', 'data-key': 'dm-alert-read', id: 'dm-alert-read', text: 'Read and reply', onclick: () => openPrivate(p, null) }),
      h('button', {
        type: 'button', class: 'quiet', 'data-key': 'dm-alert-later', text: 'Later',
        onclick: () => {
          box.dataset.dismissed = last.id;
          renderDmAlert(p);
          renderCounters(p);
          document.getElementById('count-private')?.focus();
        },
      })));
}

/** @param {Page} p */
function renderAnnouncement(p) {
  const model = /** @type {Model} */ (p.model);
  const last = model.announcements[model.announcements.length - 1];
  const box = p.el.announcement;
  if (!last || box.dataset.dismissed === String(last.at)) {
    box.hidden = true;
    return;
  }
  if (box.dataset.shown === String(last.at) && !box.hidden) return;
  box.dataset.shown = String(last.at);
  box.hidden = false;
  replace(box,
    h('p', null, h('strong', { text: 'From the facilitator: ' }), h('span', { text: last.text })),
    h('button', {
      type: 'button', class: 'quiet small', 'data-key': 'announcement-dismiss', text: 'Dismiss',
      onclick: () => { box.dataset.dismissed = String(last.at); box.hidden = true; p.el.statusBar.focus(); },
    }));
}

/**
 * The tab title: someone needing you first, then your turn, then a private
 * message, each with a count where it helps.
 * @param {Page} p
 */
export function renderTitle(p) {
  const model = p.model;
  if (!model) return;
  const base = baseTitle();
  const help = model.you.role === 'facilitator' ? openHelpRequests(model).length : 0;
  const dms = model.you.role === 'facilitator' ? 0 : unreadDms(p).length;
  let title = base;
  if (help) title = `(${help}) Someone needs you · ${base}`;
  else if (model.stick.holder === model.you.id && model.session.mode !== 'open' && pref('turnCue', true)) title = `Your turn · ${base}`;
  else if (dms) title = `(${dms}) A private message · ${base}`;
  if (document.title !== title) document.title = title;
}

/**
 * A new help request: the soft chime, when the facilitator has it on. The
 * banner and the title say the rest.
 * @param {Page} p
 */
export function helpCue(p) {
  void p;
  if (pref('helpSound', true)) helpChime();
}

/**
 * The soft sound when the stick comes to you, when it is on.
 * @param {Page} p
 */
export function turnCue(p) {
  void p;
  if (pref('turnCue', true)) softBeep();
}

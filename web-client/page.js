//! What one open session page keeps (`Page`), and what every part of the
//! session screen needs: sending a command, and telling the person about a
//! refusal **next to the control that caused it** (never only at the top of
//! the page), plus a short calm notice for the rest. Drafts live here too, in
//! `sessionStorage`, so nothing typed is lost to a reload.
//!
//! No rendering of its own beyond those notes; no knowledge of screens.

import { CommandError } from './connection.js';
import { errorText } from './strings.js';
import { announce } from './ui.js';
import { h } from './render.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {import('./connection.js').Connection} Connection
 * @typedef {'talk' | 'people' | 'private' | 'me' | 'console'} Panel
 */

/**
 * Where the page goes when the server ends its part in the session.
 * @typedef {object} Exits
 * @property {() => void} removed  the facilitator removed this participant
 * @property {() => void} unauthorized  the token was refused
 * @property {() => void} ended  the session ended
 */

/**
 * Everything one session page keeps while it is open.
 * @typedef {object} Page
 * @property {string} sessionId
 * @property {SessionCard} card
 * @property {Connection} conn
 * @property {Model | null} model
 * @property {Exits} exits
 * @property {string} room  the room shown
 * @property {Panel} panel  the part shown on a phone (all are shown on wider screens)
 * @property {Map<string, HTMLOListElement>} logs  one list per room
 * @property {Map<string, number>} unread  new messages per room not shown
 * @property {Map<string, string>} drafts
 * @property {string | null} dmWith  the participant whose private thread a facilitator has open
 * @property {Set<string>} readDms  private messages to this viewer that they have opened
 * @property {Set<string>} earlierLoading  rooms whose older messages are on the way
 * @property {Map<string, {text: string, stamp: number, tone: 'refusal' | 'done'}>} refusals  notes next to controls, by the `data-key` of the control
 * @property {string} helpShown  the help requests the banner shows now (so it is announced once)
 * @property {boolean} wasOnline
 * @property {boolean} over
 * @property {ReturnType<typeof setInterval> | null} ticker
 * @property {import('./vlist.js').VirtualList<import('./state.js').Participant> | null} peopleList  "Who is here", virtualized
 * @property {Set<string>} peopleAsking  who has an open help request (for the rows of "Who is here")
 * @property {{model: Model, after: string | null} | null} peopleLoading  the page of people on the way
 * @property {number} peopleRetryAt  when to ask for people again after a refusal (ms, 0: now)
 * @property {Record<string, HTMLElement>} el
 * @property {() => void} rerender  redraws everything but the logs
 * @property {(what: string) => void} focusAfter  after an action, moves focus to the control that makes sense once it appears
 * @property {() => void} [afterRender]
 */

/** How long a refusal stays next to its control. */
const REFUSAL_MS = 12_000;

/**
 * @param {string} sessionId
 * @returns {Map<string, string>}
 */
export function loadDrafts(sessionId) {
  try {
    const raw = sessionStorage.getItem(`peercircle.drafts.${sessionId}`);
    return new Map(raw ? Object.entries(JSON.parse(raw)) : []);
  } catch {
    return new Map();
  }
}

/** @param {Page} p */
export function saveDrafts(p) {
  try {
    sessionStorage.setItem(`peercircle.drafts.${p.sessionId}`, JSON.stringify(Object.fromEntries(p.drafts)));
  } catch { /* storage full or blocked: the draft still lives in the page */ }
}

/**
 * Sends a command; a refusal is shown in words, never thrown. With `from`
 * (the `data-key` of the control that sent it) the words appear right next
 * to that control, and stay there across redraws for a few seconds.
 * @param {Page} p
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 * @param {string} [from]
 * @returns {Promise<boolean>}
 */
export async function command(p, type, fields, from) {
  try {
    await p.conn.send(type, fields);
    if (from && p.refusals.delete(from)) placeRefusals(p);
    return true;
  } catch (e) {
    const code = e instanceof CommandError ? e.code : 'internal';
    refuse(p, errorText(code, e instanceof Error ? e.message : ''), from);
    return false;
  }
}

/**
 * Shows why something did not happen, next to its control when known.
 * @param {Page} p
 * @param {string} text
 * @param {string} [from]  the `data-key` of the control
 */
export function refuse(p, text, from) {
  noteNear(p, text, from, 'refusal');
}

/**
 * Confirms that something went through, next to the control that did it
 * (so a phone's cockpit stays free for what matters).
 * @param {Page} p
 * @param {string} text
 * @param {string} from  the `data-key` of the control
 */
export function confirmNear(p, text, from) {
  noteNear(p, text, from, 'done');
}

/**
 * @param {Page} p
 * @param {string} text
 * @param {string | undefined} from
 * @param {'refusal' | 'done'} tone
 */
function noteNear(p, text, from, tone) {
  const control = from ? p.el.root?.querySelector(`[data-key="${CSS.escape(from)}"]`) : null;
  if (!from || !control) {
    notify(p, text);
    return;
  }
  const stamp = Date.now();
  p.refusals.set(from, { text, stamp, tone });
  placeRefusals(p);
  announce(text);
  setTimeout(() => {
    const r = p.refusals.get(from);
    if (r && r.stamp === stamp) {
      p.refusals.delete(from);
      placeRefusals(p);
    }
  }, REFUSAL_MS);
}

/**
 * Puts each standing refusal right after its control (after a redraw too),
 * and ties it to the control with `aria-describedby`.
 * @param {Page} p
 */
export function placeRefusals(p) {
  const root = p.el.root;
  if (!root) return;
  for (const old of root.querySelectorAll('.refusal')) {
    const key = old.getAttribute('data-for') || '';
    if (!p.refusals.has(key) || !old.previousElementSibling || old.previousElementSibling.getAttribute('data-key') !== key) old.remove();
  }
  for (const [key, { text, tone }] of p.refusals) {
    const control = root.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!(control instanceof HTMLElement)) continue;
    const id = `refusal-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    let note = document.getElementById(id);
    if (!note || note.previousElementSibling !== control) {
      note?.remove();
      note = h('p', { class: 'refusal', id, 'data-for': key });
      control.after(note);
    }
    note.classList.toggle('is-done', tone === 'done');
    note.textContent = text;
    const described = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!described.includes(id)) control.setAttribute('aria-describedby', [...described, id].join(' '));
  }
}

/**
 * A short, calm notice at the top of the session (and for screen readers),
 * for what no control caused: a reply that came back, a dropped message.
 * @param {Page} p
 * @param {string} text
 */
export function notify(p, text) {
  const n = p.el.notice;
  if (!n) return;
  n.textContent = text;
  n.hidden = false;
  announce(text);
  const stamp = String(Date.now());
  n.dataset.stamp = stamp;
  setTimeout(() => {
    if (n.dataset.stamp === stamp) {
      n.hidden = true;
      n.textContent = '';
    }
  }, 9000);
}

/**
 * The private messages to this viewer they have not opened yet.
 * @param {Page} p
 * @returns {import('./state.js').Dm[]}
 */
export function unreadDms(p) {
  const model = p.model;
  if (!model) return [];
  const facilitator = model.you.role === 'facilitator';
  return model.dms.filter((d) => !p.readDms.has(d.id) && (facilitator
    // A facilitator: what participants wrote (to any facilitator).
    ? (model.participants.get(d.from)?.role ?? 'participant') !== 'facilitator'
    // A participant: what was written to them.
    : d.to === model.you.id));
}

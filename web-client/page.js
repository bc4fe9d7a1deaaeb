//! What one open session page keeps (`Page`), and the two things every part
//! of the session screen needs: sending a command (a refusal is shown in
//! words, never thrown) and a short calm notice. Drafts live here too, in
//! `sessionStorage`, so nothing typed is lost to a reload.
//!
//! No rendering of its own beyond the notice; no knowledge of screens.

import { CommandError } from './connection.js';
import { errorText } from './strings.js';
import { announce } from './ui.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {import('./connection.js').Connection} Connection
 */

/**
 * Everything one session page keeps while it is open.
 * @typedef {object} Page
 * @property {string} sessionId
 * @property {SessionCard} card
 * @property {Connection} conn
 * @property {Model | null} model
 * @property {string} room  the room shown
 * @property {Map<string, HTMLOListElement>} logs  one list per room
 * @property {Map<string, number>} unread
 * @property {Map<string, string>} drafts
 * @property {Set<string>} dismissed  inbox items handled
 * @property {string | null} dmWith  the participant whose private thread a facilitator has open
 * @property {boolean} wasOnline
 * @property {boolean} over
 * @property {ReturnType<typeof setInterval> | null} ticker
 * @property {Record<string, HTMLElement>} el
 * @property {Exits} exits  where the page goes when the server ends its part
 */

/**
 * @typedef {{removed: () => void, unauthorized: () => void}} Exits
 */

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
 * Sends a command; a refusal is shown in words, never thrown.
 * @param {Page} p
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 * @returns {Promise<boolean>}
 */
export async function command(p, type, fields) {
  try {
    await p.conn.send(type, fields);
    return true;
  } catch (e) {
    const code = e instanceof CommandError ? e.code : 'internal';
    notify(p, errorText(code, e instanceof Error ? e.message : ''));
    return false;
  }
}

/**
 * A short, calm notice under the status line (and for screen readers).
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

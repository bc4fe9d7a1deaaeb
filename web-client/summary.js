//! The session summary a facilitator lands on after ending a session, and
//! can keep (print, or download as a text file): who came, turns and time
//! with the stick per person (the balance view, frozen), breaks, help
//! requests and reports and how soon each was seen. Never message text: the
//! server's summary has none. A large session's summary draws at most
//! `SUMMARY_ROWS` people (those who had a turn; the others counted) and the
//! downloaded copy lists everyone.

import * as api from './api.js';
import { h, replace, balance, timeOfDay } from './render.js';
import { durationWords } from './strings.js';
import { words } from './login.js';
import { announce } from './ui.js';

/** The most people drawn in the summary's balance view (the copy has everyone). */
const SUMMARY_ROWS = 200;

/**
 * @typedef {import('./api.js').SessionSummary} SessionSummary
 */

/**
 * The summary card, filled in when the server answers.
 * @param {string} sessionId
 * @param {() => void} close
 * @returns {HTMLElement}
 */
export function summarySection(sessionId, close) {
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted', text: 'Loading the summary…' }));
  const section = h('section', { class: 'card summary', id: 'summary', 'aria-labelledby': 'summary-title' },
    h('div', { class: 'row spread' },
      h('h2', { id: 'summary-title', tabindex: '-1', text: 'Session summary' }),
      h('button', { type: 'button', class: 'quiet small no-print', id: 'summary-close', text: 'Close the summary', onclick: close })),
    body);
  void load(sessionId, section, body);
  return section;
}

/**
 * @param {string} sessionId
 * @param {HTMLElement} section
 * @param {HTMLElement} body
 */
async function load(sessionId, section, body) {
  try {
    const s = await api.sessionSummary(sessionId);
    const title = section.querySelector('#summary-title');
    if (title) title.textContent = `Session summary: ${s.session.group.name}`;
    replace(body, ...render(s));
    announce(`The summary of ${s.session.group.name} is ready.`);
  } catch (e) {
    replace(body, h('p', { class: e instanceof api.ApiError && e.status === 404 ? 'muted' : 'form-error',
      text: e instanceof api.ApiError && e.status === 404 ? "This session hasn't run yet, so there is nothing to sum up." : words(e) }));
  }
}

/**
 * How long after `at` something was seen, in words.
 * @param {number} at
 * @param {number | null} seenAt
 * @returns {string}
 */
function seenAfter(at, seenAt) {
  if (seenAt === null) return '';
  return durationWords(Math.max(0, seenAt - at));
}

/**
 * @param {SessionSummary} s
 * @returns {import('./render.js').Child[]}
 */
function render(s) {
  const names = new Map(s.people.map((p) => [p.id, p.name]));
  const name = (/** @type {string | null} */ id) => (id && names.get(id)) || 'someone';
  const participants = s.people.filter((p) => p.role !== 'facilitator');
  const facilitators = s.people.filter((p) => p.role === 'facilitator');
  const removed = participants.filter((p) => p.removed);
  const day = new Date(s.session.started_at ?? s.session.starts_at).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const from = s.session.started_at !== null ? timeOfDay(s.session.started_at) : '';
  const to = s.session.ended_at !== null ? timeOfDay(s.session.ended_at) : '';
  const when = `${day}${from ? `, ${from}` : ''}${to ? ` to ${to}` : ''} · ${durationWords(s.session.live_ms)} in session`;
  const lines = textLines(s, when, name);
  return [
    h('p', { text: when }),
    h('p', { class: 'muted', text: 'This summary holds no message text: what people wrote was never kept.' }),
    h('div', { class: 'row no-print' },
      h('button', { type: 'button', class: 'secondary small', id: 'summary-print', text: 'Print or save as PDF', onclick: () => window.print() }),
      h('button', {
        type: 'button', class: 'secondary small', id: 'summary-download', text: 'Download a copy',
        onclick: () => download(`peercircle-summary-${s.session.group.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}-${dayStamp(s.session.started_at ?? s.session.starts_at)}.txt`, lines.join('\n')),
      })),
    h('h3', { text: `Who came (${participants.length.toLocaleString()} ${participants.length === 1 ? 'person' : 'people'})` }),
    h('p', { class: 'hint', text: 'Turns, time with the stick and breaks, quietest first, as the session ended.' }),
    balance(participants.map((p) => ({ name: p.removed ? `${p.name} (asked to leave)` : p.name, turns: p.turns, spoken_ms: p.spoken_ms, breaks: p.breaks })), SUMMARY_ROWS),
    participants.length > SUMMARY_ROWS ? h('p', { class: 'hint', text: 'The downloaded copy lists everyone who came.' }) : null,
    facilitators.length ? h('p', { class: 'muted', text: `Facilitated by ${facilitators.map((f) => f.name).join(', ')}.` }) : null,
    removed.length ? h('p', { class: 'muted', text: `Asked to leave: ${nameList(removed.map((p) => p.name))}.` }) : null,
    h('h3', { text: `Help requests (${s.help_requests.length})` }),
    s.help_requests.length
      ? h('ul', { class: 'plain summary-list', id: 'summary-help' }, s.help_requests.map((r) => h('li', null,
          h('strong', { text: timeOfDay(r.at) }), ` ${name(r.from)} asked for help. `,
          r.seen_by ? `Seen by ${name(r.seen_by)} after ${seenAfter(r.at, r.seen_at)}.` : h('span', { class: 'warm-text', text: 'Nobody marked it as seen.' }))))
      : h('p', { class: 'muted', text: 'Nobody asked for help.' }),
    h('h3', { text: `Reports (${s.reports.length})` }),
    s.reports.length
      ? h('ul', { class: 'plain summary-list', id: 'summary-reports' }, s.reports.map((r) => h('li', null,
          h('strong', { text: timeOfDay(r.at) }), ` ${name(r.by)} reported a message by ${name(r.from)}. `,
          r.seen_by ? `Seen by ${name(r.seen_by)} after ${seenAfter(r.at, r.seen_at)}.` : h('span', { class: 'warm-text', text: 'Nobody marked it as seen.' }))))
      : h('p', { class: 'muted', text: 'No reports.' }),
  ];
}

/**
 * Names in a sentence, the first few and how many more.
 * @param {string[]} list
 * @returns {string}
 */
function nameList(list) {
  const few = 20;
  return list.length <= few ? list.join(', ') : `${list.slice(0, few).join(', ')} and ${(list.length - few).toLocaleString()} more`;
}

/**
 * The summary as plain text, for the downloaded copy.
 * @param {SessionSummary} s
 * @param {string} when
 * @param {(id: string | null) => string} name
 * @returns {string[]}
 */
function textLines(s, when, name) {
  const out = [`Session summary: ${s.session.group.name}`, when, '', 'Who came (turns, time with the stick, breaks):'];
  for (const p of s.people) {
    const role = p.role === 'facilitator' ? ' (facilitator)' : p.removed ? ' (asked to leave)' : '';
    out.push(`- ${p.name}${role}: ${p.turns} ${p.turns === 1 ? 'turn' : 'turns'}, ${durationWords(p.spoken_ms)}, ${p.breaks} ${p.breaks === 1 ? 'break' : 'breaks'}`);
  }
  out.push('', `Help requests (${s.help_requests.length}):`);
  for (const r of s.help_requests) out.push(`- ${timeOfDay(r.at)} ${name(r.from)}: ${r.seen_by ? `seen by ${name(r.seen_by)} after ${seenAfter(r.at, r.seen_at)}` : 'not marked as seen'}`);
  out.push('', `Reports (${s.reports.length}):`);
  for (const r of s.reports) out.push(`- ${timeOfDay(r.at)} ${name(r.by)} reported ${name(r.from)}: ${r.seen_by ? `seen by ${name(r.seen_by)} after ${seenAfter(r.at, r.seen_at)}` : 'not marked as seen'}`);
  out.push('', 'No message text is kept by peercircle.');
  return out;
}

/**
 * `YYYY-MM-DD` of a time, for a file name.
 * @param {string | number} when
 * @returns {string}
 */
function dayStamp(when) {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? 'session' : d.toISOString().slice(0, 10);
}

/**
 * @param {string} filename
 * @param {string} text
 */
function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

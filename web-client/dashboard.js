//! The facilitator's dashboard at `/facilitate`: sign in, the summary of the
//! session just ended (`?summary={session}`), create and edit groups
//! (newest first; the form is in `group-form.js`), schedule one-off and
//! weekly sessions (the form above the list), and the upcoming sessions, one
//! compact line each with "Copy the join link" and "Open the console".
//!
//! Group fields are shown with `textContent` like all peer text. Times are
//! entered and shown in the group's own time zone.

import * as api from './api.js';
import { h, replace } from './render.js';
import { showScreen, ask, sayIn } from './ui.js';
import { loadFacilitator, saveFacilitator, loginForm, words } from './login.js';
import { openGroupForm } from './group-form.js';
import { zonedToUtc, defaultStart, formatInZone } from './zones.js';
import { summarySection } from './summary.js';

/**
 * @typedef {import('./login.js').StoredFacilitator} StoredFacilitator
 * @typedef {import('./api.js').Group} Group
 * @typedef {import('./api.js').SessionTimes} SessionTimes
 */

/** Session phases in the dashboard's words. */
const PHASES = /** @type {Record<string, string>} */ ({
  scheduled: 'scheduled',
  lobby: 'doors open',
  live: 'happening now',
  paused: 'happening now (paused)',
  ended: 'ended',
});

/** The `/facilitate` route. */
export async function dashboardPage() {
  document.title = 'Facilitator dashboard · peercircle';
  const stored = loadFacilitator();
  const who = await api.me();
  if (!who || !stored) {
    showLogin();
    return;
  }
  await showDashboard(stored);
}

function showLogin() {
  showScreen(h('section', { class: 'card narrow', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', text: 'Facilitator sign-in' }),
    h('p', { class: 'muted', text: 'Sign in to run your groups and schedule sessions.' }),
    loginForm((answer) => { void showDashboard({ token: answer.token, id: answer.facilitator.id, name: answer.facilitator.name }); })));
}

/**
 * @param {StoredFacilitator} me
 */
async function showDashboard(me) {
  const groupsBox = h('div', { class: 'stack', id: 'groups' }, h('p', { class: 'muted', text: 'Loading your groups…' }));
  const formBox = h('div', { id: 'group-form-box' });
  const status = h('p', { class: 'notice', role: 'status', id: 'dash-status', hidden: true });
  const create = h('button', {
    type: 'button', class: 'primary', id: 'new-group', text: 'Create a group',
    onclick: () => openGroupForm(formBox, null, reload, status),
  });
  const summaryId = new URLSearchParams(location.search).get('summary');
  showScreen(h('div', { class: 'dashboard' },
    h('div', { class: 'row spread' },
      h('h1', { id: 'dashboard-title', text: 'Your groups' }),
      h('div', { class: 'row' },
        h('span', { class: 'muted', text: `Signed in as ${me.name}` }),
        h('button', {
          type: 'button', class: 'quiet', id: 'logout', text: 'Sign out',
          onclick: async () => {
            try { await api.logout(); } catch { /* signed out locally anyway */ }
            saveFacilitator(null);
            showLogin();
          },
        }))),
    status,
    summaryId ? summarySection(summaryId, () => {
      history.replaceState(null, '', '/facilitate');
      document.getElementById('summary')?.remove();
      document.getElementById('dashboard-title')?.focus();
    }) : null,
    h('div', { class: 'row' }, create),
    formBox,
    groupsBox));

  async function reload() {
    try {
      const groups = (await api.listGroups()).slice().sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
      replace(groupsBox, groups.length
        ? groups.map((g) => groupCard(g, formBox, reload, status))
        : h('p', { class: 'muted', text: "You don't have any groups yet. Create one to schedule your first session." }));
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 401) {
        saveFacilitator(null);
        showLogin();
        return;
      }
      replace(groupsBox, h('p', { class: 'form-error', text: words(e) }));
    }
  }
  await reload();
}

/**
 * One group on the dashboard: facts, the schedule form, then the sessions.
 * @param {Group} g
 * @param {HTMLElement} formBox
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 * @returns {HTMLElement}
 */
function groupCard(g, formBox, reload, status) {
  const titleId = `group-${g.id}-title`;
  const sessionsList = h('ul', { class: 'sessions', 'aria-label': `Upcoming sessions of ${g.name}` }, h('li', { class: 'muted', text: 'Loading sessions…' }));
  const tz = g.timezone || 'Europe/London';
  const schedule = scheduleForm(g, tz, loadSessions, status);

  async function loadSessions() {
    try {
      const list = await api.listSessions(g.id);
      replace(sessionsList, list.length
        ? list.map((s) => sessionRow(s, tz, loadSessions, status))
        : h('li', { class: 'muted', text: 'No upcoming sessions yet: schedule one above.' }));
      // A group with nothing planned opens its schedule form.
      if (!list.length) schedule.open = true;
    } catch (e) {
      replace(sessionsList, h('li', { class: 'form-error', text: words(e) }));
    }
  }
  void loadSessions();

  return h('section', { class: 'card group', 'aria-labelledby': titleId, 'data-group': g.id },
    h('div', { class: 'row spread' },
      h('h2', { id: titleId, text: g.name }),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary small', text: 'Edit', 'aria-label': `Edit ${g.name}`, onclick: () => openGroupForm(formBox, g, reload, status) }),
        h('button', {
          type: 'button', class: 'quiet small danger-text', text: 'Delete', 'aria-label': `Delete ${g.name}`,
          onclick: async () => {
            const ok = await ask({ title: `Delete ${g.name}?`, ok: 'Delete the group', danger: true, body: h('p', { text: 'Its upcoming sessions are cancelled. This cannot be undone.' }) });
            if (!ok) return;
            try { await api.deleteGroup(g.id); sayIn(status, `${g.name} was deleted.`); await reload(); } catch (e) { sayIn(status, words(e)); }
          },
        }))),
    g.description ? h('p', { class: 'muted', text: g.description }) : null,
    h('p', { class: 'small-text muted', text: `Time zone ${tz} · up to ${g.capacity ?? '?'} people${g.has_access_code || g.access_code ? ' · access code set' : ''}` }),
    schedule,
    h('h3', { text: 'Upcoming sessions' }),
    sessionsList,
    h('p', null, h('a', { href: g.calendar_url || api.calendarUrl(g.id), text: `Calendar feed for ${g.name} (.ics)` })));
}

/**
 * One upcoming session, on one line: when, where it stands, copy the join
 * link, open the console, cancel.
 * @param {SessionTimes} s
 * @param {string} tz
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 * @returns {HTMLLIElement}
 */
function sessionRow(s, tz, reload, status) {
  const link = s.join_url || api.joinUrl(s.id);
  const when = formatInZone(s.starts_at, tz);
  return h('li', { class: 'session-row', 'data-session': s.id, 'data-join-url': link },
    h('span', { class: 'session-when' }, h('strong', { text: when }), s.phase ? h('span', { class: 'muted', text: ` · ${PHASES[s.phase] || s.phase}` }) : null),
    h('span', { class: 'session-actions' },
      h('button', {
        type: 'button', class: 'secondary small', 'data-copy': link, text: 'Copy link', 'aria-label': `Copy link to join on ${when}`,
        onclick: async () => {
          sayIn(status, (await copyText(link)) ? 'The join link is copied.' : `The join link is ${link}`);
        },
      }),
      h('a', { class: 'button small', href: `/s/${encodeURIComponent(s.id)}?facilitate=1`, text: 'Open console', 'aria-label': `Open console for ${when}` }),
      h('button', {
        type: 'button', class: 'quiet small danger-text', text: 'Cancel', 'aria-label': `Cancel this session on ${when}`,
        onclick: async () => {
          const ok = await ask({ title: 'Cancel this session?', ok: 'Cancel the session', danger: true, body: h('p', { text: `The session on ${when} will be cancelled. Other sessions of the group stay as they are.` }) });
          if (!ok) return;
          try { await api.cancelSession(s.id); sayIn(status, 'The session was cancelled.'); await reload(); } catch (e) { sayIn(status, words(e)); }
        },
      })));
}

/**
 * Copies text to the clipboard, with the old way as a fallback.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true', tabindex: '-1' });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
}

/**
 * The form to schedule one-off or weekly sessions.
 * @param {Group} g
 * @param {string} tz
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 * @returns {HTMLDetailsElement}
 */
function scheduleForm(g, tz, reload, status) {
  const id = (/** @type {string} */ n) => `sched-${g.id}-${n}`;
  const start = h('input', { id: id('start'), type: 'datetime-local', required: true, value: defaultStart(tz) });
  const duration = h('input', { id: id('duration'), type: 'number', min: '15', max: '600', step: '15', value: '90', required: true });
  const weeks = h('input', { id: id('weeks'), type: 'number', min: '1', max: '52', value: '1' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'stack schedule' },
    h('div', { class: 'field' }, h('label', { for: id('start'), text: `Starts (${tz} time)` }), start),
    h('div', { class: 'row fields' },
      h('div', { class: 'field' }, h('label', { for: id('duration'), text: 'Length in minutes' }), duration),
      h('div', { class: 'field' }, h('label', { for: id('weeks'), text: 'How many weeks (1 for a one-off)' }), weeks)),
    error,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary small', text: 'Schedule' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const startsAt = zonedToUtc(start.value, tz);
    if (!startsAt) {
      error.textContent = 'Please choose a day and time.';
      error.hidden = false;
      return;
    }
    const n = Math.max(1, Math.round(Number(weeks.value) || 1));
    /** @type {{starts_at: string, duration_minutes: number, repeat?: {weekly: number}}} */
    const input = { starts_at: startsAt.toISOString(), duration_minutes: Math.round(Number(duration.value) || 60) };
    if (n > 1) input.repeat = { weekly: n };
    try {
      const made = await api.scheduleSessions(g.id, input);
      sayIn(status, made.length === 1 ? 'The session is scheduled.' : `${made.length} sessions are scheduled.`);
      await reload();
    } catch (e) {
      error.textContent = words(e);
      error.hidden = false;
    }
  });
  return h('details', { class: 'schedule-box' }, h('summary', { text: 'Schedule sessions' }), form);
}

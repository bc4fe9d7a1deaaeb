//! The facilitator's dashboard at `/facilitate`: sign in, create and edit
//! groups (agreement, access code, capacity, time zone, support resources,
//! co-facilitators), schedule one-off and weekly sessions, and list the
//! upcoming sessions with their join links and the calendar feed.
//!
//! The login token is kept in `sessionStorage` (this tab only) for the
//! WebSocket `hello`; the HTTP calls ride on the HttpOnly cookie. Group
//! fields are shown with `textContent` like all peer text. Times are entered
//! and shown in the group's own time zone.

import * as api from './api.js';
import { h, replace } from './render.js';
import { errorText } from './strings.js';
import { showScreen, announce, ask } from './ui.js';

/**
 * @typedef {{token: string, id: string, name: string}} StoredFacilitator
 * @typedef {import('./api.js').Group} Group
 * @typedef {import('./api.js').SessionTimes} SessionTimes
 */

const KEY = 'peercircle.facilitator';

/** Session phases in the dashboard's words. */
const PHASES = /** @type {Record<string, string>} */ ({
  scheduled: 'scheduled',
  lobby: 'doors open',
  live: 'happening now',
  ended: 'ended',
});

/** @returns {StoredFacilitator | null} */
export function loadFacilitator() {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

/** @param {StoredFacilitator | null} f */
function saveFacilitator(f) {
  if (f) sessionStorage.setItem(KEY, JSON.stringify(f));
  else sessionStorage.removeItem(KEY);
}

/**
 * @param {unknown} e
 * @returns {string}
 */
function words(e) {
  if (e instanceof api.ApiError) {
    if (e.status === 401) return 'That e-mail address and password don\'t match. Please try again.';
    if (e.status === 400 && e.message) return e.message;
    return errorText(e.code, e.message);
  }
  return errorText('internal');
}

/**
 * A sign-in form; calls `done` with the login answer.
 * @param {(answer: import('./api.js').LoginAnswer) => void} done
 * @returns {HTMLFormElement}
 */
export function loginForm(done) {
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Sign in' });
  const form = h('form', { class: 'stack', id: 'login-form' },
    h('div', { class: 'field' }, h('label', { for: 'login-email', text: 'E-mail address' }), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password', text: 'Password' }), password),
    error, h('div', { class: 'row' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const answer = await api.login(email.value.trim(), password.value);
      saveFacilitator({ token: answer.token, id: answer.facilitator.id, name: answer.facilitator.name });
      done(answer);
    } catch (e) {
      error.textContent = words(e);
      error.hidden = false;
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

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
    h('div', { class: 'row' }, create),
    formBox,
    groupsBox));

  async function reload() {
    try {
      const groups = await api.listGroups();
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
 * @param {HTMLElement} status
 * @param {string} text
 */
function say(status, text) {
  status.textContent = text;
  status.hidden = false;
  announce(text);
}

/**
 * @param {Group} g
 * @returns {string[]}
 */
function coFacilitatorEmails(g) {
  const mine = loadFacilitator();
  const list = Array.isArray(g.facilitators) ? g.facilitators : [];
  return list
    .filter((f) => !(mine && typeof f === 'object' && f && f.id === mine.id))
    .map((f) => (typeof f === 'string' ? f : (f && f.email) || ''))
    .filter(Boolean);
}

/**
 * One group on the dashboard: facts, sessions, schedule form.
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

  async function loadSessions() {
    try {
      const list = await api.listSessions(g.id);
      replace(sessionsList, list.length
        ? list.map((s) => sessionRow(s, tz, loadSessions, status))
        : h('li', { class: 'muted', text: 'No upcoming sessions.' }));
    } catch (e) {
      replace(sessionsList, h('li', { class: 'form-error', text: words(e) }));
    }
  }
  void loadSessions();

  const card = h('section', { class: 'card group', 'aria-labelledby': titleId, 'data-group': g.id },
    h('div', { class: 'row spread' },
      h('h2', { id: titleId, text: g.name }),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary small', text: 'Edit', 'aria-label': `Edit ${g.name}`, onclick: () => openGroupForm(formBox, g, reload, status) }),
        h('button', {
          type: 'button', class: 'quiet small danger-text', text: 'Delete', 'aria-label': `Delete ${g.name}`,
          onclick: async () => {
            const ok = await ask({ title: `Delete ${g.name}?`, ok: 'Delete the group', danger: true, body: h('p', { text: 'Its upcoming sessions are cancelled. This cannot be undone.' }) });
            if (!ok) return;
            try { await api.deleteGroup(g.id); say(status, `${g.name} was deleted.`); await reload(); } catch (e) { say(status, words(e)); }
          },
        }))),
    g.description ? h('p', { class: 'muted', text: g.description }) : null,
    h('p', { class: 'small-text muted', text: `Time zone ${tz} · up to ${g.capacity ?? '?'} people${g.has_access_code || g.access_code ? ' · access code set' : ''}` }),
    h('h3', { text: 'Upcoming sessions' }),
    sessionsList,
    h('p', null, h('a', { href: g.calendar_url || api.calendarUrl(g.id), text: `Calendar feed for ${g.name} (.ics)` })),
    scheduleForm(g, tz, loadSessions, status));
  return card;
}

/**
 * @param {SessionTimes} s
 * @param {string} tz
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 * @returns {HTMLLIElement}
 */
function sessionRow(s, tz, reload, status) {
  const link = s.join_url || api.joinUrl(s.id);
  const inputId = `link-${s.id}`;
  const input = h('input', { id: inputId, type: 'text', readOnly: true, value: link, class: 'link-field' });
  const when = formatInZone(s.starts_at, tz);
  return h('li', { class: 'session-row', 'data-session': s.id },
    h('p', null, h('strong', { text: when }), s.phase ? h('span', { class: 'muted', text: ` · ${PHASES[s.phase] || s.phase}` }) : null),
    h('div', { class: 'field' }, h('label', { for: inputId, text: 'Join link' }),
      h('div', { class: 'row nowrap' }, input,
        h('button', {
          type: 'button', class: 'secondary small', text: 'Copy', 'aria-label': `Copy the join link for ${when}`,
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(link);
            } catch {
              input.select();
              document.execCommand('copy');
            }
            say(status, 'The join link is copied.');
          },
        }))),
    h('div', { class: 'row' },
      h('a', { class: 'button small', href: `/s/${encodeURIComponent(s.id)}?facilitate=1`, text: 'Open the facilitator console' }),
      h('button', {
        type: 'button', class: 'quiet small danger-text', text: 'Cancel this session', 'aria-label': `Cancel this session on ${when}`,
        onclick: async () => {
          const ok = await ask({ title: 'Cancel this session?', ok: 'Cancel the session', danger: true, body: h('p', { text: `The session on ${when} will be cancelled. Other sessions of the group stay as they are.` }) });
          if (!ok) return;
          try { await api.cancelSession(s.id); say(status, 'The session was cancelled.'); await reload(); } catch (e) { say(status, words(e)); }
        },
      })));
}

/**
 * The form to schedule one-off or weekly sessions.
 * @param {Group} g
 * @param {string} tz
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 * @returns {HTMLElement}
 */
function scheduleForm(g, tz, reload, status) {
  const id = (/** @type {string} */ n) => `sched-${g.id}-${n}`;
  const start = h('input', { id: id('start'), type: 'datetime-local', required: true, value: defaultStart(tz) });
  const duration = h('input', { id: id('duration'), type: 'number', min: '15', max: '600', step: '15', value: '90', required: true });
  const weeks = h('input', { id: id('weeks'), type: 'number', min: '1', max: '52', value: '1' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'stack schedule' },
    h('div', { class: 'field' }, h('label', { for: id('start'), text: `Starts (${tz} time)` }), start),
    h('div', { class: 'field' }, h('label', { for: id('duration'), text: 'Length in minutes' }), duration),
    h('div', { class: 'field' }, h('label', { for: id('weeks'), text: 'How many weeks (1 for a one-off)' }), weeks),
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
      say(status, made.length === 1 ? 'The session is scheduled.' : `${made.length} sessions are scheduled.`);
      await reload();
    } catch (e) {
      error.textContent = words(e);
      error.hidden = false;
    }
  });
  return h('details', { class: 'schedule-box' }, h('summary', { text: 'Schedule sessions' }), form);
}

/**
 * Create (g = null) or edit a group.
 * @param {HTMLElement} box
 * @param {Group | null} g
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 */
function openGroupForm(box, g, reload, status) {
  /**
   * @param {string} name
   * @param {string} label
   * @param {HTMLElement} control
   * @param {string} [hint]
   */
  const field = (name, label, control, hint) => {
    control.id = `gf-${name}`;
    if (hint) control.setAttribute('aria-describedby', `gf-${name}-hint`);
    return h('div', { class: 'field' },
      h('label', { for: `gf-${name}`, text: label }),
      hint ? h('p', { class: 'hint', id: `gf-${name}-hint`, text: hint }) : null,
      control);
  };
  const name = h('input', { type: 'text', required: true, maxlength: '100', value: g ? g.name : '' });
  const description = h('textarea', { rows: '3', maxlength: '2000' });
  description.value = g ? g.description || '' : '';
  const agreement = h('textarea', { rows: '8', required: true, maxlength: '10000' });
  agreement.value = g ? g.agreement || '' : defaultAgreement();
  const timezone = h('input', { type: 'text', list: 'gf-zones', value: g ? g.timezone || 'Europe/London' : 'Europe/London', autocomplete: 'off' });
  const zones = h('datalist', { id: 'gf-zones' }, supportedZones().map((z) => h('option', { value: z })));
  const capacity = h('input', { type: 'number', min: '2', max: '1000', value: String(g ? g.capacity || 12 : 12) });
  const code = h('input', { type: 'text', autocomplete: 'off', maxlength: '64' });
  const removeCode = h('input', { type: 'checkbox', id: 'gf-remove-code' });
  const resources = h('ul', { class: 'plain stack', id: 'gf-resources' });
  const cofac = h('textarea', { rows: '2' });
  cofac.value = g ? coFacilitatorEmails(g).join('\n') : '';
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });

  let rowCount = 0;
  /** @param {{label: string, url: string}} [res] */
  const addRow = (res) => {
    const n = ++rowCount;
    const label = h('input', { type: 'text', id: `gf-res-label-${n}`, value: res ? res.label : '', class: 'res-label' });
    const url = h('input', { type: 'text', id: `gf-res-url-${n}`, value: res ? res.url : '', class: 'res-url', inputmode: 'url' });
    const li = h('li', { class: 'resource-row' },
      h('div', { class: 'field' }, h('label', { for: `gf-res-label-${n}`, text: 'Name' }), label),
      h('div', { class: 'field' }, h('label', { for: `gf-res-url-${n}`, text: 'Link or phone (https://… or tel:…)' }), url),
      h('button', { type: 'button', class: 'quiet small', text: 'Remove', 'aria-label': `Remove support contact ${n}`, onclick: () => li.remove() }));
    resources.append(li);
    return label;
  };
  const existing = g && Array.isArray(g.support_resources) ? g.support_resources : [];
  if (existing.length) existing.forEach((res) => addRow(res));
  else if (!g) addRow({ label: 'Samaritans (UK, free, 24/7): 116 123', url: 'tel:116123' });
  else addRow();

  const title = g ? `Edit ${g.name}` : 'Create a group';
  const submit = h('button', { type: 'submit', class: 'primary', text: g ? 'Save changes' : 'Create the group' });
  const form = h('form', { class: 'card stack', id: 'group-form', 'aria-labelledby': 'group-form-title', novalidate: true },
    h('h2', { id: 'group-form-title', tabindex: '-1', text: title }),
    field('name', 'Group name', name),
    field('description', 'Description', description, 'Shown on the join page: who the group is for and what to expect.'),
    field('agreement', 'Group agreement', agreement, 'Everyone must agree to this before they join. Leave a blank line between points.'),
    field('timezone', 'Time zone', timezone, 'Weekly sessions keep their local time here across clock changes.'), zones,
    field('capacity', 'Most people at once', capacity),
    field('code', g ? 'New access code' : 'Access code (optional)', code,
      g ? `${g.has_access_code ? 'The group has a code. ' : ''}Leave empty to keep the current one. 4 to 64 characters.` : 'If set, people need it to join: 4 to 64 characters. Leave empty for an open group.'),
    g ? h('div', { class: 'check' }, removeCode, h('label', { for: 'gf-remove-code', text: 'Remove the access code' })) : null,
    h('fieldset', { class: 'field' }, h('legend', { text: 'Support contacts (shown under “Need help now?”)' }), resources,
      h('button', { type: 'button', class: 'secondary small', text: 'Add a support contact', onclick: () => addRow().focus() })),
    field('cofac', 'Co-facilitators (e-mail addresses, one per line)', cofac, 'They must already have a facilitator account.'),
    error,
    h('div', { class: 'row' }, submit,
      h('button', { type: 'button', class: 'quiet', text: 'Cancel', onclick: () => { replace(box); document.getElementById('new-group')?.focus(); } })));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    /** @type {import('./api.js').GroupInput} */
    const input = {
      name: name.value.trim(),
      description: description.value.trim(),
      agreement: agreement.value.trim(),
      timezone: timezone.value.trim() || 'Europe/London',
      capacity: Math.round(Number(capacity.value) || 12),
      support_resources: [...resources.querySelectorAll('li')].map((li) => ({
        label: /** @type {HTMLInputElement} */ (li.querySelector('.res-label')).value.trim(),
        url: /** @type {HTMLInputElement} */ (li.querySelector('.res-url')).value.trim(),
      })).filter((x) => x.label || x.url),
      facilitators: cofac.value.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean),
    };
    if (!input.name || !input.agreement) {
      error.textContent = 'Please give the group a name and an agreement.';
      error.hidden = false;
      (input.name ? agreement : name).focus();
      return;
    }
    const c = code.value.trim();
    if (c) input.access_code = c;
    else if (g && removeCode.checked) input.access_code = '';
    submit.disabled = true;
    try {
      if (g) await api.updateGroup(g.id, input);
      else await api.createGroup(input);
      replace(box);
      say(status, g ? 'Your changes are saved.' : `${input.name} is ready. Schedule its first session below.`);
      await reload();
    } catch (e) {
      error.textContent = words(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  replace(box, form);
  const heading = form.querySelector('h2');
  if (heading) heading.focus();
}

/** @returns {string} */
function defaultAgreement() {
  return [
    'What is said here stays here.',
    'We listen without judging and without giving advice unless asked.',
    'We speak from our own experience, using "I".',
    'One person speaks at a time: the talking stick helps with that.',
    'You can pass, take a break or leave at any time.',
  ].join('\n\n');
}

/** @returns {string[]} */
function supportedZones() {
  const intl = /** @type {any} */ (Intl);
  try {
    return typeof intl.supportedValuesOf === 'function' ? intl.supportedValuesOf('timeZone') : ['Europe/London', 'UTC'];
  } catch {
    return ['Europe/London', 'UTC'];
  }
}

/**
 * The offset of a time zone at an instant, in ms (local − UTC).
 * @param {number} utcMs
 * @param {string} tz
 * @returns {number}
 */
function zoneOffset(utcMs, tz) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  /** @param {string} t */
  const get = (t) => Number((parts.find((x) => x.type === t) || { value: '0' }).value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * A wall-clock time (`YYYY-MM-DDTHH:MM`) in a time zone, as an instant.
 * @param {string} wall
 * @param {string} tz
 * @returns {Date | null}
 */
export function zonedToUtc(wall, tz) {
  const m = wall.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/);
  if (!m) return null;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  try {
    let utc = guess - zoneOffset(guess, tz);
    utc = guess - zoneOffset(utc, tz);
    return new Date(utc);
  } catch {
    return new Date(guess);
  }
}

/**
 * The next quarter hour, as a `datetime-local` value in the zone.
 * @param {string} tz
 * @returns {string}
 */
function defaultStart(tz) {
  const next = Math.ceil((Date.now() + 5 * 60_000) / (15 * 60_000)) * 15 * 60_000;
  let local = next;
  try { local = next + zoneOffset(next, tz); } catch { /* unknown zone: UTC */ }
  return new Date(local).toISOString().slice(0, 16);
}

/**
 * @param {string} iso
 * @param {string} tz
 * @returns {string}
 */
function formatInZone(iso, tz) {
  const d = new Date(iso);
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(d);
  } catch {
    return d.toLocaleString();
  }
}

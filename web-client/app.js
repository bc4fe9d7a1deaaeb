//! The page's wiring: routing on `location.pathname`, the join and lobby
//! screens, the session screen (for participants and facilitators), and the
//! glue between the connection, the session model and the render functions.
//!
//! Routes: `/` (landing), `/s/{session}` (join → lobby → session),
//! `/facilitate` (the dashboard, in `dashboard.js`).
//!
//! Rules kept here: peer text reaches the page only through `render.js`
//! (text nodes); nothing typed is lost (drafts are kept per room, commands
//! wait in the connection's outbox); every refusal is shown in words from
//! `strings.js`; nothing flashes.

import * as api from './api.js';
import { Connection, CommandError } from './connection.js';
import { applyEvent, fromWelcome, composerBlock, nameOf, queuePlace, findMessage } from './state.js';
import * as r from './render.js';
import { errorText, joinErrorText, PHASE_WORDS, MODES, ordinal, clock, countdownWords } from './strings.js';
import { dashboardPage, loadFacilitator, loginForm } from './dashboard.js';
import { byId, showScreen, template, announce, setBanner, ask } from './ui.js';

const { h, replace } = r;

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Message} Message
 * @typedef {import('./state.js').Participant} Participant
 * @typedef {import('./state.js').Change} Change
 * @typedef {import('./api.js').SessionCard} SessionCard
 */

// ---------------------------------------------------------------------------
// Small helpers shared by every screen
// ---------------------------------------------------------------------------

/** @param {string} key @param {boolean} fallback */
function pref(key, fallback) {
  const v = localStorage.getItem(`peercircle.${key}`);
  return v === null ? fallback : v === 'true';
}
/** @param {string} key @param {boolean} value */
function setPref(key, value) {
  localStorage.setItem(`peercircle.${key}`, String(value));
}

// ---------------------------------------------------------------------------
// Chrome: "Need help now?", the group agreement, the banner
// ---------------------------------------------------------------------------

/** @type {import('./api.js').SupportResource[]} */
let supportList = [];

function wireChrome() {
  const help = byId('help-dialog', HTMLDialogElement);
  byId('help-open').addEventListener('click', (ev) => {
    ev.preventDefault();
    replace(byId('help-body'), r.supportResources(supportList));
    help.showModal();
  });
  const agreement = byId('agreement-dialog', HTMLDialogElement);
  byId('agreement-open').addEventListener('click', () => agreement.showModal());
}

/**
 * Puts a group's name, agreement and support resources in the page chrome.
 * @param {SessionCard} card
 */
function setGroupChrome(card) {
  supportList = Array.isArray(card.group.support_resources) ? card.group.support_resources : [];
  byId('topbar-group').textContent = card.group.name;
  replace(byId('agreement-body'), r.paragraphs(card.group.agreement));
  byId('agreement-open').hidden = false;
  baseTitle = `${card.group.name} · peercircle`;
  document.title = baseTitle;
}

let baseTitle = 'peercircle';

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

function route() {
  wireChrome();
  const path = location.pathname;
  const session = path.match(/^\/s\/([^/]+)\/?$/);
  if (session) {
    sessionPage(decodeURIComponent(session[1])).catch(fatal);
  } else if (path === '/facilitate' || path.startsWith('/facilitate/')) {
    dashboardPage().catch(fatal);
  } else {
    landingPage();
  }
}

/** @param {unknown} err */
function fatal(err) {
  console.error(err);
  const code = err instanceof api.ApiError ? err.code : 'internal';
  const message = err instanceof api.ApiError ? err.message : '';
  showScreen(h('section', { class: 'card narrow' },
    h('h1', { text: 'Something got in the way' }),
    h('p', { text: errorText(code, message) }),
    h('p', null, h('button', { type: 'button', class: 'primary', text: 'Try again', onclick: () => location.reload() }))));
}

function landingPage() {
  showScreen(template('tpl-landing'));
  const form = byId('landing-form', HTMLFormElement);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const raw = byId('landing-link', HTMLInputElement).value.trim();
    const m = raw.match(/\/s\/([A-Za-z0-9_-]+)/) || raw.match(/^([A-Za-z0-9_-]+)$/);
    const err = byId('landing-error');
    if (!m) {
      err.textContent = 'That doesn\'t look like a join link yet. It should contain "/s/" followed by the session.';
      err.hidden = false;
      return;
    }
    location.assign(`/s/${m[1]}`);
  });
}

// ---------------------------------------------------------------------------
// Join
// ---------------------------------------------------------------------------

/**
 * @typedef {{participant_id: string, token: string, name: string}} StoredJoin
 */

/** @param {string} session @returns {StoredJoin | null} */
function loadJoin(session) {
  try {
    const raw = localStorage.getItem(`peercircle.join.${session}`);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}
/** @param {string} session @param {StoredJoin} join */
function saveJoin(session, join) {
  localStorage.setItem(`peercircle.join.${session}`, JSON.stringify(join));
}
/** @param {string} session */
function forgetJoin(session) {
  localStorage.removeItem(`peercircle.join.${session}`);
}

/**
 * The server's pseudonym rules, checked before sending so the explanation
 * appears inline. The server checks again and has the last word.
 * @param {string} name
 * @returns {string | null}
 */
export function pseudonymProblem(name) {
  const t = name.trim();
  const length = [...t].length;
  if (length === 0) return 'Please choose a name for the group to call you.';
  if (length > 40) return `That's ${length} characters; please keep it to 40 or fewer.`;
  if (/[^\s@]+@[^\s@]+\.[^\s@]+/.test(t)) return 'That looks like an e-mail address. To keep you private, please choose a name without one.';
  if ((t.match(/\d/g) || []).length >= 7 && /(?:\+?\d[\s().-]*){7,}/.test(t)) return 'That looks like a phone number. To keep you private, please choose a name without one.';
  return null;
}

/**
 * @param {string} sessionId
 */
async function sessionPage(sessionId) {
  /** @type {SessionCard} */
  let card;
  try {
    card = await api.getSession(sessionId);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404) {
      showScreen(template('tpl-notfound'));
      return;
    }
    throw e;
  }
  setGroupChrome(card);
  if (card.phase === 'ended') {
    showEnded();
    return;
  }
  const params = new URLSearchParams(location.search);
  const facilitator = loadFacilitator();
  if (facilitator && params.get('facilitate') === '1') {
    enterSession(sessionId, card, facilitator.token, 'facilitator');
    return;
  }
  const joined = loadJoin(sessionId);
  if (joined) {
    enterSession(sessionId, card, joined.token, 'participant');
    return;
  }
  if (params.get('facilitate') === '1') {
    showFacilitatorSignIn(sessionId, card);
    return;
  }
  showJoin(sessionId, card, null);
}

/**
 * A facilitator opened the console link without a token in this tab.
 * @param {string} sessionId
 * @param {SessionCard} card
 */
function showFacilitatorSignIn(sessionId, card) {
  showScreen(h('section', { class: 'card narrow' },
    h('h1', { text: `Facilitate ${card.group.name}` }),
    h('p', { text: 'Please sign in to run this session.' }),
    loginForm((answer) => enterSession(sessionId, card, answer.token, 'facilitator'))));
}

/**
 * The join screen: group card, agreement with an explicit "I agree", then
 * pseudonym, access code and content-note preference.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string | null} notice  a sentence to show first (e.g. an expired place)
 */
function showJoin(sessionId, card, notice) {
  const facilitator = loadFacilitator();
  const agreementSection = h('section', { class: 'card', 'aria-labelledby': 'agreement-heading' },
    h('h2', { id: 'agreement-heading', text: 'Our group agreement' }),
    h('p', { class: 'muted', text: 'Everyone here has agreed to this. Please read it before you come in.' }),
    r.paragraphs(card.group.agreement, 'prose agreement'),
  );
  const agreeButton = h('button', { type: 'button', class: 'primary', id: 'agree', text: 'I agree' });
  const agreeRow = h('div', { class: 'row' }, agreeButton,
    h('span', { class: 'muted', text: 'You can read it again at any time from the top of the page.' }));
  agreementSection.append(agreeRow);

  const nameInput = h('input', {
    id: 'pseudonym', name: 'name', type: 'text', autocomplete: 'nickname', maxlength: '80', required: true,
    'aria-describedby': 'pseudonym-hint pseudonym-error', spellcheck: 'false',
  });
  const nameError = h('p', { id: 'pseudonym-error', class: 'field-error', hidden: true });
  const codeInput = h('input', { id: 'access-code', name: 'access_code', type: 'text', autocomplete: 'off', 'aria-describedby': 'access-code-hint' });
  const needsCode = Boolean(card.group.has_access_code);
  const codeDetails = h('details', { class: 'field', open: needsCode },
    h('summary', { text: 'I have an access code' }),
    h('label', { for: 'access-code', text: 'Access code' }),
    h('p', { id: 'access-code-hint', class: 'hint', text: 'Some groups use a code from the facilitator. If yours did, type it here.' }),
    codeInput);
  const hideNotes = h('input', { id: 'hide-notes', type: 'checkbox', checked: !pref('revealNotes', false) });
  const formError = h('p', { class: 'form-error', id: 'join-error', role: 'alert', hidden: true });
  const joinButton = h('button', { type: 'submit', class: 'primary', text: 'Join the group' });
  const form = h('form', { class: 'card stack', id: 'join-form', 'aria-labelledby': 'join-heading', hidden: true, novalidate: true },
    h('h2', { id: 'join-heading', tabindex: '-1', text: 'How should the group call you?' }),
    h('div', { class: 'field' },
      h('label', { for: 'pseudonym', text: 'Your pseudonym' }),
      h('p', { id: 'pseudonym-hint', class: 'hint', text: 'This is the only name others will see, and it does not need to be your real one. Use 1 to 40 characters, with no e-mail address or phone number, to keep you private.' }),
      nameInput, nameError),
    codeDetails,
    h('fieldset', { class: 'field' },
      h('legend', { text: 'Content notes' }),
      h('p', { class: 'hint', text: 'People can put a short content note, like “self-harm” or “loss of a baby”, before a message that might be hard to read.' }),
      h('div', { class: 'check' }, hideNotes,
        h('label', { for: 'hide-notes', text: 'Hide those messages until I choose “Show”' }))),
    formError,
    h('div', { class: 'row' }, joinButton),
  );

  agreeButton.addEventListener('click', () => {
    agreeButton.disabled = true;
    agreeButton.textContent = 'You agreed';
    agreeButton.setAttribute('aria-pressed', 'true');
    form.hidden = false;
    nameInput.focus();
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    formError.hidden = true;
    const problem = pseudonymProblem(nameInput.value);
    if (problem) {
      nameError.textContent = problem;
      nameError.hidden = false;
      nameInput.setAttribute('aria-invalid', 'true');
      nameInput.focus();
      return;
    }
    nameError.hidden = true;
    nameInput.removeAttribute('aria-invalid');
    setPref('revealNotes', !hideNotes.checked);
    joinButton.disabled = true;
    joinButton.textContent = 'Joining…';
    try {
      const name = nameInput.value.trim();
      const answer = await api.join(sessionId, { name, access_code: codeInput.value.trim() || undefined });
      saveJoin(sessionId, { participant_id: answer.participant_id, token: answer.token, name });
      enterSession(sessionId, card, answer.token, 'participant');
    } catch (e) {
      joinButton.disabled = false;
      joinButton.textContent = 'Join the group';
      const status = e instanceof api.ApiError ? e.status : 0;
      const code = e instanceof api.ApiError ? e.code : 'network';
      const message = e instanceof api.ApiError ? e.message : '';
      const typedCode = codeInput.value.trim() !== '';
      const text = status === 0 ? errorText('network')
        : status === 403 && code !== 'banned' && !typedCode ? 'This group uses an access code. Please type the one your facilitator gave you.'
        : joinErrorText(status, code, message);
      if (status === 403 && code !== 'banned') {
        codeDetails.open = true;
        codeInput.setAttribute('aria-invalid', 'true');
        formError.textContent = text;
        formError.hidden = false;
        codeInput.focus();
      } else if (status === 400) {
        nameError.textContent = text;
        nameError.hidden = false;
        nameInput.setAttribute('aria-invalid', 'true');
        nameInput.focus();
      } else {
        formError.textContent = text;
        formError.hidden = false;
      }
    }
  });

  showScreen(
    h('div', { class: 'join' },
      notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
      card.locked ? h('p', { class: 'notice', text: 'The facilitator has closed this group to new people for now. If you were already in, your link still works.' }) : null,
      r.groupCard(card),
      facilitator ? h('section', { class: 'card quiet-card' },
        h('p', { text: `You're signed in as ${facilitator.name || 'a facilitator'}.` }),
        h('a', { class: 'button', href: `/s/${encodeURIComponent(sessionId)}?facilitate=1`, text: 'Run this session as facilitator' })) : null,
      agreementSection,
      form,
    ));
}

function showEnded() {
  const t = template('tpl-ended');
  const slot = t.querySelector('[data-slot="support"]');
  if (slot) slot.append(r.supportResources(supportList));
  showScreen(t);
  document.title = baseTitle;
}

function showRemoved() {
  const t = template('tpl-removed');
  const slot = t.querySelector('[data-slot="support"]');
  if (slot) slot.append(r.supportResources(supportList));
  showScreen(t);
  document.title = baseTitle;
}

// ---------------------------------------------------------------------------
// The session screen
// ---------------------------------------------------------------------------

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
 */

/** @type {Page | null} */
let page = null;

/**
 * Connects to a session and builds the session screen.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string} token
 * @param {'participant' | 'facilitator'} as
 */
function enterSession(sessionId, card, token, as) {
  if (page) {
    page.conn.stop();
    if (page.ticker) clearInterval(page.ticker);
  }
  showScreen(h('section', { class: 'card narrow center' },
    h('h1', { text: 'Connecting you to the group…' }),
    h('p', { class: 'muted', text: 'This usually takes a moment.' })));
  /** @type {Page} */
  const p = {
    sessionId, card, model: null, room: 'main', logs: new Map(), unread: new Map(),
    drafts: loadDrafts(sessionId), dismissed: new Set(), dmWith: null, wasOnline: false, over: false, ticker: null, el: {},
    conn: /** @type {any} */ (null),
  };
  page = p;
  p.conn = new Connection(sessionId, token, {
    onWelcome: (w) => {
      const model = fromWelcome(w);
      const first = !p.model;
      const fresh = !w.resumed;
      if (first || fresh) {
        p.model = model;
        if (first) buildSession(p);
        rebuildLogs(p);
      } else if (p.model) {
        // A resume: our model is current up to last_seq, and the replayed
        // events follow. Only our own identity may have been refreshed.
        p.model.you = model.you;
      }
      renderAll(p);
    },
    onEvent: (e) => onEvent(p, e),
    onStatus: (status) => onStatus(p, status),
    onEnd: (reason) => onEnd(p, reason, as),
    onServerError: (e) => notify(p, errorText(e.code, e.message)),
  });
  p.conn.start();
}

/**
 * @param {string} sessionId
 * @returns {Map<string, string>}
 */
function loadDrafts(sessionId) {
  try {
    const raw = sessionStorage.getItem(`peercircle.drafts.${sessionId}`);
    return new Map(raw ? Object.entries(JSON.parse(raw)) : []);
  } catch {
    return new Map();
  }
}

/** @param {Page} p */
function saveDrafts(p) {
  try {
    sessionStorage.setItem(`peercircle.drafts.${p.sessionId}`, JSON.stringify(Object.fromEntries(p.drafts)));
  } catch { /* storage full or blocked: the draft still lives in the page */ }
}

/**
 * @param {Page} p
 * @param {import('./connection.js').LinkStatus} status
 */
function onStatus(p, status) {
  if (p.over) return;
  if (status === 'online') {
    setBanner(null);
    if (!p.wasOnline) p.wasOnline = true;
    else announce("You're connected again.");
    if (p.el.root) p.el.root.removeAttribute('aria-busy');
  } else if (status === 'reconnecting' && p.wasOnline) {
    const waiting = p.conn.pending;
    setBanner(`Reconnecting… Your place is kept${waiting ? `, and ${waiting === 1 ? 'your message' : `your ${waiting} messages`} will be sent when you're back` : ''}.`);
  } else if (status === 'reconnecting') {
    setBanner('Reconnecting… We keep trying; you don’t need to do anything.');
  }
}

/**
 * The server ended this page's part in the session.
 * @param {Page} p
 * @param {import('./connection.js').EndReason} reason
 * @param {'participant' | 'facilitator'} as
 */
function onEnd(p, reason, as) {
  p.over = true;
  setBanner(null);
  if (p.ticker) clearInterval(p.ticker);
  document.title = baseTitle;
  if (reason === 'removed') {
    forgetJoin(p.sessionId);
    showRemoved();
  } else if (reason === 'ended') {
    showEnded();
  } else if (as === 'participant') {
    forgetJoin(p.sessionId);
    showJoin(p.sessionId, p.card, 'Your place in this session has expired. You can join again below.');
  } else {
    showFacilitatorSignIn(p.sessionId, p.card);
  }
}

/**
 * Sends a command; a refusal is shown in words, never thrown.
 * @param {Page} p
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 * @returns {Promise<boolean>}
 */
async function command(p, type, fields) {
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
function notify(p, text) {
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
 * Builds the session screen's skeleton once; `renderAll` fills it in.
 * @param {Page} p
 */
function buildSession(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const el = p.el;

  // Status line
  el.status = h('p', { class: 'status-line', id: 'status-line' });
  el.clock = h('span', { class: 'turn-clock', role: 'timer', 'aria-live': 'off', id: 'turn-clock' });
  el.notice = h('p', { class: 'notice', role: 'status', hidden: true, id: 'notice' });
  el.announcement = h('div', { class: 'announcement', id: 'announcement', hidden: true });
  el.yourTurn = h('div', { class: 'your-turn', id: 'your-turn', hidden: true });

  // Lobby card (participants, before the start)
  el.lobby = h('section', { class: 'card lobby', id: 'lobby', 'aria-labelledby': 'lobby-title', hidden: true });

  // Rooms: tabs + one log per room + composer
  el.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Rooms', id: 'room-tabs' });
  el.logs = h('div', { class: 'logs', role: 'tabpanel', id: 'room-panel', tabindex: '0' });
  el.pending = h('ul', { class: 'pending', 'aria-label': 'Messages waiting to be sent' });
  el.composer = buildComposer(p);
  el.rooms = h('section', { class: 'room-area', 'aria-labelledby': 'room-heading' },
    h('h2', { class: 'visually-hidden', id: 'room-heading', text: 'Conversation' }),
    el.tabs, el.logs, el.pending, el.composer);

  // You: hand, pass, break, struggling, preferences
  el.you = h('section', { class: 'card you', 'aria-labelledby': 'you-heading', id: 'you' });

  // People
  el.peopleCount = h('span', { class: 'muted' });
  el.people = h('ul', { class: 'people', id: 'people' });
  const peopleCard = h('section', { class: 'card', 'aria-labelledby': 'people-heading' },
    h('h2', { id: 'people-heading' }, 'Who is here ', el.peopleCount), el.people);

  // Private thread
  el.dmList = h('ol', { class: 'log dm-log', 'aria-label': 'Private messages' });
  el.dmForm = buildDmForm(p);
  el.dmSelect = h('select', { id: 'dm-with', class: 'dm-with' });
  const dmCard = h('section', { class: 'card', 'aria-labelledby': 'dm-heading', id: 'private' },
    h('h2', { id: 'dm-heading', text: facilitator ? 'Private check-ins' : 'Private with the facilitator' }),
    facilitator
      ? h('div', { class: 'field' }, h('label', { for: 'dm-with', text: 'With' }), el.dmSelect)
      : h('p', { class: 'hint', text: 'Only you and the facilitators see this. Your facilitator may check in with you here, and you can answer. If you would like them to, press “I’m struggling”.' }),
    el.dmList, el.dmForm);
  el.dmSelect.addEventListener('change', () => {
    p.dmWith = /** @type {HTMLSelectElement} */ (el.dmSelect).value || null;
    renderDms(p);
  });

  el.console = facilitator ? buildConsole(p) : h('div', { hidden: true });

  el.root = h('div', { class: `session${facilitator ? ' is-facilitator' : ''}`, id: 'session', 'aria-busy': 'false' },
    h('h1', { class: 'visually-hidden', id: 'session-title', text: `${p.card.group.name}: session` }),
    h('div', { class: 'status' }, el.status, el.clock),
    el.notice, el.announcement, el.yourTurn,
    el.lobby,
    h('div', { class: 'columns' },
      el.rooms,
      h('div', { class: 'side' }, el.you, peopleCard, dmCard),
      facilitator ? el.console : null));

  showScreen(el.root);
  p.ticker = setInterval(() => tick(p), 1000);
}

/**
 * The composer: keeps a draft per room, says why it cannot send.
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
function buildComposer(p) {
  const text = h('textarea', {
    id: 'composer-text', name: 'text', rows: '3', maxlength: '2000',
    'aria-describedby': 'composer-reason composer-count',
  });
  const cw = h('input', { id: 'composer-cw', name: 'cw', type: 'text', maxlength: '80', autocomplete: 'off' });
  const cwBox = h('details', { class: 'cw-details' },
    h('summary', { text: 'Add a content note' }),
    h('label', { for: 'composer-cw', text: 'Content note (optional, up to 80 characters)' }),
    h('p', { class: 'hint', text: 'Others will see the note first and can choose to show your message.' }),
    cw);
  const reason = h('p', { id: 'composer-reason', class: 'composer-reason' });
  const count = h('span', { id: 'composer-count', class: 'muted small-text', text: '0 / 2,000' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'send', text: 'Send' });
  const label = h('label', { for: 'composer-text', id: 'composer-label', text: 'Your message' });
  const form = h('form', { class: 'composer', id: 'composer', 'aria-labelledby': 'composer-label' },
    label, text, reason, cwBox, h('div', { class: 'row spread' }, count, send));

  text.addEventListener('input', () => {
    p.drafts.set(p.room, text.value);
    saveDrafts(p);
    count.textContent = `${text.value.length.toLocaleString()} / 2,000`;
  });
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!p.model) return;
    const block = composerBlock(p.model, p.room);
    if (block) {
      notify(p, block);
      return;
    }
    const body = text.value.trim();
    if (!body) {
      notify(p, 'Write something first, then press Send.');
      return;
    }
    const note = cw.value.trim();
    const room = p.room;
    text.value = '';
    cw.value = '';
    cwBox.open = false;
    p.drafts.delete(room);
    saveDrafts(p);
    count.textContent = '0 / 2,000';
    const pending = h('li', { class: 'msg msg-pending' },
      h('p', { class: 'msg-head' }, h('span', { class: 'msg-author', text: 'You' }), h('span', { class: 'msg-time', text: 'Sending…' })),
      h('p', { class: 'msg-text', text: body }));
    p.el.pending.append(pending);
    /** @type {Record<string, unknown>} */
    const fields = { room, text: body };
    if (note) fields.cw = note;
    p.conn.send('say', fields).then(() => {
      pending.remove();
    }, (e) => {
      pending.remove();
      // Give the words back, so nothing typed is lost.
      if (!text.value.trim() && p.room === room) {
        text.value = body;
        cw.value = note;
        p.drafts.set(room, body);
        saveDrafts(p);
      }
      notify(p, errorText(e instanceof CommandError ? e.code : 'internal', e instanceof Error ? e.message : ''));
    });
  });
  return form;
}

/**
 * The private thread's form (participant ↔ facilitator).
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
function buildDmForm(p) {
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

// ---------------------------------------------------------------------------
// Facilitator console
// ---------------------------------------------------------------------------

/**
 * @param {Page} p
 * @returns {HTMLElement}
 */
function buildConsole(p) {
  const el = p.el;
  el.sessionControls = h('div', { class: 'stack', id: 'session-controls' });
  el.modeForm = buildModeForm(p);
  el.stickControls = h('div', { class: 'stack', id: 'stick-controls' });
  el.queue = h('ol', { class: 'queue', id: 'queue', 'aria-label': 'Queue, in speaking order' });
  el.inboxCount = h('span', { class: 'muted' });
  el.inbox = h('ul', { class: 'inbox', id: 'inbox' });
  el.balance = h('div', { id: 'balance' });
  el.roomList = h('ul', { class: 'plain', id: 'room-list' });

  wireQueueKeyboard(p, el.queue);
  wireQueuePointer(p, el.queue);

  const announceText = h('textarea', { id: 'announce-text', rows: '2', maxlength: '2000' });
  const announceForm = h('form', { class: 'stack', id: 'announce-form' },
    h('label', { for: 'announce-text', text: 'Announcement to everyone' }), announceText,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', text: 'Announce' })));
  announceForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = announceText.value.trim();
    if (!text) return;
    announceText.value = '';
    if (!(await command(p, 'announce', { text }))) announceText.value = text;
  });

  const roomName = h('input', { id: 'room-name', type: 'text', maxlength: '40', autocomplete: 'off' });
  const roomForm = h('form', { class: 'stack', id: 'room-form' },
    h('label', { for: 'room-name', text: 'Open a side room' }),
    h('p', { class: 'hint', text: 'Side rooms are always open conversation, without the stick.' }),
    roomName,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', text: 'Open room' })));
  roomForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = roomName.value.trim();
    if (!name) return;
    roomName.value = '';
    await command(p, 'room_open', { name });
  });

  /**
   * @param {string} id
   * @param {string} title
   * @param {...r.Child} body
   */
  const card = (id, title, ...body) => h('section', { class: 'card console-card', 'aria-labelledby': id }, h('h3', { id, text: title }), ...body);

  return h('section', { class: 'console', 'aria-labelledby': 'console-heading', id: 'console' },
    h('h2', { id: 'console-heading', text: 'Facilitator console' }),
    card('c-session', 'Session', el.sessionControls),
    card('c-mode', 'Mode and turns', el.modeForm, el.stickControls),
    card('c-queue', 'Queue',
      h('p', { class: 'hint', text: 'Reorder with the arrow buttons, Alt + Up or Down, or drag the handle.' }), el.queue),
    h('section', { class: 'card console-card', 'aria-labelledby': 'c-inbox' },
      h('h3', { id: 'c-inbox' }, 'Help requests and reports ', el.inboxCount), el.inbox),
    card('c-balance', 'Balance', h('p', { class: 'hint', text: 'Turns and time with the stick, quietest first.' }), el.balance),
    card('c-announce', 'Announce', announceForm),
    card('c-rooms', 'Side rooms', roomForm, el.roomList),
  );
}

/**
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
function buildModeForm(p) {
  const radios = Object.entries(MODES).map(([key, m]) => h('div', { class: 'check' },
    h('input', { type: 'radio', name: 'mode', id: `mode-${key}`, value: key, 'aria-describedby': `mode-${key}-hint` }),
    h('label', { for: `mode-${key}` }, m.name, ' ', h('span', { id: `mode-${key}-hint`, class: 'hint inline', text: m.hint }))));
  const seconds = h('input', { id: 'turn-seconds', name: 'turn_seconds', type: 'number', min: '30', max: '900', step: '15', inputmode: 'numeric' });
  const form = h('form', { class: 'stack', id: 'mode-form' },
    h('fieldset', null, h('legend', { text: 'How people take turns' }), radios),
    h('div', { class: 'field' }, h('label', { for: 'turn-seconds', text: 'Turn length in seconds (30 to 900)' }), seconds),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', text: 'Apply' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const mode = String(data.get('mode') || '');
    const secs = Number(seconds.value);
    /** @type {Record<string, unknown>} */
    const fields = { mode };
    if (Number.isFinite(secs) && secs >= 30 && secs <= 900) fields.turn_seconds = Math.round(secs);
    else if (seconds.value) {
      notify(p, 'A turn can be from 30 to 900 seconds long.');
      return;
    }
    if (await command(p, 'mode', fields)) announce(`Mode set to ${MODES[mode] ? MODES[mode].name : mode}.`);
  });
  return form;
}

/**
 * Alt + ArrowUp / ArrowDown moves the focused queue item.
 * @param {Page} p
 * @param {HTMLElement} list
 */
function wireQueueKeyboard(p, list) {
  list.addEventListener('keydown', (ev) => {
    if (!ev.altKey || (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown')) return;
    const item = ev.target instanceof Element ? ev.target.closest('.queue-item') : null;
    if (!(item instanceof HTMLElement) || !p.model) return;
    const id = item.dataset.person || '';
    const from = p.model.queue.indexOf(id);
    const to = ev.key === 'ArrowUp' ? from - 1 : from + 1;
    if (from < 0 || to < 0 || to >= p.model.queue.length) return;
    ev.preventDefault();
    moveInQueue(p, id, to);
  });
}

/**
 * Dragging a queue item by its handle, with a mouse, pen or finger.
 * @param {Page} p
 * @param {HTMLElement} list
 */
function wireQueuePointer(p, list) {
  list.addEventListener('pointerdown', (ev) => {
    const handle = ev.target instanceof Element ? ev.target.closest('.drag-handle') : null;
    const item = handle ? handle.closest('.queue-item') : null;
    if (!(item instanceof HTMLElement) || !p.model) return;
    ev.preventDefault();
    const id = item.dataset.person || '';
    const from = p.model.queue.indexOf(id);
    let to = from;
    item.classList.add('dragging');
    item.setPointerCapture(ev.pointerId);
    /** @param {PointerEvent} e */
    const move = (e) => {
      // `to` is the gap the pointer is over: before item `to`, or after the last.
      const items = [...list.querySelectorAll('.queue-item')];
      to = items.length;
      for (let i = 0; i < items.length; i++) {
        const rect = items[i].getBoundingClientRect();
        if (e.clientY < rect.top + rect.height / 2) { to = i; break; }
      }
      const still = to === from || to === from + 1;
      items.forEach((x, i) => {
        x.classList.toggle('drop-before', !still && i === to);
        x.classList.toggle('drop-after', !still && to === items.length && i === items.length - 1);
      });
    };
    const up = () => {
      item.classList.remove('dragging');
      list.querySelectorAll('.drop-before, .drop-after').forEach((x) => x.classList.remove('drop-before', 'drop-after'));
      item.removeEventListener('pointermove', move);
      item.removeEventListener('pointerup', up);
      item.removeEventListener('pointercancel', up);
      const target = to > from ? to - 1 : to;
      if (target !== from && target >= 0) void moveInQueue(p, id, target);
    };
    item.addEventListener('pointermove', move);
    item.addEventListener('pointerup', up);
    item.addEventListener('pointercancel', up);
  });
}

/**
 * @param {Page} p
 * @param {string} id
 * @param {number} to
 */
async function moveInQueue(p, id, to) {
  if (await command(p, 'move', { participant: id, to })) {
    announce(`${nameOf(/** @type {Model} */ (p.model), id)} is now ${ordinal(to + 1)} in the queue.`);
  }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/**
 * @param {Page} p
 * @param {import('./connection.js').EventFrame} e
 */
function onEvent(p, e) {
  const model = p.model;
  if (!model || p.over) return;
  const changes = applyEvent(model, e);
  let all = false;
  for (const c of changes) {
    switch (c.what) {
      case 'message': {
        appendMessage(p, c.room, c.msg);
        if (c.msg.from !== model.you.id) {
          if (c.room === p.room) announce(`${nameOf(model, c.msg.from)}: ${c.msg.cw ? `message with a content note: ${c.msg.cw}` : c.msg.text.slice(0, 300)}`);
          else {
            p.unread.set(c.room, (p.unread.get(c.room) || 0) + 1);
            const room = model.rooms.get(c.room);
            announce(`New message in ${room ? room.name : 'a side room'}.`);
            renderTabs(p);
          }
        }
        break;
      }
      case 'message-updated':
        updateMessage(p, c.msg);
        break;
      case 'stick': {
        const holder = model.stick.holder;
        if (holder === model.you.id && c.previousHolder !== holder) yourTurnCue(p);
        else if (holder && holder !== c.previousHolder) announce(`${nameOf(model, holder)} has the talking stick.`);
        else if (!holder && c.previousHolder === model.you.id) announce('Your turn has ended. Thank you.');
        all = true;
        break;
      }
      case 'turn-warning':
        if (model.stick.holder === model.you.id) announce('About 30 seconds left in your turn. No rush, finish your thought.');
        all = true;
        break;
      case 'ending-soon':
        announce('The session will end in a few minutes.');
        all = true;
        break;
      case 'phase':
        announce(c.phase === 'paused' && c.note ? `${PHASE_WORDS.paused} ${c.note}` : (PHASE_WORDS[c.phase] || ''));
        if (c.phase === 'ended') {
          p.over = true;
          p.conn.stop();
          setBanner(null);
          if (p.ticker) clearInterval(p.ticker);
          showEnded();
          return;
        }
        all = true;
        break;
      case 'announced':
        announce(`Announcement from the facilitator: ${c.text}`);
        all = true;
        break;
      case 'dm':
        if (c.dm.from !== model.you.id) {
          announce(model.you.role === 'facilitator'
            ? `Private message from ${nameOf(model, c.dm.from)}.`
            : 'The facilitator sent you a private message.');
          if (model.you.role === 'facilitator' && !p.dmWith) p.dmWith = c.dm.from === model.you.id ? c.dm.to : c.dm.from;
        }
        renderDms(p);
        break;
      case 'inbox':
        announce(c.item.kind === 'help'
          ? `${nameOf(model, c.item.from)} pressed “I'm struggling”.`
          : `${nameOf(model, c.item.by)} reported a message.`);
        all = true;
        break;
      case 'left':
        if (c.participant === model.you.id && c.reason === 'removed') {
          p.over = true;
          p.conn.stop();
          setBanner(null);
          if (p.ticker) clearInterval(p.ticker);
          forgetJoin(p.sessionId);
          showRemoved();
          return;
        }
        all = true;
        break;
      case 'joined':
        if (model.you.role === 'facilitator') announce(`${c.participant.name} joined.`);
        all = true;
        break;
      case 'rooms':
        for (const id of [...p.logs.keys()]) if (!model.rooms.has(id)) { p.logs.get(id)?.remove(); p.logs.delete(id); }
        if (!model.rooms.has(p.room)) switchRoom(p, 'main');
        ensureLogs(p);
        all = true;
        break;
      case 'unknown':
        break;
      default:
        all = true;
    }
  }
  if (all) renderAll(p);
}

/**
 * The soft sound, the title and the spoken cue when the stick comes to you.
 * @param {Page} p
 */
function yourTurnCue(p) {
  announce("It's your turn. Write when you're ready, and press “I'm done” when you've finished.");
  if (!pref('turnCue', true)) return;
  document.title = `Your turn · ${baseTitle}`;
  softBeep();
  void p;
}

/** @type {AudioContext | null} */
let audio = null;

/** Unlocks Web Audio on the first gesture (browsers block sound before one). */
function unlockAudio() {
  if (audio) return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
}

/** Two quiet, rounded notes. */
function softBeep() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, freq] of [[0, 523.25], [1, 659.25]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const t = now + i * 0.22;
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(0.05, t + 0.04);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.5);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.55);
  }
}

// ---------------------------------------------------------------------------
// Rendering the session screen
// ---------------------------------------------------------------------------

/**
 * Makes sure there is one log list per room.
 * @param {Page} p
 */
function ensureLogs(p) {
  const model = /** @type {Model} */ (p.model);
  for (const room of model.rooms.values()) {
    if (!p.logs.has(room.id)) {
      const ol = h('ol', { class: 'log', 'aria-label': `Messages in ${room.name}`, 'data-room': room.id, hidden: room.id !== p.room });
      p.logs.set(room.id, ol);
      p.el.logs.append(ol);
    }
  }
}

/**
 * Rebuilds every room's log from the model (after a fresh snapshot).
 * @param {Page} p
 */
function rebuildLogs(p) {
  const model = /** @type {Model} */ (p.model);
  for (const ol of p.logs.values()) ol.remove();
  p.logs.clear();
  if (!model.rooms.has(p.room)) p.room = 'main';
  ensureLogs(p);
  for (const room of model.rooms.values()) {
    const ol = /** @type {HTMLOListElement} */ (p.logs.get(room.id));
    const items = room.messages.map((m) => r.message(m, messageContext(p)));
    if (!items.length) ol.append(emptyLog());
    ol.append(...items);
  }
  scrollToEnd(p, true);
}

/** @returns {HTMLLIElement} */
function emptyLog() {
  return h('li', { class: 'log-empty muted', text: 'No messages yet. When people write, their words will appear here.' });
}

/**
 * @param {Page} p
 * @returns {Parameters<typeof r.message>[1]}
 */
function messageContext(p) {
  const model = /** @type {Model} */ (p.model);
  return {
    model,
    revealNotes: pref('revealNotes', false),
    onReact: (msg, emoji) => { void command(p, 'react', { msg: msg.id, emoji }); },
    onReport: (msg) => { void reportMessage(p, msg); },
    onRedact: model.you.role === 'facilitator' ? (msg) => { void redactMessage(p, msg.id); } : null,
  };
}

/**
 * @param {Page} p
 * @param {string} room
 * @param {Message} msg
 */
function appendMessage(p, room, msg) {
  ensureLogs(p);
  const ol = p.logs.get(room);
  if (!ol) return;
  const stick = isAtEnd(p);
  ol.querySelector('.log-empty')?.remove();
  ol.append(r.message(msg, messageContext(p)));
  while (ol.children.length > 500) ol.firstElementChild?.remove();
  if (room === p.room) scrollToEnd(p, stick);
}

/**
 * Redraws one message in place (reaction counts, removal).
 * @param {Page} p
 * @param {Message} msg
 */
function updateMessage(p, msg) {
  const ol = p.logs.get(msg.room);
  const old = ol && ol.querySelector(`[data-msg="${CSS.escape(msg.id)}"]`);
  if (!old) return;
  const active = document.activeElement;
  const key = active && old.contains(active) ? active.getAttribute('data-key') : null;
  const wasOpen = old.querySelector('.msg-cw button[aria-expanded="true"]') !== null;
  const next = r.message(msg, { ...messageContext(p), revealNotes: wasOpen || pref('revealNotes', false) });
  old.replaceWith(next);
  if (key) {
    const again = next.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement) again.focus();
    else {
      const fallback = next.querySelector('button');
      if (fallback) fallback.focus();
    }
  }
}

/** @param {Page} p */
function isAtEnd(p) {
  const box = p.el.logs;
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

/**
 * @param {Page} p
 * @param {boolean} stick  only scroll if the reader was already at the end
 */
function scrollToEnd(p, stick) {
  if (!stick) return;
  const box = p.el.logs;
  box.scrollTop = box.scrollHeight;
}

/**
 * @param {Page} p
 * @param {Message} msg
 */
async function reportMessage(p, msg) {
  const model = /** @type {Model} */ (p.model);
  const data = await ask({
    title: 'Report this message',
    ok: 'Send to the facilitator',
    body: [
      h('p', { text: `Only the facilitators will see your report. ${nameOf(model, msg.from)} won't be told who sent it.` }),
      h('fieldset', { class: 'field' }, h('legend', { text: 'What worries you about it?' }),
        ['It could hurt someone', 'It shares private details', 'It feels unkind or unsafe', 'Something else'].map((reason, i) =>
          h('div', { class: 'check' },
            h('input', { type: 'radio', name: 'reason', id: `report-reason-${i}`, value: reason, checked: i === 0 }),
            h('label', { for: `report-reason-${i}`, text: reason })))),
      h('div', { class: 'field' }, h('label', { for: 'report-detail', text: 'Anything you want to add (optional)' }),
        h('textarea', { id: 'report-detail', name: 'detail', rows: '2', maxlength: '500' })),
    ],
  });
  if (!data) return;
  const detail = String(data.get('detail') || '').trim();
  const reason = `${String(data.get('reason') || 'Something else')}${detail ? `: ${detail}` : ''}`;
  if (await command(p, 'report', { msg: msg.id, reason })) notify(p, 'Thank you. The facilitator has your report.');
}

/**
 * @param {Page} p
 * @param {string} msgId
 */
async function redactMessage(p, msgId) {
  const data = await ask({
    title: 'Remove this message?',
    ok: 'Remove the message',
    body: h('p', { text: 'Everyone will see “This message was removed by the facilitator” instead, and the text is deleted.' }),
  });
  if (data) await command(p, 'redact', { msg: msgId });
}

/**
 * Everything except the logs, from the model.
 * @param {Page} p
 */
function renderAll(p) {
  const model = p.model;
  if (!model || p.over) return;
  const facilitator = model.you.role === 'facilitator';
  const s = model.session;
  p.el.root.dataset.phase = s.phase;
  const lobby = s.phase === 'lobby' && !facilitator;
  p.el.lobby.hidden = !lobby;
  p.el.rooms.hidden = lobby;
  if (lobby) renderLobby(p);
  renderStatus(p);
  renderAnnouncement(p);
  renderTabs(p);
  renderComposer(p);
  renderYou(p);
  renderPeople(p);
  renderDms(p);
  if (facilitator) renderConsole(p);
  if (model.stick.holder !== model.you.id && document.title !== baseTitle) document.title = baseTitle;
}

/** @param {Page} p */
function renderLobby(p) {
  const model = /** @type {Model} */ (p.model);
  const starts = new Date(p.card.starts_at).getTime();
  const until = starts - Date.now();
  const count = [...model.participants.values()].filter((x) => x.role !== 'facilitator' && x.presence !== 'offline').length;
  replace(p.el.lobby,
    h('h2', { id: 'lobby-title', text: `You're in, ${model.you.name}. Welcome.` }),
    h('p', { class: 'lobby-countdown' },
      Number.isNaN(until) ? 'The group starts soon.' : until > 0
        ? ['The group starts ', h('strong', { id: 'countdown', text: countdownWords(until) }), ` (${r.whenWords(p.card.starts_at)}).`]
        : ['The group will start ', h('strong', { id: 'countdown', text: 'as soon as the facilitator opens the circle' }), '.']),
    h('p', { text: 'This page will change by itself when the facilitator starts. There is nothing you need to do.' }),
    h('p', { class: 'muted', text: 'While you wait: get comfortable, perhaps a glass of water. You can reread the group agreement, or take a break at any time. Your place is kept.' }),
    h('p', { class: 'muted', text: count === 1 ? 'You are the first one here.' : `${count} people are here so far.` }),
  );
}

/** @param {Page} p */
function renderStatus(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  /** @type {r.Child[]} */
  const parts = [];
  if (s.phase === 'lobby') parts.push(h('span', { class: 'pill', text: 'Not started yet' }));
  else if (s.phase === 'paused') parts.push(h('span', { class: 'pill pill-paused', text: s.reason === 'no_facilitator' ? 'Paused until the facilitator is back' : 'Paused' }));
  else if (s.phase === 'live') parts.push(h('span', { class: 'pill pill-live', text: 'In session' }));
  parts.push(h('span', { class: 'pill', text: r.modeName(s.mode) }));
  if (s.locked) parts.push(h('span', { class: 'pill', text: 'Closed to new people' }));
  if (s.mode !== 'open') {
    const holder = model.stick.holder;
    parts.push(h('span', { class: 'status-stick' }, holder
      ? (holder === model.you.id ? h('strong', { text: 'You have the talking stick' }) : [h('strong', { text: nameOf(model, holder) }), ' has the talking stick'])
      : 'Nobody has the talking stick'));
    const place = queuePlace(model, model.you.id);
    if (place) parts.push(h('span', { class: 'status-place', text: `You are ${ordinal(place)} in the queue` }));
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
  if (!st.holder || model.session.mode === 'open') {
    c.textContent = '';
    c.hidden = true;
    c.classList.remove('clock-warning');
    return;
  }
  c.hidden = false;
  const left = st.ends_at !== null ? st.ends_at - Date.now() : st.remaining_ms;
  if (left === null) {
    c.textContent = '';
    return;
  }
  const warning = st.warned || left <= 30_000;
  c.classList.toggle('clock-warning', warning);
  const paused = st.ends_at === null;
  c.textContent = `${clock(left)} left in this turn${paused ? ' (paused)' : ''}${warning ? ' · nearly time' : ''}`;
}

/** @param {Page} p */
function tick(p) {
  if (!p.model || p.over) return;
  renderClock(p);
  if (p.model.session.phase === 'lobby' && p.model.you.role !== 'facilitator') {
    const el = document.getElementById('countdown');
    const until = new Date(p.card.starts_at).getTime() - Date.now();
    if (el && until > 0) el.textContent = countdownWords(until);
  }
  if (p.model.stick.holder === p.model.you.id) renderYourTurn(p);
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
  box.hidden = false;
  replace(box,
    h('p', null, h('strong', { text: 'From the facilitator: ' }), h('span', { text: last.text })),
    h('button', { type: 'button', class: 'quiet small', text: 'Dismiss', onclick: () => { box.dataset.dismissed = String(last.at); box.hidden = true; } }));
}

/** @param {Page} p */
function renderTabs(p) {
  const model = /** @type {Model} */ (p.model);
  const rooms = [...model.rooms.values()];
  p.el.tabs.hidden = rooms.length < 2;
  replace(p.el.tabs, rooms.map((room) => {
    const selected = room.id === p.room;
    const unread = p.unread.get(room.id) || 0;
    return h('button', {
      type: 'button', role: 'tab', id: `tab-${room.id}`, 'data-key': `tab-${room.id}`, 'data-room': room.id,
      'aria-selected': String(selected), 'aria-controls': 'room-panel', tabindex: selected ? '0' : '-1',
      class: 'tab', onclick: () => switchRoom(p, room.id),
    }, room.name, unread ? h('span', { class: 'tab-unread' }, ` (${unread} new)`) : null);
  }));
  p.el.logs.setAttribute('aria-labelledby', `tab-${p.room}`);
  if (!p.el.tabs.dataset.wired) {
    p.el.tabs.dataset.wired = 'yes';
    p.el.tabs.addEventListener('keydown', (ev) => {
      const tabs = [...p.el.tabs.querySelectorAll('[role="tab"]')];
      const i = tabs.findIndex((t) => t === document.activeElement);
      if (i < 0) return;
      let j = -1;
      if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
      else if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
      else if (ev.key === 'Home') j = 0;
      else if (ev.key === 'End') j = tabs.length - 1;
      if (j < 0) return;
      ev.preventDefault();
      const room = tabs[j].getAttribute('data-room');
      if (room) switchRoom(p, room);
    });
  }
}

/**
 * @param {Page} p
 * @param {string} room
 */
function switchRoom(p, room) {
  const text = /** @type {HTMLTextAreaElement} */ (p.el.composer.querySelector('textarea'));
  p.drafts.set(p.room, text.value);
  p.room = room;
  p.unread.delete(room);
  text.value = p.drafts.get(room) || '';
  for (const [id, ol] of p.logs) ol.hidden = id !== room;
  renderTabs(p);
  renderComposer(p);
  scrollToEnd(p, true);
  const tab = document.getElementById(`tab-${room}`);
  if (tab && p.el.tabs.contains(document.activeElement)) tab.focus();
}

/** @param {Page} p */
function renderComposer(p) {
  const model = /** @type {Model} */ (p.model);
  const form = p.el.composer;
  const text = /** @type {HTMLTextAreaElement} */ (form.querySelector('textarea'));
  const send = /** @type {HTMLButtonElement} */ (form.querySelector('#send'));
  const reason = /** @type {HTMLElement} */ (form.querySelector('#composer-reason'));
  const label = /** @type {HTMLElement} */ (form.querySelector('#composer-label'));
  const room = model.rooms.get(p.room);
  label.textContent = `Your message to ${room ? room.name : 'the group'}`;
  if (!text.value && p.drafts.get(p.room)) text.value = p.drafts.get(p.room) || '';
  const block = composerBlock(model, p.room);
  send.disabled = block !== null;
  form.classList.toggle('is-blocked', block !== null);
  reason.textContent = block || (p.room === 'main' && model.session.mode !== 'open' && model.stick.holder === model.you.id
    ? "It's your turn: the circle is listening." : '');
  text.readOnly = model.session.phase === 'ended';
}

/** @param {Page} p */
function renderYourTurn(p) {
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
  const warning = model.stick.warned || (left !== null && left <= 30_000);
  if (c) c.textContent = left === null ? '' : warning ? `About ${Math.max(1, Math.ceil(left / 1000))} seconds left; no rush, finish your thought.` : `${clock(left)} left.`;
}

/** @param {Page} p */
function renderYou(p) {
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
function renderPeople(p) {
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
function openDm(p, id) {
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
function renderDms(p) {
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
function renderConsole(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  const el = p.el;

  // Session controls
  const pauseNote = h('input', { id: 'pause-note', type: 'text', maxlength: '200', autocomplete: 'off', 'data-key': 'pause-note' });
  const prevNote = document.getElementById('pause-note');
  if (prevNote instanceof HTMLInputElement) pauseNote.value = prevNote.value;
  /** @type {r.Child[]} */
  const controls = [];
  if (s.phase === 'lobby') {
    controls.push(h('button', { type: 'button', class: 'primary', id: 'start', 'data-key': 'start', text: 'Start the session', onclick: () => { void command(p, 'start'); } }));
  }
  if (s.phase === 'live') {
    controls.push(h('div', { class: 'field' }, h('label', { for: 'pause-note', text: 'Note for the group (optional)' }), pauseNote),
      h('button', {
        type: 'button', class: 'secondary', id: 'pause', 'data-key': 'pause', text: 'Pause the group',
        onclick: () => {
          const note = pauseNote.value.trim();
          /** @type {Record<string, unknown>} */
          const f = { on: true };
          if (note) f.note = note;
          void command(p, 'pause', f).then((ok) => { if (ok) pauseNote.value = ''; });
        },
      }));
  }
  if (s.phase === 'paused') {
    controls.push(h('button', { type: 'button', class: 'primary', id: 'resume', 'data-key': 'resume', text: 'Resume the group', onclick: () => { void command(p, 'pause', { on: false }); } }));
  }
  controls.push(h('div', { class: 'row' },
    h('button', {
      type: 'button', class: 'secondary', id: 'lock', 'data-key': 'lock', 'aria-pressed': String(s.locked),
      text: s.locked ? 'Open to new people' : 'Close to new people', onclick: () => { void command(p, 'lock', { on: !s.locked }); },
    }),
    h('button', { type: 'button', class: 'secondary', id: 'mute-all', 'data-key': 'mute-all', text: 'Mute everyone', onclick: () => { void command(p, 'mute_all', { on: true }); } }),
    h('button', { type: 'button', class: 'secondary', id: 'unmute-all', 'data-key': 'unmute-all', text: 'Unmute everyone', onclick: () => { void command(p, 'mute_all', { on: false }); } })));
  if (s.phase !== 'ended') {
    controls.push(h('button', { type: 'button', class: 'danger', id: 'end', 'data-key': 'end', text: 'End the session', onclick: () => { void endSession(p); } }));
  }
  replace(el.sessionControls, ...controls);

  // Mode form: reflect the current mode unless the facilitator is editing it.
  if (!el.modeForm.contains(document.activeElement)) {
    const radio = el.modeForm.querySelector(`input[value="${s.mode}"]`);
    if (radio instanceof HTMLInputElement) radio.checked = true;
    const secs = el.modeForm.querySelector('#turn-seconds');
    if (secs instanceof HTMLInputElement) secs.value = String(s.turn_seconds);
  }

  // Stick
  const holder = model.stick.holder;
  replace(el.stickControls,
    h('p', null, holder ? [h('strong', { text: nameOf(model, holder) }), ' has the talking stick.'] : 'Nobody has the talking stick.'),
    holder ? h('button', { type: 'button', class: 'secondary', id: 'take-stick', 'data-key': 'take-stick', text: 'Take the stick back', onclick: () => { void command(p, 'give', { participant: null }); } }) : null);

  // Queue
  replace(el.queue, model.queue.length
    ? model.queue.map((id, i) => r.queueItem(model, id, i, {
        onMove: (qid, to) => { void moveInQueue(p, qid, to); },
        onGive: (qid) => { void command(p, 'give', { participant: qid }); },
        onLower: (qid) => { void command(p, 'lower', { participant: qid }); },
      }))
    : h('li', { class: 'muted', text: 'Nobody has raised a hand.' }));

  // Inbox
  const items = model.inbox.filter((i) => !p.dismissed.has(i.key));
  el.inboxCount.textContent = items.length ? `(${items.length})` : '';
  replace(el.inbox, items.length
    ? items.slice().reverse().map((item) => r.inboxItem(model, item, {
        onDm: (id) => openDm(p, id),
        onRedact: (msg) => { void redactMessage(p, msg); },
        onDismiss: (key) => { p.dismissed.add(key); renderConsole(p); },
        messageText: (id) => { const m = findMessage(model, id); return m ? (m.redacted ? '' : m.text) : null; },
      }))
    : h('li', { class: 'muted', text: 'Nothing needs you right now.' }));

  // Balance
  replace(el.balance, r.balance(model));

  // Side rooms
  const side = [...model.rooms.values()].filter((x) => x.id !== 'main');
  replace(el.roomList, side.map((x) => h('li', { class: 'row spread' },
    h('span', { text: x.name }),
    h('button', { type: 'button', class: 'quiet small', 'data-key': `close-${x.id}`, 'aria-label': `Close ${x.name}`, text: 'Close', onclick: () => { void command(p, 'room_close', { room: x.id }); } }))));
}

/** @param {Page} p */
async function endSession(p) {
  const data = await ask({
    title: 'End the session for everyone?',
    ok: 'End the session',
    danger: true,
    body: h('p', { text: 'Everyone will see a thank-you screen with the support contacts. This cannot be undone.' }),
  });
  if (data) await command(p, 'end');
}

// ---------------------------------------------------------------------------

document.addEventListener('pointerdown', unlockAudio, { once: true });
document.addEventListener('keydown', unlockAudio, { once: true });
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && page && page.model && page.model.stick.holder !== page.model.you.id) document.title = baseTitle;
});

route();

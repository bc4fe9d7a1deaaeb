//! Coming into a session: the public card, the group agreement with an
//! explicit "I agree", the pseudonym (checked inline against the server's
//! rules), the access code, and the facilitator's sign-in for the console.
//! The participant's token is kept in `localStorage` for this session only,
//! so a reload or a dropped phone comes straight back in; so is the fact
//! that a facilitator asked this browser to leave, so the link then shows
//! that, kindly, instead of a fresh form. Someone who arrives before the
//! doors open agrees and picks a name, then waits (`waiting.js`).

import * as api from './api.js';
import { h } from './render.js';
import * as r from './render.js';
import { errorText, joinErrorText, countdownWords } from './strings.js';
import { loadFacilitator, loginForm } from './login.js';
import { showScreen, template } from './ui.js';
import { setGroupChrome, showEnded, showRemoved } from './chrome.js';
import { pref, setPref } from './prefs.js';
import { enterSession } from './session.js';
import { showWaiting } from './waiting.js';

/** @typedef {import('./api.js').SessionCard} SessionCard */

/**
 * @typedef {{participant_id: string, token: string, name: string}} StoredJoin
 */

/** @param {string} session @returns {StoredJoin | null} */
export function loadJoin(session) {
  try {
    const raw = localStorage.getItem(`peercircle.join.${session}`);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}
/** @param {string} session @param {StoredJoin} join */
export function saveJoin(session, join) {
  localStorage.setItem(`peercircle.join.${session}`, JSON.stringify(join));
}
/** @param {string} session */
export function forgetJoin(session) {
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
 * The `/s/{session}` route: straight back in with a stored place, the
 * removed screen for someone asked to leave, the doors-open wait for an
 * early arrival, or the join screen.
 * @param {string} sessionId
 */
export async function sessionPage(sessionId) {
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
    enterAs(sessionId, card, facilitator.token, 'facilitator');
    return;
  }
  if (params.get('facilitate') === '1') {
    showFacilitatorSignIn(sessionId, card);
    return;
  }
  const joined = loadJoin(sessionId);
  if (joined) {
    enterAs(sessionId, card, joined.token, 'participant');
    return;
  }
  if (wasRemoved(sessionId)) {
    showRemovedHere(sessionId, card);
    return;
  }
  const early = loadEarly(sessionId);
  if (early) {
    waitForDoors(sessionId, card, early, (c) => showJoin(sessionId, c, null));
    return;
  }
  showJoin(sessionId, card, null);
}

/**
 * The kind screen for someone a facilitator asked to leave, with the way
 * back to the join form (the server decides whether they may come back).
 * @param {string} sessionId
 * @param {SessionCard} card
 */
function showRemovedHere(sessionId, card) {
  showRemoved(() => {
    localStorage.removeItem(`peercircle.removed.${sessionId}`);
    showJoin(sessionId, card, null);
  });
}

/** @param {string} sessionId */
function wasRemoved(sessionId) {
  return localStorage.getItem(`peercircle.removed.${sessionId}`) === 'true';
}

/**
 * A facilitator opened the console link without a token in this tab.
 * @param {string} sessionId
 * @param {SessionCard} card
 */
export function showFacilitatorSignIn(sessionId, card) {
  showScreen(h('section', { class: 'card narrow' },
    h('h1', { text: `Facilitate ${card.group.name}` }),
    h('p', { text: 'Please sign in to run this session.' }),
    loginForm((answer) => enterAs(sessionId, card, answer.token, 'facilitator'))));
}

/**
 * The join screen: group card (with when the doors open, for an early
 * arrival), the agreement with an explicit "I agree", then pseudonym,
 * access code and content-note preference.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string | null} notice  a sentence to show first (e.g. an expired place)
 */
export function showJoin(sessionId, card, notice) {
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
  const early = card.phase === 'scheduled';
  const joinLabel = early ? 'Wait for the doors to open' : 'Join the group';
  const joinButton = h('button', { type: 'submit', class: 'primary', id: 'join-submit', text: joinLabel });
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
    joinButton.textContent = early ? 'One moment…' : 'Joining…';
    /** @type {EarlyJoin} */
    const input = { name: nameInput.value.trim(), access_code: codeInput.value.trim() };
    try {
      await joinNow(sessionId, card, input);
    } catch (e) {
      joinButton.disabled = false;
      joinButton.textContent = joinLabel;
      if (e instanceof api.ApiError && e.status === 409 && e.code === 'not_open') {
        // Too early: wait calmly, and come in by ourselves when the doors open.
        saveEarly(sessionId, input);
        waitForDoors(sessionId, card, input, (c) => showJoin(sessionId, c, null));
        return;
      }
      const failure = joinFailure(e, card, input.access_code !== '' && !wasRemoved(sessionId));
      if (failure.field === 'code') {
        codeDetails.open = true;
        codeInput.setAttribute('aria-invalid', 'true');
        formError.textContent = failure.text;
        formError.hidden = false;
        codeInput.focus();
      } else if (failure.field === 'name') {
        nameError.textContent = failure.text;
        nameError.hidden = false;
        nameInput.setAttribute('aria-invalid', 'true');
        nameInput.focus();
      } else {
        formError.textContent = failure.text;
        formError.hidden = false;
        formError.setAttribute('tabindex', '-1');
        formError.focus();
      }
    }
  });

  showScreen(
    h('div', { class: 'join' },
      notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
      card.locked ? h('p', { class: 'notice', text: 'The facilitator has closed this group to new people for now. If you were already in, your link still works.' }) : null,
      r.groupCard(card),
      early ? doorsNotice(card) : null,
      facilitator ? h('section', { class: 'card quiet-card' },
        h('p', { text: `You're signed in as ${facilitator.name || 'a facilitator'}.` }),
        h('a', { class: 'button', href: `/s/${encodeURIComponent(sessionId)}?facilitate=1`, text: 'Run this session as facilitator' })) : null,
      agreementSection,
      form,
    ));
}

/**
 * Before anyone fills in a form: when the doors open.
 * @param {SessionCard} card
 * @returns {HTMLElement}
 */
function doorsNotice(card) {
  const at = card.doors_open_at ? new Date(card.doors_open_at).getTime() : NaN;
  return h('p', { class: 'notice doors', id: 'doors-notice' },
    h('strong', { text: Number.isNaN(at) ? 'The doors open a little before the start.' : `The doors open ${countdownWords(at - Date.now())}, at ${r.timeOfDay(at)}.` }),
    ' You can read the agreement and choose your name now; this page will let you in by itself when the doors open.');
}

/**
 * Joins over HTTP and opens the session screen.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {EarlyJoin} input
 */
async function joinNow(sessionId, card, input) {
  const answer = await api.join(sessionId, { name: input.name, access_code: input.access_code || undefined });
  forgetEarly(sessionId);
  saveJoin(sessionId, { participant_id: answer.participant_id, token: answer.token, name: input.name });
  enterAs(sessionId, card, answer.token, 'participant');
}

/**
 * Which field a refused join is about, and the words for it.
 * @param {unknown} e
 * @param {SessionCard} card
 * @param {boolean} codeTyped  a code was typed (and this browser was not asked to leave)
 * @returns {{field: 'name' | 'code' | 'form', text: string}}
 */
function joinFailure(e, card, codeTyped) {
  const status = e instanceof api.ApiError ? e.status : 0;
  const code = e instanceof api.ApiError ? e.code : 'network';
  const message = e instanceof api.ApiError ? e.message : '';
  if (status === 0) return { field: 'form', text: errorText('network') };
  if (status === 400) return { field: 'name', text: joinErrorText(status, code, message) };
  if (status === 403) {
    // The same code is used for a wrong or missing access code and for a
    // ban; `error.reason` says which.
    const reason = e instanceof api.ApiError ? e.reason : '';
    if (reason === 'banned') return { field: 'form', text: message || joinErrorText(status, 'banned', message) };
    if (reason === 'access_code_missing') return { field: 'code', text: 'This group uses an access code. Please type the one your facilitator gave you.' };
    if (reason === 'access_code_wrong') return { field: 'code', text: joinErrorText(status, code, message) };
    // A server that does not say: its sentence tells, kindly.
    if (card.group.has_access_code && !codeTyped && !/can't join this group/i.test(message)) {
      return { field: 'code', text: 'This group uses an access code. Please type the one your facilitator gave you.' };
    }
    if (card.group.has_access_code && codeTyped) return { field: 'code', text: joinErrorText(status, code, message) };
    return { field: 'form', text: message || joinErrorText(status, code, message) };
  }
  return { field: 'form', text: joinErrorText(status, code, message) };
}

/**
 * Opens the session screen, and says where to go when the server later ends
 * this page's part: removed, ended, or the token refused.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string} token
 * @param {'participant' | 'facilitator'} as
 */
function enterAs(sessionId, card, token, as) {
  enterSession(sessionId, card, token, {
    removed: () => {
      forgetJoin(sessionId);
      localStorage.setItem(`peercircle.removed.${sessionId}`, 'true');
      showRemovedHere(sessionId, card);
    },
    ended: () => {
      // A facilitator lands on the dashboard with the session's summary.
      if (as === 'facilitator') location.assign(`/facilitate?summary=${encodeURIComponent(sessionId)}`);
      else showEnded();
    },
    unauthorized: () => {
      if (as === 'participant') {
        forgetJoin(sessionId);
        showJoin(sessionId, card, 'Your place in this session has expired. You can join again below.');
      } else {
        showFacilitatorSignIn(sessionId, card);
      }
    },
  });
}

/**
 * The doors-open wait, wired to this screen's way in.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {EarlyJoin} input
 * @param {(card: SessionCard) => void} back  to the form ("Change my name")
 */
function waitForDoors(sessionId, card, input, back) {
  showWaiting(card, input, {
    poll: () => api.getSession(sessionId),
    join: async (c) => {
      try {
        await joinNow(sessionId, c, input);
        return 'in';
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 409 && e.code === 'not_open') return 'wait';
        forgetEarly(sessionId);
        const failure = joinFailure(e, c, input.access_code !== '');
        showJoin(sessionId, c, failure.text);
        return 'out';
      }
    },
    ended: () => { forgetEarly(sessionId); showEnded(); },
    back: (c) => { forgetEarly(sessionId); back(c); },
  });
}

/** @typedef {import('./waiting.js').EarlyJoin} EarlyJoin */

/**
 * @param {string} sessionId
 * @returns {EarlyJoin | null}
 */
function loadEarly(sessionId) {
  try {
    const raw = sessionStorage.getItem(`peercircle.early.${sessionId}`);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}
/** @param {string} sessionId @param {EarlyJoin} input */
function saveEarly(sessionId, input) {
  try { sessionStorage.setItem(`peercircle.early.${sessionId}`, JSON.stringify(input)); } catch { /* the wait still works in this page */ }
}
/** @param {string} sessionId */
function forgetEarly(sessionId) {
  sessionStorage.removeItem(`peercircle.early.${sessionId}`);
}

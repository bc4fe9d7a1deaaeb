//! Signing in as a facilitator, and remembering it for this tab: the login
//! token is kept in `sessionStorage` (this tab only) for the WebSocket
//! `hello`; the HTTP calls ride on the HttpOnly cookie.

import * as api from './api.js';
import { h } from './render.js';
import { errorText } from './strings.js';

/** @typedef {{token: string, id: string, name: string}} StoredFacilitator */

const KEY = 'peercircle.facilitator';

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
export function saveFacilitator(f) {
  if (f) sessionStorage.setItem(KEY, JSON.stringify(f));
  else sessionStorage.removeItem(KEY);
}

/**
 * @param {unknown} e
 * @returns {string}
 */
export function words(e) {
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

//! Screen-level helpers shared by the session page and the dashboard:
//! showing a screen, polite announcements for screen readers, the banner and
//! the shared confirmation dialog. No peer data is interpreted here; callers
//! pass nodes built by `render.js`.

import { replace } from './render.js';

/** @typedef {import('./render.js').Child} Child */

/**
 * The element with this id; the page's skeleton guarantees it exists.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!el || (type && !(el instanceof type))) throw new Error(`peercircle: #${id} is missing from the page`);
  return /** @type {T} */ (el);
}

const main = () => byId('main');

/**
 * Shows a screen in `<main>` and moves focus to its first heading, so a
 * screen reader user hears where they are.
 * @param {...Child} children
 */
export function showScreen(...children) {
  // The session screen fits the window and scrolls inside; others scroll.
  document.body.classList.remove('in-session');
  replace(main(), ...children);
  const heading = main().querySelector('h1');
  if (heading instanceof HTMLElement) {
    if (!heading.hasAttribute('tabindex')) heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

/**
 * A clone of a `<template>` from index.html.
 * @param {string} id
 * @returns {DocumentFragment}
 */
export function template(id) {
  const t = byId(id, HTMLTemplateElement);
  return /** @type {DocumentFragment} */ (t.content.cloneNode(true));
}

let announceTimer = /** @type {ReturnType<typeof setTimeout> | null} */ (null);
/** @type {string[]} */
let announceQueue = [];

/**
 * Says something politely to screen readers, once. Bursts are gathered so
 * a busy room is summarised rather than read out line by line.
 * @param {string} text
 */
export function announce(text) {
  if (!text) return;
  announceQueue.push(text);
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    const items = announceQueue;
    announceQueue = [];
    announceTimer = null;
    const region = byId('announcer');
    const said = items.length <= 3 ? items.join(' ') : `${items.slice(0, 2).join(' ')} And ${items.length - 2} more updates.`;
    region.textContent = '';
    setTimeout(() => { region.textContent = said; }, 60);
  }, 500);
}

/**
 * @param {string | null} text  null hides the banner
 */
export function setBanner(text) {
  const b = byId('banner');
  if (text === null) {
    b.hidden = true;
    b.textContent = '';
  } else {
    b.textContent = text;
    b.hidden = false;
  }
}

/**
 * Opens the shared modal with a title, a body and a confirm button, and
 * resolves with the form's data when confirmed, or null when cancelled.
 * @param {{title: string, body: Child, ok: string, danger?: boolean}} opts
 * @returns {Promise<FormData | null>}
 */
export function ask(opts) {
  const dialog = byId('modal', HTMLDialogElement);
  const form = byId('modal-form', HTMLFormElement);
  byId('modal-title').textContent = opts.title;
  replace(byId('modal-body'), opts.body);
  const ok = byId('modal-ok', HTMLButtonElement);
  ok.textContent = opts.ok;
  ok.className = opts.danger ? 'danger' : 'primary';
  const back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'ok';
      const data = new FormData(form);
      dialog.returnValue = '';
      if (back && back.isConnected) back.focus();
      resolve(confirmed ? data : null);
    }, { once: true });
    dialog.showModal();
    const first = byId('modal-body').querySelector('input, textarea, select');
    if (first instanceof HTMLElement) first.focus();
  });
}

/**
 * Puts a sentence in a status line and says it to screen readers.
 * @param {HTMLElement} status
 * @param {string} text
 */
export function sayIn(status, text) {
  status.textContent = text;
  status.hidden = false;
  announce(text);
}

//! The page chrome around every screen: the group's name in the top bar,
//! "Need help now?" with the group's support resources, the group agreement
//! dialog, the tab title, and the two farewell screens (ended, removed).
//! It keeps the current group's support list so any screen can show it.

import * as r from './render.js';
import { byId, showScreen, template } from './ui.js';

const { replace } = r;

/** @typedef {import('./api.js').SessionCard} SessionCard */

/** @type {import('./api.js').SupportResource[]} */
let supportList = [];

let baseTitleText = 'peercircle';

/** The tab title without any cue: "Group · peercircle". */
export function baseTitle() {
  return baseTitleText;
}

/** The group's support resources, for screens that show them. */
export function supportResources() {
  return supportList;
}

/** Wires "Need help now?" and the agreement button, once. */
export function wireChrome() {
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
export function setGroupChrome(card) {
  supportList = Array.isArray(card.group.support_resources) ? card.group.support_resources : [];
  byId('topbar-group').textContent = card.group.name;
  replace(byId('agreement-body'), r.paragraphs(card.group.agreement));
  byId('agreement-open').hidden = false;
  baseTitleText = `${card.group.name} · peercircle`;
  document.title = baseTitleText;
}

export function showEnded() {
  const t = template('tpl-ended');
  const slot = t.querySelector('[data-slot="support"]');
  if (slot) slot.append(r.supportResources(supportList));
  showScreen(t);
  document.title = baseTitleText;
}

/**
 * The kind screen for someone a facilitator asked to leave this session.
 * @param {() => void} joinAgain  back to the join form; the server decides
 *   whether they may come back (a ban is refused there, kindly)
 */
export function showRemoved(joinAgain) {
  const t = template('tpl-removed');
  const slot = t.querySelector('[data-slot="support"]');
  if (slot) slot.append(r.supportResources(supportList));
  const again = t.querySelector('[data-slot="again"]');
  if (again) {
    again.append(r.h('button', { type: 'button', class: 'quiet', id: 'join-again', text: 'Go to the join page', onclick: joinAgain }));
  }
  showScreen(t);
  document.title = baseTitleText;
}

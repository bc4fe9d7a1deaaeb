//! The parts of the session screen and, on a phone, the bar that switches
//! between them: Conversation · People · Private · Me (participants) or
//! Conversation · People · Private · Console (facilitators, whose settings
//! live in the console). On wider screens every part is in view at once and
//! the bar is hidden; "showing" a part then scrolls it into view.
//!
//! Also where private messages become read: when their thread is shown.

import { h, replace } from './render.js';
import { unreadDms } from './page.js';

/**
 * @typedef {import('./page.js').Page} Page
 * @typedef {import('./page.js').Panel} Panel
 */

/** Below this width the session is one part at a time (matches style.css). */
const PHONE = '(max-width: 699.98px)';

/** True when the session shows one part at a time. */
export function isPhone() {
  return window.matchMedia(PHONE).matches;
}

/**
 * Whether a part of the screen can be seen now.
 * @param {Page} p
 * @param {Panel} panel
 */
export function panelVisible(p, panel) {
  return !isPhone() || p.panel === panel;
}

/**
 * The bar of parts, at the bottom of a phone's screen.
 * @param {Page} p
 * @param {boolean} facilitator
 * @returns {HTMLElement}
 */
export function buildTabbar(p, facilitator) {
  /** @type {Array<[Panel, string]>} */
  const parts = [['talk', 'Conversation'], ['people', 'People'], ['private', 'Private'], facilitator ? ['console', 'Console'] : ['me', 'Me']];
  const nav = h('nav', { class: 'tabbar', id: 'tabbar', 'aria-label': 'Parts of the session' },
    parts.map(([panel, label]) => h('button', {
      type: 'button', class: 'tabbar-button', id: `show-${panel}`, 'data-key': `show-${panel}`, 'data-panel': panel,
      onclick: () => {
        showPanel(p, panel);
        if (panel === 'private') p.rerender();
      },
    }, h('span', { class: 'tabbar-label', text: label }), h('span', { class: 'tabbar-badge' }))));
  return nav;
}

/**
 * Marks the part shown and the unread count on "Private".
 * @param {Page} p
 */
export function renderTabbar(p) {
  const bar = p.el.tabbar;
  if (!bar) return;
  const unread = unreadDms(p).length;
  for (const b of bar.querySelectorAll('button')) {
    const panel = b.getAttribute('data-panel');
    if (panel === p.panel) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
    const badge = b.querySelector('.tabbar-badge');
    if (badge && panel === 'private') {
      replace(badge, unread ? [h('span', { 'aria-hidden': 'true', text: String(unread) }), h('span', { class: 'visually-hidden', text: ` (${unread} unread)` })] : null);
    }
  }
}

/**
 * Shows one part: on a phone it replaces the others; on a wider screen it
 * is scrolled into view.
 * @param {Page} p
 * @param {Panel} panel
 */
export function showPanel(p, panel) {
  p.panel = panel;
  p.el.root.dataset.panel = panel;
  renderTabbar(p);
  if (panel === 'private') markDmsRead(p);
  if (!isPhone()) p.el[`panel-${panel}`]?.scrollIntoView({ block: 'nearest' });
}

/**
 * The private thread on screen is read: all of a participant's, or the
 * facilitator's open thread.
 * @param {Page} p
 */
export function markDmsRead(p) {
  const model = p.model;
  if (!model || !panelVisible(p, 'private') || document.hidden) return;
  const facilitator = model.you.role === 'facilitator';
  for (const d of unreadDms(p)) {
    if (!facilitator || d.from === p.dmWith || d.to === p.dmWith) p.readDms.add(d.id);
  }
}

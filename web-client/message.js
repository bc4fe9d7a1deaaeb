//! One message of a room's log, and its "…" menu: reactions, report (for
//! participants) or take down / remove the author (for facilitators), all
//! behind one button so each message is one tab stop (plus "Show" for a
//! message behind a content note). The menu follows the ARIA menu button
//! pattern: Enter, Space or the arrow keys open it, arrows move, Escape
//! closes it and returns to its button.
//!
//! Like render.js: data in, DOM out, peer text only as text nodes; what a
//! menu item does is a callback.

import { REACTIONS } from './strings.js';
import { nameOf } from './queries.js';
import { h, timeOfDay } from './render.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Message} Message
 * @typedef {object} MessageContext
 * @property {Model} model
 * @property {boolean} revealNotes  show messages behind a content note at once
 * @property {(msg: Message, emoji: string) => void} onReact
 * @property {((msg: Message) => void) | null} onReport  participants, for others' messages
 * @property {((msg: Message) => void) | null} onRedact  facilitators
 * @property {((msg: Message) => void) | null} onRemoveAuthor  facilitators, for a participant's message
 */

/**
 * @param {Message} msg
 * @param {MessageContext} ctx
 * @returns {HTMLLIElement}
 */
export function message(msg, ctx) {
  const { model } = ctx;
  const mine = msg.from === model.you.id;
  const author = model.participants.get(msg.from);
  const isFacilitator = author ? author.role === 'facilitator' : false;
  const who = nameOf(model, msg.from);
  const li = h('li', { class: `msg${mine ? ' msg-mine' : ''}${isFacilitator ? ' msg-facilitator' : ''}`, 'data-msg': msg.id });
  const time = new Date(msg.at);
  const head = h('div', { class: 'msg-head' },
    h('span', { class: 'msg-author', text: mine ? `${who} (you)` : who }),
    isFacilitator ? h('span', { class: 'badge badge-facilitator', text: 'Facilitator' }) : null,
    h('time', { class: 'msg-time', datetime: time.toISOString(), text: timeOfDay(msg.at) }),
  );
  li.append(head);
  if (msg.redacted) {
    li.append(h('p', { class: 'msg-redacted', text: 'This message was removed by the facilitator.' }));
    return li;
  }
  const body = h('p', { class: 'msg-text', text: msg.text });
  if (msg.cw) {
    const bodyId = `msg-body-${msg.id}`;
    body.id = bodyId;
    const shown = ctx.revealNotes;
    body.hidden = !shown;
    const toggle = h('button', {
      type: 'button', class: 'link-button', 'aria-expanded': String(shown), 'aria-controls': bodyId,
      'data-key': `cw-${msg.id}`, text: shown ? 'Hide' : 'Show',
    });
    toggle.addEventListener('click', () => {
      const open = body.hidden;
      body.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? 'Hide' : 'Show';
    });
    li.append(h('p', { class: 'msg-cw' }, h('span', { text: `Content note: ${msg.cw}` }), ' ', toggle));
  }
  li.append(body);
  const counts = REACTIONS.filter((r) => (msg.reactions[r.key] || 0) > 0);
  if (counts.length) {
    li.append(h('ul', { class: 'reaction-counts', 'aria-label': 'Reactions' }, counts.map((r) =>
      h('li', null, h('span', { 'aria-hidden': 'true', text: r.symbol }), ' ',
        h('span', { class: 'visually-hidden', text: `${r.label}: ` }), String(msg.reactions[r.key])))));
  }
  const button = h('button', {
    type: 'button', class: 'msg-menu-button quiet small', 'data-key': `menu-${msg.id}`,
    'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-label': mine ? 'Actions for your message' : `Actions for ${who}'s message`,
  }, h('span', { 'aria-hidden': 'true', text: '…' }));
  head.append(button);
  wireMenuButton(button, () => menuItems(msg, ctx, who));
  return li;
}

/**
 * @typedef {{label: string, symbol?: string, key: string, danger?: boolean, run: () => void} | 'separator'} MenuItem
 */

/**
 * @param {Message} msg
 * @param {MessageContext} ctx
 * @param {string} who
 * @returns {MenuItem[]}
 */
function menuItems(msg, ctx, who) {
  /** @type {MenuItem[]} */
  const items = REACTIONS.map((r) => ({ label: r.label, symbol: r.symbol, key: `react-${r.key}`, run: () => ctx.onReact(msg, r.key) }));
  const { onReport, onRedact, onRemoveAuthor } = ctx;
  if (onReport || onRedact || onRemoveAuthor) items.push('separator');
  if (onReport) items.push({ label: 'Report to the facilitator…', key: 'report', run: () => onReport(msg) });
  if (onRedact) items.push({ label: 'Remove this message…', key: 'redact', run: () => onRedact(msg) });
  if (onRemoveAuthor) items.push({ label: `Remove ${who} from the session…`, key: 'remove-author', danger: true, run: () => onRemoveAuthor(msg) });
  return items;
}

/** The menu open now, if any: only one at a time. */
let openMenu = /** @type {{close: (focusButton: boolean) => void} | null} */ (null);

/**
 * Makes a button open a menu of `items()` below it.
 * @param {HTMLButtonElement} button
 * @param {() => MenuItem[]} items
 */
function wireMenuButton(button, items) {
  /** @param {'first' | 'last'} focus */
  const open = (focus) => {
    if (openMenu) openMenu.close(false);
    const menuId = `menu-of-${button.getAttribute('data-key')}`;
    /** @type {HTMLButtonElement[]} */
    const buttons = [];
    const list = h('ul', { class: 'msg-menu', role: 'menu', id: menuId, 'aria-label': button.getAttribute('aria-label') || 'Actions' });
    for (const item of items()) {
      if (item === 'separator') {
        list.append(h('li', { role: 'separator', class: 'menu-separator' }));
        continue;
      }
      const b = h('button', {
        type: 'button', role: 'menuitem', tabindex: '-1', class: `menu-item${item.danger ? ' danger-text' : ''}`, 'data-item': item.key,
      }, item.symbol ? [h('span', { class: 'menu-symbol', 'aria-hidden': 'true', text: item.symbol }), ' '] : null, item.label);
      b.addEventListener('click', () => {
        // Close first, so the focus is back on the "…" button before the
        // action opens a dialog (which returns focus there when it closes).
        close(true);
        item.run();
      });
      buttons.push(b);
      list.append(h('li', { role: 'none' }, b));
    }
    button.after(list);
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-controls', menuId);
    list.scrollIntoView({ block: 'nearest' });
    (focus === 'first' ? buttons[0] : buttons[buttons.length - 1])?.focus();

    /** @param {KeyboardEvent} ev */
    const onKey = (ev) => {
      const i = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      let j = -1;
      if (ev.key === 'ArrowDown') j = (i + 1) % buttons.length;
      else if (ev.key === 'ArrowUp') j = (i - 1 + buttons.length) % buttons.length;
      else if (ev.key === 'Home') j = 0;
      else if (ev.key === 'End') j = buttons.length - 1;
      else if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        close(true);
        return;
      } else if (ev.key === 'Tab') {
        close(false);
        return;
      }
      if (j >= 0) {
        ev.preventDefault();
        buttons[j].focus();
      }
    };
    /** @param {PointerEvent} ev */
    const onOutside = (ev) => {
      if (ev.target instanceof Node && (list.contains(ev.target) || button.contains(ev.target))) return;
      close(false);
    };
    /** @param {boolean} focusButton */
    function close(focusButton) {
      list.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onOutside, true);
      list.remove();
      button.setAttribute('aria-expanded', 'false');
      button.removeAttribute('aria-controls');
      if (openMenu === handle) openMenu = null;
      if (focusButton && button.isConnected) button.focus();
    }
    const handle = { close };
    openMenu = handle;
    list.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onOutside, true);
  };
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-expanded') === 'true') {
      if (openMenu) openMenu.close(true);
    } else {
      open('first');
    }
  });
  button.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      open(ev.key === 'ArrowDown' ? 'first' : 'last');
    }
  });
}

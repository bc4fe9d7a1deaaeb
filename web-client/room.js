//! The conversation: the room tabs, one log per room (messages appended
//! without redrawing the history), the composer with its drafts and the
//! reason it cannot send, and the report and take-down dialogs.

import { CommandError } from './connection.js';
import { composerBlock, nameOf } from './state.js';
import * as r from './render.js';
import { errorText } from './strings.js';
import { ask } from './ui.js';
import { pref } from './prefs.js';
import { command, notify, saveDrafts } from './page.js';

const { h, replace } = r;

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Message} Message
 * @typedef {import('./page.js').Page} Page
 */

/**
 * The composer: keeps a draft per room, says why it cannot send.
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
export function buildComposer(p) {
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
 * Makes sure there is one log list per room.
 * @param {Page} p
 */
export function ensureLogs(p) {
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
export function rebuildLogs(p) {
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
export function appendMessage(p, room, msg) {
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
export function updateMessage(p, msg) {
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
export function scrollToEnd(p, stick) {
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
export async function redactMessage(p, msgId) {
  const data = await ask({
    title: 'Remove this message?',
    ok: 'Remove the message',
    body: h('p', { text: 'Everyone will see “This message was removed by the facilitator” instead, and the text is deleted.' }),
  });
  if (data) await command(p, 'redact', { msg: msgId });
}


/** @param {Page} p */
export function renderTabs(p) {
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
export function switchRoom(p, room) {
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
export function renderComposer(p) {
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

//! The conversation part of the session screen: the lobby card before the
//! start, the room tabs, one log per room (new messages appended without
//! redrawing the history; older ones fetched with "Show earlier messages"),
//! the composer with its drafts and the reason it cannot send, and under it
//! the participant's actions (`actions.js`).

import { CommandError } from './connection.js';
import { applyHistory } from './state.js';
import { composerBlock } from './queries.js';
import { h, replace, whenWords } from './render.js';
import { message } from './message.js';
import { errorText, countdownWords } from './strings.js';
import { announce } from './ui.js';
import { pref } from './prefs.js';
import { command, refuse, saveDrafts } from './page.js';
import { reportMessage, redactMessage, removeParticipant } from './dialogs.js';
import { buildActions, renderActions } from './actions.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Message} Message
 * @typedef {import('./page.js').Page} Page
 */

/** Older messages asked for at a time. */
const EARLIER_PAGE = 50;

/**
 * The conversation part: built once, filled by `renderTalk`.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildTalk(p) {
  const el = p.el;
  el.lobby = h('section', { class: 'card lobby', id: 'lobby', 'aria-labelledby': 'lobby-title', hidden: true });
  el.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Rooms', id: 'room-tabs' });
  el.logs = h('div', { class: 'logs', role: 'tabpanel', id: 'room-panel', tabindex: '0' });
  el.pending = h('ul', { class: 'pending', 'aria-label': 'Messages waiting to be sent' });
  el.composer = buildComposer(p);
  el.conversation = h('div', { class: 'conversation' }, el.tabs, el.logs, el.pending, el.composer);
  return h('section', { class: 'panel panel-talk', id: 'panel-talk', 'aria-labelledby': 'room-heading' },
    h('h2', { class: 'visually-hidden', id: 'room-heading', tabindex: '-1', text: 'Conversation' }),
    el.lobby, el.conversation, buildActions(p));
}

/**
 * @param {Page} p
 */
export function renderTalk(p) {
  const model = /** @type {Model} */ (p.model);
  const lobby = model.session.phase === 'lobby' && model.you.role !== 'facilitator';
  p.el.lobby.hidden = !lobby;
  p.el.conversation.hidden = lobby;
  if (lobby) renderLobby(p);
  renderTabs(p);
  renderComposer(p);
  renderActions(p);
}

/** @param {Page} p */
function renderLobby(p) {
  const model = /** @type {Model} */ (p.model);
  const until = new Date(p.card.starts_at).getTime() - Date.now();
  const count = participantsHere(model);
  replace(p.el.lobby,
    h('h2', { id: 'lobby-title', text: `You're in, ${model.you.name}. Welcome.` }),
    h('p', { class: 'lobby-countdown' },
      Number.isNaN(until) ? 'The group starts soon.' : until > 0
        ? ['The group starts ', h('strong', { id: 'countdown', text: countdownWords(until) }), ` (${whenWords(p.card.starts_at)}).`]
        : ['The group will start ', h('strong', { id: 'countdown', text: 'as soon as the facilitator opens the circle' }), '.']),
    h('p', { text: 'This page will change by itself when the facilitator starts. There is nothing you need to do.' }),
    h('p', { class: 'muted', text: 'While you wait: get comfortable, perhaps a glass of water. You can reread the group agreement, or take a break at any time. Your place is kept.' }),
    h('p', { class: 'muted', text: count === 1 ? 'You are the first one here.' : `${count.toLocaleString()} people are here so far.` }),
  );
}

/**
 * How many participants (not facilitators) are here: those listed who are
 * not offline; in a large room, everyone counted but the facilitators (who
 * are always listed).
 * @param {Model} model
 * @returns {number}
 */
function participantsHere(model) {
  let facilitators = 0;
  let here = 0;
  for (const x of model.participants.values()) {
    if (x.role === 'facilitator') facilitators += 1;
    else if (x.presence !== 'offline') here += 1;
  }
  return model.roster.more ? Math.max(here, model.roster.total - facilitators) : here;
}

/**
 * The lobby's countdown, every second.
 * @param {Page} p
 */
export function tickTalk(p) {
  const el = document.getElementById('countdown');
  const until = new Date(p.card.starts_at).getTime() - Date.now();
  if (el && until > 0) el.textContent = countdownWords(until);
}

/**
 * The composer: keeps a draft per room, says why it cannot send.
 * @param {Page} p
 * @returns {HTMLFormElement}
 */
function buildComposer(p) {
  const text = h('textarea', {
    id: 'composer-text', name: 'text', rows: '2', maxlength: '2000',
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
  const send = h('button', { type: 'submit', class: 'primary', id: 'send', 'data-key': 'send', text: 'Send' });
  const label = h('label', { for: 'composer-text', id: 'composer-label', text: 'Your message' });
  const form = h('form', { class: 'composer', id: 'composer', 'aria-labelledby': 'composer-label' },
    label, text, reason, h('div', { class: 'row spread composer-foot' }, cwBox, count, send));

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
      refuse(p, block, 'send');
      return;
    }
    const body = text.value.trim();
    if (!body) {
      refuse(p, 'Write something first, then press Send.', 'send');
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
      refuse(p, errorText(e instanceof CommandError ? e.code : 'internal', e instanceof Error ? e.message : ''), 'send');
    });
  });
  return form;
}

/**
 * Makes sure there is one log list per room.
 * @param {Page} p
 */
function ensureLogs(p) {
  const model = /** @type {Model} */ (p.model);
  for (const [id, ol] of [...p.logs]) {
    if (!model.rooms.has(id)) {
      ol.remove();
      p.logs.delete(id);
    }
  }
  for (const room of model.rooms.values()) {
    if (!p.logs.has(room.id)) {
      const ol = h('ol', { class: 'log', 'aria-label': `Messages in ${room.name}`, 'data-room': room.id, hidden: room.id !== p.room });
      p.logs.set(room.id, ol);
      p.el.logs.append(ol);
    }
  }
}

/**
 * Rooms opened or closed: one log each, and back to the main room if ours closed.
 * @param {Page} p
 */
export function roomsChanged(p) {
  const model = /** @type {Model} */ (p.model);
  ensureLogs(p);
  if (!model.rooms.has(p.room)) switchRoom(p, 'main');
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
  const ctx = messageContext(p);
  for (const room of model.rooms.values()) {
    const ol = /** @type {HTMLOListElement} */ (p.logs.get(room.id));
    if (room.more) ol.append(earlierItem(p, room.id));
    const items = room.messages.map((m) => message(m, ctx));
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
 * "Show earlier messages", at the top of a room whose older messages the
 * welcome did not carry.
 * @param {Page} p
 * @param {string} roomId
 * @returns {HTMLLIElement}
 */
function earlierItem(p, roomId) {
  const key = `earlier-${roomId}`;
  return h('li', { class: 'log-earlier' }, h('button', {
    type: 'button', class: 'quiet small', 'data-key': key, text: p.earlierLoading.has(roomId) ? 'Loading earlier messages…' : 'Show earlier messages',
    onclick: () => { void loadEarlier(p, roomId, key); },
  }));
}

/**
 * @param {Page} p
 * @param {string} roomId
 * @param {string} key
 */
async function loadEarlier(p, roomId, key) {
  const model = p.model;
  const room = model && model.rooms.get(roomId);
  if (!room || p.earlierLoading.has(roomId)) return;
  const first = room.messages[0];
  if (!first) return;
  p.earlierLoading.add(roomId);
  /** The button now: the `history` frame replaces it before the ack comes. */
  const button = () => p.logs.get(roomId)?.querySelector('.log-earlier button');
  const before = button();
  if (before) before.textContent = 'Loading earlier messages…';
  await command(p, 'history', { room: roomId, before: first.id, limit: EARLIER_PAGE }, key);
  p.earlierLoading.delete(roomId);
  const after = button();
  if (after) after.textContent = 'Show earlier messages';
}

/**
 * A `history` frame: older messages go in front, keeping the reader's place.
 * @param {Page} p
 * @param {{room: string, messages: any[], more: boolean}} frame
 */
export function showHistory(p, frame) {
  const model = p.model;
  if (!model) return;
  const added = applyHistory(model, frame);
  const ol = p.logs.get(frame.room);
  const room = model.rooms.get(frame.room);
  if (!added || !ol || !room) return;
  const box = p.el.logs;
  const fromBottom = box.scrollHeight - box.scrollTop;
  const hadFocus = ol.querySelector('.log-earlier')?.contains(document.activeElement) ?? false;
  ol.querySelector('.log-earlier')?.remove();
  if (added.length) ol.querySelector('.log-empty')?.remove();
  const ctx = messageContext(p);
  const nodes = added.map((m) => message(m, ctx));
  ol.prepend(...nodes);
  if (room.more) ol.prepend(earlierItem(p, room.id));
  box.scrollTop = box.scrollHeight - fromBottom;
  announce(added.length ? `${added.length} earlier ${added.length === 1 ? 'message' : 'messages'} shown above.` : 'There are no earlier messages.');
  if (hadFocus) {
    const again = ol.querySelector('.log-earlier button');
    const target = again instanceof HTMLElement ? again : nodes[nodes.length - 1]?.querySelector('.msg-menu-button');
    if (target instanceof HTMLElement) target.focus();
    else p.el.logs.focus();
  }
}

/**
 * @param {Page} p
 * @returns {import('./message.js').MessageContext}
 */
function messageContext(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  return {
    model,
    revealNotes: pref('revealNotes', false),
    onReact: (msg, emoji) => { void command(p, 'react', { msg: msg.id, emoji }, `menu-${msg.id}`); },
    onReport: facilitator ? null : (msg) => { if (msg.from !== model.you.id) void reportMessage(p, msg); },
    onRedact: facilitator ? (msg) => { void redactMessage(p, msg.id, `menu-${msg.id}`); } : null,
    onRemoveAuthor: facilitator ? (msg) => {
      const q = model.participants.get(msg.from);
      if (q && q.role !== 'facilitator') void removeParticipant(p, q, `menu-${msg.id}`);
      else refuse(p, 'They are no longer in the session.', `menu-${msg.id}`);
    } : null,
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
  ol.append(message(msg, messageContext(p)));
  while (ol.querySelectorAll('.msg').length > 500) ol.querySelector('.msg')?.remove();
  if (room === p.room) scrollToEnd(p, stick);
}

/**
 * Redraws one message in place (reaction counts, removal), keeping focus.
 * @param {Page} p
 * @param {Message} msg
 */
export function updateMessage(p, msg) {
  const ol = p.logs.get(msg.room);
  const old = ol && ol.querySelector(`[data-msg="${CSS.escape(msg.id)}"]`);
  if (!old) return;
  const active = document.activeElement;
  const hadFocus = active !== null && old.contains(active);
  const key = hadFocus && active ? active.getAttribute('data-key') : null;
  const wasOpen = old.querySelector('.msg-cw button[aria-expanded="true"]') !== null;
  const next = message(msg, { ...messageContext(p), revealNotes: wasOpen || pref('revealNotes', false) });
  old.replaceWith(next);
  if (hadFocus) {
    const again = key ? next.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
    const target = again instanceof HTMLElement ? again : next.querySelector('button');
    if (target instanceof HTMLElement) target.focus();
    else p.el.logs.focus();
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

/**
 * The composer, when it can take words now.
 * @param {Page} p
 * @returns {HTMLTextAreaElement | null}
 */
export function composerIfOpen(p) {
  const model = p.model;
  const text = p.el.composer?.querySelector('textarea');
  if (!model || !(text instanceof HTMLTextAreaElement) || p.el.conversation.hidden) return null;
  return composerBlock(model, p.room) === null ? text : null;
}

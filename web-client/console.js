//! The facilitator's console: session controls (start, pause, lock, mute
//! everyone, end), mode and turn length, the stick, the queue (reordered by
//! buttons, Alt + arrows or dragging), the inbox of help requests and
//! reports, the balance view, announcements and side rooms.

import { nameOf, findMessage } from './state.js';
import * as r from './render.js';
import { MODES, ordinal } from './strings.js';
import { announce, ask } from './ui.js';
import { command, notify } from './page.js';
import { redactMessage } from './room.js';
import { openDm } from './people.js';

const { h, replace } = r;

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./page.js').Page} Page
 */

/**
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildConsole(p) {
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


/** @param {Page} p */
export function renderConsole(p) {
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
  const items = model.inbox.filter((i) => !p.dismissed.has(i.id));
  el.inboxCount.textContent = items.length ? `(${items.length})` : '';
  replace(el.inbox, items.length
    ? items.slice().reverse().map((item) => r.inboxItem(model, item, {
        onDm: (id) => openDm(p, id),
        onRedact: (msg) => { void redactMessage(p, msg); },
        onDismiss: (key) => { p.dismissed.add(key); renderConsole(p); },
        messageText: (id, room) => { const m = findMessage(model, id, room); return m ? (m.redacted ? '' : m.text) : null; },
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

//! The facilitator's console: the session (start, with the talking stick
//! by default; pause; close to new people; mute everyone; end), the stick
//! and the queue (give, take back, reorder by buttons, Alt + arrows or
//! dragging), the inbox of help requests and reports with "Mark as seen"
//! shared between co-facilitators, mode and turn length, the balance view,
//! announcements, side rooms and the facilitator's settings.
//!
//! Every control says what it will do, and is offered only when the server
//! would accept it; a refusal appears next to the control.
//!
//! However large the room, what it draws stays small: the queue shows its
//! first people (more on request), and the balance view those who have had
//! a turn with the others counted; both are drawn again only when what they
//! show changes.

import { findMessage } from './state.js';
import { nameOf, nextInLine, openHelpRequests, openReports, peopleCounts } from './queries.js';
import { h, replace, queueItem, inboxItem, balance, balanceRows } from './render.js';
import { MODES, ordinal } from './strings.js';
import { announce } from './ui.js';
import { command, refuse } from './page.js';
import { redactMessage, endSession } from './dialogs.js';
import { openDm, settings } from './people.js';
import { markSeen } from './cockpit.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./page.js').Page} Page
 */

/** Queue items drawn at first, and added by each "Show more of the queue". */
const QUEUE_SHOWN = 50;

/** Rows of the balance view at most. */
const BALANCE_ROWS = 60;

/** @type {WeakMap<Page, number>} how much of the queue each page shows */
const queueShown = new WeakMap();

/**
 * The console, built once.
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildConsole(p) {
  const el = p.el;
  el.sessionControls = h('div', { class: 'stack', id: 'session-controls' });
  el.modeForm = buildModeForm(p);
  el.stickControls = h('div', { class: 'stack', id: 'stick-controls' });
  el.queue = h('ol', { class: 'queue', id: 'queue', 'aria-label': 'Queue, in speaking order' });
  el.queueMore = h('button', {
    type: 'button', class: 'quiet small', id: 'queue-more', 'data-key': 'queue-more', hidden: true,
    onclick: () => {
      queueShown.set(p, (queueShown.get(p) || QUEUE_SHOWN) + QUEUE_SHOWN);
      renderConsole(p);
    },
  });
  el.inboxCount = h('span', { class: 'muted' });
  el.inbox = h('ul', { class: 'inbox', id: 'inbox' });
  el.balance = h('div', { id: 'balance' });
  el.roomList = h('ul', { class: 'plain', id: 'room-list' });
  el.settings = h('div', { id: 'console-settings' });

  wireQueueKeyboard(p, el.queue);
  wireQueuePointer(p, el.queue);

  const announceText = h('textarea', { id: 'announce-text', rows: '2', maxlength: '2000' });
  const announceForm = h('form', { class: 'stack', id: 'announce-form' },
    h('label', { for: 'announce-text', text: 'Announcement to everyone' }), announceText,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', 'data-key': 'announce', text: 'Announce' })));
  announceForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = announceText.value.trim();
    if (!text) return;
    announceText.value = '';
    if (!(await command(p, 'announce', { text }, 'announce'))) announceText.value = text;
  });

  const roomName = h('input', { id: 'room-name', type: 'text', maxlength: '40', autocomplete: 'off' });
  const roomForm = h('form', { class: 'stack', id: 'room-form' },
    h('label', { for: 'room-name', text: 'Open a side room' }),
    h('p', { class: 'hint', text: 'Side rooms are always open conversation, without the stick.' }),
    roomName,
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', 'data-key': 'room-open', text: 'Open room' })));
  roomForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = roomName.value.trim();
    if (!name) return;
    roomName.value = '';
    await command(p, 'room_open', { name }, 'room-open');
  });

  /**
   * @param {string} id
   * @param {import('./render.js').Child} title
   * @param {...import('./render.js').Child} body
   */
  const card = (id, title, ...body) => h('section', { class: 'card console-card', 'aria-labelledby': id },
    h('h3', { id, tabindex: '-1' }, title), ...body);

  return h('section', { class: 'panel panel-console console', 'aria-labelledby': 'console-heading', id: 'console' },
    h('h2', { id: 'console-heading', tabindex: '-1', text: 'Facilitator console' }),
    card('c-session', 'Session', el.sessionControls),
    card('c-stick', 'Stick and queue', el.stickControls,
      h('p', { class: 'hint', text: 'Reorder with the arrow buttons, Alt + Up or Down, or drag the handle.' }), el.queue, el.queueMore),
    card('c-inbox', ['Help requests and reports ', el.inboxCount],
      h('p', { class: 'hint', text: 'Checking in or removing the message marks an item as seen, for your co-facilitators too.' }), el.inbox),
    card('c-mode', 'Mode and turns', el.modeForm),
    card('c-balance', 'Balance', h('p', { class: 'hint', text: 'Turns and time with the stick, quietest first.' }), el.balance),
    card('c-announce', 'Announce', announceForm),
    card('c-rooms', 'Side rooms', roomForm, el.roomList),
    card('c-settings', 'Your settings', el.settings),
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
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'small', 'data-key': 'mode-apply', text: 'Apply' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const mode = String(data.get('mode') || '');
    const secs = Number(seconds.value);
    /** @type {Record<string, unknown>} */
    const fields = { mode };
    if (Number.isFinite(secs) && secs >= 30 && secs <= 900) fields.turn_seconds = Math.round(secs);
    else if (seconds.value) {
      refuse(p, 'A turn can be from 30 to 900 seconds long.', 'mode-apply');
      return;
    }
    if (await command(p, 'mode', fields, 'mode-apply')) announce(`Mode set to ${MODES[mode] ? MODES[mode].name : mode}.`);
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
  if (await command(p, 'move', { participant: id, to }, `up-${id}`)) {
    announce(`${nameOf(/** @type {Model} */ (p.model), id)} is now ${ordinal(to + 1)} in the queue.`);
  }
}


/** @param {Page} p */
export function renderConsole(p) {
  const model = /** @type {Model} */ (p.model);
  renderSessionControls(p);

  // Mode form: reflect the current mode unless the facilitator is editing it.
  const el = p.el;
  if (!el.modeForm.contains(document.activeElement)) {
    const radio = el.modeForm.querySelector(`input[value="${model.session.mode}"]`);
    if (radio instanceof HTMLInputElement) radio.checked = true;
    const secs = el.modeForm.querySelector('#turn-seconds');
    if (secs instanceof HTMLInputElement) secs.value = String(model.session.turn_seconds);
  }

  renderStick(p);

  // Queue: the first ones (a large room may have hundreds of hands up).
  const shown = Math.max(QUEUE_SHOWN, queueShown.get(p) || 0);
  replace(el.queue, model.queue.length
    ? model.queue.slice(0, shown).map((id, i) => queueItem(model, id, i, {
        onMove: (qid, to) => { void moveInQueue(p, qid, to); },
        onGive: (qid) => { void command(p, 'give', { participant: qid }, `qgive-${qid}`); },
        onLower: (qid) => { void command(p, 'lower', { participant: qid }, `lower-${qid}`); },
      }))
    : h('li', { class: 'muted', text: 'Nobody has raised a hand.' }));
  const rest = model.queue.length - shown;
  el.queueMore.hidden = rest <= 0;
  if (rest > 0) el.queueMore.textContent = `Show more of the queue (${rest.toLocaleString()} more waiting)`;

  // Inbox: open items first (newest first), then what someone has seen.
  const open = [...openHelpRequests(model), ...openReports(model)].sort((a, b) => b.at - a.at);
  const seen = model.inbox.filter((i) => i.seen_by !== null).sort((a, b) => b.at - a.at);
  el.inboxCount.textContent = open.length ? `(${open.length} open)` : '';
  replace(el.inbox, open.length || seen.length
    ? [...open, ...seen].map((item) => inboxItem(model, item, {
        onDm: (id) => {
          if (item.seen_by === null) void command(p, 'mark_seen', { item: item.id }, `inbox-dm-${item.id}`);
          openDm(p, id);
        },
        onRedact: (msg) => {
          void redactMessage(p, msg, `inbox-redact-${item.id}`).then((done) => {
            if (done && item.seen_by === null) void command(p, 'mark_seen', { item: item.id }, `inbox-redact-${item.id}`);
          });
        },
        onSeen: (i) => { void markSeen(p, i.id, `inbox-seen-${i.id}`); },
        messageText: (id, room) => { const m = findMessage(model, id, room); return m ? (m.redacted ? '' : m.text) : null; },
      }))
    : h('li', { class: 'muted', text: 'Nothing needs you right now.' }));

  renderBalance(p);

  // Side rooms
  const side = [...model.rooms.values()].filter((x) => x.id !== 'main');
  replace(el.roomList, side.map((x) => h('li', { class: 'row spread' },
    h('span', { text: x.name }),
    h('button', { type: 'button', class: 'quiet small', 'data-key': `close-${x.id}`, 'aria-label': `Close ${x.name}`, text: 'Close', onclick: () => { void command(p, 'room_close', { room: x.id }, `close-${x.id}`); } }))));

  replace(el.settings, settings(p));
}

/**
 * The live balance view, drawn again only when it would look different.
 * In a large room it counts the people listed so far, and says so.
 * @param {Page} p
 */
function renderBalance(p) {
  const model = /** @type {Model} */ (p.model);
  /** @type {import('./state.js').Participant[]} */
  const others = [];
  for (const x of model.participants.values()) if (x.role !== 'facilitator') others.push(x);
  const shown = balanceRows(others, BALANCE_ROWS);
  const c = peopleCounts(model);
  const partial = c.complete ? '' : `Counting the ${c.listed.toLocaleString()} people listed so far, of ${c.total.toLocaleString()}.`;
  const signature = `${partial}|${shown.quiet}|${shown.unshown}|${shown.rows.map((x) => `${x.name}:${x.turns}:${x.spoken_ms}`).join('|')}`;
  if (p.el.balance.dataset.signature === signature) return;
  p.el.balance.dataset.signature = signature;
  replace(p.el.balance, balance(shown), partial ? h('p', { class: 'hint', text: partial }) : null);
}

/**
 * Start (with the talking stick unless told otherwise), pause or resume,
 * close to new people, mute everyone, end.
 * @param {Page} p
 */
function renderSessionControls(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  /** @type {import('./render.js').Child[]} */
  const controls = [];
  if (s.phase === 'lobby') {
    const key = `peercircle.startWithStick.${p.card.group.id || ''}`;
    const withStick = h('input', { type: 'checkbox', id: 'start-stick', checked: localStorage.getItem(key) !== 'false' });
    withStick.addEventListener('change', () => localStorage.setItem(key, String(withStick.checked)));
    controls.push(
      h('button', {
        type: 'button', class: 'primary', id: 'start', 'data-key': 'start', text: 'Start the session',
        onclick: async () => {
          if (s.mode === 'open' && withStick.checked && !(await command(p, 'mode', { mode: 'stick' }, 'start'))) return;
          await command(p, 'start', {}, 'start');
        },
      }),
      s.mode === 'open'
        ? h('div', { class: 'check' }, withStick, h('label', { for: 'start-stick', text: 'Start with the talking stick: people raise a hand and take turns' }))
        : h('p', { class: 'hint', text: `It starts in ${MODES[s.mode] ? MODES[s.mode].name.toLowerCase() : s.mode} mode.` }));
  }
  if (s.phase === 'live') {
    const pauseNote = h('input', { id: 'pause-note', type: 'text', maxlength: '200', autocomplete: 'off', 'data-key': 'pause-note' });
    const prevNote = document.getElementById('pause-note');
    if (prevNote instanceof HTMLInputElement) pauseNote.value = prevNote.value;
    controls.push(h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'secondary', id: 'pause', 'data-key': 'pause', text: 'Pause the group',
        onclick: () => {
          const note = pauseNote.value.trim();
          /** @type {Record<string, unknown>} */
          const f = { on: true };
          if (note) f.note = note;
          void command(p, 'pause', f, 'pause').then((ok) => { if (ok) { pauseNote.value = ''; p.focusAfter('pause'); } });
        },
      })),
      h('div', { class: 'field' }, h('label', { for: 'pause-note', text: 'Note for the group when you pause (optional)' }), pauseNote));
  }
  if (s.phase === 'paused') {
    controls.push(h('div', { class: 'row' }, h('button', {
      type: 'button', class: 'primary', id: 'resume', 'data-key': 'resume', text: 'Resume the group',
      onclick: () => { void command(p, 'pause', { on: false }, 'resume').then((ok) => { if (ok) p.focusAfter('resume'); }); },
    })));
  }
  controls.push(h('div', { class: 'row' },
    h('button', {
      type: 'button', class: 'secondary', id: 'lock', 'data-key': 'lock', 'aria-pressed': String(s.locked),
      text: s.locked ? 'Open to new people' : 'Close to new people', onclick: () => { void command(p, 'lock', { on: !s.locked }, 'lock'); },
    }),
    h('button', { type: 'button', class: 'secondary', id: 'mute-all', 'data-key': 'mute-all', text: 'Mute everyone', onclick: () => { void command(p, 'mute_all', { on: true }, 'mute-all'); } }),
    h('button', { type: 'button', class: 'secondary', id: 'unmute-all', 'data-key': 'unmute-all', text: 'Unmute everyone', onclick: () => { void command(p, 'mute_all', { on: false }, 'unmute-all'); } })));
  if (s.phase !== 'ended') {
    controls.push(h('div', { class: 'row' }, h('button', { type: 'button', class: 'danger', id: 'end', 'data-key': 'end', text: 'End the session', onclick: () => { void endSession(p); } })));
  }
  replace(p.el.sessionControls, ...controls);
}

/**
 * Who holds the stick, and "Take the stick back" saying what will happen:
 * the turn ends, and by the handing-on rule the stick goes at once to the
 * next person in the queue who is here.
 * @param {Page} p
 */
function renderStick(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  const holder = model.stick.holder;
  if (s.mode === 'open') {
    replace(p.el.stickControls, h('p', { class: 'muted', text: 'Open conversation: there is no stick. Choose the talking stick under “Mode and turns” to take turns.' }));
    return;
  }
  const next = nextInLine(model);
  const ends = holder ? `${nameOf(model, holder)}'s turn ends now` : '';
  const after = next ? `the stick goes straight to ${nameOf(model, next)}, next in the queue` : 'nobody else is waiting here, so the stick stays free until someone raises a hand';
  replace(p.el.stickControls,
    h('p', null, holder ? [h('strong', { text: nameOf(model, holder) }), ' has the talking stick.'] : 'Nobody has the talking stick.'),
    s.phase !== 'live' ? h('p', { class: 'hint', text: s.phase === 'lobby' ? 'You can give the stick once the session has started.' : 'While the group is paused the stick waits: nobody is given it.' }) : null,
    holder ? h('div', null,
      h('button', {
        type: 'button', class: 'secondary', id: 'take-stick', 'data-key': 'take-stick', 'aria-describedby': 'take-stick-hint', text: 'Take the stick back',
        onclick: () => { void command(p, 'give', { participant: null }, 'take-stick').then((ok) => { if (ok) announce(`${ends}.`); }); },
      }),
      h('p', { class: 'hint', id: 'take-stick-hint', text: `${ends}, and ${s.phase === 'live' ? after : 'the stick waits until the group is live again'}.` })) : null);
}


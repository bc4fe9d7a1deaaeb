//! The session screen: connecting (with resume), building the screen's
//! skeleton once, moving the model on with each event and redrawing what
//! changed, the status line and turn clock, and the cues (sound, title,
//! spoken) when the stick comes to you. The parts of the screen live in
//! `room.js` (conversation), `people.js` (you, people, private thread) and
//! `console.js` (the facilitator's console).

import { Connection } from './connection.js';
import { applyEvent, fromWelcome, nameOf, queuePlace } from './state.js';
import * as r from './render.js';
import { errorText, PHASE_WORDS, ordinal, clock, countdownWords, warningWords } from './strings.js';
import { showScreen, announce, setBanner } from './ui.js';
import { baseTitle, showEnded, showRemoved } from './chrome.js';
import { pref } from './prefs.js';
import { softBeep } from './sound.js';
import { loadDrafts, notify } from './page.js';
import { buildComposer, rebuildLogs, appendMessage, updateMessage, ensureLogs, switchRoom, renderTabs, renderComposer } from './room.js';
import { buildDmForm, renderYou, renderYourTurn, renderPeople, renderDms } from './people.js';
import { buildConsole, renderConsole } from './console.js';

const { h, replace } = r;

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {import('./page.js').Page} Page
 * @typedef {import('./page.js').Exits} Exits
 */

/** @type {Page | null} */
let page = null;

/**
 * Connects to a session and builds the session screen.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string} token
 * @param {Exits} exits  where to go when the server refuses this token
 */
export function enterSession(sessionId, card, token, exits) {
  if (page) {
    page.conn.stop();
    if (page.ticker) clearInterval(page.ticker);
  }
  showScreen(h('section', { class: 'card narrow center' },
    h('h1', { text: 'Connecting you to the group…' }),
    h('p', { class: 'muted', text: 'This usually takes a moment.' })));
  /** @type {Page} */
  const p = {
    sessionId, card, model: null, room: 'main', logs: new Map(), unread: new Map(),
    drafts: loadDrafts(sessionId), dismissed: new Set(), dmWith: null, wasOnline: false, over: false, ticker: null, el: {}, exits,
    conn: /** @type {any} */ (null),
  };
  page = p;
  p.conn = new Connection(sessionId, token, {
    onWelcome: (w) => {
      const model = fromWelcome(w);
      const first = !p.model;
      const fresh = !w.resumed;
      if (first || fresh) {
        p.model = model;
        if (first) buildSession(p);
        rebuildLogs(p);
      } else if (p.model) {
        // A resume: our model is current up to last_seq, and the replayed
        // events follow. Only our own identity may have been refreshed.
        p.model.you = model.you;
      }
      renderAll(p);
    },
    onEvent: (e) => onEvent(p, e),
    onStatus: (status) => onStatus(p, status),
    onEnd: (reason) => onEnd(p, reason),
    onServerError: (e) => notify(p, errorText(e.code, e.message)),
  });
  p.conn.start();
}

/**
 * @param {Page} p
 * @param {import('./connection.js').LinkStatus} status
 */
function onStatus(p, status) {
  if (p.over) return;
  if (status === 'online') {
    setBanner(null);
    if (!p.wasOnline) p.wasOnline = true;
    else announce("You're connected again.");
    if (p.el.root) p.el.root.removeAttribute('aria-busy');
  } else if (status === 'reconnecting' && p.wasOnline) {
    const waiting = p.conn.pending;
    setBanner(`Reconnecting… Your place is kept${waiting ? `, and ${waiting === 1 ? 'your message' : `your ${waiting} messages`} will be sent when you're back` : ''}.`);
  } else if (status === 'reconnecting') {
    setBanner('Reconnecting… We keep trying; you don’t need to do anything.');
  }
}

/**
 * The server ended this page's part in the session.
 * @param {Page} p
 * @param {import('./connection.js').EndReason} reason
 */
function onEnd(p, reason) {
  p.over = true;
  setBanner(null);
  if (p.ticker) clearInterval(p.ticker);
  document.title = baseTitle();
  if (reason === 'removed') {
    p.exits.removed();
    showRemoved();
  } else if (reason === 'ended') {
    showEnded();
  } else {
    p.exits.unauthorized();
  }
}


/**
 * Builds the session screen's skeleton once; `renderAll` fills it in.
 * @param {Page} p
 */
function buildSession(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const el = p.el;

  // Status line
  el.status = h('p', { class: 'status-line', id: 'status-line' });
  el.clock = h('span', { class: 'turn-clock', role: 'timer', 'aria-live': 'off', id: 'turn-clock' });
  el.notice = h('p', { class: 'notice', role: 'status', hidden: true, id: 'notice' });
  el.announcement = h('div', { class: 'announcement', id: 'announcement', hidden: true });
  el.yourTurn = h('div', { class: 'your-turn', id: 'your-turn', hidden: true });

  // Lobby card (participants, before the start)
  el.lobby = h('section', { class: 'card lobby', id: 'lobby', 'aria-labelledby': 'lobby-title', hidden: true });

  // Rooms: tabs + one log per room + composer
  el.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Rooms', id: 'room-tabs' });
  el.logs = h('div', { class: 'logs', role: 'tabpanel', id: 'room-panel', tabindex: '0' });
  el.pending = h('ul', { class: 'pending', 'aria-label': 'Messages waiting to be sent' });
  el.composer = buildComposer(p);
  el.rooms = h('section', { class: 'room-area', 'aria-labelledby': 'room-heading' },
    h('h2', { class: 'visually-hidden', id: 'room-heading', text: 'Conversation' }),
    el.tabs, el.logs, el.pending, el.composer);

  // You: hand, pass, break, struggling, preferences
  el.you = h('section', { class: 'card you', 'aria-labelledby': 'you-heading', id: 'you' });

  // People
  el.peopleCount = h('span', { class: 'muted' });
  el.people = h('ul', { class: 'people', id: 'people' });
  const peopleCard = h('section', { class: 'card', 'aria-labelledby': 'people-heading' },
    h('h2', { id: 'people-heading' }, 'Who is here ', el.peopleCount), el.people);

  // Private thread
  el.dmList = h('ol', { class: 'log dm-log', 'aria-label': 'Private messages' });
  el.dmForm = buildDmForm(p);
  el.dmSelect = h('select', { id: 'dm-with', class: 'dm-with' });
  const dmCard = h('section', { class: 'card', 'aria-labelledby': 'dm-heading', id: 'private' },
    h('h2', { id: 'dm-heading', text: facilitator ? 'Private check-ins' : 'Private with the facilitator' }),
    facilitator
      ? h('div', { class: 'field' }, h('label', { for: 'dm-with', text: 'With' }), el.dmSelect)
      : h('p', { class: 'hint', text: 'Only you and the facilitators see this. Your facilitator may check in with you here, and you can answer. If you would like them to, press “I’m struggling”.' }),
    el.dmList, el.dmForm);
  el.dmSelect.addEventListener('change', () => {
    p.dmWith = /** @type {HTMLSelectElement} */ (el.dmSelect).value || null;
    renderDms(p);
  });

  el.console = facilitator ? buildConsole(p) : h('div', { hidden: true });

  el.root = h('div', { class: `session${facilitator ? ' is-facilitator' : ''}`, id: 'session', 'aria-busy': 'false' },
    h('h1', { class: 'visually-hidden', id: 'session-title', text: `${p.card.group.name}: session` }),
    h('div', { class: 'status' }, el.status, el.clock),
    el.notice, el.announcement, el.yourTurn,
    el.lobby,
    h('div', { class: 'columns' },
      el.rooms,
      h('div', { class: 'side' }, el.you, peopleCard, dmCard),
      facilitator ? el.console : null));

  showScreen(el.root);
  p.ticker = setInterval(() => tick(p), 1000);
}

/**
 * @param {Page} p
 * @param {import('./connection.js').EventFrame} e
 */
function onEvent(p, e) {
  const model = p.model;
  if (!model || p.over) return;
  const changes = applyEvent(model, e);
  let all = false;
  for (const c of changes) {
    switch (c.what) {
      case 'message': {
        appendMessage(p, c.room, c.msg);
        if (c.msg.from !== model.you.id) {
          if (c.room === p.room) announce(`${nameOf(model, c.msg.from)}: ${c.msg.cw ? `message with a content note: ${c.msg.cw}` : c.msg.text.slice(0, 300)}`);
          else {
            p.unread.set(c.room, (p.unread.get(c.room) || 0) + 1);
            const room = model.rooms.get(c.room);
            announce(`New message in ${room ? room.name : 'a side room'}.`);
            renderTabs(p);
          }
        }
        break;
      }
      case 'message-updated':
        updateMessage(p, c.msg);
        break;
      case 'stick': {
        const holder = model.stick.holder;
        if (holder === model.you.id && c.previousHolder !== holder) yourTurnCue(p);
        else if (holder && holder !== c.previousHolder) announce(`${nameOf(model, holder)} has the talking stick.`);
        else if (!holder && c.previousHolder === model.you.id) announce('Your turn has ended. Thank you.');
        all = true;
        break;
      }
      case 'turn-warning':
        if (model.stick.holder === model.you.id) announce(`${warningWords(c.seconds * 1000)} It's still your turn.`);
        all = true;
        break;
      case 'ending-soon':
        announce('The session will end in a few minutes.');
        all = true;
        break;
      case 'phase':
        announce(c.phase === 'paused' && c.note ? `${PHASE_WORDS.paused} ${c.note}` : (PHASE_WORDS[c.phase] || ''));
        if (c.phase === 'ended') {
          p.over = true;
          p.conn.stop();
          setBanner(null);
          if (p.ticker) clearInterval(p.ticker);
          showEnded();
          return;
        }
        all = true;
        break;
      case 'announced':
        announce(`Announcement from the facilitator: ${c.text}`);
        all = true;
        break;
      case 'dm':
        if (c.dm.from !== model.you.id) {
          announce(model.you.role === 'facilitator'
            ? `Private message from ${nameOf(model, c.dm.from)}.`
            : 'The facilitator sent you a private message.');
          if (model.you.role === 'facilitator' && !p.dmWith) p.dmWith = c.dm.from === model.you.id ? c.dm.to : c.dm.from;
        }
        renderDms(p);
        break;
      case 'inbox':
        announce(c.item.kind === 'help'
          ? `${nameOf(model, c.item.from)} pressed “I'm struggling”.`
          : `${nameOf(model, c.item.by)} reported a message.`);
        all = true;
        break;
      case 'left':
        if (c.participant === model.you.id) {
          p.over = true;
          p.conn.stop();
          setBanner(null);
          if (p.ticker) clearInterval(p.ticker);
          p.exits.removed();
          showRemoved();
          return;
        }
        all = true;
        break;
      case 'joined':
        if (model.you.role === 'facilitator') announce(`${c.participant.name} joined.`);
        all = true;
        break;
      case 'rooms':
        for (const id of [...p.logs.keys()]) if (!model.rooms.has(id)) { p.logs.get(id)?.remove(); p.logs.delete(id); }
        if (!model.rooms.has(p.room)) switchRoom(p, 'main');
        ensureLogs(p);
        all = true;
        break;
      case 'unknown':
        break;
      default:
        all = true;
    }
  }
  if (all) renderAll(p);
}

/**
 * The soft sound, the title and the spoken cue when the stick comes to you.
 * @param {Page} p
 */
function yourTurnCue(p) {
  announce("It's your turn. Write when you're ready, and press “I'm done” when you've finished.");
  if (!pref('turnCue', true)) return;
  document.title = `Your turn · ${baseTitle()}`;
  softBeep();
  void p;
}


/**
 * Everything except the logs, from the model.
 * @param {Page} p
 */
function renderAll(p) {
  const model = p.model;
  if (!model || p.over) return;
  const facilitator = model.you.role === 'facilitator';
  const s = model.session;
  p.el.root.dataset.phase = s.phase;
  const lobby = s.phase === 'lobby' && !facilitator;
  p.el.lobby.hidden = !lobby;
  p.el.rooms.hidden = lobby;
  if (lobby) renderLobby(p);
  renderStatus(p);
  renderAnnouncement(p);
  renderTabs(p);
  renderComposer(p);
  renderYou(p);
  renderPeople(p);
  renderDms(p);
  if (facilitator) renderConsole(p);
  if (model.stick.holder !== model.you.id && document.title !== baseTitle()) document.title = baseTitle();
}

/** @param {Page} p */
function renderLobby(p) {
  const model = /** @type {Model} */ (p.model);
  const starts = new Date(p.card.starts_at).getTime();
  const until = starts - Date.now();
  const count = [...model.participants.values()].filter((x) => x.role !== 'facilitator' && x.presence !== 'offline').length;
  replace(p.el.lobby,
    h('h2', { id: 'lobby-title', text: `You're in, ${model.you.name}. Welcome.` }),
    h('p', { class: 'lobby-countdown' },
      Number.isNaN(until) ? 'The group starts soon.' : until > 0
        ? ['The group starts ', h('strong', { id: 'countdown', text: countdownWords(until) }), ` (${r.whenWords(p.card.starts_at)}).`]
        : ['The group will start ', h('strong', { id: 'countdown', text: 'as soon as the facilitator opens the circle' }), '.']),
    h('p', { text: 'This page will change by itself when the facilitator starts. There is nothing you need to do.' }),
    h('p', { class: 'muted', text: 'While you wait: get comfortable, perhaps a glass of water. You can reread the group agreement, or take a break at any time. Your place is kept.' }),
    h('p', { class: 'muted', text: count === 1 ? 'You are the first one here.' : `${count} people are here so far.` }),
  );
}

/** @param {Page} p */
function renderStatus(p) {
  const model = /** @type {Model} */ (p.model);
  const s = model.session;
  /** @type {r.Child[]} */
  const parts = [];
  if (s.phase === 'lobby') parts.push(h('span', { class: 'pill', text: 'Not started yet' }));
  else if (s.phase === 'paused') parts.push(h('span', { class: 'pill pill-paused', text: s.reason === 'no_facilitator' ? 'Paused until the facilitator is back' : 'Paused' }));
  else if (s.phase === 'live') parts.push(h('span', { class: 'pill pill-live', text: 'In session' }));
  parts.push(h('span', { class: 'pill', text: r.modeName(s.mode) }));
  if (s.locked) parts.push(h('span', { class: 'pill', text: 'Closed to new people' }));
  if (s.mode !== 'open') {
    const holder = model.stick.holder;
    parts.push(h('span', { class: 'status-stick' }, holder
      ? (holder === model.you.id ? h('strong', { text: 'You have the talking stick' }) : [h('strong', { text: nameOf(model, holder) }), ' has the talking stick'])
      : 'Nobody has the talking stick'));
    const place = queuePlace(model, model.you.id);
    if (place) parts.push(h('span', { class: 'status-place', text: `You are ${ordinal(place)} in the queue` }));
  }
  if (s.phase === 'paused' && s.note) parts.push(h('span', { class: 'status-note' }, 'Note: ', h('span', { text: s.note })));
  if (s.ending_soon) parts.push(h('span', { class: 'pill', text: 'Ending soon' }));
  replace(p.el.status, ...parts);
  renderClock(p);
}

/**
 * The turn clock, updated every second by the ticker.
 * @param {Page} p
 */
function renderClock(p) {
  const model = p.model;
  if (!model) return;
  const st = model.stick;
  const c = p.el.clock;
  if (!st.holder || model.session.mode === 'open') {
    c.textContent = '';
    c.hidden = true;
    c.classList.remove('clock-warning');
    return;
  }
  c.hidden = false;
  const left = st.ends_at !== null ? st.ends_at - Date.now() : st.remaining_ms;
  if (left === null) {
    c.textContent = '';
    return;
  }
  const warning = st.warned || (model.session.warning_ms !== null && left <= model.session.warning_ms);
  c.classList.toggle('clock-warning', warning);
  const paused = st.ends_at === null;
  c.textContent = `${clock(left)} left in this turn${paused ? ' (paused)' : ''}${warning ? ' · nearly time' : ''}`;
}

/** @param {Page} p */
function tick(p) {
  if (!p.model || p.over) return;
  renderClock(p);
  if (p.model.session.phase === 'lobby' && p.model.you.role !== 'facilitator') {
    const el = document.getElementById('countdown');
    const until = new Date(p.card.starts_at).getTime() - Date.now();
    if (el && until > 0) el.textContent = countdownWords(until);
  }
  if (p.model.stick.holder === p.model.you.id) renderYourTurn(p);
}

/** @param {Page} p */
function renderAnnouncement(p) {
  const model = /** @type {Model} */ (p.model);
  const last = model.announcements[model.announcements.length - 1];
  const box = p.el.announcement;
  if (!last || box.dataset.dismissed === String(last.at)) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  replace(box,
    h('p', null, h('strong', { text: 'From the facilitator: ' }), h('span', { text: last.text })),
    h('button', { type: 'button', class: 'quiet small', text: 'Dismiss', onclick: () => { box.dataset.dismissed = String(last.at); box.hidden = true; } }));
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && page && page.model && page.model.stick.holder !== page.model.you.id) document.title = baseTitle();
});

//! The session screen: connecting (with resume), building the screen once,
//! moving the model on with each event and redrawing what changed, the cues
//! (spoken, sound, title) that go with an event, and where keyboard focus
//! goes when what had it disappears. The parts of the screen live in
//! `cockpit.js` (always in view), `room.js` (conversation), `people.js`
//! (people, private thread, me), `console.js` (the facilitator's console)
//! and `panels.js` (one part at a time on a phone).

import { Connection } from './connection.js';
import { applyEvent, fromWelcome } from './state.js';
import { nameOf } from './queries.js';
import { h, onFocusLost } from './render.js';
import { errorText, PHASE_WORDS, warningWords } from './strings.js';
import { showScreen, announce, setBanner } from './ui.js';
import { baseTitle } from './chrome.js';
import { loadDrafts, notify, placeRefusals } from './page.js';
import { buildCockpit, renderCockpit, tickCockpit, renderTitle, helpCue, turnCue } from './cockpit.js';
import { buildTalk, renderTalk, tickTalk, rebuildLogs, appendMessage, updateMessage, roomsChanged, showHistory, composerIfOpen } from './room.js';
import { buildPeople, renderPeople, buildPrivate, renderPrivate, buildMe, renderMe, peoplePage } from './people.js';
import { buildConsole, renderConsole } from './console.js';
import { renderYourTurn } from './actions.js';
import { buildTabbar, renderTabbar, panelVisible, markDmsRead, isPhone } from './panels.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Change} Change
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {import('./page.js').Page} Page
 * @typedef {import('./page.js').Exits} Exits
 */

/** @type {Page | null} */
let page = null;

/** How long a "focus this once it appears" wish waits. */
const PENDING_FOCUS_MS = 4000;

/**
 * Connects to a session and builds the session screen.
 * @param {string} sessionId
 * @param {SessionCard} card
 * @param {string} token
 * @param {Exits} exits  where to go when the server ends this page's part
 */
export function enterSession(sessionId, card, token, exits) {
  if (page) {
    page.conn.stop();
    if (page.ticker) clearInterval(page.ticker);
  }
  showScreen(h('section', { class: 'card narrow center' },
    h('h1', { text: 'Connecting you to the group…' }),
    h('p', { class: 'muted', text: 'This usually takes a moment.' })));
  /** @type {{what: string, until: number} | null} */
  let pendingFocus = null;
  /** @type {Page} */
  const p = {
    sessionId, card, model: null, exits, room: 'main', panel: 'talk', logs: new Map(), unread: new Map(),
    drafts: loadDrafts(sessionId), dmWith: null, readDms: new Set(), earlierLoading: new Set(), refusals: new Map(),
    helpShown: '', wasOnline: false, over: false, ticker: null, el: {},
    peopleList: null, peopleAsking: new Set(), peopleLoading: null, peopleRetryAt: 0,
    conn: /** @type {any} */ (null),
    rerender: () => renderAll(p),
    focusAfter: (what) => {
      pendingFocus = { what, until: Date.now() + PENDING_FOCUS_MS };
      applyPendingFocus();
    },
  };
  /** Moves focus to where the last action should leave it, once it exists. */
  function applyPendingFocus() {
    if (!pendingFocus) return;
    if (Date.now() > pendingFocus.until) {
      pendingFocus = null;
      return;
    }
    const target = focusTargetAfter(p, pendingFocus.what);
    if (target) {
      pendingFocus = null;
      target.focus();
    }
  }
  p.afterRender = applyPendingFocus;
  page = p;
  p.conn = new Connection(sessionId, token, {
    onWelcome: (w) => {
      const first = !p.model;
      if (first || !w.resumed) {
        p.model = fromWelcome(w);
        if (first) buildSession(p);
        rebuildLogs(p);
      }
      // A resume: our model is current up to last_seq, and the replayed
      // events follow.
      renderAll(p);
    },
    onEvent: (e) => onEvent(p, e),
    onHistory: (f) => showHistory(p, f),
    onPeople: (f) => peoplePage(p, f),
    onStatus: (status) => onStatus(p, status),
    onEnd: (reason) => finish(p, reason),
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
 * This page's part in the session is over.
 * @param {Page} p
 * @param {import('./connection.js').EndReason} reason
 */
function finish(p, reason) {
  if (p.over) return;
  p.over = true;
  p.conn.stop();
  setBanner(null);
  if (p.ticker) clearInterval(p.ticker);
  document.title = baseTitle();
  if (reason === 'removed') p.exits.removed();
  else if (reason === 'ended') p.exits.ended();
  else p.exits.unauthorized();
}

/**
 * Builds the session screen's skeleton once; `renderAll` fills it in.
 * @param {Page} p
 */
function buildSession(p) {
  const model = /** @type {Model} */ (p.model);
  const facilitator = model.you.role === 'facilitator';
  const el = p.el;
  // A facilitator arriving before the start is most likely there to start.
  if (facilitator && model.session.phase === 'lobby') p.panel = 'console';
  const cockpit = buildCockpit(p);
  el['panel-talk'] = buildTalk(p);
  el['panel-people'] = buildPeople(p);
  el['panel-private'] = buildPrivate(p);
  el['panel-me'] = facilitator ? h('div', { hidden: true }) : buildMe(p);
  el['panel-console'] = facilitator ? buildConsole(p) : h('div', { hidden: true });
  el.tabbar = buildTabbar(p, facilitator);
  el.root = h('div', { class: `session${facilitator ? ' is-facilitator' : ''}`, id: 'session', 'aria-busy': 'false', 'data-panel': p.panel },
    h('h1', { class: 'visually-hidden', id: 'session-title', tabindex: '-1', text: `${p.card.group.name}: session` }),
    cockpit,
    h('div', { class: 'panels' },
      el['panel-talk'],
      h('div', { class: 'side' }, facilitator ? null : el['panel-me'], el['panel-people'], el['panel-private']),
      facilitator ? el['panel-console'] : null),
    el.tabbar);
  showScreen(el.root);
  document.body.classList.add('in-session');
  onFocusLost((where) => focusFallback(p, where));
  p.ticker = setInterval(() => tick(p), 1000);
}

/**
 * Where focus goes when a redraw removed what had it: the composer when it
 * can take words, else the heading of the part it was in, else the status
 * bar. Never `<body>`.
 * @param {Page} p
 * @param {Element} where
 */
function focusFallback(p, where) {
  if (p.over || !p.el.root || !p.el.root.contains(where)) return;
  const inCockpit = where.closest('.cockpit') !== null;
  const composer = composerIfOpen(p);
  if (inCockpit && composer && panelVisible(p, 'talk')) {
    composer.focus();
    return;
  }
  const panel = inCockpit ? null : where.closest('.panel');
  const heading = panel && panel.querySelector('h2[tabindex="-1"]');
  if (heading instanceof HTMLElement && !heading.closest('[hidden]')) heading.focus();
  else p.el.statusBar.focus();
}

/**
 * The control that makes sense after an action, once the screen shows it.
 * @param {Page} p
 * @param {string} what
 * @returns {HTMLElement | null}
 */
function focusTargetAfter(p, what) {
  const model = p.model;
  if (!model) return null;
  const byId = (/** @type {string} */ id) => {
    const el = document.getElementById(id);
    return el instanceof HTMLElement && !el.closest('[hidden]') && !(el instanceof HTMLButtonElement && el.disabled) ? el : null;
  };
  switch (what) {
    case 'done': return model.stick.holder === model.you.id ? null : byId('hand') || composerIfOpen(p);
    case 'back': {
      const me = model.participants.get(model.you.id);
      if (me && me.presence === 'break') return null;
      return model.stick.holder === model.you.id ? composerIfOpen(p) : byId('hand');
    }
    case 'take-break': return byId('back');
    case 'pause': return byId('resume');
    case 'resume': return byId('pause');
    default: return null;
  }
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
    if (c.what === 'message') {
      appendMessage(p, c.room, c.msg);
      if (c.msg.from === model.you.id) continue;
      if (c.room === p.room) {
        announce(`${nameOf(model, c.msg.from)}: ${c.msg.cw ? `message with a content note: ${c.msg.cw}` : c.msg.text.slice(0, 300)}`);
      } else {
        p.unread.set(c.room, (p.unread.get(c.room) || 0) + 1);
        const room = model.rooms.get(c.room);
        announce(`New message in ${room ? room.name : 'a side room'}.`);
        all = true;
      }
    } else if (c.what === 'message-updated') {
      updateMessage(p, c.msg);
    } else if (c.what === 'unknown') {
      // The protocol may add kinds; this page has nothing to show for it.
    } else if (c.what === 'phase' && c.phase === 'ended') {
      announce(PHASE_WORDS.ended);
      finish(p, 'ended');
      return;
    } else if (c.what === 'left' && c.participant === model.you.id) {
      finish(p, 'removed');
      return;
    } else {
      cue(p, c);
      all = true;
    }
  }
  if (!all) return;
  // A large room's batches of arrivals and presence come ten times a second
  // (and by the hundred when a resume replays them): they are drawn once
  // per frame, and not at all while the tab is hidden.
  if (changes.every((c) => c.what === 'people')) renderSoon(p);
  else renderAll(p);
}

/** @type {WeakSet<Page>} pages with a redraw waiting for the next frame */
const redrawing = new WeakSet();

/**
 * Redraws on the next frame (once however many ask).
 * @param {Page} p
 */
function renderSoon(p) {
  if (redrawing.has(p)) return;
  redrawing.add(p);
  requestAnimationFrame(() => {
    redrawing.delete(p);
    renderAll(p);
  });
}

/**
 * What a change says out loud (politely), or plays, beyond the redraw.
 * @param {Page} p
 * @param {Change} c
 */
function cue(p, c) {
  const model = /** @type {Model} */ (p.model);
  const me = model.you.id;
  const facilitator = model.you.role === 'facilitator';
  switch (c.what) {
    case 'stick': {
      const holder = model.stick.holder;
      if (holder === me && c.previousHolder !== holder) {
        announce("It's your turn. Write when you're ready, and press “I'm done” when you've finished.");
        turnCue(p);
        const composer = composerIfOpen(p);
        const active = document.activeElement;
        const typingElsewhere = (active instanceof HTMLTextAreaElement || active instanceof HTMLInputElement) && active !== composer;
        if (composer && panelVisible(p, 'talk') && !typingElsewhere) composer.focus();
      } else if (holder && holder !== c.previousHolder) announce(`${nameOf(model, holder)} has the talking stick.`);
      else if (!holder && c.previousHolder === me) announce('Your turn has ended. Thank you.');
      break;
    }
    case 'turn-warning':
      if (model.stick.holder === me) announce(`${warningWords(c.seconds * 1000)} It's still your turn.`);
      break;
    case 'ending-soon':
      announce('The session will end in a few minutes.');
      break;
    case 'phase':
      if (c.phase === 'paused') announce(c.note ? `${PHASE_WORDS.paused} ${c.note}` : c.reason === 'no_facilitator' ? 'The group is paused until the facilitator is back.' : PHASE_WORDS.paused);
      else if (c.phase === 'live') announce(c.previous === 'paused' ? PHASE_WORDS.resumed : PHASE_WORDS.live);
      break;
    case 'mode':
      if (c.roundOver) announce('The round is over. Back to the talking stick: raise your hand when you would like a turn.');
      break;
    case 'muted':
      if (c.participant === me) announce(c.on ? 'The facilitator has muted you for now. You can still read along and react.' : 'You can write again.');
      break;
    case 'announced':
      announce(`Announcement from the facilitator: ${c.text}`);
      break;
    case 'dm':
      if (c.dm.from === me) break;
      if (facilitator) {
        announce(`Private message from ${nameOf(model, c.dm.from)}.`);
        if (!p.dmWith) p.dmWith = c.dm.from;
        if (isPhone() && p.panel === 'private') markDmsRead(p);
      } else if (isPhone() && p.panel === 'private') {
        // On a phone showing the thread it is read at once; otherwise the
        // banner (a polite live region) says it, so it is not said twice.
        markDmsRead(p);
        announce('The facilitator wrote to you privately.');
      }
      break;
    case 'inbox':
      // A help request is announced by its banner (role="alert"), once.
      if (c.item.kind === 'help') helpCue(p);
      else announce(`${nameOf(model, c.item.by)} reported a message.`);
      break;
    case 'seen':
      if (c.item.seen_by !== me) announce(`${nameOf(model, c.item.seen_by)} has seen ${c.item.kind === 'help' ? `${nameOf(model, c.item.from)}'s request for help` : 'a report'}.`);
      break;
    case 'joined':
      if (facilitator) announce(`${c.participant.name} joined.`);
      break;
    case 'rooms':
      roomsChanged(p);
      break;
    default:
      break;
  }
}

/**
 * Everything except the logs, from the model.
 * @param {Page} p
 */
function renderAll(p) {
  const model = p.model;
  if (!model || p.over) return;
  const facilitator = model.you.role === 'facilitator';
  p.el.root.dataset.phase = model.session.phase;
  renderCockpit(p);
  renderTalk(p);
  renderPeople(p);
  renderPrivate(p);
  if (facilitator) renderConsole(p);
  else renderMe(p);
  renderTabbar(p);
  renderTitle(p);
  placeRefusals(p);
  if (p.afterRender) p.afterRender();
}

/** @param {Page} p */
function tick(p) {
  if (!p.model || p.over) return;
  tickCockpit(p);
  if (p.model.stick.holder === p.model.you.id) renderYourTurn(p);
  if (p.model.session.phase === 'lobby' && p.model.you.role !== 'facilitator') tickTalk(p);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden || !page || !page.model || page.over) return;
  // Coming back to the tab: what is on screen is read, and the title says so.
  if (isPhone() && page.panel === 'private') markDmsRead(page);
  page.rerender();
});

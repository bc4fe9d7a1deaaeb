//! The client's copy of one session: built from the `welcome` snapshot and
//! moved on by each event, in order. Pure: no DOM, no network, no clock
//! reads (the event's own `at` is the time).
//!
//! `applyEvent` is one `switch` on the event kind. Kinds it does not know are
//! logged and ignored, never thrown on: the protocol may add kinds.
//! It reports what changed so the page can redraw just that, and append new
//! messages to the log without redrawing the history.

/**
 * @typedef {'lobby' | 'live' | 'paused' | 'ended'} Phase
 * @typedef {'open' | 'stick' | 'round'} Mode
 * @typedef {{id: string, name: string, role: string, presence: string, muted: boolean, turns: number, spoken_ms: number, hand: boolean, break_note: string | null}} Participant
 * @typedef {{id: string, room: string, from: string, text: string, cw: string | null, at: number, reactions: Record<string, number>, redacted: boolean}} Message
 * @typedef {{id: string, name: string, messages: Message[], closed: boolean}} Room
 * @typedef {{id: string, from: string, to: string, text: string, at: number}} Dm
 * @typedef {{holder: string | null, ends_at: number | null, turn: number | null, remaining_ms: number | null, warned: boolean}} Stick
 * @typedef {{phase: Phase, mode: Mode, locked: boolean, turn_seconds: number, ends_at: number | null, note: string | null, reason: string | null, ending_soon: boolean}} SessionInfo
 * @typedef {{kind: 'help', key: string, from: string, note: string, at: number} | {kind: 'report', key: string, msg: string, by: string, reason: string, from: string, room: string, at: number}} InboxItem
 * @typedef {{text: string, at: number}} Announcement
 *
 * @typedef {object} Model
 * @property {{id: string, name: string, role: string}} you
 * @property {SessionInfo} session
 * @property {Map<string, Participant>} participants  in joining order
 * @property {string[]} queue
 * @property {Stick} stick
 * @property {Map<string, Room>} rooms  `main` first
 * @property {Dm[]} dms
 * @property {InboxItem[]} inbox
 * @property {Announcement[]} announcements
 */

/**
 * What an event changed, for the page to redraw.
 * @typedef {{what: 'message', room: string, msg: Message}
 *   | {what: 'message-updated', room: string, msg: Message}
 *   | {what: 'session'} | {what: 'people'} | {what: 'queue'} | {what: 'stick', previousHolder: string | null}
 *   | {what: 'turn-warning'} | {what: 'ending-soon'}
 *   | {what: 'rooms'} | {what: 'dm', dm: Dm} | {what: 'inbox', item: InboxItem}
 *   | {what: 'announced', text: string} | {what: 'left', participant: string, reason: string}
 *   | {what: 'phase', phase: Phase, note: string | null}
 *   | {what: 'joined', participant: Participant}
 *   | {what: 'unknown', kind: string}} Change
 */

import { ordinal } from './strings.js';

const REACTION_KEYS = ['heart', 'clap', 'hug', 'thanks', 'me_too'];

/**
 * @param {any} v
 * @returns {string}
 */
const str = (v) => (typeof v === 'string' ? v : v == null ? '' : String(v));

/**
 * @param {any} v
 * @param {number} fallback
 * @returns {number}
 */
const num = (v, fallback) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/**
 * @param {any} p
 * @returns {Participant}
 */
function toParticipant(p) {
  return {
    id: str(p.id),
    name: str(p.name),
    role: str(p.role) || 'participant',
    presence: str(p.presence) || 'online',
    muted: Boolean(p.muted),
    turns: num(p.turns, 0),
    spoken_ms: num(p.spoken_ms, 0),
    hand: Boolean(p.hand),
    break_note: p.break_note ? str(p.break_note) : null,
  };
}

/**
 * @param {any} m
 * @param {string} room
 * @param {number} at
 * @returns {Message}
 */
export function toMessage(m, room, at) {
  /** @type {Record<string, number>} */
  const reactions = {};
  if (m.reactions && typeof m.reactions === 'object') {
    for (const k of REACTION_KEYS) {
      const n = num(m.reactions[k], 0);
      if (n > 0) reactions[k] = n;
    }
  }
  return {
    id: str(m.id),
    room: str(m.room) || room,
    from: str(m.from),
    text: m.text == null ? '' : str(m.text),
    cw: m.cw ? str(m.cw) : null,
    at: num(m.at, at),
    reactions,
    redacted: Boolean(m.redacted),
  };
}

/**
 * @param {any} s
 * @returns {Stick}
 */
function toStick(s) {
  s = s || {};
  return {
    holder: s.holder ? str(s.holder) : null,
    ends_at: typeof s.ends_at === 'number' ? s.ends_at : null,
    turn: typeof s.turn === 'number' ? s.turn : null,
    remaining_ms: typeof s.remaining_ms === 'number' ? s.remaining_ms : null,
    warned: false,
  };
}

/**
 * A facilitator's inbox item from a `reported` / `help_requested` event or
 * from the snapshot's `inbox` (`{kind, at, …the event's fields}`). The key
 * is made from the content, so the same item is recognised in both.
 * @param {string} kind
 * @param {any} v
 * @param {number} at
 * @returns {InboxItem | null}
 */
function toInboxItem(kind, v, at) {
  if (kind === 'reported') {
    const msg = idOf(v.msg);
    const by = idOf(v.by);
    return { kind: 'report', key: `r-${at}-${msg}-${by}`, msg, by, reason: str(v.reason), from: idOf(v.from), room: str(v.room) || 'main', at };
  }
  if (kind === 'help_requested') {
    const from = idOf(v.from);
    return { kind: 'help', key: `h-${at}-${from}`, from, note: str(v.note), at };
  }
  return null;
}

/**
 * Builds the model from a `welcome` frame.
 * @param {{you: {id: string, name: string, role: string}, state: any}} welcome
 * @returns {Model}
 */
export function fromWelcome(welcome) {
  const st = welcome.state || {};
  const s = st.session || {};
  /** @type {Map<string, Participant>} */
  const participants = new Map();
  for (const p of Array.isArray(st.participants) ? st.participants : []) {
    const q = toParticipant(p);
    participants.set(q.id, q);
  }
  /** @type {Map<string, Room>} */
  const rooms = new Map();
  rooms.set('main', { id: 'main', name: 'Main circle', messages: [], closed: false });
  for (const r of Array.isArray(st.rooms) ? st.rooms : []) {
    const id = str(r.id);
    const room = { id, name: str(r.name) || (id === 'main' ? 'Main circle' : id), messages: /** @type {Message[]} */ ([]), closed: false };
    for (const m of Array.isArray(r.messages) ? r.messages : []) room.messages.push(toMessage(m, id, 0));
    rooms.set(id, room);
  }
  const queue = Array.isArray(st.queue) ? st.queue.map(str) : [];
  for (const p of participants.values()) p.hand = p.hand || queue.includes(p.id);
  return {
    you: { id: str(welcome.you.id), name: str(welcome.you.name), role: str(welcome.you.role) },
    session: {
      phase: /** @type {Phase} */ (str(s.phase) || 'lobby'),
      mode: /** @type {Mode} */ (str(s.mode) || 'open'),
      locked: Boolean(s.locked),
      turn_seconds: num(s.turn_seconds, 180),
      ends_at: typeof s.ends_at === 'number' ? s.ends_at : null,
      note: s.note ? str(s.note) : null,
      reason: s.reason ? str(s.reason) : null,
      ending_soon: false,
    },
    participants,
    queue,
    stick: toStick(st.stick),
    rooms,
    dms: (Array.isArray(st.dms) ? st.dms : []).map((/** @type {any} */ d) => ({
      id: str(d.id), from: str(d.from), to: str(d.to), text: str(d.text), at: num(d.at, 0),
    })),
    inbox: (Array.isArray(st.inbox) ? st.inbox : [])
      .map((/** @type {any} */ i) => toInboxItem(str(i.kind), i, num(i.at, 0)))
      .filter((/** @type {InboxItem | null} */ i) => i !== null),
    announcements: (Array.isArray(st.announcements) ? st.announcements : []).map((/** @type {any} */ a) => ({
      text: str(a.text), at: num(a.at, 0),
    })),
  };
}

/**
 * Finds a message by id, in the named room first.
 * @param {Model} model
 * @param {string} id
 * @param {string} [room]
 * @returns {Message | null}
 */
export function findMessage(model, id, room) {
  if (room) {
    const r = model.rooms.get(room);
    const m = r && r.messages.find((x) => x.id === id);
    if (m) return m;
  }
  for (const r of model.rooms.values()) {
    const m = r.messages.find((x) => x.id === id);
    if (m) return m;
  }
  return null;
}

/**
 * Gets or creates the participant with this id (an event may name someone
 * the snapshot did not yet know).
 * @param {Model} model
 * @param {string} id
 * @returns {Participant}
 */
function person(model, id) {
  let p = model.participants.get(id);
  if (!p) {
    p = toParticipant({ id, name: 'Someone' });
    model.participants.set(id, p);
  }
  return p;
}

/**
 * The id a field names, whether it carries an id or a whole participant.
 * @param {any} v
 * @returns {string}
 */
function idOf(v) {
  if (v && typeof v === 'object') return str(v.id);
  return str(v);
}

const MAX_MESSAGES_PER_ROOM = 500;

/**
 * Moves the model on by one event.
 * @param {Model} model
 * @param {{kind: string, at: number, seq: number, [field: string]: any}} ev
 * @returns {Change[]}
 */
export function applyEvent(model, ev) {
  const at = num(ev.at, Date.now());
  switch (ev.kind) {
    case 'said': {
      const roomId = str(ev.room || (ev.msg && ev.msg.room) || 'main');
      let room = model.rooms.get(roomId);
      if (!room) {
        room = { id: roomId, name: roomId, messages: [], closed: false };
        model.rooms.set(roomId, room);
      }
      const msg = toMessage(ev.msg || {}, roomId, at);
      if (room.messages.some((m) => m.id === msg.id)) return [];
      room.messages.push(msg);
      if (room.messages.length > MAX_MESSAGES_PER_ROOM) room.messages.shift();
      return [{ what: 'message', room: roomId, msg }];
    }
    case 'reacted': {
      const msg = findMessage(model, idOf(ev.msg), ev.room ? str(ev.room) : undefined);
      if (!msg) return [];
      if (ev.reactions && typeof ev.reactions === 'object') {
        msg.reactions = toMessage({ reactions: ev.reactions }, msg.room, at).reactions;
      } else {
        const key = str(ev.emoji);
        if (!REACTION_KEYS.includes(key)) return [];
        msg.reactions[key] = typeof ev.count === 'number' ? ev.count : (msg.reactions[key] || 0) + 1;
      }
      return [{ what: 'message-updated', room: msg.room, msg }];
    }
    case 'redacted': {
      const msg = findMessage(model, idOf(ev.msg), ev.room ? str(ev.room) : undefined);
      if (!msg) return [];
      msg.redacted = true;
      msg.text = '';
      msg.cw = null;
      return [{ what: 'message-updated', room: msg.room, msg }];
    }
    case 'queue': {
      model.queue = Array.isArray(ev.queue) ? ev.queue.map(idOf) : [];
      for (const p of model.participants.values()) p.hand = model.queue.includes(p.id);
      return [{ what: 'queue' }];
    }
    case 'stick': {
      const previousHolder = model.stick.holder;
      const next = toStick(ev);
      if (next.holder && next.holder === previousHolder && next.turn === model.stick.turn) next.warned = model.stick.warned;
      model.stick = next;
      if (next.holder) {
        model.queue = model.queue.filter((id) => id !== next.holder);
        const p = model.participants.get(next.holder);
        if (p) p.hand = false;
      }
      return [{ what: 'stick', previousHolder }];
    }
    case 'turn_warning': {
      if (ev.holder && str(ev.holder) !== model.stick.holder) return [];
      model.stick.warned = true;
      if (typeof ev.ends_at === 'number') model.stick.ends_at = ev.ends_at;
      return [{ what: 'turn-warning' }];
    }
    case 'phase': {
      const phase = /** @type {Phase} */ (str(ev.phase));
      model.session.phase = phase;
      model.session.note = ev.note ? str(ev.note) : null;
      model.session.reason = ev.reason ? str(ev.reason) : null;
      if (typeof ev.ends_at === 'number') model.session.ends_at = ev.ends_at;
      return [{ what: 'phase', phase, note: model.session.note }];
    }
    case 'mode': {
      model.session.mode = /** @type {Mode} */ (str(ev.mode) || model.session.mode);
      if (typeof ev.turn_seconds === 'number') model.session.turn_seconds = ev.turn_seconds;
      return [{ what: 'session' }];
    }
    case 'locked': {
      model.session.locked = Boolean(ev.on ?? ev.locked);
      return [{ what: 'session' }];
    }
    case 'ending_soon': {
      model.session.ending_soon = true;
      if (typeof ev.ends_at === 'number') model.session.ends_at = ev.ends_at;
      return [{ what: 'ending-soon' }];
    }
    case 'presence': {
      const p = person(model, idOf(ev.participant));
      p.presence = str(ev.presence) || p.presence;
      p.break_note = p.presence === 'break' && ev.note ? str(ev.note) : null;
      return [{ what: 'people' }];
    }
    case 'muted': {
      const on = Boolean(ev.on ?? ev.muted);
      /** @type {string[]} */
      let ids = [];
      if (Array.isArray(ev.participants)) ids = ev.participants.map(idOf);
      else if (ev.participant) ids = [idOf(ev.participant)];
      else if (ev.all) ids = [...model.participants.values()].filter((p) => p.role !== 'facilitator').map((p) => p.id);
      for (const id of ids) {
        const p = person(model, id);
        p.muted = on;
        if (on) {
          p.hand = false;
          model.queue = model.queue.filter((q) => q !== id);
        }
      }
      return [{ what: 'people' }, { what: 'queue' }];
    }
    case 'joined': {
      const raw = ev.participant && typeof ev.participant === 'object' ? ev.participant : { id: ev.participant, name: ev.name, role: ev.role };
      const existing = model.participants.get(str(raw.id));
      const p = toParticipant({ ...(existing || {}), ...raw });
      if (!raw.presence) p.presence = 'online';
      model.participants.set(p.id, p);
      return [{ what: 'joined', participant: p }, { what: 'people' }];
    }
    case 'left': {
      const id = idOf(ev.participant);
      const reason = str(ev.reason) || 'left';
      if (reason === 'removed') model.participants.delete(id);
      else {
        const p = model.participants.get(id);
        if (p) p.presence = 'offline';
      }
      model.queue = model.queue.filter((q) => q !== id);
      return [{ what: 'left', participant: id, reason }, { what: 'people' }, { what: 'queue' }];
    }
    case 'spoke': {
      const p = person(model, idOf(ev.participant));
      p.turns = num(ev.turns, p.turns);
      p.spoken_ms = num(ev.spoken_ms, p.spoken_ms);
      return [{ what: 'people' }];
    }
    case 'announced': {
      const text = str(ev.text);
      model.announcements.push({ text, at });
      if (model.announcements.length > 20) model.announcements.shift();
      return [{ what: 'announced', text }];
    }
    case 'dm': {
      const dm = { id: str(ev.id) || `dm-${ev.seq}`, from: idOf(ev.from), to: idOf(ev.to), text: str(ev.text), at };
      if (model.dms.some((d) => d.id === dm.id)) return [];
      model.dms.push(dm);
      return [{ what: 'dm', dm }];
    }
    case 'reported':
    case 'help_requested': {
      const item = toInboxItem(ev.kind, ev, at);
      if (!item || model.inbox.some((i) => i.key === item.key)) return [];
      model.inbox.push(item);
      return [{ what: 'inbox', item }];
    }
    case 'room_opened': {
      const r = ev.room && typeof ev.room === 'object' ? ev.room : { id: ev.room, name: ev.name };
      const id = str(r.id);
      const existing = model.rooms.get(id);
      if (existing) existing.closed = false;
      else model.rooms.set(id, { id, name: str(r.name) || id, messages: [], closed: false });
      return [{ what: 'rooms' }];
    }
    case 'room_closed': {
      const id = idOf(ev.room);
      if (id !== 'main') model.rooms.delete(id);
      return [{ what: 'rooms' }];
    }
    default:
      console.info('peercircle: ignored an event of unknown kind', ev.kind);
      return [{ what: 'unknown', kind: str(ev.kind) }];
  }
}

/**
 * Place in the queue, 1-based, or 0 when not queued.
 * @param {Model} model
 * @param {string} id
 * @returns {number}
 */
export function queuePlace(model, id) {
  return model.queue.indexOf(id) + 1;
}

/**
 * The display name of a participant id (peer text: render with textContent).
 * @param {Model} model
 * @param {string | null} id
 * @returns {string}
 */
export function nameOf(model, id) {
  if (!id) return 'Nobody';
  const p = model.participants.get(id);
  return p ? p.name : 'Someone who has left';
}

/**
 * Why you cannot send in this room right now, or null if you can.
 * @param {Model} model
 * @param {string} roomId
 * @returns {string | null}
 */
export function composerBlock(model, roomId) {
  const s = model.session;
  const me = model.participants.get(model.you.id);
  const facilitator = model.you.role === 'facilitator';
  if (s.phase === 'ended') return 'The session has ended. Thank you for being here.';
  if (s.phase === 'lobby' && !facilitator) return "The group hasn't started yet. You can write now and send once it begins.";
  if (s.phase === 'paused') {
    if (s.reason === 'no_facilitator') return 'Paused until the facilitator is back. You can keep writing and send when the group resumes.';
    return s.note ? `Paused by the facilitator: ${s.note}` : 'Paused by the facilitator. You can keep writing and send when the group resumes.';
  }
  if (facilitator) return null;
  if (me && me.muted) return 'You are muted by the facilitator for now. You can still read along and react.';
  if (roomId === 'main' && s.mode !== 'open') {
    const holder = model.stick.holder;
    if (holder === model.you.id) return null;
    const place = queuePlace(model, model.you.id);
    const placeWords = place ? `you are ${ordinal(place)} in the queue` : 'raise your hand to take a turn';
    if (holder) return `${nameOf(model, holder)} has the talking stick, ${placeWords}.`;
    return place ? `Nobody has the talking stick yet, ${placeWords}.` : 'Nobody has the talking stick yet. Raise your hand to take a turn.';
  }
  return null;
}

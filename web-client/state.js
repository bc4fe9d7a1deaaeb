//! The client's copy of one session: built from the `welcome` snapshot and
//! moved on by each event, in order. Pure: no DOM, no network, no clock
//! reads (the event's own `at` is the time).
//!
//! It reads exactly the shapes of docs/protocol.md (the golden fixtures in
//! tests/fixtures/protocol are its test data) and nothing else: no field is
//! read under two names, no shape the server never sends is guessed at.
//! `applyEvent` is one `switch` on the event kind. Kinds it does not know are
//! logged and ignored, never thrown on: the protocol may add kinds.
//! It reports what changed so the page can redraw just that, and append new
//! messages to the log without redrawing the history. The questions the
//! page asks of the model (who is next, can the stick be given…) are in
//! `queries.js`.
//!
//! In a large room (docs/protocol.md, `people`) the model knows only part of
//! the people: `roster` says how many there are in all, whether more exist
//! than are listed, and where the next page (`applyPeoplePage`) starts.
//! Counting is the server's: totals come from the welcome and the `people`
//! events, never from how many rows happen to be listed.

/**
 * @typedef {'lobby' | 'live' | 'paused' | 'ended'} Phase
 * @typedef {'open' | 'stick' | 'round'} Mode
 * @typedef {{id: string, name: string, role: string, presence: string, muted: boolean, turns: number, spoken_ms: number, hand: boolean, break_note: string | null}} Participant
 * @typedef {{id: string, room: string, from: string, text: string, cw: string | null, at: number, reactions: Record<string, number>, redacted: boolean}} Message
 * @typedef {{id: string, name: string, messages: Message[], more: boolean}} Room
 * @typedef {{id: string, from: string, to: string, text: string, at: number}} Dm
 * @typedef {{holder: string | null, ends_at: number | null, turn: number | null, remaining_ms: number | null, warned: boolean}} Stick
 * @typedef {{phase: Phase, mode: Mode, locked: boolean, turn_seconds: number, ends_at: number | null, note: string | null, reason: string | null, ending_soon: boolean, warning_ms: number | null}} SessionInfo
 * @typedef {{seen_by: string | null, seen_at: number | null}} Seen
 * @typedef {{kind: 'help', id: string, from: string, note: string | null, at: number} & Seen} HelpRequest
 * @typedef {{kind: 'report', id: string, msg: string, by: string, reason: string, from: string, room: string, at: number} & Seen} Report
 * @typedef {HelpRequest | Report} InboxItem
 * @typedef {{from: string, text: string, at: number}} Announcement
 * @typedef {object} Roster  who the model lists, and how many people there are in all
 * @property {number} total  people in the session (not removed), listed or not
 * @property {boolean} more  some people have not been listed yet (a large room)
 * @property {string | null} after  everyone up to this person, in the order they first came, is listed: the next page starts after them (null: from the first)
 *
 * @typedef {object} Model
 * @property {{id: string, name: string, role: string}} you
 * @property {SessionInfo} session
 * @property {Map<string, Participant>} participants  in joining order (in a large room, those listed so far)
 * @property {Roster} roster
 * @property {string[]} queue
 * @property {Stick} stick
 * @property {Map<string, Room>} rooms  `main` first
 * @property {Dm[]} dms
 * @property {InboxItem[]} inbox  facilitators only: help requests and reports, oldest first
 * @property {Announcement[]} announcements
 */

/**
 * What an event changed, for the page to redraw.
 * @typedef {{what: 'message', room: string, msg: Message}
 *   | {what: 'message-updated', room: string, msg: Message}
 *   | {what: 'session'} | {what: 'people'} | {what: 'queue'} | {what: 'stick', previousHolder: string | null}
 *   | {what: 'turn-warning', seconds: number} | {what: 'ending-soon'}
 *   | {what: 'mode', mode: Mode, roundOver: boolean}
 *   | {what: 'muted', participant: string, on: boolean}
 *   | {what: 'presence', participant: string, presence: string}
 *   | {what: 'rooms'} | {what: 'dm', dm: Dm} | {what: 'inbox', item: InboxItem}
 *   | {what: 'seen', item: InboxItem}
 *   | {what: 'announced', text: string} | {what: 'left', participant: string}
 *   | {what: 'phase', phase: Phase, previous: Phase, note: string | null, reason: string | null}
 *   | {what: 'joined', participant: Participant}
 *   | {what: 'unknown', kind: string}} Change
 */

const REACTION_KEYS = ['heart', 'clap', 'hug', 'thanks', 'me_too'];

/** Messages kept per room in the page (the server keeps its own bound). */
const MAX_MESSAGES_PER_ROOM = 500;

/**
 * @param {any} v
 * @returns {string}
 */
const str = (v) => (typeof v === 'string' ? v : '');

/**
 * @param {any} v
 * @returns {number}
 */
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * @param {any} v
 * @returns {number | null}
 */
const numOrNull = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * @param {any} v
 * @returns {string | null}
 */
const strOrNull = (v) => (typeof v === 'string' ? v : null);

/**
 * The participant object of the snapshot and of `joined`.
 * @param {any} p
 * @returns {Participant}
 */
function toParticipant(p) {
  return {
    id: str(p.id),
    name: str(p.name),
    role: str(p.role),
    presence: str(p.presence),
    muted: p.muted === true,
    turns: num(p.turns),
    spoken_ms: num(p.spoken_ms),
    hand: p.hand === true,
    break_note: strOrNull(p.break_note),
  };
}

/**
 * A message object (snapshot, history) or the `msg` of `said` (which leaves
 * out what is known: not redacted, no reactions yet).
 * @param {any} m
 * @param {string} room
 * @returns {Message}
 */
function toMessage(m, room) {
  /** @type {Record<string, number>} */
  const reactions = {};
  if (m.reactions && typeof m.reactions === 'object') {
    for (const k of REACTION_KEYS) {
      const n = num(m.reactions[k]);
      if (n > 0) reactions[k] = n;
    }
  }
  return {
    id: str(m.id),
    room,
    from: str(m.from),
    text: str(m.text), // null once redacted
    cw: strOrNull(m.cw),
    at: num(m.at),
    reactions,
    redacted: m.redacted === true,
  };
}

/**
 * The stick object (snapshot and `stick` event).
 * @param {any} s
 * @returns {Stick}
 */
function toStick(s) {
  return {
    holder: strOrNull(s.holder),
    ends_at: numOrNull(s.ends_at),
    turn: numOrNull(s.turn),
    remaining_ms: numOrNull(s.remaining_ms),
    warned: false,
  };
}

/**
 * A facilitator's inbox item: a `help_requested` or `reported` event, or an
 * item of the snapshot's `inbox` (`{id, kind, at, …the event's fields,
 * seen_by, seen_at}`). The kind is the event's kind.
 * @param {string} kind
 * @param {any} v
 * @param {number} at
 * @returns {InboxItem | null}
 */
function toInboxItem(kind, v, at) {
  const seen = { seen_by: strOrNull(v.seen_by), seen_at: numOrNull(v.seen_at) };
  if (kind === 'reported') {
    return { kind: 'report', id: str(v.id), msg: str(v.msg), by: str(v.by), reason: str(v.reason), from: str(v.from), room: str(v.room), at, ...seen };
  }
  if (kind === 'help_requested') {
    return { kind: 'help', id: str(v.id), from: str(v.from), note: strOrNull(v.note), at, ...seen };
  }
  return null;
}

/**
 * A room of the snapshot: `{id, name, messages, more}`.
 * @param {any} r
 * @returns {Room}
 */
function toRoom(r) {
  const id = str(r.id);
  return {
    id,
    name: str(r.name),
    messages: (Array.isArray(r.messages) ? r.messages : []).map((/** @type {any} */ m) => toMessage(m, id)),
    more: r.more === true,
  };
}

/**
 * Builds the model from a `welcome` frame that carries a snapshot
 * (`resumed: false`).
 * @param {{you: {id: string, name: string, role: string}, state?: any}} welcome
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
  const queue = Array.isArray(st.queue) ? st.queue.map(str) : [];
  const stick = toStick(st.stick || {});
  const you = { id: str(welcome.you.id), name: str(welcome.you.name), role: str(welcome.you.role) };
  const pause = s.pause && typeof s.pause === 'object' ? s.pause : null;
  /** @type {Map<string, Room>} */
  const rooms = new Map();
  for (const r of Array.isArray(st.rooms) ? st.rooms : []) {
    const room = toRoom(r);
    rooms.set(room.id, room);
  }
  return {
    you,
    session: {
      phase: /** @type {Phase} */ (str(s.phase)),
      mode: /** @type {Mode} */ (str(s.mode)),
      locked: s.locked === true,
      turn_seconds: num(s.turn_seconds),
      ends_at: numOrNull(s.ends_at),
      // Why the group is paused, after a reload during a pause (the `phase`
      // event says it to those who were there).
      note: pause ? strOrNull(pause.note) : null,
      reason: pause ? strOrNull(pause.reason) : null,
      ending_soon: false,
      warning_ms: null,
    },
    participants,
    roster: welcomeRoster(st, participants, queue, stick.holder, you.id),
    queue,
    stick,
    rooms,
    dms: (Array.isArray(st.dms) ? st.dms : []).map((/** @type {any} */ d) => ({
      id: str(d.id), from: str(d.from), to: str(d.to), text: str(d.text), at: num(d.at),
    })),
    inbox: (Array.isArray(st.inbox) ? st.inbox : [])
      .map((/** @type {any} */ i) => toInboxItem(str(i.kind), i, num(i.at)))
      .filter((/** @type {InboxItem | null} */ i) => i !== null),
    announcements: (Array.isArray(st.announcements) ? st.announcements : []).map((/** @type {any} */ a) => ({
      from: str(a.from), text: str(a.text), at: num(a.at),
    })),
  };
}

/**
 * How many people there are, and where paging goes on from. A large room's
 * welcome lists, in the order people first came, everyone up to the last
 * person it lists for no other reason (the first page), plus the people it
 * always lists (facilitators, the holder, the queue, the viewer) wherever
 * they are: the next page starts after that last person.
 * @param {any} st  the snapshot
 * @param {Map<string, Participant>} participants
 * @param {string[]} queue
 * @param {string | null} holder
 * @param {string} you
 * @returns {Roster}
 */
function welcomeRoster(st, participants, queue, holder, you) {
  const more = st.participants_more === true;
  const total = typeof st.participants_total === 'number' && Number.isFinite(st.participants_total)
    ? Math.max(st.participants_total, participants.size) : participants.size;
  let after = null;
  if (more) {
    const queued = new Set(queue);
    for (const p of participants.values()) {
      const always = p.role === 'facilitator' || p.id === holder || queued.has(p.id) || p.id === you;
      if (!always) after = p.id;
    }
  }
  return { total, more, after };
}

/**
 * Lists a page of people from a `people` frame (the answer to the `people`
 * command asked with `after`). Each person is added or replaced; the page
 * moves the cursor on only if it is the page the roster was waiting for
 * (a page asked for before a fresh welcome is applied, not followed).
 * Returns how many people were new to the model.
 * @param {Model} model
 * @param {{participants: any[], more: boolean}} frame
 * @param {string | null | undefined} after  the `after` the page was asked with (undefined: not asked by this model)
 * @returns {number}
 */
export function applyPeoplePage(model, frame, after) {
  const list = Array.isArray(frame.participants) ? frame.participants : [];
  let fresh = 0;
  for (const raw of list) {
    const p = toParticipant(raw);
    if (!p.id) continue;
    if (!model.participants.has(p.id)) fresh += 1;
    model.participants.set(p.id, p);
  }
  if (after !== undefined && model.roster.after === after && model.roster.more) {
    const last = list.length ? str(list[list.length - 1].id) : '';
    if (last) model.roster.after = last;
    model.roster.more = frame.more === true && list.length > 0;
  }
  // Everyone is listed: the count is what the model holds.
  if (!model.roster.more) model.roster.total = model.participants.size;
  else model.roster.total = Math.max(model.roster.total, model.participants.size);
  return fresh;
}

/**
 * Puts older messages from a `history` frame in front of a room's log.
 * Returns the messages added (oldest first), or null when the room is gone.
 * @param {Model} model
 * @param {{room: string, messages: any[], more: boolean}} frame
 * @returns {Message[] | null}
 */
export function applyHistory(model, frame) {
  const room = model.rooms.get(str(frame.room));
  if (!room) return null;
  const known = new Set(room.messages.map((m) => m.id));
  const older = (Array.isArray(frame.messages) ? frame.messages : [])
    .map((m) => toMessage(m, room.id))
    .filter((m) => !known.has(m.id));
  room.messages.unshift(...older);
  room.more = frame.more === true;
  return older;
}

/**
 * Finds a message by id in a room.
 * @param {Model} model
 * @param {string} id
 * @param {string} room
 * @returns {Message | null}
 */
export function findMessage(model, id, room) {
  const r = model.rooms.get(room);
  return (r && r.messages.find((x) => x.id === id)) || null;
}

/**
 * Moves the model on by one event.
 * @param {Model} model
 * @param {{kind: string, at: number, seq: number, [field: string]: any}} ev
 * @returns {Change[]}
 */
export function applyEvent(model, ev) {
  const at = num(ev.at);
  switch (ev.kind) {
    case 'said': {
      const room = model.rooms.get(str(ev.room));
      if (!room) return [];
      const msg = toMessage(ev.msg, room.id);
      if (room.messages.some((m) => m.id === msg.id)) return [];
      room.messages.push(msg);
      if (room.messages.length > MAX_MESSAGES_PER_ROOM) {
        room.messages.shift();
        room.more = true;
      }
      return [{ what: 'message', room: room.id, msg }];
    }
    case 'reacted': {
      const msg = findMessage(model, str(ev.msg), str(ev.room));
      const key = str(ev.emoji);
      if (!msg || !REACTION_KEYS.includes(key)) return [];
      msg.reactions[key] = num(ev.count);
      return [{ what: 'message-updated', room: msg.room, msg }];
    }
    case 'redacted': {
      const msg = findMessage(model, str(ev.msg), str(ev.room));
      if (!msg) return [];
      msg.redacted = true;
      msg.text = '';
      msg.cw = null;
      return [{ what: 'message-updated', room: msg.room, msg }];
    }
    case 'queue': {
      model.queue = Array.isArray(ev.queue) ? ev.queue.map(str) : [];
      const queued = new Set(model.queue);
      for (const p of model.participants.values()) p.hand = queued.has(p.id);
      return [{ what: 'queue' }];
    }
    case 'stick': {
      const previousHolder = model.stick.holder;
      const next = toStick(ev);
      // Pausing or resuming re-sends the same turn: keep its warning.
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
      if (str(ev.holder) !== model.stick.holder) return [];
      const endsAt = num(ev.ends_at);
      model.stick.warned = true;
      model.stick.ends_at = endsAt;
      // The server's warning time is a setting: learn it from the event.
      model.session.warning_ms = Math.max(0, endsAt - at);
      return [{ what: 'turn-warning', seconds: Math.round(model.session.warning_ms / 1000) }];
    }
    case 'phase': {
      const previous = model.session.phase;
      const phase = /** @type {Phase} */ (str(ev.phase));
      model.session.phase = phase;
      model.session.note = strOrNull(ev.note);
      model.session.reason = strOrNull(ev.reason);
      return [{ what: 'phase', phase, previous, note: model.session.note, reason: model.session.reason }];
    }
    case 'mode': {
      const mode = /** @type {Mode} */ (str(ev.mode));
      model.session.mode = mode;
      model.session.turn_seconds = num(ev.turn_seconds);
      return [{ what: 'mode', mode, roundOver: ev.reason === 'round_over' }];
    }
    case 'locked': {
      model.session.locked = ev.on === true;
      return [{ what: 'session' }];
    }
    case 'ending_soon': {
      model.session.ending_soon = true;
      model.session.ends_at = num(ev.ends_at);
      return [{ what: 'ending-soon' }];
    }
    case 'presence': {
      const id = str(ev.participant);
      const p = model.participants.get(id);
      if (!p) return [];
      p.presence = str(ev.presence);
      p.break_note = strOrNull(ev.note);
      return [{ what: 'presence', participant: id, presence: p.presence }, { what: 'people' }];
    }
    case 'muted': {
      const id = str(ev.participant);
      const p = model.participants.get(id);
      if (!p) return [];
      const on = ev.on === true;
      p.muted = on;
      // A muted participant leaves the queue (the server sends `queue` too).
      if (on) {
        p.hand = false;
        model.queue = model.queue.filter((q) => q !== id);
      }
      return [{ what: 'muted', participant: id, on }, { what: 'people' }, { what: 'queue' }];
    }
    case 'joined': {
      const p = toParticipant(ev.participant);
      if (!model.participants.has(p.id)) model.roster.total += 1;
      model.participants.set(p.id, p);
      return [{ what: 'joined', participant: p }, { what: 'people' }];
    }
    case 'people': {
      // A large room's batch of arrivals and presence changes: each person
      // as they are now, added or replaced, and how many there are now.
      const list = Array.isArray(ev.people) ? ev.people : [];
      const before = model.participants.size;
      for (const raw of list) {
        const p = toParticipant(raw);
        if (p.id) model.participants.set(p.id, p);
      }
      const floor = model.roster.more ? 0 : model.participants.size;
      model.roster.total = typeof ev.participants_total === 'number'
        ? Math.max(num(ev.participants_total), floor)
        : model.roster.total + model.participants.size - before;
      return list.length ? [{ what: 'people' }] : [];
    }
    case 'left': {
      // Always a removal: closing the last socket is `presence`, not `left`.
      // In a large room they may never have been listed, yet they counted.
      const id = str(ev.participant);
      model.participants.delete(id);
      // (The server still knows a removed person's place, so a page can
      // start after them.)
      model.roster.total = Math.max(model.participants.size, model.roster.total - 1);
      model.queue = model.queue.filter((q) => q !== id);
      return [{ what: 'left', participant: id }, { what: 'people' }, { what: 'queue' }];
    }
    case 'spoke': {
      // The turn of someone removed ends after their `left`: nothing to update.
      const p = model.participants.get(str(ev.participant));
      if (!p) return [{ what: 'people' }];
      p.turns = num(ev.turns);
      p.spoken_ms = num(ev.spoken_ms);
      return [{ what: 'people' }];
    }
    case 'announced': {
      const text = str(ev.text);
      model.announcements.push({ from: str(ev.from), text, at });
      if (model.announcements.length > 20) model.announcements.shift();
      return [{ what: 'announced', text }];
    }
    case 'dm': {
      const dm = { id: str(ev.id), from: str(ev.from), to: str(ev.to), text: str(ev.text), at };
      if (model.dms.some((d) => d.id === dm.id)) return [];
      model.dms.push(dm);
      return [{ what: 'dm', dm }];
    }
    case 'reported':
    case 'help_requested': {
      const item = toInboxItem(ev.kind, ev, at);
      if (!item || model.inbox.some((i) => i.id === item.id)) return [];
      model.inbox.push(item);
      return [{ what: 'inbox', item }];
    }
    case 'marked_seen': {
      const item = model.inbox.find((i) => i.id === str(ev.item));
      if (!item) return [];
      item.seen_by = str(ev.by);
      item.seen_at = at;
      return [{ what: 'seen', item }];
    }
    case 'room_opened': {
      const id = str(ev.room.id);
      if (!model.rooms.has(id)) model.rooms.set(id, { id, name: str(ev.room.name), messages: [], more: false });
      return [{ what: 'rooms' }];
    }
    case 'room_closed': {
      model.rooms.delete(str(ev.room));
      return [{ what: 'rooms' }];
    }
    default:
      console.info('peercircle: ignored an event of unknown kind', ev.kind);
      return [{ what: 'unknown', kind: str(ev.kind) }];
  }
}


//! Questions the page asks of the session model (`state.js`): someone's
//! place in the queue, a name, the open help requests and reports, who gets
//! the stick next, whether the stick can be given, why the composer cannot
//! send, how many people there are (and how many are here, with a hand up),
//! the order of "Who is here", and who is named but not listed yet in a
//! large room. Pure functions of a `Model`: no DOM, no network, no clock.
//! Each is at most linear in the people listed, so a room of thousands
//! stays quick.
//!
//! The answers mirror the server's rules (docs/protocol.md, "The talking
//! stick rules") so a control is offered only when the server would accept
//! it; the server stays the judge.

import { ordinal } from './strings.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Participant} Participant
 * @typedef {import('./state.js').HelpRequest} HelpRequest
 * @typedef {import('./state.js').Report} Report
 */

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
  if (p) return p.name;
  // In a large room they may just not be listed yet.
  return model.roster.more ? 'Someone' : 'Someone who has left';
}

/**
 * The counters of the people part, from the model: everyone in the session
 * (listed or not), how many are listed, how many of those are online (here
 * now: not away, on a break or offline), and how many hands are up.
 * `online` counts everyone only when `complete`.
 * @param {Model} model
 * @returns {{total: number, listed: number, complete: boolean, online: number, handsUp: number}}
 */
export function peopleCounts(model) {
  let online = 0;
  for (const p of model.participants.values()) if (p.presence === 'online') online += 1;
  return {
    total: Math.max(model.roster.total, model.participants.size),
    listed: model.participants.size,
    complete: !model.roster.more,
    online,
    handsUp: model.queue.length,
  };
}

/**
 * "Who is here" in order: facilitators, whoever asked for help, the stick
 * holder, the queue in speaking order, then everyone else in the order they
 * came. Linear in the people listed (no sort).
 * @param {Model} model
 * @param {Set<string>} asking  who has an open help request
 * @returns {Participant[]}
 */
export function peopleInOrder(model, asking) {
  /** @type {Participant[]} */
  const out = [];
  /** @type {Set<string>} */
  const placed = new Set();
  /** @param {Participant | undefined} p */
  const put = (p) => {
    if (p && !placed.has(p.id)) {
      placed.add(p.id);
      out.push(p);
    }
  };
  for (const p of model.participants.values()) if (p.role === 'facilitator') put(p);
  if (asking.size) for (const p of model.participants.values()) if (asking.has(p.id)) put(p);
  if (model.stick.holder) put(model.participants.get(model.stick.holder));
  for (const id of model.queue) put(model.participants.get(id));
  for (const p of model.participants.values()) put(p);
  return out;
}

/**
 * People the screen names but the model does not list yet (a large room):
 * the holder, the queue, the senders of open help requests, reports and
 * private messages, and the authors of each room's latest messages.
 * @param {Model} model
 * @returns {string[]}
 */
export function unlistedNamed(model) {
  if (!model.roster.more) return [];
  /** @type {Set<string>} */
  const ids = new Set(model.queue);
  for (const room of model.rooms.values()) for (const m of room.messages.slice(-50)) ids.add(m.from);
  if (model.stick.holder) ids.add(model.stick.holder);
  for (const i of model.inbox) {
    if (i.seen_by !== null) continue;
    ids.add(i.from);
    if (i.kind === 'report') ids.add(i.by);
  }
  for (const d of model.dms) ids.add(d.from);
  return [...ids].filter((id) => id && !model.participants.has(id));
}

/**
 * Help requests nobody has marked as seen yet, oldest first.
 * @param {Model} model
 * @returns {HelpRequest[]}
 */
export function openHelpRequests(model) {
  return /** @type {HelpRequest[]} */ (model.inbox.filter((i) => i.kind === 'help' && i.seen_by === null));
}

/**
 * Reports nobody has marked as seen yet, oldest first.
 * @param {Model} model
 * @returns {Report[]}
 */
export function openReports(model) {
  return /** @type {Report[]} */ (model.inbox.filter((i) => i.kind === 'report' && i.seen_by === null));
}

/**
 * Who would get the stick next by the handing-on rule: the first queued
 * participant who is online (not away, offline or on a break) and not muted.
 * @param {Model} model
 * @returns {string | null}
 */
export function nextInLine(model) {
  for (const id of model.queue) {
    const p = model.participants.get(id);
    if (p && p.presence === 'online' && !p.muted) return id;
  }
  return null;
}

/**
 * Why a facilitator cannot give the stick to this participant now (the
 * server's own checks, in its order), or null when they can.
 * @param {Model} model
 * @param {string} id
 * @returns {string | null}
 */
export function cannotGiveStick(model, id) {
  const p = model.participants.get(id);
  if (!p) return 'They are no longer in the session.';
  if (p.role === 'facilitator') return 'Facilitators do not take the stick.';
  if (p.muted) return 'They are muted: unmute them first.';
  if (p.presence === 'break') return 'They are on a break.';
  if (p.presence === 'away') return 'Their connection dropped.';
  if (p.presence !== 'online') return 'They are not here right now.';
  if (model.session.phase === 'lobby') return 'The session has not started yet.';
  if (model.session.phase === 'paused') return 'The group is paused.';
  if (model.session.phase !== 'live') return 'The session is over.';
  if (model.session.mode === 'open') return 'Open conversation has no stick.';
  return null;
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
  if (s.phase === 'paused' && !facilitator) {
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


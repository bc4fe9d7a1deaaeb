//! Questions the page asks of the session model (`state.js`): someone's
//! place in the queue, a name, the open help requests and reports, who gets
//! the stick next, whether the stick can be given, and why the composer
//! cannot send. Pure functions of a `Model`: no DOM, no network, no clock.
//!
//! The answers mirror the server's rules (docs/protocol.md, "The talking
//! stick rules") so a control is offered only when the server would accept
//! it; the server stays the judge.

import { ordinal } from './strings.js';

/**
 * @typedef {import('./state.js').Model} Model
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
  return p ? p.name : 'Someone who has left';
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


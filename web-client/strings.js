//! Every sentence the client shows that is not peer text: the human words for
//! each error code the server can send, and the small labels used by more
//! than one screen.
//!
//! Voice: plain, warm English, second person, no blame, no jargon. A refusal
//! says what is happening and, where it helps, what you can do next. This
//! module must not touch the DOM or the network.

/** Words for the error codes of PROTOCOL.md (WebSocket refusals and HTTP errors). */
const ERRORS = /** @type {Record<string, string>} */ ({
  bad_request: "That didn't quite go through. Please check what you wrote and try again.",
  unauthorized: "We couldn't confirm it's you. Please sign in or join again.",
  forbidden: "That isn't something you can do here, and that's okay.",
  not_found: "We couldn't find that. It may have been removed or the session may have changed.",
  muted: "The facilitator has muted you for now. You can still read along and react.",
  paused: "The facilitator has paused the group for a moment. You can keep writing and send when it resumes.",
  not_your_turn: "Someone else has the talking stick right now. Raise your hand and you'll get a turn.",
  not_holder: "The talking stick has already moved on, so there is nothing to pass.",
  too_long: "That message is a little long. Messages can be up to 2,000 characters; you could split it in two.",
  locked: "The facilitator has closed the group to new people for now.",
  rate_limited: "You're sending quickly, so we're slowing things down. Please wait a few seconds and try again.",
  session_ended: "This session has ended. Thank you for being here.",
  full: "This group is full right now. The facilitator keeps it small so everyone gets a turn.",
  session_full: "This group is full right now. The facilitator keeps it small so everyone gets a turn.",
  ended: "This session has ended. Thank you for being here.",
  banned: "You can't join this group. If you think that's a mistake, please contact the organisers.",
  conflict: "That clashes with something that already exists. Please check and try again.",
  internal: "Something went wrong on our side. Please try again in a moment.",
  network: "We can't reach peercircle right now. Please check your connection; we'll keep trying.",
});

const FALLBACK = "Something didn't go through. Please try again in a moment.";

/**
 * The human sentence for an error code. Unknown codes fall back to the
 * server's own message (already written for people) or a gentle generic line.
 * @param {string | undefined} code
 * @param {string} [serverMessage]
 * @returns {string}
 */
export function errorText(code, serverMessage) {
  // These codes cover many cases; the server's own sentence (written for
  // people) says which one, so it is the better answer.
  if (serverMessage && (code === 'bad_request' || code === 'not_found')) return serverMessage;
  if (code && Object.prototype.hasOwnProperty.call(ERRORS, code)) return ERRORS[code];
  if (serverMessage) return serverMessage;
  return FALLBACK;
}

/**
 * Words for a refused join (`POST /api/sessions/{id}/join`), where the HTTP
 * status says more than the code.
 * @param {number} status
 * @param {string | undefined} code
 * @param {string} [serverMessage]
 * @returns {string}
 */
export function joinErrorText(status, code, serverMessage) {
  if (code === 'banned') return ERRORS.banned;
  if (status === 403) {
    return "That access code didn't match. Please check it with your facilitator and try again.";
  }
  if (status === 409) {
    if (code === 'locked') return ERRORS.locked;
    if (code === 'session_ended' || code === 'ended') return ERRORS.session_ended;
    if (code === 'full' || code === 'session_full') return ERRORS.full;
    return serverMessage || "You can't join this session right now. It may be full, closed to new people or over.";
  }
  if (status === 400) {
    // The server's sentences about names are written for people already.
    return serverMessage || 'Please check your pseudonym: 1 to 40 characters, and no e-mail address or phone number.';
  }
  if (status === 404) return "We couldn't find this session. The link may be out of date; please ask your facilitator for a new one.";
  if (status === 429) return ERRORS.rate_limited;
  return errorText(code, serverMessage);
}

/** Close codes of the WebSocket (PROTOCOL.md §2) that end the session for this page. */
export const CLOSE = Object.freeze({
  BAD_HELLO: 4001,
  REMOVED: 4003,
  ENDED: 4004,
  TOO_BIG: 1009,
});

/** Reactions the server accepts, in the order the client shows them. */
export const REACTIONS = Object.freeze([
  { key: 'heart', symbol: '❤', label: 'Heart' },
  { key: 'clap', symbol: '👏', label: 'Clap' },
  { key: 'hug', symbol: '🤗', label: 'Hug' },
  { key: 'thanks', symbol: '🙏', label: 'Thanks' },
  { key: 'me_too', symbol: '🙋', label: 'Me too' },
]);

/**
 * "1st", "2nd", "3rd", "4th", … for places in the queue.
 * @param {number} n
 * @returns {string}
 */
export function ordinal(n) {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  switch (n % 10) {
    case 1: return `${n}st`;
    case 2: return `${n}nd`;
    case 3: return `${n}rd`;
    default: return `${n}th`;
  }
}

/**
 * A duration in words, for the balance view and the turn clock's label.
 * @param {number} ms
 * @returns {string}
 */
export function durationWords(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (m === 0) return `${s} s`;
  if (s === 0) return `${m} min`;
  return `${m} min ${s} s`;
}

/**
 * A clock face `m:ss`.
 * @param {number} ms
 * @returns {string}
 */
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * The gentle turn warning, with the seconds the server gave
 * (`turn_warning`: its `ends_at` minus the event's `at`).
 * @param {number} ms
 * @returns {string}
 */
export function warningWords(ms) {
  const s = Math.max(1, Math.round(ms / 1000));
  return `About ${s} ${s === 1 ? 'second' : 'seconds'} left; no rush, finish your thought.`;
}

/**
 * A countdown to a start time, in words ("in 12 minutes", "any moment now").
 * @param {number} ms
 * @returns {string}
 */
export function countdownWords(ms) {
  if (ms <= 30_000) return 'any moment now';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return minutes === 1 ? 'in about a minute' : `in ${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = hours === 1 ? '1 hour' : `${hours} hours`;
  if (hours >= 24) {
    const days = Math.round(hours / 24);
    return days === 1 ? 'in about a day' : `in ${days} days`;
  }
  return rest === 0 ? `in ${h}` : `in ${h} ${rest} min`;
}

/** Words for a participant's presence. */
export const PRESENCE = /** @type {Record<string, string>} */ ({
  online: 'Here',
  away: 'Connection dropped',
  break: 'On a break',
  offline: 'Not here',
});

/** Words for the session's talking-stick mode. */
export const MODES = /** @type {Record<string, {name: string, hint: string}>} */ ({
  open: { name: 'Open conversation', hint: 'Anyone can write in the main circle.' },
  stick: { name: 'Talking stick', hint: 'Raise your hand; whoever holds the stick writes in the main circle.' },
  round: { name: 'Round', hint: 'Everyone gets one turn in order; pass if you like.' },
});

/** Sentences for a phase change, announced politely to screen readers. */
export const PHASE_WORDS = /** @type {Record<string, string>} */ ({
  lobby: 'The group has not started yet.',
  live: 'The group has started.',
  resumed: 'The group has resumed.',
  paused: 'The facilitator has paused the group for a moment.',
  ended: 'The session has ended. Thank you for being here.',
});

//! The HTTP API of PROTOCOL.md §1 (plus the group management calls the
//! dashboard uses), as small typed functions over `fetch`.
//!
//! Every failure becomes an {@link ApiError} carrying the HTTP status and the
//! wire `code`, so a screen can pick the right human sentence from
//! `strings.js`. Cookies ride along (`same-origin`) for the facilitator's
//! dashboard. This module never touches the DOM and never stores anything.

/**
 * @typedef {{label: string, url: string}} SupportResource
 * @typedef {{id: string, group: {id?: string, name: string, description: string, agreement: string, support_resources: SupportResource[], timezone?: string, has_access_code?: boolean}, starts_at: string, ends_at: string, doors_open_at?: string, phase: string, facilitators: string[], capacity: number, joined: number, locked?: boolean}} SessionCard
 * @typedef {{token: string, facilitator: {id: string, name: string, email?: string}}} LoginAnswer
 * @typedef {{id: string, name: string, description: string, agreement: string, timezone: string, capacity: number, has_access_code?: boolean, access_code?: string | null, support_resources: SupportResource[], facilitators?: Array<string | {id?: string, email?: string, name?: string}>, calendar_url?: string, created_at?: string}} Group
 * @typedef {{name: string, description: string, agreement: string, timezone?: string, capacity?: number, access_code?: string, support_resources?: SupportResource[], facilitators?: string[]}} GroupInput
 * @typedef {{id: string, starts_at: string, ends_at: string, phase?: string, join_url?: string}} SessionTimes
 */

/** An HTTP call that did not succeed. */
export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status (0: the network failed)
   * @param {string} code  wire error code
   * @param {string} message  the server's sentence, if any
   * @param {string} [reason]  what exactly was refused, when the server says (a refused join's `error.reason`)
   */
  constructor(status, code, message, reason = '') {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function call(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const text = await res.text();
  /** @type {any} */
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, String(err.code || statusCode(res.status)), String(err.message || ''), typeof err.reason === 'string' ? err.reason : '');
  }
  return data;
}

/**
 * A code for an error answer that carried no JSON body.
 * @param {number} status
 * @returns {string}
 */
function statusCode(status) {
  switch (status) {
    case 400: return 'bad_request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 409: return 'conflict';
    case 429: return 'rate_limited';
    default: return 'internal';
  }
}

const enc = encodeURIComponent;

/**
 * The public card of a session.
 * @param {string} session
 * @returns {Promise<SessionCard>}
 */
export function getSession(session) {
  return call('GET', `/api/sessions/${enc(session)}`);
}

/**
 * Joins a session under a pseudonym; `agree` is always true: the form
 * cannot be sent without agreeing.
 * @param {string} session
 * @param {{name: string, access_code?: string}} input
 * @returns {Promise<{participant_id: string, token: string}>}
 */
export function join(session, input) {
  /** @type {Record<string, unknown>} */
  const body = { name: input.name, agree: true };
  if (input.access_code) body.access_code = input.access_code;
  return call('POST', `/api/sessions/${enc(session)}/join`, body);
}

/**
 * @param {string} email
 * @param {string} password
 * @returns {Promise<LoginAnswer>}
 */
export function login(email, password) {
  return call('POST', '/api/login', { email, password });
}

/** @returns {Promise<void>} */
export async function logout() {
  await call('POST', '/api/logout');
}

/**
 * The facilitator signed in by cookie, or null when nobody is.
 * @returns {Promise<{id: string, name: string, email?: string} | null>}
 */
export async function me() {
  try {
    const data = await call('GET', '/api/me');
    return data && data.facilitator ? data.facilitator : data;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
    throw e;
  }
}

/** @returns {Promise<Group[]>} */
export async function listGroups() {
  const data = await call('GET', '/api/groups');
  return Array.isArray(data) ? data : (data && Array.isArray(data.groups) ? data.groups : []);
}

/**
 * @param {string} id
 * @returns {Promise<Group>}
 */
export function getGroup(id) {
  return call('GET', `/api/groups/${enc(id)}`);
}

/**
 * @param {GroupInput} input
 * @returns {Promise<Group>}
 */
export function createGroup(input) {
  return call('POST', '/api/groups', input);
}

/**
 * @param {string} id
 * @param {GroupInput} input
 * @returns {Promise<Group>}
 */
export function updateGroup(id, input) {
  return call('PUT', `/api/groups/${enc(id)}`, input);
}

/**
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function deleteGroup(id) {
  await call('DELETE', `/api/groups/${enc(id)}`);
}

/**
 * @param {string} group
 * @param {{starts_at: string, duration_minutes: number, repeat?: {weekly: number}}} input
 * @returns {Promise<SessionTimes[]>}
 */
export async function scheduleSessions(group, input) {
  const data = await call('POST', `/api/groups/${enc(group)}/sessions`, input);
  return Array.isArray(data) ? data : (data && Array.isArray(data.sessions) ? data.sessions : []);
}

/**
 * Upcoming sessions of a group.
 * @param {string} group
 * @returns {Promise<SessionTimes[]>}
 */
export async function listSessions(group) {
  const data = await call('GET', `/api/groups/${enc(group)}/sessions`);
  return Array.isArray(data) ? data : (data && Array.isArray(data.sessions) ? data.sessions : []);
}

/**
 * Cancels one occurrence.
 * @param {string} session
 * @returns {Promise<void>}
 */
export async function cancelSession(session) {
  await call('DELETE', `/api/sessions/${enc(session)}`);
}

/**
 * @typedef {{id: string, name: string, role: string, turns: number, spoken_ms: number, breaks: number, removed: boolean}} SummaryPerson
 * @typedef {{id: string, from: string, at: number, seen_by: string | null, seen_at: number | null}} SummaryHelp
 * @typedef {{id: string, by: string, from: string, at: number, seen_by: string | null, seen_at: number | null}} SummaryReport
 * @typedef {{session: {id: string, starts_at: string | number, ends_at: string | number, started_at: number | null, ended_at: number | null, live_ms: number, group: {id: string, name: string}}, people: SummaryPerson[], help_requests: SummaryHelp[], reports: SummaryReport[]}} SessionSummary
 */

/**
 * What happened in a session, for its facilitators: who came, turns and
 * time with the stick, breaks, help requests and reports and how soon they
 * were seen. Never message text.
 * @param {string} session
 * @returns {Promise<SessionSummary>}
 */
export function sessionSummary(session) {
  return call('GET', `/api/sessions/${enc(session)}/summary`);
}

/**
 * The calendar feed of a group (a link, not a call).
 * @param {string} group
 * @returns {string}
 */
export function calendarUrl(group) {
  return `/api/groups/${enc(group)}/calendar.ics`;
}

/**
 * The join link of a session, absolute, for copying.
 * @param {string} session
 * @returns {string}
 */
export function joinUrl(session) {
  return `${location.origin}/s/${enc(session)}`;
}

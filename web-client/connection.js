//! The one WebSocket of a session page: handshake, reconnect with backoff,
//! resume with `epoch` + `last_seq`, and an outbox of commands that have not
//! been answered yet.
//!
//! Every command carries a `ref`; it stays in the outbox until the server
//! answers `ack` or `error` for that `ref`. After a reconnect the outbox is
//! resent in order with the *same* refs, so the server can recognise a
//! command it already applied and acknowledge it again without applying it
//! twice (PROTOCOL.md §2). Nothing typed is lost to a dropped socket.
//!
//! This module knows frames, not screens: it never touches the DOM, and it
//! does not interpret events beyond their `seq`.

import { CLOSE } from './strings.js';

/**
 * @typedef {{type: 'welcome', you: {id: string, name: string, role: string}, epoch: string, resumed: boolean, seq: number, state: any}} WelcomeFrame
 * @typedef {{type: 'event', seq: number, at: number, kind: string, [field: string]: any}} EventFrame
 * @typedef {{type: 'error', ref?: string, code: string, message?: string}} ErrorFrame
 * @typedef {{type: 'history', ref?: string, room: string, messages: any[], more: boolean}} HistoryFrame
 * @typedef {{type: 'people', ref?: string, participants: any[], more: boolean}} PeopleFrame
 * @typedef {'connecting' | 'online' | 'reconnecting' | 'closed'} LinkStatus
 * @typedef {'unauthorized' | 'removed' | 'ended'} EndReason
 */

/** A command the server refused: carries the wire `code`. */
export class CommandError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message || code);
    this.name = 'CommandError';
    this.code = code;
  }
}

/**
 * @typedef {object} OutboxEntry
 * @property {string} ref
 * @property {string} frame  the serialized command, resent verbatim
 * @property {(value: void) => void} resolve
 * @property {(err: CommandError) => void} reject
 */

/**
 * @typedef {object} ConnectionHooks
 * @property {(w: WelcomeFrame) => void} onWelcome  a (re)established session; `resumed` says whether replay follows
 * @property {(e: EventFrame) => void} onEvent  every event, in order, once
 * @property {(status: LinkStatus, attempt: number) => void} onStatus
 * @property {(reason: EndReason, code: number) => void} onEnd  the server ended this page's part in the session
 * @property {(e: ErrorFrame) => void} [onServerError]  an error frame without a `ref`
 * @property {(f: HistoryFrame) => void} [onHistory]  older messages of a room, before the `ack` of the `history` command
 * @property {(f: PeopleFrame) => void} [onPeople]  a page of a large room's people, before the `ack` of the `people` command
 */

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** A socket that opens but gives no `welcome` within this long is retried. */
const WELCOME_TIMEOUT_MS = 12_000;

/**
 * The socket URL for a session, derived from the page's own location.
 * @param {string} sessionId
 * @param {Location} [loc]
 * @returns {string}
 */
export function socketUrl(sessionId, loc = location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?session=${encodeURIComponent(sessionId)}`;
}

export class Connection {
  /**
   * @param {string} sessionId
   * @param {string} token  participant token (from joining) or facilitator token (from login)
   * @param {ConnectionHooks} hooks
   */
  constructor(sessionId, token, hooks) {
    this.sessionId = sessionId;
    this.token = token;
    this.hooks = hooks;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {string | null} */
    this.epoch = null;
    this.lastSeq = 0;
    /** @type {Map<string, OutboxEntry>} in sending order (Map keeps insertion order) */
    this.outbox = new Map();
    this.attempt = 0;
    this.welcomed = false;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.welcomeTimer = null;
    this.refPrefix = randomId(8);
    this.refCounter = 0;
    this.onOnline = () => {
      if (!this.socket && !this.stopped) this.retryNow();
    };
    window.addEventListener('online', this.onOnline);
  }

  /** Opens the first socket. */
  start() {
    this.open();
  }

  /** True while a welcomed socket is open. */
  get online() {
    return this.welcomed && this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Commands written but not yet answered. */
  get pending() {
    return this.outbox.size;
  }

  /**
   * Sends a command and resolves on its `ack`, rejects with a
   * {@link CommandError} on its `error`. While the socket is down the
   * command waits in the outbox and goes out after the next `welcome`.
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<void>}
   */
  send(type, fields = {}) {
    const ref = `${this.refPrefix}-${(++this.refCounter).toString(36)}`;
    const frame = JSON.stringify({ ...fields, type, ref });
    return new Promise((resolve, reject) => {
      this.outbox.set(ref, { ref, frame, resolve, reject });
      if (this.online && this.socket) this.socket.send(frame);
    });
  }

  /** Stops for good: no more reconnects; unanswered commands are dropped. */
  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    this.clearTimers();
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      try { s.close(1000, 'bye'); } catch { /* already closing */ }
    }
    this.hooks.onStatus('closed', 0);
  }

  /** Drops the current socket (if any) and reconnects at once. */
  retryNow() {
    if (this.stopped) return;
    this.clearTimers();
    this.attempt = 0;
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      try { s.close(4000, 'retry'); } catch { /* already closing */ }
    }
    this.open();
  }

  /** @private */
  clearTimers() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.retryTimer = null;
    this.welcomeTimer = null;
  }

  /** @private */
  open() {
    if (this.stopped) return;
    this.welcomed = false;
    this.hooks.onStatus(this.epoch ? 'reconnecting' : 'connecting', this.attempt);
    /** @type {WebSocket} */
    let socket;
    try {
      socket = new WebSocket(socketUrl(this.sessionId));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      /** @type {Record<string, unknown>} */
      const hello = { type: 'hello', token: this.token };
      if (this.epoch) {
        hello.epoch = this.epoch;
        hello.last_seq = this.lastSeq;
      }
      socket.send(JSON.stringify(hello));
      this.welcomeTimer = setTimeout(() => {
        if (this.socket === socket && !this.welcomed) {
          try { socket.close(4000, 'no welcome'); } catch { /* closing */ }
        }
      }, WELCOME_TIMEOUT_MS);
    });
    socket.addEventListener('message', (ev) => {
      if (this.socket !== socket) return;
      this.receive(typeof ev.data === 'string' ? ev.data : '');
    });
    socket.addEventListener('close', (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.welcomed = false;
      if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
      this.closed(ev.code);
    });
  }

  /**
   * @private
   * @param {number} code
   */
  closed(code) {
    if (this.stopped) return;
    if (code === CLOSE.REMOVED || code === CLOSE.ENDED || code === CLOSE.BAD_HELLO) {
      this.stopped = true;
      window.removeEventListener('online', this.onOnline);
      this.hooks.onStatus('closed', 0);
      const reason = code === CLOSE.REMOVED ? 'removed' : code === CLOSE.ENDED ? 'ended' : 'unauthorized';
      this.hooks.onEnd(reason, code);
      return;
    }
    this.scheduleRetry();
  }

  /** @private */
  scheduleRetry() {
    if (this.stopped) return;
    this.hooks.onStatus('reconnecting', this.attempt);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  /**
   * @private
   * @param {string} text
   */
  receive(text) {
    /** @type {any} */
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      console.warn('peercircle: a frame that is not JSON was ignored');
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'welcome': {
        const w = /** @type {WelcomeFrame} */ (frame);
        if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
        this.welcomed = true;
        this.attempt = 0;
        // A fresh snapshot (or a new epoch) starts the count again; a resume
        // keeps our last_seq and the replayed events move it on.
        if (!w.resumed || w.epoch !== this.epoch) this.lastSeq = typeof w.seq === 'number' ? w.seq : 0;
        this.epoch = w.epoch;
        this.hooks.onWelcome(w);
        this.hooks.onStatus('online', 0);
        this.flush();
        break;
      }
      case 'event': {
        const e = /** @type {EventFrame} */ (frame);
        if (typeof e.seq === 'number') {
          if (e.seq <= this.lastSeq) return; // already seen: never apply twice
          this.lastSeq = e.seq;
        }
        this.hooks.onEvent(e);
        break;
      }
      case 'ack': {
        const entry = this.outbox.get(String(frame.ref));
        if (entry) {
          this.outbox.delete(entry.ref);
          entry.resolve();
        }
        break;
      }
      case 'error': {
        const err = /** @type {ErrorFrame} */ (frame);
        const entry = err.ref ? this.outbox.get(err.ref) : undefined;
        if (entry) {
          this.outbox.delete(entry.ref);
          entry.reject(new CommandError(err.code, err.message || ''));
        } else if (this.hooks.onServerError) {
          this.hooks.onServerError(err);
        }
        break;
      }
      case 'history':
        if (this.hooks.onHistory) this.hooks.onHistory(/** @type {HistoryFrame} */ (frame));
        break;
      case 'people':
        if (this.hooks.onPeople) this.hooks.onPeople(/** @type {PeopleFrame} */ (frame));
        break;
      default:
        console.info('peercircle: ignored a frame of unknown type', frame.type);
    }
  }

  /**
   * Resends every unanswered command, in order, with its original ref.
   * @private
   */
  flush() {
    if (!this.socket) return;
    for (const entry of this.outbox.values()) this.socket.send(entry.frame);
  }
}

/**
 * A short random id for refs.
 * @param {number} bytes
 * @returns {string}
 */
function randomId(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

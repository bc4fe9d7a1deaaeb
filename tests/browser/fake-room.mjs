// A stand-in for the server's WebSocket, for browser tests of large rooms:
// installed in a page (`context.addInitScript(fakeLargeRoom, options)`)
// before it loads, it answers the page's socket in the shapes of
// docs/protocol.md: a large room's welcome, `people` frames for the
// `people` command, acks, and the events a test sends through
// `window.__fake`. Both functions run in the page, so they close over
// nothing.

/**
 * The stand-in server of one large room, installed in the page before it
 * loads. Everything it sends is in the shapes of docs/protocol.md.
 * The people are the facilitator, then p_000001… in the order they came;
 * the holder and the queue are far down the list (the welcome lists them
 * anyway). With `you` the page is that participant (the second person);
 * with `hands` that many hands are up.
 * @param {{total: number, firstPage: number, facilitator: {id: string, name: string}, you?: {id: string, name: string}, hands?: number}} o
 */
export function fakeLargeRoom(o) {
  const FIRST = ['Kim', 'Sam', 'Priya', 'Jo', 'Robin', 'Ali', 'Noor', 'Mei', 'Tomas', 'Ada', 'Lee', 'Ravi', 'Zoe', 'Femi', 'Ines'];
  const now = Date.now();
  /** @param {string} id @param {string} name @param {string} role */
  const person = (id, name, role) => ({ id, name, role, presence: 'online', muted: false, turns: 0, spoken_ms: 0, hand: false });
  const roster = [person(o.facilitator.id, o.facilitator.name, 'facilitator')];
  for (let i = 1; i < o.total; i++) {
    const p = i === 1 && o.you ? person(o.you.id, o.you.name, 'participant') : person(`p_${String(i).padStart(6, '0')}`, `${FIRST[i % FIRST.length]} ${i}`, 'participant');
    if (i % 7 === 0) p.presence = 'away';
    if (i % 11 === 0) { p.turns = 1 + (i % 3); p.spoken_ms = 30_000 * p.turns; }
    roster.push(p);
  }
  const index = new Map(roster.map((p, i) => [p.id, i]));
  const at = (/** @type {number} */ share) => roster[Math.min(roster.length - 1, Math.floor(roster.length * share))].id;
  const holder = at(0.52);
  const hands = o.hands ?? 3;
  const shares = hands === 3 ? [0.6, 0.8, 1] : Array.from({ length: hands }, (_, i) => 0.53 + (0.46 * i) / hands);
  const queue = [...new Set(shares.map(at))].filter((id) => id !== holder);
  for (const id of queue) roster[index.get(id)].hand = true;
  const you = o.you ? { ...o.you, role: 'participant' } : { ...o.facilitator, role: 'facilitator' };
  const always = new Set([o.facilitator.id, you.id, holder, ...queue]);
  const first = [];
  let others = 0;
  for (const p of roster) {
    if (always.has(p.id)) first.push(p);
    else if (others < o.firstPage) { others += 1; first.push(p); }
  }
  let seq = 1;
  const sent = [];
  /** @type {any} */
  let socket = null;
  const deliver = (/** @type {any} */ frame) => {
    const s = socket;
    if (!s || s.readyState !== 1) return 0;
    const t0 = performance.now();
    s.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(frame) }));
    return performance.now() - t0;
  };
  const event = (/** @type {any} */ e) => deliver({ type: 'event', seq: ++seq, at: Date.now(), ...e });
  const answer = (/** @type {any} */ cmd) => {
    if (cmd.type === 'hello') {
      const ms = deliver({
        type: 'welcome', you, epoch: 'e_1', resumed: false, seq,
        state: {
          session: { phase: 'live', mode: 'stick', locked: false, turn_seconds: 180, ends_at: now + 3_600_000 },
          participants: first, participants_total: roster.length, participants_more: true,
          queue, stick: { holder, ends_at: now + 150_000, turn: 12 },
          rooms: [{ id: 'main', name: 'Main circle', messages: [], more: false }], dms: [], announcements: [], inbox: [],
        },
      });
      /** @type {any} */ (window).__fake.timings.welcome = ms;
      return;
    }
    if (cmd.type === 'people') {
      const start = cmd.after ? (index.get(cmd.after) ?? -1) + 1 : 0;
      if (cmd.after && !index.has(cmd.after)) {
        deliver({ type: 'error', ref: cmd.ref, code: 'not_found', message: "That person isn't in this session." });
        return;
      }
      const limit = Math.min(500, Math.max(1, cmd.limit || 200));
      const page = roster.slice(start, start + limit);
      const ms = deliver({ type: 'people', ref: cmd.ref, participants: page, more: start + limit < roster.length });
      /** @type {any} */ (window).__fake.timings.pages.push(ms);
      deliver({ type: 'ack', ref: cmd.ref });
      return;
    }
    if (cmd.type === 'mute') {
      deliver({ type: 'ack', ref: cmd.ref });
      const p = roster[index.get(cmd.participant)];
      p.muted = cmd.on;
      event({ kind: 'muted', participant: cmd.participant, on: cmd.on });
      return;
    }
    if (cmd.type === 'give') {
      // Refused, so a test can see the words appear next to the control.
      deliver({ type: 'error', ref: cmd.ref, code: 'not_found', message: 'They have just left the session.' });
      return;
    }
    deliver({ type: 'ack', ref: cmd.ref });
  };
  class FakeSocket extends EventTarget {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    /** @param {string} url */
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      socket = this;
      setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); }, 0);
    }
    /** @param {string} text */
    send(text) {
      const cmd = JSON.parse(text);
      sent.push(cmd);
      // The network: a moment later.
      setTimeout(() => answer(cmd), 2);
    }
    close() {
      this.readyState = 3;
    }
  }
  /** @type {any} */ (window).WebSocket = FakeSocket;
  /** @type {any} */ (window).__fake = {
    sent, roster, timings: { welcome: 0, pages: /** @type {number[]} */ ([]) }, event,
    /** Sends one event and says how long the page took to take it in, synchronously and to the next frame. */
    timed: (/** @type {any} */ e) => new Promise((resolve) => {
      const t0 = performance.now();
      const sync = event(e);
      requestAnimationFrame(() => setTimeout(() => resolve({ sync, frame: performance.now() - t0 }), 0));
    }),
  };
}

/** Records the page's long tasks (anything blocking it for more than 50 ms). */
export function watchLongTasks() {
  /** @type {Array<{start: number, duration: number}>} */
  const long = [];
  /** @type {any} */ (window).__longTasks = long;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) long.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}


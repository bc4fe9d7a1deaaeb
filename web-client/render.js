//! Render functions: data in, DOM out. Each builds fresh elements and sets
//! every piece of text with `textContent` (through `h`, which turns strings
//! into text nodes). Nothing here uses `innerHTML`, reads the network or keeps
//! state: what a button does is passed in as a callback.
//!
//! Peer text (names, messages, notes, reasons) is untrusted. It only ever
//! reaches the page as text nodes, and links from a group's support
//! resources are shown as links only for `https:`, `http:`, `tel:`, `sms:`
//! and `mailto:` addresses (the server accepts the same).
//!
//! One message of a room's log, with its "…" menu, is in `message.js`.

import { PRESENCE, MODES, ordinal, durationWords } from './strings.js';
import { nameOf, queuePlace, cannotGiveStick } from './queries.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Participant} Participant
 * @typedef {import('./state.js').Dm} Dm
 * @typedef {import('./state.js').InboxItem} InboxItem
 * @typedef {import('./api.js').SupportResource} SupportResource
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {Node | string | number | null | undefined | false} Leaf
 * @typedef {Leaf | Leaf[] | Leaf[][]} Child  nodes, text, or (nested) lists of them
 * @typedef {Record<string, string | number | boolean | null | undefined | ((ev: any) => void)>} Attrs
 */

/** Properties set as DOM properties rather than attributes. */
const PROPS = new Set(['disabled', 'checked', 'value', 'hidden', 'readOnly', 'required', 'selected', 'open', 'draggable']);

/**
 * Creates an element. Strings among the children become text nodes, so peer
 * text is never parsed as markup. Attributes starting with `on` are event
 * listeners; `text` sets `textContent`; `class` sets `className`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false && !PROPS.has(key)) continue;
      if (typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key === 'text') {
        el.textContent = String(value);
      } else if (key === 'class') {
        el.className = String(value);
      } else if (PROPS.has(key)) {
        /** @type {any} */ (el)[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} parent
 * @param {Child[]} children
 */
function append(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (typeof c === 'string' || typeof c === 'number') parent.appendChild(document.createTextNode(String(c)));
    else parent.appendChild(c);
  }
}

/**
 * Replaces an element's children, keeping keyboard focus on the element
 * with the same `data-key` if focus was inside.
 * @param {Element} parent
 * @param {...Child} children
 */
export function replace(parent, ...children) {
  const active = document.activeElement;
  const hadFocus = active !== null && active !== parent && parent.contains(active);
  const key = hadFocus && active ? active.getAttribute('data-key') : null;
  const typing = active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement ? active : null;
  const selection = typing ? [typing.selectionStart, typing.selectionEnd] : null;
  parent.replaceChildren();
  append(parent, children);
  if (key) {
    let again = parent.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLButtonElement && again.disabled) {
      // e.g. "Move up" on what is now the first item: stay in the same row.
      const row = again.closest('li') || again.parentElement;
      again = row ? row.querySelector('button:not(:disabled)') : null;
    }
    if (again instanceof HTMLElement) again.focus();
    if (selection && (again instanceof HTMLInputElement || again instanceof HTMLTextAreaElement)) {
      try { again.setSelectionRange(selection[0], selection[1]); } catch { /* not a text field */ }
    }
  }
  // Focus never falls to <body>: what had it is gone, so the screen says
  // where it should go instead.
  if (hadFocus && (document.activeElement === document.body || document.activeElement === null)) focusLost(parent);
}

/** @type {(where: Element) => void} */
let focusLost = () => {};

/**
 * Sets what happens when a redraw removes the focused element.
 * @param {(where: Element) => void} fn
 */
export function onFocusLost(fn) {
  focusLost = fn;
}

/**
 * Paragraphs of plain text (agreement, descriptions): blank lines split
 * paragraphs, single newlines stay as line breaks via CSS `pre-line`.
 * @param {string} text
 * @param {string} [cls]
 * @returns {HTMLElement}
 */
export function paragraphs(text, cls = 'prose') {
  const parts = String(text || '').split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean);
  return h('div', { class: cls }, parts.map((t) => h('p', { text: t })));
}

/**
 * Only addresses a person can safely follow become links.
 * @param {string} url
 * @returns {string | null}
 */
export function safeHref(url) {
  try {
    const u = new URL(String(url), location.origin);
    return ['https:', 'http:', 'tel:', 'sms:', 'mailto:'].includes(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * The group's support resources, plus the always-true line about emergencies.
 * @param {SupportResource[]} resources
 * @returns {HTMLElement}
 */
export function supportResources(resources) {
  const list = Array.isArray(resources) ? resources : [];
  return h('div', { class: 'support' },
    list.length
      ? h('ul', { class: 'support-list' }, list.map((r) => {
          const href = safeHref(r.url);
          // Phone and text links open the phone's own app, not a tab.
          const web = href !== null && /^https?:/.test(href);
          return h('li', null, href
            ? h('a', web ? { href, target: '_blank', rel: 'noopener noreferrer' } : { href }, r.label || r.url)
            : [h('span', { text: r.label }), ' ', h('span', { class: 'muted', text: r.url })]);
        }))
      : h('p', { text: 'In the UK and Ireland, Samaritans listen any time, day or night: call 116 123 for free.' }),
    h('p', { class: 'muted', text: 'If you or someone else is in immediate danger, call your local emergency number now (999 or 112 in the UK and Europe, 911 in North America).' }),
  );
}

/**
 * A time, in the viewer's own clock, with the day.
 * @param {string | number} when
 * @param {string} [timeZone]
 * @returns {string}
 */
export function whenWords(when, timeZone) {
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
  if (timeZone) opts.timeZone = timeZone;
  try {
    return new Intl.DateTimeFormat(undefined, opts).format(d);
  } catch {
    return d.toLocaleString();
  }
}

/**
 * The group card at the top of the join screen.
 * @param {SessionCard} card
 * @returns {HTMLElement}
 */
export function groupCard(card) {
  const g = card.group;
  const facilitators = card.facilitators && card.facilitators.length ? card.facilitators.join(', ') : 'a trained facilitator';
  const start = whenWords(card.starts_at);
  const end = card.ends_at ? new Date(card.ends_at) : null;
  const endWords = end && !Number.isNaN(end.getTime())
    ? end.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : '';
  return h('section', { class: 'card group-card', 'aria-labelledby': 'group-card-title' },
    h('h1', { id: 'group-card-title', text: g.name }),
    paragraphs(g.description),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', { text: 'When' }), h('dd', { text: endWords ? `${start} until ${endWords}` : start })),
      h('div', null, h('dt', { text: 'Facilitated by' }), h('dd', { text: facilitators })),
      typeof card.capacity === 'number'
        ? h('div', null, h('dt', { text: 'Group size' }), h('dd', { text: `Up to ${card.capacity} people` }))
        : null,
    ),
  );
}

/**
 * The badges that say where someone stands: stick, queue, break, muted,
 * role, and (for facilitators) an open request for help.
 * @param {Model} model
 * @param {Participant} p
 * @param {boolean} [asksForHelp]
 * @returns {HTMLElement[]}
 */
export function badges(model, p, asksForHelp = false) {
  /** @type {HTMLElement[]} */
  const out = [];
  if (asksForHelp) out.push(h('span', { class: 'badge badge-help', text: 'Asked for help' }));
  if (p.role === 'facilitator') out.push(h('span', { class: 'badge badge-facilitator', text: 'Facilitator' }));
  if (model.stick.holder === p.id) out.push(h('span', { class: 'badge badge-stick', text: 'Has the stick' }));
  const place = queuePlace(model, p.id);
  if (place) out.push(h('span', { class: 'badge badge-queue', text: `${ordinal(place)} in queue` }));
  if (p.presence === 'break') out.push(h('span', { class: 'badge badge-break', text: 'On a break' }));
  if (p.muted) out.push(h('span', { class: 'badge badge-muted', text: 'Muted' }));
  return out;
}

/**
 * One row of "Who is here". A facilitator gets the actions that would work
 * right now: "Give stick" is offered only when the server would accept it.
 * @param {Model} model
 * @param {Participant} p
 * @param {{facilitator: boolean, asksForHelp: boolean, onMute: (p: Participant) => void, onRemove: (p: Participant) => void, onDm: (p: Participant) => void, onGive: (p: Participant) => void}} ctx
 * @returns {HTMLLIElement}
 */
export function participantRow(model, p, ctx) {
  const me = p.id === model.you.id;
  const presence = PRESENCE[p.presence] || p.presence;
  const li = h('li', { class: `person presence-${p.presence}${ctx.asksForHelp ? ' asks-for-help' : ''}`, 'data-person': p.id },
    h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'person-main' },
      h('span', { class: 'person-name', text: me ? `${p.name} (you)` : p.name }),
      h('span', { class: 'person-presence', text: p.presence === 'break' && p.break_note ? `${presence}: ${p.break_note}` : presence }),
    ),
    h('span', { class: 'badges' }, badges(model, p, ctx.asksForHelp)),
  );
  if (ctx.facilitator && !me && p.role !== 'facilitator') {
    const give = model.stick.holder !== p.id && cannotGiveStick(model, p.id) === null;
    li.append(h('span', { class: 'person-actions' },
      give ? h('button', { type: 'button', class: 'quiet small', 'data-key': `give-${p.id}`, 'aria-label': `Give stick to ${p.name}`, text: 'Give stick', onclick: () => ctx.onGive(p) }) : null,
      h('button', { type: 'button', class: 'quiet small', 'data-key': `mute-${p.id}`, 'aria-pressed': String(p.muted), 'aria-label': `${p.muted ? 'Unmute' : 'Mute'} ${p.name}`, text: p.muted ? 'Unmute' : 'Mute', onclick: () => ctx.onMute(p) }),
      h('button', { type: 'button', class: 'quiet small', 'data-key': `dm-${p.id}`, 'aria-label': `Check in privately with ${p.name}`, text: 'Check in', onclick: () => ctx.onDm(p) }),
      h('button', { type: 'button', class: 'quiet small danger-text', 'data-key': `remove-${p.id}`, 'aria-label': `Remove ${p.name} from the session`, text: 'Remove', onclick: () => ctx.onRemove(p) }),
    ));
  }
  return li;
}

/**
 * One item of the facilitator's queue: move with buttons, Alt+arrows or a
 * pointer on the handle. "Give stick" is there only when it would work; the
 * row says why someone is skipped.
 * @param {Model} model
 * @param {string} id
 * @param {number} index
 * @param {{onMove: (id: string, to: number) => void, onGive: (id: string) => void, onLower: (id: string) => void}} ctx
 * @returns {HTMLLIElement}
 */
export function queueItem(model, id, index, ctx) {
  const name = nameOf(model, id);
  const p = model.participants.get(id);
  const last = model.queue.length - 1;
  const turns = p ? p.turns : 0;
  const skipped = !p ? '' : p.muted ? ', muted' : p.presence === 'break' ? ', on a break (skipped until back)'
    : p.presence !== 'online' ? ', not connected (skipped)' : '';
  const give = cannotGiveStick(model, id) === null;
  return h('li', { class: 'queue-item', 'data-person': id, 'data-index': index },
    h('span', { class: 'drag-handle', 'aria-hidden': 'true', title: 'Drag to reorder', text: '⠿' }),
    h('span', { class: 'queue-place', text: `${index + 1}.` }),
    h('span', { class: 'queue-name' },
      h('span', { text: name }),
      h('span', { class: 'muted small-text', text: ` ${turns} ${turns === 1 ? 'turn' : 'turns'}${skipped}` })),
    h('span', { class: 'queue-actions' },
      h('button', {
        type: 'button', class: 'quiet small icon', 'data-key': `up-${id}`, 'aria-label': `Move ${name} up`, disabled: index === 0,
        'aria-keyshortcuts': 'Alt+ArrowUp', text: '↑', onclick: () => ctx.onMove(id, index - 1),
      }),
      h('button', {
        type: 'button', class: 'quiet small icon', 'data-key': `down-${id}`, 'aria-label': `Move ${name} down`, disabled: index === last,
        'aria-keyshortcuts': 'Alt+ArrowDown', text: '↓', onclick: () => ctx.onMove(id, index + 1),
      }),
      give ? h('button', { type: 'button', class: 'quiet small', 'data-key': `qgive-${id}`, 'aria-label': `Give stick to ${name}`, text: 'Give stick', onclick: () => ctx.onGive(id) }) : null,
      h('button', { type: 'button', class: 'quiet small', 'data-key': `lower-${id}`, 'aria-label': `Lower ${name}'s hand`, text: 'Lower', onclick: () => ctx.onLower(id) }),
    ),
  );
}

/**
 * @typedef {{name: string, turns: number, spoken_ms: number, breaks?: number}} BalancePerson
 * @typedef {{rows: BalancePerson[], quiet: number, unshown: number}} BalanceRows
 */

/**
 * Who the balance view shows, quietest first. Up to `limit` people, all of
 * them; beyond that (a large room) only those who have had a turn (up to
 * `limit`), the others counted: thousands of empty bars would say nothing
 * and freeze the page.
 * @param {BalancePerson[]} people
 * @param {number} limit
 * @returns {BalanceRows}
 */
export function balanceRows(people, limit) {
  const byQuiet = (/** @type {BalancePerson} */ a, /** @type {BalancePerson} */ b) => a.spoken_ms - b.spoken_ms || a.turns - b.turns;
  if (people.length <= limit) return { rows: people.slice().sort(byQuiet), quiet: 0, unshown: 0 };
  const spoke = people.filter((p) => p.turns > 0 || p.spoken_ms > 0).sort(byQuiet);
  return { rows: spoke.slice(0, limit), quiet: people.length - spoke.length, unshown: Math.max(0, spoke.length - limit) };
}

/**
 * The balance view: turns and time with the stick of each participant as
 * bars, quietest first. Used live in the console and frozen in the summary.
 * @param {BalancePerson[] | BalanceRows} people  everyone, or `balanceRows` of them
 * @param {number} [limit]  the most rows drawn (see `balanceRows`)
 * @returns {HTMLElement}
 */
export function balance(people, limit = 60) {
  const shown = Array.isArray(people) ? balanceRows(people, limit) : people;
  if (!shown.rows.length && !shown.quiet) return h('p', { class: 'muted', text: 'Nobody has joined yet.' });
  let maxMs = 1;
  let maxTurns = 1;
  for (const p of shown.rows) {
    if (p.spoken_ms > maxMs) maxMs = p.spoken_ms;
    if (p.turns > maxTurns) maxTurns = p.turns;
  }
  const list = h('ul', { class: 'balance' }, shown.rows.map((p) => {
    const breaks = typeof p.breaks === 'number' ? `, ${p.breaks === 0 ? 'no breaks' : p.breaks === 1 ? '1 break' : `${p.breaks} breaks`}` : '';
    const words = `${p.turns} ${p.turns === 1 ? 'turn' : 'turns'}, ${durationWords(p.spoken_ms)} with the stick${breaks}`;
    const time = h('span', { class: 'bar-fill bar-time' });
    time.style.width = `${Math.round((p.spoken_ms / maxMs) * 100)}%`;
    const turns = h('span', { class: 'bar-fill bar-turns' });
    turns.style.width = `${Math.round((p.turns / maxTurns) * 100)}%`;
    return h('li', { class: 'balance-row' },
      h('span', { class: 'balance-name', text: p.name }),
      h('span', { class: 'balance-words', text: words }),
      h('span', { class: 'bar', 'aria-hidden': 'true', title: 'Time with the stick' }, time),
      h('span', { class: 'bar bar-thin', 'aria-hidden': 'true', title: 'Turns' }, turns),
    );
  }));
  if (!shown.quiet && !shown.unshown) return list;
  /** @param {number} n */
  const count = (n) => `${n.toLocaleString()} ${n === 1 ? "person" : "people"}`;
  return h('div', { class: 'balance-wrap' },
    shown.rows.length ? list : null,
    h('p', { class: 'muted balance-rest' },
      shown.quiet ? `${count(shown.quiet)} ${shown.quiet === 1 ? "hasn't" : "haven't"} had a turn.` : '',
      shown.quiet && shown.unshown ? ' ' : '',
      shown.unshown ? `${count(shown.unshown)} more had turns; the busiest are not shown.` : ''));
}

/**
 * A time of day in the viewer's clock.
 * @param {number} ms
 * @returns {string}
 */
export function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/**
 * One private message.
 * @param {Model} model
 * @param {Dm} dm
 * @param {boolean} unread
 * @returns {HTMLLIElement}
 */
export function dmItem(model, dm, unread) {
  const mine = dm.from === model.you.id;
  return h('li', { class: `msg dm${mine ? ' msg-mine' : ''}${unread ? ' dm-unread' : ''}`, 'data-dm': dm.id },
    h('p', { class: 'msg-head' },
      h('span', { class: 'msg-author', text: mine ? 'You' : nameOf(model, dm.from) }),
      unread ? h('span', { class: 'badge badge-new', text: 'New' }) : null,
      h('span', { class: 'msg-time', text: timeOfDay(dm.at) })),
    h('p', { class: 'msg-text', text: dm.text }));
}

/**
 * Who saw an inbox item, and how soon.
 * @param {Model} model
 * @param {InboxItem} item
 * @returns {string}
 */
export function seenWords(model, item) {
  if (item.seen_by === null) return '';
  const who = item.seen_by === model.you.id ? 'you' : nameOf(model, item.seen_by);
  return item.seen_at !== null ? `Seen by ${who} at ${timeOfDay(item.seen_at)}.` : `Seen by ${who}.`;
}

/**
 * One item of the facilitator's inbox (help request or report). Seen items
 * say who saw them; open ones offer "Mark as seen", which every
 * co-facilitator sees too.
 * @param {Model} model
 * @param {InboxItem} item
 * @param {{onDm: (id: string) => void, onRedact: (msg: string, room: string) => void, onSeen: (item: InboxItem) => void, messageText: (id: string, room: string) => string | null}} ctx
 * @returns {HTMLLIElement}
 */
export function inboxItem(model, item, ctx) {
  const open = item.seen_by === null;
  const seen = open ? null : h('p', { class: 'muted small-text', text: seenWords(model, item) });
  const markSeen = open ? h('button', { type: 'button', class: 'quiet small', 'data-key': `inbox-seen-${item.id}`, text: 'Mark as seen', onclick: () => ctx.onSeen(item) }) : null;
  if (item.kind === 'help') {
    const who = nameOf(model, item.from);
    return h('li', { class: `inbox-item inbox-help${open ? ' is-open' : ''}`, 'data-inbox': item.id },
      h('p', { class: 'inbox-title' },
        h('strong', { text: `${who} asked for help` }), ' ', h('span', { class: 'muted', text: timeOfDay(item.at) })),
      item.note ? h('p', { class: 'msg-text', text: item.note }) : null,
      seen,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'small', 'data-key': `inbox-dm-${item.id}`, 'aria-label': `Check in privately with ${who}`, text: 'Check in privately', onclick: () => ctx.onDm(item.from) }),
        markSeen));
  }
  const text = ctx.messageText(item.msg, item.room);
  return h('li', { class: `inbox-item inbox-report${open ? ' is-open' : ''}`, 'data-inbox': item.id },
    h('p', { class: 'inbox-title' },
      h('strong', { text: `${nameOf(model, item.by)} reported a message by ${nameOf(model, item.from)}` }), ' ', h('span', { class: 'muted', text: timeOfDay(item.at) })),
    item.reason ? h('p', null, h('span', { class: 'muted', text: 'Reason: ' }), h('span', { text: item.reason })) : null,
    text !== null ? h('blockquote', { class: 'msg-text', text: text || '(already removed)' }) : null,
    seen,
    h('div', { class: 'row' },
      text ? h('button', { type: 'button', class: 'small', 'data-key': `inbox-redact-${item.id}`, text: 'Remove the message', onclick: () => ctx.onRedact(item.msg, item.room) }) : null,
      h('button', { type: 'button', class: 'quiet small', 'data-key': `inbox-dm2-${item.id}`, text: `Check in with ${nameOf(model, item.from)}`, onclick: () => ctx.onDm(item.from) }),
      markSeen));
}

/**
 * The mode in words, for the status bar.
 * @param {string} mode
 * @returns {string}
 */
export function modeName(mode) {
  return (MODES[mode] || { name: mode }).name;
}

//! Arriving early: someone who has agreed and chosen a name before the
//! doors open waits here, calmly, and is let in by itself when the doors
//! open or the facilitator starts early. It asks the public card every 20
//! seconds, at the moment the doors open, and whenever the page comes back
//! into view or online; it never asks faster than that.

import { h, timeOfDay, whenWords } from './render.js';
import { countdownWords } from './strings.js';
import { showScreen, announce } from './ui.js';

/**
 * @typedef {import('./api.js').SessionCard} SessionCard
 * @typedef {{name: string, access_code: string}} EarlyJoin
 * @typedef {object} WaitingOps
 * @property {() => Promise<SessionCard>} poll  the public card, now
 * @property {(card: SessionCard) => Promise<'in' | 'wait' | 'out'>} join  try to come in: in, still too early, or refused (the caller has shown why)
 * @property {() => void} ended  the session ended or was cancelled meanwhile
 * @property {(card: SessionCard) => void} back  "Change my name"
 */

/** How often the card is asked while waiting. */
const POLL_MS = 20_000;

/**
 * @param {SessionCard} card
 * @param {EarlyJoin} input
 * @param {WaitingOps} ops
 */
export function showWaiting(card, input, ops) {
  const doors = card.doors_open_at ? new Date(card.doors_open_at).getTime() : NaN;
  const countdown = h('strong', { id: 'doors-countdown' });
  const status = h('p', { class: 'muted', id: 'waiting-status', role: 'status' });
  const screen = h('section', { class: 'card narrow waiting', id: 'waiting', 'aria-labelledby': 'waiting-title' },
    h('h1', { id: 'waiting-title', tabindex: '-1', text: `You're all set, ${input.name}.` }),
    h('p', { class: 'lobby-countdown' }, 'The doors open ', countdown,
      Number.isNaN(doors) ? '.' : ` (at ${timeOfDay(doors)}), and the group starts ${whenWords(card.starts_at)}.`),
    h('p', { text: 'This page will let you in by itself when the doors open, or sooner if the facilitator starts early. You can leave it open; there is nothing you need to do.' }),
    h('p', { class: 'muted', text: 'While you wait: get comfortable, perhaps a glass of water. “Need help now?” at the top of the page is there at any time.' }),
    status,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'quiet', id: 'waiting-back', text: 'Change my name', onclick: () => { stop(); ops.back(card); } })));
  showScreen(screen);

  const timers = /** @type {ReturnType<typeof setTimeout>[]} */ ([]);
  let busy = false;
  let stopped = false;

  const tickCountdown = () => {
    const left = doors - Date.now();
    countdown.textContent = Number.isNaN(left) ? 'a little before the start' : left > 0 ? countdownWords(left) : 'now';
  };

  const check = async () => {
    if (stopped || busy || !screen.isConnected) return;
    busy = true;
    try {
      const fresh = await ops.poll();
      if (stopped) return;
      if (fresh.phase === 'ended') {
        stop();
        ops.ended();
        return;
      }
      if (fresh.phase !== 'scheduled') {
        status.textContent = 'The doors are open. Letting you in…';
        const result = await ops.join(fresh);
        if (result !== 'wait') {
          stop();
          return;
        }
        status.textContent = 'Nearly: the doors open in a moment.';
      }
    } catch {
      if (!stopped) status.textContent = "We can't reach peercircle just now; we'll keep trying.";
    } finally {
      busy = false;
    }
  };

  const onVisible = () => { if (!document.hidden) void check(); };
  const onOnline = () => { void check(); };
  function stop() {
    stopped = true;
    timers.forEach((t) => clearTimeout(t));
    clearInterval(poller);
    clearInterval(ticker);
    document.removeEventListener('visibilitychange', onVisible);
    window.removeEventListener('online', onOnline);
  }

  tickCountdown();
  const poller = setInterval(() => { if (screen.isConnected) void check(); else stop(); }, POLL_MS);
  const ticker = setInterval(tickCountdown, 15_000);
  const untilDoors = doors - Date.now();
  if (untilDoors > 0 && untilDoors < 2 ** 31 - 1) timers.push(setTimeout(() => { void check(); }, untilDoors + 1000));
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('online', onOnline);
  announce('You are all set. This page will let you in by itself when the doors open.');
}

//! A participant's actions that must stay within reach, under the composer
//! (so a phone never scrolls for them): "It's your turn" with its clock and
//! "I'm done", raise or lower a hand, take a break ("Your place is kept"),
//! come back, and a note for the group while on a break.

import { queuePlace } from './queries.js';
import { h, replace } from './render.js';
import { ordinal, clock, warningWords } from './strings.js';
import { announce } from './ui.js';
import { command } from './page.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./page.js').Page} Page
 */

/**
 * @param {Page} p
 * @returns {HTMLElement}
 */
export function buildActions(p) {
  p.el.yourTurn = h('div', { class: 'your-turn', id: 'your-turn', hidden: true });
  p.el.actions = h('div', { class: 'actions', id: 'actions', role: 'group', 'aria-label': 'Your turn, your hand and breaks' });
  return h('div', { class: 'actions-wrap' }, p.el.yourTurn, p.el.actions);
}

/**
 * "It's your turn", the clock and "I'm done", while you hold the stick.
 * @param {Page} p
 */
export function renderYourTurn(p) {
  const model = /** @type {Model} */ (p.model);
  const box = p.el.yourTurn;
  const mine = model.stick.holder === model.you.id && model.session.mode !== 'open';
  if (!mine) {
    if (!box.hidden) replace(box);
    box.hidden = true;
    return;
  }
  const left = model.stick.ends_at !== null ? model.stick.ends_at - Date.now() : model.stick.remaining_ms;
  if (box.hidden || !box.firstChild) {
    box.hidden = false;
    replace(box,
      h('p', null, h('strong', { text: "It's your turn." }), ' ', h('span', { class: 'your-turn-clock' }),
        h('span', { class: 'your-turn-warning' })),
      h('button', {
        type: 'button', class: 'primary', id: 'done', 'data-key': 'done', text: "I'm done",
        onclick: () => { void command(p, 'pass', {}, 'done').then((ok) => { if (ok) p.focusAfter('done'); }); },
      }));
  }
  const c = box.querySelector('.your-turn-clock');
  if (c) c.textContent = left === null ? '' : `${clock(left)} left.`;
  const w = box.querySelector('.your-turn-warning');
  if (w) w.textContent = model.stick.warned && model.session.warning_ms !== null ? ` ${warningWords(model.session.warning_ms)}` : '';
}

/**
 * Raise or lower a hand, take a break and come back: under the composer,
 * so a phone never has to scroll for them. Participants only.
 * @param {Page} p
 */
export function renderActions(p) {
  const model = /** @type {Model} */ (p.model);
  renderYourTurn(p);
  const box = p.el.actions;
  const me = model.participants.get(model.you.id);
  if (model.you.role === 'facilitator' || !me) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  if (me.presence === 'break') {
    const note = h('input', { id: 'break-note', type: 'text', maxlength: '200', autocomplete: 'off', 'data-key': 'break-note', placeholder: 'e.g. back in 5 minutes' });
    const prev = document.getElementById('break-note');
    if (prev instanceof HTMLInputElement) note.value = prev.value;
    replace(box,
      h('div', { class: 'break-box' },
        h('p', null, h('strong', { text: "You're on a break. Your place is kept." }),
          me.break_note ? [' ', h('span', { class: 'muted' }, 'Your note: ', h('span', { text: me.break_note }))] : null),
        h('div', { class: 'row' },
          h('button', {
            type: 'button', class: 'primary', id: 'back', 'data-key': 'back', text: "I'm back",
            onclick: () => { void command(p, 'break', { on: false }, 'back').then((ok) => { if (ok) p.focusAfter('back'); }); },
          }),
          h('details', { class: 'break-note-box', open: document.querySelector('.break-note-box[open]') !== null },
            h('summary', { text: 'Leave a note for the group' }),
            h('div', { class: 'row nowrap' },
              h('label', { for: 'break-note', class: 'visually-hidden', text: 'Note for the group' }), note,
              h('button', {
                type: 'button', class: 'secondary small', id: 'break-note-save', 'data-key': 'break-note-save', text: 'Share',
                onclick: () => {
                  const text = note.value.trim();
                  if (!text) return;
                  void command(p, 'break', { on: true, note: text }, 'break-note-save').then((ok) => { if (ok) { note.value = ''; announce('Your note is shared with the group.'); } });
                },
              }))))));
    return;
  }
  const holder = model.stick.holder === model.you.id;
  const hand = me.hand;
  const place = queuePlace(model, model.you.id);
  // In open conversation anyone may write: a hand would promise a turn that never comes.
  const handButton = holder || model.session.mode === 'open' ? null : h('button', {
    type: 'button', class: hand ? 'secondary' : 'primary', id: 'hand', 'data-key': 'hand', 'aria-pressed': String(hand),
    disabled: me.muted && !hand,
    'aria-describedby': me.muted ? 'hand-muted' : null,
    text: hand ? 'Lower my hand' : 'Raise my hand',
    onclick: () => {
      void command(p, 'hand', { up: !hand }, 'hand').then((ok) => {
        if (ok) announce(hand ? 'Your hand is down.' : 'Your hand is up. You will get a turn.');
      });
    },
  });
  replace(box,
    h('div', { class: 'row' },
      handButton,
      place ? h('span', { class: 'place', text: `You are ${ordinal(place)} in the queue` }) : null,
      me.muted ? h('span', { class: 'muted small-text', id: 'hand-muted', text: "You're muted, so you can't raise your hand just now." }) : null,
      h('button', {
        type: 'button', class: 'secondary', id: 'take-break', 'data-key': 'take-break', 'aria-describedby': 'break-hint', text: 'Take a break',
        onclick: () => {
          void command(p, 'break', { on: true }, 'take-break').then((ok) => {
            if (ok) { announce("You're on a break. Your place is kept."); p.focusAfter('take-break'); }
          });
        },
      }),
      h('span', { id: 'break-hint', class: 'visually-hidden', text: 'Step away any time. Your place is kept.' })));
}

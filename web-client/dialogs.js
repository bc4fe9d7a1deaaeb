//! The questions asked before something that cannot be taken back or that
//! reaches other people: report a message, take one down, remove someone,
//! "I'm struggling", end the session. Each says exactly what the server will
//! do, no more (a removal without "bar them" lets the person join again).

import { nameOf } from './queries.js';
import { h } from './render.js';
import { announce, ask } from './ui.js';
import { command, confirmNear } from './page.js';

/**
 * @typedef {import('./state.js').Model} Model
 * @typedef {import('./state.js').Message} Message
 * @typedef {import('./page.js').Page} Page
 */

/**
 * A participant reports a message to the facilitators.
 * @param {Page} p
 * @param {Message} msg
 */
export async function reportMessage(p, msg) {
  const model = /** @type {Model} */ (p.model);
  const data = await ask({
    title: 'Report this message',
    ok: 'Send to the facilitator',
    body: [
      h('p', { text: `Only the facilitators will see your report. ${nameOf(model, msg.from)} won't be told who sent it.` }),
      h('fieldset', { class: 'field' }, h('legend', { text: 'What worries you about it?' }),
        ['It could hurt someone', 'It shares private details', 'It feels unkind or unsafe', 'Something else'].map((reason, i) =>
          h('div', { class: 'check' },
            h('input', { type: 'radio', name: 'reason', id: `report-reason-${i}`, value: reason, checked: i === 0 }),
            h('label', { for: `report-reason-${i}`, text: reason })))),
      h('div', { class: 'field' }, h('label', { for: 'report-detail', text: 'Anything you want to add (optional)' }),
        h('textarea', { id: 'report-detail', name: 'detail', rows: '2', maxlength: '400' })),
    ],
  });
  if (!data) return;
  const detail = String(data.get('detail') || '').trim();
  const reason = `${String(data.get('reason') || 'Something else')}${detail ? `: ${detail}` : ''}`;
  if (await command(p, 'report', { msg: msg.id, reason }, `menu-${msg.id}`)) confirmNear(p, 'Thank you. The facilitator has your report.', `menu-${msg.id}`);
}

/**
 * A facilitator takes a message down.
 * @param {Page} p
 * @param {string} msgId
 * @param {string} from  the data-key of the control that asked
 * @returns {Promise<boolean>}  whether it was removed
 */
export async function redactMessage(p, msgId, from) {
  const data = await ask({
    title: 'Remove this message?',
    ok: 'Remove the message',
    body: h('p', { text: 'Everyone will see “This message was removed by the facilitator” instead, and its text is deleted from the server.' }),
  });
  return data !== null && command(p, 'redact', { msg: msgId }, from);
}

/**
 * A facilitator removes a participant from the session, and may bar them.
 * @param {Page} p
 * @param {{id: string, name: string}} q
 * @param {string} from  the data-key of the control that asked
 */
export async function removeParticipant(p, q, from) {
  const data = await ask({
    title: `Remove ${q.name} from this session?`,
    ok: 'Remove',
    danger: true,
    body: [
      h('p', { text: `${q.name}'s page will say, kindly, that the facilitator asked them to leave this session, and show the support contacts. What they wrote stays; you can remove messages one by one.` }),
      h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'remove-ban', name: 'ban', value: 'yes', 'aria-describedby': 'remove-ban-hint' }),
        h('label', { for: 'remove-ban', text: "Also bar them from this group's sessions" })),
      h('p', { class: 'hint', id: 'remove-ban-hint', text: `Without this, ${q.name} can join this session again under a new name while it is open to new people. Barring applies to their browser and internet address.` }),
    ],
  });
  if (!data) return;
  if (await command(p, 'remove', { participant: q.id, ban: data.get('ban') === 'yes' }, from)) announce(`${q.name} was removed.`);
}

/**
 * "I'm struggling": a private signal to the facilitators.
 * @param {Page} p
 */
export async function struggling(p) {
  const data = await ask({
    title: 'Let the facilitator know, privately',
    ok: 'Let them know',
    body: [
      h('p', { text: "Only the facilitators will see this. You don't have to explain; they will check in with you gently." }),
      h('div', { class: 'field' }, h('label', { for: 'help-note', text: 'Anything you want them to know (optional)' }),
        h('textarea', { id: 'help-note', name: 'note', rows: '2', maxlength: '500' })),
      h('p', { class: 'muted', text: 'If you are in danger right now, please use “Need help now?” at the top of the page.' }),
    ],
  });
  if (!data) return;
  const note = String(data.get('note') || '').trim();
  /** @type {Record<string, unknown>} */
  const f = {};
  if (note) f.note = note;
  if (await command(p, 'need_help', f, 'struggling')) confirmNear(p, "The facilitator knows, privately. You're not alone.", 'struggling');
}

/**
 * A facilitator ends the session for everyone.
 * @param {Page} p
 */
export async function endSession(p) {
  const data = await ask({
    title: 'End the session for everyone?',
    ok: 'End the session',
    danger: true,
    body: h('p', { text: 'Everyone will see a thank-you screen with the support contacts, and you will see the session summary. This cannot be undone.' }),
  });
  if (data) await command(p, 'end', {}, 'end');
}

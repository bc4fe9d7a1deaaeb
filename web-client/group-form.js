//! The form that creates or edits a group: name, description, agreement,
//! time zone, capacity, access code, support contacts (web, phone `tel:` or
//! text `sms:` links) and co-facilitators.

import * as api from './api.js';
import { h, replace } from './render.js';
import { sayIn } from './ui.js';
import { loadFacilitator, words } from './login.js';

/**
 * @typedef {import('./api.js').Group} Group
 */

/**
 * @param {Group} g
 * @returns {string[]}
 */
function coFacilitatorEmails(g) {
  const mine = loadFacilitator();
  const list = Array.isArray(g.facilitators) ? g.facilitators : [];
  return list
    .filter((f) => !(mine && typeof f === 'object' && f && f.id === mine.id))
    .map((f) => (typeof f === 'string' ? f : (f && f.email) || ''))
    .filter(Boolean);
}

/**
 * Create (g = null) or edit a group.
 * @param {HTMLElement} box
 * @param {Group | null} g
 * @param {() => Promise<void>} reload
 * @param {HTMLElement} status
 */
export function openGroupForm(box, g, reload, status) {
  /**
   * @param {string} name
   * @param {string} label
   * @param {HTMLElement} control
   * @param {string} [hint]
   */
  const field = (name, label, control, hint) => {
    control.id = `gf-${name}`;
    if (hint) control.setAttribute('aria-describedby', `gf-${name}-hint`);
    return h('div', { class: 'field' },
      h('label', { for: `gf-${name}`, text: label }),
      hint ? h('p', { class: 'hint', id: `gf-${name}-hint`, text: hint }) : null,
      control);
  };
  const name = h('input', { type: 'text', required: true, maxlength: '100', value: g ? g.name : '' });
  const description = h('textarea', { rows: '3', maxlength: '2000' });
  description.value = g ? g.description || '' : '';
  const agreement = h('textarea', { rows: '8', required: true, maxlength: '10000' });
  agreement.value = g ? g.agreement || '' : defaultAgreement();
  const timezone = h('input', { type: 'text', list: 'gf-zones', value: g ? g.timezone || 'Europe/London' : 'Europe/London', autocomplete: 'off' });
  const zones = h('datalist', { id: 'gf-zones' }, supportedZones().map((z) => h('option', { value: z })));
  const capacity = h('input', { type: 'number', min: '2', max: '1000', value: String(g ? g.capacity || 12 : 12) });
  const code = h('input', { type: 'text', autocomplete: 'off', maxlength: '64' });
  const removeCode = h('input', { type: 'checkbox', id: 'gf-remove-code' });
  const resources = h('ul', { class: 'plain stack', id: 'gf-resources' });
  const cofac = h('textarea', { rows: '2' });
  cofac.value = g ? coFacilitatorEmails(g).join('\n') : '';
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });

  let rowCount = 0;
  /** @param {{label: string, url: string}} [res] */
  const addRow = (res) => {
    const n = ++rowCount;
    const label = h('input', { type: 'text', id: `gf-res-label-${n}`, value: res ? res.label : '', class: 'res-label' });
    const url = h('input', { type: 'text', id: `gf-res-url-${n}`, value: res ? res.url : '', class: 'res-url', inputmode: 'url' });
    const li = h('li', { class: 'resource-row' },
      h('div', { class: 'field' }, h('label', { for: `gf-res-label-${n}`, text: 'Name' }), label),
      h('div', { class: 'field' }, h('label', { for: `gf-res-url-${n}`, text: 'Link, phone or text number (https://…, tel:… or sms:…)' }), url),
      h('button', { type: 'button', class: 'quiet small', text: 'Remove', 'aria-label': `Remove support contact ${n}`, onclick: () => li.remove() }));
    resources.append(li);
    return label;
  };
  const existing = g && Array.isArray(g.support_resources) ? g.support_resources : [];
  if (existing.length) existing.forEach((res) => addRow(res));
  else if (!g) addRow({ label: 'Samaritans (UK, free, 24/7): 116 123', url: 'tel:116123' });
  else addRow();

  const title = g ? `Edit ${g.name}` : 'Create a group';
  const submit = h('button', { type: 'submit', class: 'primary', text: g ? 'Save changes' : 'Create the group' });
  const form = h('form', { class: 'card stack', id: 'group-form', 'aria-labelledby': 'group-form-title', novalidate: true },
    h('h2', { id: 'group-form-title', tabindex: '-1', text: title }),
    field('name', 'Group name', name),
    field('description', 'Description', description, 'Shown on the join page: who the group is for and what to expect.'),
    field('agreement', 'Group agreement', agreement, 'Everyone must agree to this before they join. Leave a blank line between points.'),
    field('timezone', 'Time zone', timezone, 'Weekly sessions keep their local time here across clock changes.'), zones,
    field('capacity', 'Most people at once', capacity),
    field('code', g ? 'New access code' : 'Access code (optional)', code,
      g ? `${g.has_access_code ? 'The group has a code. ' : ''}Leave empty to keep the current one. 4 to 64 characters.` : 'If set, people need it to join: 4 to 64 characters. Leave empty for an open group.'),
    g ? h('div', { class: 'check' }, removeCode, h('label', { for: 'gf-remove-code', text: 'Remove the access code' })) : null,
    h('fieldset', { class: 'field' }, h('legend', { text: 'Support contacts (shown under “Need help now?”)' }), resources,
      h('button', { type: 'button', class: 'secondary small', text: 'Add a support contact', onclick: () => addRow().focus() })),
    field('cofac', 'Co-facilitators (e-mail addresses, one per line)', cofac, 'They must already have a facilitator account.'),
    error,
    h('div', { class: 'row' }, submit,
      h('button', { type: 'button', class: 'quiet', text: 'Cancel', onclick: () => { replace(box); document.getElementById('new-group')?.focus(); } })));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    /** @type {import('./api.js').GroupInput} */
    const input = {
      name: name.value.trim(),
      description: description.value.trim(),
      agreement: agreement.value.trim(),
      timezone: timezone.value.trim() || 'Europe/London',
      capacity: Math.round(Number(capacity.value) || 12),
      support_resources: [...resources.querySelectorAll('li')].map((li) => ({
        label: /** @type {HTMLInputElement} */ (li.querySelector('.res-label')).value.trim(),
        url: /** @type {HTMLInputElement} */ (li.querySelector('.res-url')).value.trim(),
      })).filter((x) => x.label || x.url),
      facilitators: cofac.value.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean),
    };
    if (!input.name || !input.agreement) {
      error.textContent = 'Please give the group a name and an agreement.';
      error.hidden = false;
      (input.name ? agreement : name).focus();
      return;
    }
    const c = code.value.trim();
    if (c) input.access_code = c;
    else if (g && removeCode.checked) input.access_code = '';
    submit.disabled = true;
    try {
      if (g) await api.updateGroup(g.id, input);
      else await api.createGroup(input);
      replace(box);
      sayIn(status, g ? 'Your changes are saved.' : `${input.name} is ready. Schedule its first session below.`);
      await reload();
    } catch (e) {
      error.textContent = words(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  replace(box, form);
  const heading = form.querySelector('h2');
  if (heading) heading.focus();
}

/** @returns {string} */
function defaultAgreement() {
  return [
    'What is said here stays here.',
    'We listen without judging and without giving advice unless asked.',
    'We speak from our own experience, using "I".',
    'One person speaks at a time: the talking stick helps with that.',
    'You can pass, take a break or leave at any time.',
  ].join('\n\n');
}

/** @returns {string[]} */
function supportedZones() {
  const intl = /** @type {any} */ (Intl);
  try {
    return typeof intl.supportedValuesOf === 'function' ? intl.supportedValuesOf('timeZone') : ['Europe/London', 'UTC'];
  } catch {
    return ['Europe/London', 'UTC'];
  }
}

//! The page's entry point: routing on `location.pathname` to the landing
//! screen, a session (`/s/{session}`: join, lobby, session, in `join.js` and
//! `session.js`) or the facilitator's dashboard (`/facilitate`, in
//! `dashboard.js`). It holds no state of its own.
//!
//! Rules kept by every screen: peer text reaches the page only through
//! `render.js` (text nodes); nothing typed is lost (drafts are kept per room,
//! commands wait in the connection's outbox); every refusal is shown in words
//! from `strings.js`; nothing flashes.

import * as api from './api.js';
import { h } from './render.js';
import { errorText } from './strings.js';
import { dashboardPage } from './dashboard.js';
import { byId, showScreen, template } from './ui.js';
import { wireChrome } from './chrome.js';
import { sessionPage } from './join.js';
import { unlockAudio } from './sound.js';

function route() {
  wireChrome();
  const path = location.pathname;
  const session = path.match(/^\/s\/([^/]+)\/?$/);
  if (session) {
    sessionPage(decodeURIComponent(session[1])).catch(fatal);
  } else if (path === '/facilitate' || path.startsWith('/facilitate/')) {
    dashboardPage().catch(fatal);
  } else {
    landingPage();
  }
}

/** @param {unknown} err */
function fatal(err) {
  console.error(err);
  const code = err instanceof api.ApiError ? err.code : 'internal';
  const message = err instanceof api.ApiError ? err.message : '';
  showScreen(h('section', { class: 'card narrow' },
    h('h1', { text: 'Something got in the way' }),
    h('p', { text: errorText(code, message) }),
    h('p', null, h('button', { type: 'button', class: 'primary', text: 'Try again', onclick: () => location.reload() }))));
}

function landingPage() {
  showScreen(template('tpl-landing'));
  const form = byId('landing-form', HTMLFormElement);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const raw = byId('landing-link', HTMLInputElement).value.trim();
    const m = raw.match(/\/s\/([A-Za-z0-9_-]+)/) || raw.match(/^([A-Za-z0-9_-]+)$/);
    const err = byId('landing-error');
    if (!m) {
      err.textContent = 'That doesn\'t look like a join link yet. It should contain "/s/" followed by the session.';
      err.hidden = false;
      return;
    }
    location.assign(`/s/${m[1]}`);
  });
}


document.addEventListener('pointerdown', unlockAudio, { once: true });
document.addEventListener('keydown', unlockAudio, { once: true });

route();

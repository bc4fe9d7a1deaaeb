//! The viewer's own preferences (sound, content notes), kept in
//! `localStorage` on this device only. Never sent to the server.

/** @param {string} key @param {boolean} fallback */
export function pref(key, fallback) {
  const v = localStorage.getItem(`peercircle.${key}`);
  return v === null ? fallback : v === 'true';
}
/** @param {string} key @param {boolean} value */
export function setPref(key, value) {
  localStorage.setItem(`peercircle.${key}`, String(value));
}

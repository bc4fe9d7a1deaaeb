//! Wall-clock times in a group's own time zone: the dashboard enters and
//! shows session times there, whatever the facilitator's computer uses.
//! Pure functions over `Intl`; no DOM, no network.

/**
 * The offset of a time zone at an instant, in ms (local − UTC).
 * @param {number} utcMs
 * @param {string} tz
 * @returns {number}
 */
function zoneOffset(utcMs, tz) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  /** @param {string} t */
  const get = (t) => Number((parts.find((x) => x.type === t) || { value: '0' }).value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * A wall-clock time (`YYYY-MM-DDTHH:MM`) in a time zone, as an instant.
 * @param {string} wall
 * @param {string} tz
 * @returns {Date | null}
 */
export function zonedToUtc(wall, tz) {
  const m = wall.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/);
  if (!m) return null;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  try {
    let utc = guess - zoneOffset(guess, tz);
    utc = guess - zoneOffset(utc, tz);
    return new Date(utc);
  } catch {
    return new Date(guess);
  }
}

/**
 * The next quarter hour, as a `datetime-local` value in the zone.
 * @param {string} tz
 * @returns {string}
 */
export function defaultStart(tz) {
  const next = Math.ceil((Date.now() + 5 * 60_000) / (15 * 60_000)) * 15 * 60_000;
  let local = next;
  try { local = next + zoneOffset(next, tz); } catch { /* unknown zone: UTC */ }
  return new Date(local).toISOString().slice(0, 16);
}

/**
 * @param {string} iso
 * @param {string} tz
 * @returns {string}
 */
export function formatInZone(iso, tz) {
  const d = new Date(iso);
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(d);
  } catch {
    return d.toLocaleString();
  }
}

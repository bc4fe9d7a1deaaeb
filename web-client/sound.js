//! The soft sound cues (your turn; someone needs you), made with Web Audio
//! so no file is fetched. Browsers allow sound only after a gesture, so the
//! context is created on the first tap or key press. Nothing here decides
//! *whether* to play: callers check the viewer's preference first.

/** @type {AudioContext | null} */
let audio = null;

/** Unlocks Web Audio on the first gesture (browsers block sound before one). */
export function unlockAudio() {
  if (audio) return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
}

/** Two quiet, rounded notes. */
export function softBeep() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, freq] of [[0, 523.25], [1, 659.25]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const t = now + i * 0.22;
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(0.05, t + 0.04);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.5);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.55);
  }
}

/**
 * Three soft rising notes: someone asked for help. Distinct from the turn
 * cue, and as quiet: it should be noticed, never startle.
 */
export function helpChime() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, freq] of [[0, 440], [1, 554.37], [2, 659.25]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const t = now + i * 0.18;
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(0.06, t + 0.04);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.65);
  }
}

//! A virtualized list: a `<ul>` that scrolls on its own and holds only the
//! rows in view plus a small margin above and below, however long the list
//! is (a large room's "Who is here" has thousands of people). Rows may differ
//! in height: each is measured once it is drawn, and rows not drawn yet are
//! guessed at the average of those measured.
//!
//! What it keeps sensible for people:
//! - rows stay in the document in list order (so Tab and a screen reader go
//!   from one to the next), each with `aria-posinset` and `aria-setsize`, so
//!   "12 of 5,000" is heard even though only a few are in the page;
//! - the row holding keyboard focus is never taken out of the page (it stays
//!   even when scrolled away); a row is drawn again only when what it shows
//!   changes (so a screen reader is not interrupted by updates to others),
//!   and then focus goes back to the control with the same `data-key`;
//! - the list itself is focusable, so the arrow keys, Page Up/Down, Home and
//!   End scroll it.
//!
//! It knows nothing of people or the session: items, a key and a row
//! builder come in; `nearEnd` says when the end of what is loaded comes
//! into view. No network, no model.

/**
 * @template T
 * @typedef {object} VirtualListOptions
 * @property {HTMLElement} list  the `<ul>`: it scrolls (CSS gives it a height or a max-height)
 * @property {(item: T, index: number) => HTMLElement} row  builds one row (an `<li>`)
 * @property {(item: T) => string} key  identifies an item across updates
 * @property {(item: T, index: number) => string} [signature]  what a row shows: a row is drawn again only when it changes (without it, on every update)
 * @property {number} [estimate]  first guess of a row's height in px
 * @property {number} [overscan]  px drawn beyond the visible part, above and below
 * @property {() => void} [nearEnd]  the last rows are (nearly) in view
 */

/** @template T */
export class VirtualList {
  /** @param {VirtualListOptions<T>} opts */
  constructor(opts) {
    this.list = opts.list;
    this.build = opts.row;
    this.keyOf = opts.key;
    this.signatureOf = opts.signature ?? null;
    this.estimate = opts.estimate ?? 56;
    this.overscan = opts.overscan ?? 400;
    this.nearEnd = opts.nearEnd ?? null;
    /** @type {T[]} */
    this.items = [];
    this.setsize = 0;
    /** Bumped by `update`: without a signature, rows of an older version are redrawn. */
    this.version = 0;
    /** @type {Map<string, number>} measured heights, by key */
    this.heights = new Map();
    this.measuredSum = 0;
    /** @type {Map<string, {el: HTMLElement, sig: string, index: number}>} rows in the page, by key */
    this.rows = new Map();
    /** @type {Float64Array} top of each row, and the end */
    this.offsets = new Float64Array(1);
    this.frame = 0;
    this.width = 0;
    /** @type {{key: string, shift: number} | null} the row to keep at the top once measured again */
    this.keepAtTop = null;
    this.list.classList.add('vlist');
    this.list.setAttribute('role', 'list');
    this.list.addEventListener('scroll', () => this.schedule(), { passive: true });
    /** @type {ResizeObserver | null} a row that changes size later (a note under a control) */
    this.rowSizes = null;
    if (typeof ResizeObserver === 'function') {
      this.rowSizes = new ResizeObserver((entries) => {
        let changed = false;
        for (const e of entries) {
          const el = /** @type {HTMLElement} */ (e.target);
          const key = el.dataset.vkey || '';
          const h = el.offsetHeight;
          const old = this.heights.get(key);
          if (!h || !el.isConnected || old === undefined || old === h) continue;
          this.measuredSum += h - old;
          this.heights.set(key, h);
          changed = true;
        }
        if (changed) this.schedule();
      });
      new ResizeObserver(() => {
        const width = this.list.clientWidth;
        // A new width may wrap rows differently: measure again, and keep
        // the row at the top of the view where it is.
        if (width !== this.width) {
          if (this.width && this.items.length && this.list.scrollTop > 0) {
            const i = this.rowAt(this.list.scrollTop);
            if (i < this.items.length) this.keepAtTop = { key: this.keyOf(this.items[i]), shift: this.list.scrollTop - this.offsets[i] };
          }
          this.width = width;
          this.heights.clear();
          this.measuredSum = 0;
        }
        this.schedule();
      }).observe(this.list);
    }
  }

  /**
   * New items (the whole list, in order): redraws the rows in view.
   * @param {T[]} items
   * @param {number} [setsize]  how many there are in all (more than `items` when not all are loaded)
   */
  update(items, setsize) {
    this.items = items;
    this.setsize = Math.max(items.length, setsize ?? items.length);
    this.version += 1;
    this.render();
  }

  /** Draws on the next frame (scrolling, resizing). */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** How many rows are in the page now. */
  get drawn() {
    return this.rows.size;
  }

  /**
   * The index of an item by key, or -1.
   * @param {string} key
   * @returns {number}
   */
  indexOfKey(key) {
    for (let i = 0; i < this.items.length; i++) if (this.keyOf(this.items[i]) === key) return i;
    return -1;
  }

  /**
   * Scrolls so that row `index` is in view, draws it, and returns it.
   * @param {number} index
   * @returns {HTMLElement | null}
   */
  reveal(index) {
    if (index < 0 || index >= this.items.length) return null;
    this.layout();
    const top = this.offsets[index];
    const bottom = this.offsets[index + 1];
    const view = this.list.clientHeight;
    if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (bottom > this.list.scrollTop + view) this.list.scrollTop = bottom - view;
    this.render();
    const row = this.rows.get(this.keyOf(this.items[index]));
    return row ? row.el : null;
  }

  /**
   * The tops of all rows from the measured and guessed heights.
   * @private
   */
  layout() {
    const n = this.items.length;
    if (this.offsets.length !== n + 1) this.offsets = new Float64Array(n + 1);
    const guess = this.heights.size ? this.measuredSum / this.heights.size : this.estimate;
    let y = 0;
    for (let i = 0; i < n; i++) {
      this.offsets[i] = y;
      y += this.heights.get(this.keyOf(this.items[i])) ?? guess;
    }
    this.offsets[n] = y;
    this.list.style.setProperty('--vlist-height', `${Math.ceil(y)}px`);
  }

  /**
   * The first row whose bottom is below `y`.
   * @private
   * @param {number} y
   * @returns {number}
   */
  rowAt(y) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Draws the rows in view (and the focused one), removes the others. */
  render() {
    const list = this.list;
    const n = this.items.length;
    this.layout();
    const view = list.clientHeight || 600;
    // After a new width, first put back the row that was at the top.
    if (this.keepAtTop) {
      const i = this.indexOfKey(this.keepAtTop.key);
      if (i >= 0) list.scrollTop = this.offsets[i] + this.keepAtTop.shift;
      this.keepAtTop = null;
    }
    // The row at the top of the view, to keep it in place if heights above change.
    const anchor = n ? this.rowAt(list.scrollTop) : 0;
    const anchorShift = n ? list.scrollTop - this.offsets[anchor] : 0;
    const start = this.rowAt(Math.max(0, list.scrollTop - this.overscan));
    const end = Math.min(n, this.rowAt(list.scrollTop + view + this.overscan) + 1);

    // Keep the row with keyboard focus, wherever it is now.
    const active = document.activeElement;
    const focusedRow = active && list.contains(active) && active !== list ? active.closest('[data-vkey]') : null;
    const focusedKey = focusedRow instanceof HTMLElement ? focusedRow.dataset.vkey || null : null;
    const focusedControl = focusedKey && active ? active.getAttribute('data-key') : null;
    /** @type {number[]} */
    const wanted = [];
    for (let i = start; i < end; i++) wanted.push(i);
    if (focusedKey) {
      const fi = this.indexOfKey(focusedKey);
      if (fi >= 0 && (fi < start || fi >= end)) {
        wanted.push(fi);
        wanted.sort((a, b) => a - b);
      }
    }

    const keep = new Set(wanted.map((i) => this.keyOf(this.items[i])));
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.el.remove();
        this.rowSizes?.unobserve(row.el);
        this.rows.delete(key);
      }
    }
    /** @type {HTMLElement[]} */
    const fresh = [];
    /** @type {HTMLElement[]} */
    const ordered = [];
    let refocus = null;
    for (const i of wanted) {
      const item = this.items[i];
      const key = this.keyOf(item);
      let row = this.rows.get(key);
      const sig = this.signatureOf ? this.signatureOf(item, i) : `v${this.version}`;
      if (!row || row.sig !== sig) {
        const el = this.build(item, i);
        el.dataset.vkey = key;
        if (row) {
          if (key === focusedKey) refocus = el;
          this.rowSizes?.unobserve(row.el);
          row.el.replaceWith(el);
        }
        this.rowSizes?.observe(el);
        row = { el, sig, index: i };
        this.rows.set(key, row);
        fresh.push(el);
      }
      row.index = i;
      const el = row.el;
      if (el.getAttribute('aria-posinset') !== String(i + 1)) el.setAttribute('aria-posinset', String(i + 1));
      if (el.getAttribute('aria-setsize') !== String(this.setsize)) el.setAttribute('aria-setsize', String(this.setsize));
      ordered.push(el);
    }
    // Put new rows in list order without moving the ones already there
    // (moving the focused one would drop its focus).
    let cur = list.firstElementChild;
    for (const el of ordered) {
      if (el === cur) {
        cur = cur.nextElementSibling;
        continue;
      }
      list.insertBefore(el, cur);
    }
    for (const el of ordered) {
      const row = this.rows.get(el.dataset.vkey || '');
      if (row) el.style.top = `${this.offsets[row.index]}px`;
    }
    // A row that had to move (the order changed) lost its focus: give it
    // back. If its person is gone, the list itself takes it (never the body).
    if (!refocus && active instanceof HTMLElement && active !== list && focusedKey && document.activeElement !== active) {
      if (active.isConnected) active.focus({ preventScroll: true });
      else list.focus({ preventScroll: true });
    }
    if (refocus) {
      const again = focusedControl ? refocus.querySelector(`[data-key="${CSS.escape(focusedControl)}"]`) : null;
      const target = again instanceof HTMLElement && !(again instanceof HTMLButtonElement && again.disabled)
        ? again : refocus.querySelector('button:not(:disabled)');
      if (target instanceof HTMLElement) target.focus({ preventScroll: true });
      else list.focus({ preventScroll: true });
    }

    // Measure what was drawn; if guesses were wrong, place the rows again
    // and keep the row at the top of the view where it was.
    let changed = false;
    const drawnNow = new Set(fresh);
    for (const el of ordered) {
      const key = el.dataset.vkey || '';
      // New rows, and rows not measured yet (drawn while hidden, or before
      // the width changed).
      if (!drawnNow.has(el) && this.heights.has(key)) continue;
      const h = el.offsetHeight;
      if (!h) continue;
      const old = this.heights.get(key);
      if (old === h) continue;
      if (old !== undefined) this.measuredSum -= old;
      this.heights.set(key, h);
      this.measuredSum += h;
      changed = true;
    }
    if (changed) {
      this.layout();
      for (const row of this.rows.values()) row.el.style.top = `${this.offsets[row.index]}px`;
      if (n && list.scrollTop > 0) {
        const target = this.offsets[Math.min(anchor, n - 1)] + anchorShift;
        if (Math.abs(target - list.scrollTop) >= 1) list.scrollTop = target;
      }
      // Rows may now be missing at the bottom of the view: draw them next frame.
      const bottom = list.scrollTop + view + this.overscan;
      if (end < n && this.offsets[end] < bottom) this.schedule();
    }

    if (this.nearEnd && n && this.offsets[n] - (list.scrollTop + view) < this.overscan) this.nearEnd();
  }
}

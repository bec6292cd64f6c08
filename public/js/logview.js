// The scrolling list of rows: a bounded store of entries, a capped DOM, one DOM update per animation frame,
// pause, and auto-scroll that lets go when the reader scrolls up.

import { Matcher } from "./filter.js";
import { buildRow } from "./rows.js";

/** Entries kept in memory, so that a new filter can search past what is on screen. */
export const STORE_LIMIT = 50_000;
/** Rows kept in the DOM; older rows are removed as new ones come. */
export const DOM_LIMIT = 5_000;
/** Characters kept in memory and in the DOM: the counts alone would let lines of 64 KiB take gigabytes. */
export const STORE_CHARS = 16 * 1024 * 1024;
export const DOM_CHARS = 4 * 1024 * 1024;
/** What a row costs beside its text, in characters, for the budgets above. */
const ROW_CHARS = 64;
/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK = 40;

export class LogView {
  /**
   * @param {{log: HTMLElement, jump: HTMLElement, onChange: function(): void}} parts the list, the jump button, and a
   *   callback after every update (for counters)
   */
  constructor({ log, jump, onChange }) {
    this.log = log;
    this.jump = jump;
    this.onChange = onChange;
    this.entries = [];
    this.chars = 0; // the sizes of `entries`
    this.domChars = 0; // the sizes of the rows in the DOM (each row carries its entry's as `spoutSize`)
    this.nextSeq = 0;
    this.renderedSeq = -1; // every entry up to this seq has been considered for the DOM
    this.pausedAt = -1; // the last entry received before the pause: while paused, the list shows up to it
    this.received = 0;
    this.pausedCount = 0;
    this.unseen = 0; // rows added while the reader is scrolled up
    this.paused = false;
    this.follow = true;
    this.frame = 0;
    this.view = { ansi: true, matcher: new Matcher(), hidden: new Set() };
    this.userScrollAt = -Infinity; // when the reader last touched the scroll position (wheel, keys, pointer)
    log.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // A wheel or a key that moves up means the reader wants to look back, even before the scroll event lands.
    log.addEventListener("wheel", (e) => (e.deltaY < 0 ? this.letGo() : this.touched()), { passive: true });
    log.addEventListener("keydown", (e) => (/^(PageUp|ArrowUp|Home)$/.test(e.key) ? this.letGo() : this.touched()));
    log.addEventListener("pointerdown", () => this.touched());
    log.addEventListener("touchstart", () => this.touched(), { passive: true });
    jump.addEventListener("click", () => this.jumpToLive());
  }

  /** Adds one entry; the DOM follows at the next frame. */
  push(entry) {
    entry.seq = this.nextSeq++;
    entry.size = entry.plain.length + ROW_CHARS;
    this.entries.push(entry);
    this.chars += entry.size;
    // Trim in chunks so that the array is not shifted on every line.
    if (this.entries.length > STORE_LIMIT + STORE_LIMIT / 4 || this.chars > STORE_CHARS + STORE_CHARS / 4) this.trimStore();
    this.received++;
    if (this.paused) this.pausedCount++;
    this.schedule();
  }

  /** One update per frame: rows when live, only the counters when paused. */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.paused) this.changed();
      else this.flush();
    });
  }

  visible(entry) {
    if (this.view.hidden.has(entry.key)) return false;
    return entry.kind === "notice" || this.view.matcher.test(entry.plain);
  }

  /** Drops the oldest entries down to both budgets, keeping the newest. */
  trimStore() {
    let drop = 0;
    let chars = this.chars;
    const entries = this.entries;
    while (drop < entries.length - 1 && (entries.length - drop > STORE_LIMIT || chars > STORE_CHARS)) chars -= entries[drop++].size;
    entries.splice(0, drop);
    this.chars = chars;
  }

  /**
   * Renders the entries not yet considered, up to seq `through`: at most DOM_LIMIT of them and DOM_CHARS of text, then
   * trims the oldest rows.
   */
  flush(through = Infinity) {
    const entries = this.entries;
    if (entries.length === 0) return this.changed();
    const first = Math.max(0, this.renderedSeq + 1 - entries[0].seq);
    const last = Math.min(entries.length - 1, through - entries[0].seq);
    const fresh = [];
    let chars = 0;
    for (let i = last; i >= first && fresh.length < DOM_LIMIT && chars < DOM_CHARS; i--) {
      if (!this.visible(entries[i])) continue;
      fresh.push(entries[i]);
      chars += entries[i].size;
    }
    if (last >= 0) this.renderedSeq = Math.max(this.renderedSeq, entries[last].seq);
    if (fresh.length > 0) {
      const fragment = document.createDocumentFragment();
      for (let i = fresh.length - 1; i >= 0; i--) {
        const row = buildRow(fresh[i], this.view);
        row.spoutSize = fresh[i].size;
        fragment.appendChild(row);
      }
      this.domChars += chars;
      this.log.appendChild(fragment);
      this.trim();
      if (this.follow) this.stickToBottom();
      else this.unseen += fresh.length;
    }
    this.changed();
  }

  /**
   * Scrolls to the bottom now and again over the next frames: new rows start at an estimated height
   * (content-visibility) and grow to their real one after layout, with no scroll event to say the bottom moved.
   */
  stickToBottom(frames = 3) {
    this.log.scrollTop = this.log.scrollHeight;
    if (frames > 0) requestAnimationFrame(() => this.follow && this.stickToBottom(frames - 1));
  }

  /** Removes the oldest rows down to both budgets, keeping the newest. */
  trim() {
    const count = this.log.childElementCount;
    let excess = 0;
    for (let row = this.log.firstElementChild; row && count - excess > 1; row = row.nextElementSibling) {
      if (count - excess <= DOM_LIMIT && this.domChars <= DOM_CHARS) break;
      this.domChars -= row.spoutSize ?? 0;
      excess++;
    }
    if (excess === 0) return;
    const range = document.createRange();
    range.setStartBefore(this.log.firstElementChild);
    range.setEndAfter(this.log.children[excess - 1]);
    range.deleteContents();
  }

  /** Rebuilds the DOM from the store, for a new filter, ANSI setting or set of hidden sources. */
  rerender() {
    this.log.replaceChildren();
    this.domChars = 0;
    this.renderedSeq = -1;
    this.unseen = 0;
    this.follow = true;
    // Paused, the list shows what had come before the pause, through the new filter; the rest waits for the resume.
    this.flush(this.paused ? this.pausedAt : Infinity);
  }

  /** @param {{ansi?: boolean, matcher?: Matcher, hidden?: Set<string>}} changes */
  update(changes) {
    Object.assign(this.view, changes);
    this.rerender();
  }

  setPaused(paused) {
    if (paused === this.paused) return;
    this.paused = paused;
    this.pausedCount = 0;
    this.pausedAt = this.nextSeq - 1;
    if (!paused) this.flush();
    this.changed();
  }

  clear() {
    this.entries = [];
    this.chars = 0;
    this.received = 0;
    this.pausedCount = 0;
    this.rerender();
  }

  /** Entries currently in the DOM. */
  get shown() {
    return this.log.childElementCount;
  }

  touched() {
    this.userScrollAt = performance.now();
  }

  letGo() {
    this.touched();
    if (this.log.scrollHeight > this.log.clientHeight) this.setFollow(false);
  }

  // Rows off screen skip layout (content-visibility) and have estimated heights, so the bottom moves a little as
  // rows come into view. Only the reader's own scrolling lets go of the bottom; otherwise it is put back.
  onScroll() {
    const fromBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight;
    if (fromBottom <= BOTTOM_SLACK) this.setFollow(true);
    else if (performance.now() - this.userScrollAt < 1000) this.setFollow(false);
    else if (this.follow) this.log.scrollTop = this.log.scrollHeight;
  }

  setFollow(follow) {
    if (follow === this.follow) return;
    this.follow = follow;
    if (follow) this.unseen = 0;
    this.changed();
  }

  jumpToLive() {
    if (this.paused) this.setPaused(false);
    this.log.scrollTop = this.log.scrollHeight;
    this.setFollow(true);
  }

  changed() {
    this.jump.hidden = this.follow;
    this.jump.textContent = this.unseen > 0 ? `Jump to live ↓ ${this.unseen.toLocaleString()} new` : "Jump to live ↓";
    this.onChange();
  }
}

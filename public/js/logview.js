// The scrolling list of rows: a bounded store of entries, a capped DOM, one DOM update per animation frame,
// pause, and auto-scroll that lets go when the reader scrolls up.

import { Matcher } from "./filter.js";
import { buildRow } from "./rows.js";

/** Entries kept in memory, so that a new filter can search past what is on screen. */
export const STORE_LIMIT = 50_000;
/** Rows kept in the DOM; older rows are removed as new ones come. */
export const DOM_LIMIT = 5_000;
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
    this.nextSeq = 0;
    this.renderedSeq = -1; // every entry up to this seq has been considered for the DOM
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
    this.entries.push(entry);
    // Trim in chunks so that the array is not shifted on every line.
    if (this.entries.length > STORE_LIMIT + STORE_LIMIT / 4) this.entries.splice(0, this.entries.length - STORE_LIMIT);
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

  /** Renders every entry not yet considered: at most DOM_LIMIT of them, then trims the oldest rows. */
  flush() {
    const entries = this.entries;
    if (entries.length === 0) return this.changed();
    const first = Math.max(0, this.renderedSeq + 1 - entries[0].seq);
    const fresh = [];
    for (let i = entries.length - 1; i >= first && fresh.length < DOM_LIMIT; i--) {
      if (this.visible(entries[i])) fresh.push(entries[i]);
    }
    this.renderedSeq = entries[entries.length - 1].seq;
    if (fresh.length > 0) {
      const fragment = document.createDocumentFragment();
      for (let i = fresh.length - 1; i >= 0; i--) fragment.appendChild(buildRow(fresh[i], this.view));
      this.log.appendChild(fragment);
      this.trim();
      if (this.follow) this.log.scrollTop = this.log.scrollHeight;
      else this.unseen += fresh.length;
    }
    this.changed();
  }

  trim() {
    const excess = this.log.childElementCount - DOM_LIMIT;
    if (excess <= 0) return;
    const range = document.createRange();
    range.setStartBefore(this.log.firstElementChild);
    range.setEndAfter(this.log.children[excess - 1]);
    range.deleteContents();
  }

  /** Rebuilds the DOM from the store, for a new filter, ANSI setting or set of hidden sources. */
  rerender() {
    this.log.replaceChildren();
    this.renderedSeq = -1;
    this.unseen = 0;
    this.follow = true;
    if (!this.paused) this.flush();
    else this.changed();
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
    if (!paused) this.flush();
    this.changed();
  }

  clear() {
    this.entries = [];
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

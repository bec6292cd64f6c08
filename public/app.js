// Spout's viewer: pick tails and topics, read them live in one list over one EventSource, filter, pause, share.
//
//   js/api.js      REST calls and the server's error shape
//   js/stream.js   the one EventSource on /events and its resume id
//   js/logview.js  the bounded list: one DOM update per frame, pause, auto-scroll
//   js/rows.js     one row as DOM (text nodes only), with ANSI colours and highlights
//   js/ansi.js     SGR escape sequences to style runs
//   js/filter.js   include / exclude, substring or regex
//   js/sidebar.js  the lists of sources and the forms
//   js/hash.js     the view's state in the URL hash

import * as api from "./js/api.js";
import { parseAnsi, parseAnsiPiece } from "./js/ansi.js";
import { Matcher } from "./js/filter.js";
import { readHash, writeHash } from "./js/hash.js";
import { LogView } from "./js/logview.js";
import { Sidebar } from "./js/sidebar.js";
import { Stream, sourceKey } from "./js/stream.js";

const $ = (id) => document.getElementById(id);
const PALETTE_SIZE = 8;
const REFRESH_MS = 3000;
/** How often a selected source the lists do not show is asked about while the server says it does not exist. */
const PROBE_MS = 30000;
const MAX_SOURCES = 32; // what GET /events takes

const STATE_TEXT = {
  idle: "no source",
  waiting: "waiting for sources",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  closed: "closed",
  refused: "refused",
};

/** What the reader chose: sources (in order), their colours, muted sources. The URL hash mirrors it. */
const state = {
  selected: [], // [{kind, name}]
  colors: new Map(), // source key -> palette index
  hidden: new Set(), // source keys whose rows are not shown
  known: new Set(), // source keys the server has, from the last list
  listed: false, // whether `known` has been filled once
  refused: new Map(), // source key -> why the server refuses it to this browser (403): left out of the stream
  absent: new Map(), // source key -> when the server last said it does not exist (404): asked again after PROBE_MS
  carried: new Map(), // tail key -> {style, pending}: what its last piece marked `continues` leaves to the next
  refusal: null, // {keys, error}: the server refused the stream of these sources as a whole; asked again when they change
};

const logView = new LogView({ log: $("log"), jump: $("jump"), onChange: updateCounters });
const stream = new Stream({
  onData: (data) => logView.push(toEntry(data)),
  onControl: onControl,
  onState: showState,
  onClosed: onClosed,
});
const sidebar = new Sidebar({
  isSelected: (key) => state.colors.has(key),
  colorOf: (key) => state.colors.get(key),
  toggle: (source, on) => (on ? select(source) : deselect(source)),
  refresh: () => refresh(),
});

// ---- sources ----------------------------------------------------------------------------------------------------

function select(source, apply = true) {
  const key = sourceKey(source);
  if (state.colors.has(key)) return;
  if (state.selected.length >= MAX_SOURCES) {
    notice("limit", `One view takes at most ${MAX_SOURCES} sources; close one to open ${key}.`, "view");
    sidebar.render(sidebar.tails, sidebar.topics);
    return;
  }
  const used = new Set(state.colors.values());
  let color = 0;
  while (used.has(color) && color < PALETTE_SIZE - 1) color++;
  if (used.has(color)) color = state.colors.size % PALETTE_SIZE;
  state.colors.set(key, color);
  state.selected.push(source);
  if (apply) sourcesChanged();
}

function deselect(source, apply = true) {
  const key = sourceKey(source);
  if (!state.colors.has(key)) return;
  state.colors.delete(key);
  state.hidden.delete(key);
  state.selected = state.selected.filter((s) => sourceKey(s) !== key);
  state.refused.delete(key);
  state.carried.delete(key);
  const under = source.kind === "topic" ? state.selected.filter((s) => s.kind === "topic" && s.name.startsWith(source.name + ".")) : [];
  stream.forget(key, under.map(sourceKey));
  if (apply) sourcesChanged();
}

/** The selected sources the server has: those go into the stream; the others wait, as `tail -F` waits for a file. */
function streamable() {
  const allowed = state.selected.filter((s) => !state.refused.has(sourceKey(s)));
  if (!state.listed) return allowed;
  return allowed.filter((s) => state.known.has(sourceKey(s)));
}

function sourcesChanged() {
  reopenIfNeeded();
  showState(stream.state);
  renderLegend();
  sidebar.render(sidebar.tails, sidebar.topics);
  saveHash();
}

/** Opens the stream again if the set of streamable sources changed, or if the browser gave up on it. */
function reopenIfNeeded() {
  const wanted = streamable();
  const keys = wanted.map(sourceKey).join();
  // Refused as a whole: the same request would get the same answer.
  if (state.refusal?.keys === keys) return;
  state.refusal = null;
  if (keys === stream.sources.map(sourceKey).join() && stream.state !== "closed") return;
  stream.open(wanted);
}

let refreshTimer = 0;

/**
 * The browser gave up on the stream: the server refused it, not a dropped connection, which the browser retries by
 * itself. An EventSource cannot see why, so ask the same again. A source gone after a restart (404) or a server away:
 * look at the lists soon; `refresh` opens it again. A source this browser may not read (403): leave it out, say so,
 * and go on with the others. Any other refusal (a request too large, say) is shown and not asked again.
 */
async function onClosed() {
  clearTimeout(refreshTimer);
  const { url, sources } = stream;
  const error = await api.streamRefusal(url, stream.lastId);
  if (stream.url !== url || stream.state !== "closed") return; // the reader changed the sources meanwhile
  if (!error || error.status === 0 || error.status === 404 || error.status >= 500) {
    refreshTimer = setTimeout(refresh, 1000);
    return;
  }
  if (error.status === 401) return askForToken(error.message);
  if (error.status === 403 && (await refuseForbidden(sources)) > 0) return sourcesChanged();
  state.refusal = { keys: sources.map(sourceKey).join(), error };
  notice("refused", refusalSentence(error));
  showState(stream.state);
}

/** Looks for the sources the server refuses to this browser; returns how many it found. */
async function refuseForbidden(sources) {
  let found = 0;
  for (const source of sources) {
    const key = sourceKey(source);
    if (state.refused.has(key) || performance.now() - (state.absent.get(key) ?? -Infinity) < PROBE_MS) continue;
    const error = await api.sourceRefusal(source.kind, source.name);
    // Not there (yet): each probe is a 404 in the browser's console, so a source waited for is asked about seldom.
    if (error?.status === 404) state.absent.set(key, performance.now());
    if (error?.status !== 403) continue;
    state.refused.set(key, error.message);
    notice("refused", `${key} is left out of this view: ${error.message}`, key, source.name);
    found++;
  }
  return found;
}

function refusalSentence(error) {
  if (error.status === 414 || error.status === 431) {
    return `The server refused the stream (${error.status}): its request is larger than the server accepts. ` +
      "Close some sources, or start the server with a larger --connection-memory.";
  }
  return `The server refused the stream (${error.status} ${error.code}): ${error.message}`;
}

/** Adds a notice row of the view itself, or of one source. */
function notice(type, plain, key = "stream", label = "view") {
  logView.push({ kind: "notice", type, key, color: colorOf(key), label, time: new Date().toISOString(), plain });
}

/** Reloads the lists of tails and topics; a source that appears or vanishes changes the stream. */
async function refresh() {
  clearTimeout(refreshTimer);
  const started = performance.now();
  try {
    const [tails, topics] = await Promise.all([api.listTails(), api.listTopics()]);
    state.known = new Set([...tails.map((t) => `tail:${t.id}`), ...topics.map((t) => `topic:${t.name}`)]);
    state.listed = true;
    // A list shows only what the token may see: a source missing from it may be one this browser may not read.
    await refuseForbidden(state.selected.filter((s) => !state.known.has(sourceKey(s))));
    sidebar.render(tails, topics);
    renderLegend();
    reopenIfNeeded();
    showState(stream.state);
  } catch (error) {
    // 401: the server checks tokens, and this browser has none (or an expired one). Otherwise the server is away; the
    // stream reconnects by itself and the next refresh tries again.
    if (error instanceof api.ApiError && error.status === 401) {
      signedIn(false);
      askForToken(error.message);
    }
  } finally {
    // A list long enough to take a while to fetch and show is reloaded less often, so that it never takes more than
    // a tenth of the page's time.
    refreshTimer = setTimeout(refresh, Math.max(REFRESH_MS, 10 * (performance.now() - started)));
  }
}

/** Shows the token dialog once; a token that the server accepts becomes its cookie, and the lists load again. */
function askForToken(reason) {
  const dialog = $("token-dialog");
  if (dialog.open) return;
  $("token-reason").textContent = reason;
  $("token-message").hidden = true;
  dialog.showModal();
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("token-input");
  try {
    await api.openSession(input.value.trim());
    input.value = "";
    signedIn(true);
    // Another token may grant what the last one did not.
    state.refused.clear();
    state.absent.clear();
    state.refusal = null;
    $("token-dialog").close();
    await refresh();
  } catch (error) {
    $("token-message").textContent = error.message;
    $("token-message").hidden = false;
  }
});

/** Remembers whether this browser handed the server a token, which the sign-out button then offers to forget. */
function signedIn(on) {
  $("sign-out").hidden = !on;
  try {
    if (on) localStorage.setItem("spout.session", "1");
    else localStorage.removeItem("spout.session");
  } catch {
    // storage may be off; the button still shows for this page
  }
}

/** Forgets the token: the cookie is cleared, the stream it opened is closed and what it showed is cleared with it. */
async function signOut() {
  try {
    await api.closeSession();
  } catch (error) {
    notice("signout", `Could not sign out: ${error.message}`);
    return;
  }
  signedIn(false);
  stream.open([]);
  logView.clear();
  await refresh();
}

function renderLegend() {
  const legend = $("legend");
  legend.replaceChildren(...state.selected.map((source) => {
    const key = sourceKey(source);
    const refused = state.refused.get(key);
    const waiting = !refused && state.listed && !state.known.has(key);
    const chip = document.createElement("span");
    chip.className = `chip c${state.colors.get(key)}`;
    chip.dataset.source = key;
    chip.dataset.testid = "chip";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "chip-label";
    toggle.setAttribute("aria-pressed", String(!state.hidden.has(key)));
    toggle.title = refused ? `${key} is refused: ${refused}` : waiting ? `${key} does not exist (yet); waiting for it` : `Show or hide ${key}`;
    toggle.textContent = source.name;
    if (waiting) toggle.append(Object.assign(document.createElement("span"), { className: "chip-wait", textContent: " waiting" }));
    if (refused) toggle.append(Object.assign(document.createElement("span"), { className: "chip-wait", textContent: " refused" }));
    toggle.addEventListener("click", () => {
      if (state.hidden.has(key)) state.hidden.delete(key);
      else state.hidden.add(key);
      logView.update({ hidden: state.hidden });
      renderLegend();
    });
    const close = document.createElement("button");
    close.type = "button";
    close.className = "chip-close";
    close.setAttribute("aria-label", `Close ${key}`);
    close.textContent = "×";
    close.addEventListener("click", () => deselect(source));
    chip.append(toggle, close);
    return chip;
  }));
  $("empty").hidden = state.selected.length > 0 || logView.received > 0;
}

// ---- events to entries ------------------------------------------------------------------------------------------

/** The selected topic a message belongs to: its own, or the nearest selected ancestor. */
function topicKey(topic) {
  let best = null;
  for (const s of state.selected) {
    if (s.kind !== "topic") continue;
    if ((topic === s.name || topic.startsWith(s.name + ".")) && (!best || s.name.length > best.length)) best = s.name;
  }
  return `topic:${best ?? topic}`;
}

function colorOf(key) {
  return state.colors.get(key) ?? "x";
}

/** A line of a tail or a message of a topic, as the list keeps it. */
function toEntry(data) {
  if (data.tail !== undefined) {
    const key = `tail:${data.tail}`;
    // A line longer than the server's cap comes in pieces: its colours, and an escape cut in two, go on into the next.
    const { plain, runs, carry } = parseAnsiPiece(String(data.line ?? ""), state.carried.get(key));
    if (data.continues) state.carried.set(key, carry);
    else state.carried.delete(key);
    return { kind: "line", key, color: colorOf(key), label: data.tail, time: data.time, plain, runs, continues: data.continues };
  }
  const key = topicKey(String(data.topic));
  const text = typeof data.data === "string" ? data.data : (data.dataText ?? JSON.stringify(data.data));
  const { plain, runs } = parseAnsi(text ?? "");
  return { kind: "line", key, color: colorOf(key), label: data.topic, time: data.time, event: data.event, plain, runs };
}

/** A sentence for a control event: the server's own message when it gives one. */
function describe(type, data) {
  if (type === "end" && data.reason === "shutdown") return "The server is shutting down; reconnecting, to go on where this view was.";
  if (type === "end" && data.reason === "slow_subscriber") return "This view fell too far behind; reconnecting, to go on where it was.";
  if (data.message) return data.message;
  const where = data.path ? `${data.path} ` : "";
  switch (type) {
    case "truncated": return `${where}was truncated; reading it again from the start`;
    case "rotated": return `${where}was rotated; following the new file`;
    case "appeared": return `${where}appeared; following it`;
    case "removed": return `${where}was removed${data.reason ? ` (${data.reason})` : ""}; waiting for it to come back`;
    case "dropped": return `${data.count} messages were dropped`;
    default: return data.reason ? `${type}: ${data.reason}` : type;
  }
}

function onControl(type, data) {
  const key = data.tail !== undefined ? `tail:${data.tail}` : data.topic !== undefined ? topicKey(data.topic) : "stream";
  // Whatever comes next is not the rest of an unfinished line's piece (a gap, a truncation, another file).
  state.carried.delete(key);
  const label = data.tail ?? data.topic ?? "stream";
  const time = data.time ?? new Date().toISOString();
  logView.push({ kind: "notice", type, key, color: colorOf(key), label, time, plain: describe(type, data) });
  // A deleted source ends alone; the others go on in a new stream that resumes them.
  const gone = type === "deleted" || (type === "end" && data.reason === "deleted");
  if (gone && key !== "stream") {
    state.known.delete(key);
    const source = state.selected.find((s) => sourceKey(s) === key);
    if (source) deselect(source);
  }
  if (gone) refresh();
}

// ---- the toolbar ------------------------------------------------------------------------------------------------

let filterTimer = 0;

function applyFilter() {
  const matcher = new Matcher({ include: $("filter").value, exclude: $("exclude").value, regex: $("regex").checked });
  const error = $("filter-error");
  error.hidden = !matcher.error;
  error.textContent = matcher.error ?? "";
  $("filter").toggleAttribute("aria-invalid", Boolean(matcher.error && matcher.error.startsWith("Filter")));
  $("exclude").toggleAttribute("aria-invalid", Boolean(matcher.error && matcher.error.startsWith("Exclude")));
  logView.update({ matcher });
  saveHash();
}

function scheduleFilter() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(applyFilter, 80);
}

function setPaused(paused) {
  logView.setPaused(paused);
  const button = $("pause");
  button.setAttribute("aria-pressed", String(paused));
  button.classList.toggle("active", paused);
  updateCounters();
}

function updateCounters() {
  const fmt = (n) => n.toLocaleString("en-US");
  $("stat-received").textContent = `${fmt(logView.received)} received`;
  $("stat-shown").textContent = `${fmt(logView.shown)} shown`;
  const paused = $("stat-paused");
  paused.hidden = !logView.paused;
  paused.textContent = `paused: ${fmt(logView.pausedCount)} new`;
  $("pause").textContent = logView.paused ? `Resume (${fmt(logView.pausedCount)})` : "Pause";
  $("empty").hidden = state.selected.length > 0 || logView.received > 0;
}

function showState(connection) {
  // Sources chosen but none on the server (yet): waiting, as `tail -F` waits for a file.
  if (connection === "idle" && state.selected.length > 0) connection = "waiting";
  if (state.refusal) connection = "refused";
  const conn = $("conn");
  conn.dataset.state = connection;
  conn.querySelector(".conn-text").textContent = STATE_TEXT[connection] ?? connection;
}

// ---- settings, theme, hash ----------------------------------------------------------------------------------------

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem("spout.theme", theme);
  } catch {
    // storage may be off; the theme still applies to this page
  }
}

function saveHash() {
  writeHash({
    sources: state.selected,
    include: $("filter").value,
    exclude: $("exclude").value,
    regex: $("regex").checked,
  });
}

/** Applies the URL hash: sources to select, filters. */
function loadHash() {
  const view = readHash();
  $("filter").value = view.include;
  $("exclude").value = view.exclude;
  $("regex").checked = view.regex;
  const wanted = new Set(view.sources.map(sourceKey));
  for (const s of state.selected) if (!wanted.has(sourceKey(s))) deselect(s, false);
  for (const s of view.sources) select(s, false);
  sourcesChanged();
  applyFilter();
}

// ---- keyboard ---------------------------------------------------------------------------------------------------

/** Whether keys go into a field (text, not a checkbox or a button). */
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
  return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
}

/** Whether the key is one the focused control acts on itself (Space on a checkbox or a button). */
function native(e) {
  const control = e.target instanceof HTMLButtonElement || e.target instanceof HTMLInputElement;
  return control && (e.key === " " || e.key === "Enter");
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  // A modal dialog has the keys: Escape closes it, and nothing acts on the page behind it.
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "Escape" && typing(e.target)) {
    if (e.target.value) {
      e.target.value = "";
      e.target.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      e.target.blur();
    }
    e.preventDefault();
    return;
  }
  if (typing(e.target) || native(e)) return;
  const actions = {
    "/": () => $("filter").focus(),
    p: () => setPaused(!logView.paused),
    " ": () => setPaused(!logView.paused),
    End: () => logView.jumpToLive(),
    G: () => logView.jumpToLive(),
    c: () => logView.clear(),
    a: () => $("ansi").click(),
    w: () => $("wrap").click(),
    t: () => $("theme").click(),
    "?": () => $("help-dialog").showModal(),
    Escape: () => closeDrawer(),
  };
  const action = actions[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
}

function closeDrawer() {
  document.body.classList.remove("drawer-open");
  $("drawer-toggle").setAttribute("aria-expanded", "false");
}

// ---- start ------------------------------------------------------------------------------------------------------

function wire() {
  $("toolbar").addEventListener("submit", (e) => e.preventDefault());
  for (const id of ["filter", "exclude"]) $(id).addEventListener("input", scheduleFilter);
  $("regex").addEventListener("change", applyFilter);
  $("pause").addEventListener("click", () => setPaused(!logView.paused));
  $("clear").addEventListener("click", () => logView.clear());
  $("ansi").addEventListener("change", () => logView.update({ ansi: $("ansi").checked }));
  $("wrap").addEventListener("change", () => $("log").classList.toggle("nowrap", !$("wrap").checked));
  $("times").addEventListener("change", () => $("log").classList.toggle("notimes", !$("times").checked));
  $("history").addEventListener("change", () => {
    stream.history = Number($("history").value);
  });
  $("theme").addEventListener("click", () => setTheme(document.documentElement.dataset.theme === "light" ? "dark" : "light"));
  $("help").addEventListener("click", () => $("help-dialog").showModal());
  $("sign-out").addEventListener("click", signOut);
  $("drawer-toggle").addEventListener("click", () => {
    const open = document.body.classList.toggle("drawer-open");
    $("drawer-toggle").setAttribute("aria-expanded", String(open));
  });
  document.querySelector(".main").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", loadHash);
}

async function start() {
  let theme = null;
  try {
    theme = localStorage.getItem("spout.theme");
    $("sign-out").hidden = localStorage.getItem("spout.session") === null;
  } catch {
    // no storage: follow the system
  }
  setTheme(theme ?? (matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark"));
  wire();
  await refresh();
  loadHash();
}

// Tests and the curious can look inside.
window.spout = { state, stream, logView };
start();

// The live connection: every open source over ONE EventSource on GET /events (format=json), with one resume id.
//
// Resuming: the browser's EventSource reconnects by itself with Last-Event-ID after a dropped connection or an `end`
// event (shutdown, slow subscriber). When the set of sources changes, a new EventSource starts with
// `lastEventId=<one id for the sources that stay>`, so they go on exactly where they were; a new source starts fresh.
// Ids on /events are `kind:name=id` pairs joined by commas (MultiplexId in openapi.yaml); this keeps the latest id of
// each source from them.

/** Named SSE events the server uses for control; their data is a JSON object. ControlEventTests keeps this list equal
 * to the server's (Sources/Feeds/ControlEvent.swift). */
export const CONTROL_EVENTS = ["gap", "dropped", "end", "deleted", "truncated", "rotated", "released", "appeared", "removed"];

/** "tail:app" or "topic:orders". */
export const sourceKey = (source) => `${source.kind}:${source.name}`;

/** Reads a MultiplexId into [key, id] pairs. */
export function parseMultiplexId(id) {
  const pairs = [];
  for (const part of id.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) pairs.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  return pairs;
}

/** The URL of the one stream for these sources. */
export function streamUrl(sources, { lastEventId = "", history = 10 } = {}) {
  const query = new URLSearchParams();
  for (const s of sources) query.append(s.kind, s.name);
  query.set("format", "json");
  query.set("lines", String(history));
  query.set("backlog", String(history));
  if (lastEventId) query.set("lastEventId", lastEventId);
  return `events?${query}`;
}

/** Whether topic id `a` (`<epoch>-<sequence>`, the sequence counting every topic's messages) comes after `b`; an id of
 * another epoch counts as later, since it was seen more recently. */
function later(a, b) {
  const [ea, sa] = [a.slice(0, a.lastIndexOf("-")), Number(a.slice(a.lastIndexOf("-") + 1))];
  const [eb, sb] = [b.slice(0, b.lastIndexOf("-")), Number(b.slice(b.lastIndexOf("-") + 1))];
  return ea !== eb || sa > sb;
}

/**
 * A message's JSON `data` as the server wrote it, from its event: `data` is the object's last member, and no string
 * before it holds an unescaped quote. `JSON.parse` would round 9007199254740993 and write 1.0 as 1.
 */
function rawData(text) {
  const at = text.indexOf(',"data":');
  return at < 0 ? undefined : text.slice(at + ',"data":'.length, -1);
}

export class Stream {
  /**
   * @param {object} handlers
   * @param {function(object): void} handlers.onData a line or a message (its parsed JSON data)
   * @param {function(string, object): void} handlers.onControl a control event's name and parsed data
   * @param {function(string): void} handlers.onState idle, connecting, live, reconnecting or closed
   * @param {function(): void} handlers.onClosed the browser gave up (the server refused the stream): the app may
   *   check its sources and call `open` again
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.es = null;
    this.sources = [];
    this.cursors = new Map(); // source key -> that source's own id of the last event seen
    this.url = ""; // the open stream's URL
    this.lastId = ""; // the last id it delivered: the browser's reconnect sends it as Last-Event-ID
    this.history = 10;
    this.state = "idle";
  }

  /** The resume id for the given sources: the ids of those seen so far, in the MultiplexId form. */
  resumeId(sources) {
    return sources
      .map(sourceKey)
      .filter((key) => this.cursors.has(key))
      .map((key) => `${key}=${this.cursors.get(key)}`)
      .join(",");
  }

  /** (Re)opens the stream for these sources; sources that were open already resume where they were. */
  open(sources) {
    this.close();
    this.sources = sources;
    if (sources.length === 0) return;
    this.url = streamUrl(sources, { lastEventId: this.resumeId(sources), history: this.history });
    this.lastId = "";
    const es = new EventSource(this.url);
    this.es = es;
    this.setState("connecting");
    es.onopen = () => this.setState("live");
    es.onerror = () => {
      if (es !== this.es) return;
      if (es.readyState === EventSource.CLOSED) {
        this.setState("closed");
        this.handlers.onClosed();
      } else {
        this.setState("reconnecting");
      }
    };
    es.onmessage = (e) => {
      const data = JSON.parse(e.data);
      if (data && data.topic !== undefined && typeof data.data !== "string") data.dataText = rawData(e.data);
      const seen = this.seen(data);
      this.remember(e.lastEventId);
      if (!seen) this.handlers.onData(data);
    };
    for (const name of CONTROL_EVENTS) es.addEventListener(name, (e) => this.control(es, name, e));
  }

  control(es, name, e) {
    this.remember(e.lastEventId);
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      data = { message: e.data };
    }
    // Every source was deleted: a reconnect would get 404, so do not let the browser try.
    if (name === "end" && data.reason === "deleted" && es === this.es) {
      es.close();
      this.setState("closed");
    }
    this.handlers.onControl(name, data);
  }

  /**
   * Whether a topic's message was shown before, by that topic's own cursor: a parent topic opened beside an open child
   * stands in for it on the stream, and its backlog holds the child's latest messages. Moves that cursor on.
   */
  seen(data) {
    if (typeof data?.topic !== "string" || typeof data.id !== "string") return false;
    const key = `topic:${data.topic}`;
    const own = this.cursors.get(key);
    if (own === undefined) return false;
    if (!later(data.id, own)) return true;
    this.cursors.set(key, data.id);
    return false;
  }

  remember(id) {
    if (id) this.lastId = id;
    for (const [key, value] of parseMultiplexId(id ?? "")) this.cursors.set(key, value);
  }

  /**
   * Drops what is known of a source the reader closed: opened again, it starts fresh. Open descendants of a closed
   * topic take its cursor where it is further on: while both were open, their messages came under the ancestor.
   * @param {string} key the closed source
   * @param {string[]} descendants keys of the open topics under it
   */
  forget(key, descendants = []) {
    const id = this.cursors.get(key);
    this.cursors.delete(key);
    if (id === undefined) return;
    for (const other of descendants) {
      const own = this.cursors.get(other);
      if (own === undefined || later(id, own)) this.cursors.set(other, id);
    }
  }

  /** Closes the stream; the cursors stay, so `open` resumes. */
  close() {
    if (this.es) this.es.close();
    this.es = null;
    this.setState("idle");
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.handlers.onState(state);
  }
}

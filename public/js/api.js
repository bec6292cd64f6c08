// The REST side of Spout. Every error answer is {"error": {"code", "message"}}; ApiError carries it to the page.

/** A refusal from the server (or no answer at all: status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, { json, text, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (text !== undefined) {
    init.headers["Content-Type"] = "text/plain; charset=utf-8";
    init.body = text;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", "The server does not answer. Is it running?");
  }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error;
    throw new ApiError(response.status, error?.code ?? "http_" + response.status,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`);
  }
  return body;
}

const path = (kind, name) => `${kind}/${encodeURIComponent(name)}`;

/** Hands a token to the server once; it comes back as an HttpOnly cookie that every request, EventSource too, sends. */
export const openSession = (token) => request("POST", "session", { headers: { Authorization: `Bearer ${token}` } });

/** Has the server forget this browser's token: the cookie is cleared. */
export const closeSession = () => request("DELETE", "session");

export const listTails = async () => (await request("GET", "tails")).tails;
export const listTopics = async () => (await request("GET", "topics")).topics;

/** @param {{path: string, name?: string, retry?: boolean}} tail */
export const createTail = (tail) => request("POST", "tails", { json: tail });
export const deleteTail = (id) => request("DELETE", path("tails", id));
export const createTopic = (name) => request("POST", "topics", { json: { name } });
export const deleteTopic = (name) => request("DELETE", path("topics", name));

/** Publishes text as is, or, with an event type, as {"data": text, "event": type}. */
export function publish(topic, data, event) {
  const target = `${path("topics", topic)}/messages`;
  return event ? request("POST", target, { json: { data, event } }) : request("POST", target, { text: data });
}

/** The server's answer to a GET, as an ApiError, or null when it is 2xx; a stream's body is not read. */
async function refusal(path, headers = {}) {
  const controller = new AbortController();
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "text/event-stream", ...headers }, signal: controller.signal, cache: "no-store" });
  } catch {
    return new ApiError(0, "network", "The server does not answer. Is it running?");
  }
  if (response.ok) {
    controller.abort();
    return null;
  }
  const error = (await response.json().catch(() => null))?.error;
  return new ApiError(response.status, error?.code ?? "http_" + response.status,
    error?.message ?? `The server answered ${response.status} ${response.statusText}.`);
}

/** Why the server refuses the stream at `url` now (an EventSource cannot tell), or null if it would serve it. */
export const streamRefusal = (url, lastEventId) => refusal(url, lastEventId ? { "Last-Event-ID": lastEventId } : {});

/** Why the server refuses a source's own stream to this browser, or null if it would serve it. */
export const sourceRefusal = (kind, name) =>
  refusal(kind === "tail" ? `${path("tails", name)}/events?lines=0` : `${path("topics", name)}/events`);

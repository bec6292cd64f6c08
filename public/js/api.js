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

// The view in the URL hash, so that a view can be bookmarked and shared:
// #tail=app&topic=orders&q=error&x=debug&re=1 (sources in order, include filter, exclude filter, regex).

const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** @returns {{sources: Array<{kind: string, name: string}>, include: string, exclude: string, regex: boolean}} */
export function readHash() {
  const query = new URLSearchParams(location.hash.slice(1));
  const sources = [];
  for (const [kind, name] of query) {
    if ((kind === "tail" || kind === "topic") && NAME.test(name) && name.length <= 128) sources.push({ kind, name });
  }
  return { sources, include: query.get("q") ?? "", exclude: query.get("x") ?? "", regex: query.get("re") === "1" };
}

/** Replaces the hash (no new history entry, no hashchange event). */
export function writeHash({ sources, include, exclude, regex }) {
  const query = new URLSearchParams();
  for (const s of sources) query.append(s.kind, s.name);
  if (include) query.set("q", include);
  if (exclude) query.set("x", exclude);
  if (regex) query.set("re", "1");
  const hash = query.toString();
  if (hash !== location.hash.slice(1)) history.replaceState(null, "", hash ? `#${hash}` : location.pathname + location.search);
}

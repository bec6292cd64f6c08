// The include and exclude filters: case-insensitive substrings, or regular expressions when asked.

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Compiles one filter field.
 * @returns {{re: RegExp|null, error: string|null}} re is null when the field is empty or invalid
 */
function compile(text, regex) {
  if (text === "") return { re: null, error: null };
  try {
    return { re: new RegExp(regex ? text : escapeRegExp(text), "gi"), error: null };
  } catch (e) {
    return { re: null, error: e.message };
  }
}

/** The matcher for the current filter settings; `error` names an invalid regular expression, which filters nothing. */
export class Matcher {
  /**
   * @param {{include: string, exclude: string, regex: boolean}} settings
   */
  constructor({ include = "", exclude = "", regex = false } = {}) {
    const inc = compile(include, regex);
    const exc = compile(exclude, regex);
    this.include = inc.re;
    this.exclude = exc.re;
    this.error = inc.error ? `Filter: ${inc.error}` : exc.error ? `Exclude: ${exc.error}` : null;
    this.active = Boolean(this.include || this.exclude);
  }

  /** Whether a line's plain text passes both filters. */
  test(plain) {
    if (this.include && !hit(this.include, plain)) return false;
    if (this.exclude && hit(this.exclude, plain)) return false;
    return true;
  }

  /**
   * Where the include filter matches, for highlighting.
   * @returns {Array<[number, number]>} sorted, non-overlapping, non-empty [start, end) ranges
   */
  ranges(plain) {
    const re = this.include;
    if (!re) return [];
    const out = [];
    re.lastIndex = 0;
    for (let m; (m = re.exec(plain)) !== null;) {
      if (m[0] === "") {
        re.lastIndex++;
        continue;
      }
      out.push([m.index, m.index + m[0].length]);
      if (out.length >= 1000) break;
    }
    return out;
  }
}

function hit(re, text) {
  re.lastIndex = 0;
  return re.test(text);
}

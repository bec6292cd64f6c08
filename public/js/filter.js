// The include and exclude filters: case-insensitive substrings, or regular expressions when asked.

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Compiles one filter field.
 * @returns {{re: RegExp|null, error: string|null}} re is null when the field is empty or invalid
 */
function compile(text, regex) {
  if (text === "") return { re: null, error: null };
  if (regex && repeatsARepeat(text)) {
    return {
      re: null,
      error: "it repeats a group that repeats or has alternatives, which can take time exponential in a line's length "
        + "(write (a|b)+ as [ab]+, (a+)+ as a+)",
    };
  }
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

/**
 * The quantifier at `i`, if one starts there: its length, and whether it may repeat what it follows.
 * @returns {{length: number, repeats: boolean}}
 */
function quantifierAt(pattern, i) {
  const lazy = (n) => (pattern[i + n] === "?" ? n + 1 : n);
  if (pattern[i] === "*" || pattern[i] === "+") return { length: lazy(1), repeats: true };
  if (pattern[i] === "?") return { length: lazy(1), repeats: false };
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
  if (!braces) return { length: 0, repeats: false };
  const most = braces[2] === undefined ? Number(braces[1]) : braces[3] === "" ? Infinity : Number(braces[3]);
  return { length: lazy(braces[0].length), repeats: most > 1 };
}

/**
 * Whether a pattern repeats a group that itself repeats something or has alternatives, as `(a+)+` or `(a|aa)*` do.
 * On a line such a pattern does not match, JavaScript's engine can try every way of splitting the line among the
 * repeats: a link to the viewer with one in its filter hung the tab for seconds per line.
 */
export function repeatsARepeat(pattern) {
  // For each open group: whether it holds a repeat or an alternative.
  const groups = [false];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
    } else if (c === "[") {
      for (i++; i < pattern.length && pattern[i] !== "]"; i++) if (pattern[i] === "\\") i++;
    } else if (c === "(") {
      groups.push(false);
      // (?:, (?=, (?!, (?<=, (?<!, (?<name>: the prefix is not a quantifier.
      if (pattern[i + 1] === "?") while (i < pattern.length && !":=!>".includes(pattern[i])) i++;
    } else if (c === ")") {
      const risky = groups.length > 1 ? groups.pop() : false;
      const quantifier = quantifierAt(pattern, i + 1);
      if (risky && quantifier.repeats) return true;
      if (risky || quantifier.length > 0) groups[groups.length - 1] = true;
      i += quantifier.length;
    } else if (c === "|") {
      groups[groups.length - 1] = true;
    } else {
      const quantifier = quantifierAt(pattern, i);
      if (quantifier.length > 0) {
        groups[groups.length - 1] = true;
        i += quantifier.length - 1;
      }
    }
  }
  return false;
}

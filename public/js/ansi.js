// ANSI escape sequences in log lines: SGR colours become style runs over the plain text, everything else is dropped.
// The text itself is never interpreted as markup; callers put it into text nodes.
// SGR reference: ECMA-48 §8.3.117 and https://en.wikipedia.org/wiki/ANSI_escape_code#SGR

// CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
const ESCAPE = /\x1b(?:\[([0-9;:?<=>]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

/** A style with nothing set: the terminal's default. */
function plainStyle() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false };
}

function isPlain(style) {
  return style.fg === null && style.bg === null && !style.bold && !style.dim && !style.italic && !style.underline &&
    !style.inverse && !style.strike;
}

/** The colour of xterm's 256-colour index n: 0–15 stay palette indexes (themed by CSS), the rest become rgb(). */
function color256(n) {
  if (n < 16) return n;
  if (n < 232) {
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    const i = n - 16;
    return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey},${grey},${grey})`;
}

/**
 * Reads an extended colour (`5;n` or `2;r;g;b`) starting at codes[i].
 * @returns {[string|number|null, number]} the colour and the index of its last code.
 */
function extendedColor(codes, i) {
  if (codes[i] === 5 && i + 1 < codes.length) return [color256(codes[i + 1] & 255), i + 1];
  if (codes[i] === 2 && i + 3 < codes.length) {
    const [r, g, b] = codes.slice(i + 1, i + 4).map((v) => Math.min(255, v));
    return [`rgb(${r},${g},${b})`, i + 3];
  }
  return [null, codes.length];
}

/** Applies one SGR parameter list to a style, in place. */
function applySGR(style, params) {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) Object.assign(style, plainStyle());
    else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 3) style.italic = true;
    else if (c === 4) style.underline = true;
    else if (c === 7) style.inverse = true;
    else if (c === 9) style.strike = true;
    else if (c === 22) style.bold = style.dim = false;
    else if (c === 23) style.italic = false;
    else if (c === 24) style.underline = false;
    else if (c === 27) style.inverse = false;
    else if (c === 29) style.strike = false;
    else if (c >= 30 && c <= 37) style.fg = c - 30;
    else if (c === 38) [style.fg, i] = extendedColor(codes, i + 1);
    else if (c === 39) style.fg = null;
    else if (c >= 40 && c <= 47) style.bg = c - 40;
    else if (c === 48) [style.bg, i] = extendedColor(codes, i + 1);
    else if (c === 49) style.bg = null;
    else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
    else if (c >= 100 && c <= 107) style.bg = c - 100 + 8;
  }
}

/** An escape sequence cut off at the end of a text: a long line's piece may end inside one. */
const UNFINISHED = /\x1b(?:\[[0-9;:?<=>]*[ -/]*)?$/;

/**
 * The style in force after a piece of a long line, and any escape sequence it ends inside of, to go on with in the
 * next piece.
 * @param {string} text the piece as it came
 * @param {{style: object, pending: string}} [from] what the piece before left
 * @returns {{plain: string, runs: Array<{start: number, end: number, style: object}>, carry: {style: object, pending: string}}}
 */
export function parseAnsiPiece(text, from) {
  const whole = (from?.pending ?? "") + text;
  const cut = UNFINISHED.exec(whole);
  const pending = cut ? cut[0] : "";
  const { plain, runs, end } = parseAnsi(cut ? whole.slice(0, cut.index) : whole, from?.style);
  return { plain, runs, carry: { style: end, pending } };
}

/**
 * Splits a line into its plain text and the styled runs over it.
 * @param {string} text a line that may hold escape sequences
 * @param {object} [start] the style in force where the text begins: a long line comes in pieces, and a colour set
 *   in one piece goes on in the next
 * @returns {{plain: string, runs: Array<{start: number, end: number, style: object}>, end: object}} runs cover only
 *   styled text; `end` is the style in force after it
 */
export function parseAnsi(text, start = plainStyle()) {
  if (!text.includes("\x1b")) {
    return { plain: text, runs: isPlain(start) || text === "" ? [] : [{ start: 0, end: text.length, style: { ...start } }], end: start };
  }
  const runs = [];
  let plain = "";
  const style = { ...start };
  let last = 0;
  const emit = (chunk) => {
    if (chunk === "") return;
    if (!isPlain(style)) runs.push({ start: plain.length, end: plain.length + chunk.length, style: { ...style } });
    plain += chunk;
  };
  ESCAPE.lastIndex = 0;
  for (let m; (m = ESCAPE.exec(text)) !== null;) {
    emit(text.slice(last, m.index));
    if (m[2] === "m") applySGR(style, m[1] ?? "");
    last = ESCAPE.lastIndex;
  }
  emit(text.slice(last));
  return { plain, runs, end: style };
}

/** Puts a run's style on an element: palette colours as classes (themed), others inline. */
export function styleElement(el, style) {
  let { fg, bg } = style;
  if (style.inverse) {
    [fg, bg] = [bg, fg];
    el.classList.add("a-inv");
  }
  if (typeof fg === "number") el.classList.add(`a-fg${fg}`);
  else if (fg) el.style.color = fg;
  if (typeof bg === "number") el.classList.add(`a-bg${bg}`);
  else if (bg) el.style.backgroundColor = bg;
  if (style.bold) el.classList.add("a-b");
  if (style.dim) el.classList.add("a-dim");
  if (style.italic) el.classList.add("a-i");
  if (style.underline) el.classList.add("a-u");
  if (style.strike) el.classList.add("a-s");
}

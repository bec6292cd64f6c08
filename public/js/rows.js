// One log row as DOM. Log text only ever reaches the page as text nodes or textContent: a line is data, never markup.

import { styleElement } from "./ansi.js";

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** "23:12:44.189" in local time, or the input itself if it is not a date. */
export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? "");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Appends `plain` to `parent`, styled by the ANSI runs and with the highlighted ranges inside <mark>.
 * @param {Node} parent
 * @param {string} plain the line without escape sequences
 * @param {Array<{start:number,end:number,style:object}>} runs sorted, non-overlapping
 * @param {Array<[number, number]>} marks sorted, non-overlapping
 */
export function appendStyledText(parent, plain, runs, marks) {
  if (runs.length === 0 && marks.length === 0) {
    parent.appendChild(document.createTextNode(plain));
    return;
  }
  const cuts = new Set([0, plain.length]);
  for (const r of runs) cuts.add(r.start).add(r.end);
  for (const [s, e] of marks) cuts.add(s).add(e);
  const points = [...cuts].sort((a, b) => a - b);
  let ri = 0;
  let mi = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    while (ri < runs.length && runs[ri].end <= from) ri++;
    while (mi < marks.length && marks[mi][1] <= from) mi++;
    let node = document.createTextNode(plain.slice(from, to));
    const run = ri < runs.length && runs[ri].start <= from ? runs[ri] : null;
    if (run) {
      const styled = document.createElement("span");
      styleElement(styled, run.style);
      styled.appendChild(node);
      node = styled;
    }
    if (mi < marks.length && marks[mi][0] <= from) {
      const mark = document.createElement("mark");
      mark.appendChild(node);
      node = mark;
    }
    parent.appendChild(node);
  }
}

/**
 * Builds the element of one entry.
 * @param {object} entry a line, a message or a notice (see app.js `toEntry`)
 * @param {{ansi: boolean, matcher: import("./filter.js").Matcher}} view
 */
export function buildRow(entry, view) {
  const row = document.createElement("div");
  row.className = `row c${entry.color}`;
  row.dataset.source = entry.key;
  const time = document.createElement("time");
  time.className = "t";
  time.dateTime = entry.time ?? "";
  time.textContent = clockTime(entry.time);
  row.append(time, span("src", entry.label));
  const msg = document.createElement("span");
  msg.className = "msg";
  if (entry.kind === "notice") {
    row.classList.add("notice", `notice-${entry.type}`);
    row.setAttribute("role", "note");
    msg.append(span("kind", entry.type), document.createTextNode(" " + entry.plain));
  } else {
    if (entry.event) msg.append(span("evt", entry.event));
    appendStyledText(msg, entry.plain, view.ansi ? entry.runs : [], view.matcher.ranges(entry.plain));
    if (entry.continues) {
      row.classList.add("continues");
      msg.append(span("cont", "↩ continues"));
    }
  }
  row.appendChild(msg);
  return row;
}

// The sources panel: the server's tails and topics with a checkbox each, and the forms that follow a file, create a
// topic and publish a message. Server refusals are shown as the server worded them.

import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
const field = (form, name) => form.elements.namedItem(name);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** Shows a form's outcome: a refusal (with the server's code and status) or a short confirmation. */
function say(target, outcome) {
  target.hidden = false;
  if (outcome instanceof api.ApiError) {
    target.className = "form-message error";
    target.textContent = outcome.status ? `${outcome.message} (${outcome.status} ${outcome.code})` : outcome.message;
  } else {
    target.className = "form-message ok";
    target.textContent = outcome;
  }
}

/** A delete button that asks once more ("Delete?") before it acts. */
function deleteButton(label, onConfirm) {
  const button = el("button", { type: "button", className: "del", title: `Delete ${label}`, ariaLabel: `Delete ${label}` }, "×");
  let timer = 0;
  button.addEventListener("click", () => {
    if (!button.classList.contains("confirm")) {
      button.classList.add("confirm");
      button.textContent = "Delete?";
      timer = setTimeout(() => {
        button.classList.remove("confirm");
        button.textContent = "×";
      }, 3000);
      return;
    }
    clearTimeout(timer);
    onConfirm();
  });
  return button;
}

export class Sidebar {
  /**
   * @param {object} app
   * @param {function(string): boolean} app.isSelected whether a source key is selected
   * @param {function(string): (number|undefined)} app.colorOf the colour index of a selected source
   * @param {function({kind: string, name: string}, boolean): void} app.toggle select or deselect a source
   * @param {function(): Promise<void>} app.refresh reload the lists from the server
   */
  constructor(app) {
    this.app = app;
    this.tails = [];
    this.topics = [];
    /** Each row's elements, and what it shows now. */
    this.parts = new WeakMap();
    $("tail-form").addEventListener("submit", (e) => this.submitTail(e));
    $("topic-form").addEventListener("submit", (e) => this.submitTopic(e));
    $("publish-form").addEventListener("submit", (e) => this.submitPublish(e));
    $("publish-data").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("publish-form").requestSubmit();
    });
  }

  /** Shows the server's lists; rows are updated in place, so focus and a pending "Delete?" survive a refresh. */
  render(tails, topics) {
    this.tails = tails;
    this.topics = topics;
    this.fill($("tail-list"), tails.map((t) => ({ kind: "tail", name: t.id, detail: t.path, state: t.state })),
      "No file followed yet.");
    this.fill($("topic-list"), topics.map((t) => ({ kind: "topic", name: t.name, detail: `${t.published} published` })),
      "No topic yet.");
    const select = $("publish-topic");
    const names = topics.map((t) => t.name);
    $("publish-form").hidden = names.length === 0;
    if (names.join() !== [...select.options].map((o) => o.value).join()) {
      const chosen = select.value;
      select.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
      if (names.includes(chosen)) select.value = chosen;
    }
  }

  fill(list, items, emptyText) {
    const old = new Map([...list.querySelectorAll("li[data-source]")].map((li) => [li.dataset.source, li]));
    const rows = items.map((item) => {
      const key = `${item.kind}:${item.name}`;
      const li = old.get(key) ?? this.item(item.kind, item.name);
      this.update(li, key, item);
      return li;
    });
    if (rows.length === 0) rows.push(list.querySelector("li.none") ?? el("li", { className: "none" }, emptyText));
    const same = rows.length === list.children.length && rows.every((li, i) => list.children[i] === li);
    if (!same) list.replaceChildren(...rows);
  }

  item(kind, name) {
    const key = `${kind}:${name}`;
    const box = el("input", { type: "checkbox", dataset: { testid: "source-toggle", source: key } });
    box.addEventListener("change", () => this.app.toggle({ kind, name }, box.checked));
    const label = el("label", { className: "source" },
      box,
      el("span", { className: "swatch", ariaHidden: "true" }),
      el("span", { className: "name" }, name),
      el("span", { className: "detail" }));
    const badge = el("span", { className: "badge", hidden: true });
    const li = el("li", { dataset: { source: key } }, label, badge, deleteButton(name, () => this.remove(kind, name)));
    this.parts.set(li, { box, label, badge, swatch: label.querySelector(".swatch"), detail: label.querySelector(".detail") });
    return li;
  }

  // Only what changed is written: with thousands of topics, rewriting every row on each refresh made the browser lay
  // the whole list out again, and the page stalled for seconds every few seconds.
  update(li, key, { detail, state }) {
    const parts = this.parts.get(li);
    const selected = this.app.isSelected(key);
    const shown = {
      checked: selected,
      swatch: `swatch c${selected ? this.app.colorOf(key) : "x"}`,
      // The detail is cut at its start (the end of a path says most); the marks keep it left to right.
      detail: `\u200e${detail}\u200e`,
      title: detail,
      badge: state ?? "",
    };
    const last = parts.shown ?? {};
    if (last.checked !== shown.checked) parts.box.checked = shown.checked;
    if (last.swatch !== shown.swatch) parts.swatch.className = shown.swatch;
    if (last.title !== shown.title) parts.label.title = shown.title;
    if (last.detail !== shown.detail) parts.detail.textContent = shown.detail;
    if (last.badge !== shown.badge) {
      parts.badge.hidden = !state || state === "following";
      parts.badge.textContent = shown.badge;
      parts.badge.className = `badge state-${state}`;
    }
    parts.shown = shown;
  }

  async remove(kind, name) {
    try {
      await (kind === "tail" ? api.deleteTail(name) : api.deleteTopic(name));
    } catch (e) {
      say($(kind === "tail" ? "tail-message" : "topic-message"), e);
    }
    await this.app.refresh();
  }

  async submitTail(event) {
    event.preventDefault();
    const form = event.target;
    const request = { path: field(form, "path").value.trim() };
    if (field(form, "name").value.trim()) request.name = field(form, "name").value.trim();
    if (field(form, "retry").checked) request.retry = true;
    try {
      const tail = await api.createTail(request);
      say($("tail-message"), tail.state === "missing" ? `Waiting for ${tail.path} as ${tail.id}.` : `Following ${tail.path} as ${tail.id}.`);
      form.reset();
      await this.app.refresh();
      this.app.toggle({ kind: "tail", name: tail.id }, true);
    } catch (e) {
      say($("tail-message"), e);
    }
  }

  async submitTopic(event) {
    event.preventDefault();
    const form = event.target;
    const name = field(form, "name").value.trim();
    try {
      await api.createTopic(name);
      say($("topic-message"), `Topic ${name} is ready.`);
      form.reset();
      await this.app.refresh();
      $("publish-topic").value = name;
      this.app.toggle({ kind: "topic", name }, true);
    } catch (e) {
      say($("topic-message"), e);
    }
  }

  async submitPublish(event) {
    event.preventDefault();
    const form = event.target;
    try {
      const answer = await api.publish(field(form, "topic").value, field(form, "data").value, field(form, "event").value.trim());
      const reached = answer.subscribers === 1 ? "1 subscriber" : `${answer.subscribers} subscribers`;
      say($("publish-message"), `Published ${answer.id} to ${reached}.`);
      field(form, "data").value = "";
      await this.app.refresh();
    } catch (e) {
      say($("publish-message"), e);
    }
  }
}

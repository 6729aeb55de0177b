// The narration feed: one plain sentence per trace event, newest first,
// filterable by kind and by node. Per-message lines (sent, delivered,
// dropped) are hidden by default: they are most of the trace. The kind
// filter is applied in wasm (so hidden lines cost nothing to carry over), the
// node filter here. Changing a filter re-reads the recent trace.

import { h } from "./dom.js";
import { nodeName } from "./render/palette.js";

export const KINDS = ["election", "log", "client", "fault", "message", "violation"];
const KIND_HELP = {
  election: "timeouts, votes, new leaders",
  log: "entries stored, committed, applied",
  client: "client calls, redirects, answers",
  fault: "crashes, restarts, cuts, settings",
  message: "every message sent, delivered or dropped",
  violation: "safety violations",
};
const MAX_LINES = 200;
// At high speed hundreds of lines arrive per frame, too fast to read; a
// frame adds at most this many (the newest). Pausing re-reads them all.
const PER_FRAME = 24;
const TICKER = ["election", "fault", "violation"];

export class Narration {
  /**
   * @param {HTMLElement} root the card
   * @param {(since:number, limit:number, kinds:string) => Array|null} fetch
   */
  constructor(root, fetch, onTicker) {
    this.fetch = fetch;
    this.onTicker = onTicker;
    this.traceLen = 0;
    this.list = root.querySelector("#feed");
    this.kindBox = root.querySelector("#feed-kinds");
    this.nodeBox = root.querySelector("#feed-nodes");
    this.note = root.querySelector("#feed-note");
    this.lastSkip = -1e9;
    this.noteOn = false;
    this.kinds = new Set(KINDS.filter((k) => k !== "message"));
    this.nodes = new Set();
    this.n = 0;
    this.next = 0;
    this.shown = 0;
    for (const k of KINDS) {
      const cb = h("input", { type: "checkbox", checked: this.kinds.has(k), id: "fk-" + k });
      const chip = h("label", { class: `chip k-${k}${cb.checked ? " on" : ""}`, title: KIND_HELP[k], htmlFor: "fk-" + k }, cb, h("span", { text: k }));
      cb.addEventListener("change", () => {
        if (cb.checked) this.kinds.add(k);
        else this.kinds.delete(k);
        chip.classList.toggle("on", cb.checked);
        this.refilter();
      });
      this.kindBox.append(chip);
    }
  }

  /** Node filter checkboxes for a cluster of `n` nodes; clears the feed. */
  setup(n) {
    this.n = n;
    this.nodes = new Set();
    this.nodeBox.replaceChildren();
    for (let id = 1; id <= n; id++) {
      this.nodes.add(id);
      const cb = h("input", { type: "checkbox", checked: true, id: "fn-" + id });
      const chip = h("label", { class: "chip on", htmlFor: "fn-" + id, title: `lines about ${nodeName(id)}` }, cb, h("span", { text: nodeName(id) }));
      cb.addEventListener("change", () => {
        if (cb.checked) this.nodes.add(id);
        else this.nodes.delete(id);
        chip.classList.toggle("on", cb.checked);
        this.refilter();
      });
      this.nodeBox.append(chip);
    }
    this.list.replaceChildren();
    this.shown = 0;
    this.next = 0;
    this.lastSkip = -1e9;
  }

  /** Only nodes ticked: a line passes if it names one of them (lines that
   * name no node pass only while every node is ticked). */
  passes(line) {
    if (this.nodes.size === this.n) return true;
    return line.nodes.some((id) => this.nodes.has(id));
  }

  refilter() {
    if (!this.traceLen) return;
    this.list.replaceChildren();
    this.shown = 0;
    // Re-read what the trace still keeps (it keeps the newest 5000 events).
    this.next = Math.max(0, this.traceLen - 5000);
    this.lastSkip = -1e9;
    this.pull(this.traceLen, MAX_LINES, false);
  }

  /** Add the lines for events since the last call: at most `perFrame`
   * (the newest), plus the newest election or fault for the ticker. */
  pull(traceLen, perFrame = PER_FRAME, noteSkips = true) {
    this.traceLen = traceLen;
    if (traceLen <= this.next) return;
    const since = this.next;
    this.next = traceLen;
    const tick = this.fetch(since, 1, TICKER.join(","));
    if (tick && tick.length) this.onTicker(tick[0]);
    const kinds = [...this.kinds].join(",");
    if (!kinds) return;
    // One more than will be shown tells whether some were left out.
    const lines = this.fetch(since, perFrame + 1, kinds);
    if (!lines || !lines.length) return;
    if (lines.length > perFrame) {
      lines.shift();
      if (noteSkips) this.lastSkip = performance.now();
    }
    const fresh = lines.filter((l) => this.passes(l));
    const frag = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0; i--) frag.append(lineEl(fresh[i]));
    this.list.prepend(frag);
    this.shown += fresh.length;
    // Trim the oldest lines in batches: one range deletion now and then
    // costs less than a removal every frame.
    if (this.shown > MAX_LINES + 60) {
      const range = document.createRange();
      range.setStartBefore(this.list.children[MAX_LINES]);
      range.setEndAfter(this.list.lastElementChild);
      range.deleteContents();
      this.shown = MAX_LINES;
    }
  }

  /** While the feed is off screen: only the ticker. `refilter()` catches
   * the feed up when it shows again. */
  pullTicker(traceLen) {
    this.traceLen = traceLen;
    if (traceLen <= this.next) return;
    const tick = this.fetch(this.next, 1, TICKER.join(","));
    if (tick && tick.length) this.onTicker(tick[0]);
    this.next = traceLen;
  }

  /** Per frame: say so while lines pass too fast to show them all. */
  renderNote() {
    const on = performance.now() - this.lastSkip < 2000;
    if (on !== this.noteOn) {
      this.noteOn = on;
      this.note.textContent = on ? "Lines are passing too fast to show them all; pause to read every one." : "";
    }
  }
}

function lineEl(l) {
  return h(
    "li",
    { class: "line k-" + l.kind },
    h("span", { class: "at", text: (l.at_ms / 1000).toFixed(3) + " s" }),
    h("span", { class: "tag", text: l.kind }),
    h("span", { class: "txt", text: l.text })
  );
}

// Every node's log, one row per node, aligned by index so that a lagging or
// diverging follower stands out. Entries are labelled and coloured by term;
// committed entries are filled, uncommitted ones outlined; a bar marks each
// node's commit index; under each follower, the leader's matchIndex and
// nextIndex. Row headings (node, role, commit and applied index, lag) are
// HTML; the entries are painted on a canvas laid over a native scroll box,
// because at high speed dozens of entries arrive every frame and laying out
// as many DOM cells cost more than the rest of the page together. The
// canvas is repainted only when something it shows changed.
//
// The scroll box is right-to-left, so its resting position is the newest
// entries and following them needs no scroll writes. While it follows, the
// page asks the facade only for as many entries as fit; once a person
// scrolls back it asks for the full 200 the view can carry.

import { h, setText, setAttr, setClass, clip } from "../dom.js";
import { termColor, nodeName } from "./palette.js";

export const CELL_W = 76;
const CELL_IN = 72;
const CELL_H = 36;
const WINDOW = 200;
const LABEL_CHARS = 10; // 9.5px monospace in a 72px cell
const MONO = 'ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, monospace';

export class Logs {
  /**
   * @param {HTMLElement} root the log view (heads, scroll box, canvas)
   * @param {HTMLButtonElement} followBtn "jump to newest"
   * @param {() => void} onNeedFrame called when the page should redraw
   */
  constructor(root, followBtn, onNeedFrame) {
    this.heads = root.querySelector("#log-heads");
    this.scroller = root.querySelector("#log-scroll");
    this.extent = root.querySelector(".log-extent");
    this.canvas = root.querySelector("#log-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.followBtn = followBtn;
    // Says so when older entries than the window exist (scrolled back).
    this.older = document.getElementById("log-older");
    this.onNeedFrame = onNeedFrame;
    this.follow = true;
    this.rows = [];
    this.viewW = 600;
    this.rowH = 56;
    this.scrollLeft = 0;
    this.extentW = 0;
    this.frameSig = "";
    this.view = null;
    this.dpr = 1;
    new ResizeObserver(() => {
      this.viewW = this.scroller.clientWidth;
      if (this.rows.length) this.rowH = this.rows[0].head.offsetHeight || this.rowH;
      this.sizeCanvas();
      this.onNeedFrame();
    }).observe(this.scroller);
    this.scroller.addEventListener("scroll", () => {
      this.scrollLeft = this.scroller.scrollLeft;
      const atEnd = this.scrollLeft >= -CELL_W / 2;
      if (atEnd !== this.follow) {
        this.follow = atEnd;
        this.followBtn.hidden = atEnd;
      }
      this.frameSig = "";
      this.onNeedFrame();
    });
    followBtn.addEventListener("click", () => {
      this.scroller.scrollLeft = 0;
      this.follow = true;
      followBtn.hidden = true;
      this.onNeedFrame();
    });
    // Tooltips name the entry under the pointer.
    this.scroller.addEventListener("pointermove", (ev) => {
      const e = this.entryAt(ev.offsetX, ev.offsetY);
      const t = e ? `${nodeName(e.node)} entry ${e.index}, term ${e.term}: ${clip(e.label, 200)} — ${e.committed ? "committed" : "not committed"}` : "";
      if (this.scroller.title !== t) this.scroller.title = t;
    });
  }

  /** How many newest entries per node the next view should carry. */
  wantLimit() {
    if (!this.follow) return WINDOW;
    const cols = Math.ceil(this.viewW / CELL_W) + 3;
    return Math.min(WINDOW, Math.max(12, cols));
  }

  setup(n) {
    this.heads.replaceChildren();
    this.rows = [];
    for (let id = 1; id <= n; id++) {
      const name = h("span", { class: "rh-name", text: nodeName(id) });
      const role = h("span", { class: "rh-role" });
      const lagN = h("span");
      const lagW = h("span", { class: "lag-word", text: " behind" });
      const lag = h("span", { class: "rh-lag", attrs: { title: "committed entries this node has not learned of yet" } }, lagN, lagW);
      const meta = h("span", { class: "rh-meta" });
      // Long ("match 3 · next 4") and short ("m3 n4", narrow screens) forms.
      const progLong = h("span", { class: "prog-long" });
      const progShort = h("span", { class: "prog-short", attrs: { "aria-hidden": "true" } });
      const prog = h("span", { class: "rh-prog" }, progLong, progShort);
      const head = h("div", { class: "row-head", attrs: { role: "group" } }, h("div", { class: "rh-top" }, name, role, lag), meta, prog);
      this.heads.append(head);
      this.rows.push({ id, head, role, lag, lagN, meta, prog, progLong, progShort });
    }
    this.frameSig = "";
    this.sizeCanvas();
  }

  sizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    const hgt = this.rows.length * this.rowH;
    this.canvas.style.width = this.viewW + "px";
    this.canvas.style.height = hgt + "px";
    this.canvas.width = Math.round(this.viewW * dpr);
    this.canvas.height = Math.round(hgt * dpr);
    this.extent.style.height = hgt + "px";
    this.dpr = dpr;
    this.frameSig = "";
  }

  render(view) {
    if (view.nodes.length !== this.rows.length) this.setup(view.nodes.length);
    this.view = view;
    let end = 0;
    for (const nv of view.nodes) end = Math.max(end, nv.last_index);
    const start = Math.max(1, end - WINDOW + 1);
    const cols = Math.max(1, end - start + 1);
    this.start = start;
    if (this.older) {
      const text = !this.follow && start > 1 ? `Only the newest ${WINDOW} entries are drawn: entries 1–${start - 1} are not shown.` : "";
      if (this.older.textContent !== text) this.older.textContent = text;
    }
    const leader = view.leader ? view.nodes[view.leader - 1] : null;
    const progress = new Map();
    if (leader) for (const p of leader.progress) progress.set(p.node, p);

    // The scroll extent: the window plus room for a nextIndex past the end.
    const extentW = Math.max(this.viewW, (cols + 1) * CELL_W);
    if (extentW !== this.extentW) {
      const grew = extentW - this.extentW;
      this.extentW = extentW;
      this.extent.style.width = extentW + "px";
      // Keep older entries still under a reader who scrolled back.
      if (!this.follow && grew > 0 && this.scrollLeft < 0) this.scroller.scrollLeft = this.scrollLeft - grew;
    }

    // Repaint only the rows whose picture changed (all of them when the
    // window, the scroll position or the size moved).
    const frame = `${start}|${this.extentW}|${this.scrollLeft}|${this.viewW}|${this.rowH}`;
    const all = frame !== this.frameSig;
    this.frameSig = frame;
    for (const nv of view.nodes) {
      const r = this.rows[nv.id - 1];
      const prog = progress.get(nv.id);
      this.renderHead(r, nv, view, prog);
      const last = nv.log[nv.log.length - 1];
      const sig = `${nv.up}:${nv.last_index}:${nv.commit_index}:${nv.log_offset}:${nv.log.length}:${last ? last.term : 0}:${
        prog ? prog.match_index + "/" + prog.next_index : ""
      }`;
      if (all || sig !== r.sig) {
        r.sig = sig;
        this.paintRow(nv, nv.id - 1, start, prog);
      }
    }
  }

  renderHead(r, nv, view, prog) {
    const isLeader = view.leader === nv.id;
    setClass(r.head, "row-head" + (nv.up ? "" : " down") + (isLeader ? " leader" : ""));
    setText(r.role, nv.up ? (isLeader ? "♛ leader" : nv.role) : "✕ down");
    const lag = nv.up ? view.committed_index - nv.commit_index : 0;
    setText(r.lagN, lag > 0 ? String(lag) : "");
    setAttr(r.lag, "class", lag > 0 ? "rh-lag" : "rh-lag none");
    setText(r.meta, nv.up ? `commit ${nv.commit_index} · applied ${nv.applied_index}` : `on disk: ${plural(nv.durable.log_len, "entry", "entries")}`);
    setText(r.progLong, prog ? `match ${prog.match_index} · next ${prog.next_index}` : isLeader ? `last index ${nv.last_index}` : "");
    setText(r.progShort, prog ? `m${prog.match_index} n${prog.next_index}` : isLeader ? `last ${nv.last_index}` : "");
    setAttr(r.prog, "title", prog ? "the leader's matchIndex and nextIndex for this follower" : null);
    const newest = nv.log
      .slice(-3)
      .reverse()
      .map((e) => `${e.index} (T${e.term}, ${clip(e.label, 40)}, ${e.committed && nv.up ? "committed" : "not committed"})`)
      .join("; ");
    setAttr(
      r.head,
      "aria-label",
      `${nodeName(nv.id)} log: ${plural(nv.last_index, "entry", "entries")}` +
        (nv.up ? `, commit index ${nv.commit_index}, last applied ${nv.applied_index}` : ", node down") +
        (lag > 0 ? `, ${lag} behind` : "") +
        (prog ? `, leader's matchIndex ${prog.match_index}, nextIndex ${prog.next_index}` : "") +
        (newest ? `. Newest: ${newest}` : "")
    );
  }

  /** Left edge of the visible part, in extent pixels. */
  offset() {
    return Math.max(0, this.extentW - this.viewW + this.scrollLeft);
  }

  /** Paint one row's band of the canvas from cached cell pictures. */
  paintRow(nv, row, start, prog) {
    const ctx = this.ctx;
    const dpr = this.dpr;
    const y0 = row * this.rowH;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, y0, this.viewW, this.rowH);
    if (row > 0) {
      ctx.fillStyle = "rgba(42, 56, 88, 0.6)";
      ctx.fillRect(0, y0, this.viewW, 1);
    }
    const ox = this.offset();
    const firstCol = Math.floor(ox / CELL_W) - 1;
    const lastCol = Math.ceil((ox + this.viewW) / CELL_W) + 1;
    const cells = [];
    for (const e of nv.log) {
      const col = e.index - start;
      if (col >= firstCol && col <= lastCol) cells.push({ e, x: col * CELL_W - ox, c: e.committed && nv.up, tc: termColor(e.term) });
    }
    const y = y0 + 6;
    ctx.globalAlpha = nv.up ? 1 : 0.55;
    // Committed entries are filled with their term's colour; the others
    // are outlined in it (plain rectangles: curves and dashes cost far more
    // to paint, and dozens of entries change every frame). Each font is set
    // once per row: parsing a font string per entry costs more than drawing.
    for (const k of cells) {
      ctx.fillStyle = k.c ? k.tc : "#111a2d";
      ctx.fillRect(k.x + 1, y + 1, CELL_IN - 2, CELL_H - 2);
    }
    for (const k of cells) {
      if (k.c) continue;
      ctx.fillStyle = k.tc;
      ctx.fillRect(k.x, y, CELL_IN, 2);
      ctx.fillRect(k.x, y + CELL_H - 2, CELL_IN, 2);
      ctx.fillRect(k.x, y, 2, CELL_H);
      ctx.fillRect(k.x + CELL_IN - 2, y, 2, CELL_H);
    }
    ctx.textBaseline = "alphabetic";
    ctx.font = `10px ${MONO}`;
    ctx.textAlign = "left";
    for (const k of cells) {
      ctx.fillStyle = k.c ? "#0b1222" : "#a3b1cc";
      ctx.fillText(String(k.e.index), k.x + 6, y + 13);
    }
    ctx.font = `700 10px ${MONO}`;
    ctx.textAlign = "right";
    for (const k of cells) {
      ctx.fillStyle = k.c ? "#0b1222" : k.tc;
      ctx.fillText("T" + k.e.term, k.x + CELL_IN - 6, y + 13);
    }
    // The command, in a monospace font so that cutting it needs no measuring.
    ctx.font = `9.5px ${MONO}`;
    ctx.textAlign = "left";
    for (const k of cells) {
      ctx.fillStyle = k.c ? "#0b1222" : "#e8edf7";
      ctx.fillText(this.fit(k.e.label), k.x + 6, y + 29);
    }
    ctx.globalAlpha = 1;
    // Commit index: a bar after the last committed entry.
    if (nv.up && nv.commit_index >= start) {
      const x = (nv.commit_index - start + 1) * CELL_W - ox - 2;
      ctx.fillStyle = "#e8edf7";
      ctx.fillRect(x - 1, y0 + 3, 2, CELL_H + 6);
    }
    // The leader's view of this follower.
    if (prog) {
      ctx.font = `9.5px ${MONO}`;
      const yb = y0 + this.rowH - 4;
      if (prog.match_index >= start) {
        ctx.fillStyle = "#a3b1cc";
        ctx.fillText("▲match", (prog.match_index - start) * CELL_W - ox, yb);
      }
      if (prog.next_index >= start) {
        ctx.fillStyle = "#5aa9ff";
        ctx.fillText("▲next", (prog.next_index - start) * CELL_W - ox, yb);
      }
    }
  }

  /** The label cut with an ellipsis to fit a cell. */
  fit(label) {
    return label.length <= LABEL_CHARS ? label : label.slice(0, LABEL_CHARS - 1) + "…";
  }

  /** The entry under a point of the scroll box, for tooltips. */
  entryAt(px, py) {
    const v = this.view;
    if (!v) return null;
    const row = Math.floor(py / this.rowH);
    const nv = v.nodes[row];
    if (!nv) return null;
    const index = this.start + Math.floor((px + this.offset()) / CELL_W);
    const e = nv.log.find((x) => x.index === index);
    return e ? { ...e, node: nv.id, committed: e.committed && nv.up } : null;
  }
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

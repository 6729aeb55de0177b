// Each node's applied key-value state, as one table: a row per key, a column
// per node, so a follower that has not applied the newest entries yet (or a
// crashed node) stands out. A value that differs from the leader's is marked
// with "≠" as well as a colour. Rebuilt only when some node applied something.
//
// The view carries only each node's first keys in key order (at most 200,
// `kv`) beside its whole count (`kv_len`), so a frame costs the same with
// 20,000 keys as with 200. A key after the last one a truncated node sent is
// unknown for that node, not absent: the table shows the keys up to the
// smallest such last key, where every column is complete, and a line says
// how many keys there are in all.

import { h, setText, setClass, setAttr, setHidden, clip } from "../dom.js";
import { nodeName } from "./palette.js";

/**
 * Compare keys as the simulator orders them (Rust's `String` order: by
 * Unicode code point). Plain `<` compares UTF-16 code units, which puts
 * characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF.
 */
export function keyOrder(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

const count = (n) => n.toLocaleString("en");
const UNSET = Symbol("unset");
const DOWN = Symbol("down");

export class KvTable {
  constructor(table, empty, more) {
    this.table = table;
    this.empty = empty;
    this.more = more;
    this.thead = h("thead");
    this.tbody = h("tbody");
    table.append(this.thead, this.tbody);
    this.rows = new Map();
    this.sig = "";
    this.n = 0;
  }

  setup(n) {
    this.n = n;
    this.heads = [];
    const tr = h("tr", {}, h("th", { scope: "col", text: "key" }));
    // Named now, not at the first render: the page skips cards off screen,
    // and an empty header cell is an invalid table until then.
    for (let id = 1; id <= n; id++) {
      const th = h("th", { scope: "col", text: nodeName(id) });
      this.heads.push(th);
      tr.append(th);
    }
    this.thead.replaceChildren(tr);
    this.tbody.replaceChildren();
    this.rows.clear();
    this.sig = "";
  }

  render(view) {
    if (view.nodes.length !== this.n) this.setup(view.nodes.length);
    const sig = view.leader + "|" + view.nodes.map((n) => `${n.up ? 1 : 0}:${n.applied_index}:${n.incarnation}`).join(",");
    if (sig === this.sig) return;
    this.sig = sig;

    // Where every column is complete: up to the last key of the node that
    // sent the fewest (null: no node was cut short).
    let cutoff = null;
    let truncated = false;
    let most = 0;
    let least = Infinity;
    for (const nv of view.nodes) {
      if (!nv.up) continue;
      most = Math.max(most, nv.kv_len);
      least = Math.min(least, nv.kv_len);
      const ks = Object.keys(nv.kv);
      if (ks.length >= nv.kv_len) continue;
      truncated = true;
      if (!ks.length) {
        cutoff = "";
        continue;
      }
      let last = ks[0];
      for (const k of ks) if (keyOrder(k, last) > 0) last = k;
      if (cutoff === null || keyOrder(last, cutoff) < 0) cutoff = last;
    }
    const keys = new Set();
    for (const nv of view.nodes) {
      for (const k of Object.keys(nv.kv)) if (cutoff === null || keyOrder(k, cutoff) <= 0) keys.add(k);
    }
    const sorted = [...keys].sort(keyOrder);
    const leader = view.leader ? view.nodes[view.leader - 1] : null;

    view.nodes.forEach((nv, i) => {
      const th = this.heads[i];
      setText(th, nv.up ? `${nodeName(nv.id)}${view.leader === nv.id ? " ♛" : ""} · @${nv.applied_index}` : `${nodeName(nv.id)} ✕ down`);
      setAttr(th, "title", nv.up ? `${nodeName(nv.id)} has applied entries up to ${nv.applied_index}` : `${nodeName(nv.id)} is down: its state machine is rebuilt from the log after a restart`);
    });

    // Rows: create missing ones, drop vanished ones, keep sorted order.
    for (const [k, row] of this.rows) {
      if (!keys.has(k)) {
        row.tr.remove();
        this.rows.delete(k);
      }
    }
    let changedOrder = false;
    for (const k of sorted) {
      if (!this.rows.has(k)) {
        const th = h("th", { scope: "row", text: clip(k, 24), title: k });
        const cells = view.nodes.map(() => h("td"));
        const tr = h("tr", {}, th, cells);
        // What each cell shows: its value (DOWN for a crashed node) and
        // whether it differs from the leader's; UNSET until first drawn.
        this.rows.set(k, { tr, cells, vals: cells.map(() => UNSET), diffs: cells.map(() => false) });
        changedOrder = true;
      }
    }
    // Move only the rows out of place (the new ones): re-appending every
    // row would lay out the whole table again.
    if (changedOrder) {
      let prev = null;
      for (const k of sorted) {
        const tr = this.rows.get(k).tr;
        const want = prev ? prev.nextSibling : this.tbody.firstChild;
        if (tr !== want) this.tbody.insertBefore(tr, want);
        prev = tr;
      }
    }

    for (const k of sorted) {
      const row = this.rows.get(k);
      const ref = leader ? leader.kv[k] : undefined;
      view.nodes.forEach((nv, i) => {
        const td = row.cells[i];
        const v = nv.up ? nv.kv[k] : DOWN;
        const differs = !!leader && nv.up && nv.id !== leader.id && v !== ref;
        // Most cells stay as they were from frame to frame: skip them.
        if (row.vals[i] === v && row.diffs[i] === differs) return;
        row.vals[i] = v;
        row.diffs[i] = differs;
        if (v === DOWN) {
          setText(td, "—");
          setClass(td, "down");
          setAttr(td, "title", null);
          return;
        }
        const shown = v === undefined ? "(absent)" : clip(v, 28);
        setText(td, differs ? "≠ " + shown : shown);
        setClass(td, (v === undefined ? "absent" : "") + (differs ? " differs" : ""));
        setAttr(td, "title", v === undefined ? `${k} is absent on ${nodeName(nv.id)}` : `${k} = ${clip(v, 300)}${differs ? " (differs from the leader)" : ""}`);
      });
    }
    this.empty.hidden = sorted.length > 0 || truncated;
    this.table.hidden = sorted.length === 0;
    setHidden(this.more, !truncated);
    if (truncated) {
      const all = most === least ? count(most) : `${count(least)} to ${count(most)}`;
      setText(this.more, `Showing the first ${count(sorted.length)} of ${all} keys, in key order.`);
    }
  }
}

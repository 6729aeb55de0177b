// Each node's applied key-value state, as one table: a row per key, a column
// per node, so a follower that has not applied the newest entries yet (or a
// crashed node) stands out. A value that differs from the leader's is marked
// with "≠" as well as a colour. Rebuilt only when some node applied something.

import { h, setText, setClass, setAttr, clip } from "../dom.js";
import { nodeName } from "./palette.js";

export class KvTable {
  constructor(table, empty) {
    this.table = table;
    this.empty = empty;
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
    for (let id = 1; id <= n; id++) {
      const th = h("th", { scope: "col" });
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

    const keys = new Set();
    for (const nv of view.nodes) for (const k of Object.keys(nv.kv)) keys.add(k);
    const sorted = [...keys].sort();
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
        this.rows.set(k, { tr, cells });
        changedOrder = true;
      }
    }
    if (changedOrder) for (const k of sorted) this.tbody.append(this.rows.get(k).tr);

    for (const k of sorted) {
      const row = this.rows.get(k);
      const ref = leader ? leader.kv[k] : undefined;
      view.nodes.forEach((nv, i) => {
        const td = row.cells[i];
        if (!nv.up) {
          setText(td, "—");
          setClass(td, "down");
          setAttr(td, "title", null);
          return;
        }
        const v = nv.kv[k];
        const differs = leader && nv.id !== leader.id && v !== ref;
        const shown = v === undefined ? "(absent)" : clip(v, 28);
        setText(td, differs ? "≠ " + shown : shown);
        setClass(td, (v === undefined ? "absent" : "") + (differs ? " differs" : ""));
        setAttr(td, "title", v === undefined ? `${k} is absent on ${nodeName(nv.id)}` : `${k} = ${clip(v, 300)}${differs ? " (differs from the leader)" : ""}`);
      });
    }
    this.empty.hidden = sorted.length > 0;
    this.table.hidden = sorted.length === 0;
  }
}

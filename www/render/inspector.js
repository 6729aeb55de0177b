// The selected node, in full: what lives only in memory (lost on a crash)
// beside its durable state (Raft Figure 2's "persistent state"), and on a
// leader each follower's nextIndex and matchIndex. The durable state is
// shown twice: as the node wrote it (what a crash and restart in the page
// rebuilds it from) and as IndexedDB holds it (what a reload rebuilds it
// from), from the facade's storageReport; what is written but not yet in
// IndexedDB is named.

import { h, setText, setHidden, setAttr, setStyle } from "../dom.js";
import { nodeName, termColor } from "./palette.js";

const VOLATILE = [
  ["role", "role"],
  ["term", "current term"],
  ["voted", "voted for"],
  ["leader", "believes leader is"],
  ["votes", "votes received"],
  ["commit", "commit index"],
  ["applied", "last applied"],
  ["last", "last log index"],
  ["timer", "election timer"],
  ["keys", "keys applied"],
];
const DURABLE = [
  ["term", "term"],
  ["voted", "vote"],
  ["len", "log length"],
  ["lastTerm", "last term"],
];
const EXTRA = [
  ["writes", "writes"],
  ["inc", "restarts"],
];

function table(tbody, spec) {
  const out = {};
  for (const [k, label] of spec) {
    const written = h("td");
    const disk = h("td");
    tbody.append(h("tr", {}, h("th", { scope: "row", text: label }), written, disk));
    out[k] = { written, disk };
  }
  return out;
}

const termText = (t) => `T${t}`;
const voteText = (v) => (v ? nodeName(v) : "nobody");
const lastTermText = (d) => (d.log_len ? `T${d.last_term}` : "—");

function dl(el, spec) {
  const out = {};
  for (const [k, label] of spec) {
    const dd = h("dd");
    el.append(h("div", { class: "kvrow" }, h("dt", { text: label }), dd));
    out[k] = dd;
  }
  return out;
}

export class Inspector {
  constructor(root) {
    this.title = root.querySelector("#insp-title");
    this.badge = root.querySelector("#insp-badge");
    this.vol = dl(root.querySelector("#insp-vol"), VOLATILE);
    const tbody = root.querySelector("#insp-dur tbody");
    this.dur = table(tbody, DURABLE);
    this.extra = table(tbody, EXTRA);
    this.durTitle = root.querySelector("#insp-dur-title");
    this.durNote = root.querySelector("#insp-dur-note");
    this.unsaved = root.querySelector("#insp-unsaved");
    this.progWrap = root.querySelector("#insp-progress-wrap");
    this.progBody = root.querySelector("#insp-progress tbody");
    this.crashBtn = root.querySelector("#act-crash");
    this.timeoutBtn = root.querySelector("#act-timeout");
    this.progRows = new Map();
    this.timerText = h("span");
    this.timerFill = h("span", { class: "bar-fill" });
    this.timerBar = h("span", { class: "bar", attrs: { "aria-hidden": "true" } }, this.timerFill);
    this.vol.timer.append(this.timerBar, this.timerText);
  }

  /** `storage` is the parsed storageReportJson() (or null). */
  render(view, id, storage) {
    const nv = view.nodes[id - 1];
    if (!nv) return;
    const isLeader = view.leader === id;
    setText(this.title, `${nodeName(id)}`);
    setText(this.badge, nv.up ? (isLeader ? "♛ leader" : nv.role) : "✕ down");
    setAttr(this.badge, "class", "badge-role role-" + (nv.up ? nv.role : "down"));
    setAttr(this.badge, "style", nv.up ? `--tc:${termColor(nv.term)}` : null);
    setText(this.crashBtn, nv.up ? "Crash" : "Restart");
    setAttr(this.crashBtn, "aria-label", nv.up ? `Crash ${nodeName(id)}` : `Restart ${nodeName(id)} from disk`);
    this.timeoutBtn.disabled = !nv.up || nv.role === "leader";

    const v = this.vol;
    const na = "— (down)";
    setText(v.role, nv.up ? nv.role : na);
    setText(v.term, nv.up ? `T${nv.term}` : na);
    setText(v.voted, nv.up ? (nv.voted_for ? nodeName(nv.voted_for) : "nobody") : na);
    setText(v.leader, nv.up ? (nv.leader_hint ? nodeName(nv.leader_hint) : "unknown") : na);
    setText(v.votes, nv.up && nv.role !== "follower" ? nv.votes.map(nodeName).join(", ") || "none" : "—");
    setText(v.commit, nv.up ? nv.commit_index : na);
    setText(v.applied, nv.up ? nv.applied_index : na);
    setText(v.last, nv.up ? nv.last_index : na);
    // The text changes only when the timer is reset; the bar drains
    // (a transform: no layout per frame).
    if (nv.up && nv.timer_deadline_ms != null) {
      setText(this.timerText, `fires at ${(nv.timer_deadline_ms / 1000).toFixed(3)} s`);
      const span = nv.timer_deadline_ms - nv.timer_start_ms;
      const frac = span > 0 ? Math.max(0, Math.min(1, (nv.timer_deadline_ms - view.now_ms) / span)) : 0;
      setHidden(this.timerBar, false);
      setStyle(this.timerFill, "transform", `scaleX(${frac.toFixed(3)})`);
    } else {
      setText(this.timerText, nv.up ? "off (leaders send heartbeats)" : na);
      setHidden(this.timerBar, true);
    }
    setText(v.keys, nv.up ? nv.kv_len.toLocaleString("en") : na);

    this.renderDurable(nv, storage);

    setHidden(this.progWrap, !(nv.up && isLeader && nv.progress.length));
    if (nv.up && isLeader) {
      const seen = new Set();
      for (const p of nv.progress) {
        seen.add(p.node);
        let r = this.progRows.get(p.node);
        if (!r) {
          const next = h("td");
          const match = h("td");
          const state = h("td");
          const tr = h("tr", {}, h("th", { scope: "row", text: nodeName(p.node) }), next, match, state);
          this.progBody.append(tr);
          r = { tr, next, match, state };
          this.progRows.set(p.node, r);
        }
        setText(r.next, p.next_index);
        setText(r.match, p.match_index);
        const gap = nv.last_index - p.match_index;
        setText(r.state, gap === 0 ? "up to date" : `${gap} to send`);
      }
      for (const [k, r] of this.progRows) {
        if (!seen.has(k)) {
          r.tr.remove();
          this.progRows.delete(k);
        }
      }
    }
  }

  renderDurable(nv, storage) {
    const w = nv.durable;
    const ns = storage && storage.nodes ? storage.nodes[nv.id - 1] : null;
    const disk = ns ? ns.on_disk : null;
    const d = this.dur;
    const pairs = [
      [d.term, termText(w.term), disk && termText(disk.term), disk && disk.term !== w.term],
      [d.voted, voteText(w.voted_for), disk && voteText(disk.voted_for), disk && disk.voted_for !== w.voted_for],
      [d.len, String(w.log_len), disk && String(disk.log_len), disk && disk.log_len !== w.log_len],
      [d.lastTerm, lastTermText(w), disk && lastTermText(disk), disk && lastTermText(disk) !== lastTermText(w)],
    ];
    for (const [cells, written, stored, differs] of pairs) {
      setText(cells.written, written);
      // A stored value that lags behind is marked with a word-like sign, not colour alone.
      setText(cells.disk, stored === null ? "—" : differs ? `${stored} ≠` : stored);
      setAttr(cells.disk, "class", differs ? "differs" : null);
      setAttr(cells.disk, "title", differs ? "IndexedDB does not hold what the node wrote yet" : null);
    }
    setText(this.extra.writes.written, w.writes);
    setText(this.extra.writes.disk, "—");
    setText(this.extra.inc.written, nv.incarnation);
    setText(this.extra.inc.disk, "—");

    const enabled = !!(storage && storage.enabled);
    setText(this.durTitle, enabled ? "Durable" : "Durable (in memory only)");
    let note = "";
    let unsaved = "";
    if (!enabled) {
      note = "Not saved in this browser: a crash in the page keeps it, a reload starts over.";
    } else if (!disk) {
      note = "Saving the cluster to IndexedDB…";
    } else {
      const parts = [];
      if (ns.unsaved_from !== null) {
        const from = ns.unsaved_from;
        const to = w.log_len;
        parts.push(from === to ? `log entry ${from}` : `log entries ${from}–${to}`);
      }
      if (ns.unsaved_truncation) parts.push(`removing entries after ${w.log_len}`);
      if (ns.unsaved_hard_state) parts.push("the term and vote");
      unsaved = parts.length
        ? `Written, not yet in IndexedDB: ${parts.join(", ")}. Its messages wait until they are.`
        : "Everything it wrote is in IndexedDB.";
    }
    setText(this.durNote, note);
    setText(this.unsaved, unsaved);
  }
}

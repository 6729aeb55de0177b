// The selected node, in full: its volatile state (lost on a crash) beside
// its durable state (what survives on disk, Raft Figure 2's "persistent
// state"), and on a leader each follower's nextIndex and matchIndex.

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
  ["term", "current term"],
  ["voted", "voted for"],
  ["len", "log length"],
  ["lastTerm", "last entry's term"],
  ["writes", "write batches"],
  ["inc", "restarts"],
];

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
    this.dur = dl(root.querySelector("#insp-dur"), DURABLE);
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

  render(view, id) {
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
    setText(v.keys, nv.up ? Object.keys(nv.kv).length : na);

    const d = this.dur;
    setText(d.term, `T${nv.durable.term}`);
    setText(d.voted, nv.durable.voted_for ? nodeName(nv.durable.voted_for) : "nobody");
    setText(d.len, nv.durable.log_len);
    setText(d.lastTerm, nv.durable.log_len ? `T${nv.durable.last_term}` : "—");
    setText(d.writes, nv.durable.writes);
    setText(d.inc, nv.incarnation);

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
}

// Everything a person can do: time controls, new cluster, the KV console,
// faults (presets, the link matrix, the link box opened from the ring),
// network and timing sliders, node actions, and keyboard shortcuts. Each
// control calls the facade through `app.act` (which shows the facade's error
// message inline) and asks for a redraw; `render(view)` keeps the controls'
// own state (pressed links, slider positions, call results) in step with the
// view.

import { h, setText, setAttr, setHidden, clip } from "./dom.js";
import { nodeName } from "./render/palette.js";
import { linkWords } from "./render/ring.js";

/** Speeds on a log scale, virtual time per real time. */
export const SPEEDS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
export const DEFAULT_SPEED = 6;

/** "1/10×", "1×", "5×". */
export function speedLabel(x) {
  return x >= 1 ? `${x}×` : `1/${Math.round(1 / x)}×`;
}

/** A measured speed, rounded: "12×", "1.8×", "0.85×", "1/30×". */
export function approxSpeed(x) {
  if (x >= 10) return `${Math.round(x)}×`;
  if (x >= 1) return `${Number(x.toFixed(1))}×`;
  if (x >= 0.1) return `${Number(x.toFixed(2))}×`;
  return x > 0 ? `1/${Math.round(1 / x)}×` : "0×";
}

const $ = (sel) => document.querySelector(sel);

/** Why these settings keep a leader from lasting (Raft §5.6: broadcast
 * time ≪ election timeout), or "" when they don't. Breaking Raft on purpose
 * is allowed: this only says what will happen. */
export function timingWarning(s) {
  if (s.heartbeat_ms >= s.election_min_ms) {
    return `⚠ Heartbeats every ${s.heartbeat_ms} ms, but a follower may time out after ${s.election_min_ms} ms: leaders will keep being replaced.`;
  }
  if (s.heartbeat_ms + s.latency_max_ms >= s.election_min_ms) {
    return `⚠ A heartbeat can take up to ${s.heartbeat_ms + s.latency_max_ms} ms to arrive (interval + slowest latency), longer than the shortest election timeout (${s.election_min_ms} ms): expect needless elections.`;
  }
  if (2 * s.latency_max_ms >= s.election_min_ms) {
    return `⚠ A vote's round trip can take ${2 * s.latency_max_ms} ms, not less than the shortest election timeout (${s.election_min_ms} ms): elections may never finish.`;
  }
  return "";
}

const SLIDERS = [
  { group: "Network (every link)" },
  { id: "loss", label: "Message loss", min: 0, max: 0.5, step: 0.01, pct: true, get: (s) => s.loss },
  { id: "dup", label: "Duplication", min: 0, max: 0.5, step: 0.01, pct: true, get: (s) => s.duplicate },
  { id: "reorder", label: "Reordering", min: 0, max: 0.5, step: 0.01, pct: true, get: (s) => s.reorder },
  { id: "lat-min", label: "Latency, fastest", min: 1, max: 300, step: 1, unit: "ms", get: (s) => s.latency_min_ms },
  { id: "lat-max", label: "Latency, slowest", min: 1, max: 500, step: 1, unit: "ms", get: (s) => s.latency_max_ms },
  { group: "Raft timing" },
  { id: "el-min", label: "Election timeout, min", min: 20, max: 2000, step: 10, unit: "ms", get: (s) => s.election_min_ms },
  { id: "el-max", label: "Election timeout, max", min: 20, max: 3000, step: 10, unit: "ms", get: (s) => s.election_max_ms },
  { id: "hb", label: "Heartbeat interval", min: 5, max: 1000, step: 5, unit: "ms", get: (s) => s.heartbeat_ms },
];

function fmtSlider(spec, v) {
  return spec.pct ? `${Math.round(v * 100)}%` : `${v} ${spec.unit}`;
}

export class Controls {
  constructor(app) {
    this.app = app;
    this.calls = []; // console calls, newest first
    this.callEls = new Map();
    this.linkPop = null; // {a, b}
    this.settingsSig = "";
    this.buildHeader();
    this.buildTabs();
    this.buildConsole();
    this.buildFaults();
    this.buildSliders();
    this.buildInspector();
    this.buildLinkPop();
    this.buildNodePop();
    this.buildKeys();
    // A click outside a popover closes it.
    document.addEventListener("pointerdown", (e) => {
      const t = e.target;
      if (!(t instanceof Element) || t.closest(".popover, .node, .link")) return;
      this.closeLink(false);
      this.closeNode(false);
    });
  }

  // ------------------------------------------------------------ header

  buildHeader() {
    const app = this.app;
    $("#play").addEventListener("click", () => app.setPaused(!app.paused));
    $("#step").addEventListener("click", () => app.step());
    const speed = $("#speed");
    speed.max = String(SPEEDS.length - 1);
    speed.addEventListener("input", () => app.setSpeedIndex(Number(speed.value)));
    $("#cluster-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const err = app.newCluster($("#seed").value.trim(), Number($("#node-count").value));
      this.showClusterError(err || "");
    });
    $("#random-seed").addEventListener("click", () => {
      const seed = app.randomSeed();
      $("#seed").value = seed;
      const err = app.newCluster(seed, Number($("#node-count").value));
      this.showClusterError(err || "");
    });
    const help = $("#help");
    $("#help-open").addEventListener("click", () => this.openHelp());
    // A closed <dialog> must not keep focus: Chromium sometimes leaves it on
    // the Close button when the dialog was opened from the body, and then
    // Space would press that invisible button instead of pausing. Give focus
    // back to whatever opened the dialog, or to nothing.
    help.addEventListener("close", () => {
      const back = this.helpOpener;
      this.helpOpener = null;
      if (back && back.isConnected && back !== document.body && typeof back.focus === "function") {
        back.focus();
      }
      if (help.contains(document.activeElement)) document.activeElement.blur();
    });
    $("#panic-new").addEventListener("click", () => {
      const err = app.newCluster($("#seed").value.trim() || app.randomSeed(), Number($("#node-count").value));
      this.showClusterError(err || "");
    });
    $("#panic-reload").addEventListener("click", () => location.reload());
  }

  /** Open the keyboard help, remembering what had focus to give it back. */
  openHelp() {
    const help = $("#help");
    if (help.open) return;
    this.helpOpener = document.activeElement;
    help.showModal();
    // Focus goes to the title (autofocus), so a small screen opens at the top.
    help.scrollTop = 0;
  }

  showClusterError(msg) {
    const el = $("#cluster-error");
    el.textContent = msg;
    setAttr($("#seed"), "aria-invalid", msg ? "true" : null);
  }

  onNewCluster(n, seed) {
    $("#seed").value = seed;
    const countSel = $("#node-count");
    if (![...countSel.options].some((o) => o.value === String(n))) {
      countSel.append(h("option", { value: String(n), text: String(n) }));
    }
    countSel.value = String(n);
    this.calls = [];
    this.callEls.clear();
    $("#calls").replaceChildren();
    this.callsSig = "";
    this.updateCallsMore();
    this.closeLink();
    // A check's verdict is about the cluster it checked.
    this.checkGen = (this.checkGen || 0) + 1;
    $("#check-result").className = "";
    setText($("#check-result"), "");
    // "Send to" options.
    const via = $("#via");
    const keep = via.value;
    via.replaceChildren(h("option", { value: "", text: "leader (client finds it)" }));
    for (let id = 1; id <= n; id++) via.append(h("option", { value: String(id), text: `${nodeName(id)} first` }));
    via.value = Number(keep) <= n ? keep : "";
    this.syncConsoleFields();
    // Node picker.
    const pick = $("#node-pick");
    pick.replaceChildren();
    this.pickInputs = [];
    for (let id = 1; id <= n; id++) {
      const input = h("input", { type: "radio", name: "inspect-node", value: String(id), attrs: { "aria-label": `Inspect ${nodeName(id)}` } });
      input.addEventListener("change", () => this.app.select(id));
      this.pickInputs.push(input);
      pick.append(h("label", {}, input, h("span", { text: nodeName(id), attrs: { "aria-hidden": "true" } })));
    }
    // Link matrix.
    this.buildMatrix(n);
    const minority = Math.floor((n - 1) / 2);
    setText($("#p-split"), `Split ${minority} | ${n - minority}`);
    setAttr($("#p-split"), "title", `Cut the leader and ${minority - 1} other node(s) off from the rest`);
    this.settingsSig = "";
  }

  // ------------------------------------------------------------ tabs

  buildTabs() {
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    const show = (tab, focus) => {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", String(on));
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      }
      if (focus) tab.focus();
    };
    this.showTab = (id) => show(document.getElementById(id), false);
    tabs.forEach((t, i) => {
      t.addEventListener("click", () => show(t, false));
      t.addEventListener("keydown", (e) => {
        let j = null;
        if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
        if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
        if (e.key === "Home") j = 0;
        if (e.key === "End") j = tabs.length - 1;
        if (j !== null) {
          e.preventDefault();
          show(tabs[j], true);
        }
      });
    });
  }

  // ------------------------------------------------------------ console

  buildConsole() {
    const op = $("#op");
    const via = $("#via");
    const absent = $("#expected-absent");
    op.addEventListener("change", () => this.syncConsoleFields());
    via.addEventListener("change", () => this.syncConsoleFields());
    $("#stale").addEventListener("change", () => this.syncConsoleFields());
    absent.addEventListener("change", () => {
      $("#expected").disabled = absent.checked;
    });
    // An error about the fields goes once they are edited.
    $("#console-form").addEventListener("input", () => {
      $("#console-error").textContent = "";
      setAttr($("#key"), "aria-invalid", null);
    });
    $("#console-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    $("#calls").addEventListener("scroll", () => this.updateCallsMore(), { passive: true });
    $("#load-add").addEventListener("click", () => this.app.act((sim) => sim.addWorkload(4), $("#console-error")));
    $("#load-stop").addEventListener("click", () => this.app.act((sim) => sim.stopWorkload(), $("#console-error")));
    $("#check-history").addEventListener("click", () => this.checkHistory());
  }

  /** Run the linearizability checker on the history so far and say what it found. */
  async checkHistory() {
    const button = $("#check-history");
    const out = $("#check-result");
    button.disabled = true;
    out.className = "";
    setText(out, "checking…");
    const gen = this.checkGen;
    try {
      const { verdict, calls, atMs } = await this.app.checkHistory();
      if (gen !== this.checkGen) return;
      const what = `${calls} ${calls === 1 ? "call" : "calls"} up to t=${(atMs / 1000).toFixed(1)} s`;
      if (verdict === undefined) {
        out.className = "check-ok";
        setText(out, `✓ linearizable: ${what}`);
      } else {
        out.className = "check-bad";
        setText(out, `✗ NOT linearizable (${what}): ${verdict}`);
      }
    } catch (e) {
      if (gen !== this.checkGen) return;
      out.className = "check-bad";
      setText(out, `could not check: ${e && e.message ? e.message : e}`);
    } finally {
      button.disabled = false;
    }
  }

  syncConsoleFields() {
    const op = $("#op").value;
    const needsValue = op === "put" || op === "append" || op === "cas";
    setHidden($("#f-value"), !needsValue);
    setHidden($("#f-expected"), op !== "cas");
    const staleOk = op === "get" && $("#via").value !== "";
    const stale = $("#stale");
    stale.disabled = !staleOk;
    if (!staleOk) stale.checked = false;
    $("#f-stale").classList.toggle("disabled", !staleOk);
    setText($("#send"), stale.checked ? "Read locally" : "Send");
  }

  send() {
    const app = this.app;
    const err = $("#console-error");
    const op = $("#op").value;
    const key = $("#key").value;
    const rawValue = $("#value").value;
    const value = op === "put" || op === "append" || op === "cas" ? (rawValue === "" ? undefined : rawValue) : undefined;
    let expected;
    if (op === "cas" && !$("#expected-absent").checked) expected = $("#expected").value;
    // Two mistakes the store itself would accept: a key of only spaces, and
    // a cas whose expected field was left empty (the console cannot put an
    // empty value, so "" is never what someone meant).
    const local =
      key !== "" && key.trim() === ""
        ? "The key is only spaces: type a key."
        : expected === ""
          ? 'cas needs the value it expects: fill in "expected", or tick "expected absent".'
          : null;
    if (local) {
      err.textContent = local;
      setAttr($("#key"), "aria-invalid", /key/i.test(local) ? "true" : null);
      return;
    }
    const viaStr = $("#via").value;
    const via = viaStr === "" ? undefined : Number(viaStr);
    const stale = $("#stale").checked && op === "get" && via !== undefined;

    // Pick up answers that arrived since the last frame before reusing clients.
    const before = app.freshView();
    if (before) this.updateCalls(before);
    const r = stale
      ? app.act((sim) => sim.staleRead(via, key), err)
      : app.act((sim) => sim.submit(op, key, value, expected, via), err);
    setAttr($("#key"), "aria-invalid", r ? null : /key/i.test(err.textContent) ? "true" : null);
    if (!r) return;
    const client = r.value;
    app.consoleIds().add(client);
    const v = app.freshView();
    const cv = v && v.clients.find((c) => c.id === client);
    let desc;
    if (stale) desc = `stale get ${JSON.stringify(key)} from ${nodeName(via)}`;
    else if (op === "cas") desc = `cas ${JSON.stringify(key)} ${expected === undefined ? "absent" : JSON.stringify(expected)} → ${JSON.stringify(value)}`;
    else if (value !== undefined) desc = `${op} ${JSON.stringify(key)} ${op === "append" ? "+=" : "="} ${JSON.stringify(value)}`;
    else desc = `${op} ${JSON.stringify(key)}`;
    const call = {
      client,
      seq: cv ? cv.pending_seq : null,
      desc: clip(desc, 80),
      stale,
      via,
      route: [],
      done: false,
      result: "",
      latency: 0,
    };
    this.calls.unshift(call);
    if (this.calls.length > 12) {
      const old = this.calls.pop();
      const el = this.callEls.get(old);
      if (el) el.li.remove();
      this.callEls.delete(old);
    }
    if (v) this.updateCalls(v);
  }

  updateCalls(view) {
    for (const call of this.calls) {
      if (call.done) continue;
      const c = view.clients.find((x) => x.id === call.client);
      if (!c) continue;
      if (c.last_seq !== null && call.seq !== null && c.last_seq >= call.seq) {
        call.done = true;
        if (c.last_seq === call.seq) {
          call.result = c.last_result;
          call.latency = c.last_latency_ms;
          // Idle again, the client's target is the node that answered.
          const last = call.route[call.route.length - 1];
          if (!c.pending && !call.stale && c.target && (!last || last.node !== c.target)) call.route.push({ node: c.target });
        }
        continue;
      }
      const last = call.route[call.route.length - 1];
      if (c.target && (!last || last.node !== c.target)) call.route.push({ node: c.target });
      call.attempts = c.attempts;
    }
    this.renderCalls();
  }

  renderCalls() {
    const list = $("#calls");
    setHidden($("#calls-empty"), this.calls.length > 0);
    let prev = null;
    for (const call of this.calls) {
      let el = this.callEls.get(call);
      if (!el) {
        const op = h("span", { class: "c-op" });
        const who = h("span", { class: "muted" });
        const tag = h("span", { class: "stale-tag" });
        const st = h("span", { class: "c-state" });
        const li = h("li", { class: "call" }, op, " ", who, tag, st);
        el = { li, op, who, tag, st };
        this.callEls.set(call, el);
        setText(op, call.desc);
        setText(who, `· C${call.client}`);
        setText(tag, call.stale ? "possibly stale" : "");
        if (prev) prev.after(li);
        else list.prepend(li);
      }
      prev = el.li;
      const route = call.route.map((r) => nodeName(r.node)).join(" ↪ ");
      let text;
      if (call.done) {
        text = call.result
          ? `${call.stale ? "local value (possibly stale): " : "→ "}${clip(call.result, 120)} in ${call.latency.toFixed(1)} ms${route ? " · via " + route : ""}`
          : "answered";
      } else {
        const att = call.attempts > 1 ? ` (attempt ${call.attempts}: redirected or retried)` : "";
        text = `waiting${route ? " on " + route : ""}${att}`;
      }
      setText(el.st, text);
      setAttr(el.li, "class", `call ${call.done ? "done" : "pending"}${call.stale ? " stale" : ""}`);
    }
    // The list's heights change when a call is added or answered.
    const sig = this.calls.length + ":" + this.calls.filter((c) => c.done).length;
    if (sig !== this.callsSig) {
      this.callsSig = sig;
      this.updateCallsMore();
    }
  }

  /** When the list scrolls: fade its bottom edge and say how many calls
   * are below it, and let the keyboard scroll it (tabindex). */
  updateCallsMore() {
    const list = $("#calls");
    const over = list.scrollHeight > list.clientHeight + 1;
    setAttr(list, "tabindex", over ? "0" : null);
    let below = 0;
    if (over) {
      const bottom = list.scrollTop + list.clientHeight;
      for (const li of list.children) if (li.offsetTop + li.offsetHeight > bottom + 1) below++;
    }
    list.classList.toggle("more-below", below > 0);
    setHidden($("#calls-more"), below === 0);
    setText($("#calls-more"), below ? `${below} more ${below === 1 ? "call" : "calls"} below: scroll the list` : "");
  }

  // ------------------------------------------------------------ faults

  buildFaults() {
    const app = this.app;
    const err = $("#faults-error");
    $("#p-isolate").addEventListener("click", () => this.leaderAction("isolate", err));
    $("#p-split").addEventListener("click", () => {
      const v = app.freshView();
      if (!v) return;
      const n = v.nodes.length;
      const minority = Math.floor((n - 1) / 2);
      const first = v.leader || 1;
      const group = [];
      for (let i = 0; i < minority; i++) group.push(((first - 1 + i) % n) + 1);
      app.act((sim) => sim.partition([group]), err);
    });
    $("#p-heal").addEventListener("click", () => app.act((sim) => sim.healAll(), err));
    $("#p-crash-leader").addEventListener("click", () => this.leaderAction("crash", err));
    $("#p-restart-all").addEventListener("click", () => {
      const v = app.freshView();
      if (!v) return;
      for (const nv of v.nodes) if (!nv.up) app.act((sim) => sim.restart(nv.id), err);
    });
    $("#p-align").addEventListener("click", () => this.alignTimers(0));
    $("#p-spread").addEventListener("click", () => this.alignTimers(240));
  }

  /** Crash or isolate the current leader; `err` shows why not. */
  leaderAction(what, err) {
    const v = this.app.freshView();
    if (!v || !v.leader) {
      err.textContent = `There is no leader to ${what} right now.`;
      return;
    }
    const l = v.leader;
    this.app.act((sim) => (what === "crash" ? sim.crash(l) : sim.isolate(l)), err);
  }

  /** Force node `id`'s election timeout; `err` says why not for a leader or
   * a node that is down (the buttons are disabled then; the `T` key is not). */
  forceTimeout(id, err) {
    const v = this.app.freshView();
    const nv = v && v.nodes[id - 1];
    if (!nv) return;
    if (!nv.up) {
      err.textContent = `${nodeName(id)} is down: restart it first.`;
      return;
    }
    if (nv.role === "leader") {
      err.textContent = `${nodeName(id)} is a leader: it has no election timer. Crash or isolate it to start an election.`;
      return;
    }
    this.app.act((sim) => sim.forceTimeout(id), err);
  }

  /** Election timers 80 ms from now, together (spread 0: a split vote is
   * likely) or staggered over `spread` ms (the first usually wins). A live
   * leader's heartbeats would reset them, so it is crashed first. */
  alignTimers(spread, err = $("#faults-error")) {
    const app = this.app;
    const v = app.freshView();
    if (v && v.leader) app.act((sim) => sim.crash(v.leader), err);
    app.act((sim) => sim.alignTimers(80, spread), err);
  }

  buildMatrix(n) {
    this.matrixKey = null;
    const table = $("#link-matrix");
    table.replaceChildren();
    const head = h("tr", {}, h("td"));
    for (let to = 1; to <= n; to++) head.append(h("th", { scope: "col", text: "→" + nodeName(to) }));
    table.append(h("thead", {}, head));
    const body = h("tbody");
    this.matrix = [];
    for (let from = 1; from <= n; from++) {
      const tr = h("tr", {}, h("th", { scope: "row", text: nodeName(from) + "→" }));
      for (let to = 1; to <= n; to++) {
        if (from === to) {
          tr.append(h("td", { class: "self", text: "·", attrs: { "aria-hidden": "true" } }));
          continue;
        }
        const btn = h("button", { type: "button", attrs: { "aria-pressed": "false" } });
        btn.addEventListener("click", () => {
          const cut = btn.getAttribute("aria-pressed") !== "true";
          this.app.act((sim) => sim.setCut(from, to, cut), $("#faults-error"));
        });
        this.matrix.push({ from, to, btn });
        tr.append(h("td", {}, btn));
      }
      body.append(tr);
    }
    table.append(body);
  }

  // ------------------------------------------------------------ sliders

  buildSliders() {
    const box = $("#net-sliders");
    this.sliders = {};
    for (const spec of SLIDERS) {
      if (spec.group) {
        box.append(h("div", { class: "slider-group", text: spec.group }));
        continue;
      }
      const id = "sl-" + spec.id;
      const input = h("input", { type: "range", id, min: spec.min, max: spec.max, step: spec.step });
      const out = h("output", { htmlFor: id });
      input.addEventListener("input", () => {
        setText(out, fmtSlider(spec, Number(input.value)));
        setAttr(input, "aria-valuetext", fmtSlider(spec, Number(input.value)));
      });
      input.addEventListener("change", () => this.applySliders(spec.id));
      box.append(h("div", { class: "slider" }, h("label", { htmlFor: id }, h("span", { text: spec.label }), out), input));
      this.sliders[spec.id] = { spec, input, out };
    }
    $("#net-defaults").addEventListener("click", () => {
      const d = this.app.defaultSettings();
      const err = $("#network-error");
      if (!d) return;
      this.app.act((sim) => sim.setNetwork(d.latency_min_ms, d.latency_max_ms, d.loss, d.duplicate, d.reorder), err) &&
        this.app.act((sim) => sim.setTiming(d.election_min_ms, d.election_max_ms, d.heartbeat_ms), err);
      this.settingsSig = "";
    });
  }

  applySliders(changed) {
    const val = (k) => Number(this.sliders[k].input.value);
    const set = (k, v) => {
      this.sliders[k].input.value = String(v);
    };
    // Keep each range's ends in order, moving the end that was not touched.
    if (val("lat-min") > val("lat-max")) changed === "lat-min" ? set("lat-max", val("lat-min")) : set("lat-min", val("lat-max"));
    if (val("el-min") > val("el-max")) changed === "el-min" ? set("el-max", val("el-min")) : set("el-min", val("el-max"));
    const err = $("#network-error");
    if (["el-min", "el-max", "hb"].includes(changed)) {
      this.app.act((sim) => sim.setTiming(val("el-min"), val("el-max"), val("hb")), err);
    } else {
      this.app.act((sim) => sim.setNetwork(val("lat-min"), val("lat-max"), val("loss"), val("dup"), val("reorder")), err);
    }
    this.settingsSig = "";
  }

  // ------------------------------------------------------------ node actions

  buildInspector() {
    const app = this.app;
    const err = $("#ring-error");
    const sel = () => app.selected;
    $("#act-crash").addEventListener("click", () => this.toggleCrash(sel()));
    $("#act-timeout").addEventListener("click", () => this.forceTimeout(sel(), err));
    $("#act-isolate").addEventListener("click", () => app.act((sim) => sim.isolate(sel()), err));
    $("#act-heal").addEventListener("click", () => {
      const id = sel();
      for (let other = 1; other <= app.n; other++) {
        if (other === id) continue;
        app.act((sim) => sim.setCut(id, other, false), err);
        app.act((sim) => sim.setCut(other, id, false), err);
      }
    });
  }

  toggleCrash(id) {
    const v = this.app.freshView();
    if (!v || !v.nodes[id - 1]) return;
    const up = v.nodes[id - 1].up;
    this.app.act((sim) => (up ? sim.crash(id) : sim.restart(id)), $("#ring-error"));
  }

  // ------------------------------------------------------------ link box

  buildLinkPop() {
    const pop = $("#link-pop");
    const toggle = (dir) => {
      if (!this.linkPop) return;
      const { a, b } = this.linkPop;
      const [from, to] = dir === "ab" ? [a, b] : [b, a];
      const cut = $("#link-" + dir).getAttribute("aria-pressed") !== "true";
      this.app.act((sim) => sim.setCut(from, to, cut), $("#ring-error"));
      this.renderLinkPop();
    };
    $("#link-ab").addEventListener("click", () => toggle("ab"));
    $("#link-ba").addEventListener("click", () => toggle("ba"));
    $("#link-both").addEventListener("click", () => {
      if (!this.linkPop) return;
      const { a, b } = this.linkPop;
      const cut = $("#link-both").dataset.cut === "1";
      this.app.act((sim) => sim.setCut(a, b, cut), $("#ring-error")) &&
        this.app.act((sim) => sim.setCut(b, a, cut), $("#ring-error"));
      this.renderLinkPop();
    });
    $("#link-close").addEventListener("click", () => this.closeLink(true));
    pop.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.closeLink(true);
      }
    });
  }

  openLink(a, b, x, y) {
    this.closeNode(false);
    this.linkPop = { a, b, returnTo: document.activeElement };
    const pop = $("#link-pop");
    setText($("#link-pop-title"), `Link ${nodeName(a)} ⇄ ${nodeName(b)}`);
    pop.hidden = false;
    this.renderLinkPop();
    placePopover(pop, x, y);
    $("#link-ab").focus();
  }

  closeLink(restoreFocus) {
    const pop = $("#link-pop");
    if (!pop || pop.hidden) return;
    pop.hidden = true;
    const back = this.linkPop && this.linkPop.returnTo;
    this.linkPop = null;
    if (restoreFocus && back && back.focus) back.focus();
  }

  renderLinkPop() {
    if (!this.linkPop) return;
    const v = this.app.freshView();
    if (!v) return;
    const { a, b } = this.linkPop;
    const cuts = new Set(v.cuts.map(([x, y]) => x + ">" + y));
    const { ab, ba } = linkWords(a, b, cuts);
    const label = (x, y, c) => `${nodeName(x)} → ${nodeName(y)}: ${c ? "cut — heal" : "healthy — cut"}`;
    setText($("#link-ab"), label(a, b, ab));
    setAttr($("#link-ab"), "aria-pressed", String(ab));
    setText($("#link-ba"), label(b, a, ba));
    setAttr($("#link-ba"), "aria-pressed", String(ba));
    const both = ab && ba;
    setText($("#link-both"), both ? "Heal both ways" : "Cut both ways");
    $("#link-both").dataset.cut = both ? "0" : "1";
  }

  // ------------------------------------------------------------ node box

  buildNodePop() {
    const app = this.app;
    const err = $("#ring-error");
    const id = () => (this.nodePop ? this.nodePop.id : app.selected);
    $("#np-crash").addEventListener("click", () => {
      this.toggleCrash(id());
      this.renderNodePop(app.freshView());
    });
    $("#np-timeout").addEventListener("click", () => this.forceTimeout(id(), err));
    $("#np-isolate").addEventListener("click", () => app.act((sim) => sim.isolate(id()), err));
    $("#np-inspect").addEventListener("click", () => {
      this.closeNode(false);
      const card = $("#inspector");
      card.scrollIntoView({ block: "nearest" });
      $("#act-crash").focus({ preventScroll: true });
    });
    $("#np-close").addEventListener("click", () => this.closeNode(true));
    $("#node-pop").addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.closeNode(true);
      }
    });
  }

  /** A node was clicked (or Enter pressed on it): select it and open its
   * box. `boxes`: every node's drawn extent (Ring.nodeBoxes), which the box
   * avoids covering where the ring has room. */
  openNode(id, x, y, rightHalf, boxes = []) {
    this.closeLink(false);
    this.app.select(id);
    this.nodePop = { id, returnTo: document.activeElement };
    const pop = $("#node-pop");
    pop.hidden = false;
    this.renderNodePop(this.app.freshView());
    const wrap = pop.parentElement.getBoundingClientRect();
    const at = nodePopSpot(pop.offsetWidth, pop.offsetHeight, wrap.width, wrap.height, id, x, y, boxes, rightHalf);
    placePopover(pop, at.x, at.y);
    $("#np-crash").focus();
  }

  closeNode(restoreFocus) {
    const pop = $("#node-pop");
    if (!pop || pop.hidden) return;
    pop.hidden = true;
    const back = this.nodePop && this.nodePop.returnTo;
    this.nodePop = null;
    if (restoreFocus && back && back.focus) back.focus();
  }

  renderNodePop(view) {
    if (!this.nodePop || !view) return;
    const nv = view.nodes[this.nodePop.id - 1];
    if (!nv) return;
    const name = nodeName(nv.id);
    const role = nv.up ? (view.leader === nv.id ? "leader" : nv.role) : "down";
    setText($("#node-pop-title"), `${name} · ${role} · term ${nv.term}`);
    let st;
    if (!nv.up) st = `on disk: term ${nv.durable.term}, vote ${nv.durable.voted_for ? nodeName(nv.durable.voted_for) : "none"}, ${nv.durable.log_len} ${nv.durable.log_len === 1 ? "entry" : "entries"}`;
    else {
      const timer = nv.timer_deadline_ms != null ? ` · times out at ${(nv.timer_deadline_ms / 1000).toFixed(3)} s` : "";
      st = `vote ${nv.voted_for ? nodeName(nv.voted_for) : "none"} · commit ${nv.commit_index} · last ${nv.last_index}${timer}`;
    }
    setText($("#node-pop-state"), st);
    setText($("#np-crash"), nv.up ? `Crash ${name}` : `Restart ${name}`);
    $("#np-timeout").disabled = !nv.up || nv.role === "leader";
  }

  // ------------------------------------------------------------ keyboard

  buildKeys() {
    const app = this.app;
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target;
      // Form controls keep their keys: text fields, checkboxes and radios
      // (Space ticks them), selects. A range slider takes only arrows,
      // Home/End and Page keys, so the shortcuts stay on there.
      const control = t instanceof HTMLInputElement && t.type !== "range";
      if (control || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
      if (t instanceof HTMLElement && t.isContentEditable) return;
      if ($("#help").open || $("#store-dialog").open) return;
      // Shortcut errors appear beside the ring, whichever tab is open.
      const err = $("#ring-error");
      const k = e.key;
      let handled = true;
      if (k === " " && !(t instanceof HTMLButtonElement) && !(t instanceof Element && t.getAttribute("role") === "button")) {
        app.setPaused(!app.paused);
      } else if (k === "s" || k === "S" || k === ".") app.step();
      else if (k === "[" || k === "-") app.setSpeedIndex(app.speedIndex - 1);
      else if (k === "]" || k === "+" || k === "=") app.setSpeedIndex(app.speedIndex + 1);
      else if (/^[1-9]$/.test(k) && Number(k) <= app.n) app.select(Number(k));
      else if (k === "c" || k === "C") this.toggleCrash(app.selected);
      else if (k === "t" || k === "T") this.forceTimeout(app.selected, err);
      else if (k === "l" || k === "L") this.leaderAction("crash", err);
      else if (k === "i" || k === "I") this.leaderAction("isolate", err);
      else if (k === "p" || k === "P") $("#p-split").click();
      else if (k === "h" || k === "H") $("#p-heal").click();
      else if (k === "a" || k === "A") this.alignTimers(0, err);
      else if (k === "w" || k === "W") $("#load-add").click();
      else if (k === "k" || k === "K") {
        this.showTab("tab-console");
        $("#key").focus();
        $("#key").select();
      } else if (k === "n" || k === "N") {
        $("#seed").focus();
        $("#seed").select();
      } else if (k === "?") this.openHelp();
      else if (k === "Escape") {
        this.closeLink(true);
        this.closeNode(true);
      }
      else handled = false;
      if (handled) e.preventDefault();
    });
  }

  // ------------------------------------------------------------ per frame

  render(view) {
    const app = this.app;
    const play = $("#play");
    setText(play, app.paused ? "▶ Play" : "❚❚ Pause");
    setAttr(play, "aria-label", app.paused ? "Play" : "Pause");
    setAttr(play, "aria-pressed", null);
    const speed = $("#speed");
    if (Number(speed.value) !== app.speedIndex) speed.value = String(app.speedIndex);
    const label = speedLabel(SPEEDS[app.speedIndex]);
    // Saving to IndexedDB can hold the clock back (persistence.js,
    // frameCapMs): then the label says what the clock really runs at.
    const share = app.speedShare;
    const got = share !== null && !app.paused ? approxSpeed(SPEEDS[app.speedIndex] * share) : null;
    // Two lines, so the top bar keeps its width at 1280 px.
    setText($("#speed-out"), got ? `${label}\n(~${got})` : label);
    setAttr($("#speed-out"), "title", got ? `Running at about ${got}: each step waits for IndexedDB while the cluster is saved. Open the page with ?persist=0 to run in memory at full speed.` : null);
    setAttr(speed, "aria-valuetext", got ? `${label} chosen, about ${got} real time while saving` : `${label} real time`);

    if (this.pickInputs) {
      const inp = this.pickInputs[app.selected - 1];
      if (inp && !inp.checked) inp.checked = true;
    }

    const cutKey = view.cuts.join(";");
    if (cutKey !== this.matrixKey) {
      this.matrixKey = cutKey;
      this.renderMatrix(new Set(view.cuts.map(([a, b]) => a + ">" + b)));
    }
    if (this.linkPop) {
      if (cutKey !== this.linkSig) {
        this.linkSig = cutKey;
        this.renderLinkPop();
      }
    }
    this.renderRest(view);
  }

  renderMatrix(cuts) {
    for (const m of this.matrix || []) {
      const cut = cuts.has(m.from + ">" + m.to);
      setAttr(m.btn, "aria-pressed", String(cut));
      setText(m.btn, cut ? "✕" : "✓");
      setAttr(m.btn, "aria-label", `${nodeName(m.from)} to ${nodeName(m.to)}: ${cut ? "cut" : "healthy"}`);
    }
  }

  renderRest(view) {
    const hasLeader = !!view.leader;
    $("#p-isolate").disabled = !hasLeader;
    $("#p-crash-leader").disabled = !hasLeader;
    $("#p-restart-all").disabled = view.nodes.every((n) => n.up);
    const autos = view.clients.filter((c) => c.auto).length;
    setText($("#load-count"), autos ? `${autos} running` : "none");

    // Sliders follow the simulation's settings unless someone is using one.
    const s = view.settings;
    const sig = JSON.stringify(s);
    if (sig !== this.settingsSig) {
      this.settingsSig = sig;
      for (const k of Object.keys(this.sliders)) {
        const { spec, input, out } = this.sliders[k];
        if (document.activeElement === input) continue;
        const v = spec.get(s);
        input.value = String(v);
        setText(out, fmtSlider(spec, v));
        setAttr(input, "aria-valuetext", fmtSlider(spec, v));
      }
      setText($("#timing-warn"), timingWarning(s));
    }

    if (this.nodePop) this.renderNodePop(view);
    if (this.calls.some((c) => !c.done)) this.updateCalls(view);
  }
}

/** How much covering each part of a node costs, per px²: the clicked
 * node's own circle and labels most, other nodes' circles, then their
 * labels; a crown least. */
const COVER = { own: { circle: 100, label: 100, crown: 20 }, other: { circle: 10, label: 1, crown: 0.3 } };

/**
 * Where to centre a node's box (w × h) in the ring (W × H), for node `id`
 * at (x, y): near the node, covering neither its circle nor its labels
 * and, where there is room, no other node. `parts`: Ring.nodeBoxes().
 * Tries every position on an 8 px grid and keeps the cheapest (see
 * COVER, plus distance from the node); ties go to the side away from the
 * ring's centre.
 */
export function nodePopSpot(w, h, W, H, id, x, y, parts, rightHalf) {
  const overlap = (x1, y1, b) => Math.max(0, Math.min(x1 + w, b.x2) - Math.max(x1, b.x1)) * Math.max(0, Math.min(y1 + h, b.y2) - Math.max(y1, b.y1));
  const mine = parts.filter((b) => b.id === id);
  const own = mine.length
    ? { x1: Math.min(...mine.map((b) => b.x1)), y1: Math.min(...mine.map((b) => b.y1)), x2: Math.max(...mine.map((b) => b.x2)), y2: Math.max(...mine.map((b) => b.y2)) }
    : { x1: x - 46, y1: y - 46, x2: x + 46, y2: y + 46 };
  const maxX = Math.max(4, W - w - 4);
  const maxY = Math.max(4, H - h - 4);
  let best = null;
  for (let y1 = 4; y1 <= maxY + 7; y1 += 8) {
    const py = Math.min(y1, maxY);
    for (let x1 = 4; x1 <= maxX + 7; x1 += 8) {
      const px = Math.min(x1, maxX);
      let cost = 0;
      for (const b of parts) cost += overlap(px, py, b) * COVER[b.id === id ? "own" : "other"][b.kind];
      // Distance from the node's extent to the box, and a nudge outwards.
      const dx = Math.max(0, own.x1 - (px + w), px - own.x2);
      const dy = Math.max(0, own.y1 - (py + h), py - own.y2);
      cost += 30 * Math.hypot(dx, dy);
      const outer = rightHalf ? px + w / 2 > x : px + w / 2 < x;
      if (!outer) cost += 200;
      if (!best || cost < best.cost) best = { cost, x: px + w / 2, y: py + h / 2 };
    }
  }
  return best || { x, y };
}

/** Put a popover's centre at (x, y) inside its container, kept inside. */
function placePopover(pop, x, y) {
  const wrap = pop.parentElement.getBoundingClientRect();
  const w = pop.offsetWidth;
  const h = pop.offsetHeight;
  const px = Math.max(w / 2 + 4, Math.min(wrap.width - w / 2 - 4, x));
  const py = Math.max(h / 2 + 4, Math.min(wrap.height - h / 2 - 4, y));
  pop.style.left = px + "px";
  pop.style.top = py + "px";
}

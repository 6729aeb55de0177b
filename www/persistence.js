// The saved cluster: keeps the live simulation's durable state in
// IndexedDB, resumes it after a reload, and asks the person what to do when
// storage fails. The glue between the two halves: the wasm knows the
// records (`enablePersistence` and `takeDurableWrites` hand out the
// IndexedDB requests to store, `assembleLoaded` checks what a read returned) and www/store.js does the
// I/O. See src/web/persist.rs for the facade's side, src/web/idb.rs for why
// the I/O is in JavaScript, and the README's "Persistence" section.
//
// Raft's durability rule across the asynchronous boundary: with persistence
// on, the simulator holds every message and client answer until the write
// it depends on is confirmed, and this module confirms a write only once the
// IndexedDB transaction holding it has completed. At most one transaction
// is in flight: the writes taken meanwhile go into the next one (a group
// commit), so write sets reach IndexedDB strictly in the order they were
// taken, and after a failed one nothing later is stored.
//
// Nothing stored is deleted without the person's choice: a damaged or
// newer database, a full quota, or no IndexedDB at all opens a dialog with
// the choices ("Start fresh" deletes, "Carry on in memory" keeps it).

import { setText, setAttr, h } from "./dom.js";
import { Store } from "./store.js";

const $ = (sel) => document.querySelector(sel);

/** Real ms between saves of the simulation record on an idle cluster. */
const META_EVERY_MS = 1000;
/** How long a new page waits for another tab (or the page it replaced) to let go of the cluster. */
const LOCK_WAIT_MS = 4000;
/**
 * While saving, a frame advances at most this fraction of the shortest
 * election timeout. Messages wait for IndexedDB, and a write taken after a
 * frame commits only after it, so every Raft step (a vote, an append, its
 * answer) takes at least one frame of virtual time: with frames of
 * 160 virtual ms (10× speed) no election could finish before the next
 * timer fires. A fifth keeps a round trip of two writes well inside a
 * timeout; the speed is limited instead (the status line says so).
 */
const FRAME_CAP_OF_ELECTION_TIMEOUT = 0.2;
/**
 * And the clock stops while a write set in flight is older (in virtual
 * time) than this fraction of the shortest election timeout: a slow
 * IndexedDB makes the run wait, as a slow disk would, instead of letting
 * timers fire on messages that only wait for storage.
 */
const MAX_LAG_OF_ELECTION_TIMEOUT = 0.4;

/** Samples (ms) in a ring, with median / p95 / max. */
class Samples {
  constructor(size = 8192) {
    this.a = new Float64Array(size);
    this.n = 0;
  }
  push(x) {
    this.a[this.n % this.a.length] = x;
    this.n++;
  }
  summary() {
    const k = Math.min(this.n, this.a.length);
    const s = Array.from(this.a.subarray(0, k)).sort((x, y) => x - y);
    const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
    return { n: k, median: q(0.5), p95: q(0.95), max: s.length ? s[s.length - 1] : NaN };
  }
  reset() {
    this.n = 0;
  }
}

/** An error's name (`QuotaExceededError`, `CorruptError`, ...) and message. */
function describeError(e) {
  const name = (e && e.name) || "Error";
  const message = (e && e.message) || String(e);
  return { name, message };
}

export class Persistence {
  /**
   * `wasm`: the module (Simulation, assembleLoaded). `hooks`:
   * - `makeSim(seed, nodes)`: a new Simulation, or throws a readable Error;
   * - `adopt(sim, nodes)`: make `sim` the live one (renderers set up);
   * - `current()`: the live Simulation;
   * - `redraw()`.
   */
  constructor(wasm, hooks) {
    this.wasm = wasm;
    this.hooks = hooks;
    this.name = "default";
    this.store = null;
    // "starting", "saving", "failed" (awaiting a choice), "memory" (chose,
    // or had, to run in memory), "off" (?persist=0).
    this.mode = "starting";
    this.reason = "";
    this.gen = 0;
    this.inflight = false;
    this.metaDue = false;
    this.lastMetaTs = 0;
    this.lastError = null;
    this.resumed = null;
    this.writesStored = 0;
    this.failures = 0;
    this.lastWrite = Promise.resolve();
    this.perFrame = new Samples();
    this.commit = new Samples();
    this.take = new Samples();
    this.perWrite = new Samples();
    this.acc = 0; // persistence work since the last frame, ms
    this.frames = 0;
    this.bytes = new Samples();
    this.win = { start: 0, wanted: 0, dropped: 0 };
    /** Share of the wanted virtual time the last full second ran (1: all). */
    this.achieved = 1;
    this.lastTakeAt = 0; // virtual ms of the last take (writes after it are newer)
    this.inflightFrom = 0; // virtual ms: the writes in flight were issued after this
    this.dialog = new ChoiceDialog();
    $("#resume-close").addEventListener("click", () => this.hideResumeNote());
    $("#reset-cluster").addEventListener("click", () => this.reset());
  }

  // -------------------------------------------------------------- start

  /**
   * Decide the first cluster: resume the saved one, or start the URL's
   * seed (or a random one). Resolves once there is a live simulation.
   */
  async start(params) {
    this.name = (params.get("cluster") || "default").trim() || "default";
    const urlSeed = params.get("seed");
    const urlNodes = Number(params.get("nodes")) || null;
    const seed = urlSeed || this.wasm.randomSeed();
    const nodes = urlNodes || 5;
    if (params.get("persist") === "0") {
      this.setMode("off", "persistence is off for this page (?persist=0)");
      this.fresh(seed, nodes);
      return;
    }
    const lock = await acquireLock(this.name);
    if (lock === null) {
      // Without Web Locks (an http:// address other than localhost is not
      // a secure context) two tabs could both write the saved cluster and
      // interleave two runs in it: read it, never write it.
      await this.startCopy(
        seed,
        nodes,
        "this address offers no Web Locks (open the page at http://localhost to save), so this tab runs in memory; a saved cluster is kept as it was"
      );
      return;
    }
    if (!lock) {
      await this.startCopy(seed, nodes);
      return;
    }
    await this.open(urlSeed, urlNodes, seed, nodes);
  }

  /** Open the store and resume it, or start afresh in it. */
  async open(urlSeed, urlNodes, seed, nodes) {
    let loaded = null;
    try {
      if (await Store.exists(this.name)) {
        this.store = await Store.open(this.name);
        if (await this.store.hasMeta()) loaded = await this.load(this.store);
        else if (holdsData(await this.load(this.store))) {
          // Logs or calls without the simulation's own record (an older
          // raftlab's database, or a damaged one): never replace it unasked.
          const e = new Error('the saved cluster holds logs or calls but no simulation record (sim "meta"): an older raftlab wrote it, or it is damaged');
          e.name = "CorruptError";
          throw e;
        }
      } else {
        this.store = await Store.open(this.name);
      }
    } catch (e) {
      await this.onStartError(e, { seed, nodes, urlSeed, urlNodes });
      return;
    }
    if (loaded !== null) {
      let meta = null;
      try {
        meta = JSON.parse(loaded).meta;
      } catch {
        meta = null;
      }
      const differs = meta && urlSeed && (String(meta.seed) !== String(urlSeed).trim() || (urlNodes && urlNodes !== meta.config.nodes));
      if (differs) {
        const at = (meta.now_us / 1e6).toFixed(3);
        const choice = await this.dialog.ask({
          title: "A saved cluster is waiting",
          message: `This browser holds a saved cluster (seed ${meta.seed}, ${meta.config.nodes} nodes, at t=${at} s). The address asks for seed ${urlSeed}${urlNodes ? ` with ${urlNodes} nodes` : ""}.`,
          choices: [
            { key: "resume", label: `Resume seed ${meta.seed}`, hint: "carry on where it was", primary: true },
            { key: "replace", label: `Start seed ${urlSeed}`, hint: "replaces the saved cluster" },
          ],
          cancel: "resume",
        });
        if (choice === "replace") {
          this.fresh(seed, nodes);
          this.attach(this.hooks.current());
          return;
        }
      }
      let sim;
      try {
        sim = this.wasm.Simulation.resume(loaded);
      } catch (e) {
        await this.onStartError(e, { seed, nodes, urlSeed, urlNodes, corrupt: true });
        return;
      }
      const n = JSON.parse(sim.persistMetaJson()).config.nodes;
      this.hooks.adopt(sim, n);
      this.showResumeNote(sim, n);
      this.attach(sim);
      return;
    }
    this.fresh(seed, nodes);
    this.attach(this.hooks.current());
  }

  /** Another tab owns the saved cluster: run a copy of it here, in memory. */
  async startCopy(seed, nodes, reason = "another tab is running the saved cluster; this tab runs a copy in memory") {
    this.setMode("memory", reason);
    try {
      if (await Store.exists(this.name)) {
        const store = await Store.open(this.name);
        const loaded = (await store.hasMeta()) ? await this.load(store) : null;
        store.close();
        if (loaded !== null) {
          const sim = this.wasm.Simulation.resume(loaded);
          const n = JSON.parse(sim.persistMetaJson()).config.nodes;
          this.hooks.adopt(sim, n);
          this.showResumeNote(sim, n, true);
          return;
        }
      }
    } catch {
      // Could not read it: the copy starts afresh instead.
    }
    this.fresh(seed, nodes);
  }

  /** A new cluster (not yet saved): through the page's own path. */
  fresh(seed, nodes) {
    let sim;
    try {
      sim = this.hooks.makeSim(seed, nodes);
    } catch {
      sim = this.hooks.makeSim(this.wasm.randomSeed(), 5);
    }
    this.hooks.adopt(sim, nodes);
  }

  async onStartError(e, ctx) {
    const { name, message } = describeError(e);
    const unavailable = name === "IndexedDBUnavailableError";
    const blocked = name === "BlockedError";
    let title = "The saved cluster cannot be opened";
    let text;
    if (unavailable) {
      title = "IndexedDB is not available";
      text = "This browser does not let the page store data (private browsing, or storage turned off), so the cluster cannot be saved: a reload will start over.";
    } else if (name === "NewerSchemaError") {
      title = "Saved by a newer raftlab";
      text = "The saved cluster was written by a newer version of this page. Open the newest page to resume it, or start fresh here (which deletes it).";
    } else if (blocked) {
      text = "Another raftlab tab keeps an old version of the saved cluster open. Close the other tabs and try again.";
    } else if (ctx.corrupt || name === "CorruptError") {
      title = "The saved cluster is damaged";
      text = "A stored record could not be read, so the cluster cannot be resumed as it was. Nothing has been deleted.";
    } else {
      text = "Reading the saved cluster failed. Nothing has been deleted.";
    }
    const choices = [];
    if (!unavailable && !blocked) {
      choices.push({ key: "fresh", label: "Start fresh", hint: "deletes the saved cluster, then saves a new one" });
    }
    if (unavailable || blocked) choices.push({ key: "retry", label: "Try again", hint: "open the saved cluster again" });
    choices.push({ key: "memory", label: "Carry on in memory", hint: unavailable ? "a reload starts over" : "keeps the saved data as it is; nothing is saved", primary: true });
    const choice = await this.dialog.ask({ title, message: text, detail: `${name}: ${message}`, choices, cancel: "memory" });
    if (this.store && choice !== "fresh") {
      this.store.close();
      this.store = null;
    }
    if (choice === "retry") {
      await this.open(ctx.urlSeed, ctx.urlNodes, ctx.seed, ctx.nodes);
    } else if (choice === "fresh") {
      await this.startFresh(ctx.seed, ctx.nodes);
    } else {
      this.setMode("memory", unavailable ? "IndexedDB is not available here" : "you chose to carry on in memory; the saved cluster is kept as it was");
      this.fresh(ctx.seed, ctx.nodes);
    }
  }

  /**
   * The person chose to start fresh: delete the saved cluster, then start
   * seed `seed` from time 0 and save it anew.
   */
  async startFresh(seed, nodes) {
    this.gen++;
    this.inflight = false;
    const live = this.hooks.current();
    if (live) {
      try {
        live.disablePersistence();
      } catch {
        // a simulation that panicked: it is replaced below anyway
      }
    }
    try {
      // A transaction still running would keep the database open and
      // block its deletion: let it finish (its result is ignored).
      await this.lastWrite;
      if (this.store) this.store.close();
      this.store = null;
      await Store.deleteCluster(this.name);
      this.store = await Store.open(this.name);
    } catch (e) {
      const { name, message } = describeError(e);
      this.setMode("memory", "the saved cluster could not be deleted or re-created");
      this.fresh(seed, nodes);
      await this.dialog.ask({
        title: "Could not start fresh",
        message: "Deleting or re-creating the saved cluster failed; this page carries on in memory.",
        detail: `${name}: ${message}`,
        choices: [{ key: "ok", label: "Carry on in memory", primary: true }],
        cancel: "ok",
      });
      return;
    }
    this.fresh(seed, nodes);
    this.attach(this.hooks.current());
  }

  /**
   * Everything `store` holds, read (www/store.js) and checked (the wasm's
   * `assembleLoaded`): the JSON for `Simulation.resume`. Rejects with a
   * CorruptError naming the damaged record.
   */
  async load(store) {
    return this.wasm.assembleLoaded(await store.load());
  }

  // -------------------------------------------------------------- writing

  /**
   * Save `sim` (a new cluster, a resumed one, or after "Try again"): store
   * everything it has as the new baseline, replacing what was stored.
   */
  attach(sim) {
    if (!this.store || !sim) return;
    this.gen++;
    this.lastError = null;
    let json;
    try {
      json = sim.enablePersistence();
    } catch (e) {
      this.onWriteError(e);
      return;
    }
    this.setMode("saving", "");
    this.metaDue = false;
    this.lastTakeAt = this.inflightFrom = sim.nowMs();
    this.issue(sim, json, true);
  }

  /** A new cluster from the page (New cluster, Random seed, after a panic) replaces the saved one. */
  replaced(sim) {
    if (this.mode === "saving" || this.mode === "failed") this.attach(sim);
  }

  /**
   * Every frame, after render: store what the frame wrote. The work done
   * for persistence since the previous frame (this, and the takes made when
   * a write completed) is one sample of `perFrame`.
   */
  frame(sim, ts) {
    if (this.frames++ > 0) this.perFrame.push(this.acc);
    this.acc = 0;
    this.tick(sim, ts);
  }

  /** Take what is new and store it (after a frame, and after each stored write). */
  tick(sim, ts) {
    if (this.mode !== "saving" || this.inflight || !sim) return;
    const t0 = performance.now();
    const from = this.lastTakeAt;
    this.lastTakeAt = sim.nowMs();
    const always = this.metaDue || ts - this.lastMetaTs >= META_EVERY_MS;
    let json;
    try {
      json = sim.takeDurableWrites(always);
    } catch (e) {
      this.onWriteError(e);
      return;
    }
    const took = performance.now() - t0;
    this.take.push(took);
    if (json === undefined) {
      this.acc += took;
      return;
    }
    this.metaDue = false;
    this.lastMetaTs = ts;
    this.bytes.push(json.length);
    this.inflightFrom = from;
    this.issue(sim, json, false);
    // takeDurableWrites planned the requests (in wasm) above, and issue()
    // makes them (store.write) synchronously; measure up to the microtask
    // after them all the same, so that the figure stays comparable with
    // older builds.
    queueMicrotask(() => {
      const ms = performance.now() - t0;
      this.acc += ms;
      this.perWrite.push(ms);
    });
  }

  issue(sim, json, baseline) {
    const gen = this.gen;
    this.inflight = true;
    const t = performance.now();
    let write;
    try {
      write = this.store.write(json);
    } catch (e) {
      write = Promise.reject(e);
    }
    // Settled either way, for whoever must wait until no transaction runs.
    this.lastWrite = write.then(
      () => {},
      () => {}
    );
    write.then(
      (id) => {
        if (gen !== this.gen) return;
        this.commit.push(performance.now() - t);
        this.inflight = false;
        this.writesStored++;
        try {
          if (baseline) sim.baselineStored();
          else sim.confirmDurable(id);
        } catch {
          return; // the simulation went away (a panic): nothing to release
        }
        this.hooks.redraw();
        // Writes taken meanwhile go now, not at the next frame.
        this.tick(sim, performance.now());
      },
      (e) => {
        if (gen !== this.gen) return;
        this.inflight = false;
        this.onWriteError(e);
      }
    );
  }

  /**
   * Most virtual ms the frame may advance now: `Infinity` unless saving;
   * 0 after a failed save, and while IndexedDB lags too far behind (see FRAME_CAP_OF_ELECTION_TIMEOUT
   * and MAX_LAG_OF_ELECTION_TIMEOUT).
   */
  frameCapMs(view, nowMs) {
    // While a failed save waits for the person's choice the clock stands
    // still: everything is held anyway, and running on would pile up
    // writes and held messages in memory for nothing.
    if (this.mode === "failed") return 0;
    if (this.mode !== "saving" || !view) return Infinity;
    const timeout = view.settings.election_min_ms;
    const cap = Math.max(1, timeout * FRAME_CAP_OF_ELECTION_TIMEOUT);
    if (!this.inflight) return cap;
    const room = timeout * MAX_LAG_OF_ELECTION_TIMEOUT - (nowMs - this.inflightFrom);
    return Math.max(0, Math.min(cap, room));
  }

  /**
   * A frame wanted `wanted` virtual ms and the cap dropped `dropped` of
   * them. Each second, `achieved` says how much of it ran (`limited`, and
   * the status line, say so when more than a tenth was dropped).
   */
  noteFrame(ts, wanted, dropped) {
    this.win.wanted += wanted;
    this.win.dropped += dropped;
    if (ts - this.win.start >= 1000) {
      this.achieved = this.win.wanted > 0 ? 1 - this.win.dropped / this.win.wanted : 1;
      this.win = { start: ts, wanted: 0, dropped: 0 };
    }
  }

  /** Whether saving held the clock back by more than a tenth last second. */
  get limited() {
    return this.achieved < 0.9;
  }

  /** A person's action changed the record (cuts, sliders, clients): save it soon. */
  touch() {
    this.metaDue = true;
  }

  async onWriteError(e) {
    if (this.mode === "failed") return;
    this.failures++;
    this.gen++; // nothing more is stored without the failed write
    this.lastError = e;
    this.setMode("failed", "saving failed");
    this.hooks.redraw();
    const { name, message } = describeError(e);
    let text;
    if (name === "QuotaExceededError") {
      text = "The browser's storage quota is used up. Messages and answers wait for storage, so the cluster is stalled until you choose.";
    } else if (name === "ClosedError") {
      text = "The saved cluster was deleted or changed in another tab. The cluster is stalled until you choose.";
    } else {
      text = "A write to IndexedDB failed. The cluster is stalled until you choose; what was stored before is kept.";
    }
    const choice = await this.dialog.ask({
      title: "Saving the cluster failed",
      message: text,
      detail: `${name}: ${message}`,
      choices: [
        { key: "retry", label: "Try again", hint: "save everything again, then carry on" },
        { key: "fresh", label: "Start fresh", hint: "deletes the saved cluster and starts this seed again" },
        { key: "memory", label: "Carry on in memory", hint: "keeps what was saved; saves nothing more", primary: true },
      ],
      cancel: "memory",
    });
    const live = this.hooks.current();
    if (choice === "retry") {
      try {
        if (this.store) this.store.close();
        this.store = await Store.open(this.name);
      } catch (e2) {
        this.mode = "saving";
        this.onWriteError(e2);
        return;
      }
      this.attach(live);
    } else if (choice === "fresh") {
      await this.startFresh(live.seed(), JSON.parse(live.persistMetaJson()).config.nodes);
    } else {
      try {
        live.disablePersistence();
      } catch {
        // a simulation that panicked holds nothing worth releasing
      }
      this.setMode("memory", "you chose to carry on in memory; the saved cluster keeps what it had");
    }
    this.hooks.redraw();
  }

  // -------------------------------------------------------------- reset

  async reset() {
    const live = this.hooks.current();
    if (!live) return;
    const seed = live.seed();
    const nodes = JSON.parse(live.persistMetaJson()).config.nodes;
    const saved = this.mode === "saving" || this.mode === "failed";
    const choice = await this.dialog.ask({
      title: "Reset the cluster?",
      message: saved
        ? `This deletes the cluster saved in this browser (seed ${seed}) and starts seed ${seed} again from time 0, saved afresh.`
        : `This starts seed ${seed} again from time 0. Nothing is being saved in this browser, and nothing saved is deleted.`,
      choices: [
        { key: "reset", label: "Reset cluster", hint: saved ? "delete it and start again" : "start again" },
        { key: "cancel", label: "Cancel", primary: true },
      ],
      cancel: "cancel",
    });
    if (choice !== "reset") return;
    this.hideResumeNote();
    if (saved) await this.startFresh(seed, nodes);
    else this.fresh(seed, nodes);
    this.hooks.redraw();
  }

  // -------------------------------------------------------------- showing

  setMode(mode, reason) {
    this.mode = mode;
    this.reason = reason;
    this.achieved = 1;
  }

  showResumeNote(sim, nodes, copy = false) {
    const t = (sim.nowMs() / 1000).toFixed(3);
    this.resumed = { seed: sim.seed(), at_ms: sim.nowMs(), nodes };
    setText($("#resume-title"), `Resumed cluster seed ${sim.seed()} at t=${t} s from IndexedDB.`);
    setText(
      $("#resume-msg"),
      (copy ? "A copy, in memory: another tab is running the saved cluster. " : "") +
        "Every node restarted from what IndexedDB held, as after a power loss of the whole cluster: nodes that were down are up again; link cuts and background clients are back; console calls still waiting were not sent again."
    );
    $("#resume-note").hidden = false;
  }

  hideResumeNote() {
    $("#resume-note").hidden = true;
  }

  /** The status line in the top bar; `report` is the parsed storageReportJson() or null. */
  render(report) {
    const el = $("#storage-status");
    let text;
    if (this.mode === "saving") {
      const pending = report ? report.unconfirmed_writes : 0;
      if (report && !report.baseline_stored) text = "saving the cluster…";
      else text = pending ? `saved to IndexedDB · ${pending} ${pending === 1 ? "write" : "writes"} pending` : "saved to IndexedDB";
      if (this.limited) text += " · speed limited while saving (each step waits for IndexedDB)";
    } else if (this.mode === "failed") {
      text = "saving failed — choose what to do";
    } else if (this.mode === "starting") {
      text = "opening IndexedDB…";
    } else {
      text = "in memory only";
    }
    setText(el, text);
    setAttr(el, "data-mode", this.mode);
    setAttr(el, "title", this.reason || (this.mode === "saving" ? `Saved as "${this.name}" in this browser's IndexedDB: a reload resumes it.` : null));
  }

  /** For window.raftlab.storage and the measurement scripts. */
  info() {
    return {
      name: this.name,
      mode: this.mode,
      reason: this.reason,
      inflight: this.inflight,
      writesStored: this.writesStored,
      failures: this.failures,
      resumed: this.resumed,
      lastError: this.lastError ? describeError(this.lastError) : null,
    };
  }

  stats({ reset = false } = {}) {
    const s = {
      perFrame: this.perFrame.summary(),
      perWrite: this.perWrite.summary(),
      take: this.take.summary(),
      commit: this.commit.summary(),
      bytes: this.bytes.summary(),
    };
    if (reset) {
      this.take.reset();
      this.perWrite.reset();
      this.perFrame.reset();
      this.commit.reset();
      this.bytes.reset();
    }
    return s;
  }
}

/** Whether a loaded store (the JSON of `assembleLoaded`) holds anything at all. */
function holdsData(json) {
  const l = JSON.parse(json);
  const nodes = Array.isArray(l.nodes) ? l.nodes : [];
  const calls = Array.isArray(l.calls) ? l.calls : [];
  return calls.length > 0 || nodes.some((n) => (n.log && n.log.length > 0) || (n.hard_state && Number(n.hard_state.current_term) > 0));
}

/**
 * Hold the Web Lock of cluster `name` for as long as the page lives, so
 * that one tab at a time writes it. Waits a little for a page being
 * replaced (a reload) to let go; false if another tab keeps it, null if
 * this page has no Web Locks at all.
 */
function acquireLock(name) {
  if (!navigator.locks || !navigator.locks.request) return Promise.resolve(null);
  return new Promise((resolve) => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), LOCK_WAIT_MS);
    navigator.locks
      .request("raftlab-cluster:" + name, { signal: ctl.signal }, () => {
        clearTimeout(timer);
        resolve(true);
        return new Promise(() => {}); // held until the page goes
      })
      .catch(() => resolve(false));
  });
}

/** The modal dialog that asks the person to choose (built once, reused). */
class ChoiceDialog {
  constructor() {
    this.el = $("#store-dialog");
    this.pending = null;
    this.el.addEventListener("cancel", (e) => {
      // Escape picks the choice that deletes nothing.
      e.preventDefault();
      if (this.pending) this.finish(this.pending.cancel);
    });
  }

  /** Show `{title, message, detail?, choices: [{key, label, hint?, primary?}], cancel}`; resolves to a key. */
  ask({ title, message, detail = "", choices, cancel }) {
    if (this.pending) this.finish(this.pending.cancel);
    setText($("#store-dialog-title"), title);
    setText($("#store-dialog-msg"), message);
    setText($("#store-dialog-detail"), detail);
    const box = $("#store-dialog-actions");
    box.replaceChildren();
    let first = null;
    for (const c of choices) {
      const btn = h(
        "button",
        { type: "button", class: `btn dialog-choice${c.primary ? " btn-primary" : ""}`, attrs: { "data-choice": c.key } },
        h("span", { text: c.label }),
        c.hint ? h("small", { text: c.hint }) : null
      );
      btn.addEventListener("click", () => this.finish(c.key));
      box.append(btn);
      if (c.primary || !first) first = c.primary ? btn : first || btn;
    }
    return new Promise((resolve) => {
      this.pending = { resolve, cancel };
      if (!this.el.open) this.el.showModal();
      if (first) first.focus();
    });
  }

  finish(key) {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.el.close();
    p.resolve(key);
  }
}

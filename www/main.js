// The page's loop and state. One requestAnimationFrame loop: advance the
// simulation by the elapsed real time times the speed, take one view from
// the wasm facade, hand it to every renderer. Controls change the state or
// call the facade and ask for a redraw. Nothing here draws by itself.
//
// Scripts (and the end-to-end tests) drive the page through `window.raftlab`:
// the live `Simulation` and a few helpers, documented in the README.
//
// Persistence (persistence.js) decides the first cluster (the saved one,
// resumed, or a new one) and, after each frame is drawn, stores what the
// frame wrote in IndexedDB; the simulator holds messages and answers until
// it has.

import init, * as wasm from "./pkg/raftlab.js";
import { initGuard, guard, hasPanicked, clearPanic } from "./guard.js";
import { Ring } from "./render/ring.js";
import { Logs } from "./render/logs.js";
import { KvTable } from "./render/kv.js";
import { Inspector } from "./render/inspector.js";
import { Narration } from "./narration.js";
import { Controls, SPEEDS, DEFAULT_SPEED } from "./controls.js";
import { setText, setHidden } from "./dom.js";
import { nodeName } from "./render/palette.js";
import { Persistence } from "./persistence.js";

const $ = (sel) => document.querySelector(sel);

/**
 * The linearizability checker's own wasm module (src/web/check_module.rs),
 * fetched on first use: the page's controls never need it, so it is not
 * part of the page's wasm. A failed load is forgotten, so a later call
 * tries again.
 */
let checker = null;
function loadChecker() {
  checker ??= import("./pkg-check/raftlab_check.js")
    .then(async (m) => {
      await m.default();
      return m;
    })
    .catch((e) => {
      checker = null;
      throw e;
    });
  return checker;
}

/** Everything the page remembers between frames. */
const state = {
  sim: null,
  view: null,
  n: 0,
  paused: false,
  speedIndex: DEFAULT_SPEED,
  selected: 1,
  dirty: true,
  carry: 0, // virtual ms owed to the simulation, below 1 µs
  lastTs: null,
  lastPausedDraw: 0,
  consoleIds: new Set(),
};

/** Frame timings (simulation advance + render), for scripts/measure-frames.mjs. */
const stats = {
  total: new Float64Array(8192),
  advance: new Float64Array(8192),
  n: 0,
  push(total, advance) {
    const i = this.n % this.total.length;
    this.total[i] = total;
    this.advance[i] = advance;
    this.n++;
  },
  summary() {
    const k = Math.min(this.n, this.total.length);
    const pick = (arr) => {
      const a = Array.from(arr.subarray(0, k)).sort((x, y) => x - y);
      const q = (p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
      return { median: q(0.5), p95: q(0.95), max: a.length ? a[a.length - 1] : NaN };
    };
    return { frames: k, total: pick(this.total), advance: pick(this.advance) };
  },
  reset() {
    this.n = 0;
  },
};

let ring;
let logs;
let kv;
let inspector;
let narration;
let controls;
let persistence;

// ---------------------------------------------------------------- actions

/** Mark the page for a redraw on the next frame. */
function redraw() {
  state.dirty = true;
}

/**
 * Call the facade on the live simulation. On an error, show it in `errorEl`
 * (if given) and return null; on success clear `errorEl` and return
 * `{ value }`.
 */
function act(fn, errorEl) {
  if (!state.sim) return null;
  const r = guard(() => fn(state.sim));
  redraw();
  // The action is recorded in the saved cluster's record: save it soon.
  if (r.ok && persistence) persistence.touch();
  if (errorEl) errorEl.textContent = r.ok ? "" : r.error;
  return r.ok ? { value: r.value } : null;
}

/**
 * A fresh view right now (not the one drawn last frame). `drawing`: for
 * this frame's renderers, which leave out what no card on screen draws;
 * false (window.raftlab.view) keeps every node's first keys.
 */
function freshView(drawing = true) {
  if (!state.sim) return null;
  // Only the log view draws entries: while it is off screen, carry one.
  const limit = !logs ? undefined : onScreen.logs ? logs.wantLimit() : 1;
  // Only the KV table draws keys (the inspector counts them with kv_len):
  // the default (the first 200 per node) while it is on screen, else none.
  const kvLimit = onScreen.kv || !drawing ? undefined : 0;
  const r = guard(() => JSON.parse(state.sim.viewJson(limit, kvLimit)));
  return r.ok ? r.value : null;
}

function setPaused(p) {
  // On pausing, the feed re-reads the trace so every recent line is there.
  if (p && !state.paused && narration) narration.refilter();
  state.paused = p;
  state.carry = 0;
  redraw();
}

function setSpeedIndex(i) {
  state.speedIndex = Math.max(0, Math.min(SPEEDS.length - 1, i));
  redraw();
}

/** Run one event, paused, and say in the ticker what it was: most steps
 * deliver a message, which the feed hides by default. */
function stepOne() {
  setPaused(true);
  if (!state.sim) return;
  const newest = () => guard(() => JSON.parse(state.sim.narrationJson(0, 1)));
  const before = newest();
  const since = before.ok && before.value.length ? before.value[0].seq + 1 : 0;
  if (!act((sim) => sim.step())) return;
  const r = guard(() => JSON.parse(state.sim.narrationJson(since, 3)));
  if (r.ok && r.value.length) setTicker("Step: " + r.value.map((l) => l.text).join(" · "));
  else if (r.ok) setTicker("Step: no event was waiting.");
}

function select(id) {
  if (id >= 1 && id <= state.n) {
    state.selected = id;
    redraw();
  }
}

/** Start a new cluster (it replaces the saved one). Returns an error message, or null. */
function newCluster(seed, nodes) {
  const r = guard(() => new wasm.Simulation(String(seed), Number(nodes)));
  if (!r.ok) return r.error;
  adopt(r.value, Number(nodes));
  if (persistence) {
    persistence.hideResumeNote();
    persistence.replaced(r.value);
  }
  return null;
}

/** Make `sim` (new or resumed, `nodes` nodes) the live simulation. */
function adopt(sim, nodes) {
  if (state.sim && state.sim !== sim) {
    try {
      state.sim.free();
    } catch {
      // A simulation that panicked may refuse to be freed; drop it.
    }
  }
  clearPanic();
  setHidden($("#panic"), true);
  state.sim = sim;
  state.n = Number(nodes);
  state.consoleIds = new Set();
  state.selected = 1;
  state.carry = 0;
  ring.setup(state.n);
  logs.setup(state.n);
  kv.setup(state.n);
  narration.setup(state.n);
  setTicker("");
  controls.onNewCluster(state.n, sim.seed());
  const url = new URL(location.href);
  url.searchParams.set("seed", sim.seed());
  url.searchParams.set("nodes", String(state.n));
  history.replaceState(null, "", url);
  redraw();
}

function onPanic(message) {
  setText($("#panic-msg"), message);
  setHidden($("#panic"), false);
}

// ---------------------------------------------------------------- drawing

/** Where render time goes, summed per part since the last reset (ms). */
const parts = { view: 0, narration: 0, ring: 0, logs: 0, kv: 0, inspector: 0, controls: 0 };

/** Which cards are on screen: the others are not redrawn until they are. */
const onScreen = { logs: true, kv: true, feed: true, inspector: true };

function watchVisibility() {
  const cards = { logs: ".logs-card", kv: ".kv-card", feed: ".feed-card", inspector: "#inspector" };
  const byEl = new Map(Object.entries(cards).map(([k, sel]) => [$(sel), k]));
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const k = byEl.get(e.target);
      const was = onScreen[k];
      onScreen[k] = e.isIntersecting;
      // The feed skipped lines while hidden: read them from the trace.
      if (k === "feed" && e.isIntersecting && !was && narration) narration.refilter();
    }
    redraw();
  });
  for (const el of byEl.keys()) io.observe(el);
}

// ---------------------------------------------------------------- status strip

/** Whether the narrow-screen status strip is showing (style.css shows it
 * only below 1100 px, and only while the ring card's title is scrolled
 * away). */
let stripShown = false;
let reduceMotion = null;

/** The ticker (the latest election or fault, or what a step did), in the
 * ring card and in the strip; a new line makes the strip's line flash. */
function setTicker(text) {
  const el = $("#ticker");
  if (el.textContent === text) return;
  setText(el, text);
  const strip = $("#ss-ticker");
  setText(strip, text);
  if (stripShown && text && !reduceMotion.matches && strip.animate) {
    strip.animate([{ backgroundColor: "rgba(255, 181, 71, 0.35)" }, { backgroundColor: "rgba(255, 181, 71, 0)" }], { duration: 900, easing: "ease-out" });
  }
}

/**
 * Show the strip while the ring card's title (summary and ticker) is above
 * the visible area; below the top bar while that one is sticky (641 to
 * 1100 px). The strip is aria-hidden and takes no focus: #summary already
 * speaks through its aria-live.
 */
function watchStrip() {
  reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");
  const strip = $("#status-strip");
  const head = $(".ring-card .card-head");
  const topbar = $(".topbar");
  const narrow = matchMedia("(max-width: 1100px)");
  const check = () => {
    const sticky = getComputedStyle(topbar).position === "sticky";
    const top = sticky ? topbar.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--topbar-h", top + "px");
    const away = narrow.matches && head.getBoundingClientRect().bottom < top;
    if (away === stripShown) return;
    stripShown = away;
    if (away) strip.dataset.away = "1";
    else delete strip.dataset.away;
    redraw();
  };
  addEventListener("scroll", check, { passive: true });
  addEventListener("resize", check);
  new ResizeObserver(check).observe(topbar);
  strip.addEventListener("click", () => $(".ring-card").scrollIntoView({ block: "start" }));
  check();
}

function renderNow() {
  let t = performance.now();
  const lap = (k) => {
    const now = performance.now();
    parts[k] += now - t;
    t = now;
  };
  const view = freshView();
  if (!view) return;
  state.view = view;
  lap("view");
  if (onScreen.feed) {
    narration.pull(view.trace_len);
    narration.renderNote();
  } else {
    narration.pullTicker(view.trace_len);
  }
  lap("narration");
  ring.render(view, state.selected, state.consoleIds);
  lap("ring");
  if (onScreen.logs) logs.render(view);
  lap("logs");
  if (onScreen.kv) kv.render(view);
  lap("kv");
  const rep = guard(() => JSON.parse(state.sim.storageReportJson()));
  const report = rep.ok ? rep.value : null;
  if (onScreen.inspector) inspector.render(view, state.selected, report);
  lap("inspector");
  persistence.render(report);
  controls.render(view);
  renderStatus(view);
  lap("controls");
}

let lastSummary = "";
function renderStatus(view) {
  const clock = (view.now_ms / 1000).toFixed(3) + " s";
  setText($("#clock"), clock);
  let summary;
  let short;
  if (view.leader) {
    const l = view.nodes[view.leader - 1];
    summary = `Leader ${nodeName(view.leader)} in term ${l.term}`;
    short = `♛ Leader ${nodeName(view.leader)} · term ${l.term}`;
  } else {
    const up = view.nodes.filter((n) => n.up).length;
    const majority = up * 2 > view.nodes.length;
    summary = majority ? "No leader yet: an election is under way" : "No leader: too few nodes are up for a majority";
    short = majority ? "No leader · election under way" : "No leader · no majority up";
  }
  if (state.paused) {
    summary += " · paused";
    short += " · paused";
  }
  if (summary !== lastSummary) {
    lastSummary = summary;
    $("#summary").textContent = summary;
  }
  // The narrow-screen strip: drawn only while it shows (see watchStrip).
  if (stripShown) {
    setText($("#ss-summary"), short);
    setText($("#ss-clock"), clock);
  }
  setHidden($("#violation"), !view.violation);
  if (view.violation) setText($("#violation-msg"), view.violation);
}

function frame(ts) {
  requestAnimationFrame(frame);
  const dt = state.lastTs === null ? 0 : Math.min(100, Math.max(0, ts - state.lastTs));
  state.lastTs = ts;
  if (!state.sim || hasPanicked()) return;
  if (state.paused && !state.dirty) {
    // Scripts may call the simulation directly: look again now and then.
    if (ts - state.lastPausedDraw < 250) {
      persistence.frame(state.sim, ts);
      return;
    }
  }
  state.lastPausedDraw = ts;
  const t0 = performance.now();
  if (!state.paused) {
    const wanted = dt * SPEEDS[state.speedIndex];
    state.carry += wanted;
    // While saving, whatever a frame writes is sent only once IndexedDB has
    // it, after the frame: a frame must not outrun Raft's timers (see
    // persistence.js, frameCapMs). The time over the cap is dropped: the
    // clock runs slower instead of in bursts.
    const cap = persistence.frameCapMs(state.view, state.sim.nowMs());
    const dropped = Math.max(0, state.carry - cap);
    state.carry -= dropped;
    persistence.noteFrame(ts, wanted, dropped);
    const us = Math.floor(state.carry * 1000);
    if (us > 0) {
      state.carry -= us / 1000;
      const r = guard(() => state.sim.advance(us / 1000));
      if (!r.ok) return;
    }
  }
  const t1 = performance.now();
  state.dirty = false;
  renderNow();
  if (!state.paused) stats.push(performance.now() - t0, t1 - t0);
  // After drawing: store what this frame wrote (timed by persistence.js).
  persistence.frame(state.sim, ts);
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    await init();
  } catch (e) {
    const el = $("#load-error");
    el.textContent = `Could not load the simulator (www/pkg/raftlab_bg.wasm): ${e && e.message ? e.message : e}. Build it with "make build".`;
    el.hidden = false;
    return;
  }
  wasm.installPanicHook();
  initGuard(wasm, onPanic);

  const app = {
    get view() {
      return state.view;
    },
    get selected() {
      return state.selected;
    },
    get paused() {
      return state.paused;
    },
    get speedIndex() {
      return state.speedIndex;
    },
    get n() {
      return state.n;
    },
    /** The share of the chosen speed the clock ran at over the last
     * second while saving to IndexedDB held it back (persistence.js,
     * `limited`), or null when it did not. */
    get speedShare() {
      return persistence && persistence.limited ? persistence.achieved : null;
    },
    consoleIds: () => state.consoleIds,
    act,
    freshView,
    redraw,
    select,
    setPaused,
    setSpeedIndex,
    step: stepOne,
    newCluster,
    randomSeed: () => wasm.randomSeed(),
    /**
     * Check the live history for linearizability (the checker's module is
     * loaded on first use): `{ verdict, calls, atMs }`, verdict `undefined`
     * when it is linearizable, else why not.
     */
    async checkHistory() {
      const json = state.sim.historyJson();
      const atMs = state.sim.nowMs();
      const m = await loadChecker();
      return { verdict: m.checkHistoryLinearizable(json), calls: JSON.parse(json).calls.length, atMs };
    },
    /** A new cluster's network and timing settings (read off a throwaway one). */
    defaultSettings() {
      const r = guard(() => {
        const fresh = new wasm.Simulation("1", 3);
        try {
          return JSON.parse(fresh.viewJson(1)).settings;
        } finally {
          fresh.free();
        }
      });
      return r.ok ? r.value : null;
    },
  };

  ring = new Ring($("#ring"), $("#ring-msgs"), $("#ring-nodes"), {
    onSelect: (id, x, y, rightHalf) => controls.openNode(id, x, y, rightHalf, ring.nodeBoxes()),
    onLink: (a, b, x, y) => controls.openLink(a, b, x, y),
  });
  logs = new Logs($("#log-view"), $("#log-follow"), redraw);
  kv = new KvTable($("#kv-table"), $("#kv-empty"), $("#kv-more"));
  inspector = new Inspector($("#inspector"));
  narration = new Narration(document.querySelector(".feed-card"), (since, limit, kinds) => {
    const r = guard(() => JSON.parse(state.sim.narrationJson(since, limit, kinds)));
    return r.ok ? r.value : null;
  }, (line) => setTicker(line.text));
  controls = new Controls(app);
  watchVisibility();
  watchStrip();

  const params = new URLSearchParams(location.search);
  const speed = Number(params.get("speed"));
  if (speed > 0) setSpeedIndex(nearestSpeed(speed));
  if (params.get("paused") === "1") state.paused = true;
  persistence = new Persistence(wasm, {
    makeSim(seed, nodes) {
      const r = guard(() => new wasm.Simulation(String(seed), Number(nodes)));
      if (!r.ok) {
        controls.showClusterError(r.error);
        throw new Error(r.error);
      }
      return r.value;
    },
    adopt,
    current: () => state.sim,
    redraw,
  });
  requestAnimationFrame(frame);
  await persistence.start(params);

  window.raftlab = {
    /** The live Simulation (replaced by newCluster). */
    get sim() {
      return state.sim;
    },
    /** The wasm module: Simulation, randomSeed, lastPanic, ... */
    wasm,
    Simulation: wasm.Simulation,
    /** A fresh view of the world, parsed. */
    view: () => freshView(false),
    pause: () => setPaused(true),
    resume: () => setPaused(false),
    isPaused: () => state.paused,
    /** Set the speed (virtual ms per real ms); snaps to the slider's steps. */
    setSpeed(x) {
      setSpeedIndex(nearestSpeed(x));
      return SPEEDS[state.speedIndex];
    },
    speed: () => SPEEDS[state.speedIndex],
    step: () => stepOne(),
    select,
    newCluster: (seed, nodes = 5) => newCluster(seed ?? wasm.randomSeed(), nodes),
    /** Redraw after driving `sim` directly while paused. */
    redraw,
    /**
     * Per-frame timings in ms (advance + render), since the last reset, and
     * `persist`: the persistence work per frame (`perFrame`: every
     * takeDurableWrites and the store's synchronous part of each write
     * since the frame before) and per write set (`perWrite`), the
     * IndexedDB commit latency per write set (`commit`), and the size of
     * each write set (`bytes`).
     */
    frameStats({ reset = false } = {}) {
      const s = stats.summary();
      s.parts = { ...parts };
      s.persist = persistence.stats({ reset });
      if (reset) {
        stats.reset();
        for (const k of Object.keys(parts)) parts[k] = 0;
      }
      return s;
    },
    /** The saved cluster: `{ name, mode, reason, inflight, writesStored, resumed, lastError }`. */
    storage: () => persistence.info(),
    /**
     * Check a history in the `historyJson()` format for linearizability:
     * resolves to `undefined` if it is linearizable, else to why not;
     * rejects if the text is not a history. Loads the checker on first use.
     */
    async checkHistoryLinearizable(json) {
      return (await loadChecker()).checkHistoryLinearizable(json);
    },
    /** `checkHistoryLinearizable` on the live simulation's history so far. */
    checkLinearizable: async () => (await loadChecker()).checkHistoryLinearizable(state.sim.historyJson()),
    /** The parsed storage report of the live simulation (see storageReport in the README). */
    storageReport: () => JSON.parse(state.sim.storageReportJson()),
    ready: true,
  };
  document.documentElement.dataset.ready = "1";
  window.dispatchEvent(new Event("raftlab:ready"));
}

function nearestSpeed(x) {
  let best = 0;
  for (let i = 0; i < SPEEDS.length; i++) {
    if (Math.abs(Math.log(SPEEDS[i] / x)) < Math.abs(Math.log(SPEEDS[best] / x))) best = i;
  }
  return best;
}

start();

// End-to-end tests of the page in headless Chromium: what a person sees and
// does. Each test opens a fresh page on its own seed; none may log an error
// to the browser console. Screenshots go to test-artifacts/e2e/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { start, open, shot, waitView, putKeys, ARTIFACTS, noErrors } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  if (env) await env.stop();
});


async function leaderOf(page) {
  return waitView(page, (v) => v.leader);
}

/** Fill the console and send; returns the text of the newest call once answered. */
async function consoleCall(page, { op, key, value, expected, absent, via, stale }) {
  await page.selectOption("#op", op);
  await page.fill("#key", key);
  if (value !== undefined) await page.fill("#value", value);
  if (op === "cas") {
    await page.setChecked("#expected-absent", !!absent);
    if (!absent && expected !== undefined) await page.fill("#expected", expected);
  }
  await page.selectOption("#via", via ? String(via) : "");
  if (stale !== undefined) await page.setChecked("#stale", stale);
  const before = await page.locator("#calls .call").count();
  await page.click("#send");
  await page.waitForFunction((n) => document.querySelectorAll("#calls .call").length > n, before);
  const first = page.locator("#calls .call").first();
  await page.waitForFunction(() => document.querySelector("#calls .call").classList.contains("done"), null, {
    timeout: 20000,
  });
  return first.innerText();
}

test("the page loads, draws the ring and elects a leader", async () => {
  const { page, errors } = await open(env, "seed=11&speed=1");
  assert.equal(await page.locator("#ring-nodes .node").count(), 5);
  assert.equal(await page.locator("#ring .link").count(), 10);
  const leader = await leaderOf(page);
  await page.waitForFunction(() => /Leader S\d in term \d+/.test(document.querySelector("#summary").textContent));
  // The leader is marked by shape and word, not colour alone.
  await page.waitForSelector(`#ring-nodes .node.role-leader[data-node="${leader}"]`);
  assert.match(await page.locator(`#ring-nodes .node[data-node="${leader}"] .role`).textContent(), /LEADER/);
  assert.equal(await page.locator(`#ring-nodes .node[data-node="${leader}"] .crown`).isVisible(), true);
  // The clock moves, the seed is shown.
  assert.equal(await page.inputValue("#seed"), "11");
  const t1 = await page.textContent("#clock");
  await page.waitForTimeout(300);
  assert.notEqual(await page.textContent("#clock"), t1);
  await shot(page, "01-leader-elected");
  noErrors(errors);
  await page.close();
});

test("put then get a key through the console", async () => {
  const { page, errors } = await open(env, "seed=12&speed=1");
  await leaderOf(page);
  const put = await consoleCall(page, { op: "put", key: "colour", value: "blue" });
  assert.match(put, /put "colour" = "blue"/);
  assert.match(put, /→ ok in [\d.]+ ms/);
  const get = await consoleCall(page, { op: "get", key: "colour" });
  assert.match(get, /→ "blue" in [\d.]+ ms/);
  // Every node applies it: the KV table shows it in each column (cards off
  // screen are not redrawn, so look at it as a person would).
  await page.locator(".kv-card").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const row = [...document.querySelectorAll("#kv-table tbody tr")].find((r) => r.querySelector("th").textContent === "colour");
    return row && [...row.querySelectorAll("td")].every((td) => td.textContent === "blue");
  });
  // The entry is in the logs, committed, labelled.
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".row-head")].every((e) => /put colour=blue, committed/.test(e.getAttribute("aria-label")))
  );
  // cas with expected value, then with "expected absent".
  const cas = await consoleCall(page, { op: "cas", key: "colour", value: "red", expected: "blue" });
  assert.match(cas, /→ swapped/);
  const cas2 = await consoleCall(page, { op: "cas", key: "colour", value: "green", absent: true });
  assert.match(cas2, /→ not swapped, found "red"/);
  await shot(page, "02-put-get");
  noErrors(errors);
  await page.close();
});

test("with more keys than the view carries, the KV card shows the first 200 and says how many there are", async () => {
  const { page, errors } = await open(env, "seed=24&speed=1&persist=0");
  const leader = await leaderOf(page);
  // Through the JS API, as a script would: 250 keys, more than the 200 per
  // node the view carries (VIEW_KV_LIMIT).
  const stored = await putKeys(page, 250);
  assert.equal(stored.kv_len, 250);
  await page.locator(".kv-card").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const more = document.querySelector("#kv-more");
    return !more.hidden && more.textContent === "Showing the first 200 of 250 keys, in key order.";
  });
  const rows = await page.$$eval("#kv-table tbody tr", (trs) =>
    trs.map((tr) => [tr.querySelector("th").textContent, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)])
  );
  assert.equal(rows.length, 200);
  assert.deepEqual(rows[0], ["key00000", "v0", "v0", "v0", "v0", "v0"]);
  assert.deepEqual(rows[199], ["key00199", "v199", "v199", "v199", "v199", "v199"]);
  assert.ok(rows.every((r, i) => r[0] === "key" + String(i).padStart(5, "0")), "rows in key order");
  // Nothing past the shown keys is called absent.
  assert.ok(!rows.some((r) => r.includes("(absent)")));
  await shot(page, "02b-kv-truncated");
  // The inspector counts every key, not the ones shown.
  await page.evaluate((n) => window.raftlab.select(n), leader);
  await page.locator("#inspector").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const row = [...document.querySelectorAll("#inspector .kvrow")].find((r) => r.querySelector("dt").textContent === "keys applied");
    return row && row.querySelector("dd").textContent === "250";
  });
  // The view a script reads says the same.
  const v = await page.evaluate(() => window.raftlab.view());
  assert.ok(v.nodes.every((n) => n.kv_len === 250 && Object.keys(n.kv).length === 200));
  noErrors(errors);
  await page.close();
});

test("a call sent to a follower is redirected to the leader; a stale read is labelled", async () => {
  const { page, errors } = await open(env, "seed=13&speed=1");
  const leader = await leaderOf(page);
  const follower = leader === 1 ? 2 : 1;
  const text = await consoleCall(page, { op: "put", key: "k", value: "v", via: follower });
  assert.match(text, new RegExp(`via S${follower} ↪ S${leader}`));
  const stale = await consoleCall(page, { op: "get", key: "k", via: follower, stale: true });
  assert.match(stale, /possibly stale/);
  assert.match(stale, /local value \(possibly stale\)/);
  noErrors(errors);
  await page.close();
});

test("crashing the leader elects a new one", async () => {
  const { page, errors } = await open(env, "seed=14&speed=1");
  const old = await leaderOf(page);
  // Click the leader on the ring, then "Crash" in its box.
  await page.click(`#ring-nodes .node[data-node="${old}"]`);
  await page.waitForSelector("#node-pop:not([hidden])");
  await page.click("#np-crash");
  await page.waitForSelector(`#ring-nodes .node.role-down[data-node="${old}"]`);
  assert.match(await page.locator(`#ring-nodes .node[data-node="${old}"] .role`).textContent(), /DOWN/);
  const next = await waitView(page, (v, old) => v.leader && v.leader !== old && v.leader, { arg: old });
  assert.notEqual(next, old);
  await page.waitForFunction((n) => document.querySelector("#summary").textContent.includes(`Leader S${n}`), next);
  await page.keyboard.press("Escape");
  await shot(page, "03-new-leader");
  // Restart it from disk: it comes back as a follower of the new term.
  await page.click(`#ring-nodes .node[data-node="${old}"]`);
  await page.click("#np-crash");
  await waitView(page, (v) => v.nodes.every((n) => n.up));
  noErrors(errors);
  await page.close();
});

test("a node isolated by link cuts falls behind, then catches up after healing", async () => {
  const { page, errors } = await open(env, "seed=15&speed=1");
  const leader = await leaderOf(page);
  const f = leader === 5 ? 4 : 5;
  // Cut every link to and from f in the link matrix.
  await page.click("#tab-faults");
  const n = 5;
  for (let other = 1; other <= n; other++) {
    if (other === f) continue;
    await page.click(`#link-matrix button[aria-label="S${f} to S${other}: healthy"]`);
    await page.click(`#link-matrix button[aria-label="S${other} to S${f}: healthy"]`);
  }
  assert.equal((await page.evaluate(() => window.raftlab.view().cuts)).length, 2 * (n - 1));
  // Its links are drawn cut both ways (from the next frame on).
  await page.waitForFunction((want) => document.querySelectorAll("#ring .link.cut-both").length === want, n - 1);
  // Writes go on without it.
  await page.evaluate(() => window.raftlab.sim.addWorkload(4));
  const lag = await waitView(
    page,
    (v, id) => {
      const fv = v.nodes[id - 1];
      return v.leader && v.committed_index - fv.commit_index >= 5 && v.committed_index - fv.commit_index;
    },
    { arg: f }
  );
  assert.ok(lag >= 5);
  await page.waitForFunction((id) => !document.querySelectorAll(".row-head .rh-lag")[id - 1].classList.contains("none"), f);
  await shot(page, "04-isolated-behind");
  await page.evaluate(() => window.raftlab.sim.stopWorkload());
  // Heal: it catches up to the leader's log and commit index.
  await page.click("#p-heal");
  await waitView(page, (v) => v.cuts.length === 0);
  await waitView(
    page,
    (v, id) => {
      const l = v.leader && v.nodes[v.leader - 1];
      const fv = v.nodes[id - 1];
      return l && fv.last_index === l.last_index && fv.commit_index === l.commit_index && v.clients.every((c) => !c.pending);
    },
    { arg: f, timeout: 30000 }
  );
  await page.waitForFunction((id) => document.querySelectorAll(".row-head .rh-lag")[id - 1].classList.contains("none"), f);
  await shot(page, "05-healed-caught-up");
  noErrors(errors);
  await page.close();
});

test("bad console input shows the facade's error inline", async () => {
  const { page, errors } = await open(env, "seed=16&speed=1");
  const err = page.locator("#console-error");
  assert.equal(await err.getAttribute("role"), "alert");
  // Empty key.
  await page.selectOption("#op", "put");
  await page.fill("#key", "");
  await page.fill("#value", "1");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelector("#console-error").textContent.length > 0);
  assert.equal(await err.textContent(), "the key is empty");
  assert.equal(await page.getAttribute("#key", "aria-invalid"), "true");
  // cas without its value.
  await page.selectOption("#op", "cas");
  await page.fill("#key", "k");
  await page.fill("#value", "");
  await page.fill("#expected", "x");
  await page.click("#send");
  await page.waitForFunction(() => /needs a value/.test(document.querySelector("#console-error").textContent));
  assert.equal(await err.textContent(), "invalid command: cas needs a value");
  // Oversized value.
  await page.selectOption("#op", "put");
  await page.fill("#value", "x".repeat(5000));
  await page.click("#send");
  await page.waitForFunction(() => /limit/.test(document.querySelector("#console-error").textContent));
  assert.equal(await err.textContent(), "the value is 5000 bytes; the limit is 4096");
  await shot(page, "06-bad-input");
  // A good call clears the error.
  await page.fill("#value", "ok");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelector("#console-error").textContent === "");
  assert.equal(await page.locator("#calls .call").count(), 1);
  noErrors(errors);
  await page.close();
});

test("keyboard: pause, step, speed, node shortcuts and the help dialog", async () => {
  const { page, errors } = await open(env, "seed=17&speed=1");
  await leaderOf(page);
  await page.locator("body").focus();
  await page.keyboard.press("Space");
  assert.equal(await page.evaluate(() => window.raftlab.isPaused()), true);
  await page.waitForFunction(() => /Play/.test(document.querySelector("#play").textContent));
  const t0 = await page.evaluate(() => window.raftlab.view().now_ms);
  await page.keyboard.press("s");
  const t1 = await page.evaluate(() => window.raftlab.view().now_ms);
  assert.ok(t1 >= t0);
  const len0 = await page.evaluate(() => window.raftlab.view().trace_len);
  await page.keyboard.press("s");
  await page.keyboard.press("s");
  assert.ok((await page.evaluate(() => window.raftlab.view().trace_len)) > len0);
  // Speed: ] faster, [ slower.
  const sp = await page.evaluate(() => window.raftlab.speed());
  await page.keyboard.press("]");
  assert.ok((await page.evaluate(() => window.raftlab.speed())) > sp);
  await page.keyboard.press("[");
  assert.equal(await page.evaluate(() => window.raftlab.speed()), sp);
  // Select node 3 and crash it with C; restart with C again.
  await page.keyboard.press("3");
  await page.waitForFunction(() => document.querySelector("#insp-title").textContent === "S3");
  await page.keyboard.press("c");
  assert.equal(await page.evaluate(() => window.raftlab.view().nodes[2].up), false);
  await page.waitForSelector('#ring-nodes .node.role-down[data-node="3"]');
  await page.keyboard.press("c");
  assert.equal(await page.evaluate(() => window.raftlab.view().nodes[2].up), true);
  // Help.
  await page.keyboard.press("?");
  assert.equal(await page.locator("#help").isVisible(), true);
  await shot(page, "07-help");
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#help").isVisible(), false);
  // Focus leaves the closed dialog (it must not stay on its hidden Close button).
  await page.waitForFunction(() => !document.querySelector("#help").contains(document.activeElement));
  const focused = await page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.tagName));
  await page.keyboard.press("Space");
  assert.equal(await page.evaluate(() => window.raftlab.isPaused()), false, "Space did not resume; focus was on " + focused);
  // Links have a keyboard path too: focus one and press Enter.
  await page.focus("#ring .link");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#link-pop:not([hidden])");
  await page.keyboard.press("Enter"); // the first button: cut one direction
  assert.equal((await page.evaluate(() => window.raftlab.view().cuts)).length, 1);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#link-pop").isVisible(), false);
  noErrors(errors);
  await page.close();
});

test("shortcuts leave form controls alone and say why they cannot act; a step says what it did", async () => {
  const { page, errors } = await open(env, "seed=18&speed=1");
  const leader = await leaderOf(page);
  // Space on a focused checkbox ticks it (it does not pause), and a letter
  // there is not a shortcut (C would crash the selected node).
  const box = page.locator("#fk-log");
  const was = await box.isChecked();
  await box.focus();
  await page.keyboard.press("Space");
  assert.equal(await box.isChecked(), !was);
  assert.equal(await page.evaluate(() => window.raftlab.isPaused()), false);
  await page.keyboard.press("c");
  assert.ok((await page.evaluate(() => window.raftlab.view().nodes.every((n) => n.up))), "C on a checkbox crashed a node");
  // T on the leader: refused, and the reason shows beside the ring (the
  // Console tab is open, not Faults).
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press(String(leader));
  const term = await page.evaluate((l) => window.raftlab.view().nodes[l - 1].term, leader);
  await page.keyboard.press("t");
  await page.waitForFunction(() => /is a leader/.test(document.querySelector("#ring-error").textContent));
  assert.ok(await page.locator("#ring-error").isVisible());
  const v = await page.evaluate(() => window.raftlab.view());
  assert.equal(v.leader, leader);
  assert.equal(v.nodes[leader - 1].term, term);
  // A step names its event in the ticker.
  await page.keyboard.press("s");
  await page.waitForFunction(() => /^Step: /.test(document.querySelector("#ticker").textContent));
  // A cas with an empty "expected" (and "expected absent" unticked) is a
  // missing field, not a cas on "".
  await page.selectOption("#op", "cas");
  await page.fill("#key", "k");
  await page.fill("#value", "v");
  await page.setChecked("#expected-absent", false);
  await page.fill("#expected", "");
  await page.click("#send");
  await page.waitForFunction(() => /expects/.test(document.querySelector("#console-error").textContent));
  assert.equal(await page.locator("#calls .call").count(), 0);
  // Editing a field clears the error.
  await page.fill("#expected", "x");
  assert.equal(await page.locator("#console-error").textContent(), "");
  // A key of spaces only.
  await page.fill("#key", "   ");
  await page.click("#send");
  await page.waitForFunction(() => /only spaces/.test(document.querySelector("#console-error").textContent));
  assert.equal(await page.getAttribute("#key", "aria-invalid"), "true");
  noErrors(errors);
  await page.close();
});

test("a leader cut off by a partition is drawn as an old leader; timing that cannot keep a leader is flagged", async () => {
  const { page, errors } = await open(env, "seed=19&speed=1");
  const first = await leaderOf(page);
  // Split 2|3 with the leader in the minority: the majority elects a newer
  // leader while the old one still believes it leads its own term.
  await page.locator("body").focus();
  await page.keyboard.press("p");
  await waitView(page, (v, old) => v.leader && v.leader !== old && v.nodes[old - 1].role === "leader", { arg: first });
  await page.waitForSelector(`#ring-nodes .node.stale-leader[data-node="${first}"]`);
  const label = await page.locator(`#ring-nodes .node[data-node="${first}"]`).getAttribute("aria-label");
  assert.match(label, /old leader/);
  assert.match(label, /newer term/);
  await shot(page, "12-old-leader");
  await page.keyboard.press("h");
  await waitView(page, (v) => v.nodes.filter((n) => n.role === "leader").length === 1);
  await page.waitForFunction(() => !document.querySelector("#ring-nodes .node.stale-leader"));
  // Heartbeats slower than the election timeout: warned, then reset.
  await page.click("#tab-network");
  await page.evaluate(() => window.raftlab.sim.setTiming(100, 200, 400));
  await page.waitForFunction(() => /Heartbeats every 400 ms/.test(document.querySelector("#timing-warn").textContent));
  await shot(page, "13-timing-warning");
  await page.click("#net-defaults");
  const s = await waitView(page, (v) => v.settings.heartbeat_ms !== 400 && v.settings);
  assert.equal(s.election_min_ms, 150);
  assert.equal(s.heartbeat_ms, 50);
  await page.waitForFunction(() => document.querySelector("#timing-warn").textContent === "");
  noErrors(errors);
  await page.close();
});

test("new cluster from a chosen seed replays the same run", async () => {
  const { page, errors } = await open(env, "seed=99&speed=1&paused=1");
  const run = async () => {
    await page.fill("#seed", "4242");
    await page.click('#cluster-form button[type="submit"]');
    return page.evaluate(() => {
      const sim = window.raftlab.sim;
      sim.advance(2000);
      return sim.traceHash();
    });
  };
  const a = await run();
  const b = await run();
  assert.equal(a, b);
  assert.equal(await page.inputValue("#seed"), "4242");
  assert.match(page.url(), /seed=4242/);
  // A bad seed is refused with the facade's message.
  await page.fill("#seed", "banana");
  await page.click('#cluster-form button[type="submit"]');
  assert.match(await page.textContent("#cluster-error"), /the seed must be a whole number/);
  noErrors(errors);
  await page.close();
});

test("a panic in wasm shows a banner, and a new cluster recovers", async () => {
  const { page, errors } = await open(env, "seed=18&speed=1");
  await leaderOf(page);
  // Make the next frame's advance panic inside wasm.
  await page.evaluate(() => {
    const sim = window.raftlab.sim;
    sim.advance = () => window.raftlab.wasm.debugPanic("deliberate test panic");
  });
  await page.waitForSelector("#panic:not([hidden])", { timeout: 10000 });
  assert.match(await page.textContent("#panic-msg"), /deliberate test panic/);
  await shot(page, "08-panic-banner");
  await page.click("#panic-new");
  await page.waitForSelector("#panic", { state: "hidden" });
  const t0 = await page.evaluate(() => window.raftlab.view().now_ms);
  await page.waitForFunction((t) => window.raftlab.view().now_ms > t, t0);
  // The hook logs the panic to the console; nothing else may.
  noErrors(errors.filter((e) => !/deliberate test panic/.test(e)));
  await page.close();
});

test("works at 390 px wide", async () => {
  const { page, errors } = await open(env, "seed=19&speed=1", { width: 390, height: 844 });
  await leaderOf(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const box = await page.locator("#ring").boundingBox();
  assert.ok(box.width > 300 && box.height > 300);
  // The console is reachable and works.
  const put = await consoleCall(page, { op: "put", key: "m", value: "1" });
  assert.match(put, /→ ok/);
  await shot(page, "09-mobile");
  await page.screenshot({ path: join(ARTIFACTS, "09-mobile-full.png"), fullPage: true });
  noErrors(errors);
  await page.close();
});

test("at 390 px a status strip shows the leader and the latest fault after Split is pressed far down the page; not at 1280 px", async () => {
  const { page, errors } = await open(env, "seed=41&speed=1", { width: 390, height: 844 });
  await leaderOf(page);
  // The key-value table is a valid table before its card was ever drawn.
  const heads = await page.$$eval("#kv-table thead th", (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(heads, ["key", "S1", "S2", "S3", "S4", "S5"]);
  // At the top of the page the ring's own title shows: no strip.
  assert.equal(await page.locator("#status-strip").isVisible(), false);
  await page.click("#tab-faults");
  await page.locator("#p-split").scrollIntoViewIfNeeded();
  await page.waitForSelector("#status-strip", { state: "visible" });
  const before = await page.textContent("#ss-ticker");
  await page.click("#p-split");
  await page.waitForFunction((b) => {
    const t = document.querySelector("#ss-ticker").textContent;
    return t && t !== b;
  }, before);
  await page.waitForFunction(() => /^♛ Leader S\d · term \d+/.test(document.querySelector("#ss-summary").textContent));
  // On screen, small, at the top; not in the accessibility tree; the
  // button keeps the focus and is not under the strip.
  const strip = await page.locator("#status-strip").boundingBox();
  assert.ok(strip.y <= 1 && strip.height < 64, JSON.stringify(strip));
  assert.equal(await page.getAttribute("#status-strip", "aria-hidden"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "p-split");
  const btn = await page.locator("#p-split").boundingBox();
  assert.ok(btn.y >= strip.y + strip.height, "the Split button is under the strip");
  await shot(page, "10-mobile-strip");
  // At 1280 px the strip never shows, wherever the page is scrolled.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForTimeout(200);
  assert.equal(await page.locator("#status-strip").isVisible(), false);
  noErrors(errors);
  await page.close();
});

test("the calls list says how many calls are below its fold and can be scrolled by keyboard", async () => {
  const { page, errors } = await open(env, "seed=42&speed=1", { width: 390, height: 844 });
  await leaderOf(page);
  assert.equal(await page.locator("#calls-more").isVisible(), false);
  assert.equal(await page.getAttribute("#calls", "tabindex"), null);
  for (let i = 0; i < 5; i++) await consoleCall(page, { op: "put", key: "k" + i, value: String(i) });
  await page.locator("#calls").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => /^\d+ more calls? below/.test(document.querySelector("#calls-more").textContent));
  assert.equal(await page.locator("#calls-more").isVisible(), true);
  assert.equal(await page.getAttribute("#calls", "tabindex"), "0");
  assert.ok(await page.getAttribute("#calls", "aria-label"));
  // Scrolled to its end, the hint goes.
  await page.focus("#calls");
  await page.keyboard.press("End");
  await page.waitForSelector("#calls-more", { state: "hidden" });
  await page.locator(".controls-card").screenshot({ path: join(ARTIFACTS, "11-calls-overflow.png") });
  noErrors(errors);
  await page.close();
});

test("a node's box covers neither that node (circle and labels) nor its neighbours on the ring at 1280 px", async () => {
  const { page, errors } = await open(env, "seed=43&speed=1");
  await leaderOf(page);
  const overlap = (a, b) => Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  for (let i = 1; i <= 5; i++) {
    await page.click(`#ring-nodes .node[data-node="${i}"] .body`);
    await page.waitForSelector("#node-pop:not([hidden])");
    const pop = await page.locator("#node-pop").boundingBox();
    const wrap = await page.locator("#ring-wrap").boundingBox();
    assert.ok(pop.x >= wrap.x && pop.y >= wrap.y && pop.x + pop.width <= wrap.x + wrap.width + 1 && pop.y + pop.height <= wrap.y + wrap.height + 1, `S${i}'s box leaves the ring`);
    for (const sel of [".body", ".sub", ".role"]) {
      const own = await page.locator(`#ring-nodes .node[data-node="${i}"] ${sel}`).boundingBox();
      assert.equal(overlap(pop, own), 0, `S${i}'s box covers its own ${sel}`);
    }
    // Its neighbours on the ring, at most an edge of them (the far ones
    // may be covered: a 420 px ring has no room that avoids all five).
    for (const j of [(i % 5) + 1, ((i + 3) % 5) + 1]) {
      const other = await page.locator(`#ring-nodes .node[data-node="${j}"] .body`).boundingBox();
      assert.ok(overlap(pop, other) < 0.25 * other.width * other.height, `S${i}'s box covers S${j}`);
    }
    await page.keyboard.press("Escape");
    await page.waitForSelector("#node-pop", { state: "hidden" });
  }
  noErrors(errors);
  await page.close();
});

test("the linearizability check: its wasm is fetched on first use, the button says what it found, the JS API refuses junk", async () => {
  const { page, errors } = await open(env, "seed=21&speed=1");
  await leaderOf(page);
  await consoleCall(page, { op: "put", key: "a", value: "1" });
  await consoleCall(page, { op: "append", key: "a", value: "2" });
  const fetched = () =>
    page.evaluate(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/pkg-check/")));
  assert.equal(await fetched(), false, "the checker's wasm was fetched before anyone asked for a check");
  await page.click("#check-history");
  await page.waitForFunction(() => /linearizable/.test(document.querySelector("#check-result").textContent));
  assert.match(await page.textContent("#check-result"), /^✓ linearizable: [2-9]\d* calls up to t=\d+\.\d s$/);
  assert.equal(await fetched(), true);
  await page.locator(".controls-card").screenshot({ path: join(ARTIFACTS, "14-history-check.png") });
  // The verdict was about that cluster: a new one clears it.
  await page.evaluate(() => window.raftlab.newCluster(22));
  await page.waitForFunction(() => document.querySelector("#check-result").textContent === "");
  // Through the JS API: a read that misses a completed put is caught, and
  // text that is no history is refused.
  const call = (id, client, fields, invoke, ret, outcome) => ({
    id, client, ...fields, invoke_us: invoke, return_us: ret, outcome,
  });
  const stale = JSON.stringify({
    format: "raftlab-history/1",
    calls: [
      call(0, 1, { op: "put", key: "x", value: "1" }, 0, 10, { result: "ok" }),
      call(1, 2, { op: "get", key: "x" }, 20, 30, { result: "value", value: null }),
    ],
  });
  const verdict = await page.evaluate((h) => window.raftlab.checkHistoryLinearizable(h), stale);
  assert.match(verdict, /"x"/);
  assert.equal(await page.evaluate(() => window.raftlab.checkLinearizable()), undefined);
  const junk = await page.evaluate(() =>
    window.raftlab.checkHistoryLinearizable("{}").then(() => "accepted", (e) => e.message),
  );
  assert.match(junk, /not a history/);
  noErrors(errors);
  await page.close();
});

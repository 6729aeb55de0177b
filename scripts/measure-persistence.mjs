#!/usr/bin/env node
// Measure what persistence costs the page, in headless Chromium, with 8
// clients writing: per animation frame, the persistence work on the main
// thread (takeDurableWrites, which plans the requests in wasm, and
// the synchronous part of store.write, which issues the IndexedDB
// requests; timed by www/persistence.js), and per write set the IndexedDB
// commit latency (store.write called to its transaction complete). The
// same run with persistence off (?persist=0) gives the frame time to
// compare, and how far the cluster got (terms, entries committed) shows
// what waiting for IndexedDB does to the run.
//
//   make build && node scripts/measure-persistence.mjs [--seconds 10] [--seed 7]
//
// A measurement, not a test: it prints numbers (and writes
// test-artifacts/persistence.json) and exits 0 whatever they are.

import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { start, open, waitView, ROOT, cliArg as arg } from "../tests/e2e/harness.mjs";

const seconds = Number(arg("seconds", "10"));
const seed = arg("seed", "7");
const speeds = (arg("speeds", "1,10")).split(",").map(Number);

const env = await start();
const results = {};
try {
  for (const persist of [true, false]) {
    for (const speed of speeds) {
      const { page, errors } = await open(env, `seed=${seed}&speed=${speed}${persist ? "" : "&persist=0"}`);
      await waitView(page, (v) => v.leader);
      await page.evaluate(() => window.raftlab.sim.addWorkload(8));
      await page.waitForTimeout(1000); // settle: logs fill, clients busy
      const before = await page.evaluate(() => {
        const v = window.raftlab.view();
        return { now_ms: v.now_ms, term: Math.max(...v.nodes.map((n) => n.term)), committed: v.committed_index };
      });
      await page.evaluate(() => window.raftlab.frameStats({ reset: true }));
      await page.waitForTimeout(seconds * 1000);
      const s = await page.evaluate(() => window.raftlab.frameStats());
      const after = await page.evaluate(() => {
        const v = window.raftlab.view();
        return { now_ms: v.now_ms, term: Math.max(...v.nodes.map((n) => n.term)), committed: v.committed_index };
      });
      results[`${persist ? "indexeddb" : "memory"} ${speed}x`] = {
        persist,
        speed,
        frames: s.frames,
        total: s.total,
        advance: s.advance,
        persistPerFrame: s.persist.perFrame,
        take: s.persist.take,
        perWrite: s.persist.perWrite,
        commit: s.persist.commit,
        writeSetBytes: s.persist.bytes,
        virtualSeconds: (after.now_ms - before.now_ms) / 1000,
        newTerms: after.term - before.term,
        committed: after.committed - before.committed,
      };
      if (errors.length) console.error("browser console errors:\n" + errors.join("\n"));
      await page.close();
    }
  }
} finally {
  await env.stop();
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : "-");
console.log(`persistence cost, 8 clients writing, ${seconds} s per run, seed ${seed}, headless Chromium:`);
for (const [k, r] of Object.entries(results)) {
  console.log(
    `  ${k.padEnd(14)} frames ${String(r.frames).padStart(5)}  frame (advance + render) median ${f(r.total.median)} ms, p95 ${f(r.total.p95)} ms` +
      `  · ${r.committed} entries committed in ${f(r.virtualSeconds)} s virtual, ${r.newTerms} new terms`
  );
  if (r.persist) {
    console.log(
      `  ${"".padEnd(14)} persistence work per frame: median ${f(r.persistPerFrame.median)} ms, p95 ${f(r.persistPerFrame.p95)} ms, max ${f(r.persistPerFrame.max)} ms` +
        ` (per write set: median ${f(r.perWrite.median)} ms, p95 ${f(r.perWrite.p95)} ms; takeDurableWrites alone: median ${f(r.take.median)} ms, p95 ${f(r.take.p95)} ms)` +
        `  · IndexedDB commit per write set (${r.commit.n}): median ${f(r.commit.median)} ms, p95 ${f(r.commit.p95)} ms` +
        `  · write set median ${r.writeSetBytes.median} bytes`
    );
  }
}
mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
writeFileSync(join(ROOT, "test-artifacts", "persistence.json"), JSON.stringify({ seconds, seed, results }, null, 2));

#!/usr/bin/env node
// Measure the page's time per animation frame (simulation advance + render,
// timed by main.js with performance.now() and read through
// window.raftlab.frameStats()), median and p95, at 1× and 10× real time with
// 8 clients writing, in headless Chromium. Also reports the size of the wasm
// in www/pkg/, raw and gzipped.
//
//   make build && node scripts/measure-frames.mjs [--seconds 10] [--seed 7]
//       [--keys 20000] [--www DIR] [--out NAME]
//
// --keys N: before measuring, put N keys (key00000, key00001, ...) through
// the JS API (`sim.submit("put", ...)`, 50 at a time, the page paused; see
// putKeys in tests/e2e/harness.mjs), and
// scroll the key-value card into view so its table is drawn every frame: a
// large store, the worst case for the view and the KV table. Also settable
// as MEASURE_KEYS=N.
// --www DIR: serve DIR instead of www/ (for instance a copy of an older
// build's www/ with its pkg/, to compare the two on the same machine).
// --out NAME: write test-artifacts/NAME.json instead of frames.json.
//
// The page runs in memory here (`persist=0`): with IndexedDB on, high speeds
// are limited while saving, so "10×" would not be 10×. What persistence
// costs is measured by scripts/measure-persistence.mjs.
//
// Targets: p95 ≤ 4 ms per frame; wasm ≤ 250 KB raw after wasm-opt. This is
// a measurement, not a test: it prints numbers (and writes
// test-artifacts/frames.json) and exits 0 whatever they are.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { start, open, waitView, putKeys, ROOT, cliArg as arg } from "../tests/e2e/harness.mjs";

const seconds = Number(arg("seconds", "10"));
const seed = arg("seed", "7");
const keys = Number(arg("keys", process.env.MEASURE_KEYS || "0"));
const www = arg("www", join(ROOT, "www"));
const outName = arg("out", "frames");

const wasmPath = join(www, "pkg", "raftlab_bg.wasm");
const wasm = readFileSync(wasmPath);
const raw = wasm.length;
const gz = gzipSync(wasm, { level: 9 }).length;

const env = await start({ www });
const results = {};
let stored = null;
try {
  const { page, errors } = await open(env, `seed=${seed}&speed=1&persist=0`);
  await waitView(page, (v) => v.leader);
  if (keys > 0) {
    stored = await putKeys(page, keys);
    await page.locator(".kv-card").scrollIntoViewIfNeeded();
  }
  await page.evaluate(() => window.raftlab.sim.addWorkload(8));
  for (const speed of [1, 10]) {
    await page.evaluate((s) => window.raftlab.setSpeed(s), speed);
    await page.waitForTimeout(1000); // settle: logs fill, clients busy
    await page.evaluate(() => window.raftlab.frameStats({ reset: true }));
    await page.waitForTimeout(seconds * 1000);
    const s = await page.evaluate(() => window.raftlab.frameStats());
    const v = await page.evaluate(() => {
      const v = window.raftlab.view();
      return { now_ms: v.now_ms, committed: v.committed_index, flights: v.flights.length };
    });
    results[speed + "x"] = { ...s, view: v };
  }
  if (errors.length) console.error("browser console errors:\n" + errors.join("\n"));
} finally {
  await env.stop();
}

const f = (x) => x.toFixed(2);
console.log(`wasm ${wasmPath.replace(ROOT + "/", "")}: ${raw} bytes raw (${(raw / 1024).toFixed(1)} KiB), ${gz} bytes gzipped (${(gz / 1024).toFixed(1)} KiB)`);
const store = stored ? `, ${stored.kv_len} keys stored (${stored.clients} console clients), KV card on screen` : "";
console.log(`frame time (advance + render), 8 clients writing${store}, ${seconds} s each, seed ${seed}, page ${www.replace(ROOT + "/", "")}:`);
for (const [k, r] of Object.entries(results)) {
  console.log(
    `  ${k.padEnd(4)} frames ${String(r.frames).padStart(5)}  median ${f(r.total.median)} ms  p95 ${f(r.total.p95)} ms  max ${f(r.total.max)} ms` +
      `   (advance alone: median ${f(r.advance.median)} ms, p95 ${f(r.advance.p95)} ms; ${r.view.committed} entries committed by ${f(r.view.now_ms / 1000)} s virtual)`
  );
  const per = Object.entries(r.parts).map(([k, ms]) => `${k} ${f(ms / Math.max(1, r.frames))}`).join(", ");
  console.log(`       render, mean ms per frame: ${per}`);
}
const out = { wasm: { raw, gzip: gz }, seconds, seed, www, keys, stored, frames: results };
mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
writeFileSync(join(ROOT, "test-artifacts", outName + ".json"), JSON.stringify(out, null, 2));

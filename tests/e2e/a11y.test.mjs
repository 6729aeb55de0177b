// Accessibility audit with axe-core (WCAG 2.x A/AA rules and best
// practices) in headless Chromium: no serious or critical violations, at
// desktop and phone widths, with each control panel, a node's box, the link
// box and the help dialog open, with the resumed notice and the storage
// dialog shown, and with more keys than the key-value card shows. Lesser findings are printed, and the full
// results are saved to test-artifacts/e2e/axe-*.json.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { start, open, waitView, putKeys, ARTIFACTS } from "./harness.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

let env;
before(async () => {
  env = await start();
});
after(async () => {
  if (env) await env.stop();
});

async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.addScriptTag({ path: AXE });
  }
  const results = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
      count: v.nodes.length,
    }));
  });
  writeFileSync(join(ARTIFACTS, `axe-${name}.json`), JSON.stringify(results, null, 2));
  for (const v of results) {
    console.log(`# axe ${name}: ${v.impact} ${v.id} (${v.count}): ${v.help}`);
  }
  const bad = results.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${JSON.stringify(v.nodes)}`),
    [],
    `${name}: serious or critical accessibility violations`
  );
  return results;
}

test("axe: the key-value card with more keys than it shows", async () => {
  const { page, errors } = await open(env, "seed=25&speed=1&persist=0");
  await waitView(page, (v) => v.leader);
  await putKeys(page, 230);
  await page.locator(".kv-card").scrollIntoViewIfNeeded();
  await page.waitForSelector("#kv-more:not([hidden])");
  await audit(page, "desktop-kv-truncated");
  assert.deepEqual(errors, []);
  await page.close();
});

test("axe: the page at 1280×800 in every panel", async () => {
  const { page, errors } = await open(env, "seed=21&speed=1");
  await waitView(page, (v) => v.leader);
  await page.evaluate(() => window.raftlab.sim.addWorkload(2));
  await page.fill("#key", "a");
  await page.click("#send");
  await page.waitForTimeout(500);
  await audit(page, "desktop-console");
  await page.click("#tab-faults");
  await audit(page, "desktop-faults");
  await page.click("#tab-network");
  await audit(page, "desktop-network");
  await page.click("#ring-nodes .node >> nth=0");
  await page.waitForSelector("#node-pop:not([hidden])");
  await audit(page, "desktop-node-box");
  await page.keyboard.press("Escape");
  await page.focus("#ring .link");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#link-pop:not([hidden])");
  await audit(page, "desktop-link-box");
  await page.keyboard.press("Escape");
  await page.locator("body").focus();
  await page.keyboard.press("?");
  await audit(page, "desktop-help");
  assert.deepEqual(errors, []);
  await page.close();
});

test("axe: the page at 390 px wide", async () => {
  const { page, errors } = await open(env, "seed=22&speed=1", { width: 390, height: 844 });
  await waitView(page, (v) => v.leader);
  await page.waitForTimeout(300);
  await audit(page, "mobile");
  assert.deepEqual(errors, []);
  await page.close();
});

test("axe: the resumed notice, the storage line and the storage dialog", async () => {
  const { page, errors } = await open(env, "seed=23&speed=1");
  await waitView(page, (v) => v.leader);
  await page.waitForFunction(() => window.raftlab.storageReport().baseline_stored);
  await page.reload();
  await page.waitForFunction(() => window.raftlab && window.raftlab.ready);
  await page.waitForSelector("#resume-note:not([hidden])");
  await audit(page, "desktop-resumed");
  await page.click("#reset-cluster");
  await page.waitForSelector("#store-dialog[open]");
  // The dialog takes the focus, on the choice that deletes nothing.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.choice), "cancel");
  await audit(page, "desktop-store-dialog");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#store-dialog", { state: "hidden" });
  assert.deepEqual(errors, []);
  await page.close();
});

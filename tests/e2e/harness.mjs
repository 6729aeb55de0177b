// Shared set-up for the page tests: a static server (npm's http-server, as a
// child process on a free port) for www/, and Debian's Chromium driven by
// playwright-core with a fresh profile. Also: console-error collection,
// screenshots into test-artifacts/e2e/, and small helpers around the page's
// `window.raftlab` API.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, mkdirSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ARTIFACTS = join(ROOT, "test-artifacts", "e2e");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start http-server on www/ (or `www`, another copy of the page, such as an
 * older build to measure against) and Chromium. Call `stop()` when done.
 */
export async function start({ www = join(ROOT, "www") } = {}) {
  if (!existsSync(join(www, "pkg", "raftlab_bg.wasm"))) {
    throw new Error("www/pkg/raftlab_bg.wasm is missing: run `make build` (or `make wasm`) first");
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  const bin = join(ROOT, "node_modules", ".bin", "http-server");
  const server = spawn(bin, [www, "-a", "127.0.0.1", "-p", String(port), "-c-1", "-s", "--no-dotfiles"], {
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(base + "index.html");
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (i > 100) {
      server.kill();
      throw new Error("http-server did not start");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const profile = mkdtempSync(join(tmpdir(), "raftlab-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    base,
    context,
    async stop() {
      await context.close().catch(() => {});
      server.kill();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

let pages = 0;

/**
 * The query with a `cluster=` of its own unless it names one: every page
 * saves its cluster in IndexedDB, and tests that share the browser profile
 * must not resume each other's clusters.
 */
export function ownCluster(query) {
  if (/(^|&)cluster=/.test(query)) return query;
  const name = `e2e-${process.pid}-${++pages}`;
  return query ? `${query}&cluster=${name}` : `cluster=${name}`;
}

/**
 * Open the page (on a saved cluster of its own, see `ownCluster`). Returns
 * { page, errors } where `errors` collects console errors and uncaught
 * exceptions.
 */
export async function open(env, query = "", viewport = { width: 1280, height: 800 }) {
  query = ownCluster(query);
  const page = await env.context.newPage();
  await page.setViewportSize(viewport);
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push("console: " + m.text());
  });
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  await page.goto(env.base + (query ? "?" + query : ""));
  await page.waitForFunction(() => window.raftlab && window.raftlab.ready, null, { timeout: 20000 });
  return { page, errors };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name + ".png") });
}

/**
 * Wait until `fn(view, arg)`, run in the page on a fresh view, is truthy;
 * returns its value. `fn` must not close over test variables: pass `arg`.
 */
export async function waitView(page, fn, { timeout = 20000, arg = null } = {}) {
  const h = await page.waitForFunction(
    ([src, a]) => {
      const v = window.raftlab.view();
      // eslint-disable-next-line no-new-func
      return v && new Function("v", "arg", "return (" + src + ")(v, arg)")(v, a);
    },
    [fn.toString(), arg],
    { timeout, polling: 50 }
  );
  return h.jsonValue();
}

/**
 * Put `n` keys (`key00000`, `key00001`, ...: values `v0`, `v1`, ...)
 * through the JS API, `batch` at a time, the page paused meanwhile: after
 * each batch the simulation runs 300 ms, long enough for the puts to be
 * answered, so the console clients are reused. Returns the leader's key
 * count and the number of clients. Open the page with `persist=0`: with
 * the durability barrier on, nothing is answered until IndexedDB confirms,
 * which happens between frames, not inside this loop.
 */
export async function putKeys(page, n, batch = 50) {
  return page.evaluate(
    ([n, batch]) => {
      const r = window.raftlab;
      const was = r.isPaused();
      r.pause();
      for (let i = 0; i < n; i += batch) {
        for (let j = i; j < Math.min(n, i + batch); j++) {
          r.sim.submit("put", "key" + String(j).padStart(5, "0"), "v" + j, undefined, undefined);
        }
        r.sim.advance(300);
      }
      r.sim.advance(1000);
      const v = JSON.parse(r.sim.viewJson(1));
      if (!was) r.resume();
      r.redraw();
      const l = v.nodes[v.leader - 1];
      // kv_len: absent from views before it existed (an older build).
      return { kv_len: l.kv_len ?? Object.keys(l.kv).length, clients: v.clients.length };
    },
    [n, batch]
  );
}

/** The page's console errors (collected by `open`) must stay empty. */
export function noErrors(errors) {
  assert.deepEqual(errors, [], "browser console errors:\n" + errors.join("\n"));
}

/** A script's `--name value` argument, or `def` when it is not given. */
export function cliArg(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : def;
}

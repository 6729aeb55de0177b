#!/usr/bin/env bash
# Optimise the wasm that `wasm-pack build` wrote (--target web for the page,
# --target nodejs for `make bench`), in place.
#
#   scripts/optimize-wasm.sh [PKG_DIR]      (default www/pkg)
#
# wasm-opt comes from npm's `binaryen` package (a devDependency), not from
# Debian: Debian 12's binaryen 108 exports the wrong table when a module has
# two (funcref + wasm-bindgen's externref table), and the page then dies in
# __wbindgen_init_externref_table with "WebAssembly.Table.set(): Argument 1 is
# invalid for table". Because a miscompile like that validates fine, each
# module is instantiated with its generated bindings in Node before and after
# optimising; if the original instantiates and the optimised one does not,
# this fails and leaves the original in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PKG_DIR="${1:-www/pkg}"
WASM_OPT="${WASM_OPT:-node_modules/.bin/wasm-opt}"
# WASM_OPT_LEVEL: -Oz (default) for the page, whose wasm every visitor
# downloads; `make bench` passes -O3 for the Node build it times against
# native. On the page's build (cargo profile `wasm-page`, opt-level "z"),
# -Oz gave the smallest output: 1.6% smaller than -Os and 2.5% smaller than
# -O3, at the same gzipped size; --converge saved 0.05% for twice the time.
#
# The post-MVP features rustc's wasm32-unknown-unknown target emits by default
# (rustc 1.95); wasm-opt also reads them from the module's target_features
# section. All are supported by current Chrome and Firefox ESR.
read -r -a FLAGS <<<"${WASM_OPT_FLAGS:-${WASM_OPT_LEVEL:--Oz} --enable-bulk-memory --enable-bulk-memory-opt \
--enable-call-indirect-overlong --enable-mutable-globals --enable-nontrapping-float-to-int \
--enable-sign-ext --enable-reference-types --enable-multivalue}"

if [ ! -x "$WASM_OPT" ]; then
  echo "optimize-wasm: $WASM_OPT not found (npm package binaryen; 'make setup-serve' installs it): wasm left unoptimised" >&2
  exit 0
fi

# instantiates JS WASM: load the bindings in a fresh Node with WASM as their
# module: `--target web` bindings through initSync; `--target nodejs` ones
# (`make bench`) load <name>_bg.wasm beside themselves when required, so they
# are required from a scratch directory holding a copy of both.
instantiates() {
  node --input-type=module -e '
    import { readFileSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
    import { createRequire } from "node:module";
    import { tmpdir } from "node:os";
    import { basename, join } from "node:path";
    import { pathToFileURL } from "node:url";
    const [js, wasm] = process.argv.slice(1);
    if (readFileSync(js, "utf8").includes("initSync")) {
      const m = await import(pathToFileURL(js).href);
      m.initSync({ module: readFileSync(wasm) });
    } else {
      const dir = mkdtempSync(join(tmpdir(), "optimize-wasm-"));
      try {
        copyFileSync(js, join(dir, basename(js)));
        copyFileSync(wasm, join(dir, basename(js).replace(/\.js$/, "_bg.wasm")));
        createRequire(join(dir, "check.cjs"))(join(dir, basename(js)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  ' "$1" "$2" 2>"$3"
}

shopt -s nullglob
mods=("$PKG_DIR"/*_bg.wasm)
[ "${#mods[@]}" -gt 0 ] || { echo "optimize-wasm: no *_bg.wasm in $PKG_DIR" >&2; exit 1; }

for wasm in "${mods[@]}"; do
  js="${wasm%_bg.wasm}.js"
  out="$wasm.opt"
  before=$(stat -c %s "$wasm")
  "$WASM_OPT" "${FLAGS[@]}" "$wasm" -o "$out"

  err_in=$(mktemp) err_out=$(mktemp)
  if [ -f "$js" ] && instantiates "$js" "$wasm" "$err_in"; then
    if ! instantiates "$js" "$out" "$err_out"; then
      echo "optimize-wasm: $wasm instantiates, but wasm-opt's output does not:" >&2
      sed 's/^/    /' "$err_out" >&2
      rm -f "$out" "$err_in" "$err_out"
      exit 1
    fi
    checked="instantiated in Node before and after"
  else
    checked="not instantiated in Node (needs a browser): $(head -c 200 "$err_in" | tr '\n' ' ')"
  fi
  rm -f "$err_in" "$err_out"
  mv "$out" "$wasm"
  echo "wasm-opt $("$WASM_OPT" --version | awk '{print $3}') ${FLAGS[0]}: $wasm $before -> $(stat -c %s "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped ($checked)"
done

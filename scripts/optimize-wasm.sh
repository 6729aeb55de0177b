#!/usr/bin/env bash
# Optimise the wasm that `wasm-pack build --target web` wrote, in place.
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
# The post-MVP features rustc's wasm32-unknown-unknown target emits by default
# (rustc 1.95); wasm-opt also reads them from the module's target_features
# section. All are supported by current Chrome and Firefox ESR.
read -r -a FLAGS <<<"${WASM_OPT_FLAGS:--O3 --enable-bulk-memory --enable-bulk-memory-opt \
--enable-call-indirect-overlong --enable-mutable-globals --enable-nontrapping-float-to-int \
--enable-sign-ext --enable-reference-types --enable-multivalue}"

if [ ! -x "$WASM_OPT" ]; then
  echo "optimize-wasm: $WASM_OPT not found (npm package binaryen; 'make setup-serve' installs it): wasm left unoptimised" >&2
  exit 0
fi

# instantiates JS WASM: load the bindings in a fresh Node and run initSync.
instantiates() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const [js, wasm] = process.argv.slice(1);
    const m = await import(pathToFileURL(js).href);
    m.initSync({ module: readFileSync(wasm) });
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
  echo "wasm-opt $("$WASM_OPT" --version | awk '{print $3}'): $wasm $before -> $(stat -c %s "$wasm") bytes ($checked)"
done

#!/usr/bin/env bash
# Compare, test file by test file, what passed natively with what passed in
# each headless browser, and fail with a clear message on any difference.
#
#   scripts/count-tests.sh NATIVE_LOG BROWSER_LOG...
#
# NATIVE_LOG is the output of `cargo test`; each BROWSER_LOG the output of one
# `wasm-pack test --headless --<browser>` run (the Makefile writes them to
# test-artifacts/). A "test file" is what cargo names in its `Running` lines:
# src/lib.rs (the unit tests), tests/foo.rs, src/bin/raftlab.rs. Doc-tests are
# native-only by nature and are not compared.
#
# Exceptions live in scripts/native-only.txt (passes natively, cannot run in
# a browser) and scripts/browser-only.txt (the reverse), one per line:
#   src/bin/raftlab.rs            reason...   (a whole test file)
#   tests/foo.rs::some_test_name  reason...   (one test)
# Every entry needs a reason. Blank lines and lines starting with # are skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NATIVE_ONLY="${NATIVE_ONLY:-$ROOT/scripts/native-only.txt}"
BROWSER_ONLY="${BROWSER_ONLY:-$ROOT/scripts/browser-only.txt}"

if [ "$#" -lt 2 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
for f in "$@"; do
  [ -s "$f" ] || { echo "count-tests: missing or empty log $f (run the test step first)" >&2; exit 2; }
done

# One awk program reads the allowlists and every log. Each log is one "run"
# (native first); its label comes from the log itself ("Running headless
# tests in Chrome") or, failing that, from the file name.
awk -v nonly_file="$NATIVE_ONLY" -v bonly_file="$BROWSER_ONLY" '
function strip(s) { gsub(/\033\[[0-9;]*[A-Za-z]/, "", s); sub(/\r$/, "", s); return s }
function fail(msg) { errors[++nerr] = msg }
function readlist(path, dest,   line, key, reason) {
  while ((getline line < path) > 0) {
    sub(/^[ \t]+/, "", line)
    if (line == "" || line ~ /^#/) continue
    key = line; sub(/[ \t].*$/, "", key)
    reason = line; sub(/^[^ \t]+[ \t]*/, "", reason)
    if (reason == "") fail(path ": entry \"" key "\" has no reason")
    dest[key] = reason
  }
  close(path)
}
# An entry may use * as a wildcard (src/bin/*): the key as a regex.
function globre(k,   r) {
  r = k
  gsub(/[][\\.^$+?(){}|]/, "\\\\&", r)
  gsub(/\*/, ".*", r)
  return "^" r "$"
}
# listed(list, key): the reason if key matches an entry of list, else "".
function listed(which, key,   k) {
  for (k in entries) {
    split(k, kp, SUBSEP)
    if (kp[1] == which && key ~ globre(kp[2])) return entries[k]
  }
  return ""
}
BEGIN {
  readlist(nonly_file, nonly); readlist(bonly_file, bonly)
  for (k in nonly) entries["n", k] = nonly[k]
  for (k in bonly) entries["b", k] = bonly[k]
}

# --- logs ---------------------------------------------------------------
FNR == 1 {
  run = ++nruns
  label[run] = (run == 1) ? "native" : FILENAME
  logname[run] = FILENAME
  cur = ""
}
{ $0 = strip($0) }
/^[ \t]*Running (unittests )?[^ ]+ \(/ {
  s = $0
  sub(/^[ \t]*Running (unittests )?/, "", s)
  sub(/ \(.*$/, "", s)
  cur = s
  seen[run, cur] = 1
  if (!(cur in isfile)) { isfile[cur] = 1; files[++nfiles] = cur }
  next
}
/^[ \t]*Doc-tests / { cur = "(doc-tests)"; next }
/^Running headless tests in [A-Za-z]+/ {
  b = $0; sub(/^Running headless tests in /, "", b); sub(/ .*/, "", b)
  if (run > 1) label[run] = b
  next
}
/only configured to run in node\.js/ {
  if (cur != "" && cur != "(doc-tests)") nodeonly[run, cur] = 1
  next
}
/^test .* \.\.\. ok$/ {
  if (cur == "" || cur == "(doc-tests)") next
  name = $0; sub(/^test /, "", name); sub(/ \.\.\. ok$/, "", name)
  passed[run, cur, name] = 1
  npass[run, cur]++
  total_pass++
  next
}
/^error: test failed/ { stopped[run] = 1; next }
/^test .* \.\.\. FAILED$/ {
  if (cur == "" || cur == "(doc-tests)") next
  total_fail++
  nfailed[run, cur]++
  next
}

END {
  if (nruns < 2) { print "count-tests: need a native log and at least one browser log"; exit 2 }

  # Names in the native run, per file, minus the native-only allowlist.
  printf "%-34s %8s", "test file", label[1]
  for (r = 2; r <= nruns; r++) printf " %8s", label[r]
  printf "\n"

  for (i = 1; i <= nfiles; i++) {
    f = files[i]
    printf "%-34s %8d", f, npass[1, f]
    for (r = 2; r <= nruns; r++) printf " %8d", npass[r, f]
    note = ""
    nreason = listed("n", f); breason = listed("b", f)
    if (nreason != "") note = "  (native-only: " nreason ")"
    if (breason != "") note = "  (browser-only: " breason ")"
    printf "%s\n", note

    if (nfailed[1, f]) fail(f ": " nfailed[1, f] " test(s) FAILED natively (see " logname[1] ")")
    for (r = 2; r <= nruns; r++)
      if (nfailed[r, f]) fail(f ": " nfailed[r, f] " test(s) FAILED in " label[r] " (see " logname[r] ")")

    if (nreason != "" || breason != "") continue

    for (r = 2; r <= nruns; r++) {
      if (!seen[1, f]) {
        fail(f ": runs in " label[r] " but not natively (cargo test did not run this file)")
        continue
      }
      if (!seen[r, f]) {
        fail(f ": ran natively but not in " label[r] " (" (stopped[r] ? "wasm-pack test stopped at an earlier failing test file" : "wasm-pack test did not run this file") "; see " logname[r] ")")
        continue
      }
      if (nodeonly[r, f]) {
        fail(f ": skipped in " label[r] " because it lacks `wasm_bindgen_test_configure!(run_in_browser);` (add it once per test file, and once in the lib unit tests)")
        continue
      }
      missing = ""; nmissing = 0; extra = ""; nextra = 0
      for (k in passed) {
        split(k, parts, SUBSEP)
        if (parts[2] != f) continue
        name = parts[3]
        if (parts[1] == 1 && !((r, f, name) in passed) && listed("n", f "::" name) == "") {
          missing = missing "\n      - " name; nmissing++
        }
        if (parts[1] == r && !((1, f, name) in passed) && listed("b", f "::" name) == "") {
          extra = extra "\n      + " name; nextra++
        }
      }
      if (nmissing)
        fail(f ": " nmissing " test(s) passed natively but not in " label[r] \
             " (give each shared test both attributes: #[cfg_attr(target_arch = \"wasm32\", wasm_bindgen_test)] and #[cfg_attr(not(target_arch = \"wasm32\"), test)], or list it in scripts/native-only.txt with a reason):" missing)
      if (nextra)
        fail(f ": " nextra " test(s) passed in " label[r] " but not natively (list in scripts/browser-only.txt with a reason):" extra)
    }
  }

  # Allowlist entries that no longer match anything natively are stale.
  for (k in nonly) {
    f = k; sub(/::.*/, "", f)
    hit = 0
    for (j = 1; j <= nfiles; j++) if (files[j] ~ globre(f)) hit = 1
    if (!hit) print "count-tests: warning: native-only entry \"" k "\" matches no test file that ran"
  }

  summary = "native " npass_total(1)
  for (r = 2; r <= nruns; r++) summary = summary ", " label[r] " " npass_total(r)
  if (nerr) {
    print ""
    print "count-tests: FAILED: native and browser test runs differ:"
    for (e = 1; e <= nerr; e++) print "  * " errors[e]
    print "count-tests: passed per run: " summary
    exit 1
  }
  print "count-tests: per-file counts match (" summary " passed)"
  printf "summary: %d passed, %d failed\n", total_pass, total_fail + 0
}
function npass_total(r,   t, j) { t = 0; for (j = 1; j <= nfiles; j++) t += npass[r, files[j]]; return t }
' "$@"

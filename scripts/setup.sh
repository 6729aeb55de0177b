#!/usr/bin/env bash
# Idempotent machine setup for raftlab. Installs only what is missing, and
# prints nothing but one line when everything is already there.
#
#   scripts/setup.sh serve   what `make serve` needs: the wasm32 target,
#                            wasm-pack, the wasm-bindgen CLI pinned by
#                            Cargo.lock, and node_modules/ (http-server,
#                            binaryen's wasm-opt, playwright-core, axe-core)
#   scripts/setup.sh test    everything: the above, plus rustfmt/clippy,
#                            geckodriver (crates.io), and the Debian packages
#                            chromium, chromium-driver, firefox-esr
#
# Works as root (CI, dev machines) or as a user with sudo. Only registries
# this project can reach are used: crates.io, Debian, npm. Nothing here
# downloads a prebuilt binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

# Not binaryen: Debian 12's wasm-opt 108 miscompiles wasm-bindgen output (see
# scripts/optimize-wasm.sh); wasm-opt comes from npm's binaryen package.
APT_PACKAGES=(chromium chromium-driver firefox-esr)
did_something=0

say() { printf 'setup: %s\n' "$*" >&2; did_something=1; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "DEBIAN_FRONTEND=noninteractive" "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

require_rust() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust with rustup first"
  command -v rustup >/dev/null 2>&1 || die "rustup not found; install Rust with rustup first"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_rust_components() {
  local c
  for c in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$c"; then
      say "adding Rust component $c"
      rustup component add "$c"
    fi
  done
}

# cargo_install CRATE [ARGS...]: `cargo install --locked`, and if the crate's
# own lock file names a version this registry does not serve (seen with
# wasm-bindgen-cli 0.2.130: webpki-roots 1.0.11 missing), once more unlocked.
cargo_install() {
  local crate="$1"
  shift
  if ! cargo install "$crate" "$@" --locked; then
    say "cargo install $crate --locked failed; retrying without --locked"
    cargo install "$crate" "$@"
  fi
}

# cargo_tool BINARY CRATE: install CRATE unless BINARY is on PATH.
cargo_tool() {
  local bin="$1" crate="$2"
  if ! command -v "$bin" >/dev/null 2>&1; then
    say "installing $crate from crates.io (cargo install; takes a few minutes)"
    cargo_install "$crate"
  fi
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in
# Cargo.lock. wasm-pack uses one found on PATH when the version matches;
# otherwise it would try a prebuilt download (fails here) and then an
# unlocked `cargo install` into its cache. Installing it here, --locked, keeps
# that step predictable and visible.
lock_version() {
  awk -v name="$1" '
    $0 == "[[package]]" { inpkg = 1; found = 0; next }
    inpkg && $0 == "name = \"" name "\"" { found = 1; next }
    inpkg && found && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock
}

ensure_wasm_bindgen_cli() {
  if [ ! -f Cargo.lock ]; then
    say "no Cargo.lock yet: generating it (commit it)"
    cargo generate-lockfile --quiet
  fi
  local want have=""
  want="$(lock_version wasm-bindgen)"
  [ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock; is it a dependency for wasm32?"
  if command -v wasm-bindgen >/dev/null 2>&1; then
    have="$(wasm-bindgen --version | awk '{print $2}')"
  fi
  if [ "$have" != "$want" ]; then
    say "installing wasm-bindgen-cli $want (Cargo.lock pins it; found '${have:-none}'; takes a few minutes)"
    cargo_install wasm-bindgen-cli --version "=$want" --force
  fi
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "installing nodejs and npm from Debian"
    as_root apt-get update -qq
    as_root apt-get install -y -qq nodejs npm
  fi
}

# node_modules/ is stale when package.json or package-lock.json changed after
# the last install (npm writes node_modules/.package-lock.json on install).
ensure_node_modules() {
  local marker=node_modules/.package-lock.json
  if [ ! -f "$marker" ] || [ package.json -nt "$marker" ] ||
     { [ -f package-lock.json ] && [ package-lock.json -nt "$marker" ]; }; then
    if [ -f package-lock.json ]; then
      say "installing node_modules (npm ci)"
      npm ci --no-audit --no-fund --loglevel=error
    else
      say "installing node_modules (npm install; commit package-lock.json)"
      npm install --no-audit --no-fund --loglevel=error
    fi
    touch "$marker"
  fi
}

ensure_apt_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]} (apt-get; a minute or two)"
    as_root apt-get update -qq
    as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

setup_serve() {
  require_rust
  ensure_wasm_target
  cargo_tool wasm-pack wasm-pack
  ensure_wasm_bindgen_cli
  ensure_node
  ensure_node_modules
}

setup_test() {
  setup_serve
  ensure_rust_components
  ensure_apt_packages
  cargo_tool geckodriver geckodriver
}

case "${1:-test}" in
  serve) setup_serve ;;
  test | all) setup_test ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
  *) die "unknown mode '$1' (use: serve | test)" ;;
esac

if [ "$did_something" -eq 0 ]; then
  printf 'setup: everything already installed (%s)\n' "${1:-test}" >&2
fi

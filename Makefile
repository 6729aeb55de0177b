# raftlab: set up, build, serve and test. `make help` lists the targets.
#
# Everything installs itself on first use (scripts/setup.sh) and is skipped
# when present, so `make serve` and `make test` work on a fresh Debian machine.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Cargo parallelises inside each step; the steps themselves must run in order.
.NOTPARALLEL:

export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

PORT      ?= 8080
HOST      ?= 127.0.0.1
SEEDS     ?= 0..1000
# The command-line binary; empty: the crate's only binary.
BIN       ?=
ARTIFACTS ?= test-artifacts
PKG_DIR   := www/pkg
# The linearizability checker's own wasm, which the page loads on first use
# (src/web/check_module.rs).
CHECK_DIR := www/pkg-check
# The benchmark workloads built for Node.js (`make bench`).
PKG_NODE  := target/pkg-node

# wasm-bindgen-test-runner: seconds for a whole test binary (default 20), and
# for a WebDriver to come up (default 5). Seed sweeps in a browser and a busy
# 2-core machine need more.
export WASM_BINDGEN_TEST_TIMEOUT ?= 900
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT ?= 60
# The runner picks the FIRST driver it finds in the environment (gecko before
# chrome), so an inherited GECKODRIVER would turn the Chrome run into a second
# Firefox run. wasm-pack sets the right one per browser from the flags below.
unexport GECKODRIVER CHROMEDRIVER SAFARIDRIVER MSEDGEDRIVER \
  GECKODRIVER_REMOTE CHROMEDRIVER_REMOTE SAFARIDRIVER_REMOTE MSEDGEDRIVER_REMOTE

# Drivers: Debian's chromedriver and the cargo-installed geckodriver. Passing
# them explicitly keeps wasm-pack from trying to download its own.
CHROMEDRIVER_BIN ?= $(shell command -v chromedriver || echo /usr/bin/chromedriver)
GECKODRIVER_BIN  ?= $(shell command -v geckodriver || echo $(HOME)/.cargo/bin/geckodriver)
BROWSERS         ?= chrome firefox
# Extra arguments for `cargo test` under wasm-pack (e.g. `--lib --tests`).
WASM_TEST_ARGS   ?=

.PHONY: help setup setup-serve build wasm serve test lint fmt-check clippy doc-check \
  test-native fuzz-sweep test-browser e2e count-tests bench fuzz clean distclean

help:
	@echo "make serve   set up, build the wasm, serve www/ (PORT=$(PORT)) and print the URL"
	@echo "make test    set up, then fmt, clippy, cargo test, browser tests (Chrome +"
	@echo "             Firefox, headless), end-to-end page tests, native/browser count check"
	@echo "make build   wasm-pack build --target web (size profile) into $(PKG_DIR) and the checker into $(CHECK_DIR), then wasm-opt -Oz"
	@echo "make bench   simulator and checker benchmarks, native and wasm (Node.js) in one run"
	@echo "make fuzz    seeded simulator runs: SEEDS=$(SEEDS)"
	@echo "make setup   install everything the project needs (idempotent)"
	@echo "make clean   remove build outputs (target/, $(PKG_DIR), $(CHECK_DIR), $(ARTIFACTS)/)"
	@echo "parts of test: lint fmt-check clippy doc-check test-native fuzz-sweep test-browser e2e count-tests"

# --- setup -------------------------------------------------------------------

setup:
	@bash scripts/setup.sh test

setup-serve:
	@bash scripts/setup.sh serve

# --- build and serve -----------------------------------------------------------

build: setup-serve wasm

# The wasm build proper, without setup (used by `test` after the full setup).
# Built for size: cargo profile `wasm-page` (opt-level "z"; reasons in
# Cargo.toml), then wasm-opt -Oz. wasm-pack's own wasm-opt step is off in
# Cargo.toml (it would download binaryen); scripts/optimize-wasm.sh runs
# npm's binaryen instead. The second build is the checker's module: the same
# crate with only the `check-module` feature.
wasm:
	wasm-pack build --target web --profile wasm-page --out-dir $(PKG_DIR)
	WASM_OPT_LEVEL=-Oz bash scripts/optimize-wasm.sh $(PKG_DIR)
	wasm-pack build --target web --profile wasm-page --out-dir $(CHECK_DIR) --out-name raftlab_check \
	  -- --no-default-features --features check-module
	WASM_OPT_LEVEL=-Oz bash scripts/optimize-wasm.sh $(CHECK_DIR)

serve: build
	@PORT=$(PORT) HOST=$(HOST) bash scripts/serve.sh

# --- test ------------------------------------------------------------------------

test: setup lint test-native fuzz-sweep test-browser wasm e2e count-tests

lint: fmt-check clippy doc-check

fmt-check: setup
	cargo fmt --all -- --check

# Rustdoc builds without warnings (broken or private links in public docs).
doc-check: setup
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

# Natively, and for wasm32 too: the wasm-bindgen facade (src/web) only
# compiles there, so a native clippy never sees it (--all-features: with the
# benchmark exports of `make bench`), and the checker's module on its own.
clippy: setup
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --tests --all-features -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features check-module -- -D warnings

test-native: setup
	@mkdir -p $(ARTIFACTS)
	cargo test --release --no-fail-fast 2>&1 | tee $(ARTIFACTS)/native.log

# One wasm-pack run per browser, each with its own log, so that the count
# check knows which browser ran what, and a Chrome failure still lets Firefox
# run. Capabilities (extra Chrome flags) come from webdriver.json; the runner
# itself adds --headless and --no-sandbox (needed as root) for Chrome and
# -headless for Firefox.
test-browser: setup
	@mkdir -p $(ARTIFACTS)
	@rc=0; \
	for b in $(BROWSERS); do \
	  case $$b in \
	    chrome) drv="--chromedriver $(CHROMEDRIVER_BIN)";; \
	    firefox) drv="--geckodriver $(GECKODRIVER_BIN)";; \
	    *) drv="";; \
	  esac; \
	  echo "+ wasm-pack test --headless --$$b $$drv --release $(WASM_TEST_ARGS)"; \
	  wasm-pack test --headless --$$b $$drv --release $(WASM_TEST_ARGS) 2>&1 \
	    | tee $(ARTIFACTS)/wasm-$$b.log || { rc=1; echo "browser tests FAILED in $$b (log: $(ARTIFACTS)/wasm-$$b.log)"; }; \
	done; \
	exit $$rc

e2e: setup-serve
	npm run --silent e2e

count-tests:
	@bash scripts/count-tests.sh $(ARTIFACTS)/native.log $(foreach b,$(BROWSERS),$(ARTIFACTS)/wasm-$(b).log)

# --- simulator runs ----------------------------------------------------------------

# One command, one run: build the benchmark workloads for Node.js with the
# speed profile (`release`, opt-level 3, as natively; `wasm-bench` adds their
# exports) and wasm-opt -O3, then `cargo bench`, which runs native and wasm
# interleaved and prints wasm's speed as a ratio of native's.
bench: setup-serve
	wasm-pack build --target nodejs --release --out-dir $(PKG_NODE) -- --features wasm-bench
	WASM_OPT_LEVEL=-O3 bash scripts/optimize-wasm.sh $(PKG_NODE)
	cargo bench --bench sim

fuzz:
	cargo run --release $(if $(BIN),--bin $(BIN)) -- fuzz --seeds $(SEEDS)

# Part of `make test`: 500 seeded runs of 60 simulated seconds each, every one
# with its own fault schedule, invariants after every event, linearizability
# and liveness at the end. A failing seed is printed with its replay command.
# The default 5-node cluster, then 3 nodes contending for 1 key (where a
# checker false positive once hid: a late win of an older term) and 7 nodes.
fuzz-sweep: setup
	cargo run --release $(if $(BIN),--bin $(BIN)) -- fuzz --seeds 0..500 --duration 60 --quiet
	cargo run --release $(if $(BIN),--bin $(BIN)) -- fuzz --seeds 0..500 --duration 60 --nodes 3 --keys 1 --clients 25 --quiet
	cargo run --release $(if $(BIN),--bin $(BIN)) -- fuzz --seeds 0..500 --duration 60 --nodes 7 --quiet

# --- clean ---------------------------------------------------------------------------

clean:
	cargo clean
	rm -rf $(PKG_DIR) $(CHECK_DIR) $(ARTIFACTS)

distclean: clean
	rm -rf node_modules

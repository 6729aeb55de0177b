// The wasm side of `make bench`: the benchmark workloads compiled to wasm
// (cargo profile `release`, opt-level 3, as natively; then wasm-opt -O3),
// run under Node.js. Build first (`make bench` does all of this):
//   wasm-pack build --target nodejs --release --out-dir target/pkg-node -- --features wasm-bench
//   WASM_OPT_LEVEL=-O3 bash scripts/optimize-wasm.sh target/pkg-node
//
//   node scripts/bench-wasm.mjs           time each workload alone, print figures
//   node scripts/bench-wasm.mjs --serve   what benches/sim.rs runs: one request
//                                         per stdin line, one answer per stdout line
//
// Requests (--serve): `run NAME SIM_SECS` runs workload NAME and answers
// `MS EVENTS`; `history SEED CALLS CLIENTS KEYS` generates the checker's
// history and answers `ok`; `check` times the checker on it and answers
// `MS LINEARIZABLE`; `info` answers the Node and V8 versions. Errors answer
// `error MESSAGE`. Timing is taken here, around the call alone, so the pipe
// costs nothing; benches/sim.rs interleaves native and wasm runs so that the
// machine's load affects both alike, and compares them as a ratio.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// RAFTLAB_WASM_PKG: another build's bindings (e.g. one built with
// `--profile wasm-page`, to see what the page's size profile costs).
const pkgPath = process.env.RAFTLAB_WASM_PKG
  ? resolve(process.env.RAFTLAB_WASM_PKG)
  : fileURLToPath(new URL('../target/pkg-node/raftlab.js', import.meta.url));
if (!existsSync(pkgPath)) {
  console.error(`bench-wasm: ${pkgPath} is missing: run \`make bench\``);
  process.exit(2);
}
const pkg = require(pkgPath);

function timeRun(name, secs) {
  const t = performance.now();
  const events = pkg.benchWorkload(name, secs);
  return [performance.now() - t, events];
}

if (process.argv.includes('--serve')) {
  let history = null;
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    const [cmd, ...args] = line.trim().split(/\s+/);
    let answer;
    try {
      if (cmd === 'run') {
        const [ms, events] = timeRun(args[0], Number(args[1]));
        answer = `${ms} ${events}`;
      } else if (cmd === 'history') {
        history?.free();
        history = new pkg.BenchHistory(...args.map(Number));
        answer = 'ok';
      } else if (cmd === 'check') {
        const t = performance.now();
        const ok = history.check();
        answer = `${performance.now() - t} ${ok}`;
      } else if (cmd === 'info') {
        answer = `Node ${process.versions.node}, V8 ${process.versions.v8}`;
      } else {
        answer = `error unknown request ${JSON.stringify(line)}`;
      }
    } catch (e) {
      answer = `error ${String(e?.message ?? e).replace(/\s+/g, ' ')}`;
    }
    process.stdout.write(answer + '\n');
  }
} else {
  for (const [name, secs] of [['seq1', 60], ['conc64', 20], ['idle', 600], ['fuzz', 60]]) {
    timeRun(name, secs); // warm-up: V8 compiles the hot functions with its optimising tier
    const times = [];
    for (let i = 0; i < 9; i++) times.push(timeRun(name, secs)[0]);
    times.sort((a, b) => a - b);
    console.log(`wasm ${name}: ${times[4].toFixed(1)} ms for ${secs} s simulated (median of 9)`);
  }
}

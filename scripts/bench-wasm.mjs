// Runs the benchmark workloads compiled to wasm under Node.js and writes
// target/bench-wasm.json ({workload: median ms}) for `cargo bench` to
// compare with native. Build first:
//   wasm-pack build --target nodejs --release --out-dir target/pkg-node
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const pkg = require('../target/pkg-node/raftlab.js');

const workloads = [['seq1', 60], ['conc64', 20], ['idle', 600], ['fuzz', 60]];
const out = {};
for (const [name, secs] of workloads) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    pkg.benchWorkload(name, secs);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  out[name] = times[Math.floor(times.length / 2)];
  console.log(`wasm ${name}: ${out[name].toFixed(1)} ms for ${secs} s simulated`);
}
writeFileSync(new URL('../target/bench-wasm.json', import.meta.url), JSON.stringify(out, null, 2));

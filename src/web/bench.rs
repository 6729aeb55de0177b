//! Benchmark entry point for the wasm build: runs the same workloads as
//! `cargo bench` so `scripts/bench-wasm.mjs` can compare wasm with native.

use wasm_bindgen::prelude::*;

/// Run benchmark workload `name` (seq1, conc64, idle, fuzz) for `sim_secs`
/// simulated seconds; returns the number of events processed, or an error
/// for an unknown workload.
#[wasm_bindgen(js_name = benchWorkload)]
pub fn bench_workload(name: &str, sim_secs: f64) -> Result<f64, JsError> {
    crate::sim::bench::run(name, sim_secs, 1)
        .map(|r| r.events as f64)
        .ok_or_else(|| {
            JsError::new(&format!(
                "unknown workload {name:?}; use one of {:?}",
                crate::sim::bench::WORKLOADS
            ))
        })
}

//! Benchmark entry points for the wasm build: the same workloads as
//! `cargo bench`, so that `benches/sim.rs` can time them in Node.js (through
//! `scripts/bench-wasm.mjs`) beside the native ones.
//!
//! Only built with the `wasm-bench` feature (`make bench` turns it on): the
//! page never calls these, and they would pull the fuzz schedule into its
//! wasm.

use crate::check::history::History;
use crate::check::linearizability;
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

/// A generated linearizable history
/// ([`linearizability::generate_random_history`]), so that the caller can
/// time [`BenchHistory::check`] alone.
#[wasm_bindgen]
pub struct BenchHistory(History);

#[wasm_bindgen]
impl BenchHistory {
    /// `calls` calls of `clients` clients on `keys` keys, drawn from `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: u32, calls: u32, clients: u32, keys: u32) -> BenchHistory {
        BenchHistory(linearizability::generate_random_history(
            u64::from(seed),
            calls as usize,
            clients as usize,
            keys as usize,
        ))
    }

    /// Run the linearizability checker; true if linearizable.
    pub fn check(&self) -> bool {
        linearizability::check(&self.0).is_ok()
    }
}

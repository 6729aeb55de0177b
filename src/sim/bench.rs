//! Benchmark workloads, shared by `cargo bench` (native) and the wasm
//! build (run under Node.js by `scripts/bench-wasm.mjs`), so the two are
//! compared on exactly the same simulation.

use super::client::Workload;
use super::fuzz::{self, FuzzOptions};
use super::{SimConfig, Simulation};

/// What one workload run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BenchRun {
    /// Simulator events processed.
    pub events: u64,
    /// Client operations answered.
    pub ops: u64,
    /// Virtual time simulated, µs.
    pub sim_us: u64,
}

/// The workloads by name: `seq1` (one client, back-to-back calls, no
/// faults), `conc64` (64 clients), `idle` (no clients), `fuzz` (the fuzz
/// schedule with 5 clients).
pub const WORKLOADS: [&str; 4] = ["seq1", "conc64", "idle", "fuzz"];

/// What workload `name` simulates, for labelling figures.
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "seq1" => "5 nodes, 1 client calling back to back (puts), no faults",
        "conc64" => "5 nodes, 64 clients calling back to back (puts), no faults",
        "idle" => "5 nodes, no clients: heartbeats only",
        "fuzz" => "5 nodes, 5 clients, seeded crashes, partitions, loss (fuzz schedule)",
        _ => return None,
    })
}

fn quiet(seed: u64) -> Simulation {
    let cfg = SimConfig {
        trace_keep: 0,
        track_flights: false,
        ..SimConfig::default()
    };
    match Simulation::new(seed, cfg) {
        Ok(s) => s,
        Err(e) => panic!("default config is valid: {e}"),
    }
}

/// Run workload `name` for `sim_secs` simulated seconds, with the safety
/// invariants checked after every event, as in every simulation.
pub fn run(name: &str, sim_secs: f64, seed: u64) -> Option<BenchRun> {
    run_with(name, sim_secs, seed, true)
}

/// [`run`], choosing whether the invariant checker runs (`checks`), to
/// measure the simulation alone. `fuzz` always checks: its checks are the
/// point of the schedule.
pub fn run_with(name: &str, sim_secs: f64, seed: u64, checks: bool) -> Option<BenchRun> {
    let us = (sim_secs * 1e6) as u64;
    let mut sim = match name {
        "fuzz" => {
            let opts = FuzzOptions {
                duration_us: us,
                ..FuzzOptions::default()
            };
            let o = fuzz::fuzz_one(seed, &opts);
            return Some(BenchRun {
                events: o.events,
                ops: o.completed,
                sim_us: o.end_us,
            });
        }
        _ => quiet(seed),
    };
    if !checks {
        sim.skip_invariant_checks();
    }
    let clients = match name {
        "seq1" => 1,
        "conc64" => 64,
        "idle" => 0,
        _ => return None,
    };
    sim.add_auto_clients(
        clients,
        Workload {
            keys: 100,
            think_max_us: 0,
            get_percent: 0,
        },
    );
    sim.run_for(us);
    Some(BenchRun {
        events: sim.events_processed(),
        ops: sim.clients().iter().map(|c| c.completed).sum(),
        sim_us: sim.now(),
    })
}

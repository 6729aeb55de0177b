//! `make bench`: throughput of the simulator and the checker, native and
//! (when `target/bench-wasm.json` exists, written by scripts/bench-wasm.mjs)
//! compared with the same workloads in wasm under Node.js.
//!
//! Each figure is the median of several repetitions; compare figures as
//! ratios within one run, since the machine is shared and noisy.

use raftlab::check::linearizability;
use raftlab::sim::bench;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..reps {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    (median(times), last.expect("reps > 0"))
}

fn main() {
    println!("raftlab benchmarks (median of 5 runs each)\n");
    let mut native = Vec::new();
    for (name, secs) in [
        ("seq1", 60.0),
        ("conc64", 20.0),
        ("idle", 600.0),
        ("fuzz", 60.0),
    ] {
        let (t, r) = time(5, || bench::run(name, secs, 1).expect("known workload"));
        native.push((name, secs, t));
        println!(
            "{name:>7}: {:>6.1} s simulated in {:>7.1} ms  | {:>12.0} events/s | {:>10.0} ops/s | {:>10.0}× real time",
            r.sim_us as f64 / 1e6,
            t * 1e3,
            r.events as f64 / t,
            r.ops as f64 / t,
            r.sim_us as f64 / 1e6 / t
        );
    }
    let h = linearizability::generate_random_history(7, 10_000, 10, 100);
    let (t, ok) = time(5, || linearizability::check(&h).is_ok());
    println!("\nlinearizability checker: 10,000 calls, 10 clients, 100 keys: {:.1} ms (linearizable: {ok})", t * 1e3);

    match std::fs::read_to_string("target/bench-wasm.json") {
        Ok(text) => {
            println!("\nwasm (Node.js) vs native, same workloads:");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            for (name, secs, t_native) in &native {
                if let Some(ms) = v.get(*name).and_then(|x| x.as_f64()) {
                    let t_wasm = ms / 1e3;
                    println!(
                        "{name:>7}: native {:>7.1} ms, wasm {:>7.1} ms for {secs} s simulated → wasm speed {:.2}× native",
                        t_native * 1e3,
                        ms,
                        t_native / t_wasm
                    );
                }
            }
        }
        Err(_) => {
            println!("\n(no target/bench-wasm.json: run `make bench` for the wasm comparison)")
        }
    }
}

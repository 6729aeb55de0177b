//! Determinism: one seed decides a run. The fixture of seed → trace hash is
//! written by the native build (`raftlab-cli fixture`) and checked here, natively
//! and in headless Chrome and Firefox, so x86-64 and wasm32 must agree on
//! every event of every run.
use raftlab::sim::{fixture_hash, FIXTURE_SEEDS};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const FIXTURE: &str = include_str!("fixtures/trace_hashes.json");

/// The trace hashes match the native fixture.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn trace_hashes_match_fixture() {
    let fixture = raftlab::json::parse(FIXTURE).expect("fixture is JSON");
    let raftlab::json::Json::Obj(fields) = &fixture else {
        panic!("the fixture is not an object")
    };
    assert_eq!(fields.len() as u64, FIXTURE_SEEDS);
    let fixture = fixture.obj().expect("an object");
    for seed in 0..FIXTURE_SEEDS {
        let got = format!("{:016x}", fixture_hash(seed));
        let want: String = fixture.req(&seed.to_string()).expect("a hash per seed");
        assert_eq!(got, want, "seed {seed}: trace hash differs from the native fixture (regenerate with `cargo run --release --bin raftlab-cli -- fixture > tests/fixtures/trace_hashes.json` only if the change is intended)");
    }
}

/// The same seed twice gives the same hash; different seeds differ.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn hashes_depend_on_seed_only() {
    assert_eq!(fixture_hash(3), fixture_hash(3));
    assert_ne!(fixture_hash(3), fixture_hash(4));
}

/// The PRNG stream is the same on every platform (these numbers were drawn
/// natively).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn prng_stream_is_portable() {
    let mut r = raftlab::rng::Rng::new(42);
    let got: Vec<u64> = (0..4).map(|_| r.range_inclusive(0, 999_999)).collect();
    assert_eq!(got, PRNG_42);
}

const PRNG_42: [u64; 4] = [233951, 364753, 481100, 105464];

/// `run_until` runs exactly the events that stepping one at a time up to
/// the same time runs (it finds the next event once per step), and a time
/// in the past runs nothing.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn run_until_runs_what_stepping_runs() {
    use raftlab::sim::client::Workload;
    use raftlab::sim::{SimConfig, Simulation};
    let build = || {
        let mut s = Simulation::new(5, SimConfig::default()).expect("default config");
        s.add_auto_clients(
            3,
            Workload {
                keys: 10,
                think_max_us: 20_000,
                get_percent: 30,
            },
        );
        s
    };
    let (mut fused, mut stepped) = (build(), build());
    for t in [0, 1, 150_000, 149_999, 700_000, 700_000, 2_000_000] {
        fused.run_until(t);
        while let Some(at) = stepped.next_event_at() {
            if at > t {
                break;
            }
            stepped.step();
        }
        assert_eq!(
            fused.events_processed(),
            stepped.events_processed(),
            "t {t}"
        );
        assert_eq!(fused.trace_hash(), stepped.trace_hash(), "t {t}");
    }
    assert!(
        fused.events_processed() > 500,
        "{}",
        fused.events_processed()
    );
    assert_eq!(fused.now(), 2_000_000);
}

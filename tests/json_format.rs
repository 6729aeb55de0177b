//! The JSON the crate writes, byte for byte: small documents of every kind
//! (configuration, view, trace events, narration, history, durable writes
//! and state) against verbatim copies in `tests/fixtures/json/`, and larger
//! ones (a whole trace, views along a run, the narration and history of a
//! run with faults) against hashes. The fixtures and hashes were first
//! written by serde_json before the crate's own writer replaced it
//! (`crate::json`), so they pin the formats the page, the stored records
//! and the CLI's files have always had. The stored records of `src/web`
//! (browser-only) are pinned in `tests/web_json.rs`.
//!
//! A change to what the simulation does (not to how it is written) changes
//! the documents' content: `RAFTLAB_BLESS=1 cargo test --test json_format`
//! then rewrites the small fixtures and prints the large documents' new
//! hashes for `LARGE`. Check that the rewritten fixtures write back byte
//! for byte through serde_json (parsed into a `Value` with its
//! `preserve_order` feature) before committing them. All of them do; the
//! first `events.json` did not, as its client events held the key `seq`
//! twice (the event's number and the call's), which the trace events'
//! `call` field ended.
use raftlab::json::to_string;
use raftlab::kv::{ClientId, Op};
use raftlab::raft::NodeId;
use raftlab::sim::client::Workload;
use raftlab::sim::fuzz::{self, FuzzOptions};
use raftlab::sim::network::LinkParams;
use raftlab::sim::trace::TraceEvent;
use raftlab::sim::view::narrate;
use raftlab::sim::{SimConfig, Simulation};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// 64-bit FNV-1a of `text`.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small run with faults, odd keys and asynchronous durability.
fn small_run() -> Simulation {
    let cfg = SimConfig {
        nodes: 3,
        trace_keep: usize::MAX,
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(11, cfg).expect("config");
    sim.add_auto_clients(2, Workload::default());
    let console = sim.add_client();
    sim.run_for(400_000);
    sim.set_async_durability(true);
    sim.set_cut(NodeId(1), NodeId(2), true).expect("cut");
    sim.crash(NodeId(3)).expect("crash");
    let op = Op::Cas {
        key: "k\"\\\n\u{1}é😀".into(),
        expected: None,
        value: "v\t".into(),
    };
    sim.invoke(console, op, None).expect("invoke");
    sim.run_for(300_000);
    sim.crash_client(ClientId(1)).expect("crash a client");
    sim
}

/// The small documents, by fixture file name.
fn small_documents() -> Vec<(&'static str, String)> {
    let configs =
        [(0.1, 1e-7, 0.9856906946328695), (1e21, -0.0, 5e-324)].map(|(a, b, c)| SimConfig {
            link: LinkParams {
                loss: a,
                duplicate: b,
                reorder: c,
                ..LinkParams::default()
            },
            ..SimConfig::default()
        });
    let mut sim = small_run();
    let writes = sim.take_durable_writes();
    let events: Vec<_> = sim.trace().events().collect();
    // The first event of each kind (an entry applied: a no-op, and a
    // client's command).
    let kind = |e: &TraceEvent| {
        let client = matches!(e, TraceEvent::Applied { call: Some(_), .. });
        (std::mem::discriminant(e), client)
    };
    let mut firsts = Vec::new();
    for s in &events {
        if !firsts
            .iter()
            .any(|f: &&raftlab::sim::trace::Stamped| kind(&f.event) == kind(&s.event))
        {
            firsts.push(*s);
        }
    }
    let lines: Vec<_> = firsts.iter().copied().map(narrate).collect();
    let durable = sim.slot(NodeId(1)).map(|s| s.storage.durable().clone());
    vec![
        ("configs.json", to_string(&configs)),
        ("view.json", to_string(&sim.view_with_limits(3, 2))),
        ("events.json", to_string(&firsts)),
        ("narration.json", to_string(&lines)),
        ("history.json", sim.history().to_json()),
        ("writes.json", to_string(&writes)),
        ("durable.json", to_string(&durable)),
    ]
}

fn fixture(name: &str) -> &'static str {
    match name {
        "configs.json" => include_str!("fixtures/json/configs.json"),
        "view.json" => include_str!("fixtures/json/view.json"),
        "events.json" => include_str!("fixtures/json/events.json"),
        "narration.json" => include_str!("fixtures/json/narration.json"),
        "history.json" => include_str!("fixtures/json/history.json"),
        "writes.json" => include_str!("fixtures/json/writes.json"),
        "durable.json" => include_str!("fixtures/json/durable.json"),
        _ => panic!("no fixture {name}"),
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
/// Each small document is its fixture, byte for byte.
fn small_documents_match_their_fixtures() {
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RAFTLAB_BLESS").is_some() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/json");
        for (name, text) in small_documents() {
            std::fs::write(format!("{dir}/{name}"), text + "\n").expect("write fixture");
        }
    }
    for (name, text) in small_documents() {
        let want = fixture(name).trim_end_matches('\n');
        assert!(
            text == want,
            "{name} differs from tests/fixtures/json/{name}:\n got: {text}\nwant: {want}"
        );
    }
}

/// The large documents' hashes (first as serde_json wrote them; rewritten
/// since when the simulation's behaviour changed: see the module docs).
const LARGE: [(&str, u64); 4] = [
    ("trace", 0xb68913b94af9a444),     // 599,007 bytes
    ("views", 0xd6e995de74044332),     // 184,864 bytes
    ("narration", 0x7bb2d98bd55aa613), // 535,614 bytes
    ("history", 0xf9abc5a076526550),   // 22,384 bytes
];

fn large_documents() -> Vec<(&'static str, String)> {
    let opts = FuzzOptions {
        duration_us: 4_000_000,
        ..FuzzOptions::default()
    };
    let mut sim = fuzz::build(5, &opts, usize::MAX).expect("build");
    fuzz::run_seed(&mut sim, &opts, |_, _| {});
    let events: Vec<_> = sim.trace().events().collect();
    let lines: Vec<_> = events.iter().copied().map(narrate).collect();
    let history = sim.history().to_json();
    // Views along a run with flights and faults.
    let mut views = String::new();
    let mut sim = small_run();
    for i in 0..10 {
        sim.run_for(100_000);
        if i == 4 {
            sim.restart(NodeId(3)).expect("restart");
            sim.heal_all();
        }
        views.push_str(&to_string(&sim.view()));
        views.push_str(&to_string(&sim.view_with_limits(1, 0)));
    }
    vec![
        ("trace", to_string(&events)),
        ("views", views),
        ("narration", to_string(&lines)),
        ("history", history),
    ]
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
/// The large documents hash as they did.
fn large_documents_hash_as_before() {
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RAFTLAB_BLESS").is_some() {
        for (name, text) in large_documents() {
            println!(
                "(\"{name}\", {:#018x}), // {} bytes",
                fnv(&text),
                text.len()
            );
        }
    }
    for ((name, text), (want_name, want)) in large_documents().into_iter().zip(LARGE) {
        assert_eq!(name, want_name);
        assert_eq!(
            fnv(&text),
            want,
            "{name} ({} bytes) hashes differently",
            text.len()
        );
    }
}

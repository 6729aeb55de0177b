//! The stored records and facade JSON of `src/web` (browser-only code),
//! byte for byte as serde_json wrote them before the crate's own writer
//! (`raftlab::json`) replaced it: the recorded actions verbatim
//! (`tests/fixtures/json/web_actions.txt`), and everything a page with
//! persistence writes along a run (write sets, storage reports, the meta
//! record, the loaded form, views, narration, history) as a hash. See
//! `tests/json_format.rs` for the rest of the crate's JSON.
#![cfg(target_arch = "wasm32")]
use raftlab::json::to_string;
use raftlab::kv::Op;
use raftlab::web::actions::{ActionJson, Recorded, UserAction};
use raftlab::web::idb::{Loaded, WriteSet};
use raftlab::web::Simulation;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// 64-bit FNV-1a of `text`.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends `name`, a tab, `text` and a newline to `out`.
fn doc(out: &mut String, name: &str, text: String) {
    out.push_str(name);
    out.push('\t');
    out.push_str(&text);
    out.push('\n');
}

/// Every kind of recorded action, and values re-encoded as stored actions.
#[wasm_bindgen_test]
fn recorded_actions_are_written_as_before() {
    let mut out = String::new();
    let out = &mut out;
    let actions = vec![
        UserAction::Crash { node: 1 },
        UserAction::Restart { node: 2 },
        UserAction::ForceTimeout { node: 3 },
        UserAction::SetCut {
            from: 1,
            to: 2,
            cut: true,
        },
        UserAction::Isolate { node: 4 },
        UserAction::Partition {
            groups: vec![vec![1, 2], vec![3, 4, 5], vec![]],
        },
        UserAction::HealAll,
        UserAction::SetNetwork {
            latency_min_us: 1,
            latency_max_us: u64::MAX,
            loss: 0.1,
            duplicate: 1e-7,
            reorder: 0.9856906946328695,
        },
        UserAction::SetTiming {
            election_min_us: 150000,
            election_max_us: 300000,
            heartbeat_us: 50000,
        },
        UserAction::AlignTimers {
            delay_us: 0,
            spread_us: 7,
        },
        UserAction::Submit {
            client: 3,
            call: Op::Cas {
                key: "k\"\n".into(),
                expected: None,
                value: "\u{1}é".into(),
            },
            via: None,
        },
        UserAction::Submit {
            client: 3,
            call: Op::Put {
                key: "k".into(),
                value: "v".into(),
            },
            via: Some(2),
        },
        UserAction::StaleRead {
            client: 9,
            node: 2,
            key: "\\".into(),
        },
        UserAction::AddWorkload { n: 4 },
        UserAction::StopWorkload,
    ];
    for (i, a) in actions.into_iter().enumerate() {
        doc(
            out,
            &format!("recorded-{i}"),
            to_string(&Recorded {
                at_us: 5000 + i as u64,
                action: a,
            }),
        );
    }
    for t in [
        r#"{"at_us": 5, "action": "x", "n": [1, -2, 0.5, -0, 25e-4, 1e300, 1E400, -5, 18446744073709551615, 18446744073709551616, 0, -0.0, 1.0, 12345678901234567890123], "s": "a\u0001\"\\/\ud83d\ude00", "o": {"b": null, "a": true, "c": false}}"#,
        r#"  [ ]  "#,
        r#"{}"#,
    ] {
        let a = ActionJson::from_text(t).unwrap();
        doc(out, "actionjson", a.json().to_string());
        doc(out, "actionjson-ser", to_string(&vec![a]));
    }

    let want = include_str!("fixtures/json/web_actions.txt");
    for (got, want) in out.lines().zip(want.lines()) {
        assert_eq!(got, want);
    }
    assert_eq!(out.as_str(), want);
}

/// Everything a page with persistence writes along a run, for `seed`.
fn run(seed: &str, nodes: u32) -> String {
    let mut out = String::new();
    let out = &mut out;
    let mut sim = Simulation::new(seed, nodes).unwrap();
    sim.add_workload(3).unwrap();
    sim.advance(500.0).unwrap();
    doc(out, "report-off", sim.storage_report_json().unwrap());
    // The write sets as JSON (what the page stored before it received them
    // planned): the same state as enable_persistence and takeDurableWrites.
    doc(out, "enable", to_string(&sim.baseline_write_set()));
    doc(out, "report-unstored", sim.storage_report_json().unwrap());
    sim.baseline_stored();
    sim.set_cut(1, 2, true).unwrap();
    sim.crash(3).unwrap();
    sim.submit("put", "k\"\\\u{1}😀", Some("v\n".into()), None, Some(1))
        .ok();
    sim.set_network(1.5, 30.25, 0.1, 0.05, 0.9856906946328695)
        .unwrap();
    sim.set_timing(150.0, 300.5, 50.0).unwrap();
    sim.align_timers(0.5, 1.0).unwrap();
    for step in 0..20 {
        sim.advance(100.0).unwrap();
        if let Some(w) = sim.take_write_set(step % 5 == 0) {
            doc(out, "writes", to_string(&w));
        }
        if step % 3 == 0 {
            doc(out, "report", sim.storage_report_json().unwrap());
        }
        if step % 4 == 1 {
            sim.confirm_durable_js(Some(1e9)).unwrap();
        }
        if step == 10 {
            sim.restart(3).unwrap();
            sim.force_timeout(2).unwrap();
            sim.isolate(4).ok();
            sim.stale_read(2, "k").ok();
        }
    }
    sim.heal_all();
    sim.stop_workload();
    sim.advance(300.0).unwrap();
    doc(out, "meta", sim.persist_meta_json().unwrap());
    doc(out, "report-end", sim.storage_report_json().unwrap());
    doc(out, "view", sim.view_json(None, None).unwrap());
    doc(
        out,
        "view-limited",
        sim.view_json(Some(3), Some(1)).unwrap(),
    );
    doc(
        out,
        "narration",
        sim.narration_json(0.0, 1000, None).unwrap(),
    );
    doc(
        out,
        "narration-kinds",
        sim.narration_json(10.0, 5, Some("election,fault".into()))
            .unwrap(),
    );
    doc(out, "history", sim.history_json());
    let set = sim.baseline_write_set();
    let base = set.base.clone().unwrap();
    doc(out, "baseline", to_string(&base));
    doc(out, "meta-direct", to_string(&sim.meta()));
    doc(
        out,
        "loaded",
        to_string(&Loaded {
            meta: Some(sim.meta()),
            nodes: base.nodes.clone(),
            calls: base.calls.clone(),
        }),
    );
    doc(out, "loaded-empty", to_string(&Loaded::default()));
    doc(out, "writeset-default", to_string(&WriteSet::default()));
    doc(out, "node-storage", to_string(&sim.node_storage()));
    out.clone()
}

/// The run's documents hash as serde_json's did (rewritten since when the
/// simulation's behaviour, not the format, changed; the failure prints
/// every seed's hash, to rewrite them at once).
#[wasm_bindgen_test]
fn stored_records_are_written_as_before() {
    let runs = [("1", 5), ("18446744073709551615", 3)];
    let want = [0xfbda_da8f_70b3_7744_u64, 0x68de_f986_c778_32f9];
    let texts = runs.map(|(seed, nodes)| run(seed, nodes));
    let got = texts.each_ref().map(|t| fnv(t));
    let sizes = texts.each_ref().map(|t| t.len());
    assert_eq!(got, want, "now {got:#x?} ({sizes:?} bytes; seeds {runs:?})");
}

//! The durability rule with storage that completes later (IndexedDB in the
//! browser), modelled natively: nothing leaves a node, and no client call is
//! answered, before the state it depends on is durable (Raft Figure 2,
//! "persistent state ... updated on stable storage before responding to
//! RPCs"). A power loss keeps only what was confirmed.
mod common;
use common::*;
use raftlab::check::history::{Call, History};
use raftlab::kv::Op;
use raftlab::rng::Rng;
use raftlab::sim::client::Workload;
use raftlab::sim::{DurableRecord, SimConfig, Simulation};
use raftlab::storage::{Durable, MemStorage, Storage};
use std::collections::BTreeMap;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// With the barrier on and no write ever confirmed, no node can even ask
/// for a vote: its own vote for itself is not durable.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn nothing_leaves_before_it_is_durable() {
    let mut sim = cluster(71, 5);
    sim.set_async_durability(true);
    sim.run_for(2 * SEC);
    assert_eq!(
        sim.raft_messages_sent(),
        0,
        "a message left before its state was durable"
    );
    assert!(sim.held_messages() > 0);
    assert!(sim.leader().is_none() || sim.node_count() == 1);
    // Confirm everything as it comes: the cluster works normally.
    for _ in 0..200 {
        for w in sim.take_durable_writes() {
            sim.confirm_durable(w.id);
        }
        sim.run_for(10 * MS);
    }
    assert!(sim.leader().is_some());
    assert_safe(&sim);
}

/// A client answer waits for the leader's write: with confirmations delayed,
/// no call returns before the log entry it depends on is confirmed.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn answers_wait_for_storage() {
    let mut sim = cluster(72, 3);
    wait_leader(&mut sim, SEC);
    sim.set_async_durability(true);
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
        None,
    )
    .unwrap();
    sim.run_for(SEC);
    assert_eq!(
        sim.pending_calls(),
        1,
        "answered before anything was durable"
    );
    sim.set_async_durability(false); // carry on in memory: everything is released
    let ok = sim.run_until_pred(2 * SEC, |s| s.pending_calls() == 0);
    assert!(ok);
}

/// A model disk: applies confirmed writes only, as IndexedDB keeps only
/// committed transactions across a reload.
struct Disk {
    nodes: Vec<MemStorage<raftlab::kv::Command>>,
    calls: BTreeMap<u64, Call>,
    queue: Vec<raftlab::sim::DurableWrite>,
}

impl Disk {
    fn new(n: usize) -> Self {
        Disk {
            nodes: (0..n).map(|_| MemStorage::new()).collect(),
            calls: BTreeMap::new(),
            queue: Vec::new(),
        }
    }
    /// Take new writes; confirm those older than the last `lag` ones.
    fn sync(&mut self, sim: &mut Simulation, lag: usize) {
        self.queue.extend(sim.take_durable_writes());
        let n = self.queue.len().saturating_sub(lag);
        for w in self.queue.drain(..n) {
            // Each record as the page stores it: written and read back
            // through `raftlab::json`, unchanged.
            let text = raftlab::json::to_string(&w);
            let back: raftlab::sim::DurableWrite = raftlab::json::from_str(&text).expect("decode");
            assert_eq!(back, w, "{text}");
            match &w.record {
                DurableRecord::Node { node, batch } => {
                    self.nodes[node.idx()].write(batch).expect("disk write")
                }
                DurableRecord::Call(c) => {
                    self.calls.insert(c.id, c.clone());
                }
            }
            sim.confirm_durable(w.id);
        }
    }
    fn durables(&self) -> Vec<Durable<raftlab::kv::Command>> {
        self.nodes.iter().map(|s| s.load().expect("load")).collect()
    }
    fn history(&self) -> History {
        History {
            calls: self.calls.values().cloned().collect(),
        }
    }
}

/// Reload the whole cluster at 20 random moments while clients append:
/// every acknowledged append survives, the history stays linearizable and
/// no invariant breaks.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn power_loss_at_random_moments_loses_no_acknowledged_write() {
    for seed in 0..3u64 {
        let cfg = SimConfig {
            trace_keep: 0,
            track_flights: false,
            ..SimConfig::default()
        };
        let mut sim = Simulation::new(seed, cfg.clone()).unwrap();
        sim.set_async_durability(true);
        let mut disk = Disk::new(5);
        let mut rng = Rng::new(seed + 100);
        let w = Workload {
            keys: 3,
            think_max_us: 10 * MS,
            get_percent: 20,
        };
        sim.add_auto_clients(4, w.clone());
        let mut acked: Vec<Call> = Vec::new();
        for epoch in 1..=20u32 {
            let until = sim.now() + rng.range_inclusive(50 * MS, 1500 * MS);
            while sim.now() < until {
                sim.run_for(5 * MS);
                disk.sync(&mut sim, rng.index(6));
                assert_safe(&sim);
            }
            // What the clients saw answered, before the power goes.
            for c in &sim.history().calls {
                if c.outcome.is_some() && !acked.iter().any(|a| a.id == c.id) {
                    acked.push(c.clone());
                }
            }
            // Power loss: only confirmed writes survive.
            let now = sim.now();
            sim = Simulation::resume(
                seed,
                cfg.clone(),
                now,
                epoch,
                disk.durables(),
                disk.history(),
            )
            .unwrap();
            sim.set_async_durability(true);
            sim.add_auto_clients(4, w.clone());
        }
        sim.stop_auto_clients();
        // Keep the disk confirming while the last calls finish.
        let mut waited = 0;
        while !(sim.pending_calls() == 0 && sim.leader().is_some()) && waited < 2000 {
            sim.run_for(10 * MS);
            disk.sync(&mut sim, 0);
            waited += 1;
        }
        assert_eq!(
            sim.pending_calls(),
            0,
            "seed {seed}: calls pending after the last reload"
        );
        // Read every key through a client: these reads enter the history.
        sim.set_async_durability(false);
        for k in 0..w.keys {
            let c = sim.add_client();
            call(
                &mut sim,
                c,
                Op::Get {
                    key: format!("k{k}"),
                },
                5 * SEC,
            );
        }
        assert_safe(&sim);
        // The clients saw these answers; a reload may have lost the answer's
        // record but never the write itself. Put the answers back and check
        // the whole history, across 20 reloads, for linearizability: a lost
        // acknowledged write would make the final reads impossible.
        let mut h = sim.history().clone();
        for a in &acked {
            let stored = &mut h.calls[a.id as usize];
            assert_eq!(stored.op, a.op, "seed {seed}: call {} changed", a.id);
            stored.return_us = a.return_us;
            stored.outcome = a.outcome.clone();
        }
        if let Err(v) = raftlab::check::linearizability::check(&h) {
            panic!("seed {seed}: not linearizable after reloads: {v}");
        }
    }
}

/// Saved numbers come from outside (a stored record, a script): an epoch or
/// a clock out of range is refused with an error, never an overflow; the
/// largest allowed epoch still gives distinct client ids.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn resume_refuses_out_of_range_numbers() {
    use raftlab::sim::{MAX_EPOCH, MAX_TIME_US};
    let cfg = SimConfig {
        nodes: 3,
        ..SimConfig::default()
    };
    let disks = || -> Vec<Durable<raftlab::kv::Command>> {
        (0..3)
            .map(|_| Durable {
                hard_state: Default::default(),
                log: Vec::new(),
            })
            .collect()
    };
    let e = Simulation::resume(
        1,
        cfg.clone(),
        0,
        MAX_EPOCH + 1,
        disks(),
        History::default(),
    )
    .err()
    .expect("epoch out of range accepted");
    assert!(e.to_string().contains("epoch"), "{e}");
    let e = Simulation::resume(
        1,
        cfg.clone(),
        MAX_TIME_US + 1,
        1,
        disks(),
        History::default(),
    )
    .err()
    .expect("clock out of range accepted");
    assert!(e.to_string().contains("virtual time"), "{e}");
    // Timings from a stored record are bounded too (adding them to the
    // clock must not overflow).
    for bad in [
        SimConfig {
            client_timeout_us: u64::MAX,
            ..cfg.clone()
        },
        SimConfig {
            raft: raftlab::raft::Config {
                election_timeout_max_us: u64::MAX,
                ..cfg.raft.clone()
            },
            ..cfg.clone()
        },
    ] {
        let e = Simulation::resume(1, bad, 0, 1, disks(), History::default())
            .err()
            .expect("timing out of range accepted");
        assert!(e.to_string().contains("at most"), "{e}");
    }
    let mut sim =
        Simulation::resume(1, cfg, MAX_TIME_US, MAX_EPOCH, disks(), History::default()).unwrap();
    let a = sim.add_client();
    let b = sim.add_client();
    assert!(a != b && a.0 > MAX_EPOCH * 1000, "{a:?} {b:?}");
    sim.run_for(2 * SEC);
    assert!(
        sim.leader().is_some(),
        "no leader after resuming late in time"
    );
}

/// Retrying after a failed write re-bases the barrier on one write that
/// stores everything; until that write is confirmed nothing leaves, not
/// even what waited for the failed write (Raft Figure 2: nothing is sent
/// before the state it depends on is durable). Turning the barrier off and
/// on instead would let answers out that no storage holds.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_rebase_releases_nothing_before_it_is_stored() {
    let mut sim = cluster(73, 5);
    sim.set_async_durability(true);
    sim.add_auto_clients(3, Workload::default());
    for _ in 0..200 {
        for w in sim.take_durable_writes() {
            sim.confirm_durable(w.id);
        }
        sim.run_for(10 * MS);
    }
    assert!(sim.leader().is_some());
    // A write set fails: taken, never confirmed.
    sim.run_for(100 * MS);
    let failed = sim.take_durable_writes();
    assert!(!failed.is_empty());
    assert!(sim.held_messages() > 0);
    let answered = |s: &Simulation| {
        s.history()
            .calls
            .iter()
            .filter(|c| c.outcome.is_some())
            .count()
    };
    let (sent, done) = (sim.raft_messages_sent(), answered(&sim));
    // Retry: everything in one baseline write; nothing leaves until it is stored.
    sim.rebase_durability();
    assert!(
        sim.held_messages() > 0,
        "a rebase released what waited for the failed write"
    );
    sim.run_for(500 * MS);
    assert_eq!(
        sim.raft_messages_sent(),
        sent,
        "a message left before the baseline was stored"
    );
    assert_eq!(
        answered(&sim),
        done,
        "a call was answered before the baseline was stored"
    );
    // The baseline is stored; later writes are confirmed as they come.
    sim.confirm_baseline();
    for _ in 0..200 {
        for w in sim.take_durable_writes() {
            sim.confirm_durable(w.id);
        }
        sim.run_for(10 * MS);
    }
    assert!(sim.raft_messages_sent() > sent);
    assert!(
        answered(&sim) > done,
        "nothing was answered after the baseline"
    );
    assert!(sim.violation().is_none());
}

//! Persistence and crash recovery (Raft Figure 2 "persistent state",
//! §5.4.2 and Figure 8; 6.5840 3C tests). Crashes lose memory and keep
//! disk; restarts rebuild nodes from storage only.
mod common;
use common::*;
use raftlab::kv::{ClientId, Op};
use raftlab::raft::NodeId;
use raftlab::rng::Rng;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn crash_all(sim: &mut raftlab::sim::Simulation) {
    for n in sim.node_ids() {
        sim.crash(n).unwrap();
    }
}

fn restart_all(sim: &mut raftlab::sim::Simulation) {
    for n in sim.node_ids() {
        sim.restart(n).unwrap();
    }
}

/// Crash every node, restart them all: committed data survives, terms and
/// votes survive (no node forgets it voted), and the cluster goes on.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn persist_whole_cluster() {
    let mut sim = cluster(21, 3);
    wait_leader(&mut sim, SEC);
    put(&mut sim, "a", "11");
    let terms_before: Vec<_> = terms(&sim);
    crash_all(&mut sim);
    restart_all(&mut sim);
    for (n, t) in sim.node_ids().into_iter().zip(terms_before) {
        let r = sim.raft(n).unwrap();
        assert!(r.term() >= t, "{n} forgot its term");
        assert_eq!(r.commit_index().0, 0, "commit index must start over");
    }
    assert_eq!(get(&mut sim, "a"), Some("11".into()));
    put(&mut sim, "a", "12");
    let l = sim.leader().unwrap();
    sim.crash(l).unwrap();
    sim.restart(l).unwrap();
    put(&mut sim, "a", "13");
    wait_converged(&mut sim, 2 * SEC);
    assert_eq!(get(&mut sim, "a"), Some("13".into()));
    assert_linearizable(&sim);
}

/// 6.5840 TestPersist2: repeatedly crash the leader and a follower, write,
/// and bring them back; nothing committed is lost.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn persist_leader_and_follower_churn() {
    let mut sim = cluster(22, 5);
    let c = sim.add_client();
    let mut expect = String::new();
    for i in 0..5 {
        let tag = format!("[{i}a]");
        call(
            &mut sim,
            c,
            Op::Append {
                key: "k".into(),
                value: tag.clone(),
            },
            10 * SEC,
        );
        expect.push_str(&tag);
        let l = wait_leader(&mut sim, 2 * SEC);
        let f = NodeId::from_idx((l.idx() + 1) % 5);
        sim.crash(l).unwrap();
        sim.crash(f).unwrap();
        let tag = format!("[{i}b]");
        call(
            &mut sim,
            c,
            Op::Append {
                key: "k".into(),
                value: tag.clone(),
            },
            10 * SEC,
        );
        expect.push_str(&tag);
        sim.restart(l).unwrap();
        sim.restart(f).unwrap();
    }
    assert_eq!(get(&mut sim, "k"), Some(expect));
    wait_converged(&mut sim, 3 * SEC);
    assert_linearizable(&sim);
}

/// 6.5840 TestPersist3: a partitioned leader and a crashed-and-restarted
/// follower: the restarted follower remembers its vote and log.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn persist_partitioned_leader_and_restarted_follower() {
    let mut sim = cluster(23, 3);
    let l = wait_leader(&mut sim, SEC);
    put(&mut sim, "k", "101");
    let f1 = NodeId::from_idx((l.idx() + 1) % 3);
    let f2 = NodeId::from_idx((l.idx() + 2) % 3);
    sim.isolate(f2).unwrap();
    put(&mut sim, "k", "102");
    sim.crash(l).unwrap();
    sim.crash(f1).unwrap();
    sim.heal_all();
    sim.restart(f1).unwrap();
    // f1 and f2 form a majority; f1 must bring 102 (f2 lacks it, so f2 cannot win).
    let l2 = wait_leader(&mut sim, 3 * SEC);
    assert_eq!(l2, f1, "the node missing a committed entry won");
    put(&mut sim, "k", "103");
    sim.restart(l).unwrap();
    put(&mut sim, "k", "104");
    wait_converged(&mut sim, 3 * SEC);
    assert_eq!(get(&mut sim, "k"), Some("104".into()));
    assert_linearizable(&sim);
}

fn figure8(seed: u64, unreliable: bool) {
    // Raft §5.4.2 and Figure 8: leaders crash at random moments while
    // entries of older terms sit on a minority; a leader must never commit
    // them by counting replicas. The checker would report a State Machine
    // Safety or Leader Completeness violation.
    let mut sim = if unreliable {
        unreliable_cluster(seed, 5)
    } else {
        cluster(seed, 5)
    };
    let mut rng = Rng::new(seed ^ 0xF16);
    let clients: Vec<ClientId> = (0..3).map(|_| sim.add_client()).collect();
    let mut up = 5;
    for iter in 0..60 {
        for c in &clients {
            let idx = c.0 as usize - 1;
            if sim.clients()[idx].current.is_none() {
                let _ = sim.invoke(
                    *c,
                    Op::Append {
                        key: "f8".into(),
                        value: format!("[{}.{iter}]", c.0),
                    },
                    None,
                );
            }
        }
        let pause = if rng.chance(0.1) {
            rng.range_inclusive(0, 500 * MS)
        } else {
            rng.range_inclusive(0, 13 * MS)
        };
        sim.run_for(pause);
        assert_safe(&sim);
        if let Some(l) = sim.leader() {
            sim.crash(l).unwrap();
            up -= 1;
        }
        if up < 3 {
            let down: Vec<NodeId> = sim
                .node_ids()
                .into_iter()
                .filter(|n| !sim.is_up(*n))
                .collect();
            let n = down[rng.index(down.len())];
            sim.restart(n).unwrap();
            up += 1;
        }
    }
    for n in sim.node_ids() {
        sim.restart(n).unwrap();
    }
    sim.set_link_params(Default::default()).unwrap();
    let ok = sim.run_until_pred(30 * SEC, |s| s.pending_calls() == 0);
    assert!(ok, "seed {seed}: calls did not finish after recovery");
    wait_converged(&mut sim, 5 * SEC);
    assert_appends_once(&sim);
    assert_linearizable(&sim);
}

/// Figure 8 on a reliable network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn figure8_reliable() {
    for seed in 0..4 {
        figure8(seed, false);
    }
}

/// Figure 8 on a lossy, duplicating, reordering network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn figure8_unreliable() {
    for seed in 10..13 {
        figure8(seed, true);
    }
}

fn churn(seed: u64, unreliable: bool) {
    // 6.5840 TestReliableChurn/TestUnreliableChurn: nodes crash, restart and
    // get cut off at random while clients write.
    let mut sim = if unreliable {
        unreliable_cluster(seed, 5)
    } else {
        cluster(seed, 5)
    };
    let mut rng = Rng::new(seed ^ 0xC4);
    sim.add_auto_clients(
        4,
        raftlab::sim::client::Workload {
            keys: 3,
            think_max_us: 10 * MS,
            get_percent: 20,
        },
    );
    for _ in 0..20 {
        let n = NodeId::from_idx(rng.index(5));
        match rng.range_inclusive(0, 3) {
            0 => {
                let down = sim
                    .node_ids()
                    .into_iter()
                    .filter(|x| !sim.is_up(*x))
                    .count();
                if down < 2 {
                    sim.crash(n).unwrap();
                }
            }
            1 => sim.restart(n).unwrap(),
            2 => sim.isolate(n).unwrap(),
            _ => sim.heal_all(),
        }
        sim.run_for(rng.range_inclusive(50 * MS, 700 * MS));
        assert_safe(&sim);
    }
    sim.heal_all();
    for n in sim.node_ids() {
        sim.restart(n).unwrap();
    }
    sim.set_link_params(Default::default()).unwrap();
    sim.stop_auto_clients();
    let ok = sim.run_until_pred(30 * SEC, |s| s.pending_calls() == 0);
    assert!(ok, "seed {seed}: calls did not finish after churn");
    wait_converged(&mut sim, 5 * SEC);
    let done: u64 = sim.clients().iter().map(|c| c.completed).sum();
    assert!(
        done > 50,
        "seed {seed}: only {done} calls completed during churn"
    );
    assert_appends_once(&sim);
    assert_linearizable(&sim);
}

/// Churn on a reliable network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn reliable_churn() {
    for seed in 0..3 {
        churn(seed, false);
    }
}

/// Churn on an unreliable network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unreliable_churn() {
    for seed in 0..3 {
        churn(seed, true);
    }
}

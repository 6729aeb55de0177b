//! Log replication and the commit rule (Raft §5.3, §5.4; 6.5840 3B tests).
mod common;
use common::*;
use raftlab::kv::{ClientId, Op};
use raftlab::raft::{LogIndex, NodeId};
use raftlab::sim::trace::MsgKind;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Raft §5.3: commands are committed and applied by every node, in order.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn basic_agreement() {
    let mut sim = cluster(1, 5);
    wait_leader(&mut sim, SEC);
    for i in 0..3 {
        put(&mut sim, "k", &i.to_string());
        let idx = max_last_index(&sim);
        let ok = sim.run_until_pred(SEC, |s| applied_count(s, idx) == 5);
        assert!(ok, "entry {idx} not applied on all 5 nodes");
    }
    wait_converged(&mut sim, SEC);
    assert_eq!(get(&mut sim, "k"), Some("2".into()));
}

/// A crashed follower does not stop agreement; two more do.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn follower_failure() {
    let mut sim = cluster(2, 3);
    let leader = wait_leader(&mut sim, SEC);
    put(&mut sim, "a", "1");
    let followers: Vec<NodeId> = sim
        .node_ids()
        .into_iter()
        .filter(|n| *n != leader)
        .collect();
    sim.crash(followers[0]).unwrap();
    put(&mut sim, "a", "2");
    sim.crash(followers[1]).unwrap();
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Put {
            key: "a".into(),
            value: "3".into(),
        },
        Some(leader),
    )
    .unwrap();
    sim.run_for(3 * SEC);
    assert!(
        sim.clients()[c.0 as usize - 1].current.is_some(),
        "a write completed with 1 of 3 nodes"
    );
    let leader_raft = sim.raft(leader).unwrap();
    assert!(leader_raft.commit_index() < leader_raft.last_index());
    assert_safe(&sim);
}

/// The leader crashes; a new one takes over and agreement goes on.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn leader_failure() {
    let mut sim = cluster(3, 3);
    let l1 = wait_leader(&mut sim, SEC);
    put(&mut sim, "a", "1");
    sim.crash(l1).unwrap();
    let l2 = wait_leader(&mut sim, 2 * SEC);
    assert_ne!(l1, l2);
    put(&mut sim, "a", "2");
    sim.crash(l2).unwrap();
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Put {
            key: "a".into(),
            value: "3".into(),
        },
        None,
    )
    .unwrap();
    sim.run_for(3 * SEC);
    assert!(
        sim.clients()[c.0 as usize - 1].current.is_some(),
        "a write completed with 1 of 3 nodes"
    );
    assert_safe(&sim);
}

/// Raft §5.3: no entry commits without a majority; once the majority is back,
/// the cluster commits again.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn no_commit_without_majority() {
    let mut sim = cluster(4, 5);
    let leader = wait_leader(&mut sim, SEC);
    put(&mut sim, "a", "1");
    let followers: Vec<NodeId> = sim
        .node_ids()
        .into_iter()
        .filter(|n| *n != leader)
        .collect();
    for f in &followers[..3] {
        sim.isolate(*f).unwrap();
    }
    let before = sim.raft(leader).unwrap().commit_index();
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Put {
            key: "a".into(),
            value: "2".into(),
        },
        Some(leader),
    )
    .unwrap();
    sim.run_for(2 * SEC);
    let lr = sim.raft(leader).unwrap();
    assert_eq!(lr.commit_index(), before, "committed without a majority");
    assert!(
        lr.last_index() > before,
        "leader did not append the proposal"
    );
    sim.heal_all();
    let done = sim.run_until_pred(5 * SEC, |s| s.clients()[c.0 as usize - 1].current.is_none());
    assert!(done, "the write did not complete after healing");
    wait_converged(&mut sim, 2 * SEC);
    assert_eq!(get(&mut sim, "a"), Some("2".into()));
}

/// Many clients propose at once; every command commits exactly once.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn concurrent_proposals() {
    let mut sim = cluster(5, 3);
    wait_leader(&mut sim, SEC);
    let clients: Vec<ClientId> = (0..10).map(|_| sim.add_client()).collect();
    for (i, c) in clients.iter().enumerate() {
        sim.invoke(
            *c,
            Op::Append {
                key: "log".into(),
                value: format!("[{i}]"),
            },
            None,
        )
        .unwrap();
    }
    let ok = sim.run_until_pred(5 * SEC, |s| s.pending_calls() == 0);
    assert!(ok, "concurrent appends did not all finish");
    wait_converged(&mut sim, SEC);
    let v = get(&mut sim, "log").unwrap();
    for i in 0..10 {
        assert_eq!(v.matches(&format!("[{i}]")).count(), 1, "append {i} in {v}");
    }
}

/// 6.5840 TestRejoin: a partitioned leader takes proposals it cannot
/// commit; a new leader commits others; the old leader rejoins and its
/// uncommitted entries are replaced (Raft §5.3).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rejoin_of_partitioned_leader() {
    let mut sim = cluster(6, 3);
    let l1 = wait_leader(&mut sim, SEC);
    put(&mut sim, "a", "101");
    sim.isolate(l1).unwrap();
    // The old leader appends entries that will never commit.
    for v in ["102", "103", "104"] {
        let c = sim.add_client();
        sim.invoke(
            c,
            Op::Put {
                key: "a".into(),
                value: v.into(),
            },
            Some(l1),
        )
        .unwrap();
        sim.run_for(MS);
    }
    sim.run_for(50 * MS);
    let old_last = sim.raft(l1).unwrap().last_index();
    let ok = sim.run_until_pred(2 * SEC, |s| s.leaders().iter().any(|(n, _)| *n != l1));
    assert!(ok);
    let l2 = sim.leaders().into_iter().find(|(n, _)| *n != l1).unwrap().0;
    put(&mut sim, "a", "103b");
    // l2 is cut off; l1 comes back with the third node. l1's log is longer
    // but older, so the third node must win (Raft §5.4.1).
    sim.heal_all();
    sim.isolate(l2).unwrap();
    let t2 = sim.raft(l2).unwrap().term();
    let ok = sim.run_until_pred(5 * SEC, |s| s.leaders().iter().any(|(_, t)| *t > t2));
    assert!(ok, "no leader among l1 and the third node");
    let l3 = sim.leaders().into_iter().find(|(_, t)| *t > t2).unwrap().0;
    assert_ne!(l3, l1, "a leader with a stale log won the election");
    sim.heal_all();
    wait_converged(&mut sim, 5 * SEC);
    assert!(old_last >= LogIndex(4));
    let v = get(&mut sim, "a").unwrap();
    assert!(["103b", "102", "103", "104"].contains(&v.as_str()));
    assert_linearizable(&sim);
}

/// 6.5840 TestBackup: followers with 50 divergent uncommitted entries are
/// brought in line quickly thanks to conflict-term hints (Raft §5.3).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn fast_backup_over_divergent_logs() {
    let mut sim = cluster(7, 5);
    let l1 = wait_leader(&mut sim, SEC);
    put(&mut sim, "x", "0");
    let ids = sim.node_ids();
    let others: Vec<NodeId> = ids.iter().copied().filter(|n| *n != l1).collect();
    // l1 and one follower in the minority; they take 50 entries that cannot commit.
    let minority = [l1, others[0]];
    let majority = [others[1], others[2], others[3]];
    sim.partition(&[minority.to_vec(), majority.to_vec()])
        .unwrap();
    let mut clients = Vec::new();
    for i in 0..50 {
        let c = sim.add_client();
        for m in majority {
            sim.set_client_cut(c, m, true).unwrap();
        }
        sim.invoke(
            c,
            Op::Put {
                key: "x".into(),
                value: format!("m{i}"),
            },
            Some(l1),
        )
        .unwrap();
        clients.push(c);
    }
    sim.run_for(200 * MS);
    let minority_last = sim.raft(l1).unwrap().last_index();
    assert!(minority_last.0 >= 50);
    // The majority elects its own leader and commits 50 other entries.
    for i in 0..50 {
        let c = sim.add_client();
        for m in minority {
            sim.set_client_cut(c, m, true).unwrap();
        }
        let r = call(
            &mut sim,
            c,
            Op::Put {
                key: "x".into(),
                value: format!("M{i}"),
            },
            5 * SEC,
        );
        assert_eq!(r, raftlab::kv::OpResult::Ok);
    }
    // Heal: the minority's 50 entries must be replaced, with few messages.
    let appends_before = sim
        .rpc_counts()
        .get(&MsgKind::AppendEntries)
        .copied()
        .unwrap_or(0)
        + sim
            .rpc_counts()
            .get(&MsgKind::Heartbeat)
            .copied()
            .unwrap_or(0);
    let t0 = sim.now();
    sim.heal_all();
    for c in &clients {
        for m in majority {
            sim.set_client_cut(*c, m, false).unwrap();
        }
    }
    let target = sim.raft(sim.leader().unwrap()).unwrap().last_index();
    let ok = sim.run_until_pred(3 * SEC, |s| {
        minority.iter().all(|n| {
            s.raft(*n)
                .map(|r| r.commit_index() >= target)
                .unwrap_or(false)
        })
    });
    assert!(ok, "minority did not catch up");
    let elapsed = sim.now() - t0;
    let appends = sim
        .rpc_counts()
        .get(&MsgKind::AppendEntries)
        .copied()
        .unwrap_or(0)
        + sim
            .rpc_counts()
            .get(&MsgKind::Heartbeat)
            .copied()
            .unwrap_or(0)
        - appends_before;
    // One entry at a time would need ~50 round trips per follower.
    assert!(elapsed < 600 * MS, "catch-up took {} ms", elapsed / MS);
    assert!(appends < 200, "catch-up used {appends} AppendEntries");
    wait_converged(&mut sim, 5 * SEC);
    assert_linearizable(&sim);
}

/// Raft §5.3 on a lossy, duplicating, reordering network: agreement still
/// happens and logs converge.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unreliable_agreement() {
    let mut sim = unreliable_cluster(8, 5);
    wait_leader(&mut sim, 3 * SEC);
    let clients: Vec<ClientId> = (0..5).map(|_| sim.add_client()).collect();
    for round in 0..10 {
        for c in &clients {
            sim.invoke(
                *c,
                Op::Append {
                    key: format!("k{}", c.0 % 2),
                    value: format!("[{}.{round}]", c.0),
                },
                None,
            )
            .unwrap();
        }
        let ok = sim.run_until_pred(20 * SEC, |s| s.pending_calls() == 0);
        assert!(ok, "round {round} did not finish");
    }
    sim.set_link_params(Default::default()).unwrap();
    wait_converged(&mut sim, 5 * SEC);
    assert_appends_once(&sim);
    assert_linearizable(&sim);
}

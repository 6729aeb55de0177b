//! Leader election scenarios (Raft §5.2, modelled on MIT 6.5840's 3A tests).
mod common;
use common::*;
use raftlab::raft::{NodeId, Role};
use raftlab::sim::trace::MsgKind;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Raft §5.2: a leader is elected, all nodes agree on its term, and with no
/// failures the term stays put.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn initial_election() {
    for seed in 0..5 {
        let mut sim = cluster(seed, 5);
        let leader = wait_leader(&mut sim, SEC);
        sim.run_for(100 * MS);
        let t = sim.raft(leader).expect("up").term();
        assert!(
            terms(&sim).iter().all(|x| *x == t),
            "seed {seed}: terms differ: {:?}",
            terms(&sim)
        );
        sim.run_for(2 * SEC);
        assert_eq!(
            sim.leader(),
            Some(leader),
            "seed {seed}: leader changed with no failures"
        );
        assert!(
            terms(&sim).iter().all(|x| *x == t),
            "seed {seed}: term changed with no failures"
        );
        assert_safe(&sim);
    }
}

/// Raft §5.2: a new leader is elected when the old one is cut off; without a
/// majority no leader is elected; when the majority returns one is.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn re_election() {
    for seed in 0..5 {
        let mut sim = cluster(seed, 3);
        let l1 = wait_leader(&mut sim, SEC);
        sim.isolate(l1).unwrap();
        // Two voters split the vote whenever their timers fire within a
        // message latency of each other; allow a few rounds.
        let ok = sim.run_until_pred(3 * SEC, |s| s.leaders().iter().any(|(n, _)| *n != l1));
        assert!(ok, "seed {seed}: no new leader after isolating {l1}");
        // The old leader rejoins: it must step down, one leader remains.
        sim.heal_all();
        sim.run_for(SEC);
        assert_eq!(sim.leaders().len(), 1, "seed {seed}: {:?}", sim.leaders());
        // No majority: no leader.
        let l2 = sim.leader().unwrap();
        let other = sim.node_ids().into_iter().find(|n| *n != l2).unwrap();
        sim.isolate(l2).unwrap();
        sim.isolate(other).unwrap();
        sim.run_for(2 * SEC);
        let leaders_with_majority = sim.leaders().iter().filter(|(n, _)| *n != l2).count();
        assert_eq!(
            leaders_with_majority, 0,
            "seed {seed}: a leader was elected without a majority"
        );
        // Majority back: a leader.
        sim.heal_all();
        wait_leader(&mut sim, 2 * SEC);
        sim.run_for(SEC);
        assert_eq!(sim.leaders().len(), 1);
        assert_safe(&sim);
    }
}

/// Many elections among 7 nodes with 3 random nodes cut off each round:
/// there is always a leader and never two in one term (Election Safety).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn many_elections() {
    let mut sim = cluster(11, 7);
    wait_leader(&mut sim, SEC);
    let mut rng = raftlab::rng::Rng::new(99);
    for _ in 0..10 {
        sim.heal_all();
        let mut cut = Vec::new();
        while cut.len() < 3 {
            let n = NodeId::from_idx(rng.index(7));
            if !cut.contains(&n) {
                cut.push(n);
            }
        }
        for n in &cut {
            sim.isolate(*n).unwrap();
        }
        let ok = sim.run_until_pred(2 * SEC, |s| {
            s.leaders().iter().any(|(n, _)| !cut.contains(n))
        });
        assert!(ok, "no leader among the 4 connected nodes");
        check_one_leader_per_term(&sim);
    }
    sim.heal_all();
    wait_leader(&mut sim, 2 * SEC);
    assert_safe(&sim);
}

/// With all election timers aligned, candidates split the vote; randomized
/// timeouts (redrawn at every reset) still produce a leader (Raft §5.2).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn split_vote_resolves() {
    let mut splits = 0;
    for seed in 0..10 {
        let mut sim = cluster(seed, 5);
        sim.align_timers(0, 0);
        sim.run_for(40 * MS);
        let candidates = sim
            .node_ids()
            .into_iter()
            .filter(|n| sim.raft(*n).unwrap().role() == Role::Candidate)
            .count();
        if candidates >= 2 {
            splits += 1;
        }
        wait_leader(&mut sim, 3 * SEC);
        assert_safe(&sim);
    }
    assert!(
        splits >= 5,
        "aligned timers produced a split vote in only {splits}/10 runs"
    );
}

/// An election costs few messages, and an idle leader sends one heartbeat
/// per follower per interval (6.5840's RPC count test).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_counts() {
    let mut sim = cluster(3, 3);
    wait_leader(&mut sim, SEC);
    let votes = sim
        .rpc_counts()
        .get(&MsgKind::RequestVote)
        .copied()
        .unwrap_or(0);
    assert!(votes <= 12, "election took {votes} RequestVotes");
    sim.run_for(SEC);
    let before = sim.raft_messages_sent();
    sim.run_for(SEC);
    let idle = sim.raft_messages_sent() - before;
    // 2 followers × 20 heartbeats × (request + reply) = 80.
    assert!(
        (70..=90).contains(&idle),
        "an idle second cost {idle} messages"
    );
}

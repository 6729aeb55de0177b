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

/// Raft §5.4 (Leader Completeness binds leaders of *later* terms): with
/// votes delayed, a candidate of an older term can win it after a leader of
/// a newer term committed an entry it lacks. That is safe (the stale leader
/// can commit nothing: its followers moved on) and the checker must not
/// flag it. Fuzz seed 101077 (3 nodes, 6 clients, 1 key, 20 s) once did:
/// "S2 became leader of term 9 without the entry committed at index 117".
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn late_win_of_an_older_term_is_not_a_violation() {
    use raftlab::sim::fuzz::{fuzz_one, FuzzOptions};
    let opts = FuzzOptions {
        nodes: 3,
        clients: 6,
        keys: 1,
        duration_us: 20 * SEC,
        ..FuzzOptions::default()
    };
    let o = fuzz_one(101077, &opts);
    assert!(o.failure.is_none(), "{:?}", o.failure);
}

/// The same, step by step with real nodes: S2 asks for term 9 and S1's
/// grant is held back; S3 wins term 10 with S1 and commits its no-op; then
/// the held vote reaches S2, which wins term 9 without that entry.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn held_back_vote_elects_a_stale_leader_safely() {
    use raftlab::check::invariants::InvariantChecker;
    use raftlab::raft::{Config, HardState, LogIndex, Message, NodeEvent, RaftNode, Rpc, Term};
    type N = RaftNode<u32>;
    let t = 10 * SEC;
    let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
    let mut ck = InvariantChecker::new(3);
    // Persist what a node wrote (into the checker) and hand back its
    // messages and the terms it won.
    let drain = |n: &mut N, ck: &mut InvariantChecker| {
        let r = n.take_ready();
        if let Some(w) = &r.log_write {
            ck.on_log_write(n.id(), w).expect("log matching");
        }
        let won: Vec<Term> = r
            .events
            .iter()
            .filter_map(|e| match e {
                NodeEvent::BecameLeader { term, .. } => Some(*term),
                _ => None,
            })
            .collect();
        (r.messages, won)
    };
    let to = |m: Vec<Message<u32>>, id: u32| m.into_iter().find(|m| m.to == NodeId(id));
    let hs = |term| HardState {
        current_term: Term(term),
        voted_for: None,
    };
    let node = |id, term| -> N {
        RaftNode::restore(
            NodeId(id),
            ids.clone(),
            Config::default(),
            u64::from(id),
            0,
            hs(term),
            vec![],
        )
    };
    let (mut s1, mut s2, mut s3) = (node(1, 2), node(2, 8), node(3, 9));

    // S2 starts term 9; S1 grants, and the grant is held back.
    s2.force_election_timeout(t);
    let (m, _) = drain(&mut s2, &mut ck);
    s1.handle_message(t, to(m, 1).expect("vote request to S1"));
    let (m, _) = drain(&mut s1, &mut ck);
    let held = m
        .into_iter()
        .find(|m| matches!(m.rpc, Rpc::RequestVoteReply { granted: true, .. }))
        .expect("S1 grants term 9");
    // S3 starts term 10 and wins with S1's vote.
    s3.force_election_timeout(t);
    let (m, _) = drain(&mut s3, &mut ck);
    s1.handle_message(t, to(m, 1).expect("vote request to S1"));
    let (m, _) = drain(&mut s1, &mut ck);
    s3.handle_message(t, to(m, 3).expect("vote for S3"));
    let (m, won) = drain(&mut s3, &mut ck);
    assert_eq!(won, vec![Term(10)]);
    ck.on_leader(NodeId(3), Term(10)).expect("S3 is complete");
    // S3's no-op reaches S1; S1's answer commits it.
    s1.handle_message(t, to(m, 1).expect("no-op to S1"));
    let (m, _) = drain(&mut s1, &mut ck);
    s3.handle_message(t, to(m, 3).expect("answer to S3"));
    drain(&mut s3, &mut ck);
    assert_eq!(s3.commit_index(), LogIndex(1));
    ck.on_commit(NodeId(3), s3.commit_index(), s3.term())
        .expect("commit");
    // The held vote reaches S2, still a candidate in term 9: it wins.
    s2.handle_message(t, held);
    let (m, won) = drain(&mut s2, &mut ck);
    assert_eq!(won, vec![Term(9)]);
    ck.on_leader(NodeId(2), Term(9))
        .expect("entry 1 was committed in term 10: a term-9 leader may lack it");
    // Its AppendEntries are refused by the newer term: S2 commits nothing.
    s1.handle_message(t, to(m, 1).expect("S2's no-op to S1"));
    let (m, _) = drain(&mut s1, &mut ck);
    s2.handle_message(t, to(m, 2).expect("S1's refusal"));
    drain(&mut s2, &mut ck);
    assert_eq!(s2.commit_index(), LogIndex(0));
    assert!(s2.term() >= Term(10), "S2 stepped up to the newer term");
}

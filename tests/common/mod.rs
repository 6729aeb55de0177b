//! Helpers shared by the scenario tests (in the spirit of MIT 6.5840's
//! `config.go`): build a cluster, wait for a leader, run one command to
//! completion, and check the whole run at the end.
#![allow(dead_code)]

use raftlab::check::linearizability;
use raftlab::kv::{ClientId, Op, OpResult};
use raftlab::raft::{LogIndex, NodeId, Role, Term};
use raftlab::sim::network::LinkParams;
use raftlab::sim::{SimConfig, Simulation};

/// One virtual second in µs.
pub const SEC: u64 = 1_000_000;
/// One virtual millisecond in µs.
pub const MS: u64 = 1_000;

/// A cluster of `n` nodes with the default (watchable) timing.
pub fn cluster(seed: u64, n: usize) -> Simulation {
    let cfg = SimConfig {
        nodes: n,
        trace_keep: 100_000,
        track_flights: false,
        ..SimConfig::default()
    };
    Simulation::new(seed, cfg).expect("valid config")
}

/// A cluster on an unreliable network: 10% loss, 5% duplication,
/// 10% reordering, 1–40 ms latency.
pub fn unreliable_cluster(seed: u64, n: usize) -> Simulation {
    let mut s = cluster(seed, n);
    s.set_link_params(LinkParams {
        latency_min_us: MS,
        latency_max_us: 40 * MS,
        loss: 0.1,
        duplicate: 0.05,
        reorder: 0.1,
    })
    .expect("valid link");
    s
}

/// Fail the test with the run's violation, if any.
pub fn assert_safe(sim: &Simulation) {
    if let Some(v) = sim.violation() {
        panic!("seed {}: {v}", sim.seed());
    }
}

/// Wait up to `limit` µs for exactly one leader among the nodes that are
/// up and connected; returns it.
pub fn wait_leader(sim: &mut Simulation, limit: u64) -> NodeId {
    let ok = sim.run_until_pred(limit, |s| s.leader().is_some());
    assert_safe(sim);
    assert!(
        ok,
        "seed {}: no leader within {} ms",
        sim.seed(),
        limit / MS
    );
    sim.leader().expect("leader")
}

/// Leaders by term among running nodes; at most one per term.
pub fn check_one_leader_per_term(sim: &Simulation) {
    let mut seen: Vec<(Term, NodeId)> = Vec::new();
    for (n, t) in sim.leaders() {
        if let Some((_, other)) = seen.iter().find(|(tt, _)| *tt == t) {
            panic!("seed {}: {n} and {other} both lead term {t}", sim.seed());
        }
        seen.push((t, n));
    }
}

/// Terms of all running nodes.
pub fn terms(sim: &Simulation) -> Vec<Term> {
    sim.node_ids()
        .into_iter()
        .filter_map(|n| sim.raft(n).map(|r| r.term()))
        .collect()
}

/// Run `op` through `client` until it returns; returns the result.
pub fn call(sim: &mut Simulation, client: ClientId, op: Op, limit: u64) -> OpResult {
    let seq = sim.invoke(client, op.clone(), None).expect("invoke");
    let done = sim.run_until_pred(limit, |s| {
        s.client(client)
            .map(|c| c.current.is_none())
            .unwrap_or(true)
    });
    assert_safe(sim);
    assert!(
        done,
        "seed {}: {client} #{seq} ({op}) did not finish within {} ms",
        sim.seed(),
        limit / MS
    );
    let call = sim
        .history()
        .calls
        .iter()
        .rev()
        .find(|c| c.client == client)
        .expect("call in history");
    call.outcome.clone().expect("outcome")
}

/// Put through a new client and wait for it.
pub fn put(sim: &mut Simulation, key: &str, value: &str) {
    let c = sim.add_client();
    let r = call(
        sim,
        c,
        Op::Put {
            key: key.into(),
            value: value.into(),
        },
        10 * SEC,
    );
    assert_eq!(r, OpResult::Ok);
}

/// Get through a new client and wait for it.
pub fn get(sim: &mut Simulation, key: &str) -> Option<String> {
    let c = sim.add_client();
    match call(sim, c, Op::Get { key: key.into() }, 10 * SEC) {
        OpResult::Value { value } => value,
        other => panic!("get returned {other:?}"),
    }
}

/// How many running nodes have applied `index`.
pub fn applied_count(sim: &Simulation, index: LogIndex) -> usize {
    sim.node_ids()
        .into_iter()
        .filter(|n| {
            sim.raft(*n)
                .map(|r| r.applied_index() >= index)
                .unwrap_or(false)
        })
        .count()
}

/// Highest log index among running nodes.
pub fn max_last_index(sim: &Simulation) -> LogIndex {
    sim.node_ids()
        .into_iter()
        .filter_map(|n| sim.raft(n).map(|r| r.last_index()))
        .max()
        .unwrap_or_default()
}

/// Wait until every running node has applied everything the leader has
/// committed, and check they hold the same data.
pub fn wait_converged(sim: &mut Simulation, limit: u64) {
    let ok = sim.run_until_pred(limit, |s| {
        let Some(l) = s.leader() else { return false };
        let Some(lr) = s.raft(l) else { return false };
        let c = lr.commit_index();
        c == lr.last_index()
            && s.node_ids()
                .into_iter()
                .filter_map(|n| s.raft(n))
                .all(|r| r.applied_index() == c && r.role() != Role::Candidate)
    });
    assert_safe(sim);
    assert!(
        ok,
        "seed {}: cluster did not converge within {} ms",
        sim.seed(),
        limit / MS
    );
    let ids = sim.node_ids();
    let first = ids
        .iter()
        .find_map(|n| sim.server(*n))
        .map(|s| s.kv.data().clone())
        .expect("a node up");
    for n in ids {
        if let Some(s) = sim.server(n) {
            assert_eq!(
                s.kv.data(),
                &first,
                "seed {}: {n} applied different data",
                sim.seed()
            );
        }
    }
}

/// Check the clients' history is linearizable.
pub fn assert_linearizable(sim: &Simulation) {
    if let Err(v) = linearizability::check(sim.history()) {
        panic!("seed {}: history not linearizable: {v}", sim.seed());
    }
}

/// Every appended tag appears at most once in the final values
/// (exactly-once, dissertation §6.3).
pub fn assert_appends_once(sim: &Simulation) {
    let Some(s) = sim.node_ids().into_iter().find_map(|n| sim.server(n)) else {
        return;
    };
    for (k, v) in s.kv.data() {
        let mut tags: Vec<&str> = v.split('[').filter(|t| !t.is_empty()).collect();
        let n = tags.len();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(
            tags.len(),
            n,
            "seed {}: key {k} holds a duplicated append: {v}",
            sim.seed()
        );
    }
}

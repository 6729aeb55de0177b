//! The replicated key-value store (dissertation ch. 6; modelled on MIT
//! 6.5840's KV tests): exactly-once sessions (§6.3), linearizable reads
//! through ReadIndex (§6.4), redirects to the leader, and linearizability of
//! every history under faults.
mod common;
use common::*;
use raftlab::kv::{ClientId, KvError, Op, OpResult, MAX_KEY_LEN, MAX_VALUE_LEN};
use raftlab::raft::NodeId;
use raftlab::rng::Rng;
use raftlab::sim::client::Workload;
use raftlab::sim::trace::TraceEvent;
use raftlab::sim::view::{VIEW_KV_LIMIT, VIEW_LOG_LIMIT};
use raftlab::sim::{SimError, Simulation};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Every operation does what it says, through the leader.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn basic() {
    let mut sim = cluster(31, 5);
    wait_leader(&mut sim, SEC);
    let c = sim.add_client();
    let mut run = |op: Op| call(&mut sim, c, op, 5 * SEC);
    assert_eq!(
        run(Op::Get { key: "a".into() }),
        OpResult::Value { value: None }
    );
    assert_eq!(
        run(Op::Put {
            key: "a".into(),
            value: "1".into()
        }),
        OpResult::Ok
    );
    assert_eq!(
        run(Op::Append {
            key: "a".into(),
            value: "2".into()
        }),
        OpResult::Ok
    );
    assert_eq!(
        run(Op::Get { key: "a".into() }),
        OpResult::Value {
            value: Some("12".into())
        }
    );
    assert_eq!(
        run(Op::Cas {
            key: "a".into(),
            expected: Some("1".into()),
            value: "x".into()
        }),
        OpResult::Cas {
            ok: false,
            current: Some("12".into())
        }
    );
    assert_eq!(
        run(Op::Cas {
            key: "a".into(),
            expected: Some("12".into()),
            value: "x".into()
        }),
        OpResult::Cas {
            ok: true,
            current: Some("12".into())
        }
    );
    assert_eq!(
        run(Op::Cas {
            key: "b".into(),
            expected: None,
            value: "new".into()
        }),
        OpResult::Cas {
            ok: true,
            current: None
        }
    );
    assert_eq!(
        run(Op::Delete { key: "a".into() }),
        OpResult::Deleted { existed: true }
    );
    assert_eq!(
        run(Op::Get { key: "a".into() }),
        OpResult::Value { value: None }
    );
    assert_eq!(
        run(Op::Get { key: "b".into() }),
        OpResult::Value {
            value: Some("new".into())
        }
    );
    assert_linearizable(&sim);
}

/// A client sent to a follower is redirected to the leader with a hint.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn redirect_to_leader() {
    let mut sim = cluster(32, 5);
    let leader = wait_leader(&mut sim, SEC);
    sim.run_for(100 * MS);
    let follower = sim.node_ids().into_iter().find(|n| *n != leader).unwrap();
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
        Some(follower),
    )
    .unwrap();
    sim.run_until_pred(SEC, |s| s.pending_calls() == 0);
    let redirected = sim.trace().events().any(|e| {
        matches!(&e.event, TraceEvent::ClientRedirect { from, leader_hint: Some(h), .. } if *from == follower && *h == leader)
    });
    assert!(redirected, "no redirect from {follower} to {leader}");
}

/// Bad input is refused before it reaches the log, with a clear error.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bad_commands_are_rejected() {
    let mut sim = cluster(33, 3);
    wait_leader(&mut sim, SEC);
    let c = sim.add_client();
    let before = max_last_index(&sim);
    let e = sim
        .invoke(
            c,
            Op::Put {
                key: String::new(),
                value: "v".into(),
            },
            None,
        )
        .unwrap_err();
    assert_eq!(e, SimError::Invalid(KvError::EmptyKey));
    assert_eq!(e.to_string(), "the key is empty");
    let e = sim
        .invoke(
            c,
            Op::Put {
                key: "k".repeat(MAX_KEY_LEN + 1),
                value: "v".into(),
            },
            None,
        )
        .unwrap_err();
    assert!(matches!(e, SimError::Invalid(KvError::KeyTooLong { .. })));
    let e = sim
        .invoke(
            c,
            Op::Append {
                key: "k".into(),
                value: "v".repeat(MAX_VALUE_LEN + 1),
            },
            None,
        )
        .unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    let e = sim.stale_read(c, NodeId(9), "k".into()).unwrap_err();
    assert_eq!(e, SimError::NoSuchNode(9));
    // Node ids start at 1: S0 names no node (it must not act on S1).
    for id in [0, 6] {
        assert_eq!(sim.crash(NodeId(id)), Err(SimError::NoSuchNode(id)));
        assert_eq!(sim.restart(NodeId(id)), Err(SimError::NoSuchNode(id)));
        assert_eq!(sim.force_timeout(NodeId(id)), Err(SimError::NoSuchNode(id)));
    }
    assert!(
        sim.view().nodes.iter().all(|n| n.up),
        "a bad node id touched a node"
    );
    sim.run_for(SEC);
    assert_eq!(
        max_last_index(&sim),
        before,
        "a rejected command reached the log"
    );
    assert!(sim.history().calls.is_empty());
    // Largest allowed sizes work.
    put(
        &mut sim,
        &"k".repeat(MAX_KEY_LEN),
        &"v".repeat(MAX_VALUE_LEN),
    );
}

/// Dissertation §6.3: a command whose answer is lost is retried with the
/// same sequence number and takes effect once. Here the retry reaches a
/// server that has already applied the first copy, which answers it from
/// the client's session without a second log entry; a duplicate that does
/// reach the log is skipped by the state machine
/// (`kv::tests::duplicate_append_applies_once`, and the runs on a lossy,
/// duplicating network, whose histories must stay linearizable).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn retried_append_applies_once() {
    let mut sim = cluster(34, 3);
    let leader = wait_leader(&mut sim, SEC);
    let c = sim.add_client();
    sim.invoke(
        c,
        Op::Append {
            key: "k".into(),
            value: "[x]".into(),
        },
        Some(leader),
    )
    .unwrap();
    // Let the request arrive, then cut the answer's way back: the client
    // times out and retries elsewhere.
    sim.run_for(35 * MS);
    sim.set_client_cut(c, leader, true).unwrap();
    let timed_out = |s: &Simulation| {
        s.trace()
            .events()
            .any(|e| matches!(e.event, TraceEvent::ClientTimeout { .. }))
    };
    assert!(
        sim.run_until_pred(2 * SEC, timed_out),
        "the client never timed out"
    );
    sim.set_client_cut(c, leader, false).unwrap();
    let done = sim.run_until_pred(10 * SEC, |s| s.pending_calls() == 0);
    assert!(done);
    let applied = sim
        .trace()
        .events()
        .filter(|e| matches!(&e.event, TraceEvent::Applied { node, what, .. } if *node == leader && what.contains("[x]") && !what.contains("duplicate")))
        .count();
    assert_eq!(
        applied, 1,
        "the append was applied {applied} times by the leader"
    );
    assert_eq!(get(&mut sim, "k"), Some("[x]".into()));
    assert_linearizable(&sim);
}

/// A crashed client's call is never answered, and may or may not take
/// effect: a request that reached the leader before the crash is still
/// committed and applied on every node (the history keeps the call with no
/// return, and the checker places it after its invocation); one that never
/// left has no effect. The crashed client makes no more calls, nothing is
/// sent for it after the crash (its retry timer finds no call), and the
/// answer that reaches it is dropped.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn crashed_client_call_may_still_take_effect() {
    let mut sim = cluster(36, 5);
    let leader = wait_leader(&mut sim, SEC);
    let put = |key: &str, value: &str| Op::Put {
        key: key.into(),
        value: value.into(),
    };
    // Sent, then the client crashes before any answer could come back.
    let a = sim.add_client();
    let seq = sim.invoke(a, put("k", "sent"), Some(leader)).unwrap();
    sim.run_for(MS);
    assert_eq!(sim.crash_client(a), Ok(Some(seq)));
    assert!(sim.client(a).unwrap().crashed);
    assert_eq!(sim.pending_calls(), 0);
    // Never sent: every link from the client is cut.
    let b = sim.add_client();
    for n in sim.node_ids() {
        sim.set_client_cut(b, n, true).unwrap();
    }
    sim.invoke(b, put("j", "lost"), None).unwrap();
    sim.run_for(MS);
    assert_eq!(sim.crash_client(b), Ok(Some(1)));
    let crashed_at = sim.now();
    sim.run_for(3 * SEC);
    // The first took effect on every node; the second nowhere.
    for n in sim.node_ids() {
        let kv = &sim.server(n).expect("up").kv;
        assert_eq!(kv.get("k").map(String::as_str), Some("sent"), "{n}");
        assert_eq!(kv.get("j"), None, "{n}");
    }
    assert_eq!(get(&mut sim, "k"), Some("sent".into()));
    assert_eq!(get(&mut sim, "j"), None);
    // Both calls stay in the history unanswered.
    let unanswered: Vec<_> = sim
        .history()
        .calls
        .iter()
        .filter(|c| c.return_us.is_none())
        .map(|c| c.client)
        .collect();
    assert_eq!(unanswered, vec![a, b]);
    assert_linearizable(&sim);
    // Nothing was sent for them after the crash, and the leader's answer
    // to `a` did not finish its call.
    let after: Vec<_> = sim
        .trace()
        .events()
        .filter(|e| e.at_us > crashed_at)
        .filter(|e| matches!(&e.event, TraceEvent::ClientSend { client, .. } | TraceEvent::ClientTimeout { client, .. } | TraceEvent::ClientReturn { client, .. } if *client == a || *client == b))
        .collect();
    assert!(after.is_empty(), "{after:?}");
    let crashes = sim
        .trace()
        .events()
        .filter(|e| matches!(e.event, TraceEvent::ClientCrashed { seq: Some(1), .. }))
        .count();
    assert_eq!(crashes, 2);
    assert_eq!(sim.client(a).unwrap().completed, 0);
    // A crashed client makes no more calls, and cannot crash again.
    assert_eq!(
        sim.invoke(a, Op::Get { key: "k".into() }, None),
        Err(SimError::ClientCrashed(a))
    );
    assert_eq!(
        sim.set_client_auto(a, Some(Workload::default())),
        Err(SimError::ClientCrashed(a))
    );
    assert_eq!(sim.crash_client(a), Err(SimError::ClientCrashed(a)));
    assert_eq!(
        sim.crash_client(ClientId(999)),
        Err(SimError::NoSuchClient(999))
    );
}

/// Dissertation §6.4: a leader cut off from the majority does not answer
/// reads from its possibly stale copy; a stale read (labelled) does.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn isolated_leader_serves_no_reads() {
    let mut sim = cluster(35, 5);
    let old = wait_leader(&mut sim, SEC);
    put(&mut sim, "k", "1");
    sim.run_for(100 * MS);
    sim.isolate(old).unwrap();
    // The majority elects a new leader and overwrites k.
    let c2 = sim.add_client();
    sim.set_client_cut(c2, old, true).unwrap();
    assert_eq!(
        call(
            &mut sim,
            c2,
            Op::Put {
                key: "k".into(),
                value: "2".into()
            },
            5 * SEC
        ),
        OpResult::Ok
    );
    // A linearizable get at the old leader must not return "1".
    let c = sim.add_client();
    for n in sim.node_ids() {
        if n != old {
            sim.set_client_cut(c, n, true).unwrap();
        }
    }
    sim.invoke(c, Op::Get { key: "k".into() }, Some(old))
        .unwrap();
    sim.run_for(3 * SEC);
    assert!(
        sim.clients()[c.0 as usize - 1].current.is_some(),
        "the isolated leader answered a read"
    );
    // A stale read of the old leader returns its old value, outside the history.
    let s = sim.add_client();
    sim.stale_read(s, old, "k".into()).unwrap();
    sim.run_for(100 * MS);
    let stale = sim.trace().events().find_map(|e| match &e.event {
        TraceEvent::StaleRead { node, value, .. } if *node == old => Some(value.clone()),
        _ => None,
    });
    assert_eq!(stale, Some(Some("1".into())));
    sim.heal_all();
    for n in sim.node_ids() {
        sim.set_client_cut(c, n, false).unwrap();
    }
    let done = sim.run_until_pred(5 * SEC, |s| s.pending_calls() == 0);
    assert!(done);
    let read = sim
        .history()
        .calls
        .iter()
        .rev()
        .find(|x| x.client == c)
        .unwrap();
    assert_eq!(
        read.outcome,
        Some(OpResult::Value {
            value: Some("2".into())
        })
    );
    assert_linearizable(&sim);
}

fn workload_run(sim: &mut Simulation, clients: usize, secs: u64, w: Workload) {
    sim.add_auto_clients(clients, w);
    sim.run_for(secs * SEC);
    assert_safe(sim);
    sim.stop_auto_clients();
    sim.heal_all();
    for n in sim.node_ids() {
        sim.restart(n).unwrap();
    }
    sim.set_link_params(Default::default()).unwrap();
    let ok = sim.run_until_pred(30 * SEC, |s| s.pending_calls() == 0);
    assert!(
        ok,
        "seed {}: calls still pending 30 s after faults healed",
        sim.seed()
    );
    wait_converged(sim, 5 * SEC);
    assert_appends_once(sim);
    assert_linearizable(sim);
}

/// Many concurrent clients on a reliable network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn concurrent_clients() {
    let mut sim = cluster(36, 5);
    workload_run(&mut sim, 10, 5, Workload::default());
    let done: u64 = sim.clients().iter().map(|c| c.completed).sum();
    assert!(done > 300, "only {done} calls in 5 s");
}

/// Concurrent clients on a lossy, duplicating, reordering network.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unreliable_network() {
    for seed in 0..3 {
        let mut sim = unreliable_cluster(40 + seed, 5);
        workload_run(&mut sim, 5, 5, Workload::default());
    }
}

/// Many clients on one key: appends and cas contend; each append lands once.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn one_key_contention() {
    let mut sim = unreliable_cluster(37, 5);
    workload_run(
        &mut sim,
        8,
        4,
        Workload {
            keys: 1,
            think_max_us: 5 * MS,
            get_percent: 20,
        },
    );
}

/// 6.5840 TestOnePartition: clients in the minority make no progress; after
/// healing their calls complete.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn one_partition() {
    let mut sim = cluster(38, 5);
    let leader = wait_leader(&mut sim, SEC);
    put(&mut sim, "1", "13");
    let ids = sim.node_ids();
    let minority: Vec<NodeId> = vec![leader, ids.into_iter().find(|n| *n != leader).unwrap()];
    let majority: Vec<NodeId> = sim
        .node_ids()
        .into_iter()
        .filter(|n| !minority.contains(n))
        .collect();
    sim.partition(&[minority.clone(), majority.clone()])
        .unwrap();
    let cmin = sim.add_client();
    let cmaj = sim.add_client();
    for n in &majority {
        sim.set_client_cut(cmin, *n, true).unwrap();
    }
    for n in &minority {
        sim.set_client_cut(cmaj, *n, true).unwrap();
    }
    // Progress in the majority.
    assert_eq!(
        call(
            &mut sim,
            cmaj,
            Op::Put {
                key: "1".into(),
                value: "14".into()
            },
            5 * SEC
        ),
        OpResult::Ok
    );
    // None in the minority: neither a write nor a read completes.
    sim.invoke(
        cmin,
        Op::Put {
            key: "1".into(),
            value: "15".into(),
        },
        None,
    )
    .unwrap();
    let cmin2 = sim.add_client();
    for n in &majority {
        sim.set_client_cut(cmin2, *n, true).unwrap();
    }
    sim.invoke(cmin2, Op::Get { key: "1".into() }, None)
        .unwrap();
    sim.run_for(3 * SEC);
    assert_eq!(sim.pending_calls(), 2, "a minority call completed");
    assert_eq!(
        call(&mut sim, cmaj, Op::Get { key: "1".into() }, 5 * SEC),
        OpResult::Value {
            value: Some("14".into())
        }
    );
    // Heal: both complete.
    sim.heal_all();
    for n in &majority {
        sim.set_client_cut(cmin, *n, false).unwrap();
        sim.set_client_cut(cmin2, *n, false).unwrap();
    }
    let ok = sim.run_until_pred(10 * SEC, |s| s.pending_calls() == 0);
    assert!(ok, "minority calls did not complete after healing");
    assert_eq!(get(&mut sim, "1"), Some("15".into()));
    assert_linearizable(&sim);
}

/// 6.5840 TestManyPartitionsManyClients: random partitions every few
/// hundred ms while many clients write.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn many_partitions_many_clients() {
    for seed in 0..2 {
        let mut sim = cluster(50 + seed, 5);
        let mut rng = Rng::new(seed);
        sim.add_auto_clients(10, Workload::default());
        for _ in 0..15 {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for n in sim.node_ids() {
                if rng.chance(0.5) {
                    a.push(n)
                } else {
                    b.push(n)
                }
            }
            sim.partition(&[a, b]).unwrap();
            sim.run_for(rng.range_inclusive(100 * MS, 600 * MS));
            assert_safe(&sim);
        }
        workload_run(&mut sim, 0, 0, Workload::default());
    }
}

/// Crashes with persistence: nodes crash and restart (a minority at a time,
/// and sometimes all at once) while clients write; nothing acknowledged is
/// lost.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn crashes_with_persistence() {
    for seed in 0..2 {
        let mut sim = cluster(60 + seed, 5);
        let mut rng = Rng::new(seed + 7);
        sim.add_auto_clients(5, Workload::default());
        for round in 0..10 {
            sim.run_for(rng.range_inclusive(200 * MS, 800 * MS));
            if round % 4 == 3 {
                for n in sim.node_ids() {
                    sim.crash(n).unwrap();
                }
            } else {
                for _ in 0..2 {
                    sim.crash(NodeId::from_idx(rng.index(5))).unwrap();
                }
            }
            sim.run_for(rng.range_inclusive(50 * MS, 300 * MS));
            for n in sim.node_ids() {
                sim.restart(n).unwrap();
            }
            assert_safe(&sim);
        }
        workload_run(&mut sim, 0, 0, Workload::default());
        // Acknowledged puts are visible in the final state unless overwritten:
        // the linearizability check above covers it; here check progress.
        let done: u64 = sim.clients().iter().map(|c| c.completed).sum();
        assert!(done > 100, "only {done} calls completed");
    }
}

/// Same seed, same actions, same trace: the run is deterministic.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn same_seed_same_trace() {
    let run = |seed| {
        let mut sim = unreliable_cluster(seed, 5);
        sim.add_auto_clients(3, Workload::default());
        sim.run_for(SEC);
        sim.crash(NodeId(2)).unwrap();
        sim.run_for(SEC);
        sim.restart(NodeId(2)).unwrap();
        sim.run_for(SEC);
        sim.trace_hash()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
    let _ = ClientId(0);
}

/// Put `keys` through `width` clients at a time, waiting for each batch.
fn put_many(sim: &mut Simulation, keys: &[String], width: usize) {
    let clients: Vec<ClientId> = (0..width).map(|_| sim.add_client()).collect();
    for batch in keys.chunks(width) {
        for (c, k) in clients.iter().zip(batch) {
            let op = Op::Put {
                key: k.clone(),
                value: format!("v-{k}"),
            };
            sim.invoke(*c, op, None).expect("invoke");
        }
        let done = sim.run_until_pred(10 * SEC, |s| {
            clients
                .iter()
                .all(|c| s.client(*c).is_some_and(|c| c.current.is_none()))
        });
        assert!(done, "seed {}: a batch of puts did not finish", sim.seed());
    }
}

/// The view carries each node's key-value state bounded like its log: the
/// first keys in key order, at most `VIEW_KV_LIMIT` (or the limit asked
/// for), beside the whole count `kv_len`. The page takes a view every
/// frame, so a store of 20,000 keys must not cost 20,000 keys per frame.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn view_bounds_the_key_value_state() {
    let mut sim = cluster(47, 5);
    wait_leader(&mut sim, SEC);
    let key = |i: usize| format!("k{i:04}");

    // Below the limit: every key, in key order, and the count.
    let few: Vec<String> = [2, 0, 1].iter().map(|i| key(*i)).collect();
    put_many(&mut sim, &few, 3);
    wait_converged(&mut sim, 5 * SEC);
    for nv in &sim.view().nodes {
        let keys: Vec<&String> = nv.kv.keys().collect();
        assert_eq!(keys, [&key(0), &key(1), &key(2)], "{}", nv.id);
        assert_eq!(nv.kv.get(&key(1)).map(String::as_str), Some("v-k0001"));
        assert_eq!(nv.kv_len, 3.0);
    }

    // Above it: exactly the limit, the first keys, the whole count. The
    // keys arrive newest-first, so key order is not arrival order.
    let total = VIEW_KV_LIMIT + 25;
    let rest: Vec<String> = (3..total).rev().map(key).collect();
    put_many(&mut sim, &rest, 16);
    wait_converged(&mut sim, 5 * SEC);
    let first: Vec<String> = (0..VIEW_KV_LIMIT).map(key).collect();
    let v = sim.view();
    assert_eq!(v.nodes.len(), 5);
    for nv in &v.nodes {
        assert_eq!(nv.kv.len(), VIEW_KV_LIMIT, "{}", nv.id);
        assert!(
            nv.kv.keys().eq(first.iter()),
            "{}: not the first keys",
            nv.id
        );
        assert!(nv.kv.iter().all(|(k, v)| *v == format!("v-{k}")));
        assert_eq!(nv.kv_len, total as f64);
    }

    // A smaller limit, exactly the count, none; the log limit apart.
    let small = sim.view_with_limits(VIEW_LOG_LIMIT, 5);
    assert!(small.nodes[0].kv.keys().eq(first[..5].iter()));
    assert_eq!(small.nodes[0].kv_len, total as f64);
    let all = sim.view_with_limits(1, total);
    assert_eq!(all.nodes[0].kv.len(), total);
    assert_eq!(all.nodes[0].log.len(), 1);
    let none = sim.view_with_limits(VIEW_LOG_LIMIT, 0);
    assert!(none.nodes[0].kv.is_empty());
    assert_eq!(none.nodes[0].kv_len, total as f64);
    assert_eq!(sim.view_with_log_limit(3).nodes[0].kv.len(), VIEW_KV_LIMIT);

    // A crashed node shows no state machine (it is rebuilt on restart).
    sim.crash(NodeId(1)).expect("crash");
    let down = &sim.view().nodes[0];
    assert!(!down.up && down.kv.is_empty());
    assert_eq!(down.kv_len, 0.0);
}

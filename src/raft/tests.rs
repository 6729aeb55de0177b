//! Unit tests of single Raft rules, each on one or a few nodes driven by
//! hand. Every test names the paper section whose rule it checks and would
//! fail without that rule.

use super::*;

type Node = RaftNode<u32>;

const T: u64 = 1_000_000; // a time after any first election deadline

fn ids(n: u32) -> Vec<NodeId> {
    (1..=n).map(NodeId).collect()
}

fn node(id: u32, n: u32) -> Node {
    RaftNode::new(NodeId(id), ids(n), Config::default(), u64::from(id), 0)
}

fn entry(index: u64, term: u64, v: u32) -> Entry<u32> {
    Entry {
        index: LogIndex(index),
        term: Term(term),
        payload: Payload::Command(v),
    }
}

fn msg(from: u32, to: u32, rpc: Rpc<u32>) -> Message<u32> {
    Message {
        from: NodeId(from),
        to: NodeId(to),
        rpc,
    }
}

fn vote_req(term: u64, last_index: u64, last_term: u64) -> Rpc<u32> {
    Rpc::RequestVote {
        term: Term(term),
        last_log_index: LogIndex(last_index),
        last_log_term: Term(last_term),
    }
}

fn append(term: u64, prev: (u64, u64), entries: Vec<Entry<u32>>, commit: u64) -> Rpc<u32> {
    Rpc::AppendEntries {
        term: Term(term),
        prev_log_index: LogIndex(prev.0),
        prev_log_term: Term(prev.1),
        entries,
        leader_commit: LogIndex(commit),
        round: 0,
    }
}

fn replies(r: &Ready<u32>) -> Vec<&Rpc<u32>> {
    r.messages.iter().map(|m| &m.rpc).collect()
}

fn granted(r: &Ready<u32>) -> bool {
    matches!(
        replies(r).last(),
        Some(Rpc::RequestVoteReply { granted: true, .. })
    )
}

/// Make node 1 of `n` leader of term 1 with the votes of the others.
fn leader(n: u32) -> Node {
    let mut l = node(1, n);
    l.handle_timeout(T);
    for v in 2..=n {
        l.handle_message(
            T,
            msg(
                v,
                1,
                Rpc::RequestVoteReply {
                    term: Term(1),
                    granted: true,
                },
            ),
        );
    }
    assert_eq!(l.role(), Role::Leader);
    l.take_ready();
    l
}

macro_rules! both {
    ($(#[$doc:meta])* fn $name:ident() $body:block) => {
        $(#[$doc])*
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    };
}

both! {
    /// Raft §5.2: election timeouts are drawn from the configured range and
    /// redrawn at every reset.
    fn election_timeouts_are_randomized_and_redrawn() {
        let mut n = node(1, 3);
        let mut seen = std::collections::BTreeSet::new();
        let mut now = 0;
        for _ in 0..20 {
            let d = n.next_deadline() - now;
            assert!((150_000..=300_000).contains(&d), "timeout {d}");
            seen.insert(d);
            now += 1;
            // An AppendEntries from a leader resets the timer.
            n.handle_message(now, msg(2, 1, append(1, (0, 0), vec![], 0)));
        }
        assert!(seen.len() > 10, "timeouts not redrawn: {seen:?}");
    }
}

both! {
    /// Raft §5.2: a timeout starts an election: new term, vote for self,
    /// RequestVote to every peer, persisted before sending.
    fn timeout_starts_election() {
        let mut n = node(1, 3);
        n.handle_timeout(n.next_deadline() - 1);
        assert_eq!(n.role(), Role::Follower, "fired before its deadline");
        n.handle_timeout(T);
        assert_eq!(n.role(), Role::Candidate);
        let r = n.take_ready();
        assert_eq!(r.hard_state, Some(HardState { current_term: Term(1), voted_for: Some(NodeId(1)) }));
        assert_eq!(r.messages.len(), 2);
        assert!(r.messages.iter().all(|m| matches!(m.rpc, Rpc::RequestVote { term: Term(1), .. })));
    }
}

both! {
    /// Raft §5.2: at most one vote per term, and the vote is persisted with
    /// the reply.
    fn one_vote_per_term() {
        let mut n = node(3, 3);
        n.handle_message(T, msg(1, 3, vote_req(1, 0, 0)));
        let r = n.take_ready();
        assert!(granted(&r));
        assert_eq!(r.hard_state.map(|h| h.voted_for), Some(Some(NodeId(1))));
        n.handle_message(T, msg(2, 3, vote_req(1, 0, 0)));
        assert!(!granted(&n.take_ready()));
        // The same candidate asking again (a retry) gets the vote again.
        n.handle_message(T, msg(1, 3, vote_req(1, 0, 0)));
        assert!(granted(&n.take_ready()));
        // A new term frees the vote.
        n.handle_message(T, msg(2, 3, vote_req(2, 0, 0)));
        assert!(granted(&n.take_ready()));
    }
}

both! {
    /// Raft §5.4.1: a vote goes only to a candidate whose log is at least as
    /// up-to-date: higher last term wins, then the longer log.
    fn vote_requires_up_to_date_log() {
        let mut n = node(3, 3);
        n.handle_message(T, msg(1, 3, append(2, (0, 0), vec![entry(1, 1, 1), entry(2, 2, 2)], 0)));
        n.take_ready();
        n.handle_message(T, msg(2, 3, vote_req(3, 5, 1)));
        assert!(!granted(&n.take_ready()), "older last term but longer log got the vote");
        n.handle_message(T, msg(2, 3, vote_req(4, 1, 2)));
        assert!(!granted(&n.take_ready()), "same last term, shorter log got the vote");
        n.handle_message(T, msg(2, 3, vote_req(5, 2, 2)));
        assert!(granted(&n.take_ready()));
        n.handle_message(T, msg(1, 3, vote_req(6, 1, 3)));
        assert!(granted(&n.take_ready()), "higher last term, shorter log must win");
    }
}

both! {
    /// Raft §5.1: a higher term turns a leader into a follower; a lower term
    /// is rejected with the current term.
    fn terms_order_everything() {
        let mut l = leader(3);
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(5), success: false, match_index: LogIndex(0), conflict: None, round: 0 }));
        assert_eq!(l.role(), Role::Follower);
        assert_eq!(l.term(), Term(5));
        assert_eq!(l.take_ready().hard_state, Some(HardState { current_term: Term(5), voted_for: None }));
        l.handle_message(T, msg(3, 1, append(4, (0, 0), vec![entry(1, 4, 9)], 0)));
        let r = l.take_ready();
        assert!(matches!(replies(&r)[..], [Rpc::AppendEntriesReply { term: Term(5), success: false, .. }]));
        assert_eq!(l.last_index(), LogIndex(1), "stale leader's entry was appended");
    }
}

both! {
    /// Raft §8: a new leader appends a no-op of its term and sends it.
    fn new_leader_appends_noop() {
        let mut l = node(1, 3);
        l.handle_timeout(T);
        l.handle_message(T, msg(2, 1, Rpc::RequestVoteReply { term: Term(1), granted: true }));
        assert_eq!(l.role(), Role::Leader);
        assert_eq!(l.log(), &[Entry { term: Term(1), index: LogIndex(1), payload: Payload::Noop }]);
        let r = l.take_ready();
        assert_eq!(r.log_write.map(|w| w.entries.len()), Some(1));
        assert!(r.messages.iter().any(|m| matches!(&m.rpc, Rpc::AppendEntries { entries, .. } if entries.len() == 1)));
    }
}

both! {
    /// Raft §5.3: the consistency check rejects a mismatched prev entry and
    /// hints where the follower's conflicting term starts.
    fn consistency_check_and_conflict_hint() {
        let mut f = node(2, 3);
        f.handle_message(T, msg(1, 2, append(2, (0, 0), vec![entry(1, 1, 1), entry(2, 2, 2), entry(3, 2, 3), entry(4, 2, 4)], 0)));
        f.take_ready();
        // Leader of term 3 thinks index 4 has term 3.
        f.handle_message(T, msg(3, 2, append(3, (4, 3), vec![], 0)));
        let r = f.take_ready();
        match replies(&r)[..] {
            [Rpc::AppendEntriesReply { success: false, conflict: Some(h), .. }] => {
                assert_eq!(h.conflict_term, Some(Term(2)));
                assert_eq!(h.first_index, LogIndex(2));
            }
            ref other => panic!("{other:?}"),
        }
        // Too short a log: the hint is its end.
        f.handle_message(T, msg(3, 2, append(3, (9, 3), vec![], 0)));
        let r = f.take_ready();
        assert!(matches!(replies(&r)[..], [Rpc::AppendEntriesReply { success: false, conflict: Some(ConflictHint { conflict_term: None, first_index: LogIndex(5) }), .. }]));
    }
}

both! {
    /// Raft §5.3: a conflicting suffix is removed and replaced; a stale
    /// (reordered) request whose entries already match removes nothing.
    fn truncates_only_real_conflicts() {
        let mut f = node(2, 3);
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![entry(1, 1, 1), entry(2, 1, 2), entry(3, 1, 3)], 0)));
        f.take_ready();
        // Stale copy of the first request: no truncation.
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![entry(1, 1, 1)], 0)));
        assert_eq!(f.last_index(), LogIndex(3));
        assert!(f.take_ready().log_write.is_none());
        // Conflict at 2 from a term-2 leader.
        f.handle_message(T, msg(3, 2, append(2, (1, 1), vec![entry(2, 2, 20)], 0)));
        assert_eq!(f.last_index(), LogIndex(2));
        assert_eq!(f.log()[1], entry(2, 2, 20));
        let w = f.take_ready().log_write.expect("log write");
        assert_eq!(w.from, LogIndex(2));
        assert_eq!(w.entries, vec![entry(2, 2, 20)]);
    }
}

both! {
    /// Figure 2: a follower commits up to min(leaderCommit, last new entry).
    fn follower_commit_is_bounded_by_last_new_entry() {
        let mut f = node(2, 3);
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![entry(1, 1, 1), entry(2, 1, 2), entry(3, 1, 3)], 0)));
        f.take_ready();
        // Heartbeat with prev at 1 and leader commit 3: only 1 is known to match.
        f.handle_message(T, msg(1, 2, append(1, (1, 1), vec![], 3)));
        assert_eq!(f.commit_index(), LogIndex(1));
        assert_eq!(f.take_ready().committed.len(), 1);
        f.handle_message(T, msg(1, 2, append(1, (3, 1), vec![], 3)));
        assert_eq!(f.commit_index(), LogIndex(3));
    }
}

both! {
    /// Raft §5.4.2 (Figure 8): a leader does not commit an entry of an
    /// earlier term by counting replicas, only through an entry of its own.
    fn leader_commits_only_its_own_term_by_counting() {
        // Node 1 holds an entry of term 1 at index 1, then becomes leader of
        // term 3 without a no-op being replicated yet.
        let mut l = RaftNode::restore(NodeId(1), ids(5), Config::default(), 1, 0, HardState { current_term: Term(2), voted_for: None }, vec![entry(1, 1, 7)]);
        l.handle_timeout(T);
        for v in 2..=3 {
            l.handle_message(T, msg(v, 1, Rpc::RequestVoteReply { term: Term(3), granted: true }));
        }
        assert_eq!(l.role(), Role::Leader);
        l.take_ready();
        // Two followers acknowledge index 1 only (they lack the no-op at 2).
        for v in 2..=3 {
            l.handle_message(T, msg(v, 1, Rpc::AppendEntriesReply { term: Term(3), success: true, match_index: LogIndex(1), conflict: None, round: 0 }));
        }
        assert_eq!(l.commit_index(), LogIndex(0), "committed a term-1 entry by counting replicas");
        // Once the no-op of term 3 is on a majority, both commit.
        for v in 2..=3 {
            l.handle_message(T, msg(v, 1, Rpc::AppendEntriesReply { term: Term(3), success: true, match_index: LogIndex(2), conflict: None, round: 0 }));
        }
        assert_eq!(l.commit_index(), LogIndex(2));
        assert_eq!(l.take_ready().committed.len(), 2);
    }
}

both! {
    /// Raft §5.3 fast backtracking: one rejection with a conflict term moves
    /// nextIndex past the whole term, not one entry.
    fn leader_backtracks_by_term() {
        let log: Vec<Entry<u32>> = (1..=10).map(|i| entry(i, if i <= 5 { 1 } else { 2 }, i as u32)).collect();
        let mut l = RaftNode::restore(NodeId(1), ids(3), Config::default(), 1, 0, HardState { current_term: Term(3), voted_for: None }, log);
        l.handle_timeout(T);
        l.handle_message(T, msg(2, 1, Rpc::RequestVoteReply { term: Term(4), granted: true }));
        l.take_ready();
        // Follower 3's entry at the probe is of a term the leader never had.
        l.handle_message(T, msg(3, 1, Rpc::AppendEntriesReply { term: Term(4), success: false, match_index: LogIndex(0), conflict: Some(ConflictHint { conflict_term: Some(Term(9)), first_index: LogIndex(4) }), round: 0 }));
        assert_eq!(l.progress()[2].next_index, LogIndex(4), "term the leader lacks: jump to its first index");
        l.handle_message(T, msg(3, 1, Rpc::AppendEntriesReply { term: Term(4), success: false, match_index: LogIndex(0), conflict: Some(ConflictHint { conflict_term: Some(Term(1)), first_index: LogIndex(2) }), round: 0 }));
        assert_eq!(l.progress()[2].next_index, LogIndex(6), "term the leader has: after its last entry of that term");
        let r = l.take_ready();
        let last = r.messages.iter().rev().find(|m| m.to == NodeId(3)).expect("retry");
        assert!(matches!(&last.rpc, Rpc::AppendEntries { prev_log_index, .. } if prev_log_index.0 <= 5));
    }
}

both! {
    /// Batching and pipelining: at most `max_entries_per_message` entries per
    /// AppendEntries and at most `max_inflight` outstanding per follower.
    fn batching_and_pipelining_bounds() {
        let mut l = leader(2);
        let cfg = Config { max_entries_per_message: 3, max_inflight: 2, ..Config::default() };
        l.set_config(cfg);
        for v in 0..20 {
            l.propose(T, v).unwrap();
        }
        let r = l.take_ready();
        let sends: Vec<usize> = r
            .messages
            .iter()
            .filter_map(|m| match &m.rpc {
                Rpc::AppendEntries { entries, .. } if !entries.is_empty() => Some(entries.len()),
                _ => None,
            })
            .collect();
        // The no-op was already sent when leadership began (1 in flight).
        assert!(sends.iter().all(|n| *n <= 3), "{sends:?}");
        assert!(sends.len() <= 1, "more than max_inflight outstanding: {sends:?}");
        // An acknowledgement opens the window again.
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(1), conflict: None, round: 0 }));
        let more = l.take_ready().messages.into_iter().filter(|m| matches!(&m.rpc, Rpc::AppendEntries { entries, .. } if !entries.is_empty())).count();
        assert!((1..=2).contains(&more), "{more}");
    }
}

both! {
    /// Dissertation §6.4: a read is confirmed only after a majority answers a
    /// heartbeat round started after it, and only once the leader has
    /// committed an entry of its term; it fails if leadership is lost.
    fn read_index_needs_a_fresh_quorum() {
        let mut l = leader(3);
        l.read_index(T, 1).unwrap();
        // The no-op is not committed yet: nothing confirmed even with acks.
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(0), conflict: None, round: 1 }));
        assert!(l.take_ready().reads.is_empty());
        // Commit the no-op: the read now starts its own round.
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(1), conflict: None, round: 1 }));
        let r = l.take_ready();
        assert!(r.reads.is_empty(), "confirmed by an old round");
        let round = r.messages.iter().filter_map(|m| match m.rpc { Rpc::AppendEntries { round, .. } => Some(round), _ => None }).max().unwrap();
        l.handle_message(T, msg(3, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(1), conflict: None, round }));
        let r = l.take_ready();
        assert_eq!(r.reads, vec![ReadyRead { id: 1, read_index: LogIndex(1) }]);
        // Leadership lost: pending reads fail.
        l.read_index(T, 2).unwrap();
        l.handle_message(T, msg(2, 1, vote_req(9, 5, 5)));
        assert_eq!(l.take_ready().failed_reads, vec![2]);
        assert!(matches!(l.read_index(T, 3), Err(ProposeError::NotLeader { .. })));
    }
}

both! {
    /// Dissertation §6.4: the rejection of an AppendEntries from an older
    /// term carries round 0, not the old leader's round. Echoing it, tagged
    /// with the current term, would let a re-elected leader count it as an
    /// ack of its own (lower-numbered) rounds and confirm reads without a
    /// quorum.
    fn stale_term_rejection_acks_no_round() {
        let mut f = node(3, 3);
        f.handle_message(T, msg(2, 3, vote_req(3, 0, 0)));
        f.take_ready();
        let mut old = append(1, (0, 0), vec![], 0);
        if let Rpc::AppendEntries { round, .. } = &mut old {
            *round = 200;
        }
        f.handle_message(T, msg(1, 3, old));
        let r = f.take_ready();
        assert!(
            matches!(replies(&r)[..], [Rpc::AppendEntriesReply { term: Term(3), success: false, round: 0, .. }]),
            "{:?}",
            replies(&r)
        );
    }
}

both! {
    /// Dissertation §6.4: an ack of a round the leader has not started yet
    /// confirms nothing; only acks of a round started after the read count.
    fn read_index_ignores_acks_of_unstarted_rounds() {
        let mut l = leader(3);
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(1), conflict: None, round: 0 }));
        l.take_ready();
        l.read_index(T, 1).unwrap();
        let r = l.take_ready();
        let round = r.messages.iter().filter_map(|m| match m.rpc { Rpc::AppendEntries { round, .. } => Some(round), _ => None }).max().unwrap();
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: false, match_index: LogIndex(0), conflict: None, round: round + 100 }));
        assert!(l.take_ready().reads.is_empty(), "confirmed by a round never sent");
        l.handle_message(T, msg(3, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(1), conflict: None, round }));
        assert_eq!(l.take_ready().reads, vec![ReadyRead { id: 1, read_index: LogIndex(1) }]);
    }
}

both! {
    /// Figure 2: after a restart from storage, term, vote and log are back;
    /// commit index and role start over, and the node will not vote twice.
    fn restart_from_storage_keeps_vote() {
        let mut n = node(3, 3);
        n.handle_message(T, msg(1, 3, vote_req(4, 0, 0)));
        n.handle_message(T, msg(1, 3, append(4, (0, 0), vec![entry(1, 4, 1)], 1)));
        let mut disk = crate::storage::MemStorage::new();
        let r = n.take_ready();
        crate::storage::Storage::write(&mut disk, &crate::storage::WriteBatch { hard_state: r.hard_state, log_write: r.log_write }).unwrap();
        let d = crate::storage::Storage::load(&disk).unwrap();
        let mut m: Node = RaftNode::restore(NodeId(3), ids(3), Config::default(), 9, T, d.hard_state, d.log);
        assert_eq!(m.term(), Term(4));
        assert_eq!(m.voted_for(), Some(NodeId(1)));
        assert_eq!(m.commit_index(), LogIndex(0));
        assert_eq!(m.last_index(), LogIndex(1));
        m.handle_message(T, msg(2, 3, vote_req(4, 9, 9)));
        assert!(!granted(&m.take_ready()), "voted twice in term 4 after a restart");
    }
}

both! {
    /// Proposals go only to the leader; others answer with a hint.
    fn followers_redirect_proposals() {
        let mut f = node(2, 3);
        assert_eq!(f.propose(T, 1), Err(ProposeError::NotLeader { leader_hint: None }));
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![], 0)));
        assert_eq!(f.propose(T, 1), Err(ProposeError::NotLeader { leader_hint: Some(NodeId(1)) }));
        assert_eq!(f.propose(T, 1).unwrap_err().to_string(), "not the leader; try S1");
    }
}

both! {
    /// Malformed messages (misaddressed, from a stranger, gapped entries) are
    /// ignored and reported, never a panic.
    fn malformed_messages_are_ignored() {
        let mut f = node(2, 3);
        f.handle_message(T, msg(7, 2, append(1, (0, 0), vec![entry(1, 1, 1)], 0)));
        f.handle_message(T, msg(1, 3, append(1, (0, 0), vec![entry(1, 1, 1)], 0)));
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![entry(1, 1, 1), entry(3, 1, 3)], 0)));
        assert_eq!(f.last_index(), LogIndex(0));
        let r = f.take_ready();
        assert_eq!(r.events.iter().filter(|e| matches!(e, NodeEvent::IgnoredStale { .. })).count(), 3);
    }
}

both! {
    /// Raft §5.2 / Figure 2 ("updated on stable storage before responding"):
    /// a vote granted in a term the node already knew (and had persisted
    /// with no vote) is itself persisted with the reply. Otherwise a crash
    /// after the reply forgets the vote, and the restarted node votes again
    /// in the same term for another candidate.
    fn vote_in_a_known_term_is_persisted() {
        let mut n = node(3, 3);
        let mut disk = crate::storage::MemStorage::new();
        let mut persist = |r: &Ready<u32>| {
            crate::storage::Storage::write(&mut disk, &crate::storage::WriteBatch { hard_state: r.hard_state, log_write: r.log_write.clone() }).unwrap();
        };
        n.handle_message(T, msg(1, 3, append(1, (0, 0), vec![entry(1, 1, 1)], 0)));
        persist(&n.take_ready());
        // Candidate 2's log is behind: refused, but the node learns term 2.
        n.handle_message(T, msg(2, 3, vote_req(2, 0, 0)));
        let r = n.take_ready();
        assert!(!granted(&r));
        assert_eq!(r.hard_state, Some(HardState { current_term: Term(2), voted_for: None }));
        persist(&r);
        // Candidate 1 of the same term gets the vote: only the vote changed.
        n.handle_message(T, msg(1, 3, vote_req(2, 1, 1)));
        let r = n.take_ready();
        assert!(granted(&r));
        assert_eq!(r.hard_state, Some(HardState { current_term: Term(2), voted_for: Some(NodeId(1)) }), "vote not persisted before the reply");
        persist(&r);
        // Crash and restart: candidate 2, now up to date, is refused in term 2.
        let d = crate::storage::Storage::load(&disk).unwrap();
        let mut m: Node = RaftNode::restore(NodeId(3), ids(3), Config::default(), 9, T, d.hard_state, d.log);
        m.handle_message(T, msg(2, 3, vote_req(2, 1, 1)));
        assert!(!granted(&m.take_ready()), "voted twice in term 2 after a restart");
    }
}

both! {
    /// Raft §5.3: nextIndex backs up on a rejection, but never below
    /// matchIndex + 1. A rejection delayed past a later success (a reordered
    /// network) must not send the leader back to resend what the follower
    /// already holds. Efficiency only: a resend would match and be ignored.
    fn stale_rejection_keeps_next_index_above_match() {
        let mut l = leader(3);
        for v in 0..3 {
            l.propose(T, v).unwrap();
        }
        l.take_ready();
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(4), conflict: None, round: 1 }));
        l.take_ready();
        assert_eq!(l.progress()[1].match_index, LogIndex(4));
        // An old rejection arrives late, hinting the follower's log was empty.
        l.handle_message(T, msg(2, 1, Rpc::AppendEntriesReply { term: Term(1), success: false, match_index: LogIndex(0), conflict: Some(ConflictHint { conflict_term: None, first_index: LogIndex(1) }), round: 1 }));
        assert_eq!(l.progress()[1].next_index, LogIndex(5), "nextIndex went below matchIndex + 1");
        let r = l.take_ready();
        assert!(
            !r.messages.iter().any(|m| m.to == NodeId(2) && matches!(&m.rpc, Rpc::AppendEntries { entries, .. } if !entries.is_empty())),
            "resent entries the follower already holds"
        );
    }
}

/// Drain `n` both ways, [`RaftNode::take_messages_only`] on a copy and
/// [`RaftNode::take_ready`] on `n`: the messages must be taken exactly
/// when the `Ready` holds messages and nothing else, be those messages in
/// their order, and leave the node as the full drain does (or untouched
/// when it declines). Returns whether it took.
fn drain_both_ways(n: &mut Node) -> bool {
    let before = format!("{n:?}");
    let mut copy = n.clone();
    let mut taken = Vec::new();
    let took = copy.take_messages_only(&mut taken);
    let r = n.take_ready();
    let only_messages = r.hard_state.is_none()
        && r.log_write.is_none()
        && r.committed.is_empty()
        && r.reads.is_empty()
        && r.failed_reads.is_empty()
        && r.events.is_empty();
    if took {
        assert!(only_messages, "took messages only from {r:?}");
        assert_eq!(taken, r.messages);
        assert_eq!(format!("{copy:?}"), format!("{n:?}"), "drained differently");
    } else {
        assert!(!only_messages, "declined a Ready of messages only: {r:?}");
        assert!(taken.is_empty());
        assert_eq!(format!("{copy:?}"), before, "declined but changed the node");
    }
    took
}

both! {
    /// The driver's shortcut for the usual step (a heartbeat's answer, an
    /// acknowledgement, a leader's heartbeats) drains the node exactly as
    /// `take_ready` does, and declines whenever something must be
    /// persisted, applied, answered or traced.
    fn messages_only_drains_as_take_ready() {
        let mut f = node(2, 3);
        // A first heartbeat raises the term: persist first.
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![], 0)));
        assert!(!drain_both_ways(&mut f));
        // The next one is answered and that is all.
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![], 0)));
        assert!(drain_both_ways(&mut f));
        // Entries: a log write.
        f.handle_message(T, msg(1, 2, append(1, (0, 0), vec![entry(1, 1, 7)], 0)));
        assert!(!drain_both_ways(&mut f));
        // A commit: an event and an entry to apply.
        f.handle_message(T, msg(1, 2, append(1, (1, 1), vec![], 1)));
        assert!(!drain_both_ways(&mut f));
        f.handle_message(T, msg(1, 2, append(1, (1, 1), vec![], 1)));
        assert!(drain_both_ways(&mut f));
        // A stale message: traced.
        f.handle_message(T, msg(3, 2, append(0, (0, 0), vec![], 0)));
        assert!(!drain_both_ways(&mut f));
        // Nothing at all since the last drain.
        assert!(drain_both_ways(&mut f));

        let mut l = leader(3);
        // Heartbeats to two followers: two messages and nothing else.
        l.handle_timeout(T + 50_000);
        assert!(drain_both_ways(&mut l));
        // An acknowledgement of its no-op commits it.
        let ack = |m: u64, round: u64| Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(m), conflict: None, round };
        l.handle_message(T, msg(2, 1, ack(1, 1)));
        assert!(!drain_both_ways(&mut l));
        // A repeated acknowledgement changes nothing to send or store.
        l.handle_message(T, msg(2, 1, ack(1, 1)));
        assert!(drain_both_ways(&mut l));
        // A proposal: a log write and two appends.
        l.propose(T, 9).unwrap();
        assert!(!drain_both_ways(&mut l));
        // A read starts a round of heartbeats; its acknowledgement by a
        // majority confirms the read, which must be answered.
        l.read_index(T, 1).unwrap();
        let r = l.take_ready();
        let round = match r.messages.first().map(|m| &m.rpc) {
            Some(Rpc::AppendEntries { round, .. }) => *round,
            other => panic!("no heartbeat for the read: {other:?}"),
        };
        l.handle_message(T, msg(2, 1, ack(1, round)));
        let mut copy = l.clone();
        assert!(!drain_both_ways(&mut l));
        assert_eq!(copy.take_ready().reads.len(), 1);
    }
}

/// The followers an AppendEntries went to in `r`, and whether it carried
/// entries.
fn appends_to(r: &Ready<u32>) -> Vec<(u32, bool)> {
    r.messages
        .iter()
        .filter_map(|m| match &m.rpc {
            Rpc::AppendEntries { entries, .. } => Some((m.to.0, !entries.is_empty())),
            _ => None,
        })
        .collect()
}

both! {
    /// Raft §5.2 and Figure 2: a leader sends empty AppendEntries "during
    /// idle periods", so a follower that was sent AppendEntries within the
    /// last heartbeat interval gets no heartbeat, and is owed one a whole
    /// interval after that send; a follower left idle still gets one every
    /// interval. (Without the rule, the tick at `T + hb` heartbeats all.)
    fn heartbeats_only_to_idle_followers() {
        let hb = Config::default().heartbeat_interval_us;
        let mut l = leader(3);
        // Leadership began at T with heartbeats (and the no-op) to both.
        assert_eq!(l.heartbeat_deadline(), T + hb);
        // Node 2 acknowledges the no-op; node 3 stays silent, so the
        // leader's window to 3 stays open but its next entries go out too.
        let ack = |m: u64| Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(m), conflict: None, round: 1 };
        l.handle_message(T + hb / 2, msg(2, 1, ack(1)));
        l.take_ready();
        // A proposal half an interval in: entries to both followers.
        l.propose(T + hb / 2, 7).unwrap();
        assert_eq!(appends_to(&l.take_ready()), vec![(2, true), (3, true)]);
        // Both are now owed their heartbeat at T + 1.5 hb, not T + hb.
        assert_eq!(l.heartbeat_deadline(), T + hb + hb / 2);
        l.handle_timeout(T + hb);
        assert!(appends_to(&l.take_ready()).is_empty(), "heartbeat to a busy follower");
        // Node 2 acknowledges (and is sent nothing new); at T + 1.5 hb both
        // are idle and both are sent AppendEntries: node 2 an empty
        // heartbeat, node 3, silent all along, its entries again (the lost
        // pipeline is probed from its match index).
        l.handle_message(T + hb, msg(2, 1, ack(2)));
        l.take_ready();
        l.handle_timeout(T + hb + hb / 2);
        assert_eq!(appends_to(&l.take_ready()), vec![(2, false), (3, true)]);
        assert_eq!(l.heartbeat_deadline(), T + 2 * hb + hb / 2);
        // One follower busy, the other idle: the deadline is the idle one's.
        // (Node 3 is probing with a request outstanding: nothing more goes
        // to it.)
        l.propose(T + 2 * hb, 8).unwrap();
        assert_eq!(appends_to(&l.take_ready()), vec![(2, true)]);
        assert_eq!(l.heartbeat_deadline(), T + 2 * hb + hb / 2);
        l.handle_timeout(T + 2 * hb + hb / 2);
        assert_eq!(appends_to(&l.take_ready()), vec![(3, true)]);
        assert_eq!(l.heartbeat_deadline(), T + 3 * hb);
    }
}

both! {
    /// Raft §5.2: whatever a leader is asked to do, every follower hears
    /// from it at least once per heartbeat interval (so no follower times
    /// out under a live leader), and no follower is sent a heartbeat within
    /// an interval of its last AppendEntries.
    fn every_follower_hears_once_per_interval() {
        let hb = Config::default().heartbeat_interval_us;
        let mut l = leader(5);
        let mut rng = crate::rng::Rng::new(5);
        let mut last_sent = [T; 6];
        let mut now = T;
        for _ in 0..2_000 {
            // The driver wakes the leader at its deadline, or earlier with a
            // proposal or an acknowledgement.
            let step = rng.range_inclusive(1, hb + hb / 2);
            let next = l.heartbeat_deadline();
            if now + step >= next {
                now = next;
                l.handle_timeout(now);
            } else {
                now += step;
                if rng.range_inclusive(0, 1) == 0 {
                    l.propose(now, 1).unwrap();
                } else {
                    let from = rng.range_inclusive(2, 5) as u32;
                    let m = l.last_index().0;
                    l.handle_message(now, msg(from, 1, Rpc::AppendEntriesReply { term: Term(1), success: true, match_index: LogIndex(m), conflict: None, round: 0 }));
                }
            }
            for (to, carries) in appends_to(&l.take_ready()) {
                let gap = now - last_sent[to as usize];
                assert!(gap <= hb, "node {to} waited {gap} µs");
                if !carries {
                    assert!(gap >= hb, "heartbeat to node {to} only {gap} µs after the last");
                }
                last_sent[to as usize] = now;
            }
            for sent in &last_sent[2..=5] {
                assert!(l.heartbeat_deadline() <= sent + hb);
            }
        }
    }
}

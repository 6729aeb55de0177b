//! Raft's safety properties (Raft §5.4, Figure 3), checked after every
//! simulator event from the outside: the checker sees only what the nodes
//! write to storage, when they win elections, advance their commit index and
//! apply entries. It never reaches into a node.
//!
//! - **Election Safety**: at most one leader per term, over the whole run.
//! - **Log Matching**: two logs holding an entry with the same index and
//!   term are identical up to it. Each node's log is mirrored as a chain of
//!   prefix hashes, so "identical up to" is one comparison.
//! - **Leader Completeness**: a leader of term T holds every entry
//!   committed in a term before T (§5.4). Not "every entry committed before
//!   it was elected": a candidate of an older term can still win that term
//!   after a newer leader committed entries (its votes were granted, then
//!   delayed), and Raft is safe then, because that stale leader can commit
//!   and confirm nothing (every node it needs is in the newer term). So the
//!   checker keeps, for each committed index, the term in which it was first
//!   seen committed: the term of the leader that committed it, which sees
//!   the commit before any follower learns of it.
//! - **State Machine Safety**: no two nodes commit or apply different entries
//!   at the same index.
//! - A node's commit index never decreases while it is up.

use crate::raft::{Entry, LogIndex, LogWrite, NodeId, Term};
use crate::rng::stable_hash;
use crate::vecmap::VecMap;
use std::fmt;
use std::hash::Hash;

/// A broken safety property, with the nodes, term and index involved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    /// The property's name as the paper writes it.
    pub property: String,
    /// The nodes involved.
    pub nodes: Vec<NodeId>,
    /// The term involved, if one.
    pub term: Option<Term>,
    /// The index involved, if one.
    pub index: Option<LogIndex>,
    /// What happened, in words.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated", self.property)?;
        if !self.nodes.is_empty() {
            let names: Vec<String> = self.nodes.iter().map(|n| n.to_string()).collect();
            write!(f, " (nodes {}", names.join(", "))?;
            if let Some(t) = self.term {
                write!(f, ", term {t}")?;
            }
            if let Some(i) = self.index {
                write!(f, ", index {i}")?;
            }
            write!(f, ")")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for Violation {}

fn chain(prev: u64, term: Term, payload_hash: u64) -> u64 {
    stable_hash(&(prev, term.0, payload_hash))
}

/// The safety checker. Feed it the events as they happen.
#[derive(Clone, Debug, Default)]
pub struct InvariantChecker {
    leaders: VecMap<Term, NodeId>,
    /// Per node: chain hash of its log prefix ending at each index (index i
    /// at position i-1) and the term there.
    chains: Vec<Vec<(Term, u64)>>,
    /// (index, term) -> prefix hash and first writer, over every log ever
    /// written. The first term written at each index sits at position
    /// index-1 of `seen` (a lookup is one comparison); other terms at that
    /// index, rare, in `seen_more`.
    seen: Vec<(Term, u64, NodeId)>,
    seen_more: VecMap<(u64, u64), (u64, NodeId)>,
    /// Prefix hash of the committed log at each index, as first committed.
    committed: Vec<(u64, NodeId)>,
    /// The term each index of `committed` was first seen committed in (the
    /// committing node's current term), never decreasing along the log.
    commit_terms: Vec<Term>,
    /// Applied entries: term and prefix hash, and who applied first.
    applied: Vec<(Term, u64, NodeId)>,
    commit: Vec<Option<LogIndex>>,
    /// Per node, `Some(to)` when [`InvariantChecker::on_commit`] passed for
    /// `to` and nothing about the node changed since (its durable log, its
    /// commit index): the same check again would pass and change nothing,
    /// so it is skipped (the driver checks after every step of every node).
    commit_passed: Vec<Option<LogIndex>>,
    applied_upto: Vec<LogIndex>,
}

impl InvariantChecker {
    /// A checker for `nodes` nodes with empty logs.
    pub fn new(nodes: usize) -> Self {
        InvariantChecker {
            chains: vec![Vec::new(); nodes],
            commit: vec![Some(LogIndex(0)); nodes],
            commit_passed: vec![None; nodes],
            applied_upto: vec![LogIndex(0); nodes],
            ..Default::default()
        }
    }

    /// Highest index known committed anywhere.
    pub fn committed_index(&self) -> LogIndex {
        LogIndex(self.committed.len() as u64)
    }

    /// The node wrote to its durable log (Log Matching is checked here).
    pub fn on_log_write<C: Hash>(
        &mut self,
        node: NodeId,
        w: &LogWrite<C>,
    ) -> Result<(), Violation> {
        self.on_log_entries(node, w.from, &w.entries)
    }

    /// [`InvariantChecker::on_log_write`] for a write of `entries` from
    /// index `from` on, without the [`LogWrite`] around them.
    pub fn on_log_entries<C: Hash>(
        &mut self,
        node: NodeId,
        from: LogIndex,
        entries: &[Entry<C>],
    ) -> Result<(), Violation> {
        self.forget_passed_commit(node);
        let c = &mut self.chains[node.idx()];
        c.truncate((from.0 as usize).saturating_sub(1));
        for e in entries {
            let prev = c.last().map(|x| x.1).unwrap_or(0);
            let h = chain(prev, e.term, stable_hash(&e.payload));
            c.push((e.term, h));
            let pos = usize::try_from(e.index.0.wrapping_sub(1)).unwrap_or(usize::MAX);
            let seen = match self.seen.get(pos) {
                Some(&(t, other, who)) if t == e.term => Some((other, who)),
                _ => self.seen_more.get(&(e.index.0, e.term.0)).copied(),
            };
            match seen {
                Some((other, who)) if other != h => {
                    return Err(Violation {
                        property: "Log Matching".into(),
                        nodes: vec![who, node],
                        term: Some(e.term),
                        index: Some(e.index),
                        detail: format!(
                            "{node} and {who} both hold an entry of term {} at index {}, but their logs differ up to it",
                            e.term, e.index
                        ),
                    });
                }
                Some(_) => {}
                None if pos == self.seen.len() => self.seen.push((e.term, h, node)),
                None => {
                    self.seen_more.insert((e.index.0, e.term.0), (h, node));
                }
            }
        }
        Ok(())
    }

    /// The node won the election for `term` (Election Safety, Leader
    /// Completeness).
    pub fn on_leader(&mut self, node: NodeId, term: Term) -> Result<(), Violation> {
        if let Some(other) = self.leaders.get(&term) {
            if *other != node {
                return Err(Violation {
                    property: "Election Safety".into(),
                    nodes: vec![*other, node],
                    term: Some(term),
                    index: None,
                    detail: format!("{other} and {node} were both elected leader of term {term}"),
                });
            }
        }
        self.leaders.insert(term, node);
        let c = &self.chains[node.idx()];
        // Entries committed in terms before `term` form a prefix (commit
        // terms never decrease along the log); the prefix hash at its last
        // index covers them all.
        let idx = self.commit_terms.partition_point(|t| *t < term);
        if let Some((h, who)) = idx.checked_sub(1).map(|i| self.committed[i]) {
            let has = c.get(idx - 1).map(|x| x.1) == Some(h);
            if !has {
                return Err(Violation {
                    property: "Leader Completeness".into(),
                    nodes: vec![node, who],
                    term: Some(term),
                    index: Some(LogIndex(idx as u64)),
                    detail: format!(
                        "{node} became leader of term {term} without the entry committed at index {idx} in term {} (first committed by {who})",
                        self.commit_terms[idx - 1]
                    ),
                });
            }
        }
        Ok(())
    }

    /// The node, in its current term `term`, has commit index `to` (State
    /// Machine Safety at commit, monotonic commit index; `term` dates what
    /// it commits first, for Leader Completeness).
    /// The usual step changes nothing here and returns at once (inlined
    /// natively: the call cost more than the check).
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn on_commit(&mut self, node: NodeId, to: LogIndex, term: Term) -> Result<(), Violation> {
        if self.commit_passed.get(node.idx()) == Some(&Some(to)) {
            return Ok(());
        }
        self.on_new_commit(node, to, term)
    }

    /// [`InvariantChecker::on_commit`] for a commit index not yet checked.
    #[inline(never)]
    fn on_new_commit(&mut self, node: NodeId, to: LogIndex, term: Term) -> Result<(), Violation> {
        self.check_commit(node, to, term)?;
        if let Some(passed) = self.commit_passed.get_mut(node.idx()) {
            *passed = Some(to);
        }
        Ok(())
    }

    /// Forget that `node`'s commit check passed: something it depends on
    /// changed.
    fn forget_passed_commit(&mut self, node: NodeId) {
        if let Some(passed) = self.commit_passed.get_mut(node.idx()) {
            *passed = None;
        }
    }

    /// The checks of [`InvariantChecker::on_commit`].
    fn check_commit(&mut self, node: NodeId, to: LogIndex, now: Term) -> Result<(), Violation> {
        let slot = &mut self.commit[node.idx()];
        if let Some(prev) = *slot {
            if to < prev {
                return Err(Violation {
                    property: "Commit index monotonic".into(),
                    nodes: vec![node],
                    term: None,
                    index: Some(to),
                    detail: format!(
                        "{node}'s commit index went down from {prev} to {to} while it was up"
                    ),
                });
            }
        }
        *slot = Some(to);
        let c = &self.chains[node.idx()];
        let Some(&(term, h)) = c.get((to.0 as usize).wrapping_sub(1)) else {
            if to.0 == 0 {
                return Ok(());
            }
            return Err(Violation {
                property: "State Machine Safety".into(),
                nodes: vec![node],
                term: None,
                index: Some(to),
                detail: format!(
                    "{node} committed index {to} beyond its durable log of {} entries",
                    c.len()
                ),
            });
        };
        let known = self.committed.len();
        if (to.0 as usize) <= known {
            let (want, who) = self.committed[to.0 as usize - 1];
            if want != h {
                return Err(Violation {
                    property: "State Machine Safety".into(),
                    nodes: vec![who, node],
                    term: Some(term),
                    index: Some(to),
                    detail: format!(
                        "{node} committed a different log up to index {to} than {who} did"
                    ),
                });
            }
        } else {
            if known > 0 {
                let (want, who) = self.committed[known - 1];
                if c[known - 1].1 != want {
                    return Err(Violation {
                        property: "State Machine Safety".into(),
                        nodes: vec![who, node],
                        term: Some(c[known - 1].0),
                        index: Some(LogIndex(known as u64)),
                        detail: format!(
                            "{node} committed up to {to} over a log that differs at or before index {known} from what {who} committed"
                        ),
                    });
                }
            }
            // Only a leader of the newest term can commit past what is
            // known (an older one's followers have all moved on), so `now`
            // does not go below the last commit term; `max` keeps the order
            // that `on_leader`'s search needs even if it did.
            let at = self.commit_terms.last().map_or(now, |t| now.max(*t));
            for x in c.iter().take(to.0 as usize).skip(known) {
                self.committed.push((x.1, node));
                self.commit_terms.push(at);
            }
        }
        Ok(())
    }

    /// The node applied `entry` to its state machine.
    pub fn on_apply<C: Hash>(&mut self, node: NodeId, entry: &Entry<C>) -> Result<(), Violation> {
        let i = entry.index.0 as usize;
        let expected_next = self.applied_upto[node.idx()].next();
        if entry.index != expected_next {
            return Err(Violation {
                property: "State Machine Safety".into(),
                nodes: vec![node],
                term: Some(entry.term),
                index: Some(entry.index),
                detail: format!(
                    "{node} applied index {} but {} was next",
                    entry.index, expected_next
                ),
            });
        }
        self.applied_upto[node.idx()] = entry.index;
        let h = self.chains[node.idx()].get(i - 1).map(|x| x.1).unwrap_or(0);
        if i <= self.applied.len() {
            let (t, want, who) = self.applied[i - 1];
            if want != h {
                return Err(Violation {
                    property: "State Machine Safety".into(),
                    nodes: vec![who, node],
                    term: Some(entry.term),
                    index: Some(entry.index),
                    detail: format!(
                        "{node} applied a different entry (term {}) at index {} than {who} did (term {t})",
                        entry.term, entry.index
                    ),
                });
            }
        } else {
            self.applied.push((entry.term, h, node));
        }
        Ok(())
    }

    /// The node crashed: its commit index and state machine start over.
    pub fn on_crash(&mut self, node: NodeId) {
        self.forget_passed_commit(node);
        self.commit[node.idx()] = None;
        self.applied_upto[node.idx()] = LogIndex(0);
    }

    /// The node restarted with commit index 0.
    pub fn on_restart(&mut self, node: NodeId) {
        self.forget_passed_commit(node);
        self.commit[node.idx()] = Some(LogIndex(0));
        self.applied_upto[node.idx()] = LogIndex(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Payload;

    fn w(from: u64, terms: &[u64], tag: u32) -> LogWrite<u32> {
        LogWrite {
            from: LogIndex(from),
            entries: terms
                .iter()
                .enumerate()
                .map(|(i, t)| Entry {
                    term: Term(*t),
                    index: LogIndex(from + i as u64),
                    payload: Payload::Command(tag),
                })
                .collect(),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn two_leaders_in_one_term_is_caught() {
        let mut c = InvariantChecker::new(3);
        c.on_leader(NodeId(1), Term(2)).unwrap();
        let v = c.on_leader(NodeId(2), Term(2)).unwrap_err();
        assert_eq!(v.property, "Election Safety");
        assert_eq!(v.term, Some(Term(2)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn same_index_and_term_with_different_content_is_caught() {
        let mut c = InvariantChecker::new(3);
        c.on_log_write(NodeId(1), &w(1, &[1, 1], 7)).unwrap();
        let v = c.on_log_write(NodeId(2), &w(1, &[1, 1], 8)).unwrap_err();
        assert_eq!(v.property, "Log Matching");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn log_matching_holds_for_every_term_written_at_an_index() {
        let mut c = InvariantChecker::new(3);
        c.on_log_write(NodeId(1), &w(1, &[1, 1], 7)).unwrap();
        // Another term at the same indices: no conflict.
        c.on_log_write(NodeId(2), &w(1, &[2, 2], 8)).unwrap();
        c.on_log_write(NodeId(3), &w(1, &[2], 8)).unwrap();
        let v = c.on_log_write(NodeId(3), &w(2, &[2], 9)).unwrap_err();
        assert_eq!(v.property, "Log Matching");
        assert_eq!(v.nodes, vec![NodeId(2), NodeId(3)]);
        let v = c.on_log_write(NodeId(3), &w(1, &[1], 9)).unwrap_err();
        assert_eq!(v.nodes, vec![NodeId(1), NodeId(3)]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn leader_missing_committed_entry_is_caught() {
        let mut c = InvariantChecker::new(3);
        c.on_log_write(NodeId(1), &w(1, &[1, 1], 7)).unwrap();
        c.on_log_write(NodeId(2), &w(1, &[1], 7)).unwrap();
        c.on_commit(NodeId(1), LogIndex(2), Term(1)).unwrap();
        let v = c.on_leader(NodeId(2), Term(2)).unwrap_err();
        assert_eq!(v.property, "Leader Completeness");
        assert_eq!(v.index, Some(LogIndex(2)));
    }

    /// Raft §5.4: Leader Completeness binds leaders of terms after the one
    /// an entry was committed in, not every leader elected later: a
    /// candidate of an older term may win it late (delayed votes) without
    /// an entry a newer leader committed, and that is safe.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn completeness_binds_only_later_terms() {
        let mut c = InvariantChecker::new(3);
        c.on_log_write(NodeId(3), &w(1, &[10], 7)).unwrap();
        c.on_log_write(NodeId(1), &w(1, &[10], 7)).unwrap();
        c.on_leader(NodeId(3), Term(10)).unwrap();
        c.on_commit(NodeId(3), LogIndex(1), Term(10)).unwrap();
        // Committed in term 10: a leader of term 9, elected now, may lack it.
        c.on_leader(NodeId(2), Term(9)).unwrap();
        // A leader of term 11 may not.
        let v = c.on_leader(NodeId(2), Term(11)).unwrap_err();
        assert_eq!(v.property, "Leader Completeness");
        assert_eq!(v.index, Some(LogIndex(1)));
        assert!(v.detail.contains("in term 10"), "{}", v.detail);
        c.on_leader(NodeId(1), Term(12)).unwrap();
        // An entry of term 10 committed later, in term 12 (§5.4.2: with
        // one of term 12 above it): binds leaders of term 13 on, not 11.
        c.on_log_write(NodeId(1), &w(2, &[10, 12], 7)).unwrap();
        c.on_commit(NodeId(1), LogIndex(3), Term(12)).unwrap();
        c.on_log_write(NodeId(2), &w(1, &[10], 7)).unwrap();
        // Node 2 lacks index 2, committed in term 12: fine for its term 11.
        c.on_leader(NodeId(2), Term(11)).unwrap();
        let v = c.on_leader(NodeId(2), Term(13)).unwrap_err();
        assert_eq!(v.property, "Leader Completeness");
        assert_eq!(v.index, Some(LogIndex(3)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn different_committed_entries_and_decreasing_commit_are_caught() {
        let mut c = InvariantChecker::new(3);
        c.on_log_write(NodeId(1), &w(1, &[1], 7)).unwrap();
        c.on_log_write(NodeId(2), &w(1, &[2], 8)).unwrap();
        c.on_commit(NodeId(1), LogIndex(1), Term(1)).unwrap();
        let v = c.on_commit(NodeId(2), LogIndex(1), Term(1)).unwrap_err();
        assert_eq!(v.property, "State Machine Safety");
        let v = c.on_commit(NodeId(1), LogIndex(0), Term(1)).unwrap_err();
        assert_eq!(v.property, "Commit index monotonic");
        c.on_crash(NodeId(1));
        c.on_restart(NodeId(1));
        c.on_commit(NodeId(1), LogIndex(0), Term(1)).unwrap();
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn different_applied_entries_are_caught() {
        let mut c = InvariantChecker::new(2);
        let a = w(1, &[1], 7);
        let b = w(1, &[2], 8);
        c.on_log_write(NodeId(1), &a).unwrap();
        c.on_log_write(NodeId(2), &b).unwrap();
        c.on_apply(NodeId(1), &a.entries[0]).unwrap();
        let v = c.on_apply(NodeId(2), &b.entries[0]).unwrap_err();
        assert_eq!(v.property, "State Machine Safety");
    }
}

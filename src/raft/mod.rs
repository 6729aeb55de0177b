//! The sans-IO Raft consensus core: one node, no clock, no I/O, no global
//! randomness (Raft paper §5, dissertation ch. 3).
//!
//! A [`RaftNode`] is a pure state machine. Every input carries the current
//! virtual time in microseconds: [`RaftNode::handle_message`],
//! [`RaftNode::handle_timeout`], [`RaftNode::propose`],
//! [`RaftNode::read_index`]. The node says when it next wants to be woken
//! ([`RaftNode::next_deadline`]) and hands out its effects in one drained
//! [`Ready`] ([`RaftNode::take_ready`]), which keeps apart what must be
//! **persisted** (hard state and log writes), what may be **sent** only after
//! that, what is **committed** and must be applied, and which linearizable
//! **reads** are confirmed. The driver does all I/O, in that order.
//!
//! What is implemented, with the paper sections:
//! - Roles and terms (§5.1); elections with randomized timeouts redrawn at
//!   every reset, one vote per term (§5.2); the up-to-date check (§5.4.1).
//! - Log replication with the consistency check, truncation of conflicting
//!   suffixes and fast backtracking with conflict-term hints (§5.3), batching
//!   up to `max_entries_per_message` and pipelining with at most
//!   `max_inflight` AppendEntries outstanding per follower.
//! - The commit rule: only entries of the leader's own term are committed by
//!   counting replicas (§5.4.2); a new leader appends a no-op (§8).
//! - ReadIndex reads (dissertation §6.4): a read is confirmed once the leader
//!   has committed an entry of its term and a majority has acknowledged a
//!   heartbeat round started after the read arrived.
//! - Persistence (§5, Figure 2): term, vote and log changes are in the same
//!   `Ready` as the messages that depend on them and the driver persists
//!   first; [`RaftNode::restore`] rebuilds a node from storage only.

mod node;
mod types;

pub use node::{
    Config, LogWrite, NodeEvent, ProposeError, RaftNode, Ready, ReadyRead, MAX_TIMING_US,
};
pub use types::*;

#[cfg(test)]
mod tests;

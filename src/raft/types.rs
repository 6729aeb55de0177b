//! Names from the paper (Raft §5, Figure 2): [`Term`], [`LogIndex`], [`NodeId`],
//! log [`Entry`]s and the RPC [`Message`]s that nodes exchange.

use crate::json::{self, FromJson, Json, JsonError, JsonOut, ToJson};
use std::fmt;

/// A Raft term (Raft §5.1). Terms start at 0 and only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term(pub u64);

/// A position in the replicated log. Index 0 is the empty prefix; the first entry is 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogIndex(pub u64);

/// A node's identity. Nodes are numbered from 1 and shown as `S1`, `S2`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    /// Zero-based position of this node in per-node vectors.
    pub fn idx(self) -> usize {
        (self.0 as usize).saturating_sub(1)
    }
    /// The node at zero-based position `i`.
    pub fn from_idx(i: usize) -> NodeId {
        NodeId(i as u32 + 1)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S{}", self.0)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for LogIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl LogIndex {
    /// The index after this one.
    pub fn next(self) -> LogIndex {
        LogIndex(self.0 + 1)
    }
    /// The index before this one (saturating at 0).
    pub fn prev(self) -> LogIndex {
        LogIndex(self.0.saturating_sub(1))
    }
}

/// What a log entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload<C> {
    /// The entry a new leader appends at the start of its term (Raft §5.4.2, §8).
    Noop,
    /// A state-machine command.
    Command(C),
}

/// One log entry (Raft Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry<C> {
    /// Term of the leader that created the entry.
    pub term: Term,
    /// Position in the log.
    pub index: LogIndex,
    /// What the entry carries.
    pub payload: Payload<C>,
}

/// Durable per-node state other than the log (Raft Figure 2, "persistent state").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardState {
    /// Latest term this node has seen.
    pub current_term: Term,
    /// Candidate that received this node's vote in `current_term`.
    pub voted_for: Option<NodeId>,
}

/// The role a node plays (Raft §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Passive: answers leaders and candidates.
    Follower,
    /// Asking for votes.
    Candidate,
    /// Handles all client requests and replicates the log.
    Leader,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        })
    }
}

/// Where a follower's log diverges, returned on a failed AppendEntries so the
/// leader can skip a whole term at a time (Raft §5.3, "fast backtracking").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConflictHint {
    /// Term of the follower's entry at `prev_log_index`, if it has one there.
    pub conflict_term: Option<Term>,
    /// First index the follower holds for `conflict_term`, or its log length + 1
    /// when its log is too short.
    pub first_index: LogIndex,
}

/// The body of a Raft RPC (Raft Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rpc<C> {
    /// Invoked by candidates to gather votes (Raft §5.2).
    RequestVote {
        /// Candidate's term.
        term: Term,
        /// Index of the candidate's last log entry (§5.4).
        last_log_index: LogIndex,
        /// Term of the candidate's last log entry (§5.4).
        last_log_term: Term,
    },
    /// A vote, granted or not.
    RequestVoteReply {
        /// The voter's current term.
        term: Term,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// Invoked by the leader to replicate entries; also the heartbeat (§5.3).
    AppendEntries {
        /// Leader's term.
        term: Term,
        /// Index of the entry before the new ones.
        prev_log_index: LogIndex,
        /// Term of that entry.
        prev_log_term: Term,
        /// Entries to store (empty for a heartbeat).
        entries: Vec<Entry<C>>,
        /// Leader's commit index.
        leader_commit: LogIndex,
        /// Heartbeat round, echoed in the reply; confirms leadership for reads
        /// (ReadIndex, dissertation §6.4).
        round: u64,
    },
    /// A follower's answer to AppendEntries.
    AppendEntriesReply {
        /// Follower's current term.
        term: Term,
        /// True if the follower matched `prev_log_index`/`prev_log_term`.
        success: bool,
        /// On success, the last index known to match the leader's log.
        match_index: LogIndex,
        /// On failure, where to retry from.
        conflict: Option<ConflictHint>,
        /// The round of the request being answered.
        round: u64,
    },
}

impl<C> Rpc<C> {
    /// Whether this RPC holds heap memory (an AppendEntries with room
    /// for entries): only then must it be dropped rather than forgotten
    /// (the simulator's `EventQueue::release_with`).
    #[inline(always)]
    pub fn owns_heap(&self) -> bool {
        match self {
            Rpc::AppendEntries { entries, .. } => entries.capacity() != 0,
            Rpc::RequestVote { .. }
            | Rpc::RequestVoteReply { .. }
            | Rpc::AppendEntriesReply { .. } => false,
        }
    }

    /// The term the sender had when it sent this message.
    pub fn term(&self) -> Term {
        match self {
            Rpc::RequestVote { term, .. }
            | Rpc::RequestVoteReply { term, .. }
            | Rpc::AppendEntries { term, .. }
            | Rpc::AppendEntriesReply { term, .. } => *term,
        }
    }

    /// A short name for the message kind, as the paper writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Rpc::RequestVote { .. } => "RequestVote",
            Rpc::RequestVoteReply { .. } => "RequestVoteReply",
            Rpc::AppendEntries { .. } => "AppendEntries",
            Rpc::AppendEntriesReply { .. } => "AppendEntriesReply",
        }
    }
}

/// A message between two nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message<C> {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The RPC.
    pub rpc: Rpc<C>,
}

// ----- JSON, written and read (see `crate::json`) ----------------------------------

impl FromJson for Term {
    fn from_json(v: &Json) -> Result<Term, JsonError> {
        u64::from_json(v).map(Term)
    }
}

impl FromJson for LogIndex {
    fn from_json(v: &Json) -> Result<LogIndex, JsonError> {
        u64::from_json(v).map(LogIndex)
    }
}

impl FromJson for NodeId {
    fn from_json(v: &Json) -> Result<NodeId, JsonError> {
        u32::from_json(v).map(NodeId)
    }
}

impl<C: FromJson> FromJson for Payload<C> {
    fn from_json(v: &Json) -> Result<Payload<C>, JsonError> {
        match v.variant()? {
            ("Noop", _) => Ok(Payload::Noop),
            ("Command", None) => Err(JsonError::new(
                "expected {\"Command\": …}, found \"Command\" without its data",
            )),
            ("Command", Some(c)) => C::from_json(c)
                .map(Payload::Command)
                .map_err(|e| e.in_field("Command")),
            (name, _) => Err(json::unknown_variant(name, &["Noop", "Command"])),
        }
    }
}

impl<C: FromJson> FromJson for Entry<C> {
    fn from_json(v: &Json) -> Result<Entry<C>, JsonError> {
        let o = v.obj()?;
        Ok(Entry {
            term: o.req("term")?,
            index: o.req("index")?,
            payload: o.req("payload")?,
        })
    }
}

impl FromJson for HardState {
    fn from_json(v: &Json) -> Result<HardState, JsonError> {
        let o = v.obj()?;
        Ok(HardState {
            current_term: o.req("current_term")?,
            voted_for: o.opt("voted_for")?,
        })
    }
}

impl ToJson for Term {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(self.0)
    }
}

impl ToJson for LogIndex {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(self.0)
    }
}

impl ToJson for NodeId {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(u64::from(self.0))
    }
}

/// Externally tagged: `"Noop"` or `{"Command": …}`.
impl<C: ToJson> ToJson for Payload<C> {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Payload::Noop => out.str("Noop"),
            Payload::Command(c) => {
                out.begin_variant("Command");
                c.write_json(out);
                out.end_obj();
            }
        }
    }
}

impl<C: ToJson> ToJson for Entry<C> {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("term", &self.term);
        out.field("index", &self.index);
        out.field("payload", &self.payload);
        out.end_obj();
    }
}

impl ToJson for HardState {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("current_term", &self.current_term);
        out.field("voted_for", &self.voted_for);
        out.end_obj();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn only_append_entries_with_room_owns_heap() {
        let append = |entries: Vec<Entry<u8>>| Rpc::AppendEntries {
            term: Term(1),
            prev_log_index: LogIndex(0),
            prev_log_term: Term(0),
            entries,
            leader_commit: LogIndex(0),
            round: 1,
        };
        assert!(!append(Vec::new()).owns_heap(), "a heartbeat");
        assert!(append(Vec::with_capacity(1)).owns_heap());
        let entry = Entry {
            term: Term(1),
            index: LogIndex(1),
            payload: Payload::Command(7u8),
        };
        let mut taken = append(vec![entry]);
        assert!(taken.owns_heap());
        if let Rpc::AppendEntries { entries, .. } = &mut taken {
            drop(std::mem::take(entries));
        }
        assert!(!taken.owns_heap(), "entries moved out");
        let vote: Rpc<u8> = Rpc::RequestVoteReply {
            term: Term(1),
            granted: true,
        };
        assert!(!vote.owns_heap());
    }
}

//! The typed trace: one [`TraceEvent`] per thing that happened, stamped with
//! virtual time. The page's narration, the replay, the tests and the checkers
//! all read this one stream; a portable hash of it identifies a run.

use crate::kv::{ClientId, Op, OpResult};
use crate::raft::{LogIndex, NodeId, Term};
use crate::rng::StableHasher;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A network endpoint: a Raft node or a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    /// A Raft node.
    Node(NodeId),
    /// A client (clerk).
    Client(ClientId),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Node(n) => write!(f, "{n}"),
            Endpoint::Client(c) => write!(f, "{c}"),
        }
    }
}

/// The kind of a message on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MsgKind {
    /// RequestVote.
    RequestVote,
    /// A vote reply.
    RequestVoteReply,
    /// AppendEntries carrying entries.
    AppendEntries,
    /// AppendEntries with no entries.
    Heartbeat,
    /// Reply to AppendEntries or a heartbeat.
    AppendEntriesReply,
    /// A client's request.
    ClientRequest,
    /// A node's answer to a client.
    ClientReply,
}

impl MsgKind {
    /// The name as the page shows it.
    pub fn name(self) -> &'static str {
        match self {
            MsgKind::RequestVote => "RequestVote",
            MsgKind::RequestVoteReply => "RequestVoteReply",
            MsgKind::AppendEntries => "AppendEntries",
            MsgKind::Heartbeat => "Heartbeat",
            MsgKind::AppendEntriesReply => "AppendEntriesReply",
            MsgKind::ClientRequest => "ClientRequest",
            MsgKind::ClientReply => "ClientReply",
        }
    }
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DropReason {
    /// Random loss.
    Lost,
    /// The link was cut.
    Cut,
    /// The receiver was down (or restarted since the message was sent).
    ReceiverDown,
}

/// Something that happened in the simulation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum TraceEvent {
    /// A follower or candidate timed out and started an election.
    ElectionTimeout { node: NodeId, term: Term },
    /// A node granted its vote.
    Voted {
        voter: NodeId,
        candidate: NodeId,
        term: Term,
    },
    /// A node refused its vote.
    VoteRefused {
        voter: NodeId,
        candidate: NodeId,
        term: Term,
        reason: String,
    },
    /// A candidate won.
    BecameLeader {
        node: NodeId,
        term: Term,
        votes: Vec<NodeId>,
    },
    /// A node became a follower.
    BecameFollower {
        node: NodeId,
        term: Term,
        because_of: NodeId,
    },
    /// A node stored entries `from..=to` (durably).
    Appended {
        node: NodeId,
        from: LogIndex,
        to: LogIndex,
        last_term: Term,
    },
    /// A node removed conflicting entries.
    Truncated {
        node: NodeId,
        from: LogIndex,
        count: u64,
    },
    /// A node's commit index advanced.
    Committed {
        node: NodeId,
        from: LogIndex,
        to: LogIndex,
    },
    /// A node applied an entry to its state machine.
    Applied {
        node: NodeId,
        index: LogIndex,
        term: Term,
        what: String,
    },
    /// A node ignored a message.
    Ignored {
        node: NodeId,
        from: NodeId,
        kind: String,
        term: Term,
    },
    /// A message left its sender.
    Sent {
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
        duplicate: bool,
    },
    /// A message reached its receiver.
    Delivered {
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
    },
    /// A message never arrived.
    Dropped {
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
        reason: DropReason,
    },
    /// A client invoked an operation.
    ClientInvoke { client: ClientId, seq: u64, op: Op },
    /// A client (re)sent its request to a node.
    ClientSend {
        client: ClientId,
        seq: u64,
        to: NodeId,
        attempt: u32,
    },
    /// A client was told to go elsewhere.
    ClientRedirect {
        client: ClientId,
        seq: u64,
        from: NodeId,
        leader_hint: Option<NodeId>,
    },
    /// A client gave up waiting and will retry.
    ClientTimeout {
        client: ClientId,
        seq: u64,
        node: NodeId,
    },
    /// A client got its answer.
    ClientReturn {
        client: ClientId,
        seq: u64,
        result: OpResult,
        latency_us: u64,
    },
    /// A client's stale read returned a node's local value.
    StaleRead {
        client: ClientId,
        node: NodeId,
        key: String,
        value: Option<String>,
    },
    /// A node served a linearizable read at `read_index`.
    ReadServed {
        node: NodeId,
        client: ClientId,
        read_index: LogIndex,
    },
    /// A node crashed.
    Crashed { node: NodeId },
    /// A node restarted from its storage.
    Restarted {
        node: NodeId,
        term: Term,
        log_len: u64,
    },
    /// A link's cut state changed.
    LinkCut { from: NodeId, to: NodeId, cut: bool },
    /// Network parameters changed.
    NetworkChanged { what: String },
    /// The user or a script did something (force a timeout, change settings).
    Action { what: String },
    /// A safety invariant broke; the run stops.
    Violation { message: String },
}

/// A trace event with its virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamped {
    /// Sequence number in the run.
    pub seq: u64,
    /// Virtual time in microseconds.
    pub at_us: u64,
    /// The event.
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// The trace: a running hash of every event and the most recent events.
#[derive(Clone, Debug)]
pub struct Trace {
    hasher: StableHasher,
    events: VecDeque<Stamped>,
    keep: usize,
    count: u64,
}

impl Trace {
    /// A trace that keeps the last `keep` events (all hashed).
    pub fn new(keep: usize) -> Self {
        Trace {
            hasher: StableHasher::default(),
            events: VecDeque::new(),
            keep,
            count: 0,
        }
    }

    /// Record an event.
    pub fn push(&mut self, at_us: u64, event: TraceEvent) {
        let s = Stamped {
            seq: self.count,
            at_us,
            event,
        };
        s.hash(&mut self.hasher);
        self.count += 1;
        if self.keep > 0 {
            if self.events.len() == self.keep {
                self.events.pop_front();
            }
            self.events.push_back(s);
        }
    }

    /// The hash of every event so far; equal hashes mean equal runs.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// How many events so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The kept events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Stamped> {
        self.events.iter()
    }

    /// Events with sequence number at least `seq`.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = &Stamped> {
        self.events.iter().filter(move |e| e.seq >= seq)
    }

    /// Change how many events are kept.
    pub fn set_keep(&mut self, keep: usize) {
        self.keep = keep;
        while self.events.len() > keep {
            self.events.pop_front();
        }
    }
}

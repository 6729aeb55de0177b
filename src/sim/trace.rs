//! The typed trace: one [`TraceEvent`] per thing that happened, stamped with
//! virtual time. The page's narration, the replay, the tests and the checkers
//! all read this one stream; a portable hash of it identifies a run.

use crate::json::{JsonOut, ToJson};
use crate::kv::{ClientId, Op, OpResult};
use crate::raft::{LogIndex, NodeId, Term};
use crate::rng::StableHasher;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A network endpoint: a Raft node or a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A Raft node.
    Node(NodeId),
    /// A client (clerk).
    Client(ClientId),
}

/// Bits of a message id in its packed trace hash ([`Trace::push_sent`]);
/// the flags take the 19 above.
const MESSAGE_ID_BITS: u32 = 45;

impl Endpoint {
    /// The endpoint as 33 bits for the trace hash: the id, and bit 32 set
    /// for a client.
    #[inline(always)]
    fn code(self) -> u64 {
        match self {
            Endpoint::Node(n) => u64::from(n.0),
            Endpoint::Client(c) => (1 << 32) | u64::from(c.0),
        }
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// How many [`MsgKind`]s there are.
pub const MSG_KINDS: usize = 7;

impl MsgKind {
    /// Every kind, in order.
    pub const ALL: [MsgKind; MSG_KINDS] = [
        MsgKind::RequestVote,
        MsgKind::RequestVoteReply,
        MsgKind::AppendEntries,
        MsgKind::Heartbeat,
        MsgKind::AppendEntriesReply,
        MsgKind::ClientRequest,
        MsgKind::ClientReply,
    ];

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Random loss.
    Lost,
    /// The link was cut.
    Cut,
    /// The receiver was down (or restarted since the message was sent).
    ReceiverDown,
}

/// Something that happened in the simulation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    /// A node applied an entry to its state machine: client `call`'s
    /// command (`None` for a no-op), described in `what`.
    Applied {
        node: NodeId,
        index: LogIndex,
        term: Term,
        call: Option<(ClientId, u64)>,
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
    /// A client crashed ([`super::Simulation::crash_client`]), abandoning
    /// call `seq` if one was in progress. (Last, so that the variants
    /// before it keep their discriminants, which the hash covers.)
    ClientCrashed { client: ClientId, seq: Option<u64> },
}

// Positions of the variants [`Trace`] hashes without building them, hashed
// as the derived `Hash` hashes a discriminant (an `isize`).
const APPENDED_DISCRIMINANT: isize = 5;
const COMMITTED_DISCRIMINANT: isize = 7;
const APPLIED_DISCRIMINANT: isize = 8;
const SENT_DISCRIMINANT: isize = 10;
const DELIVERED_DISCRIMINANT: isize = 11;
const CLIENT_INVOKE_DISCRIMINANT: isize = 13;

/// A trace event with its virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stamped {
    /// Sequence number in the run.
    pub seq: u64,
    /// Virtual time in microseconds.
    pub at_us: u64,
    /// The event.
    pub event: TraceEvent,
}

// ----- JSON (see `crate::json`) ------------------------------------------------------

/// Externally tagged: `{"Node": 2}` or `{"Client": 7}`.
impl ToJson for Endpoint {
    fn write_json(&self, out: &mut JsonOut) {
        let (name, id) = match self {
            Endpoint::Node(n) => ("Node", n.0),
            Endpoint::Client(c) => ("Client", c.0),
        };
        out.begin_variant(name);
        out.u64(u64::from(id));
        out.end_obj();
    }
}

/// Its name: `"AppendEntries"`.
impl ToJson for MsgKind {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self.name())
    }
}

/// Its name: `"Lost"`, `"Cut"` or `"ReceiverDown"`.
impl ToJson for DropReason {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(match self {
            DropReason::Lost => "Lost",
            DropReason::Cut => "Cut",
            DropReason::ReceiverDown => "ReceiverDown",
        })
    }
}

/// Internally tagged: `{"type": "Voted", "voter": 1, …}`.
impl ToJson for TraceEvent {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        self.write_fields(out);
        out.end_obj();
    }
}

impl TraceEvent {
    /// The fields [`ToJson`] writes (`"type":"Voted","voter":1,…`),
    /// without the braces: a [`Stamped`] event has them inline.
    pub fn write_fields(&self, out: &mut JsonOut) {
        use TraceEvent as E;
        let tag = |out: &mut JsonOut, name: &str| out.field("type", name);
        match self {
            E::ElectionTimeout { node, term } => {
                tag(out, "ElectionTimeout");
                out.field("node", node);
                out.field("term", term);
            }
            E::Voted {
                voter,
                candidate,
                term,
            } => {
                tag(out, "Voted");
                out.field("voter", voter);
                out.field("candidate", candidate);
                out.field("term", term);
            }
            E::VoteRefused {
                voter,
                candidate,
                term,
                reason,
            } => {
                tag(out, "VoteRefused");
                out.field("voter", voter);
                out.field("candidate", candidate);
                out.field("term", term);
                out.field("reason", reason);
            }
            E::BecameLeader { node, term, votes } => {
                tag(out, "BecameLeader");
                out.field("node", node);
                out.field("term", term);
                out.field("votes", votes);
            }
            E::BecameFollower {
                node,
                term,
                because_of,
            } => {
                tag(out, "BecameFollower");
                out.field("node", node);
                out.field("term", term);
                out.field("because_of", because_of);
            }
            E::Appended {
                node,
                from,
                to,
                last_term,
            } => {
                tag(out, "Appended");
                out.field("node", node);
                out.field("from", from);
                out.field("to", to);
                out.field("last_term", last_term);
            }
            E::Truncated { node, from, count } => {
                tag(out, "Truncated");
                out.field("node", node);
                out.field("from", from);
                out.field("count", count);
            }
            E::Committed { node, from, to } => {
                tag(out, "Committed");
                out.field("node", node);
                out.field("from", from);
                out.field("to", to);
            }
            E::Applied {
                node,
                index,
                term,
                call,
                what,
            } => {
                tag(out, "Applied");
                out.field("node", node);
                out.field("index", index);
                out.field("term", term);
                out.field("client", &call.map(|(c, _)| c));
                out.field("call", &call.map(|(_, seq)| seq));
                out.field("what", what);
            }
            E::Ignored {
                node,
                from,
                kind,
                term,
            } => {
                tag(out, "Ignored");
                out.field("node", node);
                out.field("from", from);
                out.field("kind", kind);
                out.field("term", term);
            }
            E::Sent {
                id,
                from,
                to,
                kind,
                duplicate,
            } => {
                tag(out, "Sent");
                out.field("id", id);
                out.field("from", from);
                out.field("to", to);
                out.field("kind", kind);
                out.field("duplicate", duplicate);
            }
            E::Delivered { id, from, to, kind } => {
                tag(out, "Delivered");
                out.field("id", id);
                out.field("from", from);
                out.field("to", to);
                out.field("kind", kind);
            }
            E::Dropped {
                id,
                from,
                to,
                kind,
                reason,
            } => {
                tag(out, "Dropped");
                out.field("id", id);
                out.field("from", from);
                out.field("to", to);
                out.field("kind", kind);
                out.field("reason", reason);
            }
            E::ClientInvoke { client, seq, op } => {
                tag(out, "ClientInvoke");
                out.field("client", client);
                out.field("call", seq);
                out.field("op", op);
            }
            E::ClientSend {
                client,
                seq,
                to,
                attempt,
            } => {
                tag(out, "ClientSend");
                out.field("client", client);
                out.field("call", seq);
                out.field("to", to);
                out.field("attempt", attempt);
            }
            E::ClientRedirect {
                client,
                seq,
                from,
                leader_hint,
            } => {
                tag(out, "ClientRedirect");
                out.field("client", client);
                out.field("call", seq);
                out.field("from", from);
                out.field("leader_hint", leader_hint);
            }
            E::ClientTimeout { client, seq, node } => {
                tag(out, "ClientTimeout");
                out.field("client", client);
                out.field("call", seq);
                out.field("node", node);
            }
            E::ClientReturn {
                client,
                seq,
                result,
                latency_us,
            } => {
                tag(out, "ClientReturn");
                out.field("client", client);
                out.field("call", seq);
                out.field("result", result);
                out.field("latency_us", latency_us);
            }
            E::StaleRead {
                client,
                node,
                key,
                value,
            } => {
                tag(out, "StaleRead");
                out.field("client", client);
                out.field("node", node);
                out.field("key", key);
                out.field("value", value);
            }
            E::ReadServed {
                node,
                client,
                read_index,
            } => {
                tag(out, "ReadServed");
                out.field("node", node);
                out.field("client", client);
                out.field("read_index", read_index);
            }
            E::Crashed { node } => {
                tag(out, "Crashed");
                out.field("node", node);
            }
            E::Restarted {
                node,
                term,
                log_len,
            } => {
                tag(out, "Restarted");
                out.field("node", node);
                out.field("term", term);
                out.field("log_len", log_len);
            }
            E::LinkCut { from, to, cut } => {
                tag(out, "LinkCut");
                out.field("from", from);
                out.field("to", to);
                out.field("cut", cut);
            }
            E::NetworkChanged { what } => {
                tag(out, "NetworkChanged");
                out.field("what", what);
            }
            E::Action { what } => {
                tag(out, "Action");
                out.field("what", what);
            }
            E::Violation { message } => {
                tag(out, "Violation");
                out.field("message", message);
            }
            E::ClientCrashed { client, seq } => {
                tag(out, "ClientCrashed");
                out.field("client", client);
                out.field("call", seq);
            }
        }
    }
}

/// `{"seq": …, "at_us": …, "type": …, …}`: the event's fields inline,
/// after the stamp's. A client event's own sequence number (the client's
/// call number) is its `call` field: it was once `seq` as well, which gave
/// those objects the key `seq` twice, and readers kept one or the other.
impl ToJson for Stamped {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("seq", &self.seq);
        out.field("at_us", &self.at_us);
        self.event.write_fields(out);
        out.end_obj();
    }
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
        match s.event {
            TraceEvent::Sent {
                id,
                from,
                to,
                kind,
                duplicate,
            } => self.hash_message(at_us, SENT_DISCRIMINANT, id, from, to, kind, duplicate),
            TraceEvent::Delivered { id, from, to, kind } => {
                self.hash_message(at_us, DELIVERED_DISCRIMINANT, id, from, to, kind, false)
            }
            _ => {
                s.hash(&mut self.hasher);
                self.count += 1;
            }
        }
        if self.keep > 0 {
            self.keep_event(s);
        }
    }

    /// Hash a [`TraceEvent::Sent`] (`discriminant` [`SENT_DISCRIMINANT`])
    /// or [`TraceEvent::Delivered`] (`duplicate` false), and count it. The
    /// two most frequent events (one of each per message) are hashed packed
    /// rather than as the derived `Hash` would (ten words), in three words:
    /// the time; the message id in the low 45 bits under the discriminant,
    /// kind, duplicate flag and endpoint kinds (19 bits); and the two
    /// endpoint ids. The sequence number is left out: the hash is a chain,
    /// so an event's position is already in it (the tests swap two
    /// events). Ids from 2^45 on (35 trillion messages) would share bits
    /// with the flags, which a hash that identifies runs can afford. It was
    /// five words, with the sequence number, and the flags apart: the
    /// multiply chain is a serial dependency, two fewer links per event.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn hash_message(
        &mut self,
        at_us: u64,
        discriminant: isize,
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
        duplicate: bool,
    ) {
        let (from, to) = (from.code(), to.code());
        let tag = discriminant as u64
            | (kind as u64) << 8
            | u64::from(duplicate) << 16
            | (from >> 32) << 17
            | (to >> 32) << 18;
        let h = &mut self.hasher;
        h.write_u64(at_us);
        h.write_u64(id ^ tag << MESSAGE_ID_BITS);
        h.write_u64((from & 0xffff_ffff) | (to & 0xffff_ffff) << 32);
        self.count += 1;
    }

    /// Keep `s` (already hashed), dropping the oldest beyond `keep`.
    fn keep_event(&mut self, s: Stamped) {
        if self.events.len() == self.keep {
            self.events.pop_front();
        }
        self.events.push_back(s);
    }

    /// Record [`TraceEvent::Applied`]: `node` applied entry `index` of
    /// `term`, whose content is `source` (the entry's payload and whether it
    /// was a duplicate); `describe` writes its text and returns the client
    /// call it carries, called only when the event is kept.
    ///
    /// The hash covers `source` itself, not the text: the text is a function
    /// of it, and writing it out for every applied entry on every node was
    /// a tenth of a busy run's time. So unlike the other events, an
    /// `Applied` event's share of the hash is not the derived hash of the
    /// kept event; kept or not, the trace hash is the same.
    pub fn push_applied(
        &mut self,
        at_us: u64,
        node: NodeId,
        index: LogIndex,
        term: Term,
        source: &impl Hash,
        describe: impl FnOnce(&mut String) -> Option<(ClientId, u64)>,
    ) {
        let seq = self.count;
        let h = self.hash_head(at_us, APPLIED_DISCRIMINANT);
        node.hash(h);
        index.hash(h);
        term.hash(h);
        source.hash(h);
        if self.keep > 0 {
            let mut what = String::new();
            let call = describe(&mut what);
            self.keep_event(Stamped {
                seq,
                at_us,
                event: TraceEvent::Applied {
                    node,
                    index,
                    term,
                    call,
                    what,
                },
            });
        }
    }

    /// Record [`TraceEvent::Appended`] (once per node per write): hashed
    /// field by field, built only when kept.
    pub fn push_appended(
        &mut self,
        at_us: u64,
        node: NodeId,
        from: LogIndex,
        to: LogIndex,
        last_term: Term,
    ) {
        if self.keep > 0 {
            let event = TraceEvent::Appended {
                node,
                from,
                to,
                last_term,
            };
            return self.push(at_us, event);
        }
        let h = self.hash_head(at_us, APPENDED_DISCRIMINANT);
        node.hash(h);
        from.hash(h);
        to.hash(h);
        last_term.hash(h);
    }

    /// Record [`TraceEvent::Committed`] (once per node per commit), as
    /// [`Trace::push_appended`].
    pub fn push_committed(&mut self, at_us: u64, node: NodeId, from: LogIndex, to: LogIndex) {
        if self.keep > 0 {
            return self.push(at_us, TraceEvent::Committed { node, from, to });
        }
        let h = self.hash_head(at_us, COMMITTED_DISCRIMINANT);
        node.hash(h);
        from.hash(h);
        to.hash(h);
    }

    /// Record [`TraceEvent::ClientInvoke`]; the operation is copied only
    /// when events are kept.
    pub fn push_client_invoke(&mut self, at_us: u64, client: ClientId, seq: u64, op: &Op) {
        if self.keep > 0 {
            let op = op.clone();
            return self.push(at_us, TraceEvent::ClientInvoke { client, seq, op });
        }
        let h = self.hash_head(at_us, CLIENT_INVOKE_DISCRIMINANT);
        client.hash(h);
        seq.hash(h);
        op.hash(h);
    }

    /// Record [`TraceEvent::Sent`] (the most frequent event, with
    /// `Delivered`): hashed packed (`Trace::hash_message`), built only
    /// when kept.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn push_sent(
        &mut self,
        at_us: u64,
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
        duplicate: bool,
    ) {
        if self.keep > 0 {
            return self.push(
                at_us,
                TraceEvent::Sent {
                    id,
                    from,
                    to,
                    kind,
                    duplicate,
                },
            );
        }
        self.hash_message(at_us, SENT_DISCRIMINANT, id, from, to, kind, duplicate);
    }

    /// Record [`TraceEvent::Delivered`], as [`Trace::push_sent`].
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn push_delivered(
        &mut self,
        at_us: u64,
        id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
    ) {
        if self.keep > 0 {
            return self.push(at_us, TraceEvent::Delivered { id, from, to, kind });
        }
        self.hash_message(at_us, DELIVERED_DISCRIMINANT, id, from, to, kind, false);
    }

    /// Hash the start of an event that is not kept, field by field as
    /// `#[derive(Hash)]` does for [`Stamped`] and [`TraceEvent`] (the tests
    /// check each fast path against the derived hash); the caller hashes the
    /// variant's fields next.
    fn hash_head(&mut self, at_us: u64, discriminant: isize) -> &mut StableHasher {
        let h = &mut self.hasher;
        self.count.hash(h);
        at_us.hash(h);
        discriminant.hash(h);
        self.count += 1;
        h
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a sent or delivered message is in its packed hash.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn message_hash_covers_every_field() {
        let (n1, n2) = (Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2)));
        let (c1, c2) = (Endpoint::Client(ClientId(1)), Endpoint::Client(ClientId(2)));
        let sent = |at, id, from, to, kind, dup| {
            let mut t = Trace::new(0);
            t.push_sent(at, id, from, to, kind, dup);
            t.hash()
        };
        let delivered = |at, id, from, to, kind| {
            let mut t = Trace::new(0);
            t.push_delivered(at, id, from, to, kind);
            t.hash()
        };
        let hb = MsgKind::Heartbeat;
        let base = sent(5, 7, n1, n2, hb, false);
        let variants = [
            sent(6, 7, n1, n2, hb, false),
            sent(5, 8, n1, n2, hb, false),
            sent(5, 7, n2, n1, hb, false),
            sent(5, 7, c1, n2, hb, false),
            sent(5, 7, n1, c2, hb, false),
            sent(5, 7, n1, n2, MsgKind::AppendEntries, false),
            sent(5, 7, n1, n2, hb, true),
            delivered(5, 7, n1, n2, hb),
            sent(5, 7, Endpoint::Node(NodeId(3)), n2, hb, false),
            sent(5, 7, n1, Endpoint::Node(NodeId(3)), hb, false),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i}");
        }
        let mut all: Vec<u64> = variants.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), variants.len());
    }

    /// The packed message hash leaves the sequence number out: the order
    /// of events still counts, through the hash chain.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn message_hash_depends_on_the_order() {
        let (n1, n2) = (Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2)));
        let hb = MsgKind::Heartbeat;
        let mut ab = Trace::new(0);
        ab.push_sent(5, 7, n1, n2, hb, false);
        ab.push_sent(5, 8, n2, n1, hb, false);
        let mut ba = Trace::new(0);
        ba.push_sent(5, 8, n2, n1, hb, false);
        ba.push_sent(5, 7, n1, n2, hb, false);
        assert_ne!(ab.hash(), ba.hash());
        assert_eq!(ab.len(), 2);
        // The largest id below 2^45 and a flag differ.
        let top = (1u64 << MESSAGE_ID_BITS) - 1;
        let mut a = Trace::new(0);
        a.push_sent(5, top, n1, n2, hb, false);
        let mut b = Trace::new(0);
        b.push_sent(5, top, n1, n2, hb, true);
        assert_ne!(a.hash(), b.hash());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_paths_hash_like_the_derived_hash() {
        let texts = ["no-op", "C1 #2: put \"k3\" = \"1.2\"", ""];
        let mut kept = Trace::new(10);
        let mut hashed = Trace::new(0);
        for (i, what) in texts.iter().enumerate() {
            let (node, index, term) = (NodeId(i as u32 + 1), LogIndex(40 + i as u64), Term(7));
            kept.push(3, TraceEvent::Crashed { node });
            hashed.push(3, TraceEvent::Crashed { node });
            let at = 1_000 + i as u64;
            let call = (i > 0).then_some((ClientId(1), 2));
            let describe = |s: &mut String| {
                s.push_str(what);
                call
            };
            kept.push_applied(at, node, index, term, what, describe);
            hashed.push_applied(at, node, index, term, what, describe);
            assert_eq!(kept.hash(), hashed.hash(), "{what:?}");
            assert!(matches!(
                kept.events().last().map(|s| &s.event),
                Some(TraceEvent::Applied { what: w, call: c, .. }) if w == what && *c == call
            ));
        }
        // An applied entry's source is in the hash.
        let (mut one, mut other) = (Trace::new(0), Trace::new(0));
        one.push_applied(1, NodeId(1), LogIndex(1), Term(1), &"a", |_| None);
        other.push_applied(1, NodeId(1), LogIndex(1), Term(1), &"b", |_| None);
        assert_ne!(one.hash(), other.hash());
        let op = Op::Put {
            key: "k1".into(),
            value: "v\"2".into(),
        };
        kept.push_client_invoke(5, ClientId(3), 9, &op);
        hashed.push_client_invoke(5, ClientId(3), 9, &op);
        assert_eq!(kept.hash(), hashed.hash());
        let (a, b) = (Endpoint::Node(NodeId(2)), Endpoint::Client(ClientId(4)));
        for (i, kind) in MsgKind::ALL.into_iter().enumerate() {
            kept.push_sent(9, i as u64, a, b, kind, i % 2 == 0);
            hashed.push_sent(9, i as u64, a, b, kind, i % 2 == 0);
            assert_eq!(kept.hash(), hashed.hash());
            kept.push_delivered(11, i as u64, b, a, kind);
            hashed.push_delivered(11, i as u64, b, a, kind);
            assert_eq!(kept.hash(), hashed.hash());
        }
        kept.push_client_invoke(5, ClientId(3), 9, &op);
        hashed.push_client_invoke(5, ClientId(3), 9, &op);
        assert_eq!(kept.hash(), hashed.hash());
        // Appended and Committed: the fast paths hash as the derived hash
        // of the built events, whether kept or not.
        let (n, i, j, t) = (NodeId(3), LogIndex(4), LogIndex(9), Term(2));
        let mut built = Trace::new(0);
        built.push(12, TraceEvent::Crashed { node: n });
        built.push(
            12,
            TraceEvent::Appended {
                node: n,
                from: i,
                to: j,
                last_term: t,
            },
        );
        built.push(
            13,
            TraceEvent::Committed {
                node: n,
                from: i,
                to: j,
            },
        );
        for keep in [0, 10] {
            let mut fast = Trace::new(keep);
            fast.push(12, TraceEvent::Crashed { node: n });
            fast.push_appended(12, n, i, j, t);
            fast.push_committed(13, n, i, j);
            assert_eq!(built.hash(), fast.hash(), "keep {keep}");
            assert_eq!(built.len(), fast.len());
        }
        assert_eq!(kept.len(), hashed.len());
        assert!(matches!(
            kept.events().last().map(|s| &s.event),
            Some(TraceEvent::ClientInvoke { op: o, .. }) if *o == op
        ));
    }
}

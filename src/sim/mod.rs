//! The deterministic world: virtual clock, event queue, network, nodes,
//! clients, faults and the trace.
//!
//! One `u64` seed decides a run: each node, the network and the clients get
//! sub-seeds from it ([`Rng::derive`]). Virtual time is in microseconds. The
//! queue is ordered by time with ties broken by insertion order, so an idle
//! cluster costs nothing between heartbeats and the same seed and actions
//! always give the same trace (and [`Simulation::trace_hash`]).
//!
//! For each node the driver follows Raft's rule (Figure 2): persist the hard
//! state and log changes, then send the messages, then apply committed
//! entries and answer clients. A crash drops the node's volatile state and
//! every message in flight to it; a restart rebuilds it from storage only.
//! The safety checker ([`InvariantChecker`]) sees every event; a violation
//! stops the run.
//!
//! Speed (measured with `cargo bench --bench sim`; the trace must not
//! change, `tests/determinism.rs`): the hot path does not allocate per
//! event. Queued events (messages in transit among them) live in the
//! queue's reused slab, not boxed in the heap, and the queue itself holds
//! 16-byte keys, as a sorted array while it is small ([`queue::EventQueue`]).
//! A message between nodes takes a fast path (`send_raft`,
//! `deliver_raft`): it is queued as itself, at the start of its event,
//! with the rest of its delivery written field by field into a side vector
//! by queue slot (`raft_meta`), and the receiving node reads it where it
//! waited in the slab, so it is copied as few times as possible and never
//! as a block right after narrow writes (a store-forwarding stall, which
//! cost more than the copies themselves). Node timers are not queued at
//! all: each node's next deadline sits in a small table beside the queue
//! ([`timers::NodeTimers`]), set after every step of the node, and each
//! step takes whichever is earlier, the earliest deadline or the queue's
//! head (a deadline first at the same µs). A follower's deadline moves
//! later at every heartbeat; as a queued event it went stale and had to
//! re-queue itself when it fired early (one idle event in eight).
//! The usual step of a node (a follower answering a heartbeat, a leader
//! taking an acknowledgement or sending its heartbeats) produces messages
//! and nothing else: they are taken straight from the node, its buffer
//! swapped with the simulator's ([`RaftNode::take_messages_only`]),
//! without a `Ready`. Other steps drain the node's `Ready` into reused
//! buffers ([`RaftNode::take_ready_into`]);
//! committed entries are applied straight from the node's log, and log
//! writes are persisted from it too, without a copy of the entries in
//! between ([`RaftNode::take_log_write_from`]); the checker skips
//! a commit check that already passed for an unchanged node; and when the
//! trace keeps no events, the frequent ones are hashed field by field
//! without being built, a sent or delivered message as three packed words
//! rather than the ten of its derived hash (five until the sequence number,
//! already implied by the hash chain, was left out) (see
//! [`trace::Trace::push_sent`]); a delivered message that owns no heap
//! memory (all but an AppendEntries with entries) frees its queue slot
//! without the drop glue's out-of-line call (`EventQueue::release_with`,
//! `Rpc::owns_heap`), and the network's and timers' range draws take
//! their remainder by multiplication natively rather than by a 64-bit
//! division (`Rng::range_inclusive`, same draws). A leader's heartbeat
//! does not look for a new commit point (it cannot move one, see
//! `RaftNode::heartbeat`), and [`Simulation::run_until`] finds the next
//! event once per step (`Simulation::step_due`), not once to decide
//! whether to step and again in the step. The per-message
//! helpers (`send_raft`, `route`, `dispatch`, the network draw, the trace
//! hash, the timer check) are inlined into their callers natively (not in
//! wasm, where forcing the send path cost the page's download 15 KB; the
//! wasm/native ratio of `make bench` stayed within its run-to-run noise,
//! 0.78–0.87×). Later: a leader's heartbeats skip the `Ready` like any
//! messages-only step (`RaftNode::take_messages_only`), are built in the
//! heartbeat loop for followers that have the whole log, the membership
//! check is a bit mask, the range draws' remainder is two multiplies, and
//! a delivery looks its slot and node up once (idle: 83.0M -> 69.7M
//! instructions per 600 simulated s, callgrind). What is left per event
//! (an idle cluster: about 645 instructions, from about 1,180, and since
//! the timers left the queue about 108,000 events per 600 simulated s
//! instead of 123,500; 81.4M instructions were about 5.9 ms, some
//! 100,000× real time, on the 2-core AMD EPYC VM where this was
//! measured) is spread thin: the
//! queue, the network draws, the trace hash (a serial chain of
//! multiplies), the drained `Ready` and Raft itself. At several
//! instructions per cycle, time follows the instruction count. The
//! invariant checks are about 1 % of it (an idle step re-checks nothing,
//! see [`InvariantChecker::on_commit`]). Per client operation: copies of
//! the command (each `Op` clone allocates its strings), the key-value map
//! and the hashes of each applied entry on every node.

pub mod bench;
pub mod client;
pub mod fuzz;
pub mod network;
pub mod queue;
pub mod server;
pub mod timers;
pub mod trace;
pub mod view;

use crate::check::history::History;
use crate::check::invariants::{InvariantChecker, Violation};
use crate::json::{FromJson, Json, JsonError, JsonOut, ToJson};
use crate::kv::{ClientId, Command, KvError, Op, OpResult};
use crate::raft::{
    Config, LogIndex, Message, NodeEvent, NodeId, Payload, RaftNode, Ready, Role, Rpc, Term,
};
use crate::rng::Rng;
use crate::storage::{MemStorage, Storage, WriteBatch};
use crate::vecmap::VecMap;
use client::{Clerk, PendingCall, Workload};
use network::{Fate, LinkParams, Network};
use queue::EventQueue;
use server::{Answer, ClientReply, ClientRequest, Server};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use timers::NodeTimers;
use trace::{DropReason, Endpoint, MsgKind, Trace, TraceEvent, MSG_KINDS};

/// Everything that shapes a run besides the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Number of nodes, 1 to 9.
    pub nodes: usize,
    /// Raft timing and flow control.
    pub raft: Config,
    /// Default link behaviour (node to node and client to node).
    pub link: LinkParams,
    /// How long a client waits for an answer before trying another node, µs.
    pub client_timeout_us: u64,
    /// How long a client waits before retrying when no leader is known, µs.
    pub client_backoff_us: u64,
    /// How many trace events to keep in memory (all are hashed).
    pub trace_keep: usize,
    /// Track messages in flight for the view.
    pub track_flights: bool,
}

/// `p` (a probability) as a whole percent: exactly what `{:.0}` writes for
/// `p * 100.0` (ties to even), without bringing the standard library's
/// float printing (about 14 KB) into the page's wasm. (For `-0.0`, which
/// validation lets through, `{:.0}` wrote "-0"; this writes "0".)
fn whole_percent(p: f64) -> u64 {
    (p * 100.0).round_ties_even() as u64
}

impl FromJson for SimConfig {
    fn from_json(v: &Json) -> Result<SimConfig, JsonError> {
        let o = v.obj()?;
        Ok(SimConfig {
            nodes: o.req("nodes")?,
            raft: o.req("raft")?,
            link: o.req("link")?,
            client_timeout_us: o.req("client_timeout_us")?,
            client_backoff_us: o.req("client_backoff_us")?,
            trace_keep: o.req("trace_keep")?,
            track_flights: o.req("track_flights")?,
        })
    }
}

impl ToJson for SimConfig {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("nodes", &self.nodes);
        out.field("raft", &self.raft);
        out.field("link", &self.link);
        out.field("client_timeout_us", &self.client_timeout_us);
        out.field("client_backoff_us", &self.client_backoff_us);
        out.field("trace_keep", &self.trace_keep);
        out.field("track_flights", &self.track_flights);
        out.end_obj();
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 5,
            raft: Config::default(),
            link: LinkParams::default(),
            client_timeout_us: 500_000,
            client_backoff_us: 30_000,
            trace_keep: 5_000,
            track_flights: true,
        }
    }
}

/// Largest cluster the simulator builds.
pub const MAX_NODES: usize = 9;

impl SimConfig {
    /// Check the configuration; returns a readable reason otherwise.
    pub fn validate(&self) -> Result<(), String> {
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(format!(
                "a cluster has 1 to {MAX_NODES} nodes, not {}",
                self.nodes
            ));
        }
        self.raft.validate()?;
        self.link.validate()?;
        if self.client_timeout_us == 0 {
            return Err("the client timeout must be positive".into());
        }
        if self.client_timeout_us > crate::raft::MAX_TIMING_US
            || self.client_backoff_us > crate::raft::MAX_TIMING_US
        {
            return Err(format!(
                "client timeouts must be at most {} ms",
                crate::raft::MAX_TIMING_US / 1000
            ));
        }
        Ok(())
    }
}

/// What travels on the network.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Packet {
    /// Between nodes.
    Raft(Message<Command>),
    /// Client to node.
    Request(ClientRequest),
    /// Node to client.
    Reply(ClientReply),
}

impl Packet {
    /// The kind shown on the page.
    pub fn kind(&self) -> MsgKind {
        match self {
            Packet::Raft(m) => raft_kind(&m.rpc),
            Packet::Request(_) => MsgKind::ClientRequest,
            Packet::Reply(_) => MsgKind::ClientReply,
        }
    }

    /// Whether a reply says yes (vote granted, append succeeded, answer done).
    pub fn ok(&self) -> Option<bool> {
        match self {
            Packet::Raft(m) => match &m.rpc {
                Rpc::RequestVoteReply { granted, .. } => Some(*granted),
                Rpc::AppendEntriesReply { success, .. } => Some(*success),
                _ => None,
            },
            Packet::Reply(r) => Some(matches!(r.answer, Answer::Done(_))),
            Packet::Request(_) => None,
        }
    }

    /// A one-line description for the page.
    pub fn describe(&self) -> String {
        match self {
            Packet::Raft(m) => match &m.rpc {
                Rpc::RequestVote {
                    term,
                    last_log_index,
                    last_log_term,
                } => {
                    format!("RequestVote term {term}, last log {last_log_index}@{last_log_term}")
                }
                Rpc::RequestVoteReply { term, granted } => {
                    format!(
                        "vote {} (term {term})",
                        if *granted { "granted" } else { "refused" }
                    )
                }
                Rpc::AppendEntries {
                    term,
                    prev_log_index,
                    entries,
                    leader_commit,
                    ..
                } => {
                    if entries.is_empty() {
                        format!(
                            "heartbeat term {term}, prev {prev_log_index}, commit {leader_commit}"
                        )
                    } else {
                        format!(
                            "AppendEntries term {term}, entries {}..{}, commit {leader_commit}",
                            prev_log_index.0 + 1,
                            prev_log_index.0 + entries.len() as u64
                        )
                    }
                }
                Rpc::AppendEntriesReply {
                    term,
                    success,
                    match_index,
                    ..
                } => {
                    if *success {
                        format!("append ok, match {match_index} (term {term})")
                    } else {
                        format!("append rejected (term {term})")
                    }
                }
            },
            Packet::Request(r) => format!(
                "{} #{}: {}{}",
                r.client,
                r.seq,
                r.op,
                if r.stale { " (stale read)" } else { "" }
            ),
            Packet::Reply(r) => match &r.answer {
                Answer::Done(res) => format!("answer #{}: {res}", r.seq),
                Answer::NotLeader {
                    leader_hint: Some(l),
                } => format!("not leader, try {l}"),
                Answer::NotLeader { leader_hint: None } => "not leader, no leader known".into(),
                Answer::Retry => "lost its log slot, retry".into(),
                Answer::Rejected(e) => format!("rejected: {e}"),
            },
        }
    }
}

/// The kind of a message between nodes, as [`Packet::kind`] gives it.
#[inline]
fn raft_kind(rpc: &Rpc<Command>) -> MsgKind {
    match rpc {
        Rpc::RequestVote { .. } => MsgKind::RequestVote,
        Rpc::RequestVoteReply { .. } => MsgKind::RequestVoteReply,
        Rpc::AppendEntries { entries, .. } if entries.is_empty() => MsgKind::Heartbeat,
        Rpc::AppendEntries { .. } => MsgKind::AppendEntries,
        Rpc::AppendEntriesReply { .. } => MsgKind::AppendEntriesReply,
    }
}

/// The text of [`TraceEvent::Applied`]: what the entry did, as
/// `format!("{} #{}: {}", c.client, c.seq, c.op)` (plus a note for a
/// duplicate) would write it; returns the client call, if any.
fn write_applied_text(
    out: &mut String,
    payload: &Payload<Command>,
    duplicate: bool,
) -> Option<(ClientId, u64)> {
    match payload {
        Payload::Noop => {
            out.push_str("no-op");
            None
        }
        Payload::Command(c) => {
            // As `ClientId`'s Display. Writing to a String cannot fail.
            out.push('C');
            let _ = crate::kv::write_decimal(out, u64::from(c.client.0));
            out.push_str(" #");
            let _ = crate::kv::write_decimal(out, c.seq);
            out.push_str(": ");
            let _ = crate::kv::write_op(out, &c.op);
            if duplicate {
                out.push_str(" (duplicate, not applied again)");
            }
            Some((c.client, c.seq))
        }
    }
}

/// A message on its way, for the view.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// Message id.
    pub id: u64,
    /// Sender.
    pub from: Endpoint,
    /// Receiver.
    pub to: Endpoint,
    /// Kind.
    pub kind: MsgKind,
    /// Sent at, µs.
    pub sent_at: u64,
    /// Arrives at, µs.
    pub deliver_at: u64,
    /// A duplicate copy made by the network.
    pub duplicate: bool,
    /// For replies: yes or no.
    pub ok: Option<bool>,
    /// One line about it.
    pub summary: String,
}

/// A message that never arrived, for the view.
#[derive(Clone, Debug, PartialEq)]
pub struct Drop {
    /// The flight (with `deliver_at` the moment it was dropped).
    pub flight: Flight,
    /// Why.
    pub reason: DropReason,
}

/// A queued event. It stays in the queue's slab from push to pop; only
/// a 16-byte key moves in the queue. (Node timers are not queued:
/// [`timers::NodeTimers`].)
#[derive(Clone, Debug)]
enum Event {
    /// A message between nodes, sent on the fast path
    /// ([`Simulation::send_raft`]): no [`Packet`] around it, and the rest
    /// of its [`RaftDelivery`] in [`Simulation::raft_meta`].
    Raft(Message<Command>),
    /// Any other packet: a slot of [`Simulation::deliveries`] (kept out of
    /// the event so the message above sits at the start of the event; a
    /// block copy of it at another offset would read across its stores).
    Deliver(u32),
    /// A client's retry timer (`Simulation::arm_retry`).
    ClientTimer {
        client: ClientId,
        gen: u64,
    },
    ClientNext {
        client: ClientId,
    },
}

#[derive(Clone, Debug)]
struct Delivery {
    flight_id: u64,
    from: Endpoint,
    to: Endpoint,
    to_incarnation: u32,
    /// `packet.kind()`, worked out once when it was sent.
    kind: MsgKind,
    packet: Packet,
}

/// What a [`Delivery`] holds besides the packet, for a message between
/// nodes (whose endpoints are the message's own `from` and `to`). Kept
/// beside the queue, by queue slot, not in the queued event: written field
/// by field where it stays, it is never copied as a block (a block copy
/// right after narrow writes stalls on store forwarding).
#[derive(Clone, Copy, Debug)]
struct RaftMeta {
    flight_id: u64,
    to_incarnation: u32,
    /// The message's kind, worked out once when it was sent.
    kind: MsgKind,
}

/// One node's place in the world: its server while up, its storage always.
#[derive(Clone, Debug)]
pub struct Slot {
    /// The running server, `None` while crashed.
    pub server: Option<Server>,
    /// The durable state, which survives crashes.
    pub storage: MemStorage<Command>,
    /// Increments at every restart.
    pub incarnation: u32,
}

/// A simulation error a caller can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// No such node.
    NoSuchNode(u32),
    /// No such client.
    NoSuchClient(u32),
    /// The client already has a call in progress.
    ClientBusy(ClientId),
    /// The operation is invalid.
    Invalid(KvError),
    /// The configuration is invalid.
    BadConfig(String),
    /// The client has crashed: it makes no more calls.
    ClientCrashed(ClientId),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::NoSuchNode(n) => write!(f, "there is no node S{n}"),
            SimError::NoSuchClient(c) => write!(f, "there is no client C{c}"),
            SimError::ClientBusy(c) => write!(f, "{c} is still waiting for its previous call"),
            SimError::Invalid(e) => write!(f, "{e}"),
            SimError::BadConfig(e) => write!(f, "bad configuration: {e}"),
            SimError::ClientCrashed(c) => write!(f, "{c} has crashed and makes no more calls"),
        }
    }
}

impl std::error::Error for SimError {}

/// The whole simulated world.
pub struct Simulation {
    seed: u64,
    config: SimConfig,
    now: u64,
    queue: EventQueue<Event>,
    /// Packets in transit other than messages between nodes, referenced
    /// by [`Event::Deliver`]; freed slots are reused (`free_deliveries`).
    deliveries: Vec<Option<Delivery>>,
    free_deliveries: Vec<u32>,
    /// For each queue slot holding an [`Event::Raft`], the rest of its
    /// delivery.
    raft_meta: Vec<RaftMeta>,
    /// Each node's next deadline, outside the queue (see
    /// [`timers::NodeTimers`]).
    node_timers: NodeTimers,
    /// The drained output of the node being processed, kept to reuse its
    /// buffers.
    ready: Option<Box<Ready<Command>>>,
    /// The messages of a step that produced nothing else
    /// ([`RaftNode::take_messages_only`]); empty between steps, its buffer
    /// traded with the nodes'.
    outbox: Vec<Message<Command>>,
    next_flight_id: u64,
    slots: Vec<Slot>,
    network: Network,
    clients: Vec<Clerk>,
    client_rng: Rng,
    trace: Trace,
    history: History,
    checker: InvariantChecker,
    /// False once [`Simulation::skip_invariant_checks`] was called.
    checks: bool,
    violation: Option<Violation>,
    flights: VecMap<u64, Flight>,
    drops: VecDeque<Drop>,
    events_processed: u64,
    messages_sent: u64,
    rpc_counts: [u64; MSG_KINDS],
    client_base: u32,
    durability: Durability,
}

/// The asynchronous durability barrier (see [`Simulation::set_async_durability`]).
#[derive(Clone, Debug, Default)]
struct Durability {
    enabled: bool,
    next_id: u64,
    pending: Vec<DurableWrite>,
    last_issued: VecMap<Endpoint, u64>,
    last_confirmed: VecMap<Endpoint, u64>,
    /// Who issued each unconfirmed write, by id. Ids are issued in
    /// ascending order and mostly confirmed in that order: pushed at the
    /// back, taken from the front.
    owner: VecDeque<(u64, Endpoint)>,
    held: VecMap<Endpoint, VecDeque<(u64, Endpoint, Packet)>>,
    /// The write id of a re-base ([`Simulation::rebase_durability`]) not yet
    /// confirmed: every node, and every client with an unconfirmed write,
    /// waits for it.
    baseline: Option<u64>,
}

/// A record that must reach durable storage, with the id to confirm.
#[derive(Clone, Debug, PartialEq)]
pub struct DurableWrite {
    /// Confirm with [`Simulation::confirm_durable`].
    pub id: u64,
    /// What to store.
    pub record: DurableRecord,
}

/// What a durable write stores.
#[derive(Clone, Debug, PartialEq)]
pub enum DurableRecord {
    /// A node's hard state and log change.
    Node {
        /// The node.
        node: NodeId,
        /// The batch, applied atomically.
        batch: WriteBatch<Command>,
    },
    /// A client call's history record (at invocation and at return).
    Call(crate::check::history::Call),
}

impl FromJson for DurableWrite {
    fn from_json(v: &Json) -> Result<DurableWrite, JsonError> {
        let o = v.obj()?;
        Ok(DurableWrite {
            id: o.req("id")?,
            record: o.req("record")?,
        })
    }
}

impl ToJson for DurableWrite {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("record", &self.record);
        out.end_obj();
    }
}

impl FromJson for DurableRecord {
    fn from_json(v: &Json) -> Result<DurableRecord, JsonError> {
        Ok(match v.variant()? {
            ("Node", Some(node)) => {
                let o = node.obj().map_err(|e| e.in_field("Node"))?;
                let field = |e: JsonError| e.in_field("Node");
                DurableRecord::Node {
                    node: o.req("node").map_err(field)?,
                    batch: o.req("batch").map_err(field)?,
                }
            }
            (name @ ("Node" | "Call"), None) => {
                return Err(JsonError::new(format!(
                    "expected {{\"{name}\": …}}, found \"{name}\" without its data"
                )))
            }
            ("Call", Some(call)) => {
                DurableRecord::Call(FromJson::from_json(call).map_err(|e| e.in_field("Call"))?)
            }
            (name, _) => return Err(crate::json::unknown_variant(name, &["Node", "Call"])),
        })
    }
}

/// Externally tagged: `{"Node": {"node": …, "batch": …}}` or `{"Call": …}`.
impl ToJson for DurableRecord {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            DurableRecord::Node { node, batch } => {
                out.begin_variant("Node");
                out.begin_obj();
                out.field("node", node);
                out.field("batch", batch);
                out.end_obj();
            }
            DurableRecord::Call(call) => {
                out.begin_variant("Call");
                call.write_json(out);
            }
        }
        out.end_obj();
    }
}

impl Simulation {
    /// A new cluster of fresh nodes at time 0.
    pub fn new(seed: u64, config: SimConfig) -> Result<Simulation, SimError> {
        config.validate().map_err(SimError::BadConfig)?;
        let n = config.nodes;
        let mut sim = Simulation {
            seed,
            network: Network::new(config.link.clone(), Rng::derive(seed, 1)),
            client_rng: Rng::new(Rng::derive(seed, 2)),
            trace: Trace::new(config.trace_keep),
            checker: InvariantChecker::new(n),
            checks: true,
            config,
            now: 0,
            queue: EventQueue::default(),
            deliveries: Vec::new(),
            free_deliveries: Vec::new(),
            raft_meta: Vec::new(),
            node_timers: NodeTimers::new(n),
            ready: Some(Box::default()),
            outbox: Vec::new(),
            next_flight_id: 0,
            slots: Vec::with_capacity(n),
            clients: Vec::new(),
            history: History::default(),
            violation: None,
            flights: VecMap::new(),
            drops: VecDeque::new(),
            events_processed: 0,
            messages_sent: 0,
            rpc_counts: [0; MSG_KINDS],
            client_base: 0,
            durability: Durability::default(),
        };
        for i in 0..n {
            let id = NodeId::from_idx(i);
            let raft = RaftNode::new(
                id,
                sim.members(),
                sim.config.raft.clone(),
                sim.node_seed(id, 0),
                0,
            );
            sim.slots.push(Slot {
                server: Some(Server::new(raft)),
                storage: MemStorage::new(),
                incarnation: 0,
            });
            sim.schedule_node_timer(id);
        }
        Ok(sim)
    }

    fn members(&self) -> Vec<NodeId> {
        (0..self.config.nodes).map(NodeId::from_idx).collect()
    }

    fn node_seed(&self, id: NodeId, incarnation: u32) -> u64 {
        Rng::derive(
            self.seed,
            1_000 + u64::from(id.0) * 1_000 + u64::from(incarnation),
        )
    }

    // ----- Accessors -------------------------------------------------------

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }
    /// Virtual time now, µs.
    pub fn now(&self) -> u64 {
        self.now
    }
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.slots.len()
    }
    /// All node ids.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.members()
    }
    /// A node's slot.
    pub fn slot(&self, id: NodeId) -> Option<&Slot> {
        self.slots.get(id.idx())
    }
    /// A running node's server.
    pub fn server(&self, id: NodeId) -> Option<&Server> {
        self.slots.get(id.idx()).and_then(|s| s.server.as_ref())
    }
    /// A running node's Raft state.
    pub fn raft(&self, id: NodeId) -> Option<&RaftNode<Command>> {
        self.server(id).map(|s| &s.raft)
    }
    /// Whether a node is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.server(id).is_some()
    }
    /// The leader with the highest term among running nodes, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.slots
            .iter()
            .filter_map(|s| s.server.as_ref())
            .filter(|s| s.raft.role() == Role::Leader)
            .max_by_key(|s| s.raft.term())
            .map(|s| s.raft.id())
    }
    /// Every running node that believes it is leader, with its term.
    pub fn leaders(&self) -> Vec<(NodeId, Term)> {
        self.slots
            .iter()
            .filter_map(|s| s.server.as_ref())
            .filter(|s| s.raft.role() == Role::Leader)
            .map(|s| (s.raft.id(), s.raft.term()))
            .collect()
    }
    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }
    /// The clients.
    pub fn clients(&self) -> &[Clerk] {
        &self.clients
    }
    /// The linearizability history so far.
    pub fn history(&self) -> &History {
        &self.history
    }
    /// The trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    /// The hash of the whole trace so far.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }
    /// Stop checking the safety invariants after every event, for
    /// benchmarks that measure the simulation alone. One way: the checker
    /// cannot pick up a run it did not follow. The trace is unchanged as long
    /// as no invariant breaks; [`Simulation::committed_index`] stays at what
    /// was known at this point.
    pub fn skip_invariant_checks(&mut self) {
        self.checks = false;
    }

    /// The first safety violation, if any (the run stops there).
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }
    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }
    /// Messages sent so far by kind (kinds never sent are absent).
    pub fn rpc_counts(&self) -> BTreeMap<MsgKind, u64> {
        MsgKind::ALL
            .iter()
            .map(|k| (*k, self.rpc_counts[*k as usize]))
            .filter(|(_, v)| *v > 0)
            .collect()
    }
    /// Messages sent so far between nodes.
    pub fn raft_messages_sent(&self) -> u64 {
        MsgKind::ALL
            .iter()
            .filter(|k| !matches!(k, MsgKind::ClientRequest | MsgKind::ClientReply))
            .map(|k| self.rpc_counts[*k as usize])
            .sum()
    }
    /// Messages in flight.
    pub fn flights(&self) -> impl Iterator<Item = &Flight> {
        self.flights.values()
    }
    /// Recently dropped messages.
    pub fn drops(&self) -> impl Iterator<Item = &Drop> {
        self.drops.iter()
    }
    /// Time of the next queued event.
    pub fn next_event_at(&self) -> Option<u64> {
        let timer = self.node_timers.next().map(|(at, _)| at.max(self.now));
        match (self.queue.peek_time(), timer) {
            (Some(q), Some(t)) => Some(q.min(t)),
            (q, t) => q.or(t),
        }
    }

    // ----- Running -----------------------------------------------------------

    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn schedule(&mut self, at: u64, event: Event) {
        self.queue.push(at, event);
    }

    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn schedule_delivery(&mut self, at: u64, d: Delivery) {
        let slot = match self.free_deliveries.pop() {
            Some(i) => {
                self.deliveries[i as usize] = Some(d);
                i
            }
            None => {
                self.deliveries.push(Some(d));
                (self.deliveries.len() - 1) as u32
            }
        };
        self.schedule(at, Event::Deliver(slot));
    }

    fn record(&mut self, event: TraceEvent) {
        self.trace.push(self.now, event);
    }

    fn fail(&mut self, v: Violation) {
        if self.violation.is_none() {
            self.record(TraceEvent::Violation {
                message: v.to_string(),
            });
            self.violation = Some(v);
        }
    }

    /// Process the next event. Returns false when there is none or the run
    /// stopped on a violation.
    pub fn step(&mut self) -> bool {
        self.step_due(u64::MAX)
    }

    /// [`Simulation::step`] if the next event is due by `t` (as
    /// [`Simulation::next_event_at`] times it); returns false, doing
    /// nothing, if it is later. [`Simulation::run_until`]'s loop, which
    /// so finds the next event once per step rather than twice.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn step_due(&mut self, t: u64) -> bool {
        if self.violation.is_some() {
            return false;
        }
        // A node's deadline first, then the queue (a deadline due at the
        // same µs as a queued event goes first: see `timers`).
        let queued_at = self.queue.peek_time().unwrap_or(u64::MAX);
        if self.node_timers.next_at() <= queued_at {
            let Some((at, node)) = self.node_timers.next() else {
                // Neither a deadline nor a queued event.
                return false;
            };
            if at.max(self.now) > t {
                return false;
            }
            self.now = self.now.max(at);
            self.events_processed += 1;
            self.node_timer(node);
            return self.violation.is_none();
        }
        if queued_at > t {
            return false;
        }
        let Some((at, slot)) = self.queue.pop_key() else {
            return false;
        };
        self.now = self.now.max(at);
        self.events_processed += 1;
        // A message between nodes is read where it waited, not copied
        // out, and its slot freed there.
        if self.deliver_raft(slot) {
            return self.violation.is_none();
        }
        let Some(event) = self.queue.take(slot) else {
            return self.violation.is_none();
        };
        match event {
            Event::Deliver(slot) => {
                let Some(Delivery {
                    flight_id,
                    from,
                    to,
                    to_incarnation,
                    kind,
                    packet,
                }) = self.deliveries[slot as usize].take()
                else {
                    return self.violation.is_none();
                };
                self.free_deliveries.push(slot);
                self.deliver(flight_id, from, to, to_incarnation, kind, packet)
            }
            // Delivered above.
            Event::Raft(_) => {}
            Event::ClientTimer { client, gen } => self.client_timer(client, gen),
            Event::ClientNext { client } => self.client_next(client),
        }
        self.violation.is_none()
    }

    /// Run every event up to and including time `t`, then set the clock to
    /// `t`. Stops early on a violation.
    pub fn run_until(&mut self, t: u64) {
        while self.step_due(t) {}
        if self.violation.is_none() {
            self.now = self.now.max(t);
        }
    }

    /// [`Simulation::run_until`] in steps: run at most `max_events` of the
    /// events up to `t`, and return true if it stopped there with some
    /// perhaps left (the clock then stays at the last event's time). Called
    /// until it returns false, it runs exactly what `run_until(t)` runs, so
    /// a driver can look at the simulation (a progress bar, the newest
    /// trace events) between steps without changing the run.
    pub fn run_until_bounded(&mut self, t: u64, max_events: u64) -> bool {
        for _ in 0..max_events {
            if !self.step_due(t) {
                if self.violation.is_none() {
                    self.now = self.now.max(t);
                }
                return false;
            }
        }
        true
    }

    /// Run for `d` µs of virtual time.
    pub fn run_for(&mut self, d: u64) {
        let t = self.now.saturating_add(d);
        self.run_until(t);
    }

    /// Run until `pred` holds or `limit` µs pass; returns whether it held.
    pub fn run_until_pred(
        &mut self,
        limit: u64,
        mut pred: impl FnMut(&Simulation) -> bool,
    ) -> bool {
        let end = self.now.saturating_add(limit);
        loop {
            if pred(self) {
                return true;
            }
            match self.next_event_at() {
                Some(at) if at <= end && self.violation.is_none() => {
                    self.step();
                }
                _ => {
                    self.now = self.now.max(end);
                    return pred(self);
                }
            }
        }
    }

    // ----- Nodes -------------------------------------------------------------

    /// Set node `id`'s timer to its next deadline (none while it is
    /// down). Called after every step of the node, so the table always
    /// holds the exact deadline, earlier or later than before.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn schedule_node_timer(&mut self, id: NodeId) {
        let at = self
            .slots
            .get(id.idx())
            .and_then(|s| s.server.as_ref())
            .map_or(u64::MAX, |s| s.raft.next_deadline());
        self.node_timers.set(id.idx(), at);
    }

    /// Node `node`'s deadline is due.
    fn node_timer(&mut self, node: usize) {
        let id = NodeId::from_idx(node);
        let now = self.now;
        let Some(server) = self.slots.get_mut(node).and_then(|s| s.server.as_mut()) else {
            self.node_timers.set(node, u64::MAX);
            return;
        };
        if now >= server.raft.next_deadline() {
            server.raft.handle_timeout(now);
            self.process_node(id);
        } else {
            // Never expected (every step of a node sets its timer): a
            // deadline that moved without one is taken as it is now.
            self.schedule_node_timer(id);
        }
    }

    /// Drain a node's output and act on it in Raft's order: persist, send,
    /// apply, answer. Most steps (a heartbeat, its answer, a leader's
    /// round of heartbeats) produce messages and nothing else: those skip
    /// the [`Ready`] ([`RaftNode::take_messages_only`], into the reused
    /// `outbox`), with the same effects in the same order as
    /// [`Simulation::process_ready`].
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn process_node(&mut self, id: NodeId) {
        let Some(server) = self.slots.get_mut(id.idx()).and_then(|s| s.server.as_mut()) else {
            return;
        };
        if server.confirmed_reads_waiting() == 0 && server.raft.take_messages_only(&mut self.outbox)
        {
            // The node's deadline, read while it is at hand: sending
            // changes no node, so it is the deadline after the sends too
            // (`schedule_node_timer`, without a second lookup).
            let deadline = server.raft.next_deadline();
            let checked = if self.checks {
                self.checker
                    .on_commit(id, server.raft.commit_index(), server.raft.term())
            } else {
                Ok(())
            };
            if let Err(v) = checked {
                self.fail(v);
            }
            // In order: reversed, then popped. Not a `Drain`, nor the
            // buffer taken out of `self` for the loop: both leave an
            // out-of-line drop call per step. `reverse` is a call too,
            // made only for several messages (a leader's heartbeats).
            if self.outbox.len() > 1 {
                self.outbox.reverse();
            }
            while let Some(m) = self.outbox.pop() {
                self.send_raft(m);
            }
            self.node_timers.set(id.idx(), deadline);
            return;
        }
        self.process_ready(id);
    }

    /// [`Simulation::process_node`] through the node's whole [`Ready`].
    #[inline(never)]
    fn process_ready(&mut self, id: NodeId) {
        let Some(server) = self.slots[id.idx()].server.as_mut() else {
            return;
        };
        // Reuse the buffers of the last drain (no allocation per step).
        let mut ready = self.ready.take().unwrap_or_default();
        // The log write is persisted from the node's log, not copied out.
        let log_from = server.raft.take_log_write_from();
        let committed = server.raft.take_ready_into(&mut ready);
        let commit_now = (server.raft.commit_index(), server.raft.term());
        self.act_on_ready(id, &mut ready, log_from, committed, commit_now);
        self.ready = Some(ready);
        // Whatever the step did to the node's deadline.
        self.schedule_node_timer(id);
    }

    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn act_on_ready(
        &mut self,
        id: NodeId,
        ready: &mut Ready<Command>,
        log_from: Option<LogIndex>,
        committed: std::ops::Range<u64>,
        commit_now: (LogIndex, Term),
    ) {
        // What the node did, and 1. persist. Most steps (a heartbeat and its
        // answer) have nothing of either: keep that work out of line.
        if (!ready.events.is_empty() || ready.hard_state.is_some() || log_from.is_some())
            && !self.record_and_persist(id, ready, log_from)
        {
            return;
        }
        // Checks that depend on the durable log.
        if self.checks {
            if let Err(v) = self.checker.on_commit(id, commit_now.0, commit_now.1) {
                self.fail(v);
            }
        }
        // 2. Send, in order: reversed, then popped (cheaper than a `Drain`
        // for the usual one message, and the buffer is kept).
        ready.messages.reverse();
        while let Some(m) = ready.messages.pop() {
            self.send_raft(m);
        }
        // 3. Apply.
        if !committed.is_empty() && !self.apply_committed(id, committed) {
            return;
        }
        // 4. Reads.
        let Some(server) = self.slots[id.idx()].server.as_mut() else {
            return;
        };
        if ready.reads.is_empty()
            && ready.failed_reads.is_empty()
            && server.confirmed_reads_waiting() == 0
        {
            return;
        }
        self.serve_reads(id, ready);
    }

    /// Trace what the node did and persist its hard state and log changes
    /// (steps 0 and 1 of [`Simulation::act_on_ready`]). Returns false if
    /// the write failed (a violation: the run stops).
    #[inline(never)]
    fn record_and_persist(
        &mut self,
        id: NodeId,
        ready: &mut Ready<Command>,
        log_from: Option<LogIndex>,
    ) -> bool {
        let i = id.idx();
        // What the node did.
        for ev in ready.events.drain(..) {
            self.node_event(id, ev);
        }
        // 1. Persist: the hard state, and the node's log from `log_from` on,
        // read where it is.
        let hard_state = ready.hard_state.take();
        if hard_state.is_some() || log_from.is_some() {
            let slot = &mut self.slots[i];
            let log_write = log_from.map(|from| {
                let log = slot.server.as_ref().map_or(&[][..], |s| s.raft.log());
                let start = (from.0 as usize).saturating_sub(1).min(log.len());
                (from, &log[start..])
            });
            let durable_copy = self.durability.enabled.then(|| WriteBatch {
                hard_state,
                log_write: log_write.map(|(from, entries)| crate::raft::LogWrite {
                    from,
                    entries: entries.to_vec(),
                }),
            });
            if let Err(e) = slot.storage.write_parts(hard_state, log_write) {
                self.fail(Violation {
                    property: "Durability".into(),
                    nodes: vec![id],
                    term: None,
                    index: None,
                    detail: format!("{id} could not persist: {e}"),
                });
                return false;
            }
            if let Some(batch) = durable_copy {
                self.issue_durable(Endpoint::Node(id), DurableRecord::Node { node: id, batch });
            }
            if let Some(from) = log_from {
                // The entries just written, read back from storage.
                let log = &self.slots[i].storage.durable().log;
                let entries = log.get(from.0 as usize - 1..).unwrap_or(&[]);
                let checked = if self.checks {
                    self.checker.on_log_entries(id, from, entries)
                } else {
                    Ok(())
                };
                let appended = match (entries.first(), entries.last()) {
                    (Some(first), Some(last)) => Some((first.index, last.index, last.term)),
                    _ => None,
                };
                if let Err(v) = checked {
                    self.fail(v);
                }
                if let Some((from, to, last_term)) = appended {
                    self.trace.push_appended(self.now, id, from, to, last_term);
                }
            }
        }
        true
    }

    /// Apply the committed entries at log positions `committed`, straight
    /// from the node's log (no copies), and answer their clients (step 3
    /// of [`Simulation::act_on_ready`]). Returns false if the node or an
    /// entry went missing (nothing more to do for it).
    #[inline(never)]
    fn apply_committed(&mut self, id: NodeId, committed: std::ops::Range<u64>) -> bool {
        let i = id.idx();
        for pos in committed {
            let index = LogIndex(pos + 1);
            let Some(e) = self.slots[i]
                .server
                .as_ref()
                .and_then(|s| s.raft.entry(index))
            else {
                return false;
            };
            if self.checks {
                if let Err(v) = self.checker.on_apply(id, e) {
                    self.fail(v);
                }
            }
            let Some(server) = self.slots[i].server.as_mut() else {
                return false;
            };
            let Some((applied, reply)) = server.apply_index(index) else {
                return false;
            };
            let Some(e) = server.raft.entry(index) else {
                return false;
            };
            let duplicate = matches!(applied, Some(crate::kv::Applied::Duplicate(_)));
            self.trace.push_applied(
                self.now,
                id,
                e.index,
                e.term,
                &(&e.payload, duplicate),
                |out| write_applied_text(out, &e.payload, duplicate),
            );
            if let Some(r) = reply {
                self.send(
                    Endpoint::Node(id),
                    Endpoint::Client(r.client),
                    Packet::Reply(r),
                );
            }
        }
        true
    }

    /// Serve the reads the node confirmed or failed, and those waiting for
    /// their index to be applied (step 4 of [`Simulation::act_on_ready`]).
    #[inline(never)]
    fn serve_reads(&mut self, id: NodeId, ready: &Ready<Command>) {
        let Some(server) = self.slots[id.idx()].server.as_mut() else {
            return;
        };
        let mut replies = server.on_reads(&ready.reads, &ready.failed_reads);
        let served = server.serve_reads();
        for s in served {
            self.record(TraceEvent::ReadServed {
                node: id,
                client: s.reply.client,
                read_index: s.read_index,
            });
            replies.push(s.reply);
        }
        for r in replies {
            self.send(
                Endpoint::Node(id),
                Endpoint::Client(r.client),
                Packet::Reply(r),
            );
        }
    }

    fn node_event(&mut self, id: NodeId, ev: NodeEvent) {
        let te = match ev {
            NodeEvent::CommitAdvanced { from, to } => {
                return self.trace.push_committed(self.now, id, from, to);
            }
            NodeEvent::ElectionTimeout { term } => TraceEvent::ElectionTimeout { node: id, term },
            NodeEvent::Voted { candidate, term } => TraceEvent::Voted {
                voter: id,
                candidate,
                term,
            },
            NodeEvent::VoteRefused {
                candidate,
                term,
                reason,
            } => TraceEvent::VoteRefused {
                voter: id,
                candidate,
                term,
                reason,
            },
            NodeEvent::BecameLeader { term, votes } => {
                // Checked before the no-op of this term reaches the checker's
                // mirror; the no-op cannot hide a missing committed entry.
                if self.checks {
                    if let Err(v) = self.checker.on_leader(id, term) {
                        self.fail(v);
                    }
                }
                TraceEvent::BecameLeader {
                    node: id,
                    term,
                    votes,
                }
            }
            NodeEvent::BecameFollower { term, because_of } => TraceEvent::BecameFollower {
                node: id,
                term,
                because_of,
            },
            NodeEvent::Truncated { from, count } => TraceEvent::Truncated {
                node: id,
                from,
                count,
            },
            NodeEvent::IgnoredStale { from, kind, term } => TraceEvent::Ignored {
                node: id,
                from,
                kind,
                term,
            },
        };
        self.record(te);
    }

    /// [`Simulation::send`] for a message between nodes: the common case
    /// (no durability barrier, no flights tracked for the view, and the
    /// network delivers one copy) queues the message itself, without a
    /// [`Packet`] around it; every other case takes the general path.
    /// Either way the same things happen in the same order.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn send_raft(&mut self, m: Message<Command>) {
        let (from, to) = (Endpoint::Node(m.from), Endpoint::Node(m.to));
        if self.durability.enabled || self.config.track_flights {
            return self.send(from, to, Packet::Raft(m));
        }
        let kind = raft_kind(&m.rpc);
        self.rpc_counts[kind as usize] += 1;
        self.messages_sent += 1;
        let to_incarnation = self
            .slots
            .get(m.to.idx())
            .map(|s| s.incarnation)
            .unwrap_or(0);
        let fate = self.network.route(self.now, from, to);
        let Fate::Deliver {
            delay,
            duplicate: None,
        } = fate
        else {
            return self.route_fate(from, to, to_incarnation, kind, Packet::Raft(m), fate);
        };
        let id = self.next_flight_id;
        self.next_flight_id += 1;
        self.trace.push_sent(self.now, id, from, to, kind, false);
        let slot = self.queue.push(self.now + delay, Event::Raft(m)) as usize;
        if slot >= self.raft_meta.len() {
            let blank = RaftMeta {
                flight_id: 0,
                to_incarnation: 0,
                kind,
            };
            self.raft_meta.resize(slot + 1, blank);
        }
        let meta = &mut self.raft_meta[slot];
        meta.flight_id = id;
        meta.to_incarnation = to_incarnation;
        meta.kind = kind;
    }

    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn send(&mut self, from: Endpoint, to: Endpoint, packet: Packet) {
        if self.durability.enabled {
            let issued = self.durability.last_issued.get(&from).copied();
            let confirmed = self.durability.last_confirmed.get(&from).copied();
            if let Some(dep) = issued.filter(|i| Some(*i) != confirmed) {
                // Raft's rule: nothing leaves before the state it depends on
                // is durable. Hold it until the write is confirmed.
                self.durability
                    .held
                    .get_or_insert_with(from, VecDeque::new)
                    .push_back((dep, to, packet));
                return;
            }
        }
        self.route(from, to, packet);
    }

    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn route(&mut self, from: Endpoint, to: Endpoint, packet: Packet) {
        let kind = packet.kind();
        self.rpc_counts[kind as usize] += 1;
        self.messages_sent += 1;
        let to_incarnation = match to {
            Endpoint::Node(n) => self.slots.get(n.idx()).map(|s| s.incarnation).unwrap_or(0),
            Endpoint::Client(_) => 0,
        };
        let fate = self.network.route(self.now, from, to);
        self.route_fate(from, to, to_incarnation, kind, packet, fate);
    }

    /// The rest of [`Simulation::route`], once the network decided `fate`.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn route_fate(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        to_incarnation: u32,
        kind: MsgKind,
        packet: Packet,
        fate: Fate,
    ) {
        match fate {
            Fate::Cut | Fate::Lost => {
                let id = self.next_flight_id;
                self.next_flight_id += 1;
                let reason = if fate == Fate::Cut {
                    DropReason::Cut
                } else {
                    DropReason::Lost
                };
                self.record(TraceEvent::Sent {
                    id,
                    from,
                    to,
                    kind,
                    duplicate: false,
                });
                self.record(TraceEvent::Dropped {
                    id,
                    from,
                    to,
                    kind,
                    reason,
                });
                if self.config.track_flights {
                    let flight = self.flight(id, from, to, &packet, self.now + 1, false);
                    self.push_drop(flight, reason);
                }
            }
            Fate::Deliver {
                delay,
                duplicate: None,
            } => self.dispatch(from, to, to_incarnation, kind, packet, delay, false),
            Fate::Deliver {
                delay,
                duplicate: Some(again),
            } => {
                let copy = packet.clone();
                self.dispatch(from, to, to_incarnation, kind, copy, delay, false);
                self.dispatch(from, to, to_incarnation, kind, packet, again, true);
            }
        }
    }

    /// Put one copy of a message on its way.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn dispatch(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        to_incarnation: u32,
        kind: MsgKind,
        packet: Packet,
        delay: u64,
        duplicate: bool,
    ) {
        let id = self.next_flight_id;
        self.next_flight_id += 1;
        self.trace
            .push_sent(self.now, id, from, to, kind, duplicate);
        if self.config.track_flights {
            let f = self.flight(id, from, to, &packet, self.now + delay, duplicate);
            self.flights.insert(id, f);
        }
        self.schedule_delivery(
            self.now + delay,
            Delivery {
                flight_id: id,
                from,
                to,
                to_incarnation,
                kind,
                packet,
            },
        );
    }

    fn flight(
        &self,
        id: u64,
        from: Endpoint,
        to: Endpoint,
        p: &Packet,
        deliver_at: u64,
        duplicate: bool,
    ) -> Flight {
        Flight {
            id,
            from,
            to,
            kind: p.kind(),
            sent_at: self.now,
            deliver_at,
            duplicate,
            ok: p.ok(),
            summary: p.describe(),
        }
    }

    fn push_drop(&mut self, mut flight: Flight, reason: DropReason) {
        flight.deliver_at = self.now;
        if self.drops.len() >= 64 {
            self.drops.pop_front();
        }
        self.drops.push_back(Drop { flight, reason });
    }

    /// A message arrived at a node that is down, or restarted since it was
    /// sent: it is dropped, in the trace and on the page.
    fn drop_at_down_receiver(
        &mut self,
        flight_id: u64,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
        flight: Option<Flight>,
    ) {
        self.record(TraceEvent::Dropped {
            id: flight_id,
            from,
            to,
            kind,
            reason: DropReason::ReceiverDown,
        });
        if let Some(f) = flight {
            self.push_drop(f, DropReason::ReceiverDown);
        }
    }

    /// [`Simulation::deliver`] for a message sent by
    /// [`Simulation::send_raft`], popped from the queue and still in its
    /// `slot` there: the node reads it in place, and the slot is freed.
    /// Returns false, doing nothing, when the slot holds another event.
    ///
    /// The queued message, the receiving node and the trace are borrowed
    /// side by side (they are different fields), so the slot and the node
    /// are each looked up once per delivery, not again for every use (each
    /// lookup a bounds check and an `Option` test). The slot is freed as
    /// soon as the node has read the message, before the node's answer is
    /// queued (which may then reuse it): slots only say where an event
    /// waits, never when it runs, so this changes no order.
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    fn deliver_raft(&mut self, slot: u32) -> bool {
        let Some(Event::Raft(msg)) = self.queue.get_mut(slot) else {
            return false;
        };
        let Some(&RaftMeta {
            flight_id,
            to_incarnation,
            kind,
        }) = self.raft_meta.get(slot as usize)
        else {
            return false;
        };
        let (n, from_node) = (msg.to, msg.from);
        // The flights map, not `self`: `msg` still borrows the queue.
        let flight = take_flight(&mut self.flights, flight_id);
        let (from, to) = (Endpoint::Node(from_node), Endpoint::Node(n));
        let now = self.now;
        let node = &mut self.slots[n.idx()];
        let delivered = match node.server.as_mut() {
            Some(server) if node.incarnation == to_incarnation => {
                self.trace.push_delivered(now, flight_id, from, to, kind);
                server.raft.handle_message_mut(now, msg);
                true
            }
            _ => false,
        };
        // A heartbeat or an answer owns no heap memory: free its slot
        // without the drop glue's call.
        let owns_heap = msg.rpc.owns_heap();
        self.queue.release_with(slot, |_| owns_heap);
        if delivered {
            self.process_node(n);
        } else {
            self.drop_at_down_receiver(flight_id, from, to, kind, flight);
        }
        true
    }

    fn deliver(
        &mut self,
        flight_id: u64,
        from: Endpoint,
        to: Endpoint,
        to_incarnation: u32,
        kind: MsgKind,
        packet: Packet,
    ) {
        let flight = take_flight(&mut self.flights, flight_id);
        match to {
            Endpoint::Node(n) => {
                let slot = &self.slots[n.idx()];
                if slot.server.is_none() || slot.incarnation != to_incarnation {
                    self.drop_at_down_receiver(flight_id, from, to, kind, flight);
                    return;
                }
                self.trace
                    .push_delivered(self.now, flight_id, from, to, kind);
                let now = self.now;
                let Some(server) = self.slots[n.idx()].server.as_mut() else {
                    return;
                };
                match packet {
                    Packet::Raft(m) => server.raft.handle_message(now, m),
                    Packet::Request(req) => {
                        if let Some(reply) = server.handle_request(now, req) {
                            self.process_node(n);
                            self.send(to, from, Packet::Reply(reply));
                            return;
                        }
                    }
                    Packet::Reply(_) => {}
                }
                self.process_node(n);
            }
            Endpoint::Client(c) => {
                self.trace
                    .push_delivered(self.now, flight_id, from, to, kind);
                if let (Packet::Reply(r), Endpoint::Node(node)) = (packet, from) {
                    self.client_reply(c, node, r);
                }
            }
        }
    }

    /// Crash a node: its volatile state and the messages in flight to it are
    /// lost; its storage stays.
    pub fn crash(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let slot = self
            .slots
            .get_mut(id.idx())
            .ok_or(SimError::NoSuchNode(id.0))?;
        if slot.server.take().is_some() {
            slot.incarnation += 1;
            self.node_timers.set(id.idx(), u64::MAX);
            self.checker.on_crash(id);
            self.durability.held.remove(&Endpoint::Node(id));
            let lost: Vec<u64> = self
                .flights
                .iter()
                .filter(|(_, f)| f.to == Endpoint::Node(id))
                .map(|(k, _)| *k)
                .collect();
            for k in lost {
                if let Some(f) = self.flights.remove(&k) {
                    self.push_drop(f, DropReason::ReceiverDown);
                }
            }
            self.record(TraceEvent::Crashed { node: id });
        }
        Ok(())
    }

    /// Restart a crashed node from its storage only.
    pub fn restart(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let members = self.members();
        let seed = {
            let slot = self.slots.get(id.idx()).ok_or(SimError::NoSuchNode(id.0))?;
            if slot.server.is_some() {
                return Ok(());
            }
            self.node_seed(id, slot.incarnation)
        };
        let durable = match self.slots[id.idx()].storage.load() {
            Ok(d) => d,
            Err(e) => {
                self.fail(Violation {
                    property: "Durability".into(),
                    nodes: vec![id],
                    term: None,
                    index: None,
                    detail: format!("{id} could not read its storage: {e}"),
                });
                return Ok(());
            }
        };
        let (term, log_len) = (durable.hard_state.current_term, durable.log.len() as u64);
        let raft = RaftNode::restore(
            id,
            members,
            self.config.raft.clone(),
            seed,
            self.now,
            durable.hard_state,
            durable.log,
        );
        let slot = &mut self.slots[id.idx()];
        slot.server = Some(Server::new(raft));
        self.checker.on_restart(id);
        self.record(TraceEvent::Restarted {
            node: id,
            term,
            log_len,
        });
        self.schedule_node_timer(id);
        Ok(())
    }

    /// Make a node's election timer fire now.
    pub fn force_timeout(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let now = self.now;
        let server = self
            .slots
            .get_mut(id.idx())
            .ok_or(SimError::NoSuchNode(id.0))?
            .server
            .as_mut();
        if let Some(s) = server {
            s.raft.force_election_timeout(now);
            self.record(TraceEvent::Action {
                what: format!("forced an election timeout on {id}"),
            });
            self.process_node(id);
        }
        Ok(())
    }

    /// Set every follower's election timer to fire at the same moment
    /// (`spread_us` = 0) or spread evenly over `spread_us`, to show split
    /// votes or their absence.
    pub fn align_timers(&mut self, delay_us: u64, spread_us: u64) {
        let ids = self.members();
        let n = ids.len().max(1) as u64;
        for (i, id) in ids.into_iter().enumerate() {
            let at = self.now + delay_us + spread_us * i as u64 / n;
            if let Some(s) = self.slots[id.idx()].server.as_mut() {
                s.raft.set_election_deadline(at);
            }
            self.schedule_node_timer(id);
        }
        self.record(TraceEvent::Action {
            what: if spread_us == 0 {
                "aligned all election timers".into()
            } else {
                format!("spread election timers over {} ms", spread_us / 1000)
            },
        });
    }

    /// Change Raft timing for every node (applies from each timer's next reset).
    pub fn set_raft_config(&mut self, raft: Config) -> Result<(), SimError> {
        raft.validate().map_err(SimError::BadConfig)?;
        for s in self.slots.iter_mut().filter_map(|s| s.server.as_mut()) {
            s.raft.set_config(raft.clone());
        }
        self.config.raft = raft;
        self.record(TraceEvent::Action {
            what: "changed Raft timing".into(),
        });
        Ok(())
    }

    // ----- Network -----------------------------------------------------------

    fn check_node(&self, id: NodeId) -> Result<(), SimError> {
        if id.0 == 0 || id.idx() >= self.slots.len() {
            return Err(SimError::NoSuchNode(id.0));
        }
        Ok(())
    }

    /// Cut (or heal) the one-way link `from -> to`.
    pub fn set_cut(&mut self, from: NodeId, to: NodeId, cut: bool) -> Result<(), SimError> {
        self.check_node(from)?;
        self.check_node(to)?;
        if self
            .network
            .set_cut(Endpoint::Node(from), Endpoint::Node(to), cut)
        {
            self.record(TraceEvent::LinkCut { from, to, cut });
        }
        Ok(())
    }

    /// Cut both directions between two nodes.
    pub fn cut_both(&mut self, a: NodeId, b: NodeId) -> Result<(), SimError> {
        self.set_cut(a, b, true)?;
        self.set_cut(b, a, true)
    }

    /// Cut every link to and from a node.
    pub fn isolate(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        for other in self.members() {
            if other != id {
                self.cut_both(id, other)?;
            }
        }
        Ok(())
    }

    /// Split the nodes into groups that can talk only within themselves.
    /// Nodes not named form one more group. Clients can reach every node
    /// unless told otherwise with [`Simulation::set_client_cut`].
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<(), SimError> {
        let mut group_of = vec![usize::MAX; self.slots.len()];
        for (g, members) in groups.iter().enumerate() {
            for m in members {
                self.check_node(*m)?;
                group_of[m.idx()] = g;
            }
        }
        for (a, b) in network::node_links(self.slots.len()) {
            let cut = group_of[a.idx()] != group_of[b.idx()];
            self.set_cut(a, b, cut)?;
        }
        Ok(())
    }

    /// Heal every cut, node to node and client to node.
    pub fn heal_all(&mut self) {
        let cuts: Vec<(Endpoint, Endpoint)> = self.network.cuts().copied().collect();
        for (a, b) in cuts {
            self.network.set_cut(a, b, false);
            if let (Endpoint::Node(x), Endpoint::Node(y)) = (a, b) {
                self.record(TraceEvent::LinkCut {
                    from: x,
                    to: y,
                    cut: false,
                });
            }
        }
    }

    /// Cut or heal both directions between a client and a node.
    pub fn set_client_cut(
        &mut self,
        client: ClientId,
        node: NodeId,
        cut: bool,
    ) -> Result<(), SimError> {
        self.check_node(node)?;
        let (c, n) = (Endpoint::Client(client), Endpoint::Node(node));
        self.network.set_cut(c, n, cut);
        self.network.set_cut(n, c, cut);
        Ok(())
    }

    /// Change the default link behaviour (every link without an override).
    pub fn set_link_params(&mut self, p: LinkParams) -> Result<(), SimError> {
        p.validate().map_err(SimError::BadConfig)?;
        self.record(TraceEvent::NetworkChanged {
            what: format!(
                "latency {}-{} ms, loss {}%, duplication {}%, reordering {}%",
                p.latency_min_us / 1000,
                p.latency_max_us / 1000,
                whole_percent(p.loss),
                whole_percent(p.duplicate),
                whole_percent(p.reorder)
            ),
        });
        self.network.defaults = p.clone();
        self.config.link = p;
        Ok(())
    }

    // ----- Clients -----------------------------------------------------------

    /// Add a client; returns its id.
    pub fn add_client(&mut self) -> ClientId {
        let n = u32::try_from(self.clients.len()).unwrap_or(u32::MAX);
        let id = ClientId(self.client_base.saturating_add(n).saturating_add(1));
        let first = NodeId::from_idx(self.client_rng.index(self.slots.len()));
        self.clients.push(Clerk::new(id, first));
        id
    }

    /// Add `n` clients that make random calls by themselves.
    pub fn add_auto_clients(&mut self, n: usize, workload: Workload) -> Vec<ClientId> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let id = self.add_client();
            if let Ok(c) = self.clerk_mut(id) {
                c.auto = Some(workload.clone());
            }
            let start = self.now + self.client_rng.range_inclusive(0, workload.think_max_us);
            self.schedule(start, Event::ClientNext { client: id });
            ids.push(id);
        }
        ids
    }

    /// Stop (or resume) a client's automatic calls; the call in progress
    /// still completes.
    pub fn set_client_auto(
        &mut self,
        client: ClientId,
        workload: Option<Workload>,
    ) -> Result<(), SimError> {
        let c = self.live_clerk_mut(client)?;
        let was_idle_auto = c.auto.is_none() && c.current.is_none();
        c.auto = workload;
        if was_idle_auto && c.auto.is_some() {
            self.schedule(self.now, Event::ClientNext { client });
        }
        Ok(())
    }

    /// Crash a client process: it forgets its call in progress, which
    /// stays in the history with no answer (it may or may not have taken
    /// effect: a request already sent can still be applied, and the
    /// linearizability checker allows either), and it makes no more calls.
    /// Its requests and their copies already in the network stay there; the
    /// answers that reach it are dropped. A crashed client's session is
    /// never reused (its sequence numbers are lost with its memory, and a
    /// restarted process numbering from 1 again would have its calls taken
    /// for duplicates, dissertation §6.3): a restarted client is a new
    /// client ([`Simulation::add_client`]). Returns the abandoned call's
    /// sequence number, if a call was in progress.
    pub fn crash_client(&mut self, client: ClientId) -> Result<Option<u64>, SimError> {
        let c = self.live_clerk_mut(client)?;
        c.crashed = true;
        c.auto = None;
        // A queued retry timer finds no call and does nothing.
        let seq = c.current.take().map(|call| call.seq);
        self.record(TraceEvent::ClientCrashed { client, seq });
        Ok(seq)
    }

    /// Stop every automatic client (calls in progress still complete).
    pub fn stop_auto_clients(&mut self) {
        for c in &mut self.clients {
            c.auto = None;
        }
    }

    fn clerk_mut(&mut self, client: ClientId) -> Result<&mut Clerk, SimError> {
        self.clients
            .get_mut(client.0.wrapping_sub(self.client_base + 1) as usize)
            .ok_or(SimError::NoSuchClient(client.0))
    }

    /// [`Simulation::clerk_mut`] for a client that has not crashed: a
    /// crashed one makes no more calls, and crashes once.
    fn live_clerk_mut(&mut self, client: ClientId) -> Result<&mut Clerk, SimError> {
        let c = self.clerk_mut(client)?;
        if c.crashed {
            return Err(SimError::ClientCrashed(client));
        }
        Ok(c)
    }

    /// Invoke an operation through a client. It goes to `via` first if given,
    /// else to the client's leader guess, and follows redirects. Returns the
    /// call's sequence number.
    pub fn invoke(
        &mut self,
        client: ClientId,
        op: Op,
        via: Option<NodeId>,
    ) -> Result<u64, SimError> {
        op.validate().map_err(SimError::Invalid)?;
        if let Some(v) = via {
            self.check_node(v)?;
        }
        let now = self.now;
        let c = self.live_clerk_mut(client)?;
        if c.current.is_some() {
            return Err(SimError::ClientBusy(client));
        }
        c.last_seq += 1;
        let seq = c.last_seq;
        let target = via.unwrap_or(c.leader_guess);
        let op = Arc::new(op);
        let hid = self.history.invoke(client, Arc::clone(&op), now);
        if self.durability.enabled {
            if let Some(call) = self.history.calls.get(hid as usize).cloned() {
                self.issue_durable(Endpoint::Client(client), DurableRecord::Call(call));
            }
        }
        let slot = client.0.wrapping_sub(self.client_base + 1) as usize;
        let c = self
            .clients
            .get_mut(slot)
            .ok_or(SimError::NoSuchClient(client.0))?;
        let call = c.current.insert(PendingCall {
            seq,
            op,
            history_id: Some(hid),
            invoked_at: now,
            attempts: 0,
            target,
            stale_node: None,
            retry_at: u64::MAX,
        });
        self.trace.push_client_invoke(now, client, seq, &call.op);
        self.client_send(client);
        Ok(seq)
    }

    /// Read `key` from one node's own applied state, with no leader check:
    /// possibly stale, for teaching. Not part of the linearizable history.
    pub fn stale_read(
        &mut self,
        client: ClientId,
        node: NodeId,
        key: String,
    ) -> Result<u64, SimError> {
        let op = Op::Get { key };
        op.validate().map_err(SimError::Invalid)?;
        self.check_node(node)?;
        let now = self.now;
        let c = self.live_clerk_mut(client)?;
        if c.current.is_some() {
            return Err(SimError::ClientBusy(client));
        }
        c.last_seq += 1;
        let seq = c.last_seq;
        c.current = Some(PendingCall {
            seq,
            op: Arc::new(op.clone()),
            history_id: None,
            invoked_at: now,
            attempts: 0,
            target: node,
            stale_node: Some(node),
            retry_at: u64::MAX,
        });
        self.record(TraceEvent::ClientInvoke { client, seq, op });
        self.client_send(client);
        Ok(seq)
    }

    fn client_send(&mut self, client: ClientId) {
        let now = self.now;
        let timeout = self.config.client_timeout_us;
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        let Some(call) = c.current.as_mut() else {
            return;
        };
        call.attempts += 1;
        let (seq, target, attempt) = (call.seq, call.target, call.attempts);
        let req = ClientRequest {
            client,
            seq,
            op: call.op.clone(),
            stale: call.stale_node.is_some(),
        };
        self.record(TraceEvent::ClientSend {
            client,
            seq,
            to: target,
            attempt,
        });
        self.send(
            Endpoint::Client(client),
            Endpoint::Node(target),
            Packet::Request(req),
        );
        self.arm_retry(client, now + timeout);
    }

    /// Retry `client`'s current call at `at` unless an answer comes first
    /// (the clerk's timeout, dissertation §6.2), replacing any earlier
    /// retry time of the call.
    ///
    /// Lazily: a client keeps at most one live timer event. A live timer
    /// due no later than `at` stays queued; when it fires before the
    /// call's retry time it re-queues itself for that time
    /// ([`Simulation::client_timer`]). Only a retry time earlier than the
    /// live timer (a backoff after a redirect) queues a new one, which
    /// supersedes it. A client calling back to back used to leave one
    /// stale timer in the queue per call, each popped as an event that did
    /// nothing: one event in 21 of a sequential client's, one in five of
    /// 64 concurrent clients'. Now a live timer fires about once per
    /// client timeout, and every retry still happens at exactly its time.
    fn arm_retry(&mut self, client: ClientId, at: u64) {
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        let Some(call) = c.current.as_mut() else {
            return;
        };
        call.retry_at = at;
        if c.timer_at <= at {
            return;
        }
        c.timer_at = at;
        c.timer_gen += 1;
        let gen = c.timer_gen;
        self.schedule(at, Event::ClientTimer { client, gen });
    }

    fn client_timer(&mut self, client: ClientId, gen: u64) {
        let n = self.slots.len();
        let now = self.now;
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        if c.timer_gen != gen {
            return; // Superseded by an earlier timer.
        }
        c.timer_at = u64::MAX;
        let Some(call) = c.current.as_mut() else {
            return;
        };
        if call.retry_at > now {
            // Armed since for a later time (a new call, or a resend).
            let at = call.retry_at;
            c.timer_at = at;
            c.timer_gen += 1;
            let gen = c.timer_gen;
            self.schedule(at, Event::ClientTimer { client, gen });
            return;
        }
        let (seq, node) = (call.seq, call.target);
        if call.stale_node.is_some() {
            // A stale read is answered only by its node: give up.
            c.current = None;
            self.record(TraceEvent::ClientTimeout { client, seq, node });
            self.after_call(client);
            return;
        }
        // Try the next node round-robin (dissertation §6.2).
        let next = NodeId::from_idx((node.idx() + 1) % n);
        call.target = next;
        c.leader_guess = next;
        self.record(TraceEvent::ClientTimeout { client, seq, node });
        self.client_send(client);
    }

    fn client_reply(&mut self, client: ClientId, from: NodeId, r: ClientReply) {
        let now = self.now;
        let n = self.slots.len();
        let backoff = self.config.client_backoff_us;
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        let Some(call) = c.current.as_mut() else {
            return;
        };
        if call.seq != r.seq {
            return; // An answer to an earlier attempt of a finished call.
        }
        match r.answer {
            Answer::Done(result) => {
                let call = c.current.take();
                c.completed += 1;
                let latency = call.as_ref().map(|x| now - x.invoked_at).unwrap_or(0);
                c.last_return = Some((r.seq, result.clone(), latency));
                if call.as_ref().and_then(|x| x.stale_node).is_none() {
                    c.leader_guess = from;
                }
                let Some(call) = call else { return };
                if let Some(hid) = call.history_id {
                    self.history.complete(hid, now, result.clone());
                    if self.durability.enabled {
                        if let Some(rec) = self.history.calls.get(hid as usize).cloned() {
                            self.issue_durable(Endpoint::Client(client), DurableRecord::Call(rec));
                        }
                    }
                } else if let OpResult::Value { value } = &result {
                    self.record(TraceEvent::StaleRead {
                        client,
                        node: from,
                        key: call.op.key().to_string(),
                        value: value.clone(),
                    });
                }
                self.record(TraceEvent::ClientReturn {
                    client,
                    seq: r.seq,
                    result,
                    latency_us: now - call.invoked_at,
                });
                self.after_call(client);
            }
            Answer::NotLeader { leader_hint } => {
                if call.stale_node.is_some() {
                    return;
                }
                self.record(TraceEvent::ClientRedirect {
                    client,
                    seq: r.seq,
                    from,
                    leader_hint,
                });
                let Ok(c) = self.clerk_mut(client) else {
                    return;
                };
                let Some(call) = c.current.as_mut() else {
                    return;
                };
                match leader_hint {
                    Some(l) if l != from => {
                        call.target = l;
                        c.leader_guess = l;
                        self.client_send(client);
                    }
                    _ => {
                        let next = NodeId::from_idx((from.idx() + 1) % n);
                        call.target = next;
                        c.leader_guess = next;
                        // Retry after a pause rather than spinning while
                        // there is no leader.
                        self.arm_retry(client, now + backoff);
                        // The timer handler moves on to the node after
                        // `next`; step back so it lands on `next`.
                        if let Ok(c) = self.clerk_mut(client) {
                            if let Some(call) = c.current.as_mut() {
                                call.target = from;
                            }
                        }
                    }
                }
            }
            Answer::Retry => {
                let Ok(c) = self.clerk_mut(client) else {
                    return;
                };
                if let Some(call) = c.current.as_mut() {
                    call.target = from;
                }
                self.client_send(client);
            }
            Answer::Rejected(e) => {
                // Validation happens before invoke, so this is a node and
                // client disagreeing on limits: finish the call with no
                // effect recorded as a failed read of nothing.
                let call = c.current.take();
                self.record(TraceEvent::Action {
                    what: format!("{client}'s call was rejected: {e}"),
                });
                if let Some(call) = call {
                    if let Some(hid) = call.history_id {
                        // The call had no effect; drop it from the history.
                        self.history.calls[hid as usize].outcome = None;
                    }
                }
                self.after_call(client);
            }
        }
    }

    fn after_call(&mut self, client: ClientId) {
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        if let Some(w) = c.auto.clone() {
            let pause = self.client_rng.range_inclusive(0, w.think_max_us);
            if pause == 0 {
                // No think time: the next call starts now, not as an
                // event of its own at the same µs.
                self.client_next(client);
            } else {
                self.schedule(self.now + pause, Event::ClientNext { client });
            }
        }
    }

    fn client_next(&mut self, client: ClientId) {
        let Ok(c) = self.clerk_mut(client) else {
            return;
        };
        if c.current.is_some() {
            return;
        }
        let Some(w) = c.auto.clone() else { return };
        // The clerk and the clients' PRNG are separate fields: borrowed
        // side by side, not the clerk copied.
        let slot = client.0.wrapping_sub(self.client_base + 1) as usize;
        let Some(c) = self.clients.get(slot) else {
            return;
        };
        let op = c.random_op(&mut self.client_rng, &w);
        let _ = self.invoke(client, op, None);
    }

    // ----- Durability ------------------------------------------------------

    /// Turn on the asynchronous durability barrier, for storage that
    /// completes later (IndexedDB). Every node write and every client
    /// invocation becomes a [`DurableWrite`] to drain with
    /// [`Simulation::take_durable_writes`]; whatever the node or client sends
    /// afterwards is held until [`Simulation::confirm_durable`] confirms it.
    /// Turning it off releases everything held (carry on in memory).
    pub fn set_async_durability(&mut self, on: bool) {
        self.durability.enabled = on;
        if !on {
            let issued: Vec<(Endpoint, u64)> = self
                .durability
                .last_issued
                .iter()
                .map(|(ep, id)| (*ep, *id))
                .collect();
            for (ep, id) in issued {
                self.confirm_endpoint(ep, id);
            }
            self.durability.pending.clear();
            self.durability.owner.clear();
            self.durability.baseline = None;
        }
    }

    /// Turn the barrier on (or keep it on) with a fresh start: one write,
    /// whose id this returns, will store everything there is now (a
    /// baseline: every node's durable state and the whole history), and
    /// supersedes every write issued before, which is dropped whether or
    /// not it was taken. What those writes held back stays held, and every
    /// node now waits for the baseline too (its state may never have been
    /// stored), until [`Simulation::confirm_baseline`]. Writes issued after
    /// this get higher ids and are stored after the baseline.
    ///
    /// This is how a page starts persisting, and how it retries after a
    /// failed write: turning the barrier off and on would release, before
    /// anything is stored, answers that depend on the failed write.
    pub fn rebase_durability(&mut self) -> u64 {
        let d = &mut self.durability;
        d.enabled = true;
        d.pending.clear();
        d.owner.clear();
        let id = d.next_id;
        d.next_id += 1;
        for n in 0..self.slots.len() {
            d.last_issued
                .insert(Endpoint::Node(NodeId::from_idx(n)), id);
        }
        for (ep, issued) in d.last_issued.iter_mut() {
            if d.last_confirmed.get(ep) != Some(issued) {
                *issued = id;
            }
        }
        d.baseline = Some(id);
        id
    }

    /// The baseline of the last [`Simulation::rebase_durability`] is
    /// stored: release what waited for it.
    pub fn confirm_baseline(&mut self) {
        let Some(id) = self.durability.baseline.take() else {
            return;
        };
        let eps: Vec<Endpoint> = self
            .durability
            .last_issued
            .iter()
            .filter(|(_, i)| **i <= id)
            .map(|(ep, _)| *ep)
            .collect();
        for ep in eps {
            self.confirm_endpoint(ep, id);
        }
    }

    /// Whether the durability barrier is on.
    pub fn async_durability(&self) -> bool {
        self.durability.enabled
    }

    fn issue_durable(&mut self, ep: Endpoint, record: DurableRecord) {
        let id = self.durability.next_id;
        self.durability.next_id += 1;
        self.durability.last_issued.insert(ep, id);
        self.durability.owner.push_back((id, ep));
        self.durability.pending.push(DurableWrite { id, record });
    }

    /// Writes issued since the last call, in order. Store them (in order)
    /// and confirm each when it is durable.
    pub fn take_durable_writes(&mut self) -> Vec<DurableWrite> {
        std::mem::take(&mut self.durability.pending)
    }

    /// Writes issued but not yet confirmed.
    pub fn unconfirmed_writes(&self) -> usize {
        self.durability.owner.len()
    }

    /// Messages and answers held back waiting for storage.
    pub fn held_messages(&self) -> usize {
        self.durability.held.values().map(|q| q.len()).sum()
    }

    /// Write `id` is durable: release what was waiting for it.
    pub fn confirm_durable(&mut self, id: u64) {
        let owner = &mut self.durability.owner;
        let Some((_, ep)) = owner
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .and_then(|i| owner.remove(i))
        else {
            return;
        };
        self.confirm_endpoint(ep, id);
    }

    /// Everything `ep` issued up to write `id` is durable: release what
    /// waited for it.
    fn confirm_endpoint(&mut self, ep: Endpoint, id: u64) {
        let c = self.durability.last_confirmed.get_or_insert_with(ep, || id);
        *c = (*c).max(id);
        self.release(ep);
    }

    fn release(&mut self, ep: Endpoint) {
        let confirmed = self
            .durability
            .last_confirmed
            .get(&ep)
            .copied()
            .unwrap_or(0);
        loop {
            let next = match self.durability.held.get_mut(&ep) {
                Some(q)
                    if q.front()
                        .map(|(dep, _, _)| *dep <= confirmed)
                        .unwrap_or(false) =>
                {
                    q.pop_front()
                }
                _ => None,
            };
            let Some((_, to, packet)) = next else { break };
            self.route(ep, to, packet);
        }
    }

    /// Rebuild a cluster after the whole page went away (a power loss of
    /// every node): each node restarts from `durable[i]` only; the clock
    /// resumes at `now_us`; the clients' history so far is `history`; new
    /// clients get ids above `epoch * 1000` so they never reuse a session.
    ///
    /// The invariant checker starts over too, seeded only with every node's
    /// durable log (so Log Matching across the restored logs is checked at
    /// once): which node led which term before, and what was committed,
    /// were volatile knowledge of the lost session. Safety *across* a
    /// power loss is therefore checked from the outside, on what clients
    /// saw: `tests/durability.rs` natively and the page's 20-reload test
    /// check that every acknowledged write survives and that the whole
    /// history, before and after every reload, is linearizable. (Carrying
    /// the checker's commit knowledge over would flag commits that no one
    /// could have observed: a leader counts itself before its own write is
    /// durable, which is safe because nothing that depends on the commit
    /// leaves it before then.)
    pub fn resume(
        seed: u64,
        config: SimConfig,
        now_us: u64,
        epoch: u32,
        durable: Vec<crate::storage::Durable<Command>>,
        history: History,
    ) -> Result<Simulation, SimError> {
        // Saved numbers come from outside (a stored record, a script): keep
        // them where the arithmetic on them cannot overflow. Client ids are
        // `epoch * 1000 + n` in a u32; virtual time gets delays added.
        if epoch > MAX_EPOCH {
            return Err(SimError::BadConfig(format!(
                "the epoch {epoch} is out of range (at most {MAX_EPOCH})"
            )));
        }
        if now_us > MAX_TIME_US {
            return Err(SimError::BadConfig(format!(
                "the virtual time {now_us} µs is out of range (at most {MAX_TIME_US} µs)"
            )));
        }
        if durable.len() != config.nodes {
            return Err(SimError::BadConfig(format!(
                "storage holds {} nodes but the configuration has {}",
                durable.len(),
                config.nodes
            )));
        }
        let mut sim = Simulation::new(Rng::derive(seed, 10_000 + u64::from(epoch)), config)?;
        sim.seed = seed;
        sim.now = now_us;
        sim.client_base = epoch.saturating_mul(1000);
        sim.queue.clear();
        sim.node_timers.clear();
        sim.history = history;
        for (i, d) in durable.into_iter().enumerate() {
            let id = NodeId::from_idx(i);
            let w = crate::raft::LogWrite {
                from: LogIndex(1),
                entries: d.log.clone(),
            };
            if let Err(v) = sim.checker.on_log_write(id, &w) {
                sim.fail(v);
            }
            let slot = &mut sim.slots[i];
            slot.server = None;
            slot.storage = MemStorage::from_durable(d);
            slot.incarnation = epoch.max(1);
            sim.restart(id)?;
        }
        Ok(sim)
    }

    /// A client by id.
    pub fn client(&self, id: ClientId) -> Option<&Clerk> {
        self.clients
            .get(id.0.wrapping_sub(self.client_base + 1) as usize)
    }

    /// Calls still waiting for an answer.
    pub fn pending_calls(&self) -> usize {
        self.clients.iter().filter(|c| c.current.is_some()).count()
    }

    /// The committed index known to the checker (highest anywhere).
    pub fn committed_index(&self) -> LogIndex {
        self.checker.committed_index()
    }
}

/// The highest epoch [`Simulation::resume`] accepts: client ids of epoch
/// `e` start at `e * 1000 + 1` and must fit a u32 with room for 1000 more.
pub const MAX_EPOCH: u32 = u32::MAX / 1000 - 1;

/// The latest virtual time [`Simulation::resume`] accepts, in µs (about 142
/// years): far from u64's end, so adding delays never overflows.
pub const MAX_TIME_US: u64 = 1 << 52;

/// Seeds in the cross-platform determinism fixture.
pub const FIXTURE_SEEDS: u64 = 8;

/// The page's record of message `flight_id`, which is arriving or lost
/// (none when flights are not tracked). A function of the map alone, so a
/// delivery can call it while it borrows the queued message.
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "wasm-bench"),
    inline(always)
)]
fn take_flight(flights: &mut VecMap<u64, Flight>, flight_id: u64) -> Option<Flight> {
    if flights.is_empty() {
        None
    } else {
        flights.remove(&flight_id)
    }
}

/// The trace hash of the determinism scenario for `seed`: five seconds of
/// faults and clients on five nodes. The fixture written natively
/// (`raftlab-cli fixture`) must match what the browser computes.
pub fn fixture_hash(seed: u64) -> u64 {
    let opts = fuzz::FuzzOptions {
        duration_us: 5_000_000,
        ..fuzz::FuzzOptions::default()
    };
    let o = fuzz::fuzz_one(seed, &opts);
    o.trace_hash
}

#[cfg(test)]
mod tests {
    use super::{whole_percent, Event, LinkParams, SimConfig, Simulation, TraceEvent};
    use crate::kv::Op;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Node timers are not queued events (`timers`): in an idle cluster
    /// every event delivers a message, fires an election timeout or sends
    /// a leader's heartbeats. None re-queues a timer whose deadline moved
    /// (with lazy queued timers, about one event in eight did).
    fn idle_events_are_deliveries_and_due_deadlines() {
        let cfg = SimConfig {
            trace_keep: 1_000_000,
            track_flights: false,
            ..SimConfig::default()
        };
        let heartbeat_us = cfg.raft.heartbeat_interval_us;
        let mut sim = Simulation::new(7, cfg).unwrap();
        sim.run_for(30_000_000);
        assert!(sim.leader().is_some());
        let (mut delivered, mut elections) = (0, 0);
        for s in sim.trace().events() {
            match s.event {
                TraceEvent::Delivered { .. } => delivered += 1,
                TraceEvent::ElectionTimeout { .. } => elections += 1,
                _ => {}
            }
        }
        // At most one heartbeat round per interval.
        let rounds = sim.now() / heartbeat_us;
        let events = sim.events_processed();
        assert!(
            events <= delivered + elections + rounds,
            "{events} events for {delivered} deliveries, {elections} elections, at most {rounds} heartbeat rounds"
        );
        assert!(events >= delivered + elections + rounds * 9 / 10);
    }

    /// When each `ClientTimeout` of the trace happened.
    fn timeouts(sim: &Simulation) -> Vec<u64> {
        sim.trace()
            .events()
            .filter(|s| matches!(s.event, TraceEvent::ClientTimeout { .. }))
            .map(|s| s.at_us)
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// The clerk's retry timer (dissertation §6.2, `Simulation::arm_retry`)
    /// is lazy: calls back to back leave at most one timer queued, not one
    /// per call; yet a call that gets no answer is sent again exactly one
    /// client timeout after its last send, and an earlier retry time (the
    /// backoff after a redirect) supersedes the queued timer.
    fn client_retries_are_exact_and_their_timers_few() {
        let cfg = SimConfig {
            trace_keep: 1_000_000,
            ..SimConfig::default()
        };
        let timeout = cfg.client_timeout_us;
        let mut sim = Simulation::new(3, cfg).unwrap();
        assert!(sim.run_until_pred(2_000_000, |s| s.leader().is_some()));
        let c = sim.add_client();
        let client_timers = |s: &Simulation| {
            s.queue
                .events()
                .filter(|e| matches!(e, Event::ClientTimer { .. }))
                .count()
        };
        for i in 0..40 {
            let op = Op::Put {
                key: format!("k{}", i % 3),
                value: i.to_string(),
            };
            sim.invoke(c, op, None).unwrap();
            assert!(sim.run_until_pred(2_000_000, |s| s.pending_calls() == 0));
            assert!(client_timers(&sim) <= 1, "call {i}: stale timers pile up");
        }
        assert!(timeouts(&sim).is_empty(), "a retry on a healthy network");
        // The live timer is due well before the next call's retry time.
        let live = sim.clients()[0].timer_at;
        assert!(live < sim.now() + timeout, "{live}");
        // No answer gets through: the call goes out again one timeout
        // after each send, to the next node each time.
        let nodes = sim.node_ids();
        for &n in &nodes {
            sim.set_client_cut(c, n, true).unwrap();
        }
        let sent = sim.now();
        sim.invoke(c, Op::Get { key: "k0".into() }, None).unwrap();
        sim.run_for(3 * timeout + 1);
        assert_eq!(
            timeouts(&sim),
            vec![sent + timeout, sent + 2 * timeout, sent + 3 * timeout]
        );
        assert_eq!(client_timers(&sim), 1);
        // An earlier retry time (as the backoff sets) goes first, and the
        // timer it supersedes does nothing when it comes due.
        let now = sim.now();
        sim.arm_retry(c, now + 1_000);
        sim.run_for(timeout + 2_000);
        assert_eq!(timeouts(&sim)[3..], [now + 1_000, now + 1_000 + timeout]);
        // Answered at last: no more retries.
        for &n in &nodes {
            sim.set_client_cut(c, n, false).unwrap();
        }
        assert!(sim.run_until_pred(5 * timeout, |s| s.pending_calls() == 0));
        let done = timeouts(&sim).len();
        sim.run_for(3 * timeout);
        assert_eq!(timeouts(&sim).len(), done);
        assert_eq!(client_timers(&sim), 0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// A configuration as the page stores it (written and read by
    /// `crate::json`) comes back equal, probabilities to the last bit.
    fn config_reads_back_as_written() {
        for (i, p) in [
            0.0,
            0.05,
            0.1,
            0.3,
            1.0 / 3.0,
            0.999,
            0.9856906946328695,
            1.0,
        ]
        .into_iter()
        .enumerate()
        {
            let cfg = SimConfig {
                nodes: 1 + i,
                link: LinkParams {
                    latency_min_us: 1 + i as u64,
                    latency_max_us: 90_000,
                    loss: p,
                    duplicate: p / 2.0,
                    reorder: 1.0 - p,
                },
                track_flights: i % 2 == 0,
                ..SimConfig::default()
            };
            let text = crate::json::to_string(&cfg);
            assert_eq!(crate::json::from_str::<SimConfig>(&text), Ok(cfg), "{text}");
        }
        let e = crate::json::from_str::<SimConfig>(r#"{"nodes": 5}"#).unwrap_err();
        assert_eq!(e.to_string(), "missing field `raft`");
        // A variant that needs data, named without it, says so.
        let e = crate::json::from_str::<super::DurableRecord>(r#""Node""#).unwrap_err();
        assert!(e.to_string().contains("without its data"), "{e}");
        let e = crate::json::from_str::<crate::raft::Payload<u32>>(r#""Command""#).unwrap_err();
        assert!(e.to_string().contains("without its data"), "{e}");
        let e = crate::json::from_str::<super::DurableRecord>(r#"{"Disk": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `Disk`"), "{e}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// The trace's network text writes percents as `{:.0}` did (the trace
    /// hash covers it): every thousandth, every value a slider gives, and
    /// the exact ties, which round to even.
    fn whole_percent_matches_float_formatting() {
        let mut ps: Vec<f64> = (0..=1000).map(|i| f64::from(i) / 1000.0).collect();
        ps.extend((0..=200).map(|i| f64::from(i) * 0.005));
        ps.extend([0.005, 0.015, 0.025, 0.125, 0.3 + 0.000_000_000_000_000_04]);
        for p in ps {
            assert_eq!(
                whole_percent(p).to_string(),
                format!("{:.0}", p * 100.0),
                "{p}"
            );
        }
    }
}

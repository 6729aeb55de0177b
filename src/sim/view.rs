//! What the page draws: one serializable snapshot of the whole world
//! ([`View`]) and one plain sentence per trace event ([`narrate`]).
//! Times are in milliseconds as `f64` and ids are small integers, so
//! everything fits a JavaScript number.

use super::trace::{DropReason, Endpoint, MsgKind, Stamped, TraceEvent};
use super::Simulation;
use crate::json::{JsonOut, ToJson};
use crate::raft::{Payload, Role};
use crate::vecmap::VecMap;

/// Most log entries per node included in a view (the newest ones).
pub const VIEW_LOG_LIMIT: usize = 200;

/// Most key-value pairs per node included in a view (the first ones in key
/// order). The page takes a view every animation frame, so what a frame
/// costs must not grow with the store: a script can put tens of thousands
/// of keys. [`NodeView::kv_len`] still gives the whole count.
pub const VIEW_KV_LIMIT: usize = 200;

/// The whole world at one moment.
#[derive(Clone, Debug)]
pub struct View {
    /// Virtual time, ms.
    pub now_ms: f64,
    /// The seed, as a decimal string (a `u64` does not fit a JS number).
    pub seed: String,
    /// The nodes.
    pub nodes: Vec<NodeView>,
    /// Cut directed links between nodes, as `[from, to]`.
    pub cuts: Vec<[u32; 2]>,
    /// Messages in flight.
    pub flights: Vec<FlightView>,
    /// Messages dropped recently.
    pub drops: Vec<FlightView>,
    /// The clients.
    pub clients: Vec<ClientView>,
    /// The leader of the highest term among running nodes.
    pub leader: Option<u32>,
    /// The first safety violation, if any.
    pub violation: Option<String>,
    /// Number of trace events so far.
    pub trace_len: f64,
    /// Network and timing settings.
    pub settings: SettingsView,
    /// Highest index committed anywhere.
    pub committed_index: f64,
}

impl ToJson for View {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("now_ms", &self.now_ms);
        out.field("seed", &self.seed);
        out.field("nodes", &self.nodes);
        out.field("cuts", &self.cuts);
        out.field("flights", &self.flights);
        out.field("drops", &self.drops);
        out.field("clients", &self.clients);
        out.field("leader", &self.leader);
        out.field("violation", &self.violation);
        out.field("trace_len", &self.trace_len);
        out.field("settings", &self.settings);
        out.field("committed_index", &self.committed_index);
        out.end_obj();
    }
}

/// Settings shown by the sliders.
#[derive(Clone, Debug)]
pub struct SettingsView {
    /// Link latency lower bound, ms.
    pub latency_min_ms: f64,
    /// Link latency upper bound, ms.
    pub latency_max_ms: f64,
    /// Loss probability.
    pub loss: f64,
    /// Duplication probability.
    pub duplicate: f64,
    /// Reordering probability.
    pub reorder: f64,
    /// Election timeout lower bound, ms.
    pub election_min_ms: f64,
    /// Election timeout upper bound, ms.
    pub election_max_ms: f64,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
}

impl ToJson for SettingsView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("latency_min_ms", &self.latency_min_ms);
        out.field("latency_max_ms", &self.latency_max_ms);
        out.field("loss", &self.loss);
        out.field("duplicate", &self.duplicate);
        out.field("reorder", &self.reorder);
        out.field("election_min_ms", &self.election_min_ms);
        out.field("election_max_ms", &self.election_max_ms);
        out.field("heartbeat_ms", &self.heartbeat_ms);
        out.end_obj();
    }
}

/// One node.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// Id (1-based).
    pub id: u32,
    /// Running or crashed.
    pub up: bool,
    /// "follower", "candidate", "leader", or "down".
    pub role: String,
    /// Current term (the durable one when down).
    pub term: f64,
    /// Vote in the current term.
    pub voted_for: Option<u32>,
    /// Votes received (candidate or leader).
    pub votes: Vec<u32>,
    /// Who it thinks leads.
    pub leader_hint: Option<u32>,
    /// Commit index (0 when down).
    pub commit_index: f64,
    /// Last applied index.
    pub applied_index: f64,
    /// Last log index.
    pub last_index: f64,
    /// Election timer: when it started and when it fires, ms (followers
    /// and candidates).
    pub timer_start_ms: Option<f64>,
    /// When the election timer fires, ms.
    pub timer_deadline_ms: Option<f64>,
    /// The newest log entries (at most [`VIEW_LOG_LIMIT`], or the limit
    /// given to [`Simulation::view_with_log_limit`]).
    pub log: Vec<EntryView>,
    /// Index of the first entry in `log`.
    pub log_offset: f64,
    /// On a leader: each follower's nextIndex and matchIndex.
    pub progress: Vec<ProgressView>,
    /// The applied key-value state: its first keys in key order, at most
    /// [`VIEW_KV_LIMIT`] of them (or the limit given to
    /// [`Simulation::view_with_limits`]). Empty when down.
    pub kv: VecMap<String, String>,
    /// How many keys the applied state holds in all (`kv` may carry fewer);
    /// 0 when down.
    pub kv_len: f64,
    /// What is on disk.
    pub durable: DurableView,
    /// Restarts so far.
    pub incarnation: u32,
}

impl ToJson for NodeView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("up", &self.up);
        out.field("role", &self.role);
        out.field("term", &self.term);
        out.field("voted_for", &self.voted_for);
        out.field("votes", &self.votes);
        out.field("leader_hint", &self.leader_hint);
        out.field("commit_index", &self.commit_index);
        out.field("applied_index", &self.applied_index);
        out.field("last_index", &self.last_index);
        out.field("timer_start_ms", &self.timer_start_ms);
        out.field("timer_deadline_ms", &self.timer_deadline_ms);
        out.field("log", &self.log);
        out.field("log_offset", &self.log_offset);
        out.field("progress", &self.progress);
        out.field("kv", &self.kv);
        out.field("kv_len", &self.kv_len);
        out.field("durable", &self.durable);
        out.field("incarnation", &self.incarnation);
        out.end_obj();
    }
}

/// What a node's storage holds.
#[derive(Clone, Debug)]
pub struct DurableView {
    /// Stored term.
    pub term: f64,
    /// Stored vote.
    pub voted_for: Option<u32>,
    /// Stored log length.
    pub log_len: f64,
    /// Term of the last stored entry.
    pub last_term: f64,
    /// Write batches so far.
    pub writes: f64,
}

impl ToJson for DurableView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("term", &self.term);
        out.field("voted_for", &self.voted_for);
        out.field("log_len", &self.log_len);
        out.field("last_term", &self.last_term);
        out.field("writes", &self.writes);
        out.end_obj();
    }
}

/// One log entry.
#[derive(Clone, Debug)]
pub struct EntryView {
    /// Index.
    pub index: f64,
    /// Term.
    pub term: f64,
    /// Short label ("no-op", "put x=1").
    pub label: String,
    /// Committed on this node.
    pub committed: bool,
}

impl ToJson for EntryView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("index", &self.index);
        out.field("term", &self.term);
        out.field("label", &self.label);
        out.field("committed", &self.committed);
        out.end_obj();
    }
}

/// A leader's view of a follower.
#[derive(Clone, Debug)]
pub struct ProgressView {
    /// The follower.
    pub node: u32,
    /// nextIndex.
    pub next_index: f64,
    /// matchIndex.
    pub match_index: f64,
}

impl ToJson for ProgressView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("node", &self.node);
        out.field("next_index", &self.next_index);
        out.field("match_index", &self.match_index);
        out.end_obj();
    }
}

/// A message in flight or dropped.
#[derive(Clone, Debug)]
pub struct FlightView {
    /// Message id.
    pub id: f64,
    /// Sender: node id, or client id when `from_client`.
    pub from: u32,
    /// Whether the sender is a client.
    pub from_client: bool,
    /// Receiver: node id, or client id when `to_client`.
    pub to: u32,
    /// Whether the receiver is a client.
    pub to_client: bool,
    /// Kind name.
    pub kind: String,
    /// Sent, ms.
    pub sent_ms: f64,
    /// Arrives (or was dropped), ms.
    pub arrive_ms: f64,
    /// A network duplicate.
    pub duplicate: bool,
    /// Granted / success / answered.
    pub ok: Option<bool>,
    /// One line about it.
    pub summary: String,
    /// For drops: "lost", "cut", "receiver down".
    pub dropped: Option<String>,
}

impl ToJson for FlightView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("from", &self.from);
        out.field("from_client", &self.from_client);
        out.field("to", &self.to);
        out.field("to_client", &self.to_client);
        out.field("kind", &self.kind);
        out.field("sent_ms", &self.sent_ms);
        out.field("arrive_ms", &self.arrive_ms);
        out.field("duplicate", &self.duplicate);
        out.field("ok", &self.ok);
        out.field("summary", &self.summary);
        out.field("dropped", &self.dropped);
        out.end_obj();
    }
}

/// One client.
#[derive(Clone, Debug)]
pub struct ClientView {
    /// Id.
    pub id: u32,
    /// Makes random calls by itself.
    pub auto: bool,
    /// The call in progress, described.
    pub pending: Option<String>,
    /// Its sequence number.
    pub pending_seq: Option<f64>,
    /// Attempts so far for the call in progress.
    pub attempts: u32,
    /// Node it last sent to.
    pub target: u32,
    /// The last answer's sequence number.
    pub last_seq: Option<f64>,
    /// The last answer.
    pub last_result: Option<String>,
    /// Its latency, ms.
    pub last_latency_ms: Option<f64>,
    /// Calls completed.
    pub completed: f64,
}

impl ToJson for ClientView {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("auto", &self.auto);
        out.field("pending", &self.pending);
        out.field("pending_seq", &self.pending_seq);
        out.field("attempts", &self.attempts);
        out.field("target", &self.target);
        out.field("last_seq", &self.last_seq);
        out.field("last_result", &self.last_result);
        out.field("last_latency_ms", &self.last_latency_ms);
        out.field("completed", &self.completed);
        out.end_obj();
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn endpoint(e: Endpoint) -> (u32, bool) {
    match e {
        Endpoint::Node(n) => (n.0, false),
        Endpoint::Client(c) => (c.0, true),
    }
}

fn flight_view(f: &super::Flight, dropped: Option<DropReason>) -> FlightView {
    let (from, from_client) = endpoint(f.from);
    let (to, to_client) = endpoint(f.to);
    FlightView {
        id: f.id as f64,
        from,
        from_client,
        to,
        to_client,
        kind: f.kind.name().to_string(),
        sent_ms: ms(f.sent_at),
        arrive_ms: ms(f.deliver_at),
        duplicate: f.duplicate,
        ok: f.ok,
        summary: f.summary.clone(),
        dropped: dropped.map(|d| {
            match d {
                DropReason::Lost => "lost",
                DropReason::Cut => "cut",
                DropReason::ReceiverDown => "receiver down",
            }
            .to_string()
        }),
    }
}

/// A short label for a log entry.
pub fn entry_label(p: &Payload<crate::kv::Command>) -> String {
    match p {
        Payload::Noop => "no-op".into(),
        Payload::Command(c) => match &*c.op {
            crate::kv::Op::Put { key, value } => format!("put {key}={value}"),
            crate::kv::Op::Append { key, value } => format!("append {key}+={value}"),
            crate::kv::Op::Delete { key } => format!("delete {key}"),
            crate::kv::Op::Cas {
                key,
                expected,
                value,
            } => {
                format!("cas {key} {}→{value}", expected.as_deref().unwrap_or("∅"))
            }
            crate::kv::Op::Get { key } => format!("get {key}"),
        },
    }
}

impl Simulation {
    /// A snapshot of everything the page draws.
    pub fn view(&self) -> View {
        self.view_with_log_limit(VIEW_LOG_LIMIT)
    }

    /// [`Simulation::view`] with at most `log_limit` of the newest log
    /// entries per node, for callers that draw fewer.
    pub fn view_with_log_limit(&self, log_limit: usize) -> View {
        self.view_with_limits(log_limit, VIEW_KV_LIMIT)
    }

    /// [`Simulation::view`] with at most `log_limit` of the newest log
    /// entries and `kv_limit` of the first keys (in key order) per node.
    /// Only the entries and keys included are copied, so the cost follows
    /// the limits, not the size of the log or the store.
    pub fn view_with_limits(&self, log_limit: usize, kv_limit: usize) -> View {
        let mut nodes = Vec::new();
        for id in self.node_ids() {
            let Some(slot) = self.slot(id) else { continue };
            let d = slot.storage.durable();
            let durable = DurableView {
                term: d.hard_state.current_term.0 as f64,
                voted_for: d.hard_state.voted_for.map(|v| v.0),
                log_len: d.log.len() as f64,
                last_term: d.log.last().map(|e| e.term.0 as f64).unwrap_or(0.0),
                writes: slot.storage.writes as f64,
            };
            let nv = match &slot.server {
                Some(s) => {
                    let r = &s.raft;
                    let log = r.log();
                    let start = log.len().saturating_sub(log_limit);
                    let commit = r.commit_index();
                    let timer = r.role() != Role::Leader;
                    NodeView {
                        id: id.0,
                        up: true,
                        role: r.role().to_string(),
                        term: r.term().0 as f64,
                        voted_for: r.voted_for().map(|v| v.0),
                        votes: if r.role() == Role::Follower {
                            Vec::new()
                        } else {
                            r.votes().iter().map(|v| v.0).collect()
                        },
                        leader_hint: r.leader_hint().map(|v| v.0),
                        commit_index: commit.0 as f64,
                        applied_index: r.applied_index().0 as f64,
                        last_index: r.last_index().0 as f64,
                        timer_start_ms: timer.then(|| ms(r.election_timer_start())),
                        timer_deadline_ms: timer.then(|| ms(r.election_deadline())),
                        log: log[start..]
                            .iter()
                            .map(|e| EntryView {
                                index: e.index.0 as f64,
                                term: e.term.0 as f64,
                                label: entry_label(&e.payload),
                                committed: e.index <= commit,
                            })
                            .collect(),
                        log_offset: (start + 1) as f64,
                        progress: if r.role() == Role::Leader {
                            r.members()
                                .iter()
                                .filter(|m| **m != id)
                                .map(|m| {
                                    let p = &r.progress()[m.idx()];
                                    ProgressView {
                                        node: m.0,
                                        next_index: p.next_index.0 as f64,
                                        match_index: p.match_index.0 as f64,
                                    }
                                })
                                .collect()
                        } else {
                            Vec::new()
                        },
                        // In key order already: each key is appended at the end.
                        kv: s
                            .kv
                            .data()
                            .iter()
                            .take(kv_limit)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                        kv_len: s.kv.data().len() as f64,
                        durable,
                        incarnation: slot.incarnation,
                    }
                }
                None => {
                    let start = d.log.len().saturating_sub(log_limit);
                    NodeView {
                        id: id.0,
                        up: false,
                        role: "down".into(),
                        term: d.hard_state.current_term.0 as f64,
                        voted_for: d.hard_state.voted_for.map(|v| v.0),
                        votes: Vec::new(),
                        leader_hint: None,
                        commit_index: 0.0,
                        applied_index: 0.0,
                        last_index: d.log.len() as f64,
                        timer_start_ms: None,
                        timer_deadline_ms: None,
                        log: d.log[start..]
                            .iter()
                            .map(|e| EntryView {
                                index: e.index.0 as f64,
                                term: e.term.0 as f64,
                                label: entry_label(&e.payload),
                                committed: false,
                            })
                            .collect(),
                        log_offset: (start + 1) as f64,
                        progress: Vec::new(),
                        kv: VecMap::new(),
                        kv_len: 0.0,
                        durable,
                        incarnation: slot.incarnation,
                    }
                }
            };
            nodes.push(nv);
        }
        let cuts = self
            .network()
            .cuts()
            .filter_map(|(a, b)| match (a, b) {
                (Endpoint::Node(x), Endpoint::Node(y)) => Some([x.0, y.0]),
                _ => None,
            })
            .collect();
        let clients = self
            .clients()
            .iter()
            .map(|c| ClientView {
                id: c.id.0,
                auto: c.auto.is_some(),
                pending: c.current.as_ref().map(|p| {
                    if p.stale_node.is_some() {
                        format!("{} (stale read)", p.op)
                    } else {
                        p.op.to_string()
                    }
                }),
                pending_seq: c.current.as_ref().map(|p| p.seq as f64),
                attempts: c.current.as_ref().map(|p| p.attempts).unwrap_or(0),
                target: c
                    .current
                    .as_ref()
                    .map(|p| p.target.0)
                    .unwrap_or(c.leader_guess.0),
                last_seq: c.last_return.as_ref().map(|r| r.0 as f64),
                last_result: c.last_return.as_ref().map(|r| r.1.to_string()),
                last_latency_ms: c.last_return.as_ref().map(|r| ms(r.2)),
                completed: c.completed as f64,
            })
            .collect();
        let cfg = self.config();
        View {
            now_ms: ms(self.now()),
            seed: self.seed().to_string(),
            nodes,
            cuts,
            flights: self.flights().map(|f| flight_view(f, None)).collect(),
            drops: self
                .drops()
                .map(|d| flight_view(&d.flight, Some(d.reason)))
                .collect(),
            clients,
            leader: self.leader().map(|l| l.0),
            violation: self.violation().map(|v| v.to_string()),
            trace_len: self.trace().len() as f64,
            settings: SettingsView {
                latency_min_ms: ms(cfg.link.latency_min_us),
                latency_max_ms: ms(cfg.link.latency_max_us),
                loss: cfg.link.loss,
                duplicate: cfg.link.duplicate,
                reorder: cfg.link.reorder,
                election_min_ms: ms(cfg.raft.election_timeout_min_us),
                election_max_ms: ms(cfg.raft.election_timeout_max_us),
                heartbeat_ms: ms(cfg.raft.heartbeat_interval_us),
            },
            committed_index: self.committed_index().0 as f64,
        }
    }
}

/// One narration line.
#[derive(Clone, Debug)]
pub struct Line {
    /// Trace sequence number.
    pub seq: f64,
    /// Virtual time, ms.
    pub at_ms: f64,
    /// Category for filtering: "election", "log", "client", "fault",
    /// "message", "violation".
    pub kind: &'static str,
    /// Nodes involved.
    pub nodes: Vec<u32>,
    /// The sentence.
    pub text: String,
}

impl ToJson for Line {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("seq", &self.seq);
        out.field("at_ms", &self.at_ms);
        out.field("kind", &self.kind);
        out.field("nodes", &self.nodes);
        out.field("text", &self.text);
        out.end_obj();
    }
}

fn names(v: &[crate::raft::NodeId]) -> String {
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One plain sentence for a trace event, with its category and nodes.
pub fn narrate(s: &Stamped) -> Line {
    use TraceEvent as E;
    let (kind, nodes, text): (&'static str, Vec<u32>, String) = match &s.event {
        E::ElectionTimeout { node, term } => (
            "election",
            vec![node.0],
            format!("{node} timed out and started an election for term {term}"),
        ),
        E::Voted {
            voter,
            candidate,
            term,
        } => (
            "election",
            vec![voter.0, candidate.0],
            format!("{voter} voted for {candidate} in term {term}"),
        ),
        E::VoteRefused {
            voter,
            candidate,
            term,
            reason,
        } => (
            "election",
            vec![voter.0, candidate.0],
            format!("{voter} refused its vote to {candidate} for term {term}: {reason}"),
        ),
        E::BecameLeader { node, term, votes } => (
            "election",
            vec![node.0],
            format!("{node} won term {term} with votes from {}", names(votes)),
        ),
        E::BecameFollower {
            node,
            term,
            because_of,
        } => (
            "election",
            vec![node.0, because_of.0],
            format!("{node} became a follower in term {term} after hearing from {because_of}"),
        ),
        E::Appended {
            node,
            from,
            to,
            last_term,
        } => (
            "log",
            vec![node.0],
            if from == to {
                format!("{node} stored entry {from} (term {last_term})")
            } else {
                format!("{node} stored entries {from}–{to} (up to term {last_term})")
            },
        ),
        E::Truncated { node, from, count } => (
            "log",
            vec![node.0],
            format!(
                "{node} removed {count} conflicting entr{} from index {from}",
                if *count == 1 { "y" } else { "ies" }
            ),
        ),
        E::Committed { node, from, to } => (
            "log",
            vec![node.0],
            if to.0 == from.0 + 1 {
                format!("{node}: entry {to} committed")
            } else {
                format!("{node}: entries {}–{to} committed", from.0 + 1)
            },
        ),
        E::Applied {
            node, index, what, ..
        } => (
            "log",
            vec![node.0],
            format!("{node} applied entry {index}: {what}"),
        ),
        E::Ignored {
            node,
            from,
            kind,
            term,
        } => (
            "message",
            vec![node.0, from.0],
            format!("{node} ignored a stale {kind} from {from} (term {term})"),
        ),
        E::Sent {
            from,
            to,
            kind,
            duplicate,
            ..
        } => (
            "message",
            endpoint_nodes(&[*from, *to]),
            format!(
                "{from} sent {} to {to}{}",
                kind_name(*kind),
                if *duplicate {
                    " (the network duplicated it)"
                } else {
                    ""
                }
            ),
        ),
        E::Delivered { from, to, kind, .. } => (
            "message",
            endpoint_nodes(&[*from, *to]),
            format!("{} from {from} reached {to}", kind_name(*kind)),
        ),
        E::Dropped {
            from,
            to,
            kind,
            reason,
            ..
        } => (
            "message",
            endpoint_nodes(&[*from, *to]),
            format!(
                "{} from {from} to {to} was {}",
                kind_name(*kind),
                match reason {
                    DropReason::Lost => "lost",
                    DropReason::Cut => "dropped: the link is cut",
                    DropReason::ReceiverDown => "dropped: the receiver is down",
                }
            ),
        ),
        E::ClientInvoke { client, seq, op } => {
            ("client", vec![], format!("{client} called #{seq}: {op}"))
        }
        E::ClientSend {
            client,
            seq,
            to,
            attempt,
        } => (
            "client",
            vec![to.0],
            if *attempt == 1 {
                format!("{client} sent #{seq} to {to}")
            } else {
                format!("{client} sent #{seq} to {to} (attempt {attempt})")
            },
        ),
        E::ClientRedirect {
            client,
            seq,
            from,
            leader_hint,
        } => (
            "client",
            vec![from.0],
            match leader_hint {
                Some(h) => format!("{from} told {client} (#{seq}) to ask the leader {h}"),
                None => format!("{from} told {client} (#{seq}) it knows no leader"),
            },
        ),
        E::ClientTimeout { client, seq, node } => (
            "client",
            vec![node.0],
            format!("{client} got no answer to #{seq} from {node} and will retry"),
        ),
        E::ClientReturn {
            client,
            seq,
            result,
            latency_us,
        } => ("client", vec![], {
            // Tenths of a millisecond, rounded half up, in integers (no
            // float printing in the page's wasm).
            let tenths = latency_us.saturating_add(50) / 100;
            format!(
                "{client} #{seq} returned {result} after {}.{} ms",
                tenths / 10,
                tenths % 10
            )
        }),
        E::StaleRead {
            client,
            node,
            key,
            value,
        } => (
            "client",
            vec![node.0],
            format!(
                "{client} read {key:?} from {node}'s local copy (possibly stale): {}",
                value
                    .as_deref()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_else(|| "(absent)".into())
            ),
        ),
        E::ReadServed {
            node,
            client,
            read_index,
        } => (
            "client",
            vec![node.0],
            format!(
                "{node} confirmed its leadership and served {client}'s read at index {read_index}"
            ),
        ),
        E::Crashed { node } => ("fault", vec![node.0], format!("{node} crashed")),
        E::Restarted {
            node,
            term,
            log_len,
        } => (
            "fault",
            vec![node.0],
            format!("{node} restarted from disk: term {term}, {log_len} log entries"),
        ),
        E::LinkCut { from, to, cut } => (
            "fault",
            vec![from.0, to.0],
            if *cut {
                format!("link {from}→{to} cut")
            } else {
                format!("link {from}→{to} healed")
            },
        ),
        E::NetworkChanged { what } => ("fault", vec![], format!("network: {what}")),
        E::Action { what } => ("fault", vec![], what.clone()),
        E::Violation { message } => ("violation", vec![], format!("SAFETY VIOLATION: {message}")),
        E::ClientCrashed { client, seq } => (
            "fault",
            vec![],
            match seq {
                Some(seq) => format!(
                    "{client} crashed: call #{seq} gets no answer and may or may not take effect"
                ),
                None => format!("{client} crashed between calls"),
            },
        ),
    };
    Line {
        seq: s.seq as f64,
        at_ms: ms(s.at_us),
        kind,
        nodes,
        text,
    }
}

/// The category [`narrate`] gives an event's line, without writing the
/// sentence: cheap enough to filter thousands of events per frame.
pub fn narrate_kind(e: &TraceEvent) -> &'static str {
    use TraceEvent as E;
    match e {
        E::ElectionTimeout { .. }
        | E::Voted { .. }
        | E::VoteRefused { .. }
        | E::BecameLeader { .. }
        | E::BecameFollower { .. } => "election",
        E::Appended { .. } | E::Truncated { .. } | E::Committed { .. } | E::Applied { .. } => "log",
        E::Ignored { .. } | E::Sent { .. } | E::Delivered { .. } | E::Dropped { .. } => "message",
        E::ClientInvoke { .. }
        | E::ClientSend { .. }
        | E::ClientRedirect { .. }
        | E::ClientTimeout { .. }
        | E::ClientReturn { .. }
        | E::StaleRead { .. }
        | E::ReadServed { .. } => "client",
        E::Crashed { .. }
        | E::Restarted { .. }
        | E::LinkCut { .. }
        | E::NetworkChanged { .. }
        | E::Action { .. }
        | E::ClientCrashed { .. } => "fault",
        E::Violation { .. } => "violation",
    }
}

fn kind_name(k: MsgKind) -> &'static str {
    k.name()
}

fn endpoint_nodes(e: &[Endpoint]) -> Vec<u32> {
    e.iter()
        .filter_map(|x| match x {
            Endpoint::Node(n) => Some(n.0),
            Endpoint::Client(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn view_and_narration_follow_an_election() {
        let mut sim = Simulation::new(3, SimConfig::default()).unwrap();
        sim.run_until_pred(2_000_000, |s| s.leader().is_some());
        let v = sim.view();
        assert_eq!(v.nodes.len(), 5);
        let leader = v.leader.expect("leader");
        let lv = &v.nodes[leader as usize - 1];
        assert_eq!(lv.role, "leader");
        assert_eq!(lv.progress.len(), 4);
        assert_eq!(lv.log[0].label, "no-op");
        let lines: Vec<Line> = sim.trace().events().map(narrate).collect();
        assert!(lines.iter().any(|l| l
            .text
            .contains("timed out and started an election for term")));
        assert!(lines
            .iter()
            .any(|l| l.text.starts_with(&format!("S{leader} won term"))));
        for s in sim.trace().events() {
            assert_eq!(narrate_kind(&s.event), narrate(s).kind);
        }
        sim.crash(crate::raft::NodeId(leader)).unwrap();
        let v = sim.view();
        assert_eq!(v.nodes[leader as usize - 1].role, "down");
        assert!(v.nodes[leader as usize - 1].durable.log_len >= 1.0);
    }
}

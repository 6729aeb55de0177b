//! The person's actions on the page (crashes, link cuts, sliders, console
//! calls, background clients), recorded in order with their virtual time,
//! so that the saved cluster keeps them (the `actions` of
//! [`SimMeta`](super::idb::SimMeta)) and a resumed cluster gets back the
//! state they led to.
//!
//! What a resume restores from them, replaying them in order on the
//! rebuilt cluster ([`replay`]):
//!
//! - **Link cuts** (`set_cut`, `isolate`, `partition`, `heal_all`): the
//!   network is cut exactly as it was.
//! - **Background clients** (`add_workload`, `stop_workload`): as many
//!   automatic clients run again, with new ids (a new epoch), so they never
//!   reuse a stored session.
//!
//! What it does not need to replay, or cannot:
//!
//! - `set_network` and `set_timing` are already in the stored configuration
//!   ([`SimConfig`](crate::sim::SimConfig)), which the resumed cluster uses.
//! - `crash` and `restart`: a reload is a power loss of the whole cluster,
//!   so every node restarts from its stored state, including one that was
//!   down (Raft Figure 2: a server's persistent state is all it keeps).
//! - `force_timeout`, `align_timers`: one-off nudges to timers that the
//!   restart resets anyway.
//! - `submit` and `stale_read`: a console call in progress is not sent
//!   again; the history keeps it as a call that never returned (it may or
//!   may not have taken effect), which is what the linearizability checker
//!   expects of a client that went away.
//!
//! The list is kept whole up to [`MAX_ACTIONS`]; past that, the oldest
//! actions that a resume does not replay are dropped first, and if that is
//! not enough the list is compacted into the state it led to.

use crate::json::{self, FromJson, Json, JsonError, JsonOut, ToJson};
use crate::kv::Op;
use crate::raft::NodeId;
use crate::sim::client::Workload;
use crate::sim::trace::Endpoint;
use crate::sim::Simulation;

/// Most actions kept in the saved record before it is compacted.
pub const MAX_ACTIONS: usize = 1000;

/// One thing the person did, with the facade method's arguments (times in
/// µs, node ids from 1).
#[derive(Clone, Debug, PartialEq)]
pub enum UserAction {
    /// `crash(node)`.
    Crash {
        /// The node.
        node: u32,
    },
    /// `restart(node)`.
    Restart {
        /// The node.
        node: u32,
    },
    /// `forceTimeout(node)`.
    ForceTimeout {
        /// The node.
        node: u32,
    },
    /// `setCut(from, to, cut)`.
    SetCut {
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Cut (`true`) or heal.
        cut: bool,
    },
    /// `isolate(node)`.
    Isolate {
        /// The node.
        node: u32,
    },
    /// `partition(groups)`.
    Partition {
        /// The groups of node ids.
        groups: Vec<Vec<u32>>,
    },
    /// `healAll()`.
    HealAll,
    /// `setNetwork(...)`.
    SetNetwork {
        /// Fastest latency, µs.
        latency_min_us: u64,
        /// Slowest latency, µs.
        latency_max_us: u64,
        /// Loss probability.
        loss: f64,
        /// Duplication probability.
        duplicate: f64,
        /// Reordering probability.
        reorder: f64,
    },
    /// `setTiming(...)`.
    SetTiming {
        /// Shortest election timeout, µs.
        election_min_us: u64,
        /// Longest election timeout, µs.
        election_max_us: u64,
        /// Heartbeat interval, µs.
        heartbeat_us: u64,
    },
    /// `alignTimers(delay, spread)`.
    AlignTimers {
        /// Delay from now, µs.
        delay_us: u64,
        /// Spread, µs.
        spread_us: u64,
    },
    /// A console call (`submit`).
    Submit {
        /// The console client that made it.
        client: u32,
        /// The operation.
        call: Op,
        /// The node it went to first, if chosen.
        via: Option<u32>,
    },
    /// `staleRead(node, key)`.
    StaleRead {
        /// The client.
        client: u32,
        /// The node read.
        node: u32,
        /// The key.
        key: String,
    },
    /// `addWorkload(n)`.
    AddWorkload {
        /// How many clients.
        n: u32,
    },
    /// `stopWorkload()`.
    StopWorkload,
}

impl UserAction {
    /// Whether a resume replays this action (see the module docs).
    pub fn replayed(&self) -> bool {
        matches!(
            self,
            UserAction::SetCut { .. }
                | UserAction::Isolate { .. }
                | UserAction::Partition { .. }
                | UserAction::HealAll
                | UserAction::AddWorkload { .. }
                | UserAction::StopWorkload
        )
    }
}

/// An action and the virtual time it happened at, stored as one flat
/// object (`{"at_us": 5000, "action": "set_cut", "from": 1, "to": 2,
/// "cut": true}`).
///
/// Written and read through [`crate::json`], the action's fields inline.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// Virtual time, µs.
    pub at_us: u64,
    /// What was done.
    pub action: UserAction,
}

/// The `action` names, in [`UserAction`]'s order.
const ACTION_NAMES: [&str; 14] = [
    "crash",
    "restart",
    "force_timeout",
    "set_cut",
    "isolate",
    "partition",
    "heal_all",
    "set_network",
    "set_timing",
    "align_timers",
    "submit",
    "stale_read",
    "add_workload",
    "stop_workload",
];

impl FromJson for Recorded {
    fn from_json(v: &Json) -> Result<Recorded, JsonError> {
        let o = v.obj()?;
        let action = match o.tag("action")? {
            "crash" => UserAction::Crash {
                node: o.req("node")?,
            },
            "restart" => UserAction::Restart {
                node: o.req("node")?,
            },
            "force_timeout" => UserAction::ForceTimeout {
                node: o.req("node")?,
            },
            "set_cut" => UserAction::SetCut {
                from: o.req("from")?,
                to: o.req("to")?,
                cut: o.req("cut")?,
            },
            "isolate" => UserAction::Isolate {
                node: o.req("node")?,
            },
            "partition" => UserAction::Partition {
                groups: o.req("groups")?,
            },
            "heal_all" => UserAction::HealAll,
            "set_network" => UserAction::SetNetwork {
                latency_min_us: o.req("latency_min_us")?,
                latency_max_us: o.req("latency_max_us")?,
                loss: o.req("loss")?,
                duplicate: o.req("duplicate")?,
                reorder: o.req("reorder")?,
            },
            "set_timing" => UserAction::SetTiming {
                election_min_us: o.req("election_min_us")?,
                election_max_us: o.req("election_max_us")?,
                heartbeat_us: o.req("heartbeat_us")?,
            },
            "align_timers" => UserAction::AlignTimers {
                delay_us: o.req("delay_us")?,
                spread_us: o.req("spread_us")?,
            },
            "submit" => UserAction::Submit {
                client: o.req("client")?,
                call: o.req("call")?,
                via: o.opt("via")?,
            },
            "stale_read" => UserAction::StaleRead {
                client: o.req("client")?,
                node: o.req("node")?,
                key: o.req("key")?,
            },
            "add_workload" => UserAction::AddWorkload { n: o.req("n")? },
            "stop_workload" => UserAction::StopWorkload,
            other => return Err(json::unknown_variant(other, &ACTION_NAMES).in_field("action")),
        };
        Ok(Recorded {
            at_us: o.req("at_us")?,
            action,
        })
    }
}

/// One flat object: `at_us`, then the action's tag and fields.
impl ToJson for Recorded {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("at_us", &self.at_us);
        self.action.write_fields(out);
        out.end_obj();
    }
}

impl UserAction {
    /// The action's tag and fields, without braces (`"action":"set_cut",
    /// "from":1,…`): inline in [`Recorded`].
    fn write_fields(&self, out: &mut JsonOut) {
        use UserAction as A;
        let name = ACTION_NAMES[match self {
            A::Crash { .. } => 0,
            A::Restart { .. } => 1,
            A::ForceTimeout { .. } => 2,
            A::SetCut { .. } => 3,
            A::Isolate { .. } => 4,
            A::Partition { .. } => 5,
            A::HealAll => 6,
            A::SetNetwork { .. } => 7,
            A::SetTiming { .. } => 8,
            A::AlignTimers { .. } => 9,
            A::Submit { .. } => 10,
            A::StaleRead { .. } => 11,
            A::AddWorkload { .. } => 12,
            A::StopWorkload => 13,
        }];
        out.field("action", name);
        match self {
            A::Crash { node } | A::Restart { node } | A::ForceTimeout { node } => {
                out.field("node", node)
            }
            A::SetCut { from, to, cut } => {
                out.field("from", from);
                out.field("to", to);
                out.field("cut", cut);
            }
            A::Isolate { node } => out.field("node", node),
            A::Partition { groups } => out.field("groups", groups),
            A::HealAll | A::StopWorkload => {}
            A::SetNetwork {
                latency_min_us,
                latency_max_us,
                loss,
                duplicate,
                reorder,
            } => {
                out.field("latency_min_us", latency_min_us);
                out.field("latency_max_us", latency_max_us);
                out.field("loss", loss);
                out.field("duplicate", duplicate);
                out.field("reorder", reorder);
            }
            A::SetTiming {
                election_min_us,
                election_max_us,
                heartbeat_us,
            } => {
                out.field("election_min_us", election_min_us);
                out.field("election_max_us", election_max_us);
                out.field("heartbeat_us", heartbeat_us);
            }
            A::AlignTimers {
                delay_us,
                spread_us,
            } => {
                out.field("delay_us", delay_us);
                out.field("spread_us", spread_us);
            }
            A::Submit { client, call, via } => {
                out.field("client", client);
                out.field("call", call);
                out.field("via", via);
            }
            A::StaleRead { client, node, key } => {
                out.field("client", client);
                out.field("node", node);
                out.field("key", key);
            }
            A::AddWorkload { n } => out.field("n", n),
        }
    }
}

/// One recorded action as stored: its JSON text.
///
/// The stored list is read action by action ([`ActionLog::parse`]), so a
/// damaged action is named by its position instead of failing the whole
/// meta record; and it is written out again without being re-encoded: the
/// text is written as it is ([`JsonOut::raw`]). It is only ever made by
/// writing a value (an action, or a value read by [`crate::json`]), so it
/// is always one compact JSON value; a stored action read back is kept as
/// its value written compactly, not byte for byte as it was stored.
#[derive(Clone, Debug)]
pub struct ActionJson(Box<str>);

impl ActionJson {
    /// The action whose JSON is `text`, checked to be one JSON value (and
    /// written compactly).
    pub fn from_text(text: &str) -> Result<ActionJson, String> {
        let v = json::parse(text).map_err(|e| e.to_string())?;
        ActionJson::from_json(&v).map_err(|e| e.to_string())
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.0
    }

    fn encode(r: &Recorded) -> ActionJson {
        ActionJson(json::to_string(r).into())
    }

    fn decode(&self) -> Result<Recorded, JsonError> {
        json::from_str(self.json())
    }
}

impl FromJson for ActionJson {
    fn from_json(v: &Json) -> Result<ActionJson, JsonError> {
        Ok(ActionJson(json::to_string(v).into()))
    }
}

impl ToJson for ActionJson {
    fn write_json(&self, out: &mut JsonOut) {
        out.raw(&self.0)
    }
}

impl PartialEq for ActionJson {
    fn eq(&self, other: &ActionJson) -> bool {
        self.json() == other.json()
    }
}

/// The recorded actions, as stored (JSON texts, so that the stored record
/// is written without re-encoding them every frame).
#[derive(Clone, Debug, Default)]
pub struct ActionLog {
    values: Vec<ActionJson>,
}

impl ActionLog {
    /// Record `action` at `at_us`. `sim` is consulted only to compact the
    /// list when it grows past [`MAX_ACTIONS`].
    pub fn record(&mut self, sim: &Simulation, at_us: u64, action: UserAction) {
        self.values
            .push(ActionJson::encode(&Recorded { at_us, action }));
        if self.values.len() > MAX_ACTIONS {
            self.compact(sim);
        }
    }

    /// The stored form.
    pub fn values(&self) -> &[ActionJson] {
        &self.values
    }

    /// How many actions are kept.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Drop the oldest actions a resume does not replay; if every one is
    /// replayed, replace the list with the state it led to (the cuts now,
    /// and the number of background clients running).
    fn compact(&mut self, sim: &Simulation) {
        let excess = self.values.len() - MAX_ACTIONS / 2;
        let mut dropped = 0;
        self.values.retain(|v| {
            let keep =
                dropped >= excess || v.decode().map(|r| r.action.replayed()).unwrap_or(false);
            if !keep {
                dropped += 1;
            }
            keep
        });
        if self.values.len() <= MAX_ACTIONS / 2 {
            return;
        }
        let at_us = sim.now();
        let mut state = vec![UserAction::HealAll];
        for (a, b) in sim.network().cuts() {
            if let (Endpoint::Node(from), Endpoint::Node(to)) = (a, b) {
                state.push(UserAction::SetCut {
                    from: from.0,
                    to: to.0,
                    cut: true,
                });
            }
        }
        state.push(UserAction::StopWorkload);
        let running = sim.clients().iter().filter(|c| c.auto.is_some()).count() as u32;
        if running > 0 {
            state.push(UserAction::AddWorkload { n: running });
        }
        self.values = state
            .into_iter()
            .map(|action| ActionJson::encode(&Recorded { at_us, action }))
            .collect();
    }

    /// Read a stored list back; a value that is not an action is corrupt
    /// (the message names it).
    pub fn parse(values: &[ActionJson]) -> Result<Vec<Recorded>, String> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.decode().map_err(|e| {
                    format!("stored record sim \"meta\" is corrupt: action {i} is not valid: {e}")
                })
            })
            .collect()
    }

    /// The list of `recorded`, kept as it was.
    pub fn from_recorded(recorded: &[Recorded]) -> ActionLog {
        ActionLog {
            values: recorded.iter().map(ActionJson::encode).collect(),
        }
    }
}

/// Replay on a resumed cluster what a resume restores (see the module
/// docs): link cuts and background clients, in order.
pub fn replay(sim: &mut Simulation, recorded: &[Recorded]) -> Result<(), String> {
    let bad = |i: usize, e: &dyn std::fmt::Display| {
        format!("stored record sim \"meta\" is corrupt: action {i} cannot be replayed: {e}")
    };
    for (i, r) in recorded.iter().enumerate() {
        match &r.action {
            UserAction::SetCut { from, to, cut } => {
                if from == to {
                    return Err(bad(i, &"a link joins two different nodes"));
                }
                sim.set_cut(NodeId(*from), NodeId(*to), *cut)
                    .map_err(|e| bad(i, &e))?
            }
            UserAction::Isolate { node } => sim.isolate(NodeId(*node)).map_err(|e| bad(i, &e))?,
            UserAction::Partition { groups } => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.iter().copied().map(NodeId).collect())
                    .collect();
                sim.partition(&groups).map_err(|e| bad(i, &e))?
            }
            UserAction::HealAll => sim.heal_all(),
            UserAction::AddWorkload { n } => {
                if *n > 64 {
                    return Err(bad(i, &"at most 64 clients at once"));
                }
                sim.add_auto_clients(*n as usize, Workload::default());
            }
            UserAction::StopWorkload => sim.stop_auto_clients(),
            _ => {}
        }
    }
    Ok(())
}

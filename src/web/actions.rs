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

use crate::kv::Op;
use crate::raft::NodeId;
use crate::sim::client::Workload;
use crate::sim::trace::Endpoint;
use crate::sim::Simulation;
use serde::{Deserialize, Serialize};

/// Most actions kept in the saved record before it is compacted.
pub const MAX_ACTIONS: usize = 1000;

/// One thing the person did, with the facade method's arguments (times in
/// µs, node ids from 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
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

/// An action and the virtual time it happened at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// Virtual time, µs.
    pub at_us: u64,
    /// What was done.
    #[serde(flatten)]
    pub action: UserAction,
}

/// The recorded actions, as stored (JSON values, so that the stored record
/// is written without re-encoding them every frame).
#[derive(Clone, Debug, Default)]
pub struct ActionLog {
    values: Vec<serde_json::Value>,
}

impl ActionLog {
    /// Record `action` at `at_us`. `sim` is consulted only to compact the
    /// list when it grows past [`MAX_ACTIONS`].
    pub fn record(&mut self, sim: &Simulation, at_us: u64, action: UserAction) {
        if let Ok(v) = serde_json::to_value(Recorded { at_us, action }) {
            self.values.push(v);
        }
        if self.values.len() > MAX_ACTIONS {
            self.compact(sim);
        }
    }

    /// The stored form.
    pub fn values(&self) -> &[serde_json::Value] {
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
            let keep = dropped >= excess
                || serde_json::from_value::<Recorded>(v.clone())
                    .map(|r| r.action.replayed())
                    .unwrap_or(false);
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
            .filter_map(|action| serde_json::to_value(Recorded { at_us, action }).ok())
            .collect();
    }

    /// Read a stored list back; a value that is not an action is corrupt
    /// (the message names it).
    pub fn parse(values: &[serde_json::Value]) -> Result<Vec<Recorded>, String> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::from_value::<Recorded>(v.clone()).map_err(|e| {
                    format!("stored record sim \"meta\" is corrupt: action {i} is not valid: {e}")
                })
            })
            .collect()
    }

    /// The list of `recorded`, kept as it was.
    pub fn from_recorded(recorded: &[Recorded]) -> ActionLog {
        ActionLog {
            values: recorded
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .collect(),
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

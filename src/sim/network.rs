//! The simulated network: per directed link latency range, loss,
//! duplication, reordering and a cut flag. Partitions are sets of cuts.
//! Deterministic: every draw comes from the network's own seeded PRNG.

use super::trace::Endpoint;
use crate::raft::NodeId;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Behaviour of a link. Probabilities are in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkParams {
    /// Fastest delivery, µs.
    pub latency_min_us: u64,
    /// Slowest delivery, µs (before reordering delay).
    pub latency_max_us: u64,
    /// Chance a message is lost.
    pub loss: f64,
    /// Chance a message is delivered twice.
    pub duplicate: f64,
    /// Chance a message is held back by up to three extra maximum latencies,
    /// so later messages overtake it.
    pub reorder: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            latency_min_us: 10_000,
            latency_max_us: 30_000,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }
}

impl LinkParams {
    /// Check ranges; returns a readable reason otherwise.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplication", self.duplicate),
            ("reordering", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) || p.is_nan() {
                return Err(format!("{name} must be between 0 and 1, got {p}"));
            }
        }
        if self.latency_max_us < self.latency_min_us {
            return Err("the latency maximum is below its minimum".into());
        }
        Ok(())
    }
}

/// What the network decided for one message: zero, one or two deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped because the link is cut.
    Cut,
    /// Lost at random.
    Lost,
    /// Delivered after `delay`, and once more after `duplicate` if the
    /// network duplicated it.
    Deliver {
        /// Delay of the (first) copy, µs.
        delay: u64,
        /// Delay of the duplicate copy, µs.
        duplicate: Option<u64>,
    },
}

/// The network model.
#[derive(Clone, Debug)]
pub struct Network {
    /// Parameters for every link without an override.
    pub defaults: LinkParams,
    overrides: BTreeMap<(Endpoint, Endpoint), LinkParams>,
    cuts: BTreeSet<(Endpoint, Endpoint)>,
    rng: Rng,
}

impl Network {
    /// A healthy network.
    pub fn new(defaults: LinkParams, seed: u64) -> Self {
        Network {
            defaults,
            overrides: BTreeMap::new(),
            cuts: BTreeSet::new(),
            rng: Rng::new(seed),
        }
    }

    /// The parameters of the link `from -> to`.
    pub fn params(&self, from: Endpoint, to: Endpoint) -> &LinkParams {
        self.overrides.get(&(from, to)).unwrap_or(&self.defaults)
    }

    /// Give one directed link its own parameters.
    pub fn set_link_params(&mut self, from: Endpoint, to: Endpoint, p: LinkParams) {
        self.overrides.insert((from, to), p);
    }

    /// Remove every per-link override.
    pub fn clear_overrides(&mut self) {
        self.overrides.clear();
    }

    /// Whether `from -> to` is cut.
    pub fn is_cut(&self, from: Endpoint, to: Endpoint) -> bool {
        self.cuts.contains(&(from, to))
    }

    /// Cut or heal one direction. Returns true if it changed.
    pub fn set_cut(&mut self, from: Endpoint, to: Endpoint, cut: bool) -> bool {
        if cut {
            self.cuts.insert((from, to))
        } else {
            self.cuts.remove(&(from, to))
        }
    }

    /// All cut directed links.
    pub fn cuts(&self) -> impl Iterator<Item = &(Endpoint, Endpoint)> {
        self.cuts.iter()
    }

    /// Heal every cut.
    pub fn heal_all(&mut self) {
        self.cuts.clear();
    }

    /// Decide what happens to a message sent now.
    pub fn route(&mut self, from: Endpoint, to: Endpoint) -> Fate {
        if !self.cuts.is_empty() && self.is_cut(from, to) {
            return Fate::Cut;
        }
        let p = if self.overrides.is_empty() {
            &self.defaults
        } else {
            self.overrides.get(&(from, to)).unwrap_or(&self.defaults)
        };
        let rng = &mut self.rng;
        if rng.chance(p.loss) {
            return Fate::Lost;
        }
        let delay = draw_delay(rng, p);
        let duplicate = if rng.chance(p.duplicate) {
            Some(draw_delay(rng, p))
        } else {
            None
        };
        Fate::Deliver { delay, duplicate }
    }
}

fn draw_delay(rng: &mut Rng, p: &LinkParams) -> u64 {
    let mut d = rng.range_inclusive(p.latency_min_us, p.latency_max_us);
    if rng.chance(p.reorder) {
        d += rng.range_inclusive(0, 3 * p.latency_max_us.max(1));
    }
    d.max(1)
}

/// Every directed link among `n` nodes.
pub fn node_links(n: usize) -> Vec<(NodeId, NodeId)> {
    let mut v = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a != b {
                v.push((NodeId::from_idx(a), NodeId::from_idx(b)));
            }
        }
    }
    v
}

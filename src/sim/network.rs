//! The simulated network: per directed link latency range, loss,
//! duplication, reordering and a cut flag. Partitions are sets of cuts.
//! Deterministic: every draw comes from the network's own seeded PRNG.
//!
//! Each directed link is FIFO, like the TCP connection a real Raft would
//! use: a message drawn a shorter latency than one sent before it on the
//! same link waits for it. Only the `reorder` fault (and a duplicate copy)
//! lets a message arrive out of order, so "reordering 0 %" means exactly
//! that. (An earlier model drew each message's latency independently, so
//! messages overtook each other on every link all the time: with 64 writing
//! clients a third of the leader's pipelined AppendEntries were rejected for
//! arriving before their predecessors, and the page showed failed replies on
//! a healthy network.)

use super::trace::Endpoint;
use crate::raft::NodeId;
use crate::rng::Rng;
use crate::vecmap::{VecMap, VecSet};

/// Behaviour of a link. Probabilities are in `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
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
    /// so later messages overtake it. Otherwise the link is FIFO.
    pub reorder: f64,
}

impl crate::json::FromJson for LinkParams {
    fn from_json(v: &crate::json::Json) -> Result<LinkParams, crate::json::JsonError> {
        let o = v.obj()?;
        Ok(LinkParams {
            latency_min_us: o.req("latency_min_us")?,
            latency_max_us: o.req("latency_max_us")?,
            loss: o.req("loss")?,
            duplicate: o.req("duplicate")?,
            reorder: o.req("reorder")?,
        })
    }
}

impl crate::json::ToJson for LinkParams {
    fn write_json(&self, out: &mut crate::json::JsonOut) {
        out.begin_obj();
        out.field("latency_min_us", &self.latency_min_us);
        out.field("latency_max_us", &self.latency_max_us);
        out.field("loss", &self.loss);
        out.field("duplicate", &self.duplicate);
        out.field("reorder", &self.reorder);
        out.end_obj();
    }
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
                // Without the value: formatting an `f64` would bring the
                // standard library's float printing (about 14 KB) into
                // the page's wasm for this one message.
                return Err(format!("{name} must be a fraction between 0 and 1"));
            }
        }
        if self.latency_max_us < self.latency_min_us {
            return Err("the latency maximum is below its minimum".into());
        }
        if self.latency_max_us > crate::raft::MAX_TIMING_US {
            return Err(format!(
                "the latency must be at most {} ms",
                crate::raft::MAX_TIMING_US / 1000
            ));
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
    overrides: VecMap<(Endpoint, Endpoint), LinkParams>,
    cuts: VecSet<(Endpoint, Endpoint)>,
    /// Per directed link, when its latest in-order message arrives: a later
    /// in-order message arrives no earlier (FIFO links; ties go in send
    /// order, as the event queue breaks ties by insertion).
    /// Node-to-node links in a flat array (the hot path), links to and
    /// from clients in a map.
    node_tails: Vec<u64>,
    tails: VecMap<(Endpoint, Endpoint), u64>,
    rng: Rng,
}

/// Side of the flat array of node-to-node link tails.
const TAIL_SIDE: usize = crate::sim::MAX_NODES;

impl Network {
    /// A healthy network.
    pub fn new(defaults: LinkParams, seed: u64) -> Self {
        Network {
            defaults,
            overrides: VecMap::new(),
            cuts: VecSet::new(),
            node_tails: vec![0; TAIL_SIDE * TAIL_SIDE],
            tails: VecMap::new(),
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

    /// Decide what happens to a message sent at `now` (µs).
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn route(&mut self, now: u64, from: Endpoint, to: Endpoint) -> Fate {
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
        let (mut delay, reordered) = draw_delay(rng, p);
        let duplicate = if rng.chance(p.duplicate) {
            Some(draw_delay(rng, p).0)
        } else {
            None
        };
        if !reordered {
            let tail = match (from, to) {
                (Endpoint::Node(a), Endpoint::Node(b))
                    if a.idx() < TAIL_SIDE && b.idx() < TAIL_SIDE =>
                {
                    &mut self.node_tails[a.idx() * TAIL_SIDE + b.idx()]
                }
                _ => self.tails.get_or_insert_with((from, to), || 0),
            };
            let at = now.saturating_add(delay).max(*tail);
            *tail = at;
            delay = at - now;
        }
        Fate::Deliver { delay, duplicate }
    }
}

/// A latency for one copy, and whether the reorder fault held it back.
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "wasm-bench"),
    inline(always)
)]
fn draw_delay(rng: &mut Rng, p: &LinkParams) -> (u64, bool) {
    let mut d = rng.range_inclusive(p.latency_min_us, p.latency_max_us);
    let reordered = rng.chance(p.reorder);
    if reordered {
        d += rng.range_inclusive(0, 3 * p.latency_max_us.max(1));
    }
    (d.max(1), reordered)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn arrivals(reorder: f64) -> Vec<u64> {
        let p = LinkParams {
            latency_min_us: 1_000,
            latency_max_us: 100_000,
            reorder,
            ..LinkParams::default()
        };
        let mut net = Network::new(p, 7);
        let (a, b) = (Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2)));
        (0..500u64)
            .filter_map(|i| match net.route(i * 500, a, b) {
                Fate::Deliver { delay, .. } => Some(i * 500 + delay),
                _ => None,
            })
            .collect()
    }

    /// A link without the reorder fault delivers in the order of sending,
    /// even though each message draws its own latency; with the fault,
    /// later messages overtake.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn links_are_fifo_unless_reordering() {
        let fifo = arrivals(0.0);
        assert_eq!(fifo.len(), 500);
        assert!(
            fifo.windows(2).all(|w| w[0] <= w[1]),
            "overtaken on a FIFO link"
        );
        let shuffled = arrivals(0.3);
        assert!(
            shuffled.windows(2).any(|w| w[0] > w[1]),
            "the reorder fault reordered nothing"
        );
        // Other links are independent: a slow message on 1→2 does not hold up 2→1.
        let mut net = Network::new(LinkParams::default(), 1);
        let (a, b) = (Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2)));
        let Fate::Deliver { delay: d1, .. } = net.route(0, a, b) else {
            panic!()
        };
        let Fate::Deliver { delay: d2, .. } = net.route(0, b, a) else {
            panic!()
        };
        assert!(d1 >= 10_000 && d2 >= 10_000 && d1 <= 30_000 && d2 <= 30_000);
    }
}

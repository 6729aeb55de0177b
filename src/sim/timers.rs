//! The nodes' timers: one wake-up time per node, kept outside the event
//! queue, with the earliest of them cached.
//!
//! A Raft node says when it next wants [`RaftNode::handle_timeout`]
//! (`next_deadline`, Raft §5.2: a follower's election timeout, a leader's
//! next heartbeat). A follower's deadline moves later at every heartbeat
//! it receives, so a timer kept as a queued event goes stale about once
//! per heartbeat: either it is moved in the queue at every reset, or it is
//! lazy (left where it was, and re-queued when it fires early), which in
//! an idle five-node cluster was one event in eight that did nothing but
//! re-queue itself.
//!
//! Here each node has exactly one wake-up time, [`NodeTimers::set`] after
//! every step of the node to its deadline (or `u64::MAX` while it is
//! down), and the simulator compares the earliest one
//! ([`NodeTimers::next`]) with the head of the event queue before each
//! step. A reset that moves a deadline later is a store; only when the
//! node holding the earliest time moves is the table scanned again (at
//! most [`super::MAX_NODES`] entries, in an idle cluster once per
//! heartbeat round: the leader's own heartbeat deadline). Nothing stale is
//! ever queued.
//!
//! Order, which decides the trace: of timers due at the same µs, the
//! lowest node index fires first; and a timer due at the same µs as a
//! queued event fires before it ([`super::Simulation::step`]). Both rules
//! depend only on the times and node ids, so they are the same on every
//! platform.
//!
//! [`RaftNode::handle_timeout`]: crate::raft::RaftNode::handle_timeout

/// One wake-up time per node and the earliest of them.
#[derive(Clone, Debug, Default)]
pub struct NodeTimers {
    /// Wake-up time by node index; `u64::MAX`: none.
    at: Vec<u64>,
    /// `min(at)`, or `u64::MAX` when there is none.
    min_at: u64,
    /// The lowest index holding `min_at` (meaningless when `min_at` is
    /// `u64::MAX`).
    min_node: usize,
}

impl NodeTimers {
    /// A table for `nodes` nodes, none armed.
    pub fn new(nodes: usize) -> NodeTimers {
        NodeTimers {
            at: vec![u64::MAX; nodes],
            min_at: u64::MAX,
            min_node: 0,
        }
    }

    /// Node `node` wants to wake at `at` (`u64::MAX`: never), replacing
    /// its previous time, earlier or later. Out-of-range nodes are
    /// ignored.
    #[inline(always)]
    pub fn set(&mut self, node: usize, at: u64) {
        let Some(t) = self.at.get_mut(node) else {
            return;
        };
        if *t == at {
            return;
        }
        *t = at;
        if at < self.min_at || (at == self.min_at && node < self.min_node) {
            self.min_at = at;
            self.min_node = node;
        } else if node == self.min_node {
            // The earliest moved later: someone else may be earliest now.
            self.rescan();
        }
    }

    /// Find the earliest time again.
    #[cold]
    #[inline(never)]
    fn rescan(&mut self) {
        let (mut min_at, mut min_node) = (u64::MAX, 0);
        for (i, &t) in self.at.iter().enumerate() {
            // Strictly earlier: the lowest index wins a tie.
            if t < min_at {
                min_at = t;
                min_node = i;
            }
        }
        self.min_at = min_at;
        self.min_node = min_node;
    }

    /// The earliest wake-up time and its node (the lowest index among
    /// equal times), if any node has one.
    #[inline(always)]
    pub fn next(&self) -> Option<(u64, usize)> {
        (self.min_at != u64::MAX).then_some((self.min_at, self.min_node))
    }

    /// The earliest wake-up time, `u64::MAX` if none.
    #[inline(always)]
    pub fn next_at(&self) -> u64 {
        self.min_at
    }

    /// Node `node`'s wake-up time (`u64::MAX`: none).
    pub fn get(&self, node: usize) -> u64 {
        self.at.get(node).copied().unwrap_or(u64::MAX)
    }

    /// Disarm every timer.
    pub fn clear(&mut self) {
        self.at.fill(u64::MAX);
        self.min_at = u64::MAX;
        self.min_node = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The earliest time and lowest node among equals, by a full scan.
    fn reference(at: &[u64]) -> Option<(u64, usize)> {
        at.iter()
            .enumerate()
            .filter(|(_, t)| **t != u64::MAX)
            .map(|(i, t)| (*t, i))
            .min()
    }

    /// Random sets (earlier, later, the same, disarm, ties) against a full
    /// scan after every change, for every cluster size the simulator builds.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn next_is_the_earliest_lowest_node() {
        let mut rng = Rng::new(11);
        for nodes in 1..=super::super::MAX_NODES {
            let mut t = NodeTimers::new(nodes);
            let mut model = vec![u64::MAX; nodes];
            assert_eq!(t.next(), None);
            for step in 0..20_000u64 {
                let node = rng.range_inclusive(0, nodes as u64 - 1) as usize;
                // Few distinct times, so ties are common.
                let at = match rng.range_inclusive(0, 9) {
                    0 => u64::MAX,
                    1 => model[node],
                    _ => step / 8 + rng.range_inclusive(0, 6),
                };
                t.set(node, at);
                model[node] = at;
                assert_eq!(t.next(), reference(&model), "{nodes} nodes, step {step}");
                assert_eq!(t.next_at(), reference(&model).map_or(u64::MAX, |r| r.0));
                assert_eq!(t.get(node), at);
                if step % 5_000 == 4_999 {
                    t.clear();
                    model.fill(u64::MAX);
                    assert_eq!(t.next(), None);
                }
            }
            // Out of range: ignored.
            t.set(nodes, 0);
            assert_eq!(t.next(), reference(&model));
            assert_eq!(t.get(nodes), u64::MAX);
        }
    }
}

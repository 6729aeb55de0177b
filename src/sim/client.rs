//! Clients (clerks) in the style of MIT 6.5840's KV clerk: each has an id
//! and a session, makes one call at a time, numbers its calls, follows
//! redirects, and after a timeout retries the same sequence number at the
//! next node, so a retried command still takes effect once
//! (dissertation §6.3).

use crate::kv::{write_decimal, ClientId, Op};
use crate::raft::NodeId;
use crate::rng::Rng;
use std::sync::Arc;

/// A call in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingCall {
    /// Sequence number in the client's session.
    pub seq: u64,
    /// The operation, shared with every request that carries it.
    pub op: Arc<Op>,
    /// Its entry in the linearizability history (`None` for stale reads).
    pub history_id: Option<u64>,
    /// When it was invoked (virtual µs).
    pub invoked_at: u64,
    /// How many times it has been sent.
    pub attempts: u32,
    /// The node it was last sent to.
    pub target: NodeId,
    /// For a stale read: the node whose local copy is read.
    pub stale_node: Option<NodeId>,
    /// When the call is sent again if no answer has come (virtual µs):
    /// after the client timeout, or after the backoff that follows a
    /// redirect with no leader known.
    pub retry_at: u64,
}

/// What random operations an automatic client makes.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Keys are `k0`..`k{keys-1}`.
    pub keys: u32,
    /// Pause between calls, µs (uniform in `0..=think_max_us`).
    pub think_max_us: u64,
    /// Percent of calls that are gets.
    pub get_percent: u32,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            keys: 5,
            think_max_us: 20_000,
            get_percent: 30,
        }
    }
}

/// One client.
#[derive(Clone, Debug)]
pub struct Clerk {
    /// Its id.
    pub id: ClientId,
    /// The last sequence number used.
    pub last_seq: u64,
    /// Where it sends next.
    pub leader_guess: NodeId,
    /// The call in progress.
    pub current: Option<PendingCall>,
    /// Makes random calls by itself.
    pub auto: Option<Workload>,
    /// Calls completed.
    pub completed: u64,
    /// The last answer: sequence number, result, latency in µs.
    pub last_return: Option<(u64, crate::kv::OpResult, u64)>,
    /// When the client's live retry timer fires (`u64::MAX`: none queued).
    /// A client has at most one live timer; the simulator re-arms it
    /// lazily (see `Simulation::arm_retry`).
    pub timer_at: u64,
    /// Generation of the live retry timer: a queued timer of another
    /// generation was superseded by an earlier one and does nothing.
    pub timer_gen: u64,
    /// Crashed ([`super::Simulation::crash_client`]): it makes no more
    /// calls, and its call in progress was abandoned.
    pub crashed: bool,
}

impl Clerk {
    /// A new idle client.
    pub fn new(id: ClientId, first_guess: NodeId) -> Self {
        Clerk {
            id,
            last_seq: 0,
            leader_guess: first_guess,
            current: None,
            auto: None,
            completed: 0,
            last_return: None,
            timer_at: u64::MAX,
            timer_gen: 0,
            crashed: false,
        }
    }

    /// A random operation for the automatic workload. Values are unique per
    /// client and call so a checker can tell writes apart.
    pub fn random_op(&self, rng: &mut Rng, w: &Workload) -> Op {
        // As `format!("k{}", ..)` and `format!("{}.{}", ..)`, one allocation each.
        let mut key = String::with_capacity(8);
        key.push('k');
        let _ = write_decimal(
            &mut key,
            rng.range_inclusive(0, u64::from(w.keys.max(1)) - 1),
        );
        let mut tag = String::with_capacity(16);
        let _ = write_decimal(&mut tag, u64::from(self.id.0));
        tag.push('.');
        let _ = write_decimal(&mut tag, self.last_seq + 1);
        let roll = rng.range_inclusive(0, 99) as u32;
        if roll < w.get_percent {
            return Op::Get { key };
        }
        match rng.range_inclusive(0, 9) {
            0..=3 => Op::Put { key, value: tag },
            4..=6 => {
                // As `format!("[{tag}]")`.
                let mut value = String::with_capacity(tag.len() + 2);
                value.push('[');
                value.push_str(&tag);
                value.push(']');
                Op::Append { key, value }
            }
            7 => Op::Delete { key },
            _ => {
                let expected = if rng.chance(0.3) {
                    None
                } else {
                    // As `format!("{}.{}", ..)` of the two draws, in order.
                    let mut e = String::with_capacity(8);
                    let _ = write_decimal(&mut e, rng.range_inclusive(1, 4));
                    e.push('.');
                    let _ = write_decimal(&mut e, rng.range_inclusive(1, 20));
                    Some(e)
                };
                Op::Cas {
                    key,
                    expected,
                    value: tag,
                }
            }
        }
    }
}

//! Linearizability of the clients' key-value history.
//!
//! Owns the verdict on a [`History`]: [`check`] says whether some total order
//! of the calls respects real time (a call that returned before another was
//! invoked comes first) and gives every call the result it returned under the
//! sequential model of [`KvStore::execute`](crate::kv::KvStore::execute)
//! (the definition of Herlihy & Wing, "Linearizability: A Correctness
//! Condition for Concurrent Objects", TOPLAS 1990). When there is none it
//! returns a [`Violation`] that names the key and a small set of calls a
//! person can check by hand. [`generate_random_history`] makes linearizable
//! histories for tests and benchmarks.
//!
//! # How
//!
//! - **Partitioning.** Every operation touches exactly one key and
//!   linearizability is local (Herlihy & Wing §3.3), so each key's
//!   sub-history is checked on its own, keys in ascending (byte) order; the state
//!   is that key's `Option<String>`, interned to a `u32`.
//! - **Search.** Wing & Gong's backtracking search ("Testing and verifying
//!   concurrent objects", JPDC 1993) with Lowe's improvements ("Testing for
//!   linearizability", CCPE 2017), shaped like Porcupine's `checkSingle`
//!   (Athalye, `github.com/anishathalye/porcupine`): call and return events
//!   in one doubly linked list; linearizing a call *lifts* its two events out
//!   of the list and backtracking *unlifts* them, with an explicit stack; a
//!   memo of (linearized set, state) pairs already explored prunes repeats.
//!   The set is stored as "everything before the first open return, plus a
//!   few more", which keeps memo entries small.
//! - **Unreturned calls** (`return_us` or `outcome` is `None`) get return time
//!   infinity and accept any result, so each may take effect at any moment
//!   after its invocation, or (the same thing, at the very end) never. An
//!   unreturned get changes nothing and is dropped. Each such call can
//!   double what the search must visit, so `search` adds exact
//!   refinements for them: they are tried last, identical ones only in
//!   invocation order, never where they change nothing, and a configuration
//!   is pruned when one with fewer of them linearized already failed.
//! - **Unseen values.** A value that no returned call ever reports (not
//!   even as a prefix) and no cas expects can only matter by making the key
//!   present, so every put, cas or append that leaves one leads to one
//!   state (`OPAQUE`), which merges many configurations: the orders of
//!   concurrent appends whose results nobody saw among them. This is exact
//!   (while no append can be refused for length).
//! - **What calls saw.** A returned get or cas still to place must be able
//!   to see the value it saw. Once every way to build that value (a write
//!   of a prefix of it, then appends that spell the rest) needs a call that
//!   is already placed, a configuration whose state neither is that value
//!   nor extends to it by appends still to place is a dead end, pruned
//!   where it arises (`Sightings`) rather than when that call's return
//!   comes up, after every order of the calls beside it. Exact: it
//!   over-approximates what can be reached. Of 100 one-minute fuzz runs
//!   on one key with 10, 12 and 16 clients, 4, 13 and 100 came out
//!   undecided without it; none do with it.
//! - **In time.** The same, with real time: a returned get or cas can be
//!   preceded only by calls invoked before it returned, so for the next
//!   few returns in the list, the value each saw must still come out of
//!   the current state by calls still to place that were invoked by then
//!   (`Window`). It catches what the above cannot, such as a cas that saw
//!   the key absent after the last delete that could precede it was
//!   placed (the above counts any later delete too).
//! - **Calls that act alike.** Returned calls that lead every state to the
//!   same state and accept the same states (gets that saw the same value,
//!   deletes with the same answer, puts of values nobody sees, appends of
//!   suffixes nobody's value contains, …) are tried only in the order of
//!   their returns (`Alike`): exchanging two in a linearization gives
//!   another. Exact; a dozen long writes nobody read and as many deletes
//!   beside them no longer make every subset a configuration of its own.
//! - **Ties.** A call invoked at the same microsecond another returned counts
//!   as concurrent with it (calls sort before returns at equal times), as in
//!   Porcupine. A return time before the invocation is read as the
//!   invocation time.
//!
//! The verdict is always exact; checking is NP-complete in general, so
//! adversarial histories can take long, and memory: the memo grows with the
//! search. [`check`] searches without limit. [`check_bounded`], which the
//! command-line tool, the fuzzer and the page use, gives each key
//! [`Limits`] of steps and memory and answers [`CheckError::Undecided`]
//! (nothing wrong found, nothing proven) when they run out, as Porcupine's
//! timeout answers "unknown". Measured in release mode on the project's
//! 2-core machine, on histories from [`generate_random_history`]: 10,000
//! calls from 10 clients on 100 keys in about 12 ms (7 ms without the last
//! three refinements, whose work per step easy histories pay); 2,000 calls
//! on one key from 4 clients in about 3 ms, from 12 clients in 4 ms, from
//! 20 clients in 7 ms (over 100 s with neither pruning on what calls
//! saw), from 30 clients in 18 ms (undecided at 20 million steps without
//! the last three refinements, 35 ms without `Alike`); 5,000 calls from
//! 10 clients on one key in 11 ms. A stale read (the first value any get
//! saw) planted in the second half of a 4-client, 2,000-call history is
//! refuted and explained in 13–320 ms (four seeds). 16 clients appending
//! 8 suffixes, two each, at once and a get of them all: 4 ms (78 s before
//! the refinement in time). One-minute
//! fuzz runs on one key, 100 seeds (each with about ten client crashes):
//! none undecided with 30 clients, 2 with 40, 20 with 50 and 23 with 60
//! (with at most two client crashes per run, before the last three
//! refinements: 69 with 30, 92 with 40; before `Alike`: 21 with 30, 54
//! with 40).
//!
//! # Explaining a failure
//!
//! Only for the first failing key. Both reductions below are *relaxations*
//! (if the full history were linearizable, so would be the reduced one), so a
//! reduced history that still fails is a sound witness:
//!
//! 1. **Earliest failing cut.** Cutting at time `t` keeps the calls invoked
//!    by `t` and makes those that returned after `t` unreturned. If the
//!    history is linearizable so is every cut, and failure is monotone in
//!    `t`. The failed search already shows which cuts are linearizable (its
//!    *frontier*); probing upward from there, then bisecting, finds the
//!    first cut that fails and the call returning there: the call that could
//!    not be placed.
//! 2. **Greedy core** (with a step budget). Runs of returned calls, then
//!    single ones (delta debugging's halving: half the calls, then
//!    quarters, … then one at a time), are dropped if the rest still
//!    fails: a call whose answer shows it changed nothing (a get, a failed
//!    cas, a delete of an absent key, a refused append) is removed
//!    outright; any other becomes *context*: it may or may not take
//!    effect, at some moment while it ran, and its answer is ignored. The
//!    calls left are the core; the explanation says the others were taken
//!    into account that way. (Simply deleting writes would be unsound: drop
//!    the put that wrote "1" and a correct read of "1" looks wrong.)
//!
//! A cut of more than [`MINIMIZE_LIMIT`] calls gets a smaller budget
//! (`LONG_SHRINK_BUDGET`, and stops early when no half or quarter of its
//! calls could go), and its core is shown only if it has at most
//! `LONG_CORE_LIMIT` calls; otherwise the report gives the latest cut known
//! to be linearizable, the call that could not be placed and the calls
//! nearest to it. Of stale reads planted late in 2,000-call histories of
//! one key (four seeds each), 3 of 4 from 4 clients, all from 12 and 20
//! and 1 of 4 from 30 came out as cores of 2 to 5 calls, the other writes
//! as context; before, all 16 listed the calls nearest to the failure.

use crate::check::history::{Call, History};
use crate::kv::{ClientId, KvStore, Op, OpResult, MAX_STORED_VALUE_LEN};
use crate::vecmap::VecMap;
use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// The most calls (up to the failing cut, on one key) that the checker
/// shrinks to a core with its whole budget; a longer cut is shrunk with a
/// smaller one, and unless its core comes out small, the report gives the
/// failing call and the calls nearest to it instead.
pub const MINIMIZE_LIMIT: usize = 200;

/// The most calls a core shrunk from a cut longer than [`MINIMIZE_LIMIT`]
/// may have to be shown; a larger one is replaced by the calls nearest to
/// the failure.
const LONG_CORE_LIMIT: usize = 12;

/// Search steps allowed for all trials of a shrink of a cut longer than
/// [`MINIMIZE_LIMIT`]. On 2,000-call histories of one key with a stale
/// read planted, from 4 to 30 clients, the shrinks that came out small
/// took up to 3.3 million; those that did not would use any budget.
const LONG_SHRINK_BUDGET: u64 = 4_000_000;
/// Memory per trial of a long shrink, in bytes (about 100 bytes per step
/// of a trial's budget): a trial on long values (thousands of appends to
/// one value) makes a long string per step.
const LONG_TRIAL_BYTES: u64 = 10 << 20;

/// Search steps allowed for one trial while shrinking a failure to its core.
const TRIAL_BUDGET: u64 = 100_000;
/// Search steps allowed for all trials of one shrink together.
const SHRINK_BUDGET: u64 = 10_000_000;

/// A key whose calls cannot be linearized, with a small set of calls that
/// show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The key.
    pub key: String,
    /// The calls that cannot be ordered (or, for a long history, the call
    /// that could not be placed and those nearest to it), by invocation time.
    pub calls: Vec<Call>,
    /// Why, in words.
    pub explanation: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "linearizability violation on key {:?}:", self.key)?;
        for c in &self.calls {
            writeln!(
                f,
                "  #{} {} by {}, {}, {}",
                c.id,
                c.op,
                c.client,
                span(c),
                result_text(c)
            )?;
        }
        f.write_str(&self.explanation)
    }
}

impl std::error::Error for Violation {}

/// Check that `history` is linearizable with respect to the key-value model.
///
/// Returns the first failing key (in key order) as a [`Violation`]. The
/// search is exhaustive and unbounded: a history with many concurrent
/// calls on one key can take exponential time and memory. Anything that
/// checks histories it did not make itself (the command-line tool, the
/// page, the fuzzer) uses [`check_bounded`] instead.
pub fn check(history: &History) -> Result<(), Violation> {
    match check_keys(history, Limits::NONE) {
        Ok(()) => Ok(()),
        Err(CheckError::Violation(v)) => Err(v),
        // Never without a budget.
        Err(CheckError::Undecided(_)) => Ok(()),
    }
}

/// How far [`check_bounded`] searches each key before it gives up as
/// undecided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Search steps per key. A step tries to linearize one call or
    /// backtracks; on the project's 2-core machine the search makes one to
    /// ten million steps per second.
    pub steps: u64,
    /// Memory per key for the memo of explored configurations and the
    /// interned values, estimated, in bytes. Concurrent appends make a new
    /// value for every order, so their memory grows fastest (about 70 bytes
    /// per step, against 10 for the simulator's usual loads).
    pub bytes: u64,
}

impl Limits {
    /// No limit: the exact, unbounded search of [`check`].
    pub const NONE: Limits = Limits {
        steps: u64::MAX,
        bytes: u64::MAX,
    };
}

impl Default for Limits {
    /// 20 million steps and 256 MiB per key: a few seconds at most.
    /// Histories of the simulator's usual loads (a few clients per key)
    /// take thousands of steps per key; 15 clients calling on one key
    /// back to back for two seconds (269 calls, up to 15 at once) about
    /// ten million.
    fn default() -> Self {
        Limits {
            steps: 20_000_000,
            bytes: 256 << 20,
        }
    }
}

/// [`check`] within `limits` for each key.
///
/// Every key is checked; the result is the first violation in key order
/// if any key has one, else the first key the search could not decide
/// within its limits ([`CheckError::Undecided`]: nothing wrong was found,
/// and nothing proven), else `Ok`. Explaining a violation keeps to the
/// same memory limit (and to step budgets of its own): where it runs out,
/// the explanation names more calls rather than fewer.
pub fn check_bounded(history: &History, limits: Limits) -> Result<(), CheckError> {
    check_keys(history, limits)
}

fn check_keys(history: &History, limits: Limits) -> Result<(), CheckError> {
    let mut undecided = None;
    for (key, calls) in partition(history) {
        let specs = base_specs(&calls);
        let found = decide(&specs, limits);
        match found.verdict {
            Verdict::NotLinearizable => {
                return Err(CheckError::Violation(explain(
                    key,
                    &calls,
                    &specs,
                    found,
                    limits.bytes,
                )))
            }
            Verdict::GaveUp if undecided.is_none() => {
                undecided = Some(Undecided {
                    key: key.to_string(),
                    calls: calls.len(),
                    most_concurrent: most_concurrent(&specs),
                    steps: found.steps,
                    bytes: found.bytes,
                });
            }
            Verdict::GaveUp | Verdict::Linearizable => {}
        }
    }
    match undecided {
        Some(u) => Err(CheckError::Undecided(u)),
        None => Ok(()),
    }
}

/// The most calls on one key that are in progress at the same moment
/// (unreturned calls count as in progress to the end).
fn most_concurrent(specs: &[Spec<'_>]) -> usize {
    let mut edges: Vec<(u64, bool)> = Vec::with_capacity(2 * specs.len());
    for s in specs {
        edges.push((s.call.invoke_us, false));
        edges.push((s.ret, true));
    }
    // Invocations before returns at the same µs, as the search orders them.
    crate::sort::sort(&mut edges);
    let (mut now, mut most) = (0usize, 0usize);
    for (_, is_return) in edges {
        if is_return {
            now = now.saturating_sub(1);
        } else {
            now += 1;
            most = most.max(now);
        }
    }
    most
}

/// Why a bounded check ([`check_bounded`]) did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The history is not linearizable.
    Violation(Violation),
    /// The search ran out of steps on a key before deciding it.
    Undecided(Undecided),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Violation(v) => v.fmt(f),
            CheckError::Undecided(u) => u.fmt(f),
        }
    }
}

impl std::error::Error for CheckError {}

/// A key whose calls the search could not decide within its step budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    /// The key.
    pub key: String,
    /// Its calls in the history.
    pub calls: usize,
    /// The most of them in progress at one moment.
    pub most_concurrent: usize,
    /// The steps searched before giving up.
    pub steps: u64,
    /// The memory the search held then, estimated, in bytes.
    pub bytes: u64,
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "linearizability undecided on key {:?}: the search gave up after {} steps \
             and about {} MB ({} calls on the key, up to {} at once). Nothing wrong was found before \
             then, but nothing was proven either: checking is NP-complete, and many \
             concurrent calls on one key (concurrent appends above all: every order \
             gives another value) can need exponential time. Fewer clients per key \
             keep histories checkable.",
            self.key,
            self.steps,
            self.bytes.div_ceil(1 << 20),
            self.calls,
            self.most_concurrent
        )
    }
}

/// Simulate a linearizable history, for tests and benchmarks.
///
/// `clients` sequential clients (at least one) each invoke one call at a time
/// on one of `keys` keys (`"k0"`, `"k1"`, …), waiting 0–2 ms between calls;
/// a call lasts 0.1–5 ms, so calls of different clients overlap. Each call
/// takes effect atomically at a random instant inside its interval, in that
/// order, on a [`KvStore`], which gives the results. The mix is about 35 %
/// get, 25 % put, 10 % append, 7 % delete and 23 % cas (half of the cas
/// calls expect the key's current value, so many succeed). About 1 % of calls
/// never return (half of those still take effect). Calls are in invocation
/// order with `id` equal to their position. The same arguments always give
/// the same history, on every platform.
pub fn generate_random_history(seed: u64, calls: usize, clients: usize, keys: usize) -> History {
    struct Slot {
        client: ClientId,
        key: String,
        kind: u64,
        invoke_us: u64,
        effect_us: Option<u64>,
        return_us: Option<u64>,
        op: Option<Op>,
        outcome: Option<OpResult>,
    }
    let clients = clients.max(1);
    let keys = keys.max(1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut below = move |n: u64| rng.next_u64() % n.max(1);

    let mut next_free: Vec<u64> = (0..clients).map(|_| below(1_000)).collect();
    let mut slots: Vec<Slot> = Vec::with_capacity(calls);
    while slots.len() < calls {
        let mut c = 0;
        for (i, t) in next_free.iter().enumerate() {
            if *t < next_free[c] {
                c = i;
            }
        }
        let invoke_us = next_free[c];
        let duration = 100 + below(4_900);
        let end = invoke_us + duration;
        let effect = invoke_us + below(duration + 1);
        let (effect_us, return_us) = if below(100) == 0 {
            (if below(2) == 0 { Some(effect) } else { None }, None)
        } else {
            (Some(effect), Some(end))
        };
        next_free[c] = end + below(2_000);
        slots.push(Slot {
            client: ClientId(c as u32 + 1),
            key: format!("k{}", below(keys as u64)),
            kind: below(100),
            invoke_us,
            effect_us,
            return_us,
            op: None,
            outcome: None,
        });
    }

    let mut order: Vec<(u64, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.effect_us.map(|t| (t, i)))
        .collect();
    crate::sort::sort(&mut order);
    let mut store = KvStore::new();
    for (_, i) in order {
        let slot = &mut slots[i];
        let current = store.get(&slot.key).cloned();
        let expected = match below(4) {
            0 | 1 => current,
            2 => None,
            _ => Some(format!("c{}", below(i as u64 + 1))),
        };
        let op = make_op(slot.kind, &slot.key, i, expected);
        let result = store.execute(&op);
        slot.op = Some(op);
        if slot.return_us.is_some() {
            slot.outcome = Some(result);
        }
    }

    let calls = slots
        .into_iter()
        .enumerate()
        .map(|(i, s)| Call {
            id: i as u64,
            client: s.client,
            op: Arc::new(s.op.unwrap_or_else(|| make_op(s.kind, &s.key, i, None))),
            invoke_us: s.invoke_us,
            return_us: s.return_us,
            outcome: s.outcome,
        })
        .collect();
    History { calls }
}

/// The operation of kind `kind` (0–99, see [`generate_random_history`]).
fn make_op(kind: u64, key: &str, i: usize, expected: Option<String>) -> Op {
    let key = key.to_string();
    match kind {
        0..=34 => Op::Get { key },
        35..=59 => Op::Put {
            key,
            value: format!("v{i}"),
        },
        60..=69 => Op::Append {
            key,
            value: char::from(b'a' + (i % 26) as u8).to_string(),
        },
        70..=76 => Op::Delete { key },
        _ => Op::Cas {
            key,
            expected,
            value: format!("c{i}"),
        },
    }
}

// ---------------------------------------------------------------------------
// The search.

/// How the search treats one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Returned: must take effect inside its interval with the result it
    /// returned.
    Checked,
    /// Never returned: takes effect at some moment after its invocation
    /// (at the very end meaning "never"), with any result.
    Pending,
    /// Context while shrinking: may or may not take effect inside its
    /// interval; its result is ignored.
    Context,
}

/// One call of a key's sub-history as the search sees it.
#[derive(Clone, Copy, Debug)]
struct Spec<'a> {
    call: &'a Call,
    /// Return time, `u64::MAX` for a pending call.
    ret: u64,
    role: Role,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Linearizable,
    NotLinearizable,
    /// The step budget ran out.
    GaveUp,
}

/// Each key's calls, in history order, keys in order.
fn partition(history: &History) -> Vec<(&str, Vec<&Call>)> {
    // Keys numbered in order of appearance by the interner the search uses
    // for values (one hash map type fewer), then the groups sorted by key.
    let mut numbers = States::new();
    let first = numbers.values.len() as u32;
    let mut keys: Vec<(&str, Vec<&Call>)> = Vec::new();
    for c in &history.calls {
        let key = c.op.key();
        let i = (numbers.id(Some(key)) - first) as usize;
        if i == keys.len() {
            keys.push((key, Vec::new()));
        }
        keys[i].1.push(c);
    }
    crate::sort::sort_by(&mut keys, |a, b| a.0.cmp(b.0));
    keys
}

/// The search's view of a key's calls: returned calls are checked, the
/// others pending, unreturned gets dropped.
fn base_specs<'a>(calls: &[&'a Call]) -> Vec<Spec<'a>> {
    calls
        .iter()
        .filter_map(|&call| match (call.return_us, &call.outcome) {
            (Some(ret), Some(_)) => Some(Spec {
                call,
                ret: ret.max(call.invoke_us),
                role: Role::Checked,
            }),
            _ if call.op.is_read() => None,
            _ => Some(Spec {
                call,
                ret: u64::MAX,
                role: Role::Pending,
            }),
        })
        .collect()
}

/// The state id of "absent".
const ABSENT: u32 = 0;
/// The state id of "some value that no call will ever see": what a write of
/// a value that no returned call observes, and no cas expects (not even as a
/// prefix), leaves behind, whatever is appended to it later, and likewise an
/// append whose result is no such prefix. Such values can only matter by
/// making the key present, so they need not be told apart; this merges many
/// states (see [`Model::new`] and [`Visible`]).
const OPAQUE: u32 = 1;
const NIL: u32 = u32::MAX;

/// Interned values of one key.
struct States {
    ids: HashMap<String, u32>,
    values: Vec<Option<String>>,
    /// Heap bytes held, estimated (for [`Limits::bytes`]).
    bytes: u64,
}

impl States {
    fn new() -> Self {
        States {
            ids: HashMap::new(),
            values: vec![None, None],
            bytes: 0,
        }
    }

    fn id(&mut self, value: Option<&str>) -> u32 {
        let Some(v) = value else { return ABSENT };
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(Some(v.to_string()));
        self.ids.insert(v.to_string(), id);
        // Two copies of the text, a slot and a map entry.
        self.bytes += 2 * v.len() as u64 + STATE_OVERHEAD;
        id
    }

    fn value(&self, id: u32) -> Option<&str> {
        self.values.get(id as usize).and_then(|v| v.as_deref())
    }
}

/// A call compiled against interned states. The recorded result is `None`
/// when it has the wrong shape for the operation (it can then never match).
#[derive(Clone, Copy, Debug)]
enum Step<'a> {
    Get {
        seen: Option<u32>,
    },
    Put {
        value: u32,
        ok: bool,
    },
    /// `too_large`: whether the call returned [`OpResult::TooLarge`].
    Append {
        suffix: &'a str,
        too_large: Option<bool>,
    },
    Delete {
        existed: Option<bool>,
    },
    /// `outcome`: (swapped, value found).
    Cas {
        expected: u32,
        value: u32,
        outcome: Option<(bool, u32)>,
    },
}

/// The sequential model of one key, mirroring [`KvStore::execute`].
struct Model<'a> {
    states: States,
    steps: Vec<Step<'a>>,
    appended: HashMap<(u32, u32), u32>,
    /// What a value must start to be told apart from [`OPAQUE`]; `None`:
    /// every value is kept.
    visible: Option<Visible>,
}

impl<'a> Model<'a> {
    /// Compile `specs`. With `opaque`, writes and appends that leave a value
    /// nobody sees leave [`OPAQUE`]: exact, because a returned get or cas
    /// would have to report a value starting with it to tell it apart, a
    /// cas would have to expect one, and an append could only differ by
    /// being refused, which [`Visible::new`] rules out.
    fn new(specs: &[Spec<'a>], opaque: bool) -> Self {
        let visible = if opaque { Visible::new(specs) } else { None };
        let mut states = States::new();
        let write = |states: &mut States, v: &str| {
            if visible
                .as_ref()
                .is_some_and(|vis| !vis.starts(v.as_bytes()))
            {
                OPAQUE
            } else {
                states.id(Some(v))
            }
        };
        let steps = specs
            .iter()
            .map(|s| {
                let out = s.call.outcome.as_ref();
                match &*s.call.op {
                    Op::Get { .. } => Step::Get {
                        seen: match out {
                            Some(OpResult::Value { value }) => Some(states.id(value.as_deref())),
                            _ => None,
                        },
                    },
                    Op::Put { value, .. } => Step::Put {
                        value: write(&mut states, value),
                        ok: matches!(out, Some(OpResult::Ok)),
                    },
                    Op::Append { value, .. } => Step::Append {
                        suffix: value,
                        too_large: match out {
                            Some(OpResult::Ok) => Some(false),
                            Some(OpResult::TooLarge) => Some(true),
                            _ => None,
                        },
                    },
                    Op::Delete { .. } => Step::Delete {
                        existed: match out {
                            Some(OpResult::Deleted { existed }) => Some(*existed),
                            _ => None,
                        },
                    },
                    Op::Cas {
                        expected, value, ..
                    } => Step::Cas {
                        expected: states.id(expected.as_deref()),
                        value: write(&mut states, value),
                        outcome: match out {
                            Some(OpResult::Cas { ok, current }) => {
                                Some((*ok, states.id(current.as_deref())))
                            }
                            _ => None,
                        },
                    },
                }
            })
            .collect();
        Model {
            states,
            steps,
            appended: HashMap::new(),
            visible,
        }
    }

    /// Apply call `i` to state `s`: the next state, or `None` if `check` is
    /// set and the call's recorded result differs from the model's.
    fn step(&mut self, i: usize, s: u32, check: bool) -> Option<u32> {
        match self.steps[i] {
            Step::Get { seen } => (!check || seen == Some(s)).then_some(s),
            Step::Put { value, ok } => (!check || ok).then_some(value),
            Step::Delete { existed } => (!check || existed == Some(s != ABSENT)).then_some(ABSENT),
            Step::Cas {
                expected,
                value,
                outcome,
            } => {
                let hit = s == expected;
                if check && outcome != Some((hit, s)) {
                    return None;
                }
                Some(if hit { value } else { s })
            }
            Step::Append { .. } if s == OPAQUE => (!check
                || matches!(
                    self.steps[i],
                    Step::Append {
                        too_large: Some(false),
                        ..
                    }
                ))
            .then_some(OPAQUE),
            Step::Append { suffix, too_large } => {
                let current = self.states.value(s).unwrap_or("");
                let refused = current.len() + suffix.len() > MAX_STORED_VALUE_LEN;
                if check && too_large != Some(refused) {
                    return None;
                }
                if refused {
                    // `KvStore::execute` leaves the value as it was (an
                    // absent key absent, an empty value empty).
                    return Some(s);
                }
                if let Some(&next) = self.appended.get(&(s, i as u32)) {
                    return Some(next);
                }
                let grown = format!("{current}{suffix}");
                let next = match &self.visible {
                    Some(vis) if !vis.starts(grown.as_bytes()) => OPAQUE,
                    _ => self.states.id(Some(&grown)),
                };
                self.appended.insert((s, i as u32), next);
                Some(next)
            }
        }
    }
}

/// The prefixes of every value a returned get or cas in `specs` reports,
/// and of every value a cas expects, as hashes: a value that is none of
/// them can never be told apart from another such value (see [`OPAQUE`]).
/// Hashed rather than kept as text, so the set holds one word per prefix;
/// two values with the same hash count as visible, which only keeps a
/// state apart that could have been merged, so the verdict stays exact.
struct Visible {
    prefixes: HashSet<u64, WordBuild>,
}

impl Visible {
    /// The visible prefixes of `specs`, or `None` when an append could be
    /// refused for length (then a value's length matters, so no value is
    /// opaque).
    fn new(specs: &[Spec<'_>]) -> Option<Visible> {
        if appends_refusable(specs) {
            return None;
        }
        let mut prefixes = HashSet::default();
        for v in telling_values(specs) {
            let mut h = PREFIX_SEED;
            prefixes.insert(h);
            for &b in v.as_bytes() {
                h = prefix_step(h, b);
                prefixes.insert(h);
            }
        }
        Some(Visible { prefixes })
    }

    /// Whether `v` starts some value a call sees or expects (or shares a
    /// hash with such a prefix).
    fn starts(&self, v: &[u8]) -> bool {
        self.prefixes
            .contains(&v.iter().fold(PREFIX_SEED, |h, &b| prefix_step(h, b)))
    }
}

/// The values that tell states apart: those the returned gets and cas
/// calls in `specs` saw and those cas calls expected, each once
/// ([`Visible`], [`blind_suffixes`]).
fn telling_values<'a>(specs: &[Spec<'a>]) -> Vec<&'a str> {
    let mut done: HashSet<&str, WordBuild> = HashSet::default();
    let mut out = Vec::new();
    for s in specs {
        let expected = match &*s.call.op {
            Op::Cas {
                expected: Some(e), ..
            } => Some(e.as_str()),
            _ => None,
        };
        let seen = match s.role {
            Role::Checked => observed(s.call).flatten(),
            _ => None,
        };
        for v in [expected, seen].into_iter().flatten() {
            if done.insert(v) {
                out.push(v);
            }
        }
    }
    out
}

/// Whether some append in `specs` could be refused for making the value
/// too long ([`MAX_STORED_VALUE_LEN`]): the longest written value and every
/// suffix together are longer. Then a value's length matters.
fn appends_refusable(specs: &[Spec<'_>]) -> bool {
    let mut longest = 0usize;
    let mut appended = 0usize;
    for s in specs {
        match &*s.call.op {
            Op::Put { value, .. } | Op::Cas { value, .. } => longest = longest.max(value.len()),
            Op::Append { value, .. } => appended += value.len(),
            Op::Get { .. } | Op::Delete { .. } => {}
        }
    }
    longest + appended > MAX_STORED_VALUE_LEN
}

/// The hash of the empty prefix ([`Visible`]).
const PREFIX_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// A prefix's hash extended by byte `b` (FNV-1a, so every prefix of a value
/// is hashed in one pass over it).
fn prefix_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

/// What one search found.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    verdict: Verdict,
    /// Search steps used.
    steps: u64,
    /// Memory held by the memo and the interned values at the end,
    /// estimated, in bytes.
    bytes: u64,
    /// The latest time `t` such that some configuration reached had every
    /// call returning before `t` linearized: every cut before it is
    /// linearizable (see [`explain`]).
    frontier: u64,
}

/// Whether `specs` are linearizable, with an optional step budget. A read
/// of a value that no call could have produced refutes at once; otherwise
/// [`search`] decides.
fn decide(specs: &[Spec<'_>], limits: Limits) -> Outcome {
    if impossible_read(specs) {
        return Outcome {
            verdict: Verdict::NotLinearizable,
            steps: 0,
            bytes: 0,
            frontier: 0,
        };
    }
    search(specs, limits)
}

/// A fast hasher for the search's word-array keys (FxHash's mixing step).
/// Only membership depends on it, never any output order.
#[derive(Clone, Copy, Default)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type WordBuild = std::hash::BuildHasherDefault<WordHasher>;
/// A memo key, or part of one (see [`Linearized::key`]).
type Key = Box<[u32]>;

/// Estimated bytes a memo entry holds beside its words: the box's
/// allocation header and the hash table's slot.
const KEY_OVERHEAD: u64 = 40;
/// Estimated bytes an interned value holds beside its two copies of the
/// text: the allocation headers, the slot and the map entry.
const STATE_OVERHEAD: u64 = 96;

/// The set of linearized calls, numbered by the rank of their return event
/// (unreturned calls last), so that its memo key stays small: every rank
/// below `low` is in the set, and only the ranks above it are listed.
/// Those are few, because a call can only be linearized before the first
/// unlinearized return event, so they are calls open at that moment.
struct Linearized {
    rank: Vec<u32>,
    /// Ranks from here on belong to unreturned calls.
    returned: u32,
    bits: Vec<u64>,
    low: u32,
    count: u32,
}

impl Linearized {
    fn new(specs: &[Spec<'_>], events: &[(u64, bool, u32)]) -> Self {
        let n = specs.len();
        let mut order: Vec<u32> = events.iter().filter(|e| e.1).map(|e| e.2).collect();
        crate::sort::sort_by_key(&mut order, |&i| specs[i as usize].role == Role::Pending);
        let mut rank = vec![0; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let returned = specs.iter().filter(|s| s.role != Role::Pending).count() as u32;
        Linearized {
            rank,
            returned,
            bits: vec![0; n.div_ceil(64)],
            low: 0,
            count: 0,
        }
    }

    fn has_rank(&self, r: u32) -> bool {
        self.bits[r as usize / 64] & (1 << (r % 64)) != 0
    }

    fn contains(&self, call: usize) -> bool {
        self.has_rank(self.rank[call])
    }

    fn insert(&mut self, call: usize) {
        let r = self.rank[call];
        self.bits[r as usize / 64] |= 1 << (r % 64);
        self.count += 1;
        while (self.low as usize) < self.rank.len() && self.has_rank(self.low) {
            self.low += 1;
        }
    }

    fn remove(&mut self, call: usize) {
        let r = self.rank[call];
        self.bits[r as usize / 64] &= !(1 << (r % 64));
        self.count -= 1;
        self.low = self.low.min(r);
    }

    /// Write the memo key of (this set, `state`) into `out`: the state,
    /// `low`, then the ranks above `low` in order. Returns where the ranks of
    /// unreturned calls start.
    fn key(&self, state: u32, out: &mut Vec<u32>) -> usize {
        out.clear();
        out.push(state);
        out.push(self.low);
        let mut need = self.count - self.low;
        let mut w = self.low as usize / 64;
        while need > 0 && w < self.bits.len() {
            let mut word = self.bits[w];
            if w == self.low as usize / 64 {
                word &= !0u64 << (self.low % 64);
            }
            while word != 0 {
                out.push((w * 64) as u32 + word.trailing_zeros());
                word &= word - 1;
                need -= 1;
            }
            w += 1;
        }
        2 + out[2..].partition_point(|&r| r < self.returned)
    }
}

/// Whether sorted `a` is a subset of sorted `b`.
fn is_subset(a: &[u32], b: &[u32]) -> bool {
    let mut b = b.iter();
    a.iter().all(|x| b.any(|y| y == x))
}

/// Wing & Gong / Lowe search over one key's calls, shaped like Porcupine's
/// `checkSingle`: call and return events in one doubly linked list in time
/// order; the candidates are the calls before the first return event;
/// linearizing one lifts its two events out of the list, backtracking
/// unlifts them; a memo of (linearized set, state) pairs already explored
/// prunes repeats. Context calls are tried twice: applied, then skipped.
///
/// Unreturned calls take effect at any moment after their invocation, or at
/// the very end, which is the same as never; the history is linearizable
/// once every returned call is placed. Each one could double the
/// configurations to explore, so:
/// - at each configuration they are tried only after the returned
///   candidates;
/// - of several with the same effect, only the earliest invoked not yet
///   linearized is a candidate (they are interchangeable once invoked);
/// - one is not linearized where it would change nothing, nor as a put or
///   delete right after another unreturned call (linearizing only the second
///   does the same);
/// - a configuration is pruned when one with the same returned calls
///   linearized, the same state and a subset of its unreturned calls
///   linearized has already failed (the smaller can do all the larger can,
///   by linearizing the rest of those calls at the very end).
///
/// - a configuration is pruned when a returned get or cas still to place
///   can no longer see what it saw ([`Sightings`], [`Window`]).
///
/// Every move lifts a call, so the search space has no cycles and the memo
/// and the failure records are exact.
fn search(specs: &[Spec<'_>], limits: Limits) -> Outcome {
    search_with(specs, limits, true)
}

/// [`search`], with the pruning on what calls saw ([`Sightings`],
/// [`Window`]) on or off (off: the reference its tests compare it with).
fn search_with(specs: &[Spec<'_>], limits: Limits, sight: bool) -> Outcome {
    let n = specs.len();
    let mut outcome = Outcome {
        verdict: Verdict::Linearizable,
        steps: 0,
        bytes: 0,
        frontier: u64::MAX,
    };
    if n == 0 {
        return outcome;
    }
    outcome.frontier = 0;
    let mut model = Model::new(specs, true);

    // Events (time, is_return, call), calls before returns at equal times.
    let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
    for (i, s) in specs.iter().enumerate() {
        events.push((s.call.invoke_us, false, i as u32));
        events.push((s.ret, true, i as u32));
    }
    crate::sort::sort(&mut events);
    let m = events.len();
    let head = m;
    let mut next: Vec<u32> = (1..=m as u32).collect();
    next[m - 1] = NIL;
    next.push(0);
    let mut prev: Vec<u32> = (0..=m as u32).map(|k| k.wrapping_sub(1)).collect();
    prev[0] = head as u32;
    let mut return_node = vec![NIL; n];
    for (k, e) in events.iter().enumerate() {
        if e.1 {
            return_node[e.2 as usize] = k as u32;
        }
    }
    let partner: Vec<u32> = events
        .iter()
        .map(|e| if e.1 { NIL } else { return_node[e.2 as usize] })
        .collect();
    let lift = |next: &mut [u32], prev: &mut [u32], k: usize| {
        let r = partner[k] as usize;
        next[prev[k] as usize] = next[k];
        prev[next[k] as usize] = prev[k];
        next[prev[r] as usize] = next[r];
        if next[r] != NIL {
            prev[next[r] as usize] = prev[r];
        }
    };
    let unlift = |next: &mut [u32], prev: &mut [u32], k: usize| {
        let r = partner[k] as usize;
        next[prev[r] as usize] = r as u32;
        if next[r] != NIL {
            prev[next[r] as usize] = r as u32;
        }
        next[prev[k] as usize] = k as u32;
        prev[next[k] as usize] = k as u32;
    };

    let pending = |i: usize| specs[i].role == Role::Pending;
    let any_pending = specs.iter().any(|s| s.role == Role::Pending);
    let mut linearized = Linearized::new(specs, &events);

    // Interchangeable unreturned calls: each one's earlier twin.
    let mut earlier_twin = vec![NIL; n];
    // (class, call): calls of one class are interchangeable.
    let mut classes = Vec::new();
    for i in (0..n).filter(|&i| pending(i)) {
        let class: (u8, u32, u32, &str) = match model.steps[i] {
            Step::Get { .. } => continue,
            Step::Put { value, .. } => (0, value, 0, ""),
            Step::Append { suffix, .. } => (1, 0, 0, suffix),
            Step::Delete { .. } => (2, 0, 0, ""),
            Step::Cas {
                expected, value, ..
            } => (3, expected, value, ""),
        };
        classes.push((class, i));
    }
    // Each class's members by invocation, one after the other.
    crate::sort::sort_by_key(&mut classes, |&(class, i)| {
        (class, specs[i].call.invoke_us, i)
    });
    for w in classes.windows(2) {
        if w[0].0 == w[1].0 {
            earlier_twin[w[1].1] = w[0].1 as u32;
        }
    }

    let mut sightings = if sight {
        Sightings::new(specs, &model)
    } else {
        Sightings::none(n)
    };
    let mut window = sight.then(|| Window::new(specs, &model));
    let alike = sight.then(|| Alike::new(specs, &model, &events));
    // Where the first return still in the list is, once looked up in this
    // configuration ([`NIL`]: not yet).
    let mut first_return = NIL;

    let mut memo: HashSet<Key, WordBuild> = HashSet::default();
    // Failed configurations: returned part of the key -> unreturned parts.
    let mut failed: HashMap<Key, Vec<Key>, WordBuild> = HashMap::default();
    let mut key: Vec<u32> = Vec::new();

    // (call node, skipped rather than applied, state before)
    let mut stack: Vec<(usize, bool, u32)> = Vec::new();
    let mut state = ABSENT;
    let mut entry = next[head] as usize;
    let mut skip = false;
    // Returned calls still to place.
    let mut remaining = specs.iter().filter(|s| s.role != Role::Pending).count();
    // Candidates are tried in two passes: returned calls, then unreturned.
    let mut second_pass = false;
    // Memo keys' heap bytes, estimated.
    let mut key_bytes = 0u64;
    while remaining > 0 {
        if outcome.steps & 1023 == 0 {
            outcome.bytes = key_bytes + model.states.bytes;
        }
        if outcome.steps >= limits.steps || outcome.bytes > limits.bytes {
            outcome.verdict = Verdict::GaveUp;
            return outcome;
        }
        outcome.steps += 1;
        let (time, is_return, call) = events[entry];
        let i = call as usize;
        if !is_return {
            let twin_waiting =
                earlier_twin[i] != NIL && !linearized.contains(earlier_twin[i] as usize);
            if pending(i) != second_pass || twin_waiting {
                entry = next[entry] as usize;
                continue;
            }
            if let Some(alike) = alike.as_ref().filter(|a| a.earlier[i] != NIL) {
                if first_return == NIL {
                    // Every event before `entry` in the list is a call (a
                    // return ends the pass), so the first return is ahead.
                    let mut k = entry;
                    while !events[k].1 {
                        k = next[k] as usize;
                    }
                    first_return = k as u32;
                }
                if alike.passed_over(i, first_return, &return_node, |j| linearized.contains(j)) {
                    entry = next[entry] as usize;
                    continue;
                }
            }
            let role = specs[i].role;
            let after = if skip {
                Some(state)
            } else {
                model.step(i, state, role == Role::Checked)
            };
            let redundant = pending(i)
                && (after == Some(state)
                    || (matches!(*specs[i].call.op, Op::Put { .. } | Op::Delete { .. })
                        && stack
                            .last()
                            .is_some_and(|&(e, _, _)| pending(events[e].2 as usize))));
            let mut moved = false;
            if let Some(new_state) = after.filter(|_| !redundant) {
                linearized.insert(i);
                sightings.placed(i);
                let split = linearized.key(new_state, &mut key);
                let dominated = !failed.is_empty()
                    && failed
                        .get(&key[..split])
                        .is_some_and(|sets| sets.iter().any(|f| is_subset(f, &key[split..])));
                if !dominated
                    && !memo.contains(&key[..])
                    && sightings.all_reachable(&model.states, new_state)
                    && window.as_mut().is_none_or(|w| {
                        (new_state == state && w.inert(i))
                            || w.can_see(&events, &next, head, i, new_state, &model.states)
                    })
                {
                    key_bytes += 4 * key.len() as u64 + KEY_OVERHEAD;
                    memo.insert(key.as_slice().into());
                    stack.push((entry, skip, state));
                    state = new_state;
                    lift(&mut next, &mut prev, entry);
                    if !pending(i) {
                        remaining -= 1;
                    }
                    entry = next[head] as usize;
                    skip = false;
                    second_pass = false;
                    moved = true;
                    first_return = NIL;
                } else {
                    linearized.remove(i);
                    sightings.unplaced(i);
                }
            }
            if !moved {
                if !skip && role == Role::Context {
                    skip = true;
                } else {
                    entry = next[entry] as usize;
                    skip = false;
                }
            }
        } else if !second_pass && any_pending {
            outcome.frontier = outcome.frontier.max(time);
            second_pass = true;
            entry = next[head] as usize;
        } else {
            outcome.frontier = outcome.frontier.max(time);
            let Some((e, was_skip, before)) = stack.pop() else {
                outcome.verdict = Verdict::NotLinearizable;
                return outcome;
            };
            if any_pending {
                // Every move from this configuration has been tried.
                let split = linearized.key(state, &mut key);
                key_bytes += 4 * key.len() as u64 + 2 * KEY_OVERHEAD;
                failed
                    .entry(key[..split].into())
                    .or_default()
                    .push(key[split..].into());
            }
            let j = events[e].2 as usize;
            first_return = NIL;
            state = before;
            linearized.remove(j);
            sightings.unplaced(j);
            unlift(&mut next, &mut prev, e);
            if !pending(j) {
                remaining += 1;
            }
            second_pass = pending(j);
            if !was_skip && specs[j].role == Role::Context {
                entry = e;
                skip = true;
            } else {
                entry = next[e] as usize;
                skip = false;
            }
        }
    }
    outcome
}

/// Returned calls that act alike, tried in the order of their returns.
///
/// Two returned calls *act alike* when, from every state a linearization
/// can reach, they lead to the same state and accept the same states with
/// the answers they returned: gets, failed cas calls and deletes that
/// found the key absent (all of which only read) that saw the same value;
/// puts of the same value, or of values nobody sees ([`OPAQUE`]), with
/// appends whose suffix no seen or expected value contains (from any
/// state they leave a value nobody sees); successful cas calls with the
/// same expected value and the same value left; appends of the same
/// suffix; deletes that found the key. Of such calls that are all
/// candidates in a configuration, only the one that returned first is
/// tried: exchanging it with a later-returning twin in any linearization
/// from there gives
/// another (it moves earlier, where every call still to place returns
/// after its invocation; the twin moves to its place, before its own
/// return, and the states on the way are the same). So the search from
/// each configuration stays complete, and the memo and the failure
/// records stay exact. Unreturned calls have their own rule (the earlier
/// invoked first); context calls are not paired. (A value that shares a
/// [`Visible`] hash with a seen prefix stays a state of its own where a
/// blind append would leave [`OPAQUE`]; no call can tell the two apart,
/// so the exchange still holds for what the calls answer.) Reviewed
/// against brute force on about 900,000 histories built to have many
/// calls alike, with ties, unreturned and context calls, refusable
/// appends and forced hash collisions: no verdict changed.
///
/// Without it, one minute of 30 clients on one key often gave up undecided
/// at 20 million steps: a dozen long writes of values nobody read, as many
/// deletes that found the key, and gets of the absent key, each placeable
/// across a hundred returns, made every subset another configuration.
struct Alike {
    /// Per call: the previous call of its class in return order, or [`NIL`].
    earlier: Vec<u32>,
    /// Per call: where its invocation is in the event list.
    invoked_at: Vec<u32>,
}

/// What a returned call does, for [`Alike`]: calls with the same effect
/// act alike.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Effect<'a> {
    /// Accepts only this state and leaves it.
    Sees(u32),
    /// Leaves this state, from any state.
    Writes(u32),
    /// Leaves the second state, from the first only.
    Swaps(u32, u32),
    Appends(&'a str),
    /// Leaves the key absent, from a present value only.
    Deletes,
}

/// Most distinct suffix lengths [`Alike`] looks for inside seen values;
/// beyond this, appends are paired only by equal suffixes.
const MAX_SUFFIX_LENGTHS: usize = 16;

impl Alike {
    fn new(specs: &[Spec<'_>], model: &Model<'_>, events: &[(u64, bool, u32)]) -> Self {
        let n = specs.len();
        let mut invoked_at = vec![NIL; n];
        for (k, &(_, is_return, c)) in events.iter().enumerate() {
            if !is_return {
                invoked_at[c as usize] = k as u32;
            }
        }
        let blind = model
            .visible
            .as_ref()
            .map(|_| blind_suffixes(specs))
            .unwrap_or_default();
        // The last call of each effect so far, walking the returns in order.
        let mut last: HashMap<Effect<'_>, u32, WordBuild> = HashMap::default();
        let mut earlier = vec![NIL; n];
        for &(_, is_return, c) in events {
            let i = c as usize;
            if !is_return || specs[i].role != Role::Checked {
                continue;
            }
            let effect = match model.steps[i] {
                Step::Get { seen: Some(t) } => Effect::Sees(t),
                // A failed cas reads: it accepts only the value it found
                // (which must differ from the one it expected).
                Step::Cas {
                    expected,
                    outcome: Some((false, t)),
                    ..
                } if t != expected => Effect::Sees(t),
                Step::Put { value, ok: true } => Effect::Writes(value),
                // A successful cas: only from the value it expected (which
                // it must report having found).
                Step::Cas {
                    expected,
                    value,
                    outcome: Some((true, t)),
                } if t == expected => Effect::Swaps(expected, value),
                Step::Append {
                    suffix,
                    too_large: Some(false),
                } => {
                    if blind.contains(suffix.as_bytes()) {
                        Effect::Writes(OPAQUE)
                    } else {
                        Effect::Appends(suffix)
                    }
                }
                // A delete that found the key absent only reads that.
                Step::Delete {
                    existed: Some(false),
                } => Effect::Sees(ABSENT),
                Step::Delete {
                    existed: Some(true),
                } => Effect::Deletes,
                _ => continue,
            };
            if let Some(j) = last.insert(effect, c) {
                earlier[i] = j;
            }
        }
        Alike {
            earlier,
            invoked_at,
        }
    }

    /// Whether call `i` can be passed over: a call that acts alike,
    /// returned earlier and is not yet placed is also a candidate (invoked
    /// before `first_return`, where the first return still in the list is).
    /// `return_node`: where each call's return is in the event list.
    fn passed_over(
        &self,
        i: usize,
        first_return: u32,
        return_node: &[u32],
        placed: impl Fn(usize) -> bool,
    ) -> bool {
        let mut j = self.earlier[i];
        // Calls that returned before the first return still in the list
        // are all placed.
        while j != NIL && return_node[j as usize] >= first_return {
            if !placed(j as usize) && self.invoked_at[j as usize] < first_return {
                return true;
            }
            j = self.earlier[j as usize];
        }
        false
    }
}

/// The suffixes of returned appends that no value a returned call saw, and
/// no value a cas expected, contains: appending one, to any value, leaves
/// a value nobody sees. Empty when the suffixes come in more than
/// [`MAX_SUFFIX_LENGTHS`] lengths (then none is looked for).
fn blind_suffixes<'a>(specs: &[Spec<'a>]) -> HashSet<&'a [u8], WordBuild> {
    let mut suffixes: HashSet<&'a [u8], WordBuild> = HashSet::default();
    for s in specs {
        if let (Role::Checked, Op::Append { value, .. }) = (s.role, &*s.call.op) {
            if !value.is_empty() {
                suffixes.insert(value.as_bytes());
            }
        }
    }
    let mut lengths: Vec<usize> = suffixes.iter().map(|v| v.len()).collect();
    crate::sort::sort(&mut lengths);
    lengths.dedup();
    if lengths.len() > MAX_SUFFIX_LENGTHS {
        return HashSet::default();
    }
    for v in telling_values(specs) {
        for &len in &lengths {
            for piece in v.as_bytes().windows(len) {
                suffixes.remove(piece);
            }
        }
    }
    suffixes
}

/// Which states the returned gets and cas calls not yet placed must still
/// see, for pruning configurations from which one of them no longer can.
/// Without it, a call that saw a value is found to be unplaceable only when
/// its return comes up, after every order of the calls running beside it
/// has been tried; with appends every order is another state, and a few
/// long-running calls among ten clients on one key kept 1,000- and
/// 2,000-call histories undecided for millions of steps.
///
/// A state `t` (present) comes about only from a call that writes a prefix
/// of it (a put, a cas, an append to an absent key) followed by appends
/// that spell the rest, or from the current state by appends that spell
/// the rest; an absent state only from a delete. Each way to build `t`
/// from calls is a *route*: the groups of calls it needs, one call of each
/// group not yet placed (calls with the same written value or the same
/// suffix are one group). A call takes effect at most once, and [`OPAQUE`]
/// starts no value that anyone saw, so once no route is open, a
/// configuration whose state is not `t`, and does not extend to `t` by
/// appends not yet placed, cannot succeed while a call that must see `t`
/// is still to place. Repeated suffixes in a route count once, and a
/// successful cas is assumed possible: this over-approximates what can be
/// reached, so pruning on it is exact.
///
/// Kept up to date as calls are placed and unplaced: per group how many of
/// its calls are still to place, per route how many of its groups have
/// none left, per target how many routes are open and how many calls that
/// must see it are still to place; the targets with no open route and such
/// calls are *exhausted*, and only they are checked at each step. A target
/// with more than [`MAX_ROUTES`] routes is not tracked (never exhausted).
struct Sightings<'a> {
    /// Per call, the target it must see, or `NIL`.
    sees: Vec<u32>,
    /// Per call, its group, or `NIL`.
    group: Vec<u32>,
    /// Per group: calls still to place, and the routes that need it.
    groups: Vec<(u32, Vec<u32>)>,
    /// Per route: its target and how many of its groups have no call left.
    routes: Vec<(u32, u32)>,
    /// Per target: its state, open routes, calls still to place that must
    /// see it, and whether it is tracked.
    targets: Vec<(u32, u32, u32, bool)>,
    /// Exhausted targets, and each target's place in this list (`NIL` if
    /// not in it).
    exhausted: Vec<u32>,
    place: Vec<u32>,
    /// Append suffixes by length, each with its group.
    suffixes: VecMap<usize, HashMap<&'a [u8], u32>>,
}

/// The most routes [`Sightings`] follows for one target, the most appends
/// one of them may need, and the most partial routes it builds looking for
/// them: past any of these the target is not tracked. (A value of 64 KiB
/// appended one byte at a time would otherwise mean a recursion 65,536
/// deep, and suffixes like "a" and "aa" exponentially many partial routes.)
const MAX_ROUTES: usize = 32;
const MAX_PIECES: usize = 64;
const MAX_TRIES: u32 = 4096;
/// Rests longer than this (in bytes) are assumed spellable, sparing the
/// per-step check a long scan; assuming so is always sound.
const MAX_SPELL: usize = 4096;

impl<'a> Sightings<'a> {
    fn new(specs: &[Spec<'a>], model: &Model<'_>) -> Self {
        let mut s = Sightings::none(specs.len());
        // Groups: (0, value) for puts and cas calls, (1, suffix) for
        // appends, (2, "") for deletes.
        let mut ids: HashMap<(u8, &'a str), u32> = HashMap::new();
        for (j, spec) in specs.iter().enumerate() {
            let g = match &*spec.call.op {
                Op::Put { value, .. } | Op::Cas { value, .. } => (0, value.as_str()),
                Op::Append { value, .. } => (1, value.as_str()),
                // A delete that found the key absent makes nothing absent.
                Op::Delete { .. } if found_absent(spec, model.steps[j]) => continue,
                Op::Delete { .. } => (2, ""),
                Op::Get { .. } => continue,
            };
            let next = ids.len() as u32;
            let id = *ids.entry(g).or_insert(next);
            if id == next {
                s.groups.push((0, Vec::new()));
                if g.0 == 1 && !g.1.is_empty() {
                    s.suffixes
                        .get_or_insert_with(g.1.len(), HashMap::new)
                        .insert(g.1.as_bytes(), id);
                }
            }
            s.groups[id as usize].0 += 1;
            s.group[j] = id;
        }
        // The lengths a route's first write can have.
        let mut heads: Vec<usize> = ids.keys().filter(|g| g.0 < 2).map(|g| g.1.len()).collect();
        crate::sort::sort(&mut heads);
        heads.dedup();
        let mut index: HashMap<u32, u32> = HashMap::new();
        for (o, spec) in specs.iter().enumerate() {
            let Some(t) = must_see(spec, model.steps[o]) else {
                continue;
            };
            let k = match index.get(&t) {
                Some(&k) => k,
                None => {
                    let k = s.targets.len() as u32;
                    index.insert(t, k);
                    let routes = match model.states.value(t) {
                        None => Some(ids.get(&(2, "")).map(|&g| vec![g]).into_iter().collect()),
                        Some(v) => s.routes_to(v, &ids, &heads),
                    };
                    let tracked = routes.is_some();
                    let routes: Vec<Vec<u32>> = routes.unwrap_or_default();
                    s.targets.push((t, 0, 0, tracked));
                    s.place.push(NIL);
                    for mut need in routes {
                        crate::sort::sort(&mut need);
                        need.dedup();
                        let r = s.routes.len() as u32;
                        s.routes.push((k, 0));
                        s.targets[k as usize].1 += 1;
                        for g in need {
                            s.groups[g as usize].1.push(r);
                        }
                    }
                    k
                }
            };
            s.sees[o] = k;
            s.targets[k as usize].2 += 1;
        }
        for k in 0..s.targets.len() {
            s.update(k);
        }
        s
    }

    /// Sightings that track nothing.
    fn none(n: usize) -> Self {
        Sightings {
            sees: vec![NIL; n],
            group: vec![NIL; n],
            groups: Vec::new(),
            routes: Vec::new(),
            targets: Vec::new(),
            exhausted: Vec::new(),
            place: Vec::new(),
            suffixes: VecMap::new(),
        }
    }

    /// The routes to present value `v`, as the groups each needs, given
    /// the lengths of the values and suffixes written (`heads`), or `None`
    /// past [`MAX_ROUTES`], [`MAX_PIECES`] or [`MAX_TRIES`].
    fn routes_to(
        &self,
        v: &'a str,
        ids: &HashMap<(u8, &'a str), u32>,
        heads: &[usize],
    ) -> Option<Vec<Vec<u32>>> {
        let mut out = Vec::new();
        let mut tries = 0;
        for &p in heads.iter().take_while(|&&p| p <= v.len()) {
            let Some(head) = v.get(..p) else { continue };
            // An append to an absent key starts it with its suffix (at
            // `p` = 0, an empty append makes it present and empty).
            let starts = [ids.get(&(0, head)), ids.get(&(1, head))];
            for &g in starts.iter().flatten() {
                let mut need = vec![*g];
                if !self.spell(&v.as_bytes()[p..], &mut need, &mut out, &mut tries) {
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Every way to spell `rest` with append suffixes, each pushed to `out`
    /// after `need`; false past [`MAX_ROUTES`], [`MAX_PIECES`] or
    /// [`MAX_TRIES`] (counted in `tries`).
    fn spell(
        &self,
        rest: &[u8],
        need: &mut Vec<u32>,
        out: &mut Vec<Vec<u32>>,
        tries: &mut u32,
    ) -> bool {
        *tries += 1;
        if *tries > MAX_TRIES || need.len() > MAX_PIECES {
            return false;
        }
        if rest.is_empty() {
            out.push(need.clone());
            return out.len() <= MAX_ROUTES;
        }
        for (&len, set) in &self.suffixes {
            let Some(&g) = rest.get(..len).and_then(|piece| set.get(piece)) else {
                continue;
            };
            need.push(g);
            let ok = self.spell(&rest[len..], need, out, tries);
            need.pop();
            if !ok {
                return false;
            }
        }
        true
    }

    /// Whether `rest` can be spelled by appends of groups with calls left
    /// (or is longer than [`MAX_SPELL`]).
    fn spellable(&self, rest: &str) -> bool {
        rest.len() > MAX_SPELL
            || spells(
                rest.as_bytes(),
                |_| false,
                &self.suffixes,
                |set, piece| {
                    set.get(piece)
                        .is_some_and(|&g| self.groups[g as usize].0 > 0)
                },
            )
    }

    /// Put target `k` in or out of the exhausted list.
    fn update(&mut self, k: usize) {
        let (_, open, watchers, tracked) = self.targets[k];
        let exhausted = tracked && open == 0 && watchers > 0;
        let at = self.place[k];
        if exhausted && at == NIL {
            self.place[k] = self.exhausted.len() as u32;
            self.exhausted.push(k as u32);
        } else if !exhausted && at != NIL {
            self.exhausted.swap_remove(at as usize);
            if let Some(&moved) = self.exhausted.get(at as usize) {
                self.place[moved as usize] = at;
            }
            self.place[k] = NIL;
        }
    }

    /// Call `i` was placed.
    fn placed(&mut self, i: usize) {
        let g = self.group[i];
        if g != NIL {
            let g = g as usize;
            self.groups[g].0 -= 1;
            if self.groups[g].0 == 0 {
                for m in 0..self.groups[g].1.len() {
                    let r = self.groups[g].1[m] as usize;
                    self.routes[r].1 += 1;
                    if self.routes[r].1 == 1 {
                        let k = self.routes[r].0 as usize;
                        self.targets[k].1 -= 1;
                        self.update(k);
                    }
                }
            }
        }
        let k = self.sees[i];
        if k != NIL {
            self.targets[k as usize].2 -= 1;
            self.update(k as usize);
        }
    }

    /// Call `i` was unplaced: [`Sightings::placed`] undone.
    fn unplaced(&mut self, i: usize) {
        let g = self.group[i];
        if g != NIL {
            let g = g as usize;
            self.groups[g].0 += 1;
            if self.groups[g].0 == 1 {
                for m in 0..self.groups[g].1.len() {
                    let r = self.groups[g].1[m] as usize;
                    self.routes[r].1 -= 1;
                    if self.routes[r].1 == 0 {
                        let k = self.routes[r].0 as usize;
                        self.targets[k].1 += 1;
                        self.update(k);
                    }
                }
            }
        }
        let k = self.sees[i];
        if k != NIL {
            self.targets[k as usize].2 += 1;
            self.update(k as usize);
        }
    }

    /// Whether every exhausted target can still be seen from `state`.
    fn all_reachable(&self, states: &States, state: u32) -> bool {
        self.exhausted.iter().all(|&k| {
            let t = self.targets[k as usize].0;
            if t == state {
                return true;
            }
            if state == ABSENT || state == OPAQUE {
                return false;
            }
            match (states.value(t), states.value(state)) {
                (Some(tv), Some(sv)) => {
                    tv.strip_prefix(sv).is_some_and(|rest| self.spellable(rest))
                }
                _ => false,
            }
        })
    }
}

/// The state a returned get or cas must see when it is placed (what it
/// reported), for [`Sightings`] and [`Window`].
fn must_see(spec: &Spec<'_>, step: Step<'_>) -> Option<u32> {
    if spec.role != Role::Checked {
        return None;
    }
    match step {
        Step::Get { seen: Some(t) } => Some(t),
        Step::Cas {
            outcome: Some((_, t)),
            ..
        } => Some(t),
        _ => None,
    }
}

/// Whether `spec` is a returned delete that reported the key absent: it can
/// only run where the key is absent, so it makes nothing absent.
fn found_absent(spec: &Spec<'_>, step: Step<'_>) -> bool {
    spec.role == Role::Checked
        && matches!(
            step,
            Step::Delete {
                existed: Some(false)
            }
        )
}

/// What a call can do to the value, for [`Window`].
#[derive(Clone, Copy)]
enum Makes<'a> {
    Nothing,
    /// A put or cas writes this value (a cas assumed to succeed, unless its
    /// recorded answer says it failed).
    Write(&'a [u8]),
    /// An append adds this suffix.
    Append(&'a [u8]),
    Delete,
}

/// Whether the gets and cas calls whose returns come next can still see
/// what they saw. Real time allows only the calls invoked before a call's
/// return (those before its return in the event list) to precede it. So
/// when a returned get or cas that saw `t` is still to place, `t` must come
/// out of the current state by some of the calls still to place that were
/// invoked before it returned, each at most once. This checks an
/// over-approximation (any order, suffixes reusable, a cas's write assumed
/// to succeed) for the first [`WINDOW_RETURNS`] returns among the first
/// [`WINDOW`] events of the list, and prunes a configuration that fails
/// it: exact. (Of 100 one-minute fuzz runs with 30 clients on one key,
/// 8 returns left 22 undecided, 16 returns 20, every return in the window
/// 19; the easy histories took up to twice the time. Not looking again
/// after a call that changed nothing made the 10,000-call, 100-key
/// history 20 % faster and left 21.)
///
/// It complements [`Sightings`], which tracks every call that saw a value
/// but not when the calls that could build it run: one delete anywhere
/// later keeps "absent" reachable there, and an append that starts a value
/// from an absent key counts even when no delete can make it absent in
/// time. With 30 clients on one key, a cas that saw the key absent, the
/// last delete before it already placed, kept the search trying every
/// order of a dozen puts beside it.
struct Window<'a> {
    /// Per call: the state it must see when placed, or [`NIL`].
    sees: Vec<u32>,
    makes: Vec<Makes<'a>>,
    /// Scratch: the calls still to place invoked before the return being
    /// looked at.
    open: Vec<u32>,
    /// Scratch: which prefixes of the target can be built.
    reach: Vec<bool>,
    /// Scratch: targets found reachable in this walk.
    fine: Vec<u32>,
}

/// How many events of the list [`Window::can_see`] looks at.
const WINDOW: usize = 128;
/// How many returns [`Window::can_see`] looks at.
const WINDOW_RETURNS: usize = 16;

impl<'a> Window<'a> {
    fn new(specs: &[Spec<'a>], model: &Model<'_>) -> Self {
        let n = specs.len();
        let mut w = Window {
            sees: vec![NIL; n],
            makes: vec![Makes::Nothing; n],
            open: Vec::new(),
            reach: Vec::new(),
            fine: Vec::new(),
        };
        for (j, spec) in specs.iter().enumerate() {
            let checked = spec.role == Role::Checked;
            w.sees[j] = must_see(spec, model.steps[j]).unwrap_or(NIL);
            w.makes[j] = match (&*spec.call.op, model.steps[j]) {
                (
                    _,
                    Step::Cas {
                        outcome: Some((false, _)),
                        ..
                    },
                ) if checked => Makes::Nothing,
                // It found the key absent, so it left it as it was.
                (Op::Delete { .. }, step) if found_absent(spec, step) => Makes::Nothing,
                (Op::Put { value, .. } | Op::Cas { value, .. }, _) => {
                    Makes::Write(value.as_bytes())
                }
                (Op::Append { value, .. }, _) => Makes::Append(value.as_bytes()),
                (Op::Delete { .. }, _) => Makes::Delete,
                (Op::Get { .. }, _) => Makes::Nothing,
            };
        }
        w
    }

    /// Whether call `i`, placed where it leaves the value as it was, can be
    /// left unchecked: it writes nothing, so every target is as reachable
    /// as before it was placed (the window may now reach two events
    /// further; not looking there only prunes less).
    fn inert(&self, i: usize) -> bool {
        matches!(self.makes[i], Makes::Nothing)
    }

    /// Whether, with call `placing` placed and the value at `state`, the
    /// returned gets and cas calls whose returns come first
    /// in the list (`events` linked by `next` from `head`; at most
    /// [`WINDOW_RETURNS`] returns within [`WINDOW`] events) can still see
    /// what they saw.
    fn can_see(
        &mut self,
        events: &[(u64, bool, u32)],
        next: &[u32],
        head: usize,
        placing: usize,
        state: u32,
        states: &States,
    ) -> bool {
        self.open.clear();
        self.fine.clear();
        let mut k = next[head];
        let (mut walked, mut returns) = (0, 0);
        while k != NIL && walked < WINDOW {
            let (_, is_return, c) = events[k as usize];
            k = next[k as usize];
            if c as usize == placing {
                continue;
            }
            walked += 1;
            if !is_return {
                self.open.push(c);
                continue;
            }
            returns += 1;
            if returns > WINDOW_RETURNS {
                break;
            }
            let t = self.sees[c as usize];
            if t == NIL || t == state || self.fine.contains(&t) {
                continue;
            }
            if !self.reachable(t, state, states) {
                return false;
            }
            // More calls are open at later returns: still reachable there.
            self.fine.push(t);
        }
        true
    }

    /// Whether `t` can come out of `state` by the calls in `open`.
    fn reachable(&mut self, t: u32, state: u32, states: &States) -> bool {
        let makes = &self.makes;
        let open = self.open.iter().map(|&c| makes[c as usize]);
        let Some(tv) = states.value(t) else {
            return open.clone().any(|m| matches!(m, Makes::Delete));
        };
        let tv = tv.as_bytes();
        if tv.len() > MAX_SPELL {
            return true;
        }
        let reach = &mut self.reach;
        reach.clear();
        reach.resize(tv.len() + 1, false);
        // From an absent key (appends to it start from nothing), …
        reach[0] = state == ABSENT || open.clone().any(|m| matches!(m, Makes::Delete));
        // … from the value now, or from a write.
        if state != OPAQUE {
            if let Some(sv) = states.value(state) {
                if tv.starts_with(sv.as_bytes()) {
                    reach[sv.len()] = true;
                }
            }
        }
        for m in open.clone() {
            if let Makes::Write(v) = m {
                if tv.starts_with(v) {
                    reach[v.len()] = true;
                }
            }
        }
        for at in 0..tv.len() {
            if !reach[at] {
                continue;
            }
            for m in open.clone() {
                if let Makes::Append(suffix) = m {
                    if !suffix.is_empty() && tv[at..].starts_with(suffix) {
                        reach[at + suffix.len()] = true;
                    }
                }
            }
        }
        reach[tv.len()]
    }
}

/// The history cut at time `t`: calls invoked by `t`; those returning after
/// it become unreturned (gets among them are dropped).
fn cut<'a>(specs: &[Spec<'a>], t: u64) -> Vec<Spec<'a>> {
    specs
        .iter()
        .filter(|s| s.call.invoke_us <= t)
        .filter_map(|s| {
            if s.ret <= t || s.role != Role::Checked {
                Some(*s)
            } else if s.call.op.is_read() {
                None
            } else {
                Some(Spec {
                    ret: u64::MAX,
                    role: Role::Pending,
                    ..*s
                })
            }
        })
        .collect()
}

/// Whether the call's recorded answer shows it changed nothing.
fn changed_nothing(call: &Call) -> bool {
    matches!(
        (&*call.op, &call.outcome),
        (Op::Get { .. }, _)
            | (_, Some(OpResult::Cas { ok: false, .. }))
            | (_, Some(OpResult::Deleted { existed: false }))
            | (_, Some(OpResult::TooLarge))
    )
}

/// Explain the violation `found` on `key`: find the earliest failing cut,
/// then shrink it to a core. Every search it makes is bounded in steps
/// (`TRIAL_BUDGET`, `SHRINK_BUDGET`, and twice the steps the check took for
/// each cut probe) and in memory to `bytes`, the check's own limit: a probe
/// searches a prefix of what the check searched, or a part of it, so it
/// rarely needs more, and one that runs out counts as "not known to fail".
fn explain(key: &str, all: &[&Call], base: &[Spec<'_>], found: Outcome, bytes: u64) -> Violation {
    // 1. The earliest failing cut. Cuts before the search's frontier are
    // linearizable and `cuts.len()` stands for the whole history, which
    // fails. Gallop up from the frontier, where the failing cut usually is,
    // then bisect. A probe that runs out of budget counts as "not known to
    // fail", so `hi` always indexes a cut known to fail.
    let mut cuts: Vec<u64> = base
        .iter()
        .filter(|s| s.role == Role::Checked)
        .map(|s| s.ret)
        .collect();
    crate::sort::sort(&mut cuts);
    cuts.dedup();
    let budget = Limits {
        steps: found.steps.max(100_000).saturating_mul(2),
        bytes,
    };
    let mut lo = cuts.partition_point(|&t| t < found.frontier);
    let mut known_good = lo.checked_sub(1);
    let mut hi = cuts.len();
    let probe = |idx: usize, lo: &mut usize, known_good: &mut Option<usize>| {
        let result = decide(&cut(base, cuts[idx]), budget);
        match result.verdict {
            Verdict::NotLinearizable => {
                *lo = (*lo).max(cuts.partition_point(|&t| t < result.frontier));
                if let Some(g) = (*lo).checked_sub(1) {
                    *known_good = Some(known_good.map_or(g, |k| k.max(g)));
                }
                true
            }
            Verdict::Linearizable => {
                *known_good = Some(known_good.map_or(idx, |k| k.max(idx)));
                *lo = idx + 1;
                false
            }
            Verdict::GaveUp => {
                *lo = idx + 1;
                false
            }
        }
    };
    let mut step = 1;
    while lo < hi {
        let idx = lo;
        if probe(idx, &mut lo, &mut known_good) {
            hi = idx;
            break;
        }
        let ahead = (lo + step).min(hi);
        if ahead < hi && probe(ahead, &mut lo, &mut known_good) {
            hi = ahead;
            break;
        }
        step *= 2;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if probe(mid, &mut lo, &mut known_good) {
            hi = mid;
        }
    }
    let (prefix, cut_time) = match cuts.get(hi) {
        Some(&t) => (cut(base, t), Some(t)),
        None => (base.to_vec(), None),
    };
    let stuck: Vec<&Call> = prefix
        .iter()
        .filter(|s| s.role == Role::Checked && Some(s.ret) == cut_time)
        .map(|s| s.call)
        .collect();
    let before = known_good
        .filter(|&g| g < hi)
        .map(|g| (cuts[g], g + 1 == hi));

    // A long cut is shrunk too, with a smaller budget, and its core is
    // used only if it came out small; otherwise the calls nearest to the
    // failure tell more than hundreds of calls the budget left.
    let long = (prefix.len() > MINIMIZE_LIMIT).then(|| prefix.clone());

    // 2. Greedy core: try each returned call, earliest first, the call
    // that could not be placed last. Calls are told apart by address, so
    // even a history with repeated ids is handled.
    let mut specs = prefix;
    let mut order: Vec<&Call> = specs
        .iter()
        .filter(|s| s.role == Role::Checked)
        .map(|s| s.call)
        .collect();
    crate::sort::sort_by_key(&mut order, |&c| {
        let last = stuck.iter().any(|&s| std::ptr::eq(s, c));
        (last, c.invoke_us, c.id)
    });
    // Runs of calls first, halving the run each pass, as delta debugging
    // does: a long cut whose fault lies in a few calls then shrinks in a
    // few dozen trials, where one call per trial ran out of budget with
    // dozens of calls left. The last pass takes one call at a time.
    let mut spent = 0u64;
    let (budget, trial_bytes) = match long {
        Some(_) => (LONG_SHRINK_BUDGET, bytes.min(LONG_TRIAL_BYTES)),
        None => (SHRINK_BUDGET, bytes),
    };
    let mut chunk = (order.len() / 2).max(1);
    let mut shrunk = false;
    loop {
        let mut start = 0;
        while start < order.len() && spent < budget {
            let end = (start + chunk).min(order.len());
            let mut trial = specs.clone();
            for &call in &order[start..end] {
                let Some(pos) = trial.iter().position(|s| std::ptr::eq(s.call, call)) else {
                    continue;
                };
                if changed_nothing(trial[pos].call) {
                    trial.remove(pos);
                } else {
                    trial[pos].role = Role::Context;
                }
            }
            let steps = TRIAL_BUDGET.min(budget - spent);
            let result = decide(
                &trial,
                Limits {
                    steps,
                    bytes: trial_bytes,
                },
            );
            spent += result.steps;
            if result.verdict == Verdict::NotLinearizable {
                specs = trial;
                order.drain(start..end);
                shrunk = true;
            } else {
                start = end;
            }
        }
        // A long cut that no quarter or half of its calls could leave
        // shrinks no further in its budget (seen on thousands of appends
        // to one value: every trial gave up).
        let stalled = long.is_some() && !shrunk && chunk <= order.len() / 4;
        if chunk == 1 || spent >= budget || stalled {
            break;
        }
        chunk /= 2;
    }
    let mut core: Vec<&Call> = specs
        .iter()
        .filter(|s| s.role == Role::Checked)
        .map(|s| s.call)
        .collect();
    if let Some(prefix) = long.filter(|_| core.len() > LONG_CORE_LIMIT) {
        return explain_long(key, &prefix, &stuck, cut_time, before, hi == 0);
    }
    crate::sort::sort_by_key(&mut core, |c| (c.invoke_us, c.id));
    // Everything else left is a write that may or may not have happened.
    let context: Vec<&Call> = specs
        .iter()
        .filter(|s| s.role != Role::Checked)
        .map(|s| s.call)
        .collect();
    // Open calls (unreturned, or returning after the cut) may take effect
    // at any time after their invocation.
    let open = |c: &Call| {
        specs
            .iter()
            .any(|s| std::ptr::eq(s.call, c) && s.role == Role::Pending)
    };
    let mut text = explain_core(key, &core, all, &context);
    match context.as_slice() {
        [] => {}
        [w] => text.push_str(&format!(
            "\nAlso taken into account: the one other write on {key:?} up to then, {}, \
             which might or might not have taken effect {}, whatever it returned; that \
             cannot make these results fit.",
            label(w),
            if open(w) {
                "at any time after it was invoked"
            } else {
                "while it ran"
            },
        )),
        many => {
            let open_note = if many.iter().any(|c| open(c)) {
                " (one with no answer by then: at any time after it was invoked)"
            } else {
                ""
            };
            text.push_str(&format!(
                "\nAlso taken into account: the other {} writes on {key:?} up to then, each \
                 of which might or might not have taken effect while it ran{open_note}, \
                 whatever it returned; no combination of them makes these results fit.",
                many.len()
            ));
            if many.len() <= 5 {
                let listed: Vec<String> = many.iter().map(|c| label(c)).collect();
                text.push_str(&format!(" They are: {}.", listed.join("; ")));
            }
        }
    }
    Violation {
        key: key.to_string(),
        calls: core.into_iter().cloned().collect(),
        explanation: text,
    }
}

/// The explanation for a cut too long to shrink.
/// The explanation for a cut too long to shrink. `before` is the latest cut
/// known to be linearizable, and whether it is the one just before `cut`;
/// `first` says `cut` is the earliest cut of all.
fn explain_long(
    key: &str,
    prefix: &[Spec<'_>],
    stuck: &[&Call],
    cut: Option<u64>,
    before: Option<(u64, bool)>,
    first: bool,
) -> Violation {
    let mut picked: Vec<&Call> = stuck.to_vec();
    if let Some(first) = stuck.first() {
        let (inv, ret) = (first.invoke_us, first.return_us.unwrap_or(u64::MAX));
        let mut overlapping: Vec<&Call> = prefix
            .iter()
            .filter(|s| s.role == Role::Checked && s.call.invoke_us <= ret && s.ret >= inv)
            .map(|s| s.call)
            .filter(|&c| !stuck.iter().any(|&s| std::ptr::eq(s, c)))
            .collect();
        crate::sort::sort_by_key(&mut overlapping, |c| (c.invoke_us, c.id));
        let skip = overlapping.len().saturating_sub(6);
        picked.extend(overlapping.into_iter().skip(skip));
        let last_write = prefix
            .iter()
            .filter(|s| s.role == Role::Checked && s.ret < inv && !changed_nothing(s.call))
            .max_by_key(|s| (s.ret, s.call.id))
            .map(|s| s.call);
        if let Some(w) = last_write {
            picked.push(w);
        }
    }
    crate::sort::sort_by_key(&mut picked, |c| (c.invoke_us, c.id));
    picked.dedup_by(|a, b| std::ptr::eq(*a, *b));
    let mut text = match (stuck.first(), cut, before) {
        (Some(c), _, Some((t, true))) => format!(
            "The calls on {key:?} that returned by {} ms can be put in a valid order, but no \
             such order also fits {}, which {}.",
            ms(t),
            label(c),
            result_text(c)
        ),
        (Some(c), Some(cut), Some((t, false))) => format!(
            "The calls on {key:?} that returned by {} ms can be put in a valid order, but \
             those that returned by {} ms cannot; the last of them is {}, which {}.",
            ms(t),
            ms(cut),
            label(c),
            result_text(c)
        ),
        (Some(c), _, None) if first => format!(
            "Not even the first call on {key:?} to return, {}, which {}, can be placed.",
            label(c),
            result_text(c)
        ),
        (Some(c), Some(cut), _) => format!(
            "The calls on {key:?} that returned by {} ms cannot be put in any valid order; \
             the last of them is {}, which {}.",
            ms(cut),
            label(c),
            result_text(c)
        ),
        _ => format!("The calls on {key:?} cannot be put in any valid order."),
    };
    text.push_str(&format!(
        "\nUp to then {key:?} has {} calls, too many to shrink to a small core within \
         this checker's budget, so the calls listed are the ones nearest to it: those \
         overlapping it in time and the last write that finished before it started.",
        prefix.len()
    ));
    Violation {
        key: key.to_string(),
        calls: picked.into_iter().cloned().collect(),
        explanation: text,
    }
}

/// Words for a core of calls that cannot be ordered.
/// Words for a core of calls that cannot be ordered; `context` are the
/// writes that were allowed to happen or not.
fn explain_core(key: &str, core: &[&Call], all: &[&Call], context: &[&Call]) -> String {
    let producers = Producers::new(all.iter().copied());
    let mut text = String::new();
    match core {
        [c] => {
            text.push_str(&format!("{} {}", label(c), result_text(c)));
            // The value, if only calls invoked after `c` returned could
            // produce it: a read from the future.
            let early = Producers::new(all.iter().copied().filter(|w| !finished_before(c, w)));
            let late = all.iter().find(|w| {
                finished_before(c, w) && written(w).is_some() && written(w) == observed(c).flatten()
            });
            match observed(c) {
                Some(Some(v)) if !producers.can_produce(v) => {
                    text.push_str(&format!(", but {}.", never_written(key, v, &producers)))
                }
                Some(Some(v)) if !early.can_produce(v) => {
                    text.push_str(&format!(
                        ", but nothing on {key:?} invoked before it returned could produce \
                         that value"
                    ));
                    match late {
                        Some(w) => text.push_str(&format!(
                            "; the first write of it, {}, started only afterwards.",
                            label(w)
                        )),
                        None => text.push('.'),
                    }
                }
                _ if context.is_empty() => text.push_str(&format!(
                    ", but nothing on {key:?} can produce that result."
                )),
                _ => text.push_str(&format!(
                    ", but no combination of the other writes on {key:?} produces that result."
                )),
            }
        }
        [a, b] if finished_before(a, b) => {
            let v = observed(a).flatten();
            if v.is_some() && v == written(b) {
                text.push_str(&format!(
                    "{} {}, before {}, which wrote it, had even started; nothing else on \
                     {key:?} could have put that value there by then.",
                    label(a),
                    result_text(a),
                    label(b)
                ));
            } else if !changed_nothing(a) {
                text.push_str(&format!(
                    "{} {}, but {} finished before it started, so it must come after that \
                     write, and nothing else on {key:?} can have landed in between to make \
                     that result possible.",
                    label(b),
                    result_text(b),
                    label(a)
                ));
            } else {
                text.push_str(&format!(
                    "{} {}, and {}, which started after it finished, {}; nothing else on \
                     {key:?} can have landed in between to make both results possible.",
                    label(a),
                    result_text(a),
                    label(b),
                    result_text(b)
                ));
            }
        }
        [a, b] => {
            let (ra, rb) = (result_text(a), result_text(b));
            let results = if ra == rb {
                format!("each {ra}")
            } else {
                format!("one {ra}, the other {rb}")
            };
            text.push_str(&format!(
                "{} and {} overlap in time, but in neither order do both get the results \
                 they returned ({results}).",
                label(a),
                label(b),
            ))
        }
        _ => {
            text.push_str(&format!(
                "No order of these {} calls on {key:?} respects both their times and their \
                 results:",
                core.len()
            ));
            for c in core {
                text.push_str(&format!("\n  - {} {}", label(c), result_text(c)));
            }
            let mut facts = Vec::new();
            for a in core {
                for b in core {
                    if finished_before(a, b) {
                        facts.push(format!("#{} finished before #{} started", a.id, b.id));
                    }
                }
            }
            if !facts.is_empty() {
                let more = facts.len().saturating_sub(8);
                facts.truncate(8);
                if more > 0 {
                    facts.push(format!("{more} more such"));
                }
                text.push_str(&format!("\nReal time forces: {}.", facts.join("; ")));
            }
            for c in core {
                if let Some(Some(v)) = observed(c) {
                    if !producers.can_produce(v) {
                        text.push_str(&format!(
                            "\n#{} saw {v:?}, but {}.",
                            c.id,
                            never_written(key, v, &producers)
                        ));
                    }
                }
            }
        }
    }
    if core.len() >= 2 {
        // Where a value seen came from, when the core leaves its only
        // write out (a read can be far from the write it saw).
        for c in core {
            let Some(Some(v)) = observed(c) else { continue };
            let mut writers = all.iter().filter(|w| written(w) == Some(v));
            if let (Some(w), None) = (writers.next(), writers.next()) {
                if !core.iter().any(|k| std::ptr::eq(*k, *w)) {
                    text.push_str(&format!(
                        "\n#{} saw {v:?}, which only {} wrote whole.",
                        c.id,
                        label(w)
                    ));
                }
            }
        }
    }
    text
}

fn finished_before(a: &Call, b: &Call) -> bool {
    a.return_us.is_some_and(|r| r < b.invoke_us)
}

/// The value a call saw, if its answer shows one (get, cas).
fn observed(call: &Call) -> Option<Option<&str>> {
    match &call.outcome {
        Some(OpResult::Value { value }) => Some(value.as_deref()),
        Some(OpResult::Cas { current, .. }) => Some(current.as_deref()),
        _ => None,
    }
}

/// The value a call wrote outright (put, successful cas).
fn written(call: &Call) -> Option<&str> {
    match (&*call.op, &call.outcome) {
        (Op::Put { value, .. }, _)
        | (Op::Cas { value, .. }, Some(OpResult::Cas { ok: true, .. })) => Some(value),
        _ => None,
    }
}

/// The values a set of calls could leave behind, in some order: a put or
/// cas of a prefix (or nothing), then appends that spell the rest.
struct Producers<'a> {
    starts: HashSet<&'a [u8]>,
    /// Distinct non-empty append suffixes, by length.
    suffixes: VecMap<usize, HashSet<&'a [u8]>>,
    empty_append: bool,
}

impl<'a> Producers<'a> {
    fn new(calls: impl IntoIterator<Item = &'a Call>) -> Self {
        let mut p = Producers {
            starts: HashSet::new(),
            suffixes: VecMap::new(),
            empty_append: false,
        };
        for c in calls {
            match &*c.op {
                Op::Put { value, .. } | Op::Cas { value, .. } => {
                    p.starts.insert(value.as_bytes());
                }
                Op::Append { value, .. } if value.is_empty() => p.empty_append = true,
                Op::Append { value, .. } => {
                    p.suffixes
                        .get_or_insert_with(value.len(), HashSet::new)
                        .insert(value.as_bytes());
                }
                Op::Get { .. } | Op::Delete { .. } => {}
            }
        }
        p
    }

    fn can_produce(&self, v: &str) -> bool {
        let v = v.as_bytes();
        if v.is_empty() {
            return self.starts.contains(v) || self.empty_append;
        }
        if self.starts.contains(v) {
            return true;
        }
        if self.suffixes.is_empty() {
            return false;
        }
        spells(
            v,
            |head| self.starts.contains(head),
            &self.suffixes,
            |set, piece| set.contains(piece),
        )
    }

    fn any_append(&self) -> bool {
        self.empty_append || !self.suffixes.is_empty()
    }
}

/// Whether `v` is a head that `start` accepts (or nothing) followed by
/// pieces that `has` finds in the sets of `pieces` (by length): the
/// spelling shared by [`Producers::can_produce`] and the per-step check of
/// `Sightings`. The whole of `v` as a head is the caller's to test.
fn spells<S>(
    v: &[u8],
    start: impl Fn(&[u8]) -> bool,
    pieces: &VecMap<usize, S>,
    has: impl Fn(&S, &[u8]) -> bool,
) -> bool {
    let mut reach = vec![false; v.len() + 1];
    reach[0] = true;
    for i in 1..v.len() {
        reach[i] = start(&v[..i]);
    }
    for i in 0..v.len() {
        if !reach[i] {
            continue;
        }
        for (&len, set) in pieces {
            if v.get(i..i + len).is_some_and(|piece| has(set, piece)) {
                reach[i + len] = true;
            }
        }
    }
    reach[v.len()]
}

/// A returned call that saw a value (get, cas) no call in `specs` can
/// produce: a quick, sound refutation.
fn impossible_read(specs: &[Spec<'_>]) -> bool {
    let mut producers: Option<Producers<'_>> = None;
    specs
        .iter()
        .filter(|s| s.role == Role::Checked)
        .any(|s| match observed(s.call) {
            Some(Some(v)) => !producers
                .get_or_insert_with(|| Producers::new(specs.iter().map(|s| s.call)))
                .can_produce(v),
            _ => false,
        })
}

/// Words for "no call wrote `v`".
fn never_written(key: &str, v: &str, producers: &Producers<'_>) -> String {
    if producers.any_append() {
        format!("no call on {key:?} ever wrote {v:?}, nor can its appends have built it")
    } else {
        format!("no call on {key:?} ever wrote {v:?}")
    }
}

/// Virtual microseconds as milliseconds with three decimals.
fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// A call's interval in words.
fn span(call: &Call) -> String {
    match call.return_us {
        Some(r) if call.outcome.is_some() => format!("{}–{} ms", ms(call.invoke_us), ms(r)),
        _ => format!("from {} ms, never returned", ms(call.invoke_us)),
    }
}

/// A call named for prose: `put "x" = "2" by C1 (#3, 10.000–20.000 ms)`.
fn label(call: &Call) -> String {
    format!(
        "{} by {} (#{}, {})",
        call.op,
        call.client,
        call.id,
        span(call)
    )
}

/// What a call returned, as a predicate: `returned "1"`.
fn result_text(call: &Call) -> String {
    match (&call.outcome, call.return_us) {
        (Some(r), Some(_)) => format!("returned {r}"),
        _ => "never returned".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(key: &str) -> Op {
        Op::Get { key: key.into() }
    }
    fn put(key: &str, v: &str) -> Op {
        Op::Put {
            key: key.into(),
            value: v.into(),
        }
    }
    fn append(key: &str, v: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: v.into(),
        }
    }
    fn delete(key: &str) -> Op {
        Op::Delete { key: key.into() }
    }
    fn cas(key: &str, expected: Option<&str>, v: &str) -> Op {
        Op::Cas {
            key: key.into(),
            expected: expected.map(String::from),
            value: v.into(),
        }
    }
    fn value(v: Option<&str>) -> OpResult {
        OpResult::Value {
            value: v.map(String::from),
        }
    }
    fn cas_result(ok: bool, current: Option<&str>) -> OpResult {
        OpResult::Cas {
            ok,
            current: current.map(String::from),
        }
    }

    /// (client, op, invoke ms, return ms, outcome); `None` return means the
    /// call never returned.
    type Row = (u32, Op, u64, Option<u64>, Option<OpResult>);

    /// Build a history from rows, ids in row order.
    fn history(calls: Vec<Row>) -> History {
        let mut h = History::default();
        for (client, op, inv, ret, out) in calls {
            let id = h.invoke(ClientId(client), Arc::new(op), inv * 1000);
            if let (Some(r), Some(o)) = (ret, out) {
                h.complete(id, r * 1000, o);
            }
        }
        h
    }

    fn violation(h: &History) -> Violation {
        match check(h) {
            Ok(()) => panic!("expected a violation in {h:?}"),
            Err(v) => v,
        }
    }

    fn ids(v: &Violation) -> Vec<u64> {
        v.calls.iter().map(|c| c.id).collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn empty_history_is_linearizable() {
        assert_eq!(check(&History::default()), Ok(()));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn sequential_history_is_linearizable() {
        let h = history(vec![
            (1, get("x"), 0, Some(1), Some(value(None))),
            (1, put("x", "1"), 2, Some(3), Some(OpResult::Ok)),
            (2, append("x", "2"), 4, Some(5), Some(OpResult::Ok)),
            (2, get("x"), 6, Some(7), Some(value(Some("12")))),
            (1, put("y", "a"), 8, Some(9), Some(OpResult::Ok)),
            (1, get("y"), 10, Some(11), Some(value(Some("a")))),
        ]);
        assert_eq!(check(&h), Ok(()));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn overlapping_puts_let_a_get_see_either() {
        for seen in ["1", "2"] {
            let h = history(vec![
                (1, put("x", "1"), 0, Some(10), Some(OpResult::Ok)),
                (2, put("x", "2"), 5, Some(15), Some(OpResult::Ok)),
                (3, get("x"), 20, Some(25), Some(value(Some(seen)))),
                (3, get("x"), 30, Some(35), Some(value(Some(seen)))),
            ]);
            assert_eq!(check(&h), Ok(()), "get saw {seen}");
        }
        // But two later reads cannot disagree.
        let h = history(vec![
            (1, put("x", "1"), 0, Some(10), Some(OpResult::Ok)),
            (2, put("x", "2"), 5, Some(15), Some(OpResult::Ok)),
            (3, get("x"), 20, Some(25), Some(value(Some("1")))),
            (3, get("x"), 30, Some(35), Some(value(Some("2")))),
        ]);
        let v = violation(&h);
        assert_eq!(v.key, "x");
        assert!(v.calls.len() <= 3, "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pending_put_seen_by_a_later_get_is_linearizable() {
        let h = history(vec![
            (1, put("x", "1"), 0, Some(5), Some(OpResult::Ok)),
            (2, put("x", "2"), 10, None, None),
            (3, get("x"), 20, Some(25), Some(value(Some("1")))),
            (3, get("x"), 100, Some(105), Some(value(Some("2")))),
        ]);
        assert_eq!(check(&h), Ok(()));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pending_put_never_seen_is_linearizable() {
        let h = history(vec![
            (1, put("x", "1"), 0, Some(5), Some(OpResult::Ok)),
            (2, put("x", "2"), 10, None, None),
            (2, append("x", "!"), 11, None, None),
            (3, get("x"), 20, Some(25), Some(value(Some("1")))),
            (3, get("x"), 100, Some(105), Some(value(Some("1")))),
            // An unreturned get is simply ignored.
            (4, get("x"), 110, None, None),
        ]);
        assert_eq!(check(&h), Ok(()));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pending_write_cannot_be_seen_before_it_was_invoked() {
        let h = history(vec![
            (3, get("x"), 0, Some(5), Some(value(Some("2")))),
            (2, put("x", "2"), 10, None, None),
        ]);
        let v = violation(&h);
        assert_eq!(ids(&v), vec![0], "{v}");
        assert!(v.explanation.contains("returned \"2\""), "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn cas_chains_are_linearizable() {
        let h = history(vec![
            (
                1,
                cas("x", None, "1"),
                0,
                Some(10),
                Some(cas_result(true, None)),
            ),
            (
                2,
                cas("x", None, "2"),
                2,
                Some(12),
                Some(cas_result(false, Some("1"))),
            ),
            (
                2,
                cas("x", Some("1"), "2"),
                13,
                Some(20),
                Some(cas_result(true, Some("1"))),
            ),
            (
                1,
                cas("x", Some("2"), "3"),
                15,
                Some(25),
                Some(cas_result(true, Some("2"))),
            ),
            (
                3,
                cas("x", Some("1"), "9"),
                16,
                Some(26),
                Some(cas_result(false, Some("3"))),
            ),
            (3, get("x"), 30, Some(31), Some(value(Some("3")))),
        ]);
        assert_eq!(check(&h), Ok(()));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn deletes_are_linearizable() {
        let h = history(vec![
            (
                1,
                delete("x"),
                0,
                Some(1),
                Some(OpResult::Deleted { existed: false }),
            ),
            (1, put("x", "1"), 2, Some(3), Some(OpResult::Ok)),
            (
                2,
                delete("x"),
                4,
                Some(10),
                Some(OpResult::Deleted { existed: true }),
            ),
            (
                3,
                delete("x"),
                5,
                Some(11),
                Some(OpResult::Deleted { existed: false }),
            ),
            (1, get("x"), 12, Some(13), Some(value(None))),
            (1, append("x", "a"), 14, Some(15), Some(OpResult::Ok)),
            (1, get("x"), 16, Some(17), Some(value(Some("a")))),
        ]);
        assert_eq!(check(&h), Ok(()));
        // Two deletes of one value cannot both find it.
        let h = history(vec![
            (1, put("x", "1"), 2, Some(3), Some(OpResult::Ok)),
            (
                2,
                delete("x"),
                4,
                Some(10),
                Some(OpResult::Deleted { existed: true }),
            ),
            (
                3,
                delete("x"),
                5,
                Some(11),
                Some(OpResult::Deleted { existed: true }),
            ),
        ]);
        let v = violation(&h);
        assert!(v.calls.len() <= 3, "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn stale_read_is_reported() {
        let h = history(vec![
            (1, put("x", "1"), 0, Some(5), Some(OpResult::Ok)),
            (1, put("x", "2"), 10, Some(20), Some(OpResult::Ok)),
            (2, get("x"), 40, Some(55), Some(value(Some("1")))),
            (3, put("y", "1"), 0, Some(100), Some(OpResult::Ok)),
        ]);
        let v = violation(&h);
        assert_eq!(v.key, "x");
        assert_eq!(ids(&v), vec![1, 2], "{v}");
        assert!(v.explanation.contains("finished before it started"), "{v}");
        assert!(v.explanation.contains("10.000–20.000 ms"), "{v}");
        assert!(
            v.explanation.contains("put \"x\" = \"1\""),
            "mentions the context: {v}"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn lost_write_is_reported() {
        let h = history(vec![
            (1, put("x", "0"), 0, Some(5), Some(OpResult::Ok)),
            (1, put("x", "1"), 10, Some(20), Some(OpResult::Ok)),
            (2, append("x", "+"), 21, Some(24), Some(OpResult::Ok)),
            (3, get("x"), 30, Some(35), Some(value(Some("1")))),
        ]);
        let v = violation(&h);
        assert_eq!(v.key, "x");
        assert_eq!(ids(&v), vec![2, 3], "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn cas_seeing_a_value_never_written_is_reported() {
        let h = history(vec![
            (1, put("x", "1"), 0, Some(5), Some(OpResult::Ok)),
            (
                2,
                cas("x", Some("1"), "2"),
                10,
                Some(20),
                Some(cas_result(false, Some("7"))),
            ),
        ]);
        let v = violation(&h);
        assert_eq!(ids(&v), vec![1], "{v}");
        assert!(v.explanation.contains("ever wrote \"7\""), "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn append_applied_twice_is_reported() {
        let h = history(vec![
            (1, append("x", "x"), 0, Some(10), Some(OpResult::Ok)),
            (2, get("x"), 20, Some(30), Some(value(Some("xx")))),
        ]);
        let v = violation(&h);
        assert_eq!(v.key, "x");
        assert!(!v.calls.is_empty() && v.calls.len() <= 2, "{v}");
        assert!(v.to_string().contains("append \"x\" += \"x\""), "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn concurrent_cas_cannot_both_win() {
        let h = history(vec![
            (
                1,
                cas("x", None, "1"),
                0,
                Some(10),
                Some(cas_result(true, None)),
            ),
            (
                2,
                cas("x", None, "2"),
                5,
                Some(15),
                Some(cas_result(true, None)),
            ),
        ]);
        let v = violation(&h);
        assert_eq!(ids(&v), vec![0, 1], "{v}");
        assert!(v.explanation.contains("overlap in time"), "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn violation_names_the_right_key() {
        let h = history(vec![
            (1, put("a", "1"), 0, Some(5), Some(OpResult::Ok)),
            (2, put("b", "1"), 0, Some(5), Some(OpResult::Ok)),
            (1, get("a"), 10, Some(15), Some(value(Some("1")))),
            (2, get("b"), 10, Some(15), Some(value(None))),
            (3, put("c", "1"), 0, Some(5), Some(OpResult::Ok)),
            (3, get("c"), 10, Some(15), Some(value(Some("1")))),
        ]);
        let v = violation(&h);
        assert_eq!(v.key, "b");
        assert_eq!(ids(&v), vec![1, 3], "{v}");
        assert!(v.calls.iter().all(|c| c.op.key() == "b"));
    }

    /// [`check_bounded`] gives up on a key when its steps or its memory run
    /// out, says which key and how far it got, and still reports a
    /// violation on another key first; without limits it decides.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bounded_check_gives_up_undecided() {
        // Linearizable, and every call takes a step to place: 2,000 calls
        // from 8 clients on one key need more than 50 steps, and over 1,024
        // (when the memory estimate is first taken) to decide.
        let h = generate_random_history(3, 2_000, 8, 1);
        let key = h.calls[0].op.key().to_string();
        assert_eq!(check(&h), Ok(()));
        assert_eq!(check_bounded(&h, Limits::default()), Ok(()));
        assert_eq!(check_bounded(&h, Limits::NONE), Ok(()));
        let steps = Limits {
            steps: 50,
            bytes: u64::MAX,
        };
        let Err(CheckError::Undecided(u)) = check_bounded(&h, steps) else {
            panic!("50 steps decided 2,000 calls")
        };
        assert_eq!(
            (u.key.as_str(), u.calls, u.steps),
            (key.as_str(), 2_000, 50)
        );
        assert!(u.most_concurrent >= 2, "{u:?}");
        let most = u.most_concurrent;
        let text = CheckError::Undecided(u).to_string();
        assert!(
            text.starts_with(&format!("linearizability undecided on key {key:?}")),
            "{text}"
        );
        assert!(
            text.contains("after 50 steps") && text.contains(&format!("up to {most} at once")),
            "{text}"
        );
        let memory = Limits {
            steps: u64::MAX,
            bytes: 1,
        };
        let Err(CheckError::Undecided(u)) = check_bounded(&h, memory) else {
            panic!("decided within a byte")
        };
        assert!(u.bytes > 1, "{u:?}");
        // A violation on another key wins over an undecided key, whatever
        // the key order.
        let mut bad = h.clone();
        let put = bad.invoke(ClientId(9), Arc::new(put("a", "1")), 0);
        bad.complete(put, 1_000, OpResult::Ok);
        let get = bad.invoke(ClientId(9), Arc::new(get("a")), 2_000);
        bad.complete(get, 3_000, value(None));
        match check_bounded(&bad, steps) {
            Err(CheckError::Violation(v)) => assert_eq!(v.key, "a"),
            other => panic!("{other:?}"),
        }
        let renamed = History {
            calls: bad
                .calls
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    if c.op.key() == "a" {
                        c.op = Arc::new(match &*c.op {
                            Op::Put { value, .. } => Op::Put {
                                key: "z".into(),
                                value: value.clone(),
                            },
                            _ => Op::Get { key: "z".into() },
                        });
                    }
                    c
                })
                .collect(),
        };
        match check_bounded(&renamed, steps) {
            Err(CheckError::Violation(v)) => assert_eq!(v.key, "z"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn display_is_readable() {
        let h = history(vec![
            (1, put("x", "1"), 0, Some(5), Some(OpResult::Ok)),
            (1, put("x", "2"), 10, Some(20), Some(OpResult::Ok)),
            (2, get("x"), 40, Some(55), Some(value(Some("1")))),
        ]);
        let text = violation(&h).to_string();
        assert!(
            text.starts_with("linearizability violation on key \"x\":\n"),
            "{text}"
        );
        assert!(
            text.contains("#2 get \"x\" by C2, 40.000–55.000 ms, returned \"1\""),
            "{text}"
        );
        assert!(text.lines().count() >= 4, "{text}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn model_agrees_with_kv_store() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut below = |n: u64| rng.next_u64() % n;
        let values = ["", "a", "ab", "b"];
        // Refused whatever the value (empty and absent ones included).
        let too_long = "y".repeat(MAX_STORED_VALUE_LEN + 1);
        for _ in 0..2_000 {
            let start = match below(6) {
                0 => None,
                1 => Some("x".repeat(MAX_STORED_VALUE_LEN)),
                v => Some(values[v as usize - 2].to_string()),
            };
            let pick = |r: u64| values[r as usize % values.len()];
            let op = match below(5) {
                0 => get("k"),
                1 => put("k", pick(below(4))),
                2 if below(4) == 0 => append("k", &too_long),
                2 => append("k", pick(below(4))),
                3 => delete("k"),
                _ => {
                    let e = below(5);
                    cas("k", (e < 4).then(|| pick(e)), pick(below(4)))
                }
            };
            let mut store = KvStore::new();
            if let Some(s) = &start {
                store.execute(&put("k", s));
            }
            let result = store.execute(&op);
            let after = store.get("k").cloned();
            let call = Call {
                id: 0,
                client: ClientId(1),
                op: Arc::new(op.clone()),
                invoke_us: 0,
                return_us: Some(1),
                outcome: Some(result.clone()),
            };
            let spec = [Spec {
                call: &call,
                ret: 1,
                role: Role::Checked,
            }];
            let mut model = Model::new(&spec, false);
            let s = model.states.id(start.as_deref());
            let next = model.step(0, s, true);
            assert!(next.is_some(), "{op} from {start:?} should give {result}");
            let got = next.and_then(|n| model.states.value(n).map(String::from));
            assert_eq!(got, after, "{op} from {start:?}");
            // Any other answer is rejected.
            for wrong in [
                OpResult::Ok,
                value(Some("zz")),
                OpResult::TooLarge,
                cas_result(true, None),
            ] {
                if wrong != result {
                    let call = Call {
                        outcome: Some(wrong.clone()),
                        ..call.clone()
                    };
                    let spec = [Spec {
                        call: &call,
                        ret: 1,
                        role: Role::Checked,
                    }];
                    let mut model = Model::new(&spec, false);
                    let s = model.states.id(start.as_deref());
                    assert_eq!(model.step(0, s, true), None, "{op} from {start:?}: {wrong}");
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn random_histories_are_linearizable() {
        for seed in 0..20 {
            let keys = 1 + (seed as usize % 4);
            let h = generate_random_history(seed, 300, 2 + seed as usize % 6, keys);
            assert_eq!(h.calls.len(), 300);
            if let Err(v) = check(&h) {
                panic!("seed {seed}: {v}");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn generator_is_deterministic_and_well_formed() {
        let a = generate_random_history(42, 500, 5, 3);
        assert_eq!(a, generate_random_history(42, 500, 5, 3));
        assert_ne!(a, generate_random_history(43, 500, 5, 3));
        let mut busy_until: std::collections::BTreeMap<ClientId, u64> =
            std::collections::BTreeMap::new();
        for (i, c) in a.calls.iter().enumerate() {
            assert_eq!(c.id, i as u64);
            assert!(c.invoke_us >= busy_until.get(&c.client).copied().unwrap_or(0));
            assert_eq!(c.return_us.is_some(), c.outcome.is_some());
            busy_until.insert(c.client, c.return_us.unwrap_or(c.invoke_us));
        }
        assert!(a.calls.windows(2).all(|w| w[0].invoke_us <= w[1].invoke_us));
        assert!(
            a.calls.iter().any(|c| c.return_us.is_none()),
            "some calls never return"
        );
        assert!(a
            .calls
            .iter()
            .any(|c| matches!(c.outcome, Some(OpResult::Cas { ok: true, .. }))));
    }

    /// Linearizability straight from the definition, by trying every order:
    /// the oracle for [`search`] on small histories. Checked calls must all
    /// be placed, after every checked call that returned before they were
    /// invoked, with their recorded results; context and pending calls may
    /// be placed (then with any result) or not.
    fn brute_force(specs: &[Spec<'_>], used: &mut [u8], store: &KvStore) -> bool {
        let n = specs.len();
        if (0..n).all(|i| specs[i].role != Role::Checked || used[i] == 1) {
            return true;
        }
        for c in 0..n {
            let inv = specs[c].call.invoke_us;
            if used[c] != 0
                || (0..n)
                    .any(|d| used[d] == 0 && specs[d].role == Role::Checked && specs[d].ret < inv)
            {
                continue;
            }
            let mut next = store.clone();
            let result = next.execute(&specs[c].call.op);
            if specs[c].role == Role::Checked && Some(&result) != specs[c].call.outcome.as_ref() {
                continue;
            }
            // Optional calls that returned before this one started can no
            // longer be placed.
            let dead: Vec<usize> = (0..n)
                .filter(|&d| used[d] == 0 && d != c && specs[d].ret < inv)
                .collect();
            used[c] = 1;
            dead.iter().for_each(|&d| used[d] = 2);
            let ok = brute_force(specs, used, &next);
            used[c] = 0;
            dead.iter().for_each(|&d| used[d] = 0);
            if ok {
                return true;
            }
        }
        false
    }

    /// A small random one-key history: results from a random linearization,
    /// then often one result changed at random, some calls never returning.
    fn small_history(rng: &mut Xoshiro256PlusPlus) -> History {
        random_history(rng, 6, &["a", "b", ""], 20)
    }

    /// [`small_history`] with 2 to `1 + max_calls` calls writing `vals`,
    /// invoked in the first `span` µs.
    fn random_history(
        rng: &mut Xoshiro256PlusPlus,
        max_calls: u64,
        vals: &[&str],
        span: u64,
    ) -> History {
        let mut below = |n: u64| rng.next_u64() % n;
        let n = 2 + below(max_calls) as usize;
        let mut calls = Vec::new();
        for id in 0..n {
            let v = vals[below(vals.len() as u64) as usize];
            let op = match below(6) {
                0 | 1 => get("k"),
                2 => put("k", v),
                3 => append("k", v),
                4 => delete("k"),
                _ => cas("k", [Some("a"), Some("b"), None][below(3) as usize], v),
            };
            let invoke_us = below(span);
            let ret = invoke_us + below(8);
            calls.push((
                Call {
                    id: id as u64,
                    client: ClientId(1 + id as u32 % 3),
                    op: Arc::new(op),
                    invoke_us,
                    return_us: Some(ret),
                    outcome: None,
                },
                invoke_us + below(ret - invoke_us + 1),
            ));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (calls[i].1, i));
        let mut store = KvStore::new();
        for i in order {
            calls[i].0.outcome = Some(store.execute(&calls[i].0.op));
        }
        let mut calls: Vec<Call> = calls.into_iter().map(|(c, _)| c).collect();
        if below(2) == 0 {
            let i = below(n as u64) as usize;
            let v = [None, Some("a"), Some("b"), Some("ab"), Some("")][below(5) as usize];
            calls[i].outcome = Some(match below(5) {
                0 => value(v),
                1 => OpResult::Ok,
                2 => OpResult::Deleted {
                    existed: below(2) == 0,
                },
                3 => cas_result(below(2) == 0, v),
                _ => OpResult::TooLarge,
            });
        }
        for c in &mut calls {
            if below(5) == 0 {
                c.return_us = None;
                c.outcome = None;
            }
        }
        calls.sort_by_key(|c| (c.invoke_us, c.id));
        History { calls }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn search_agrees_with_brute_force() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let (mut good, mut bad) = (0, 0);
        for case in 0..3_000 {
            let h = small_history(&mut rng);
            let calls: Vec<&Call> = h.calls.iter().collect();
            let mut specs = base_specs(&calls);
            // Sometimes make returned calls context, as shrinking does.
            for s in specs.iter_mut() {
                if s.role == Role::Checked && rng.next_u64() % 4 == 0 {
                    s.role = Role::Context;
                }
            }
            let expected = brute_force(&specs, &mut vec![0; specs.len()], &KvStore::new());
            let want = if expected {
                Verdict::Linearizable
            } else {
                Verdict::NotLinearizable
            };
            assert_eq!(
                search(&specs, Limits::NONE).verdict,
                want,
                "case {case} search: {specs:#?}"
            );
            assert_eq!(
                decide(&specs, Limits::NONE).verdict,
                want,
                "case {case} decide: {specs:#?}"
            );
            if specs.iter().all(|s| s.role != Role::Context) {
                assert_eq!(check(&h).is_ok(), expected, "case {case}: {h:?}");
            }
            if expected {
                good += 1;
            } else {
                bad += 1;
            }
        }
        assert!(good > 500 && bad > 500, "{good} linearizable, {bad} not");
    }

    /// The [`Sightings`] pruning never changes a verdict: on histories too
    /// large to brute-force (up to 15 calls on one key, values that are
    /// prefixes of one another, appends, unreturned calls, context calls),
    /// the search agrees with itself without the pruning.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pruning_on_what_calls_saw_keeps_every_verdict() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let vals = ["a", "b", "ab", "ba", "", "[1]", "[2]"];
        let (mut good, mut bad) = (0, 0);
        let (mut steps_with, mut steps_without) = (0, 0);
        for case in 0..5_000 {
            let h = random_history(&mut rng, 18, &vals, 50);
            let calls: Vec<&Call> = h.calls.iter().collect();
            let mut specs = base_specs(&calls);
            for s in specs.iter_mut() {
                if s.role == Role::Checked && rng.next_u64() % 8 == 0 {
                    s.role = Role::Context;
                }
            }
            let with = search_with(&specs, Limits::NONE, true);
            let without = search_with(&specs, Limits::NONE, false);
            assert_eq!(with.verdict, without.verdict, "case {case}: {specs:#?}");
            steps_with += with.steps;
            steps_without += without.steps;
            match with.verdict {
                Verdict::Linearizable => good += 1,
                _ => bad += 1,
            }
        }
        assert!(good > 400 && bad > 400, "{good} linearizable, {bad} not");
        assert!(
            steps_with < steps_without,
            "{steps_with} steps with the pruning, {steps_without} without"
        );
    }

    /// A value built by thousands of appends, of suffixes that spell it in
    /// exponentially many ways ("a" and "aa"), is checked at once, right
    /// and wrong: [`Sightings`] leaves such a target untracked rather than
    /// recursing once per append or trying every spelling.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn long_append_chains_are_checked() {
        let mut h = History::default();
        let mut whole = String::new();
        let mut before_last = String::new();
        for i in 0..3_000u64 {
            let v = if i % 3 == 0 { "aa" } else { "a" };
            let id = h.invoke(ClientId(1), Arc::new(append("k", v)), 2 * i);
            h.complete(id, 2 * i + 1, OpResult::Ok);
            before_last.clone_from(&whole);
            whole.push_str(v);
        }
        let id = h.invoke(ClientId(2), Arc::new(get("k")), 6_000);
        h.complete(id, 6_001, value(Some(&whole)));
        assert_eq!(check(&h), Ok(()));
        let id = h.invoke(ClientId(2), Arc::new(get("k")), 6_002);
        h.complete(id, 6_003, value(Some(&before_last)));
        let v = violation(&h);
        assert_eq!(ids(&v).last(), Some(&3_001), "{v}");
    }

    /// Appends whose results nobody sees merge into one state
    /// ([`OPAQUE`]), like writes of unseen values: a get sees "x", twelve
    /// clients append distinct suffixes to it at once, a put of "y"
    /// follows, then a delete that says the key was absent, which no order
    /// allows. Every order of the appends is another value, none of them
    /// one anyone saw or a prefix of one, and no get is left to prune on
    /// ([`Sightings`]), so kept apart they are over a billion
    /// configurations to refute; merged, a few thousand.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn appends_nobody_sees_are_merged() {
        let build = |existed: bool| {
            let mut rows: Vec<Row> = vec![
                (1, put("k", "x"), 0, Some(1), Some(OpResult::Ok)),
                (2, get("k"), 2, Some(3), Some(value(Some("x")))),
            ];
            for c in 0..12 {
                let suffix = format!("[{c}]");
                rows.push((
                    10 + c,
                    append("k", &suffix),
                    10,
                    Some(20),
                    Some(OpResult::Ok),
                ));
            }
            rows.push((30, put("k", "y"), 30, Some(31), Some(OpResult::Ok)));
            rows.push((
                31,
                delete("k"),
                40,
                Some(41),
                Some(OpResult::Deleted { existed }),
            ));
            history(rows)
        };
        let limits = Limits {
            steps: 100_000,
            bytes: u64::MAX,
        };
        for (existed, want) in [
            (true, Verdict::Linearizable),
            (false, Verdict::NotLinearizable),
        ] {
            let h = build(existed);
            let calls: Vec<&Call> = h.calls.iter().collect();
            let found = search(&base_specs(&calls), limits);
            assert_eq!(
                found.verdict, want,
                "delete found the key: {existed}: {found:?}"
            );
        }
        // The core: any write that returned before the delete began.
        let v = violation(&build(false));
        assert_eq!((ids(&v).len(), ids(&v).last()), (2, Some(&15)), "{v}");
    }

    /// Calls that act alike are tried in the order of their returns
    /// ([`Alike`]): sixteen clients put values nobody reads, all at once
    /// and for long, while six deletes one after the other each find the
    /// key; then a put of "z" and a delete that says the key was absent,
    /// which no order allows. Any put can come before any delete, so kept
    /// apart, every subset of the puts before every delete is another
    /// configuration to refute (7.9 million steps); taken in return order,
    /// 1,420. Also, twenty appends of suffixes nobody's value
    /// contains act like those puts; a get that saw a value with one of
    /// them keeps that one apart.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn calls_that_act_alike_are_taken_in_return_order() {
        let build = |existed: bool, appends: bool| {
            let mut rows: Vec<Row> = Vec::new();
            for c in 0..16 {
                let v = format!("v{c}");
                let op = if appends && c % 2 == 0 {
                    append("k", &format!("[{v}]"))
                } else {
                    put("k", &v)
                };
                rows.push((c, op, 10, Some(100 + u64::from(c)), Some(OpResult::Ok)));
            }
            for d in 0..6 {
                let at = 20 + 10 * u64::from(d);
                rows.push((
                    100 + d,
                    delete("k"),
                    at,
                    Some(at + 1),
                    Some(OpResult::Deleted { existed: true }),
                ));
            }
            rows.push((200, put("k", "z"), 120, Some(121), Some(OpResult::Ok)));
            rows.push((
                201,
                delete("k"),
                122,
                Some(123),
                Some(OpResult::Deleted { existed }),
            ));
            history(rows)
        };
        let limits = Limits {
            steps: 10_000,
            bytes: u64::MAX,
        };
        for appends in [false, true] {
            for (existed, want) in [
                (true, Verdict::Linearizable),
                (false, Verdict::NotLinearizable),
            ] {
                let h = build(existed, appends);
                let calls: Vec<&Call> = h.calls.iter().collect();
                let found = search(&base_specs(&calls), limits);
                assert_eq!(
                    found.verdict, want,
                    "appends {appends}, found the key {existed}: {found:?}"
                );
            }
        }
        // A get that saw "[v0]" tells that append apart from the others:
        // it must come right after a delete and before the get, and it
        // does.
        let mut h = build(true, true);
        let id = h.invoke(ClientId(9), Arc::new(get("k")), 35_000);
        h.complete(id, 36_000, value(Some("[v0]")));
        assert_eq!(check(&h), Ok(()));
        let calls: Vec<&Call> = h.calls.iter().collect();
        assert_eq!(
            search(&base_specs(&calls), limits).verdict,
            Verdict::Linearizable
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn generator_is_the_same_on_every_platform() {
        // FNV-1a of the exported JSON; the same natively and in wasm.
        let json = generate_random_history(42, 500, 5, 3).to_json();
        let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        assert_eq!(hash, 0x15fc_bce0_0575_6478, "{hash:#x}");
    }

    /// Make one returned get in the second half read a value nobody wrote.
    fn mutate_a_get(h: &mut History) -> (u64, String) {
        let half = h.calls.len() / 2;
        let c = h.calls[half..]
            .iter_mut()
            .find(|c| c.op.is_read() && c.outcome.is_some())
            .expect("a returned get");
        c.outcome = Some(value(Some("never written")));
        (c.id, c.op.key().to_string())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn mutated_random_get_is_reported() {
        for seed in 0..5 {
            let mut h = generate_random_history(seed, 1_000, 5, 10);
            let (id, key) = mutate_a_get(&mut h);
            let v = violation(&h);
            assert_eq!(v.key, key, "seed {seed}: {v}");
            assert_eq!(ids(&v), vec![id], "seed {seed}: {v}");
            assert!(
                v.explanation.contains("ever wrote \"never written\""),
                "{v}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn subtle_stale_read_in_random_history_is_shrunk() {
        // Make a late get return the value its key held before the last
        // write that finished before the get started.
        let mut h = generate_random_history(9, 400, 4, 2);
        let target = (h.calls.len() / 2..h.calls.len()).find_map(|g| {
            let c = &h.calls[g];
            if !c.op.is_read() || c.outcome.is_none() {
                return None;
            }
            let w = h.calls[..g].iter().rev().find(|w| {
                w.op.key() == c.op.key()
                    && matches!(*w.op, Op::Put { .. })
                    && w.return_us.is_some_and(|r| r < c.invoke_us)
            })?;
            let Op::Put { value: new, .. } = &*w.op else {
                return None;
            };
            let earlier = h.calls[..w.id as usize]
                .iter()
                .rev()
                .find_map(|p| match &*p.op {
                    Op::Put { key, value }
                        if key == c.op.key()
                            && value != new
                            && p.return_us.is_some_and(|r| r < w.invoke_us) =>
                    {
                        Some(value.clone())
                    }
                    _ => None,
                })?;
            Some((g, earlier))
        });
        let (g, stale) = target.expect("a get to mutate");
        h.calls[g].outcome = Some(value(Some(&stale)));
        let v = violation(&h);
        assert_eq!(v.key, h.calls[g].op.key());
        assert!(v.calls.len() <= 4, "{v}");
        assert!(v.calls.iter().any(|c| c.id == g as u64), "{v}");
    }

    /// Plant a stale read in `h`: the last returned get whose key had two
    /// puts of different values finish before it started now reads the
    /// older. Returns the get's position, if there is such a get.
    fn plant_stale_read(h: &mut History) -> Option<usize> {
        let (g, stale) = (0..h.calls.len()).rev().find_map(|g| {
            let c = &h.calls[g];
            if !c.op.is_read() || c.outcome.is_none() {
                return None;
            }
            let mut puts = h.calls[..g].iter().rev().filter_map(|w| match &*w.op {
                Op::Put { key, value }
                    if key == c.op.key() && w.return_us.is_some_and(|r| r < c.invoke_us) =>
                {
                    Some(value.clone())
                }
                _ => None,
            });
            let newest = puts.next()?;
            Some((g, puts.find(|v| *v != newest)?))
        })?;
        h.calls[g].outcome = Some(value(Some(&stale)));
        Some(g)
    }

    /// A stale read late in a long, busy history (a get made to return the
    /// value its key held two writes earlier) is shrunk to a handful of
    /// calls, not dozens: runs of calls are dropped at once before single
    /// calls (one call per trial ran out of budget with up to 98 calls
    /// left on histories like these).
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn stale_reads_in_busy_histories_shrink_to_a_few_calls() {
        let mut checked = 0;
        for seed in 0..8 {
            let mut h = generate_random_history(100 + seed, 800, 5, 5);
            if plant_stale_read(&mut h).is_none() {
                continue;
            }
            let Err(v) = check(&h) else { continue };
            checked += 1;
            assert!(
                v.calls.len() <= 12,
                "seed {seed}: {} calls: {v}",
                v.calls.len()
            );
        }
        assert!(
            checked >= 5,
            "only {checked} histories made non-linearizable"
        );
    }

    /// An explanation's searches keep to the check's memory limit: with
    /// room for nothing, no cut probe or shrink trial decides, and the
    /// violation is told on more calls instead of searched without bound;
    /// with the default limit, it shrinks as without one. (Not with just
    /// the memory the check used: a shrink trial turns calls into
    /// context, which may or may not take effect, and can need more.)
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn explanations_keep_to_the_memory_limit() {
        let mut h = generate_random_history(101, 150, 4, 3);
        let g = plant_stale_read(&mut h).expect("a get after two puts");
        let (id, key) = (h.calls[g].id, h.calls[g].op.key().to_string());
        let (k, calls) = partition(&h)
            .into_iter()
            .find(|(k, _)| *k == key)
            .expect("the key");
        let specs = base_specs(&calls);
        let found = decide(&specs, Limits::NONE);
        assert_eq!(found.verdict, Verdict::NotLinearizable);
        let unbounded = explain(k, &calls, &specs, found, u64::MAX);
        let enough = explain(k, &calls, &specs, found, Limits::default().bytes);
        let none = explain(k, &calls, &specs, found, 1);
        assert_eq!(enough, unbounded);
        for v in [&unbounded, &none] {
            assert!(v.calls.iter().any(|c| c.id == id), "{v}");
        }
        assert!(
            unbounded.calls.len() < none.calls.len(),
            "{} calls, and {} with no memory",
            unbounded.calls.len(),
            none.calls.len()
        );
    }

    /// A failure in a cut longer than [`MINIMIZE_LIMIT`] is shrunk too
    /// (within `LONG_SHRINK_BUDGET`): a get of a value nobody wrote, late
    /// in 1,000 calls on one key, is told as that one call.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn long_history_failures_shrink_to_a_core() {
        let mut h = generate_random_history(3, 1_000, 4, 1);
        let (id, key) = mutate_a_get(&mut h);
        let v = violation(&h);
        assert_eq!(v.key, key);
        assert_eq!(ids(&v), vec![id], "{v}");
        assert!(v.explanation.contains("no call on"), "{v}");
    }

    /// A core that leaves out the only write of a value one of its calls
    /// saw says which write that was: here a get of "c" long after the
    /// get that saw "x", where only the first put wrote "c".
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn explanations_name_the_only_write_of_a_value_seen() {
        let h = history(vec![
            (1, put("k", "c"), 0, Some(1), Some(OpResult::Ok)),
            (2, put("k", "x"), 2, Some(3), Some(OpResult::Ok)),
            (3, get("k"), 4, Some(5), Some(value(Some("x")))),
            (4, get("k"), 10, Some(11), Some(value(Some("c")))),
        ]);
        let v = violation(&h);
        assert_eq!(ids(&v), vec![2, 3], "{v}");
        assert!(
            v.explanation
                .contains("#3 saw \"c\", which only put \"k\" = \"c\" by C1 (#0"),
            "{v}"
        );
    }

    /// When a long cut does not shrink to a small core within its budget,
    /// the report names the call that could not be placed and the calls
    /// nearest to it: 30 clients on one key, and a late get made to return
    /// the first value any get saw.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn long_history_reports_the_call_that_cannot_be_placed() {
        let mut h = generate_random_history(2, 2_000, 30, 1);
        let first_seen = h
            .calls
            .iter()
            .find_map(|c| match &c.outcome {
                Some(OpResult::Value { value: Some(v) }) => Some(v.clone()),
                _ => None,
            })
            .expect("a get that saw a value");
        let g = (h.calls.len() / 2..h.calls.len())
            .find(|&i| {
                matches!(&h.calls[i].outcome,
                    Some(OpResult::Value { value: Some(v) }) if *v != first_seen)
            })
            .expect("a later get");
        let id = h.calls[g].id;
        h.calls[g].outcome = Some(value(Some(&first_seen)));
        let v = violation(&h);
        assert!(v.calls.iter().any(|c| c.id == id), "{v}");
        assert!(v.calls.len() <= 8, "{v}");
        assert!(v.explanation.contains("nearest to it"), "{v}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn json_round_trip_gives_the_same_verdict() {
        let good = generate_random_history(11, 500, 4, 5);
        let back = History::from_json(&good.to_json()).expect("parses");
        assert_eq!(back, good);
        assert_eq!(check(&back), Ok(()));

        let mut bad = good.clone();
        mutate_a_get(&mut bad);
        let back = History::from_json(&bad.to_json()).expect("parses");
        assert_eq!(back, bad);
        assert_eq!(check(&back), check(&bad));
        assert!(check(&back).is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// The benchmark's history (10,000 calls, 10 clients, 100 keys) is
    /// linearizable and the checker says so; its time is measured by
    /// `make bench`, not here.
    fn ten_thousand_calls_check() {
        let h = generate_random_history(2024, 10_000, 10, 100);
        assert_eq!(check(&h), Ok(()));
        let mut bad = h.clone();
        mutate_a_get(&mut bad);
        assert!(check(&bad).is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// A history file from outside is read with a clear error, never a
    /// panic or a wrong verdict: not JSON, another format, a call that
    /// returns before it starts, an outcome without a return, an answer of
    /// the wrong kind.
    fn bad_history_files_are_refused() {
        use crate::check::history::HISTORY_FORMAT;
        let err = |text: &str| History::from_json(text).expect_err(text);
        assert!(err("").contains("not a history file"));
        assert!(err("{\"format\":\"other/1\",\"calls\":[]}").contains("unknown history format"));
        let call = |rest: &str| {
            format!(
                "{{\"format\":\"{HISTORY_FORMAT}\",\"calls\":[{{\"id\":3,\"client\":1,\"op\":\"put\",\"key\":\"x\",\"value\":\"1\",{rest}}}]}}"
            )
        };
        let ok = call("\"invoke_us\":5,\"return_us\":9,\"outcome\":{\"result\":\"ok\"}");
        assert_eq!(History::from_json(&ok).map(|h| h.calls.len()), Ok(1));
        let pending = call("\"invoke_us\":5,\"return_us\":null,\"outcome\":null");
        assert!(History::from_json(&pending).is_ok());
        assert!(err(&call(
            "\"invoke_us\":5,\"return_us\":4,\"outcome\":{\"result\":\"ok\"}"
        ))
        .contains("before it was invoked"));
        assert!(err(&call(
            "\"invoke_us\":5,\"return_us\":null,\"outcome\":{\"result\":\"ok\"}"
        ))
        .contains("no return time"));
        assert!(
            err(&call("\"invoke_us\":5,\"return_us\":9,\"outcome\":null")).contains("no outcome")
        );
        assert!(err(&call(
            "\"invoke_us\":5,\"return_us\":9,\"outcome\":{\"result\":\"deleted\",\"existed\":true}"
        ))
        .contains("cannot answer"));
    }
}

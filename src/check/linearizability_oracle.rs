//! A differential test of the linearizability checker
//! ([`check`](crate::check::linearizability::check)) against a brute-force
//! oracle.
//!
//! # The oracle
//!
//! [`oracle`] decides linearizability straight from the definition of
//! Herlihy & Wing ("Linearizability: A Correctness Condition for Concurrent
//! Objects", TOPLAS 12(3), 1990, §2): a history `H` is linearizable if it can
//! be extended, by giving some of its pending calls a response, to a history
//! `H'` such that the completed calls of `H'` can be put in one sequential
//! order `S` that is legal for the object and respects `H`'s real-time order
//! (if a call returned before another was invoked, it comes first in `S`).
//! Here that means: try every total order of the calls that respects real
//! time, in which every returned call appears with the answer it recorded,
//! and every pending call (`return_us`/`outcome` `None`) either appears at
//! some point after its invocation, with whatever answer it gets, or not at
//! all. Legality is [`KvStore::execute`], the store's own sequential
//! semantics, run on the whole store: the oracle does not partition by key,
//! so it also checks the checker's per-key partitioning (locality, Herlihy &
//! Wing Theorem 1) rather than assuming it. It has no memo and no pruning
//! beyond real time, so it is only for small histories (at most
//! [`MAX_CALLS`] calls).
//!
//! Real time on equal timestamps follows the checker's documented rule (as
//! in Porcupine): a call invoked at the same microsecond another returned is
//! concurrent with it, so `a` precedes `b` only when `a.return_us <
//! b.invoke_us`.
//!
//! # The histories
//!
//! [`case`] makes one small history from a seed with [`Rng`]: 1–7 calls on
//! one or two keys, intervals on a 0–14 µs grid (so ties and overlaps are
//! common), values from a two-letter alphabet (so collisions are common).
//! Answers come from running the calls on a [`KvStore`] in the order of a
//! random instant inside each interval (linearizable by construction); some
//! calls never return (half of those still take effect); and 70 % of the
//! histories get one [`Perturbation`] (a read of another value, a cas or
//! delete answer flipped, an append applied twice, a lost write, a call
//! taking effect outside its interval, two answers swapped, a returned call
//! made pending, an append refused as too large). Whether a perturbed history
//! is still linearizable is for the oracle to say.
//!
//! This complements `search_agrees_with_brute_force` in the checker's own
//! tests, which compares the internal search on one key's compiled calls:
//! this one goes through the public [`check`] only, on one or two keys.

use crate::check::history::{Call, History};
use crate::check::linearizability::check;
use crate::kv::{ClientId, KvStore, Op, OpResult};
use crate::rng::Rng;
use std::fmt::Write as _;
use std::sync::Arc;

/// The most calls the oracle accepts (it tries up to `n!·e` orders).
const MAX_CALLS: usize = 7;

/// Histories per run of the differential test.
#[cfg(not(target_arch = "wasm32"))]
const CASES: u64 = 30_000;
/// Fewer in a browser, where the test runs about 5 times slower (4,000
/// histories took 0.2 s in headless Chrome, release build).
#[cfg(target_arch = "wasm32")]
const CASES: u64 = 10_000;

/// The run's base seed; case `i` uses `Rng::derive(BASE_SEED, i)`.
const BASE_SEED: u64 = 0x11_4ea2;

/// Whether `h` is linearizable, by trying every order (see the module docs).
fn oracle(h: &History) -> bool {
    let calls = &h.calls;
    assert!(
        calls.len() <= MAX_CALLS,
        "the oracle is for small histories"
    );
    let returned = |c: &Call| c.return_us.is_some() && c.outcome.is_some();
    let mut must_place = 0u32;
    // before[c]: the returned calls that returned before `c` was invoked.
    let mut before = vec![0u32; calls.len()];
    for (i, c) in calls.iter().enumerate() {
        if returned(c) {
            must_place |= 1 << i;
        }
        for (j, d) in calls.iter().enumerate() {
            if returned(d) && d.return_us.is_some_and(|r| r < c.invoke_us) {
                before[i] |= 1 << j;
            }
        }
    }
    fn extend(
        calls: &[Call],
        before: &[u32],
        must_place: u32,
        placed: u32,
        store: &KvStore,
    ) -> bool {
        if placed & must_place == must_place {
            // Every returned call is placed; pending calls left over are
            // the ones that never took effect.
            return true;
        }
        for (i, c) in calls.iter().enumerate() {
            if placed & (1 << i) != 0 || before[i] & !placed != 0 {
                continue;
            }
            let mut next = store.clone();
            let result = next.execute(&c.op);
            if c.outcome.as_ref().is_some_and(|o| *o != result) {
                continue;
            }
            if extend(calls, before, must_place, placed | 1 << i, &next) {
                return true;
            }
        }
        false
    }
    extend(calls, &before, must_place, 0, &KvStore::new())
}

/// How a generated history was made to (perhaps) break linearizability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Perturbation {
    /// Answers from a real sequential execution.
    None,
    /// A returned get reports another value.
    OtherRead,
    /// A returned cas reports the opposite success, or another current
    /// value.
    CasAnswer,
    /// A returned delete reports the opposite `existed`.
    DeleteAnswer,
    /// An append takes effect twice.
    AppendTwice,
    /// A returned write answers as usual but never takes effect.
    LostWrite,
    /// A call takes effect at an instant outside its interval (a stale or
    /// early read, a write seen too early or too late).
    OutsideInterval,
    /// Two returned calls of the same operation swap answers.
    SwappedAnswers,
    /// A returned call is made pending (a relaxation: a linearizable
    /// history stays so).
    MadePending,
    /// A returned append answers "too large" (never true here).
    RefusedAppend,
}

const PERTURBATIONS: [Perturbation; 9] = [
    Perturbation::OtherRead,
    Perturbation::CasAnswer,
    Perturbation::DeleteAnswer,
    Perturbation::AppendTwice,
    Perturbation::LostWrite,
    Perturbation::OutsideInterval,
    Perturbation::SwappedAnswers,
    Perturbation::MadePending,
    Perturbation::RefusedAppend,
];

/// One generated history and how it was made.
struct Case {
    seed: u64,
    history: History,
    perturbation: Perturbation,
}

const VALUES: [&str; 2] = ["a", "b"];
/// Values a perturbed read or cas may report.
const SEEN: [Option<&str>; 6] = [None, Some("a"), Some("b"), Some("ab"), Some("ba"), Some("")];

fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[rng.index(xs.len())]
}

/// The history for `seed` (see the module docs). The same seed gives the
/// same history on every platform.
fn case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let n = if rng.chance(0.2) {
        1 + rng.index(3)
    } else {
        4 + rng.index(MAX_CALLS - 3)
    };
    let keys: &[&str] = if rng.chance(0.5) { &["x"] } else { &["x", "y"] };
    let perturbation = if rng.chance(0.7) {
        pick(&mut rng, &PERTURBATIONS)
    } else {
        Perturbation::None
    };

    struct Slot {
        key: &'static str,
        kind: usize,
        invoke: u64,
        ret: u64,
        pending: bool,
        /// When it takes effect, on a doubled grid (`2·µs`), if it does.
        effect: Option<u64>,
        op: Option<Op>,
        outcome: Option<OpResult>,
    }
    let mut slots: Vec<Slot> = (0..n)
        .map(|_| {
            let key = pick(&mut rng, keys);
            let kind = rng.index(100);
            let invoke = rng.range_inclusive(0, 10);
            let ret = invoke + rng.range_inclusive(0, 4);
            let pending = rng.chance(0.15);
            let effect = if pending {
                // Any instant after its invocation, or never.
                rng.chance(0.5)
                    .then(|| 2 * invoke + rng.range_inclusive(0, 12))
            } else {
                Some(2 * invoke + rng.range_inclusive(0, 2 * (ret - invoke)))
            };
            Slot {
                key,
                kind,
                invoke,
                ret,
                pending,
                effect,
                op: None,
                outcome: None,
            }
        })
        .collect();
    // The call the perturbation applies to: a returned one of the kind it
    // fits, if there is one (else it changes nothing).
    let fits = |s: &Slot| {
        let returned = !s.pending;
        match perturbation {
            Perturbation::OtherRead => returned && s.kind < GET_END,
            Perturbation::CasAnswer => returned && s.kind >= DELETE_END,
            Perturbation::DeleteAnswer => returned && (APPEND_END..DELETE_END).contains(&s.kind),
            Perturbation::AppendTwice => (PUT_END..APPEND_END).contains(&s.kind),
            Perturbation::RefusedAppend => returned && (PUT_END..APPEND_END).contains(&s.kind),
            Perturbation::LostWrite => returned && s.kind >= GET_END,
            Perturbation::MadePending | Perturbation::SwappedAnswers => returned,
            Perturbation::OutsideInterval | Perturbation::None => true,
        }
    };
    let candidates: Vec<usize> = (0..n).filter(|&i| fits(&slots[i])).collect();
    let victim = if candidates.is_empty() {
        n
    } else {
        pick(&mut rng, &candidates)
    };
    if perturbation == Perturbation::OutsideInterval {
        slots[victim].effect = Some(rng.range_inclusive(0, 28));
    }

    let mut order: Vec<(u64, u64, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.effect.map(|t| (t, rng.next_u64(), i)))
        .collect();
    order.sort_unstable();
    let mut store = KvStore::new();
    for (_, _, i) in order {
        let slot = &mut slots[i];
        let current = store.get(slot.key).cloned();
        let op = make_op(&mut rng, slot.kind, slot.key, Some(current));
        let result = if perturbation == Perturbation::LostWrite && i == victim {
            store.clone().execute(&op)
        } else {
            store.execute(&op)
        };
        if perturbation == Perturbation::AppendTwice && i == victim {
            if let Op::Append { .. } = op {
                store.execute(&op);
            }
        }
        slot.op = Some(op);
        slot.outcome = Some(result);
    }

    let mut calls: Vec<Call> = slots
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let op = match s.op {
                Some(op) => op,
                None => make_op(&mut rng, s.kind, s.key, None),
            };
            Call {
                id: i as u64,
                client: ClientId(i as u32 + 1),
                op: Arc::new(op),
                invoke_us: s.invoke,
                return_us: (!s.pending).then_some(s.ret),
                outcome: if s.pending { None } else { s.outcome },
            }
        })
        .collect();

    if perturbation == Perturbation::SwappedAnswers
        && calls.get(victim).is_some_and(|c| c.outcome.is_some())
    {
        let other = (0..n).find(|&j| {
            j != victim
                && calls[j].outcome.is_some()
                && calls[j].op.name() == calls[victim].op.name()
        });
        if let Some(j) = other {
            let a = calls[victim].outcome.take();
            calls[victim].outcome = calls[j].outcome.take();
            calls[j].outcome = a;
        }
    }
    let Some(v) = calls.get_mut(victim) else {
        return finish(seed, calls, perturbation);
    };
    match (perturbation, &*v.op, &mut v.outcome) {
        (Perturbation::OtherRead, Op::Get { .. }, Some(OpResult::Value { value })) => {
            let old = value.clone();
            while *value == old {
                *value = pick(&mut rng, &SEEN).map(String::from);
            }
        }
        (Perturbation::CasAnswer, Op::Cas { .. }, Some(OpResult::Cas { ok, current })) => {
            if rng.chance(0.5) {
                *ok = !*ok;
            } else {
                let old = current.clone();
                while *current == old {
                    *current = pick(&mut rng, &SEEN).map(String::from);
                }
            }
        }
        (Perturbation::DeleteAnswer, Op::Delete { .. }, Some(OpResult::Deleted { existed })) => {
            *existed = !*existed;
        }
        (Perturbation::MadePending, _, outcome @ Some(_)) => {
            *outcome = None;
            v.return_us = None;
        }
        (Perturbation::RefusedAppend, Op::Append { .. }, outcome @ Some(_)) => {
            *outcome = Some(OpResult::TooLarge);
        }
        _ => {}
    }
    finish(seed, calls, perturbation)
}

/// The case with `calls` in invocation order and ids as positions, as a
/// recorded history has them.
fn finish(seed: u64, mut calls: Vec<Call>, perturbation: Perturbation) -> Case {
    calls.sort_by_key(|c| (c.invoke_us, c.id));
    for (i, c) in calls.iter_mut().enumerate() {
        c.id = i as u64;
        c.client = ClientId(i as u32 + 1);
    }
    Case {
        seed,
        history: History { calls },
        perturbation,
    }
}

/// Where each operation's share of `kind` (0–99) ends.
const GET_END: usize = 30;
const PUT_END: usize = 50;
const APPEND_END: usize = 65;
const DELETE_END: usize = 75;

/// The operation of kind `kind` (0–99): about 30 % get, 20 % put, 15 %
/// append, 10 % delete, 25 % cas. A cas expects `current` (the key's value
/// when it takes effect, if it does) half the time, else a random value.
fn make_op(rng: &mut Rng, kind: usize, key: &str, current: Option<Option<String>>) -> Op {
    let key = key.to_string();
    let value = pick(rng, &VALUES).to_string();
    match kind {
        k if k < GET_END => Op::Get { key },
        k if k < PUT_END => Op::Put { key, value },
        k if k < APPEND_END => Op::Append { key, value },
        k if k < DELETE_END => Op::Delete { key },
        _ => {
            let expected = match current {
                Some(c) if rng.chance(0.5) => c,
                _ => pick(rng, &[None, Some("a"), Some("b"), Some("ab")]).map(String::from),
            };
            Op::Cas {
                key,
                expected,
                value,
            }
        }
    }
}

/// `h` one call a line, for failure messages:
/// `#2 C3 cas "x" absent -> "a"  [4, 7] µs  cas ok=true current=(absent)`.
fn render(h: &History) -> String {
    let mut out = String::new();
    for c in &h.calls {
        let span = match c.return_us {
            Some(r) => format!("[{}, {r}] µs", c.invoke_us),
            None => format!("[{}, ∞) µs", c.invoke_us),
        };
        let answer = match &c.outcome {
            None => "never returned".to_string(),
            Some(OpResult::Cas { ok, current }) => {
                let current = current
                    .as_deref()
                    .map_or("(absent)".into(), |s| format!("{s:?}"));
                format!("cas ok={ok} current={current}")
            }
            Some(o) => o.to_string(),
        };
        let op = c.op.to_string();
        let _ = writeln!(out, "  #{} {} {op:<24} {span:<12} {answer}", c.id, c.client);
    }
    out
}

/// The calls of `h` on `key`.
fn on_key(h: &History, key: &str) -> History {
    History {
        calls: h
            .calls
            .iter()
            .filter(|c| c.op.key() == key)
            .cloned()
            .collect(),
    }
}

/// Compare the checker with the oracle on `case`; `Err` describes a
/// mismatch with everything needed to reproduce it.
fn compare(case: &Case) -> Result<bool, String> {
    let h = &case.history;
    let expected = oracle(h);
    let verdict = check(h);
    let fail = |what: String| {
        Err(format!(
            "{what}\nhistory (seed {:#x}, perturbation {:?}):\n{}\
             replay: `compare(&case({:#x}))` in this module",
            case.seed,
            case.perturbation,
            render(h),
            case.seed
        ))
    };
    let mut keys: Vec<&str> = h.calls.iter().map(|c| c.op.key()).collect();
    keys.sort_unstable();
    keys.dedup();
    let failing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !oracle(&on_key(h, k)))
        .collect();
    if failing.is_empty() != expected {
        return fail(format!(
            "the oracle is not local: whole history {expected}, failing keys {failing:?}"
        ));
    }
    match (&verdict, expected) {
        (Ok(()), true) => Ok(true),
        (Err(v), false) => {
            if v.key != failing[0] {
                return fail(format!(
                    "the checker names key {:?}, the first failing key is {:?}:\n{v}",
                    v.key, failing[0]
                ));
            }
            if !v.to_string().contains(&format!("key {:?}", v.key)) {
                return fail(format!("the explanation does not name the key:\n{v}"));
            }
            let foreign = v.calls.iter().find(|c| {
                c.op.key() != v.key || !h.calls.iter().any(|d| d.id == c.id && d.op == c.op)
            });
            if let Some(c) = foreign {
                return fail(format!(
                    "the violation lists #{} which is not a call on its key:\n{v}",
                    c.id
                ));
            }
            Ok(false)
        }
        (Ok(()), false) => fail("the checker says linearizable, the oracle says not".into()),
        (Err(v), true) => fail(format!(
            "the checker says not linearizable, the oracle says it is:\n{v}"
        )),
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
/// The oracle itself on hand-checked histories: a stale read, a pending put
/// seen or not, a read concurrent by a tie, two keys each fine.
fn oracle_agrees_with_hand_checked_histories() {
    let put = |k: &str, v: &str| Op::Put {
        key: k.into(),
        value: v.into(),
    };
    let get = |k: &str| Op::Get { key: k.into() };
    let read = |v: Option<&str>| {
        Some(OpResult::Value {
            value: v.map(String::from),
        })
    };
    let h = |rows: Vec<(Op, u64, Option<u64>, Option<OpResult>)>| History {
        calls: rows
            .into_iter()
            .enumerate()
            .map(|(i, (op, invoke_us, return_us, outcome))| Call {
                id: i as u64,
                client: ClientId(i as u32 + 1),
                op: Arc::new(op),
                invoke_us,
                return_us,
                outcome,
            })
            .collect(),
    };
    let put_a = (put("x", "a"), 0, Some(2), Some(OpResult::Ok));
    // Read after the put returned: must see it.
    assert!(oracle(&h(vec![
        put_a.clone(),
        (get("x"), 3, Some(4), read(Some("a")))
    ])));
    assert!(!oracle(&h(vec![
        put_a.clone(),
        (get("x"), 3, Some(4), read(None))
    ])));
    // Invoked at the very microsecond the put returned: concurrent.
    assert!(oracle(&h(vec![
        put_a.clone(),
        (get("x"), 2, Some(4), read(None))
    ])));
    // A pending put may be seen after its invocation, or never, not before.
    let pending = (put("x", "b"), 5, None, None);
    assert!(oracle(&h(vec![
        pending.clone(),
        (get("x"), 6, Some(7), read(Some("b")))
    ])));
    assert!(oracle(&h(vec![
        pending.clone(),
        (get("x"), 6, Some(7), read(None))
    ])));
    assert!(!oracle(&h(vec![
        (get("x"), 1, Some(2), read(Some("b"))),
        pending
    ])));
    // Two keys, each linearizable on its own, so together (locality).
    assert!(oracle(&h(vec![
        put_a,
        (put("y", "b"), 0, Some(5), Some(OpResult::Ok)),
        (get("y"), 1, Some(3), read(None)),
        (get("x"), 4, Some(5), read(Some("a"))),
    ])));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
/// The checker's verdict equals the oracle's on [`CASES`] random small
/// histories; on every non-linearizable one the violation names the first
/// failing key (in key order), says it in its text, and lists only calls on
/// that key. A mismatch panics with the history, its seed and how to replay
/// it.
fn checker_agrees_with_brute_force_oracle() {
    let (mut good, mut bad) = (0u64, 0u64);
    let mut perturbed_good = 0u64;
    let mut refuted = std::collections::BTreeMap::new();
    for i in 0..CASES {
        let c = case(Rng::derive(BASE_SEED, i));
        match compare(&c) {
            Ok(true) => {
                good += 1;
                if c.perturbation != Perturbation::None {
                    perturbed_good += 1;
                }
            }
            Ok(false) => {
                bad += 1;
                *refuted.entry(format!("{:?}", c.perturbation)).or_insert(0) += 1;
            }
            Err(e) => panic!("case {i}: {e}"),
        }
    }
    // Both verdicts common, and perturbations that happen to stay
    // linearizable too (the interesting near misses).
    println!(
        "{CASES} histories: {good} linearizable ({perturbed_good} of them perturbed), \
         {bad} not, by perturbation: {refuted:?}"
    );
    assert!(
        good * 2 > CASES && bad * 10 > CASES && perturbed_good * 20 > CASES,
        "{good} linearizable ({perturbed_good} of them perturbed), {bad} not"
    );
}

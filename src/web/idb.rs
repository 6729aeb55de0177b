//! The saved cluster's record formats: what the page keeps in IndexedDB
//! for every node (Raft Figure 2, "persistent state on all servers") and
//! for the simulation around them, so that a page reload resumes the
//! cluster; how a write set becomes IndexedDB requests ([`plan`]), and how
//! what a read returned is checked and put together again ([`assemble`]).
//!
//! This module does no I/O and imports nothing from wasm-bindgen, so it
//! compiles natively too and its tests run under `cargo test`. The
//! IndexedDB calls themselves are in `www/store.js` (opening, the schema
//! versions and upgrades, transactions, errors); the facade's wasm exports
//! around this module (`takeDurableWrites` and `enablePersistence`, which
//! return planned requests, and `assembleLoaded`) and the simulator
//! side (what to write, what to confirm) are in `src/web/persist.rs` (in
//! the wasm build only).
//!
//! # Why the I/O is in JavaScript
//!
//! The driver does all I/O (DESIGN.md's sans-IO rule, which the Raft node
//! already follows): Rust decides *what* is stored and checks what comes
//! back, synchronously, and the page's JavaScript performs the requests
//! and waits for them. Waiting in Rust instead meant async Rust in the
//! wasm: `wasm-bindgen-futures`' executor, a future per call with every
//! `Store` method inlined into it (the largest single function of the
//! page's wasm, 29.7 KB), closures for IndexedDB's events, and web-sys's
//! bindings, about 60 KB of the page's 361 KB. `www/store.js` does the
//! same I/O in a few hundred lines of plain JavaScript that the browser
//! compiles for free, and can be tested on its own.
//!
//! # Schema
//!
//! One database per saved cluster, named `raftlab-<name>`, at version 2
//! (`Store.schemaVersion` in `www/store.js`, which creates the stores and
//! upgrades older versions). Keys are out of line; every value is a JSON
//! string (made here with [`crate::json`]), so that `u64`s survive exactly and a damaged record
//! is detected when it is read instead of being silently misread.
//!
//! | store        | key                          | value                              |
//! |--------------|------------------------------|------------------------------------|
//! | `hard_state` | node id (number)             | [`HardState`] (term, vote)         |
//! | `log`        | `[node, index]` (numbers)    | [`Entry`] of [`Command`]           |
//! | `snapshots`  | node id                      | reserved for snapshots; empty      |
//! | `sim`        | `"meta"`                     | [`SimMeta`]: seed, config, clock…  |
//! | `calls`      | call id (number)             | [`Call`]: the clients' history     |
//!
//! Version 1 had only `hard_state` and `log` (same keys and values);
//! `store.js` upgrades it in place to version 2, keeping its data. A
//! database from a newer version of the page is refused
//! (`NewerSchemaError`) and left untouched.
//!
//! # Writes
//!
//! [`plan`] turns one [`WriteSet`] into the requests of ONE read-write
//! transaction over every store ([`IdbOp`]); [`plan_json`] writes them as
//! the JSON text `store.write` takes, and `store.write` resolves only once
//! the transaction has completed: all of it is durable, or none of it is.
//! A node's [`WriteBatch`](crate::storage::WriteBatch) keeps the storage
//! trait's meaning: put the hard state; delete the log range
//! `[node, from]` to `[node, 2^53 - 1]` (every index a key can hold), then
//! put the new entries. IndexedDB runs the requests of a transaction, and
//! read-write transactions over the same stores, in the order they were
//! made, so write sets issued in order are applied in order. A write never
//! reads, so it cannot see a gap it would leave; [`assemble`] checks for
//! gaps instead.
//!
//! Transactions use the browser's default durability hint: a completed
//! transaction survives a reload or a crashed tab, which is the "power
//! loss" this page models.
//!
//! # Reads
//!
//! `store.load()` reads every record in one read-only transaction and
//! hands them over untouched, as JSON text (see [`assemble`]).
//! [`assemble`] validates them: a record that is not JSON of the expected
//! shape, a key of the wrong shape, or a log or history with a hole is a
//! [`StorageError::Corrupt`] naming the record (`log [2, 17]`). It never
//! panics on stored data.

use crate::check::history::Call;
use crate::json::{self, FromJson, Json, JsonError, JsonOut, ToJson};
use crate::kv::Command;
use crate::raft::{Entry, HardState};
use crate::sim::{DurableRecord, DurableWrite, SimConfig, MAX_NODES};
use crate::storage::{Durable, StorageError};
use std::fmt;

/// Store of each node's term and vote, keyed by node id.
pub const HARD_STATE: &str = "hard_state";
/// Store of log entries, keyed by `[node, index]`.
pub const LOG: &str = "log";
/// Store reserved for snapshots, keyed by node id (empty for now).
pub const SNAPSHOTS: &str = "snapshots";
/// Store of the simulation's own state, under the key [`META_KEY`].
pub const SIM: &str = "sim";
/// Store of the clients' history records, keyed by call id.
pub const CALLS: &str = "calls";
/// The key of the one record in [`SIM`].
pub const META_KEY: &str = "meta";
/// The stores of the current schema (`STORES` in `www/store.js`).
pub const STORES: [&str; 5] = [HARD_STATE, LOG, SNAPSHOTS, SIM, CALLS];

/// The largest integer a JavaScript number (and so an IndexedDB key) holds
/// exactly.
pub const MAX_SAFE: u64 = (1 << 53) - 1;

// ----- What is stored ---------------------------------------------------

/// The simulation's own state, beside the nodes' durable state: what
/// [`Simulation::resume`](crate::sim::Simulation::resume) needs besides the
/// nodes and the history.
#[derive(Clone, Debug, PartialEq)]
pub struct SimMeta {
    /// The run's seed, as a decimal string (JavaScript numbers cannot hold
    /// every `u64`).
    pub seed: String,
    /// Cluster size, Raft timing, link defaults and the rest.
    pub config: SimConfig,
    /// Virtual time when this record was written, µs.
    pub now_us: u64,
    /// The highest epoch (page session) whose client ids are in use; a
    /// resumed cluster must use a higher one.
    pub epoch: u32,
    /// The person's actions, in order, each `{"at_us": …, "action":
    /// "set_cut", …}` (see [`super::actions`]): a resume replays the link
    /// cuts and background clients among them.
    pub actions: Vec<super::actions::ActionJson>,
}

impl ToJson for SimMeta {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("seed", &self.seed);
        out.field("config", &self.config);
        out.field("now_us", &self.now_us);
        out.field("epoch", &self.epoch);
        out.field("actions", &self.actions);
        out.end_obj();
    }
}

/// Every node's whole durable state and the whole history: what a store
/// holds after [`WriteSet::base`] replaced its contents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baseline {
    /// Node `i + 1`'s durable state at position `i`.
    pub nodes: Vec<Durable<Command>>,
    /// The clients' history, by call id from 0.
    pub calls: Vec<Call>,
}

impl ToJson for Baseline {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("nodes", &self.nodes);
        out.field("calls", &self.calls);
        out.end_obj();
    }
}

/// One atomic write: the argument of [`plan`]. Its JSON (only written,
/// for tests and debugging; the page receives it planned) is
///
/// ```json
/// {"base": null | {"nodes": [Durable…], "calls": [Call…]},
///  "writes": [DurableWrite…],
///  "meta": null | SimMeta}
/// ```
///
/// Applied in this order: `base` (clear every store, then store it),
/// `writes` in order, then `meta`. Every field may be left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteSet {
    /// Replace everything stored with this.
    pub base: Option<Baseline>,
    /// The simulator's durable writes, in order.
    pub writes: Vec<DurableWrite>,
    /// The simulation's own state.
    pub meta: Option<SimMeta>,
}

impl ToJson for WriteSet {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("base", &self.base);
        out.field("writes", &self.writes);
        out.field("meta", &self.meta);
        out.end_obj();
    }
}

impl WriteSet {
    /// The id of the last durable write in the set, to confirm once the
    /// set is stored.
    pub fn last_id(&self) -> Option<u64> {
        self.writes.iter().map(|w| w.id).max()
    }
}

/// Everything a store holds, validated: what [`assemble`] returns (and,
/// as JSON, `assembleLoaded`, for `Simulation.resume`).
///
/// ```json
/// {"meta": null | SimMeta, "nodes": [Durable…], "calls": [Call…]}
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded {
    /// The simulation's own state, if one was ever written.
    pub meta: Option<SimMeta>,
    /// Node `i + 1`'s durable state at position `i` (empty for a node that
    /// never wrote).
    pub nodes: Vec<Durable<Command>>,
    /// The clients' history, by call id from 0.
    pub calls: Vec<Call>,
}

impl ToJson for Loaded {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("meta", &self.meta);
        out.field("nodes", &self.nodes);
        out.field("calls", &self.calls);
        out.end_obj();
    }
}

impl FromJson for SimMeta {
    fn from_json(v: &Json) -> Result<SimMeta, JsonError> {
        let o = v.obj()?;
        Ok(SimMeta {
            seed: o.req("seed")?,
            config: o.req("config")?,
            now_us: o.req("now_us")?,
            epoch: o.req("epoch")?,
            actions: o.or_default("actions")?,
        })
    }
}

impl FromJson for Baseline {
    fn from_json(v: &Json) -> Result<Baseline, JsonError> {
        let o = v.obj()?;
        Ok(Baseline {
            nodes: o.req("nodes")?,
            calls: o.req("calls")?,
        })
    }
}

impl FromJson for Loaded {
    fn from_json(v: &Json) -> Result<Loaded, JsonError> {
        let o = v.obj()?;
        Ok(Loaded {
            meta: o.opt("meta")?,
            nodes: o.req("nodes")?,
            calls: o.req("calls")?,
        })
    }
}

// ----- Errors -------------------------------------------------------------

/// What went wrong planning a write or reading stored records. The
/// IndexedDB failures themselves (no IndexedDB, a newer schema, a blocked
/// upgrade, a full quota, a closed connection) are `www/store.js`'s
/// errors, with the same kind of `name`.
#[derive(Clone, Debug, PartialEq)]
pub enum IdbError {
    /// The caller's input was malformed (not stored data).
    InvalidInput(String),
    /// Stored data is corrupt ([`StorageError::Corrupt`]).
    Storage(StorageError),
}

impl IdbError {
    /// A short name for JavaScript's `error.name`, to tell errors apart
    /// (the names `www/store.js` uses for the same kinds of failure).
    pub fn js_name(&self) -> &'static str {
        match self {
            IdbError::InvalidInput(_) => "InvalidInputError",
            IdbError::Storage(StorageError::Corrupt { .. }) => "CorruptError",
            IdbError::Storage(StorageError::Gap { .. }) => "CorruptError",
            IdbError::Storage(StorageError::Backend(_)) => "StorageError",
        }
    }

    fn corrupt(record: impl Into<String>, detail: impl Into<String>) -> IdbError {
        IdbError::Storage(StorageError::Corrupt {
            record: record.into(),
            detail: detail.into(),
        })
    }
}

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdbError::InvalidInput(why) => write!(f, "invalid input: {why}"),
            IdbError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IdbError {}

// ----- Writing ------------------------------------------------------------------

/// An IndexedDB key.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    /// A number (node id, call id), at most [`MAX_SAFE`].
    Num(u64),
    /// `[a, b]`: a log entry's `[node, index]`.
    Pair(u64, u64),
    /// A string (`"meta"`).
    Text(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Num(n) => write!(f, "{n}"),
            Key::Pair(a, b) => write!(f, "[{a}, {b}]"),
            Key::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One request inside a write transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum IdbOp {
    /// Delete every record of a store.
    Clear {
        /// The store.
        store: &'static str,
    },
    /// Put `value` (a JSON string) at `key`.
    Put {
        /// The store.
        store: &'static str,
        /// Where.
        key: Key,
        /// The JSON text.
        value: String,
    },
    /// Delete every key from `from` to `to`, both included.
    DeleteRange {
        /// The store.
        store: &'static str,
        /// The lowest key deleted.
        from: Key,
        /// The highest key deleted.
        to: Key,
    },
}

fn key_num(v: u64, what: &str) -> Result<u64, IdbError> {
    if v > MAX_SAFE {
        return Err(IdbError::InvalidInput(format!(
            "{what} {v} is too large for an IndexedDB key"
        )));
    }
    Ok(v)
}

fn put_entries(
    ops: &mut Vec<IdbOp>,
    node: u64,
    from: u64,
    entries: &[Entry<Command>],
) -> Result<(), IdbError> {
    for (i, e) in entries.iter().enumerate() {
        if e.index.0 != from + i as u64 {
            return Err(IdbError::InvalidInput(format!(
                "the log write for node {node} from index {from} is not contiguous at \
                 entry {i} (index {})",
                e.index
            )));
        }
        ops.push(IdbOp::Put {
            store: LOG,
            key: Key::Pair(node, key_num(e.index.0, "log index")?),
            value: json::to_string(e),
        });
    }
    Ok(())
}

/// The requests that apply `set`, in order (see [`WriteSet`]).
pub fn plan(set: &WriteSet) -> Result<Vec<IdbOp>, IdbError> {
    let mut ops = Vec::new();
    if let Some(base) = &set.base {
        for store in STORES {
            ops.push(IdbOp::Clear { store });
        }
        for (i, d) in base.nodes.iter().enumerate() {
            let node = i as u64 + 1;
            ops.push(IdbOp::Put {
                store: HARD_STATE,
                key: Key::Num(node),
                value: json::to_string(&d.hard_state),
            });
            put_entries(&mut ops, node, 1, &d.log)?;
        }
        for c in &base.calls {
            ops.push(IdbOp::Put {
                store: CALLS,
                key: Key::Num(key_num(c.id, "call id")?),
                value: json::to_string(c),
            });
        }
    }
    for w in &set.writes {
        match &w.record {
            DurableRecord::Node { node, batch } => {
                if node.0 == 0 {
                    return Err(IdbError::InvalidInput(format!(
                        "write {} is for node 0; nodes are numbered from 1",
                        w.id
                    )));
                }
                let n = u64::from(node.0);
                if let Some(hs) = &batch.hard_state {
                    ops.push(IdbOp::Put {
                        store: HARD_STATE,
                        key: Key::Num(n),
                        value: json::to_string(hs),
                    });
                }
                if let Some(lw) = &batch.log_write {
                    if lw.from.0 == 0 {
                        return Err(IdbError::InvalidInput(format!(
                            "write {} changes the log from index 0; the first entry is 1",
                            w.id
                        )));
                    }
                    ops.push(IdbOp::DeleteRange {
                        store: LOG,
                        from: Key::Pair(n, key_num(lw.from.0, "log index")?),
                        to: Key::Pair(n, MAX_SAFE),
                    });
                    put_entries(&mut ops, n, lw.from.0, &lw.entries)?;
                }
            }
            DurableRecord::Call(c) => ops.push(IdbOp::Put {
                store: CALLS,
                key: Key::Num(key_num(c.id, "call id")?),
                value: json::to_string(c),
            }),
        }
    }
    if let Some(meta) = &set.meta {
        ops.push(IdbOp::Put {
            store: SIM,
            key: Key::Text(META_KEY.into()),
            value: json::to_string(meta),
        });
    }
    Ok(ops)
}

impl ToJson for Key {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Key::Num(n) => out.u64(*n),
            Key::Pair(a, b) => {
                out.begin_arr();
                out.u64(*a);
                out.u64(*b);
                out.end_arr();
            }
            Key::Text(s) => out.str(s),
        }
    }
}

impl ToJson for IdbOp {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_arr();
        match self {
            IdbOp::Clear { store } => {
                out.str("clear");
                out.str(store);
            }
            IdbOp::Put { store, key, value } => {
                out.str("put");
                out.str(store);
                key.write_json(out);
                out.str(value);
            }
            IdbOp::DeleteRange { store, from, to } => {
                out.str("delete");
                out.str(store);
                from.write_json(out);
                to.write_json(out);
            }
        }
        out.end_arr();
    }
}

/// `ops` as the JSON text that `store.write` (`www/store.js`) takes:
///
/// ```json
/// {"last": 17 | null,
///  "ops": [["clear", "log"],
///          ["put", "log", [1, 2], "{\"term\":1,…}"],
///          ["delete", "log", [1, 3], [1, 9007199254740991]]]}
/// ```
///
/// Each put's value is the record's JSON text as a string; `delete`
/// removes the keys from the first to the second, both included. `last`
/// is what `store.write` resolves to once the transaction has completed:
/// the id of the set's last durable write, to pass to `confirmDurable`.
pub fn plan_json(ops: &[IdbOp], last: Option<u64>) -> String {
    let mut out = JsonOut::new();
    out.begin_obj();
    out.field("last", &last);
    out.field("ops", ops);
    out.end_obj();
    out.into_string()
}

// ----- Reading ------------------------------------------------------------------

/// A record's value: JSON text, read as a `T`.
fn parse_json<T: FromJson>(record: &str, v: &Json) -> Result<T, IdbError> {
    let Json::Str(text) = v else {
        return Err(IdbError::corrupt(record, "the value is not a JSON string"));
    };
    json::from_str(text).map_err(|e| IdbError::corrupt(record, format!("not valid: {e}")))
}

/// A key that must be a whole number from 0 to 2^53 - 1.
fn whole(v: &Json) -> Option<u64> {
    match v {
        Json::Num(text) => text.parse().ok().filter(|n| *n <= MAX_SAFE),
        _ => None,
    }
}

/// A key as it names a record: `3`, `[2, 17]`, `"meta"`.
fn show_key(k: &Json) -> String {
    match k {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Num(text) => text.to_string(),
        Json::Str(s) => format!("{s:?}"),
        Json::Arr(items) => {
            let items: Vec<String> = items.iter().map(show_key).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Obj(_) => "{…}".into(),
    }
}

/// The `[key, value]` records of `store` in what `store.load()` returned.
fn records<'a>(o: &json::Obj<'a>, store: &str) -> Result<Vec<(&'a Json, &'a Json)>, IdbError> {
    let bad = || {
        IdbError::InvalidInput(format!(
            "assembleLoaded takes the JSON of store.load(): {store:?} must be a list of \
             [key, value] records"
        ))
    };
    match o.get(store) {
        None => Ok(Vec::new()),
        Some(Json::Arr(items)) => items
            .iter()
            .map(|r| match r {
                Json::Arr(kv) if kv.len() == 2 => Ok((&kv[0], &kv[1])),
                _ => Err(bad()),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// Validate what one read transaction returned (`store.load()`):
///
/// ```json
/// {"meta": "<the sim \"meta\" record>",          (absent: none stored)
///  "hard_state": [[key, value], …],
///  "log": [[key, value], …],
///  "calls": [[key, value], …]}
/// ```
///
/// each store's records in key order, as IndexedDB returns them, with the
/// keys as stored and the values as the stored text (`null` for a value
/// that is not text). A store left out has no records. `nodes` is the
/// cluster size; `None` takes it from the stored [`SimMeta`] (or the
/// highest node id found).
pub fn assemble(raw: &str, nodes: Option<usize>) -> Result<Loaded, IdbError> {
    let doc = json::parse(raw).map_err(|e| {
        IdbError::InvalidInput(format!(
            "assembleLoaded takes the JSON of store.load(): {e}"
        ))
    })?;
    let o = doc.obj().map_err(|e| {
        IdbError::InvalidInput(format!(
            "assembleLoaded takes the JSON of store.load(): {e}"
        ))
    })?;
    let meta: Option<SimMeta> = match o.get(META_KEY) {
        None => None,
        Some(v) => Some(parse_json(&format!("{SIM} {META_KEY:?}"), v)?),
    };
    // Hard states and log keys, checked before deciding the cluster's size.
    let mut hard_states: Vec<(u64, HardState)> = Vec::new();
    for (k, v) in records(&o, HARD_STATE)? {
        let record = format!("{HARD_STATE} {}", show_key(k));
        let node = whole(k)
            .filter(|n| (1..=MAX_NODES as u64).contains(n))
            .ok_or_else(|| IdbError::corrupt(&record, "the key is not a node id (1 to 9)"))?;
        hard_states.push((node, parse_json(&record, v)?));
    }
    let log = records(&o, LOG)?;
    let mut log_keys: Vec<(u64, u64)> = Vec::with_capacity(log.len());
    for (k, _) in &log {
        let pair = match k {
            Json::Arr(a) if a.len() == 2 => whole(&a[0]).zip(whole(&a[1])),
            _ => None,
        }
        .filter(|(n, i)| (1..=MAX_NODES as u64).contains(n) && *i >= 1)
        .ok_or_else(|| {
            IdbError::corrupt(
                format!("{LOG} {}", show_key(k)),
                "the key is not [node, index]",
            )
        })?;
        log_keys.push(pair);
    }
    let highest = hard_states
        .iter()
        .map(|(n, _)| *n)
        .chain(log_keys.iter().map(|(n, _)| *n))
        .max()
        .unwrap_or(0) as usize;
    let n = nodes
        .or(meta.as_ref().map(|m| m.config.nodes))
        .unwrap_or(highest);
    if n > MAX_NODES {
        // Before allocating anything for it: a damaged count must not
        // exhaust memory.
        return Err(match nodes {
            Some(_) => {
                IdbError::InvalidInput(format!("a cluster has 1 to {MAX_NODES} nodes, not {n}"))
            }
            None => IdbError::corrupt(
                format!("{SIM} {META_KEY:?}"),
                format!("the configuration says {n} nodes; a cluster has 1 to {MAX_NODES}"),
            ),
        });
    }
    let mut out: Vec<Durable<Command>> = (0..n)
        .map(|_| Durable {
            hard_state: HardState::default(),
            log: Vec::new(),
        })
        .collect();
    let outside = |record: &str, node: u64| {
        IdbError::corrupt(
            record,
            format!("node {node} is not in this {n}-node cluster"),
        )
    };
    for (node, hs) in hard_states {
        let slot = out
            .get_mut(node as usize - 1)
            .ok_or_else(|| outside(&format!("{HARD_STATE} {node}"), node))?;
        slot.hard_state = hs;
    }
    for ((node, index), (_, v)) in log_keys.into_iter().zip(log) {
        let record = format!("{LOG} [{node}, {index}]");
        let slot = out
            .get_mut(node as usize - 1)
            .ok_or_else(|| outside(&record, node))?;
        let expected = slot.log.len() as u64 + 1;
        if index != expected {
            // Keys come sorted: a jump is a hole before this record.
            return Err(IdbError::corrupt(
                format!("{LOG} [{node}, {expected}]"),
                format!("missing: node {node}'s log goes on at index {index} after it"),
            ));
        }
        let entry: Entry<Command> = parse_json(&record, v)?;
        if entry.index.0 != index {
            return Err(IdbError::corrupt(
                record,
                format!("it holds the entry for index {}", entry.index),
            ));
        }
        slot.log.push(entry);
    }
    let mut history: Vec<Call> = Vec::new();
    for (k, v) in records(&o, CALLS)? {
        let record = format!("{CALLS} {}", show_key(k));
        let id = whole(k).ok_or_else(|| IdbError::corrupt(&record, "the key is not a call id"))?;
        let expected = history.len() as u64;
        if id != expected {
            return Err(IdbError::corrupt(
                format!("{CALLS} {expected}"),
                format!("missing: the history goes on at call {id} after it"),
            ));
        }
        let call: Call = parse_json(&record, v)?;
        if call.id != id {
            return Err(IdbError::corrupt(
                record,
                format!("it holds call {}", call.id),
            ));
        }
        history.push(call);
    }
    Ok(Loaded {
        meta,
        nodes: out,
        calls: history,
    })
}

#[cfg(test)]
mod tests {
    //! The record formats alone, without IndexedDB (natively and in the
    //! browsers); `tests/idb.rs` stores and reads them through
    //! `www/store.js`.

    use super::*;
    use crate::kv::{ClientId, Op};
    use crate::raft::{LogIndex, LogWrite, NodeId, Payload, Term};
    use crate::storage::WriteBatch;

    fn entry(index: u64, term: u64) -> Entry<Command> {
        Entry {
            term: Term(term),
            index: LogIndex(index),
            payload: Payload::Command(Command {
                client: ClientId(1),
                seq: index,
                op: Op::Put {
                    key: "k\"\n\u{1}é".into(),
                    value: "v".into(),
                }
                .into(),
            }),
        }
    }

    fn hs(term: u64, vote: Option<u32>) -> HardState {
        HardState {
            current_term: Term(term),
            voted_for: vote.map(NodeId),
        }
    }

    fn node_write(id: u64, node: u32, from: u64, entries: Vec<Entry<Command>>) -> DurableWrite {
        DurableWrite {
            id,
            record: DurableRecord::Node {
                node: NodeId(node),
                batch: WriteBatch {
                    hard_state: Some(hs(2, Some(node))),
                    log_write: Some(LogWrite {
                        from: LogIndex(from),
                        entries,
                    }),
                },
            },
        }
    }

    fn meta(nodes: usize) -> SimMeta {
        SimMeta {
            seed: "18446744073709551615".into(),
            config: SimConfig {
                nodes,
                ..SimConfig::default()
            },
            now_us: 9_007_199_254_740_993,
            epoch: 3,
            actions: Vec::new(),
        }
    }

    fn empty() -> Durable<Command> {
        Durable {
            hard_state: HardState::default(),
            log: Vec::new(),
        }
    }

    fn call(id: u64) -> Call {
        Call {
            id,
            client: ClientId(1),
            op: Op::Get { key: "k".into() }.into(),
            invoke_us: 5,
            return_us: None,
            outcome: None,
        }
    }

    fn text(v: &impl ToJson) -> String {
        json::to_string(v)
    }

    /// What `store.load()` would return for these records.
    fn raw(
        meta: Option<&str>,
        hard: &[(&str, &str)],
        log: &[(&str, &str)],
        calls: &[(&str, &str)],
    ) -> String {
        let list = |records: &[(&str, &str)]| {
            let items: Vec<String> = records.iter().map(|(k, v)| format!("[{k},{v}]")).collect();
            format!("[{}]", items.join(","))
        };
        let mut out = String::from("{");
        if let Some(m) = meta {
            out.push_str(&format!("\"meta\":{m},"));
        }
        out.push_str(&format!(
            "\"hard_state\":{},\"log\":{},\"calls\":{}}}",
            list(hard),
            list(log),
            list(calls)
        ));
        out
    }

    /// `v`'s JSON text as the JSON string a record holds.
    fn stored(v: &impl ToJson) -> String {
        json::to_string(&text(v))
    }

    fn record_of(e: &IdbError) -> &str {
        match e {
            IdbError::Storage(StorageError::Corrupt { record, .. }) => record,
            _ => panic!("not a CorruptError: {e}"),
        }
    }

    /// A base clears every store, then puts every node's hard state and
    /// log and every call; a node write puts its hard state, deletes its
    /// log from `from` on and puts the new entries; the meta record goes
    /// last.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn plans_a_write_set_in_order() {
        let set = WriteSet {
            base: Some(Baseline {
                nodes: vec![
                    Durable {
                        hard_state: hs(1, None),
                        log: vec![entry(1, 1)],
                    },
                    empty(),
                ],
                calls: vec![call(0)],
            }),
            writes: vec![
                node_write(7, 2, 1, vec![entry(1, 1), entry(2, 2)]),
                DurableWrite {
                    id: 8,
                    record: DurableRecord::Call(call(1)),
                },
            ],
            meta: Some(meta(2)),
        };
        let ops = plan(&set).unwrap();
        let mut want: Vec<IdbOp> = STORES.iter().map(|&store| IdbOp::Clear { store }).collect();
        let put = |store, key, value| IdbOp::Put { store, key, value };
        want.extend([
            put(HARD_STATE, Key::Num(1), text(&hs(1, None))),
            put(LOG, Key::Pair(1, 1), text(&entry(1, 1))),
            put(HARD_STATE, Key::Num(2), text(&HardState::default())),
            put(CALLS, Key::Num(0), text(&call(0))),
            put(HARD_STATE, Key::Num(2), text(&hs(2, Some(2)))),
            IdbOp::DeleteRange {
                store: LOG,
                from: Key::Pair(2, 1),
                to: Key::Pair(2, MAX_SAFE),
            },
            put(LOG, Key::Pair(2, 1), text(&entry(1, 1))),
            put(LOG, Key::Pair(2, 2), text(&entry(2, 2))),
            put(CALLS, Key::Num(1), text(&call(1))),
            put(SIM, Key::Text(META_KEY.into()), text(&meta(2))),
        ]);
        assert_eq!(ops, want);
        assert_eq!(set.last_id(), Some(8));
    }

    /// The plan's JSON text: values as JSON strings (escaped so that they
    /// read back exactly, `u64`s beyond 2^53 included), keys as numbers or
    /// `[node, index]`, and the id to confirm.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn plan_json_is_what_store_js_takes() {
        let set = WriteSet {
            writes: vec![node_write(4, 3, 2, vec![entry(2, 1)])],
            meta: Some(meta(3)),
            ..WriteSet::default()
        };
        let text_of = plan_json(&plan(&set).unwrap(), set.last_id());
        let doc = json::parse(&text_of).unwrap();
        let o = doc.obj().unwrap();
        assert_eq!(o.req::<u64>("last").unwrap(), 4);
        let ops: Vec<Json> = o.req("ops").unwrap();
        let shown: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Json::Arr(items) => {
                    let kind = items[0].str().unwrap();
                    let store = items[1].str().unwrap();
                    let keys = if kind == "put" {
                        &items[2..3]
                    } else {
                        &items[2..]
                    };
                    let keys: Vec<String> = keys.iter().map(show_key).collect();
                    format!("{kind} {store} {}", keys.join(" "))
                }
                _ => panic!("an op is an array: {op:?}"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "put hard_state 3",
                "delete log [3, 2] [3, 9007199254740991]",
                "put log [3, 2]",
                "put sim \"meta\"",
            ]
        );
        // The values read back exactly.
        let Json::Arr(put_log) = &ops[2] else {
            unreachable!()
        };
        let value = put_log[3].str().unwrap();
        assert_eq!(
            json::from_str::<Entry<Command>>(value).unwrap(),
            entry(2, 1)
        );
        let Json::Arr(put_meta) = &ops[3] else {
            unreachable!()
        };
        assert_eq!(
            json::from_str::<SimMeta>(put_meta[3].str().unwrap()).unwrap(),
            meta(3)
        );
        // Nothing to confirm: `null`.
        let none = plan_json(&[IdbOp::Clear { store: LOG }], None);
        assert_eq!(none, r#"{"last":null,"ops":[["clear","log"]]}"#);
    }

    /// Writes that cannot be stored are refused while planning, before any
    /// I/O: a log write that is not contiguous, a write for node 0, a log
    /// change from index 0, an id too large for a key.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn planning_refuses_what_cannot_be_stored() {
        let refused = |w: DurableWrite| {
            let set = WriteSet {
                writes: vec![node_write(1, 1, 1, vec![entry(1, 1)]), w],
                ..WriteSet::default()
            };
            match plan(&set) {
                Err(IdbError::InvalidInput(why)) => why,
                other => panic!("planned: {other:?}"),
            }
        };
        let why = refused(node_write(2, 1, 2, vec![entry(2, 1), entry(4, 1)]));
        assert!(why.contains("not contiguous"), "{why}");
        let why = refused(node_write(2, 0, 1, vec![]));
        assert!(why.contains("node 0"), "{why}");
        let why = refused(node_write(2, 1, 0, vec![]));
        assert!(why.contains("index 0"), "{why}");
        let why = refused(DurableWrite {
            id: 2,
            record: DurableRecord::Call(call(MAX_SAFE + 1)),
        });
        assert!(why.contains("too large"), "{why}");
    }

    /// What `store.load()` returned, assembled: the meta record, every
    /// node (one that never wrote is empty), the history; the cluster size
    /// from the meta record, the caller, or the highest node id.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn assembles_what_a_read_returned() {
        let m = stored(&meta(3));
        let h = stored(&hs(2, Some(1)));
        let (e1, e2) = (stored(&entry(1, 1)), stored(&entry(2, 2)));
        let c0 = stored(&call(0));
        let got = assemble(
            &raw(
                Some(&m),
                &[("2", &h)],
                &[("[2,1]", &e1), ("[2,2]", &e2)],
                &[("0", &c0)],
            ),
            None,
        )
        .unwrap();
        assert_eq!(got.meta, Some(meta(3)), "u64s beyond 2^53 exact");
        assert_eq!(got.nodes.len(), 3);
        assert_eq!(got.nodes[0], empty());
        assert_eq!(got.nodes[1].hard_state, hs(2, Some(1)));
        assert_eq!(got.nodes[1].log, vec![entry(1, 1), entry(2, 2)]);
        assert_eq!(got.calls, vec![call(0)]);
        // No meta: the highest node id, or what the caller says.
        let no_meta = raw(None, &[("2", &h)], &[], &[]);
        assert_eq!(assemble(&no_meta, None).unwrap().nodes.len(), 2);
        assert_eq!(assemble(&no_meta, Some(5)).unwrap().nodes.len(), 5);
        assert_eq!(assemble("{}", None).unwrap(), Loaded::default());
        // The input itself must be what store.load() gives.
        for bad in ["[", "[]", r#"{"log": 3}"#, r#"{"log": [[1]]}"#] {
            let err = assemble(bad, None).unwrap_err();
            assert!(matches!(err, IdbError::InvalidInput(_)), "{bad}: {err}");
        }
    }

    /// Damaged records are `CorruptError`s naming the record, never panics:
    /// values that are not JSON, not text, or of the wrong shape; keys of
    /// the wrong shape or out of range; holes in a log or the history; a
    /// record under another record's key; a node count beyond 9.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn damaged_records_are_named() {
        let m = stored(&meta(3));
        let h = stored(&hs(2, Some(1)));
        let (e1, e2, e3) = (
            stored(&entry(1, 1)),
            stored(&entry(2, 1)),
            stored(&entry(3, 1)),
        );
        let (c0, c1) = (stored(&call(0)), stored(&call(1)));
        let cases: Vec<(String, &str, &str)> = vec![
            (
                raw(Some("\"{\\\"seed\\\":1}\""), &[], &[], &[]),
                "sim \"meta\"",
                "expected a string",
            ),
            (
                raw(Some("null"), &[], &[], &[]),
                "sim \"meta\"",
                "not a JSON string",
            ),
            (
                raw(Some(&m), &[("1", "\"not json {\"")], &[], &[]),
                "hard_state 1",
                "not valid",
            ),
            (
                raw(Some(&m), &[("0", &h)], &[], &[]),
                "hard_state 0",
                "not a node id",
            ),
            (
                raw(Some(&m), &[("\"x\"", &h)], &[], &[]),
                "hard_state \"x\"",
                "not a node id",
            ),
            (
                raw(Some(&m), &[("null", &h)], &[], &[]),
                "hard_state null",
                "not a node id",
            ),
            (
                raw(Some(&m), &[("1.5", &h)], &[], &[]),
                "hard_state 1.5",
                "not a node id",
            ),
            (
                raw(Some(&m), &[("4", &h)], &[], &[]),
                "hard_state 4",
                "not in this 3-node",
            ),
            (
                raw(Some(&m), &[], &[("[1,1]", &e1), ("[1,2]", "3")], &[]),
                "log [1, 2]",
                "not a JSON string",
            ),
            (
                raw(Some(&m), &[], &[("[1,1]", &e1), ("[1,3]", &e3)], &[]),
                "log [1, 2]",
                "missing",
            ),
            (
                raw(Some(&m), &[], &[("[1,2]", &e2)], &[]),
                "log [1, 1]",
                "missing",
            ),
            (
                raw(Some(&m), &[], &[("[1,1]", &e2)], &[]),
                "log [1, 1]",
                "entry for index 2",
            ),
            (
                raw(Some(&m), &[], &[("[10,1]", &e1)], &[]),
                "log [10, 1]",
                "not [node, index]",
            ),
            (
                raw(Some(&m), &[], &[("[1,0]", &e1)], &[]),
                "log [1, 0]",
                "not [node, index]",
            ),
            (
                raw(Some(&m), &[], &[("[1]", &e1)], &[]),
                "log [1]",
                "not [node, index]",
            ),
            (
                raw(Some(&m), &[], &[("1", &e1)], &[]),
                "log 1",
                "not [node, index]",
            ),
            (
                raw(Some(&m), &[], &[], &[("0", &c0), ("2", &c1)]),
                "calls 1",
                "missing",
            ),
            (
                raw(Some(&m), &[], &[], &[("0", &c1)]),
                "calls 0",
                "it holds call 1",
            ),
            (
                raw(Some(&m), &[], &[], &[("0", "\"[]\"")]),
                "calls 0",
                "not valid",
            ),
            (
                raw(Some(&m), &[], &[], &[("-1", &c0)]),
                "calls -1",
                "not a call id",
            ),
            (
                raw(Some(&m), &[], &[], &[("9007199254740992", &c0)]),
                "calls 9007199254740992",
                "not a call id",
            ),
        ];
        for (input, record, detail) in cases {
            let err = assemble(&input, None).unwrap_err();
            assert_eq!(record_of(&err), record, "{input}: {err}");
            assert!(err.to_string().contains(detail), "{input}: {err}");
            assert_eq!(err.js_name(), "CorruptError");
        }
        // A node count beyond 9: refused before anything is allocated.
        let mut big = meta(3);
        big.config.nodes = 1 << 30;
        let err = assemble(&raw(Some(&stored(&big)), &[], &[], &[]), None).unwrap_err();
        assert_eq!(record_of(&err), "sim \"meta\"", "{err}");
        let err = assemble("{}", Some(1 << 30)).unwrap_err();
        assert!(matches!(err, IdbError::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("1 to 9"), "{err}");
    }
}

//! IndexedDB persistence: the browser's durable copy of a whole cluster
//! (Raft Figure 2, "persistent state on all servers", for every node, plus
//! the simulation around them), so that a page reload resumes the cluster.
//!
//! This module owns the database schema and every IndexedDB call; it knows
//! nothing about time or the event loop beyond waiting for IndexedDB's own
//! events. The simulator side (what to write, what to confirm) lives in
//! [`super::persist`].
//!
//! # Schema
//!
//! One database per saved cluster, named `raftlab-<name>`, at version
//! [`SCHEMA_VERSION`]. Keys are out of line; every value is a JSON string
//! ([`crate::json`]), so that `u64`s survive exactly and a damaged record is
//! detected when it is read instead of being silently misread.
//!
//! | store        | key                          | value                              |
//! |--------------|------------------------------|------------------------------------|
//! | `hard_state` | node id (number)             | [`HardState`] (term, vote)         |
//! | `log`        | `[node, index]` (numbers)    | [`Entry`] of [`Command`]           |
//! | `snapshots`  | node id                      | reserved for snapshots; empty      |
//! | `sim`        | `"meta"`                     | [`SimMeta`]: seed, config, clock…  |
//! | `calls`      | call id (number)             | [`Call`]: the clients' history     |
//!
//! Version 1 had only `hard_state` and `log` (same keys and values); opening
//! it upgrades it in place to version 2, keeping its data. A database from a
//! newer version of the page is refused with [`IdbError::NewerSchema`] and
//! left untouched.
//!
//! # Writes
//!
//! [`Store::write_set`] applies one [`WriteSet`] in ONE read-write
//! transaction over every store, and returns only when the transaction has
//! completed: all of it is durable, or none of it is. A node's
//! [`WriteBatch`](crate::storage::WriteBatch) keeps the storage trait's
//! meaning: put the hard state; delete the log range `[node, from]` to
//! `[node, +inf)`, then put the new entries. IndexedDB runs the requests of
//! a transaction, and read-write transactions over the same stores, in the
//! order they were made, so write sets issued in order are applied in order.
//! A write never reads, so it cannot see a gap it would leave; [`Store::load_cluster`]
//! checks for gaps instead.
//!
//! Transactions use the browser's default durability hint: a completed
//! transaction survives a reload or a crashed tab, which is the "power
//! loss" this page models.
//!
//! # Reads
//!
//! [`Store::load_cluster`] reads everything in one read-only transaction
//! and validates it: a record that is not JSON of the expected shape, a key
//! of the wrong shape, or a log or history with a hole is a
//! [`StorageError::Corrupt`] naming the record (`log [2, 17]`). It never
//! panics on stored data.

use crate::check::history::Call;
use crate::json::{self, FromJson, Json, JsonError, JsonOut, ToJson};
use crate::kv::Command;
use crate::raft::{Entry, HardState};
use crate::sim::{DurableRecord, DurableWrite, SimConfig, MAX_NODES};
use crate::storage::{Durable, StorageError};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{
    DomException, Event, EventTarget, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore,
    IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
};

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 2;
/// Every cluster's database name starts with this.
pub const DB_PREFIX: &str = "raftlab-";
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
/// The stores of schema version 1.
pub const STORES_V1: [&str; 2] = [HARD_STATE, LOG];
/// The stores of the current schema.
pub const STORES: [&str; 5] = [HARD_STATE, LOG, SNAPSHOTS, SIM, CALLS];

/// The largest integer a JavaScript number (and so an IndexedDB key) holds
/// exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

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

/// One atomic write: the argument of [`Store::write_set`] (and, as JSON, of
/// `store.write`).
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

/// Everything a store holds, validated: what [`Store::load_cluster`]
/// returns (and, as JSON, `store.load`).
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

impl FromJson for WriteSet {
    fn from_json(v: &Json) -> Result<WriteSet, JsonError> {
        let o = v.obj()?;
        Ok(WriteSet {
            base: o.opt("base")?,
            writes: o.or_default("writes")?,
            meta: o.opt("meta")?,
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

/// What went wrong with IndexedDB, with what a person can do about it.
#[derive(Clone, Debug, PartialEq)]
pub enum IdbError {
    /// No IndexedDB here (private browsing in some browsers, storage
    /// disabled, a sandboxed frame).
    Unavailable(String),
    /// The database was written by a newer version of the page.
    NewerSchema {
        /// The database's name.
        name: String,
        /// Its version, when it could be read.
        found: Option<u32>,
        /// The version this code knows.
        supported: u32,
    },
    /// Another tab keeps an old connection open and does not let go.
    Blocked {
        /// The database's name.
        name: String,
        /// What was being done.
        doing: &'static str,
    },
    /// The browser's storage quota is used up.
    QuotaExceeded(String),
    /// The connection was closed (the database was deleted or upgraded
    /// elsewhere, or [`Store::close`] was called).
    Closed(String),
    /// The caller's input was malformed (not stored data).
    InvalidInput(String),
    /// Stored data is corrupt, or the backend failed otherwise.
    Storage(StorageError),
}

impl IdbError {
    /// A short name for JavaScript's `error.name`, to tell errors apart.
    pub fn js_name(&self) -> &'static str {
        match self {
            IdbError::Unavailable(_) => "IndexedDBUnavailableError",
            IdbError::NewerSchema { .. } => "NewerSchemaError",
            IdbError::Blocked { .. } => "BlockedError",
            IdbError::QuotaExceeded(_) => "QuotaExceededError",
            IdbError::Closed(_) => "ClosedError",
            IdbError::InvalidInput(_) => "InvalidInputError",
            IdbError::Storage(StorageError::Corrupt { .. }) => "CorruptError",
            IdbError::Storage(StorageError::Gap { .. }) => "CorruptError",
            IdbError::Storage(StorageError::Backend(_)) => "StorageError",
        }
    }

    /// A JavaScript `Error` with [`IdbError::js_name`] as its `name` and the
    /// readable message.
    pub fn to_js(&self) -> JsValue {
        let e = js_sys::Error::new(&self.to_string());
        e.set_name(self.js_name());
        e.into()
    }

    fn corrupt(record: impl Into<String>, detail: impl Into<String>) -> IdbError {
        IdbError::Storage(StorageError::Corrupt {
            record: record.into(),
            detail: detail.into(),
        })
    }

    fn backend(why: impl Into<String>) -> IdbError {
        IdbError::Storage(StorageError::Backend(why.into()))
    }
}

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdbError::Unavailable(why) => write!(
                f,
                "IndexedDB is not available ({why}); the cluster runs in memory only \
                 and a reload starts over"
            ),
            IdbError::NewerSchema {
                name,
                found,
                supported,
            } => {
                let found =
                    found.map_or_else(|| "a newer version".into(), |v| format!("version {v}"));
                write!(
                    f,
                    "the saved cluster {name:?} was written by a newer raftlab (schema \
                     {found}; this page knows version {supported}); reload the newest page, \
                     or delete the saved cluster. Nothing was changed"
                )
            }
            IdbError::Blocked { name, doing } => write!(
                f,
                "{doing} the saved cluster {name:?} is blocked by another tab that keeps it \
                 open; close the other raftlab tabs and try again"
            ),
            IdbError::QuotaExceeded(why) => write!(
                f,
                "the browser's storage quota is used up ({why}); nothing of this write was \
                 stored. Delete saved clusters or free space, or carry on in memory"
            ),
            IdbError::Closed(why) => write!(
                f,
                "the database connection is closed ({why}); it was deleted or upgraded in \
                 another tab, or closed. Open the store again"
            ),
            IdbError::InvalidInput(why) => write!(f, "invalid input: {why}"),
            IdbError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IdbError {}

/// `DOMException` or `Error` name and message of a thrown value.
fn describe(e: &JsValue) -> (String, String) {
    if let Some(d) = e.dyn_ref::<DomException>() {
        (d.name(), d.message())
    } else if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        (err.name().into(), err.message().into())
    } else if let Some(s) = e.as_string() {
        ("Error".into(), s)
    } else {
        ("Error".into(), format!("{e:?}"))
    }
}

/// Classify an exception or an `error` of a request or transaction.
fn from_js(what: &str, e: &JsValue) -> IdbError {
    let (name, message) = describe(e);
    match name.as_str() {
        "QuotaExceededError" => IdbError::QuotaExceeded(format!("{what}: {message}")),
        "InvalidStateError" => IdbError::Closed(format!("{what}: {message}")),
        _ => IdbError::backend(format!("{what} failed: {name}: {message}")),
    }
}

// ----- Waiting for IndexedDB events -----------------------------------------

type Listener = Closure<dyn FnMut(Event)>;

/// Event listeners that are removed when this is dropped (so a future that
/// is dropped early never leaves a listener that calls freed Rust code).
struct Listening {
    target: EventTarget,
    listeners: Vec<(&'static str, Listener)>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        for (name, cb) in &self.listeners {
            let _ = self
                .target
                .remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        }
    }
}

/// Wait for the first of the events `names` on `target`; returns its
/// position in `names`. No polling: a Promise resolved by the listener.
async fn first_event(target: &EventTarget, names: &[&'static str]) -> Result<usize, IdbError> {
    let mut resolve: Option<js_sys::Function> = None;
    let promise = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));
    let resolve = resolve.ok_or_else(|| IdbError::backend("could not create a Promise"))?;
    let mut listening = Listening {
        target: target.clone(),
        listeners: Vec::with_capacity(names.len()),
    };
    for (i, name) in names.iter().enumerate() {
        let resolve = resolve.clone();
        let cb: Listener = Closure::new(move |_ev: Event| {
            let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::from(i as u32));
        });
        target
            .add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())
            .map_err(|e| from_js("listening for IndexedDB events", &e))?;
        listening.listeners.push((name, cb));
    }
    let got = JsFuture::from(promise)
        .await
        .map_err(|e| from_js("waiting for IndexedDB", &e))?;
    drop(listening);
    got.as_f64()
        .map(|i| i as usize)
        .ok_or_else(|| IdbError::backend("unexpected event result"))
}

/// Wait until `tx` completes; an abort becomes its error.
async fn finish(tx: &IdbTransaction, what: &str) -> Result<(), IdbError> {
    match first_event(tx, &["complete", "abort"]).await? {
        0 => Ok(()),
        _ => Err(match tx.error() {
            Some(e) => from_js(what, &e.into()),
            None => IdbError::backend(format!("{what} was aborted")),
        }),
    }
}

/// The request's error, as an [`IdbError`].
fn request_error(req: &IdbRequest, what: &str) -> IdbError {
    match req.error() {
        Ok(Some(e)) => from_js(what, &e.into()),
        Ok(None) => IdbError::backend(format!("{what} failed")),
        Err(e) => from_js(what, &e),
    }
}

// ----- Opening --------------------------------------------------------------

/// The IndexedDB factory of this window or worker.
fn factory() -> Result<IdbFactory, IdbError> {
    let v = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .map_err(|e| IdbError::Unavailable(describe(&e).1))?;
    if v.is_null() || v.is_undefined() {
        return Err(IdbError::Unavailable(
            "this browser offers no indexedDB here: private browsing or storage disabled".into(),
        ));
    }
    v.dyn_into::<IdbFactory>()
        .map_err(|_| IdbError::Unavailable("indexedDB is not an IDBFactory".into()))
}

/// The database name for cluster `name`.
pub fn db_name(name: &str) -> Result<String, IdbError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(IdbError::InvalidInput(
            "a saved cluster's name has 1 to 100 characters".into(),
        ));
    }
    Ok(format!("{DB_PREFIX}{name}"))
}

/// Create the stores missing at an upgrade (from nothing, or from version
/// 1, which had only `hard_state` and `log`). Existing stores and their
/// data are kept. Runs inside the `upgradeneeded` event, while the
/// version-change transaction is active.
fn upgrade(req: &IdbOpenDbRequest) -> Result<(), IdbError> {
    let db: IdbDatabase = req
        .result()
        .map_err(|e| from_js("upgrading", &e))?
        .dyn_into()
        .map_err(|_| IdbError::backend("upgrading: no database"))?;
    // Version 0 -> 1 made `hard_state` and `log` (STORES_V1); 1 -> 2 adds
    // `snapshots`, `sim` and `calls`. Creating whatever is missing does both
    // steps (and repairs a version 1 database that lost a store), and never
    // touches a store that exists, so version 1 data is kept as it is: its
    // keys and values already have today's shape.
    let existing = db.object_store_names();
    for store in STORES {
        if !existing.contains(store) {
            db.create_object_store(store)
                .map_err(|e| from_js(&format!("creating store {store}"), &e))?;
        }
    }
    Ok(())
}

/// Open an existing database at its own version, without creating it:
/// `None` if there is no such database.
async fn open_existing(full: &str) -> Result<Option<IdbDatabase>, IdbError> {
    let f = factory()?;
    let req = f
        .open(full)
        .map_err(|e| IdbError::Unavailable(describe(&e).1))?;
    let created = Rc::new(Cell::new(false));
    let on_upgrade: Closure<dyn FnMut(Event)> = {
        let req = req.clone();
        let created = created.clone();
        // No version asked: an upgrade means the database did not exist.
        // Abort it, so that asking does not create it.
        Closure::new(move |_ev: Event| {
            created.set(true);
            if let Some(tx) = req.transaction() {
                let _ = tx.abort();
            }
        })
    };
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = first_event(&req, &["success", "error", "blocked"]).await;
    settle_upgrade(&req, &outcome, on_upgrade);
    match outcome? {
        0 => {
            let db: IdbDatabase = req
                .result()
                .map_err(|e| from_js("opening", &e))?
                .dyn_into()
                .map_err(|_| IdbError::backend("opening: no database"))?;
            Ok(Some(db))
        }
        1 if created.get() => Ok(None),
        1 => Err(request_error(&req, "opening")),
        _ => {
            close_when_open(&req);
            Err(IdbError::Blocked {
                name: full.into(),
                doing: "opening",
            })
        }
    }
}

/// Once an open request has settled, its `upgradeneeded` handler goes. But
/// after `blocked` the request is still pending: when the blocking
/// connection closes, the upgrade runs after all, and must still do its
/// work (an upgrade without it would leave a version 2 database without
/// the version 2 stores). The handler is then kept for good (a small,
/// rare leak) instead of being freed under the browser's feet.
fn settle_upgrade(
    req: &IdbOpenDbRequest,
    outcome: &Result<usize, IdbError>,
    on_upgrade: Closure<dyn FnMut(Event)>,
) {
    if matches!(outcome, Ok(2)) {
        on_upgrade.forget();
    } else {
        req.set_onupgradeneeded(None);
    }
}

/// After a `blocked` event the open may still succeed later: close that
/// connection then, since nobody waits for it any more.
fn close_when_open(req: &IdbOpenDbRequest) {
    let r = req.clone();
    let cb = Closure::once_into_js(move |_ev: Event| {
        if let Ok(db) = r.result() {
            if let Ok(db) = db.dyn_into::<IdbDatabase>() {
                db.close();
            }
        }
    });
    req.set_onsuccess(Some(cb.unchecked_ref()));
}

/// An open connection; closed when the last [`Store`] holding it goes.
struct Conn {
    db: IdbDatabase,
    name: String,
    closed: Rc<Cell<bool>>,
    _on_versionchange: Closure<dyn FnMut(Event)>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

// ----- Operations ---------------------------------------------------------------

/// An IndexedDB key.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    /// A number (node id, call id).
    Num(f64),
    /// `[a, b]`: a log entry's `[node, index]`.
    Pair(f64, f64),
    /// A string (`"meta"`).
    Text(String),
}

impl Key {
    fn to_js(&self) -> JsValue {
        match self {
            Key::Num(n) => JsValue::from_f64(*n),
            Key::Pair(a, b) => {
                js_sys::Array::of2(&JsValue::from_f64(*a), &JsValue::from_f64(*b)).into()
            }
            Key::Text(s) => JsValue::from_str(s),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Numbers as JavaScript writes them (no float printing in the wasm).
            Key::Num(n) => f.write_str(&super::show_number(*n)),
            Key::Pair(a, b) => write!(
                f,
                "[{}, {}]",
                super::show_number(*a),
                super::show_number(*b)
            ),
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

fn key_num(v: u64, what: &str) -> Result<f64, IdbError> {
    if v > MAX_SAFE {
        return Err(IdbError::InvalidInput(format!(
            "{what} {v} is too large for an IndexedDB key"
        )));
    }
    Ok(v as f64)
}

/// `v` as JSON. Writing cannot fail; the `Result` (and `what`, which
/// named the value in serde_json's errors) keep the callers as they are.
fn json<T: ToJson + ?Sized>(v: &T, _what: &str) -> Result<String, IdbError> {
    Ok(json::to_string(v))
}

fn put_entries(
    ops: &mut Vec<IdbOp>,
    node: f64,
    from: u64,
    entries: &[Entry<Command>],
) -> Result<(), IdbError> {
    for (i, e) in entries.iter().enumerate() {
        if e.index.0 != from + i as u64 {
            return Err(IdbError::InvalidInput(format!(
                "the log write for node {} from index {from} is not contiguous at \
                 entry {i} (index {})",
                node as u64, e.index
            )));
        }
        ops.push(IdbOp::Put {
            store: LOG,
            key: Key::Pair(node, key_num(e.index.0, "log index")?),
            value: json(e, "a log entry")?,
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
            let node = (i + 1) as f64;
            ops.push(IdbOp::Put {
                store: HARD_STATE,
                key: Key::Num(node),
                value: json(&d.hard_state, "a hard state")?,
            });
            put_entries(&mut ops, node, 1, &d.log)?;
        }
        for c in &base.calls {
            ops.push(IdbOp::Put {
                store: CALLS,
                key: Key::Num(key_num(c.id, "call id")?),
                value: json(c, "a call")?,
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
                let n = f64::from(node.0);
                if let Some(hs) = &batch.hard_state {
                    ops.push(IdbOp::Put {
                        store: HARD_STATE,
                        key: Key::Num(n),
                        value: json(hs, "a hard state")?,
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
                        to: Key::Pair(n, f64::INFINITY),
                    });
                    put_entries(&mut ops, n, lw.from.0, &lw.entries)?;
                }
            }
            DurableRecord::Call(c) => ops.push(IdbOp::Put {
                store: CALLS,
                key: Key::Num(key_num(c.id, "call id")?),
                value: json(c, "a call")?,
            }),
        }
    }
    if let Some(meta) = &set.meta {
        ops.push(IdbOp::Put {
            store: SIM,
            key: Key::Text(META_KEY.into()),
            value: json(meta, "the simulation record")?,
        });
    }
    Ok(ops)
}

/// Make every request of `ops` in `tx`. A request that throws (an invalid
/// key, a closed connection) stops here; the caller aborts.
fn issue(tx: &IdbTransaction, ops: &[IdbOp]) -> Result<(), IdbError> {
    let mut stores: Vec<(&'static str, IdbObjectStore)> = Vec::new();
    let mut store = |name: &'static str| -> Result<IdbObjectStore, IdbError> {
        if let Some((_, s)) = stores.iter().find(|(n, _)| *n == name) {
            return Ok(s.clone());
        }
        let s = tx
            .object_store(name)
            .map_err(|e| from_js(&format!("opening store {name}"), &e))?;
        stores.push((name, s.clone()));
        Ok(s)
    };
    for op in ops {
        match op {
            IdbOp::Clear { store: name } => {
                store(name)?
                    .clear()
                    .map_err(|e| from_js(&format!("clearing {name}"), &e))?;
            }
            IdbOp::Put {
                store: name,
                key,
                value,
            } => {
                store(name)?
                    .put_with_key(&JsValue::from_str(value), &key.to_js())
                    .map_err(|e| from_js(&format!("writing {name} {key}"), &e))?;
            }
            IdbOp::DeleteRange {
                store: name,
                from,
                to,
            } => {
                let range = IdbKeyRange::bound(&from.to_js(), &to.to_js())
                    .map_err(|e| from_js(&format!("deleting {name} {from}..{to}"), &e))?;
                store(name)?
                    .delete(&range)
                    .map_err(|e| from_js(&format!("deleting {name} {from}..{to}"), &e))?;
            }
        }
    }
    Ok(())
}

// ----- Reading ------------------------------------------------------------------

fn parse_json<T: FromJson>(record: &str, v: &JsValue) -> Result<T, IdbError> {
    let text = v
        .as_string()
        .ok_or_else(|| IdbError::corrupt(record, "the value is not a JSON string"))?;
    json::from_str(&text).map_err(|e| IdbError::corrupt(record, format!("not valid: {e}")))
}

/// A key that must be a whole number from 0 to 2^53 - 1.
fn whole(v: &JsValue) -> Option<u64> {
    let n = v.as_f64()?;
    (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE as f64).then_some(n as u64)
}

fn show_key(k: &JsValue) -> String {
    js_sys::JSON::stringify(k)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{k:?}"))
}

/// A finished `getAll` / `getAllKeys` request's array.
fn array(req: &IdbRequest, what: &str) -> Result<js_sys::Array, IdbError> {
    req.result()
        .map_err(|e| from_js(what, &e))?
        .dyn_into::<js_sys::Array>()
        .map_err(|_| IdbError::backend(format!("{what}: the result is not an array")))
}

/// Validate what one read transaction returned.
fn assemble(
    meta: &JsValue,
    hard: (&js_sys::Array, &js_sys::Array),
    log: (&js_sys::Array, &js_sys::Array),
    calls: (&js_sys::Array, &js_sys::Array),
    nodes: Option<usize>,
) -> Result<Loaded, IdbError> {
    let meta: Option<SimMeta> = if meta.is_undefined() {
        None
    } else {
        Some(parse_json(&format!("{SIM} {META_KEY:?}"), meta)?)
    };
    // Hard states and log keys, checked before deciding the cluster's size.
    let mut hard_states: Vec<(u64, HardState)> = Vec::new();
    for (k, v) in hard.0.iter().zip(hard.1.iter()) {
        let record = format!("{HARD_STATE} {}", show_key(&k));
        let node = whole(&k)
            .filter(|n| (1..=MAX_NODES as u64).contains(n))
            .ok_or_else(|| IdbError::corrupt(&record, "the key is not a node id (1 to 9)"))?;
        hard_states.push((node, parse_json(&record, &v)?));
    }
    let mut log_keys: Vec<(u64, u64)> = Vec::new();
    for k in log.0.iter() {
        let record = format!("{LOG} {}", show_key(&k));
        let pair = k
            .dyn_ref::<js_sys::Array>()
            .filter(|a| a.length() == 2)
            .and_then(|a| Some((whole(&a.get(0))?, whole(&a.get(1))?)))
            .filter(|(n, i)| (1..=MAX_NODES as u64).contains(n) && *i >= 1)
            .ok_or_else(|| IdbError::corrupt(&record, "the key is not [node, index]"))?;
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
    for ((node, index), v) in log_keys.into_iter().zip(log.1.iter()) {
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
        let entry: Entry<Command> = parse_json(&record, &v)?;
        if entry.index.0 != index {
            return Err(IdbError::corrupt(
                record,
                format!("it holds the entry for index {}", entry.index),
            ));
        }
        slot.log.push(entry);
    }
    let mut history: Vec<Call> = Vec::new();
    for (k, v) in calls.0.iter().zip(calls.1.iter()) {
        let record = format!("{CALLS} {}", show_key(&k));
        let id = whole(&k).ok_or_else(|| IdbError::corrupt(&record, "the key is not a call id"))?;
        let expected = history.len() as u64;
        if id != expected {
            return Err(IdbError::corrupt(
                format!("{CALLS} {expected}"),
                format!("missing: the history goes on at call {id} after it"),
            ));
        }
        let call: Call = parse_json(&record, &v)?;
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

// ----- The store ------------------------------------------------------------------

/// One saved cluster's database, open. Cheap to clone (clones share the
/// connection, which closes when the last one goes, or at
/// [`Store::close`]).
///
/// JavaScript:
///
/// ```js
/// const store = await Store.open("demo");          // creates or upgrades
/// await store.write(sim.enablePersistence());       // everything, once
/// const json = sim.takeDurableWrites();             // then, each frame:
/// if (json !== undefined) sim.confirmDurable(await store.write(json));
/// // after a reload:
/// if (await Store.exists("demo")) { const s = await Store.open("demo");
///   if (await s.hasMeta()) sim = Simulation.resume(await s.load()); }
/// ```
#[wasm_bindgen]
#[derive(Clone)]
pub struct Store {
    conn: Rc<Conn>,
}

impl Store {
    /// Open (creating or upgrading) the database of cluster `name`.
    pub async fn connect(name: &str) -> Result<Store, IdbError> {
        let full = db_name(name)?;
        let f = factory()?;
        let req = f
            .open_with_u32(&full, SCHEMA_VERSION)
            .map_err(|e| IdbError::Unavailable(describe(&e).1))?;
        let upgrade_error: Rc<RefCell<Option<IdbError>>> = Rc::new(RefCell::new(None));
        let on_upgrade: Closure<dyn FnMut(Event)> = {
            let req = req.clone();
            let err = upgrade_error.clone();
            Closure::new(move |_ev: Event| {
                if let Err(e) = upgrade(&req) {
                    *err.borrow_mut() = Some(e);
                    if let Some(tx) = req.transaction() {
                        let _ = tx.abort();
                    }
                }
            })
        };
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let outcome = first_event(&req, &["success", "error", "blocked"]).await;
        settle_upgrade(&req, &outcome, on_upgrade);
        match outcome? {
            0 => {
                let db: IdbDatabase = req
                    .result()
                    .map_err(|e| from_js("opening", &e))?
                    .dyn_into()
                    .map_err(|_| IdbError::backend("opening: no database"))?;
                let existing = db.object_store_names();
                if let Some(missing) = STORES.iter().find(|s| !existing.contains(s)) {
                    db.close();
                    return Err(IdbError::corrupt(
                        format!("store {missing}"),
                        format!(
                            "the database is at version {} but lacks this store; delete \
                             the saved cluster",
                            super::show_number(db.version())
                        ),
                    ));
                }
                // Let another tab upgrade or delete this database: close
                // ours instead of blocking it.
                let closed = Rc::new(Cell::new(false));
                let on_versionchange: Closure<dyn FnMut(Event)> = {
                    let db = db.clone();
                    let closed = closed.clone();
                    Closure::new(move |_ev: Event| {
                        closed.set(true);
                        db.close();
                    })
                };
                db.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
                Ok(Store {
                    conn: Rc::new(Conn {
                        db,
                        name: name.trim().to_string(),
                        closed,
                        _on_versionchange: on_versionchange,
                    }),
                })
            }
            1 => {
                if let Some(e) = upgrade_error.borrow_mut().take() {
                    return Err(e);
                }
                let err = req.error().ok().flatten();
                if err.as_ref().map(|e| e.name()).as_deref() == Some("VersionError") {
                    // Read the newer version for the message; best effort.
                    let found = match open_existing(&full).await {
                        Ok(Some(db)) => {
                            let v = db.version() as u32;
                            db.close();
                            Some(v)
                        }
                        _ => None,
                    };
                    return Err(IdbError::NewerSchema {
                        name: name.trim().to_string(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Err(request_error(&req, "opening"))
            }
            _ => {
                close_when_open(&req);
                Err(IdbError::Blocked {
                    name: name.trim().to_string(),
                    doing: "opening",
                })
            }
        }
    }

    /// Whether cluster `name` has a database (of any version). Does not
    /// create one.
    pub async fn present(name: &str) -> Result<bool, IdbError> {
        let full = db_name(name)?;
        match open_existing(&full).await? {
            Some(db) => {
                db.close();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Delete cluster `name`'s database (nothing happens if there is none).
    /// Open [`Store`]s of it in this page and others close themselves.
    pub async fn remove(name: &str) -> Result<(), IdbError> {
        let full = db_name(name)?;
        let req = factory()?
            .delete_database(&full)
            .map_err(|e| IdbError::Unavailable(describe(&e).1))?;
        match first_event(&req, &["success", "error", "blocked"]).await? {
            0 => Ok(()),
            1 => Err(request_error(&req, "deleting")),
            _ => Err(IdbError::Blocked {
                name: name.trim().to_string(),
                doing: "deleting (it will go once the other tabs close it)",
            }),
        }
    }

    fn transaction(
        &self,
        stores: &[&str],
        mode: IdbTransactionMode,
    ) -> Result<IdbTransaction, IdbError> {
        if self.conn.closed.get() {
            return Err(IdbError::Closed(format!("cluster {:?}", self.conn.name)));
        }
        let names = js_sys::Array::new();
        for s in stores {
            names.push(&JsValue::from_str(s));
        }
        self.conn
            .db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(|e| from_js("starting a transaction", &e))
    }

    /// Apply `ops` in one read-write transaction over every store; returns
    /// once it has completed. If any request fails, none of them took
    /// effect.
    pub async fn apply(&self, ops: &[IdbOp]) -> Result<(), IdbError> {
        let tx = self.transaction(&STORES, IdbTransactionMode::Readwrite)?;
        if let Err(e) = issue(&tx, ops) {
            let _ = tx.abort();
            return Err(e);
        }
        finish(&tx, "the write").await
    }

    /// Store `set` atomically (see [`WriteSet`]); returns the id of its last
    /// durable write, to confirm.
    pub async fn write_set(&self, set: &WriteSet) -> Result<Option<u64>, IdbError> {
        let ops = plan(set)?;
        self.apply(&ops).await?;
        Ok(set.last_id())
    }

    /// Read and validate everything stored. `nodes` is the cluster size;
    /// `None` takes it from the stored [`SimMeta`] (or the highest node id
    /// found).
    pub async fn load_cluster(&self, nodes: Option<usize>) -> Result<Loaded, IdbError> {
        let tx = self.transaction(&[SIM, HARD_STATE, LOG, CALLS], IdbTransactionMode::Readonly)?;
        let store = |name: &str| {
            tx.object_store(name)
                .map_err(|e| from_js(&format!("opening store {name}"), &e))
        };
        let req = |r: Result<IdbRequest, JsValue>, what: &str| {
            r.map_err(|e| from_js(&format!("reading {what}"), &e))
        };
        let (sim, hard, log, calls) = (store(SIM)?, store(HARD_STATE)?, store(LOG)?, store(CALLS)?);
        let meta_r = req(sim.get(&JsValue::from_str(META_KEY)), SIM)?;
        let hard_k = req(hard.get_all_keys(), HARD_STATE)?;
        let hard_v = req(hard.get_all(), HARD_STATE)?;
        let log_k = req(log.get_all_keys(), LOG)?;
        let log_v = req(log.get_all(), LOG)?;
        let calls_k = req(calls.get_all_keys(), CALLS)?;
        let calls_v = req(calls.get_all(), CALLS)?;
        finish(&tx, "reading the saved cluster").await?;
        let meta = meta_r.result().map_err(|e| from_js("reading sim", &e))?;
        let pair = |k: &IdbRequest, v: &IdbRequest, what: &str| -> Result<_, IdbError> {
            let (k, v) = (array(k, what)?, array(v, what)?);
            if k.length() != v.length() {
                return Err(IdbError::backend(format!(
                    "reading {what}: keys and values differ in number"
                )));
            }
            Ok((k, v))
        };
        let hard = pair(&hard_k, &hard_v, HARD_STATE)?;
        let log = pair(&log_k, &log_v, LOG)?;
        let calls = pair(&calls_k, &calls_v, CALLS)?;
        assemble(
            &meta,
            (&hard.0, &hard.1),
            (&log.0, &log.1),
            (&calls.0, &calls.1),
            nodes,
        )
    }

    /// Whether the simulation record ([`SimMeta`]) is stored: a cluster was
    /// saved here and can be resumed.
    pub async fn meta_present(&self) -> Result<bool, IdbError> {
        let tx = self.transaction(&[SIM], IdbTransactionMode::Readonly)?;
        let r = tx
            .object_store(SIM)
            .and_then(|s| s.count_with_key(&JsValue::from_str(META_KEY)))
            .map_err(|e| from_js("reading sim", &e))?;
        finish(&tx, "reading sim").await?;
        let n = r.result().map_err(|e| from_js("reading sim", &e))?;
        Ok(n.as_f64().unwrap_or(0.0) > 0.0)
    }

    /// The underlying connection (for tests and tools).
    pub fn database(&self) -> &IdbDatabase {
        &self.conn.db
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("name", &self.conn.name)
            .field("closed", &self.conn.closed.get())
            .finish()
    }
}

fn parse_write_set(text: &str) -> Result<WriteSet, IdbError> {
    json::from_str(text).map_err(|e| {
        IdbError::InvalidInput(format!(
            "store.write takes the JSON of takeDurableWrites or enablePersistence: {e}"
        ))
    })
}

/// A call of one of [`Store`]'s Promise-returning methods.
enum StoreCall {
    Open(String),
    Exists(String),
    Delete(String),
    Write(Store, String),
    Load(Store, Option<u32>),
    HasMeta(Store),
}

/// Run `call` as a Promise. Every Promise-returning method of [`Store`]
/// goes through here, so the wasm holds one future type and one copy of
/// the Promise and task glue around it, instead of one per method (6).
fn promise(call: StoreCall) -> js_sys::Promise {
    future_to_promise(async move { run(call).await.map_err(|e| e.to_js()) })
}

async fn run(call: StoreCall) -> Result<JsValue, IdbError> {
    Ok(match call {
        StoreCall::Open(name) => Store::connect(&name).await?.into(),
        StoreCall::Exists(name) => JsValue::from_bool(Store::present(&name).await?),
        StoreCall::Delete(name) => {
            Store::remove(&name).await?;
            JsValue::UNDEFINED
        }
        StoreCall::Write(store, json) => {
            let set = parse_write_set(&json)?;
            let last = store.write_set(&set).await?;
            last.map_or(JsValue::UNDEFINED, |id| JsValue::from_f64(id as f64))
        }
        StoreCall::Load(store, nodes) => {
            let loaded = store.load_cluster(nodes.map(|n| n as usize)).await?;
            let text = json::to_string(&loaded);
            JsValue::from_str(&text)
        }
        StoreCall::HasMeta(store) => JsValue::from_bool(store.meta_present().await?),
    })
}

#[wasm_bindgen]
impl Store {
    /// `Store.open(name)`: open (creating, or upgrading from an older
    /// schema) the saved cluster `name`. Rejects with an `Error` whose
    /// `name` is `IndexedDBUnavailableError`, `NewerSchemaError` (nothing
    /// is changed), `BlockedError` (another tab holds an old version open)
    /// or `StorageError`.
    #[wasm_bindgen(js_name = open, unchecked_return_type = "Promise<Store>")]
    pub fn open_js(name: String) -> js_sys::Promise {
        promise(StoreCall::Open(name))
    }

    /// `Store.exists(name)`: whether a saved cluster `name` exists; never
    /// creates one. Resolves to a boolean.
    #[wasm_bindgen(js_name = exists, unchecked_return_type = "Promise<boolean>")]
    pub fn exists_js(name: String) -> js_sys::Promise {
        promise(StoreCall::Exists(name))
    }

    /// `Store.deleteCluster(name)`: delete the saved cluster `name` (no
    /// error if there is none). Open stores of it close themselves.
    #[wasm_bindgen(js_name = deleteCluster, unchecked_return_type = "Promise<void>")]
    pub fn delete_cluster_js(name: String) -> js_sys::Promise {
        promise(StoreCall::Delete(name))
    }

    /// The schema version this page reads and writes.
    #[wasm_bindgen(js_name = schemaVersion)]
    pub fn schema_version() -> u32 {
        SCHEMA_VERSION
    }

    /// The saved cluster's name (without the `raftlab-` prefix).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.conn.name.clone()
    }

    /// `store.write(json)`: store the JSON of `sim.takeDurableWrites()` or
    /// `sim.enablePersistence()` (a [`WriteSet`]) in one transaction.
    /// Resolves, once it is durable, to the id of its last write (pass it
    /// to `sim.confirmDurable`), or `undefined` if it had none. Rejects
    /// with `QuotaExceededError`, `ClosedError`, `InvalidInputError` or
    /// `StorageError`; then nothing of it was stored.
    #[wasm_bindgen(unchecked_return_type = "Promise<number | undefined>")]
    pub fn write(&self, json: String) -> js_sys::Promise {
        promise(StoreCall::Write(self.clone(), json))
    }

    /// `store.load(nodes?)`: everything stored, validated, as the JSON
    /// `{"meta": SimMeta | null, "nodes": [Durable…], "calls": [Call…]}`
    /// for `Simulation.resume`. `nodes` defaults to the stored cluster
    /// size. Rejects with `CorruptError` naming the record (`log [2, 17]`)
    /// when stored data is damaged.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn load(&self, nodes: Option<u32>) -> js_sys::Promise {
        promise(StoreCall::Load(self.clone(), nodes))
    }

    /// `store.hasMeta()`: whether a simulation was saved here (resolves to a
    /// boolean).
    #[wasm_bindgen(js_name = hasMeta, unchecked_return_type = "Promise<boolean>")]
    pub fn has_meta_js(&self) -> js_sys::Promise {
        promise(StoreCall::HasMeta(self.clone()))
    }

    /// Close the connection now (later calls reject with `ClosedError`).
    pub fn close(&self) {
        self.conn.closed.set(true);
        self.conn.db.close();
    }
}

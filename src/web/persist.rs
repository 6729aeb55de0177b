//! The facade's side of persistence: what the page stores in IndexedDB
//! and how a reloaded page resumes the cluster from it. The IndexedDB I/O
//! is the page's (`www/store.js`); what is stored, and the checks on what
//! is read back, are Rust's ([`super::idb`]), all synchronous:
//! `enablePersistence` and `takeDurableWrites` return the IndexedDB
//! requests for `store.write`, planned here, and [`assemble_loaded`]
//! (`assembleLoaded`) checks what `store.load` read. See [`super::idb`]
//! for why.
//!
//! Raft's rule (Figure 2: "updated on stable storage before responding to
//! RPCs") holds across the asynchronous boundary with the simulator's
//! durability barrier: with persistence on, every node write and every
//! client call record becomes a durable write; whatever depends on it
//! (messages, client answers) is held until the page confirms it, which it
//! does only after the IndexedDB transaction holding it has completed.
//!
//! The page's loop (`Store` from `www/store.js`, the rest from the wasm):
//!
//! ```js
//! await store.write(sim.enablePersistence());    // everything, once
//! sim.baselineStored();
//! // every frame, after sim.advance(...), one write at a time:
//! const plan = sim.takeDurableWrites();          // undefined: nothing new
//! if (plan !== undefined) sim.confirmDurable(await store.write(plan));
//! // after a reload:
//! sim = Simulation.resume(assembleLoaded(await store.load()));
//! await store.write(sim.enablePersistence());
//! ```
//!
//! Write sets must reach the store in the order they were taken (one
//! `store.write` after the other, which IndexedDB then runs in order).
//! After a failed write, later ones must not be stored without it: call
//! `disablePersistence()` (carry on in memory) or re-base with
//! `enablePersistence()`. The page (`www/persistence.js`) keeps one write
//! in flight and takes what the frames wrote meanwhile when it completes,
//! which gives both for free.
//!
//! The epoch is read back from the client ids in use, and confirmations
//! rely on the barrier's ids being issued, and confirmed, in order. The
//! person's actions are recorded ([`super::actions`]) and stored in
//! [`SimMeta::actions`]; a resume replays those that shape the cluster now
//! (link cuts, background clients).
//!
//! # What is on disk
//!
//! The facade keeps a [`DiskMirror`]: a summary (term, vote, the term of
//! each log entry) of what IndexedDB holds for each node, built from the
//! baseline once the page says it is stored (`baselineStored()`) and
//! brought forward by each confirmed write. `storageReport()` sets it
//! beside each node's own storage, so the page can show what would survive
//! a reload and what is written but still on its way to IndexedDB. A crash
//! of one node in the page keeps its storage, saved or not (its process
//! died, its disk did not); a reload keeps only what IndexedDB holds.

use super::actions::{self, ActionLog};
use super::idb::{self, Baseline, IdbError, Loaded, SimMeta, WriteSet};
use super::{to_js, Simulation};
use crate::check::history::History;
use crate::json::{self, JsonOut, ToJson};
use crate::kv::{ClientId, Command};
use crate::raft::{HardState, LogIndex, NodeId, Term};
use crate::sim::{self, DurableRecord};
use crate::storage::Durable;
use std::collections::VecDeque;
use wasm_bindgen::prelude::*;

/// The most trace events a resumed page keeps in memory.
const MAX_PAGE_TRACE_KEEP: usize = 50_000;

/// Clients of epoch `e` get ids from `e * 1000 + 1` (see
/// [`sim::Simulation::resume`]).
const IDS_PER_EPOCH: u32 = 1000;

fn epoch_of(client: ClientId) -> u32 {
    client.0.saturating_sub(1) / IDS_PER_EPOCH
}

/// What `storageReport()` returns.
struct StorageReport {
    /// Whether the barrier is on.
    enabled: bool,
    /// Whether the baseline (everything as of `enablePersistence()`) is
    /// known to be stored.
    baseline_stored: bool,
    /// Durable writes issued (taken or not) and not yet confirmed.
    unconfirmed_writes: usize,
    /// Messages and client answers held until their write is confirmed.
    held_messages: usize,
    /// The highest epoch whose client ids are in use.
    epoch: u32,
    /// How many of the person's actions are recorded.
    actions: usize,
    /// Per node, what IndexedDB holds beside what the node has written.
    nodes: Vec<NodeStorage>,
}

impl ToJson for StorageReport {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("enabled", &self.enabled);
        out.field("baseline_stored", &self.baseline_stored);
        out.field("unconfirmed_writes", &self.unconfirmed_writes);
        out.field("held_messages", &self.held_messages);
        out.field("epoch", &self.epoch);
        out.field("actions", &self.actions);
        out.field("nodes", &self.nodes);
        out.end_obj();
    }
}

/// One node's durable state, as a summary.
#[derive(Clone, Debug, PartialEq)]
pub struct DurableSummary {
    /// Current term.
    pub term: f64,
    /// Vote in that term.
    pub voted_for: Option<u32>,
    /// Number of log entries.
    pub log_len: f64,
    /// Term of the last entry (0 for an empty log).
    pub last_term: f64,
}

impl ToJson for DurableSummary {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("term", &self.term);
        out.field("voted_for", &self.voted_for);
        out.field("log_len", &self.log_len);
        out.field("last_term", &self.last_term);
        out.end_obj();
    }
}

/// One node in `storageReport()`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStorage {
    /// Node id.
    pub id: u32,
    /// What the node has written (its storage in the page: what a crash
    /// and restart in the page rebuilds it from).
    pub written: DurableSummary,
    /// What IndexedDB holds (what a reload rebuilds it from); `null` when
    /// persistence is off or the baseline is not stored yet.
    pub on_disk: Option<DurableSummary>,
    /// The term or vote written differs from the stored one.
    pub unsaved_hard_state: bool,
    /// Log entries written but not (or not the same) in IndexedDB: the
    /// first index, or `null` if none.
    pub unsaved_from: Option<f64>,
    /// The stored log is longer than the written one: entries removed
    /// (a conflicting suffix truncated, Raft §5.3) but still stored.
    pub unsaved_truncation: bool,
}

impl ToJson for NodeStorage {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("written", &self.written);
        out.field("on_disk", &self.on_disk);
        out.field("unsaved_hard_state", &self.unsaved_hard_state);
        out.field("unsaved_from", &self.unsaved_from);
        out.field("unsaved_truncation", &self.unsaved_truncation);
        out.end_obj();
    }
}

/// What IndexedDB holds for one node, in summary.
#[derive(Clone, Debug, Default)]
struct NodeDisk {
    hard: HardState,
    terms: Vec<Term>,
}

impl NodeDisk {
    fn of(d: &Durable<Command>) -> NodeDisk {
        NodeDisk {
            hard: d.hard_state,
            terms: d.log.iter().map(|e| e.term).collect(),
        }
    }

    fn summary(&self) -> DurableSummary {
        DurableSummary {
            term: self.hard.current_term.0 as f64,
            voted_for: self.hard.voted_for.map(|v| v.0),
            log_len: self.terms.len() as f64,
            last_term: self.terms.last().map_or(0.0, |t| t.0 as f64),
        }
    }
}

/// A taken node write, in summary, until it is confirmed.
#[derive(Clone, Debug)]
struct QueuedWrite {
    id: u64,
    node: NodeId,
    hard: Option<HardState>,
    log: Option<(LogIndex, Vec<Term>)>,
}

/// A summary of what IndexedDB holds, per node (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct DiskMirror {
    /// Confirmed: what IndexedDB holds. `None` until the baseline is
    /// stored, or while persistence is off.
    stored: Option<Vec<NodeDisk>>,
    /// The baseline taken by `enablePersistence()`, until it is stored.
    staged: Option<Vec<NodeDisk>>,
    /// Node writes taken and not yet confirmed, in id order.
    queued: VecDeque<QueuedWrite>,
}

impl DiskMirror {
    fn apply(&mut self, w: QueuedWrite) {
        let Some(d) = self.stored.as_mut().and_then(|n| n.get_mut(w.node.idx())) else {
            return;
        };
        if let Some(h) = w.hard {
            d.hard = h;
        }
        if let Some((from, terms)) = w.log {
            d.terms.truncate(from.0.saturating_sub(1) as usize);
            d.terms.extend(terms);
        }
    }
}

/// Compare what a node wrote with what is stored.
fn node_storage(id: u32, written: &Durable<Command>, stored: Option<&NodeDisk>) -> NodeStorage {
    let len = written.log.len();
    let summary = DurableSummary {
        term: written.hard_state.current_term.0 as f64,
        voted_for: written.hard_state.voted_for.map(|v| v.0),
        log_len: len as f64,
        last_term: written.log.last().map_or(0.0, |e| e.term.0 as f64),
    };
    let Some(s) = stored else {
        return NodeStorage {
            id,
            written: summary,
            on_disk: None,
            unsaved_hard_state: false,
            unsaved_from: None,
            unsaved_truncation: false,
        };
    };
    // Log Matching (Raft §5.3): entries with the same index and term are
    // the same, and so is everything before them. Walk back from the end
    // of the shorter log to the last entry both hold alike: usually no
    // step at all.
    let mut same = len.min(s.terms.len());
    while same > 0 && written.log[same - 1].term != s.terms[same - 1] {
        same -= 1;
    }
    NodeStorage {
        id,
        written: summary,
        on_disk: Some(s.summary()),
        unsaved_hard_state: s.hard != written.hard_state,
        unsaved_from: (same < len).then_some(same as f64 + 1.0),
        unsaved_truncation: s.terms.len() > len,
    }
}

impl Simulation {
    /// The highest epoch whose client id range is in use, by this run's
    /// clients or by any call in the history. A resumed run must use a
    /// higher one, so that no new client reuses a stored session.
    pub fn epoch_in_use(&self) -> u32 {
        let clients = self.inner.clients().iter().map(|c| epoch_of(c.id));
        let calls = self
            .inner
            .history()
            .calls
            .iter()
            .map(|c| epoch_of(c.client));
        clients.chain(calls).max().unwrap_or(0)
    }

    /// The simulation's own record, as of now.
    pub fn meta(&self) -> SimMeta {
        SimMeta {
            seed: self.inner.seed().to_string(),
            config: self.inner.config().clone(),
            now_us: self.inner.now(),
            epoch: self.epoch_in_use(),
            actions: self.actions.values().to_vec(),
        }
    }

    /// Turn the barrier on afresh and return everything to store first:
    /// every node's durable state, the whole history and the meta record,
    /// replacing whatever the store held. Writes issued before are
    /// superseded by it; what they held back stays held, and every node
    /// waits, until the baseline is stored ([`Simulation::mark_baseline_stored`]),
    /// so a retry after a failed write releases nothing early.
    pub fn baseline_write_set(&mut self) -> WriteSet {
        self.inner.rebase_durability();
        let nodes: Vec<Durable<Command>> = self
            .inner
            .node_ids()
            .into_iter()
            .filter_map(|id| self.inner.slot(id).map(|s| s.storage.durable().clone()))
            .collect();
        self.disk = DiskMirror {
            stored: None,
            staged: Some(nodes.iter().map(NodeDisk::of).collect()),
            queued: VecDeque::new(),
        };
        WriteSet {
            base: Some(Baseline {
                nodes,
                calls: self.inner.history().calls.clone(),
            }),
            writes: Vec::new(),
            meta: Some(self.meta()),
        }
    }

    /// The durable writes issued since the last call, with the meta record;
    /// `None` if there are none (unless `always`, which returns the meta
    /// record alone), or if persistence is off.
    pub fn take_write_set(&mut self, always: bool) -> Option<WriteSet> {
        if !self.inner.async_durability() {
            return None;
        }
        let writes = self.inner.take_durable_writes();
        if writes.is_empty() && !always {
            return None;
        }
        for w in &writes {
            if let DurableRecord::Node { node, batch } = &w.record {
                self.disk.queued.push_back(QueuedWrite {
                    id: w.id,
                    node: *node,
                    hard: batch.hard_state,
                    log: batch
                        .log_write
                        .as_ref()
                        .map(|l| (l.from, l.entries.iter().map(|e| e.term).collect())),
                });
            }
        }
        Some(WriteSet {
            base: None,
            writes,
            meta: Some(self.meta()),
        })
    }

    /// Confirm every taken write with id `<= up_to`, in order; returns how
    /// many were confirmed.
    ///
    /// The barrier issues ids in order and this confirms a prefix, so the
    /// unconfirmed ids are one run `[lo, next)` with `next - lo` =
    /// `unconfirmed_writes()`; every one of them `<= up_to` lies in
    /// `(up_to - unconfirmed, up_to]`, which is all this visits.
    pub fn confirm_up_to(&mut self, up_to: u64) -> usize {
        let before = self.inner.unconfirmed_writes();
        let lo = (up_to + 1).saturating_sub(before as u64);
        for id in lo..=up_to {
            self.inner.confirm_durable(id);
        }
        while self.disk.queued.front().is_some_and(|w| w.id <= up_to) {
            if let Some(w) = self.disk.queued.pop_front() {
                self.disk.apply(w);
            }
        }
        before - self.inner.unconfirmed_writes()
    }

    fn report(&self) -> StorageReport {
        StorageReport {
            enabled: self.inner.async_durability(),
            baseline_stored: self.disk.stored.is_some() && self.inner.async_durability(),
            unconfirmed_writes: self.inner.unconfirmed_writes(),
            held_messages: self.inner.held_messages(),
            epoch: self.epoch_in_use(),
            actions: self.actions.len(),
            nodes: self.node_storage(),
        }
    }

    /// The baseline returned by the last `enablePersistence()` is stored.
    pub fn mark_baseline_stored(&mut self) {
        if let Some(nodes) = self.disk.staged.take() {
            self.disk.stored = Some(nodes);
        }
        self.inner.confirm_baseline();
    }

    /// Each node's written state beside what IndexedDB holds.
    pub fn node_storage(&self) -> Vec<NodeStorage> {
        let stored = self
            .disk
            .stored
            .as_ref()
            .filter(|_| self.inner.async_durability());
        self.inner
            .node_ids()
            .into_iter()
            .filter_map(|id| {
                let slot = self.inner.slot(id)?;
                Some(node_storage(
                    id.0,
                    slot.storage.durable(),
                    stored.and_then(|s| s.get(id.idx())),
                ))
            })
            .collect()
    }

    /// Rebuild a cluster from what a store held (see
    /// [`sim::Simulation::resume`]). The new epoch is `epoch`, raised if
    /// needed above every epoch in use in `loaded` (its meta record and its
    /// history), so that new clients never reuse a stored session;
    /// `None` takes the lowest such epoch. Persistence starts off: call
    /// `enablePersistence()` and store what it returns.
    pub fn from_loaded(loaded: Loaded, epoch: Option<u32>) -> Result<Simulation, String> {
        let meta = loaded.meta.ok_or_else(|| {
            "nothing to resume: the store holds no simulation record (sim \"meta\")".to_string()
        })?;
        let seed: u64 = meta.seed.trim().parse().map_err(|_| {
            format!(
                "stored record sim \"meta\" is corrupt: the seed {:?} is not a whole number",
                meta.seed
            )
        })?;
        for (i, c) in loaded.calls.iter().enumerate() {
            if c.id != i as u64 {
                return Err(format!(
                    "stored record calls {i} is corrupt: expected call {i}, found call {}",
                    c.id
                ));
            }
        }
        for (n, d) in loaded.nodes.iter().enumerate() {
            for (i, e) in d.log.iter().enumerate() {
                if e.index.0 != i as u64 + 1 {
                    return Err(format!(
                        "stored record log [{}, {}] is corrupt: it holds index {}",
                        n + 1,
                        i + 1,
                        e.index
                    ));
                }
            }
        }
        let in_use = loaded
            .calls
            .iter()
            .map(|c| epoch_of(c.client))
            .max()
            .unwrap_or(0)
            .max(meta.epoch);
        let lowest = in_use.saturating_add(1);
        let epoch = epoch.map_or(lowest, |e| e.max(lowest));
        let recorded = ActionLog::parse(&meta.actions)?;
        // The page keeps a short trace (the narration's window); a stored
        // record must not make it keep everything.
        let mut config = meta.config;
        config.trace_keep = config.trace_keep.min(MAX_PAGE_TRACE_KEEP);
        let mut inner = sim::Simulation::resume(
            seed,
            config,
            meta.now_us,
            epoch,
            loaded.nodes,
            History {
                calls: loaded.calls,
            },
        )
        .map_err(|e| format!("cannot resume the saved cluster: {e}"))?;
        actions::replay(&mut inner, &recorded)?;
        let mut sim = Simulation::wrap(inner);
        sim.actions = ActionLog::from_recorded(&recorded);
        Ok(sim)
    }
}

/// `set` as the IndexedDB requests that store it, in the JSON text that
/// `store.write` takes ([`idb::plan_json`]). A set that cannot be stored
/// (a log write that is not contiguous, a number too large for a key) is
/// an `Error` named `InvalidInputError`.
fn plan_text(set: &WriteSet) -> Result<String, JsValue> {
    let ops = idb::plan(set).map_err(|e| idb_error(&e))?;
    Ok(idb::plan_json(&ops, set.last_id()))
}

#[wasm_bindgen]
impl Simulation {
    /// Turn persistence on (the durability barrier: messages and answers
    /// wait for storage) and return what to store first, as the requests
    /// `store.write` takes: every node's durable state, the history and the
    /// meta record, replacing what the store held (the write set
    /// [`Simulation::baseline_write_set`], planned by [`idb::plan`]).
    /// Calling it again re-bases the same way.
    #[wasm_bindgen(js_name = enablePersistence)]
    pub fn enable_persistence(&mut self) -> Result<String, JsValue> {
        plan_text(&self.baseline_write_set())
    }

    /// Turn persistence off and carry on in memory: everything held for
    /// storage is released at once.
    #[wasm_bindgen(js_name = disablePersistence)]
    pub fn disable_persistence(&mut self) {
        self.inner.set_async_durability(false);
        self.disk = DiskMirror::default();
    }

    /// The baseline that `enablePersistence()` returned is stored (call it
    /// once `store.write` of it resolved): from now on `storageReport()`
    /// shows what IndexedDB holds for each node.
    #[wasm_bindgen(js_name = baselineStored)]
    pub fn baseline_stored(&mut self) {
        self.mark_baseline_stored();
    }

    /// Whether persistence is on.
    #[wasm_bindgen(js_name = persistenceEnabled)]
    pub fn persistence_enabled(&self) -> bool {
        self.inner.async_durability()
    }

    /// The durable writes issued since the last call, as the requests
    /// `store.write` takes (the write set [`Simulation::take_write_set`],
    /// planned by [`idb::plan`]; `store.write` resolves to the id to pass to
    /// `confirmDurable`). `undefined` when there is nothing new (or
    /// persistence is off); with `always` true, the meta record alone is
    /// returned then (to save a configuration change on an idle cluster).
    ///
    /// The wasm plans the requests itself, rather than handing out the write
    /// set for JavaScript to pass back for planning: that took one more
    /// JSON round trip per frame, and the write-set reader cost the page's
    /// wasm 6.6 KB.
    #[wasm_bindgen(js_name = takeDurableWrites)]
    pub fn take_durable_writes_json(
        &mut self,
        always: Option<bool>,
    ) -> Result<Option<String>, JsValue> {
        self.take_write_set(always.unwrap_or(false))
            .map(|s| plan_text(&s))
            .transpose()
    }

    /// Every taken write with id `<= upTo` is durable: release what waited
    /// for it. Pass what `store.write` resolved to (`undefined` does
    /// nothing). Returns how many writes were confirmed.
    #[wasm_bindgen(js_name = confirmDurable)]
    pub fn confirm_durable_js(&mut self, up_to: Option<f64>) -> Result<u32, JsError> {
        let Some(up_to) = up_to else { return Ok(0) };
        if !up_to.is_finite() || up_to < 0.0 || up_to.fract() != 0.0 || up_to > 9.0e15 {
            return Err(JsError::new(&format!(
                "confirmDurable takes a write id (a whole number), not {}",
                super::show_number(up_to)
            )));
        }
        Ok(self.confirm_up_to(up_to as u64) as u32)
    }

    /// `{enabled, baseline_stored, unconfirmed_writes, held_messages,
    /// epoch, actions, nodes}`: how far storage lags behind. Each of
    /// `nodes` is `{id, written, on_disk, unsaved_hard_state,
    /// unsaved_from, unsaved_truncation}`, where `written` and `on_disk`
    /// are `{term, voted_for, log_len, last_term}`: what the node wrote
    /// (what a restart in the page rebuilds it from) and what IndexedDB
    /// holds (what a reload rebuilds it from; `null` while persistence is
    /// off or the baseline is not stored).
    #[wasm_bindgen(js_name = storageReport)]
    pub fn storage_report(&self) -> Result<JsValue, JsError> {
        to_js(&self.report())
    }

    /// The same as [`Simulation::storage_report`], as a JSON string
    /// (cheaper to take every frame).
    #[wasm_bindgen(js_name = storageReportJson)]
    pub fn storage_report_json(&self) -> Result<String, JsError> {
        Ok(json::to_string(&self.report()))
    }

    /// The meta record that would be stored now, as JSON (seed, config,
    /// now_us, epoch, actions).
    #[wasm_bindgen(js_name = persistMetaJson)]
    pub fn persist_meta_json(&self) -> Result<String, JsError> {
        Ok(json::to_string(&self.meta()))
    }

    /// `Simulation.resume(loadedJson, epoch?)`: rebuild the cluster from
    /// what `assembleLoaded(await store.load())` returned, as after a power loss: each node
    /// restarts from its stored state only, the clock and the history
    /// carry on. `epoch` (default: one above the stored one) is raised if
    /// needed so that new clients never reuse a stored session.
    /// Persistence starts off.
    pub fn resume(loaded: &str, epoch: Option<u32>) -> Result<Simulation, JsError> {
        let loaded: Loaded = crate::json::from_str(loaded).map_err(|e| {
            JsError::new(&format!(
                "Simulation.resume takes the JSON that assembleLoaded returns: {e}"
            ))
        })?;
        Simulation::from_loaded(loaded, epoch).map_err(|e| JsError::new(&e))
    }
}

/// `e` as a JavaScript `Error` whose `name` is [`IdbError::js_name`]
/// (`CorruptError`, `InvalidInputError`), as `www/store.js` names its own.
fn idb_error(e: &IdbError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.js_name());
    err.into()
}

/// `assembleLoaded(raw, nodes?)`: check what `store.load()` read and put
/// it together (see [`idb::assemble`]): the JSON
/// `{"meta": SimMeta | null, "nodes": [Durable…], "calls": [Call…]}` for
/// `Simulation.resume`. `nodes` defaults to the stored cluster size.
/// Throws an `Error` named `CorruptError` naming the record (`log [2, 17]`)
/// when stored data is damaged, or `InvalidInputError`.
#[wasm_bindgen(js_name = assembleLoaded)]
pub fn assemble_loaded(raw: &str, nodes: Option<u32>) -> Result<String, JsValue> {
    let loaded = idb::assemble(raw, nodes.map(|n| n as usize)).map_err(|e| idb_error(&e))?;
    Ok(json::to_string(&loaded))
}

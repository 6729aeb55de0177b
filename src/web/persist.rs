//! The facade's side of persistence: what the page stores in IndexedDB
//! (through [`super::idb::Store`]) and how a reloaded page resumes the
//! cluster from it.
//!
//! Raft's rule (Figure 2: "updated on stable storage before responding to
//! RPCs") holds across the asynchronous boundary with the simulator's
//! durability barrier: with persistence on, every node write and every
//! client call record becomes a durable write; whatever depends on it
//! (messages, client answers) is held until the page confirms it, which it
//! does only after the IndexedDB transaction holding it has completed.
//!
//! The page's loop:
//!
//! ```js
//! await store.write(sim.enablePersistence());   // everything so far, once
//! // every frame, after sim.advance(...):
//! const json = sim.takeDurableWrites();          // undefined: nothing new
//! if (json !== undefined) store.write(json).then((id) => sim.confirmDurable(id));
//! // after a reload:
//! sim = Simulation.resume(await store.load());
//! await store.write(sim.enablePersistence());
//! ```
//!
//! Write sets must reach the store in the order they were taken (one
//! `store.write` after the other, which IndexedDB then runs in order).
//! After a failed write, later ones must not be stored without it: call
//! `disablePersistence()` (carry on in memory) or re-base with
//! `enablePersistence()`.
//!
//! The facade keeps no state of its own for this (its fields belong to
//! `web/mod.rs`): the epoch is read back from the client ids in use, and
//! confirmations rely on the barrier's ids being issued, and confirmed,
//! in order. User actions are not recorded yet: [`SimMeta::actions`] is
//! always empty, so link cuts and the like are not restored by a resume.

use super::idb::{Baseline, Loaded, SimMeta, WriteSet};
use super::{js_err, to_js, Simulation};
use crate::check::history::History;
use crate::kv::ClientId;
use crate::sim;
use crate::storage::Durable;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Clients of epoch `e` get ids from `e * 1000 + 1` (see
/// [`sim::Simulation::resume`]).
const IDS_PER_EPOCH: u32 = 1000;

fn epoch_of(client: ClientId) -> u32 {
    client.0.saturating_sub(1) / IDS_PER_EPOCH
}

/// What `storageReport()` returns.
#[derive(Serialize)]
struct StorageReport {
    /// Whether the barrier is on.
    enabled: bool,
    /// Durable writes issued (taken or not) and not yet confirmed.
    unconfirmed_writes: usize,
    /// Messages and client answers held until their write is confirmed.
    held_messages: usize,
    /// The highest epoch whose client ids are in use.
    epoch: u32,
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
            actions: Vec::new(),
        }
    }

    /// Turn the barrier on afresh and return everything to store first:
    /// every node's durable state, the whole history and the meta record,
    /// replacing whatever the store held. Writes issued before are
    /// forgotten (released, as if confirmed).
    pub fn baseline_write_set(&mut self) -> WriteSet {
        self.inner.set_async_durability(false);
        self.inner.set_async_durability(true);
        let nodes: Vec<Durable<crate::kv::Command>> = self
            .inner
            .node_ids()
            .into_iter()
            .filter_map(|id| self.inner.slot(id).map(|s| s.storage.durable().clone()))
            .collect();
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
        before - self.inner.unconfirmed_writes()
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
        let inner = sim::Simulation::resume(
            seed,
            meta.config,
            meta.now_us,
            epoch,
            loaded.nodes,
            History {
                calls: loaded.calls,
            },
        )
        .map_err(|e| format!("cannot resume the saved cluster: {e}"))?;
        Ok(Simulation {
            inner,
            console_clients: Vec::new(),
        })
    }
}

fn write_set_json(set: &WriteSet) -> Result<String, JsError> {
    serde_json::to_string(set).map_err(js_err)
}

#[wasm_bindgen]
impl Simulation {
    /// Turn persistence on (the durability barrier: messages and answers
    /// wait for storage) and return the JSON to store first with
    /// `store.write`: every node's durable state, the history and the meta
    /// record, replacing what the store held
    /// (`{"base": {"nodes": [...], "calls": [...]}, "writes": [], "meta": {...}}`).
    /// Calling it again re-bases the same way.
    #[wasm_bindgen(js_name = enablePersistence)]
    pub fn enable_persistence(&mut self) -> Result<String, JsError> {
        write_set_json(&self.baseline_write_set())
    }

    /// Turn persistence off and carry on in memory: everything held for
    /// storage is released at once.
    #[wasm_bindgen(js_name = disablePersistence)]
    pub fn disable_persistence(&mut self) {
        self.inner.set_async_durability(false);
    }

    /// Whether persistence is on.
    #[wasm_bindgen(js_name = persistenceEnabled)]
    pub fn persistence_enabled(&self) -> bool {
        self.inner.async_durability()
    }

    /// The durable writes issued since the last call, as the JSON for
    /// `store.write`:
    /// `{"writes": [{"id": n, "record": {"Node": {"node": n, "batch": ...}} | {"Call": ...}}...], "meta": {...}}`.
    /// `undefined` when there is nothing new (or persistence is off);
    /// with `always` true, the meta record alone is returned then (to save
    /// a configuration change on an idle cluster).
    #[wasm_bindgen(js_name = takeDurableWrites)]
    pub fn take_durable_writes_json(
        &mut self,
        always: Option<bool>,
    ) -> Result<Option<String>, JsError> {
        self.take_write_set(always.unwrap_or(false))
            .map(|s| write_set_json(&s))
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
                "confirmDurable takes a write id (a whole number), not {up_to}"
            )));
        }
        Ok(self.confirm_up_to(up_to as u64) as u32)
    }

    /// `{enabled, unconfirmed_writes, held_messages, epoch}`: how far
    /// storage lags behind.
    #[wasm_bindgen(js_name = storageReport)]
    pub fn storage_report(&self) -> Result<JsValue, JsError> {
        to_js(&StorageReport {
            enabled: self.inner.async_durability(),
            unconfirmed_writes: self.inner.unconfirmed_writes(),
            held_messages: self.inner.held_messages(),
            epoch: self.epoch_in_use(),
        })
    }

    /// The meta record that would be stored now, as JSON (seed, config,
    /// now_us, epoch, actions).
    #[wasm_bindgen(js_name = persistMetaJson)]
    pub fn persist_meta_json(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.meta()).map_err(js_err)
    }

    /// `Simulation.resume(loadedJson, epoch?)`: rebuild the cluster from
    /// what `store.load()` returned, as after a power loss: each node
    /// restarts from its stored state only, the clock and the history
    /// carry on. `epoch` (default: one above the stored one) is raised if
    /// needed so that new clients never reuse a stored session.
    /// Persistence starts off.
    pub fn resume(loaded: &str, epoch: Option<u32>) -> Result<Simulation, JsError> {
        let loaded: Loaded = serde_json::from_str(loaded).map_err(|e| {
            JsError::new(&format!(
                "Simulation.resume takes the JSON that store.load() returns: {e}"
            ))
        })?;
        Simulation::from_loaded(loaded, epoch).map_err(|e| JsError::new(&e))
    }
}

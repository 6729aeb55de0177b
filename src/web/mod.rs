//! The wasm-bindgen facade: the only code that imports wasm-bindgen, js-sys
//! and web-sys. An opaque [`Simulation`] handle owns the whole world;
//! methods take plain arguments and return views as plain objects (maps as
//! objects, times as numbers in ms).
//!
//! Views are written as JSON text only (by the crate's writer,
//! [`crate::json::ToJson`]), not with `serde-wasm-bindgen` as DESIGN.md
//! first planned: the page takes them as JSON strings (`viewJson`, which
//! `JSON.parse` reads faster than objects built across the boundary), and
//! the few methods that return objects (`view`, `narration`,
//! `storageReport`) parse that same JSON with `JSON.parse`. A second
//! serializer would compile every view's writer twice into the page's
//! wasm, for no gain.
//! Errors become `JsError`s with a readable message; a panic is recorded
//! and can be read with [`last_panic`] so the page can show it.

pub mod actions;
#[cfg(feature = "wasm-bench")]
pub mod bench;
pub mod idb;
pub mod persist;

use crate::json::{self, ToJson};
use crate::kv::{ClientId, Op};
use crate::raft::NodeId;
use crate::sim::network::LinkParams;
use crate::sim::view::narrate;
use crate::sim::{self, SimConfig};
use actions::{ActionLog, UserAction};
use persist::DiskMirror;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Record panics so the page can show them instead of freezing.
#[wasm_bindgen(js_name = installPanicHook)]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&format!("raftlab panicked: {msg}")));
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
}

/// The message of the last panic, if one happened.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// Panic on purpose with `message`, so that the page's tests can check that
/// a panic shows a banner (and [`last_panic`] returns the message) instead
/// of leaving a frozen page. Nothing else calls it.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: &str) {
    panic!("{message}");
}

/// A fresh random seed (from the browser's crypto), as a decimal string.
#[wasm_bindgen(js_name = randomSeed)]
pub fn random_seed() -> String {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        return "1".into();
    }
    // Keep seeds short enough to read and type: 9 decimal digits.
    (u64::from_le_bytes(b) % 1_000_000_000).to_string()
}

fn js_err(e: impl std::fmt::Display) -> JsError {
    js_err_dyn(&e)
}

/// [`js_err`]'s body, compiled once rather than once per error type.
fn js_err_dyn(e: &dyn std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// `v` as a plain JavaScript object: its JSON, read by `JSON.parse` (see
/// the module docs for why not `serde-wasm-bindgen`).
fn to_js<T: ToJson + ?Sized>(v: &T) -> Result<JsValue, JsError> {
    let text = json::to_string(v);
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("internal error: a view is not valid JSON"))
}

fn parse_seed(seed: &str) -> Result<u64, JsError> {
    let t = seed.trim();
    t.parse::<u64>().map_err(|_| {
        JsError::new(&format!(
            "the seed must be a whole number from 0 to 18446744073709551615, not {t:?}"
        ))
    })
}

/// `x` as JavaScript writes it (`String(x)`): the standard library's float
/// printing would cost the wasm about 14 KB for a few error messages.
pub(crate) fn show_number(x: f64) -> String {
    js_sys::Number::from(x)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

fn ms_to_us(ms: f64, what: &str) -> Result<u64, JsError> {
    if !ms.is_finite() || !(0.0..=1e9).contains(&ms) {
        return Err(JsError::new(&format!(
            "{what} must be between 0 and 1e9 ms, got {}",
            show_number(ms)
        )));
    }
    Ok((ms * 1000.0).round() as u64)
}

/// Most console calls (`submit`, `staleRead`) waiting for an answer at
/// once; the next one is refused with an error until some return.
pub const MAX_CONSOLE_CALLS: usize = 64;

/// The simulated cluster, as JavaScript sees it.
#[wasm_bindgen]
pub struct Simulation {
    inner: sim::Simulation,
    console_clients: Vec<ClientId>,
    /// The person's actions, saved with the cluster (see [`actions`]).
    actions: ActionLog,
    /// What IndexedDB holds, as far as confirmed (see [`persist`]).
    disk: DiskMirror,
}

#[wasm_bindgen]
impl Simulation {
    /// A new cluster of `nodes` nodes (1 to 9) decided by `seed` (a decimal
    /// string).
    #[wasm_bindgen(constructor)]
    pub fn new(seed: &str, nodes: u32) -> Result<Simulation, JsError> {
        let seed = parse_seed(seed)?;
        let cfg = SimConfig {
            nodes: nodes as usize,
            ..SimConfig::default()
        };
        let inner = sim::Simulation::new(seed, cfg).map_err(js_err)?;
        Ok(Simulation::wrap(inner))
    }

    /// The seed, as a decimal string.
    pub fn seed(&self) -> String {
        self.inner.seed().to_string()
    }

    /// Virtual time now, in ms.
    #[wasm_bindgen(js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        self.inner.now() as f64 / 1000.0
    }

    /// Run `ms` of virtual time. Returns the number of events processed.
    pub fn advance(&mut self, ms: f64) -> Result<f64, JsError> {
        let us = ms_to_us(ms, "the time step")?;
        let before = self.inner.events_processed();
        self.inner.run_for(us);
        Ok((self.inner.events_processed() - before) as f64)
    }

    /// Process exactly one event (and move the clock to it). Returns false
    /// if there was none or the run stopped on a violation.
    pub fn step(&mut self) -> bool {
        self.inner.step()
    }

    /// Virtual time of the next event, in ms, if any.
    #[wasm_bindgen(js_name = nextEventMs)]
    pub fn next_event_ms(&self) -> Option<f64> {
        self.inner.next_event_at().map(|t| t as f64 / 1000.0)
    }

    /// A snapshot of the whole world (see `View` in the README), with the
    /// default limits: the newest 200 log entries and the first 200 keys
    /// per node.
    pub fn view(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.view())
    }

    /// The same snapshot as [`Simulation::view`], as a JSON string, with at
    /// most `log_limit` of the newest log entries per node (default and
    /// maximum 200) and at most `kv_limit` of the first keys, in key order,
    /// of each node's key-value state (default and maximum 200; `kv_len`
    /// gives the whole count). Parsing it with `JSON.parse` is several
    /// times cheaper than building the object across the wasm boundary,
    /// which is what the page does every frame.
    #[wasm_bindgen(js_name = viewJson)]
    pub fn view_json(
        &self,
        log_limit: Option<u32>,
        kv_limit: Option<u32>,
    ) -> Result<String, JsError> {
        use crate::sim::view::{VIEW_KV_LIMIT, VIEW_LOG_LIMIT};
        let log_limit = log_limit.map_or(VIEW_LOG_LIMIT, |l| (l as usize).min(VIEW_LOG_LIMIT));
        let kv_limit = kv_limit.map_or(VIEW_KV_LIMIT, |l| (l as usize).min(VIEW_KV_LIMIT));
        Ok(json::to_string(
            &self.inner.view_with_limits(log_limit, kv_limit),
        ))
    }

    /// Like [`Simulation::narration`], as a JSON string, keeping only lines
    /// whose kind is in `kinds` (comma-separated, e.g. `"election,fault"`;
    /// `undefined` keeps every kind): the newest `limit` of them. Only the
    /// lines returned are written out, so asking for a few recent lines
    /// stays cheap however many events happened.
    #[wasm_bindgen(js_name = narrationJson)]
    pub fn narration_json(
        &self,
        since: f64,
        limit: u32,
        kinds: Option<String>,
    ) -> Result<String, JsError> {
        let since = if since.is_finite() && since > 0.0 {
            since as u64
        } else {
            0
        };
        let wanted: Option<Vec<&str>> = kinds
            .as_deref()
            .map(|k| k.split(',').map(str::trim).collect());
        let events: Vec<_> = self
            .inner
            .trace()
            .since(since)
            .filter(|s| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&crate::sim::view::narrate_kind(&s.event)))
            })
            .collect();
        let skip = events.len().saturating_sub(limit as usize);
        let lines: Vec<_> = events[skip..].iter().copied().map(narrate).collect();
        Ok(json::to_string(&lines))
    }

    /// Narration lines for trace events with sequence number `>= since`
    /// (at most `limit`, the newest).
    pub fn narration(&self, since: f64, limit: u32) -> Result<JsValue, JsError> {
        let since = if since.is_finite() && since > 0.0 {
            since as u64
        } else {
            0
        };
        let lines: Vec<_> = self.inner.trace().since(since).map(narrate).collect();
        let skip = lines.len().saturating_sub(limit as usize);
        to_js(&lines[skip..])
    }

    /// Crash node `node` (1-based).
    pub fn crash(&mut self, node: u32) -> Result<(), JsError> {
        self.inner.crash(NodeId(node)).map_err(js_err)?;
        self.record(UserAction::Crash { node });
        Ok(())
    }

    /// Restart node `node` from its storage.
    pub fn restart(&mut self, node: u32) -> Result<(), JsError> {
        self.inner.restart(NodeId(node)).map_err(js_err)?;
        self.record(UserAction::Restart { node });
        Ok(())
    }

    /// Make node `node`'s election timer fire now.
    #[wasm_bindgen(js_name = forceTimeout)]
    pub fn force_timeout(&mut self, node: u32) -> Result<(), JsError> {
        self.inner.force_timeout(NodeId(node)).map_err(js_err)?;
        self.record(UserAction::ForceTimeout { node });
        Ok(())
    }

    /// Cut (`cut = true`) or heal the one-way link `from -> to`.
    #[wasm_bindgen(js_name = setCut)]
    pub fn set_cut(&mut self, from: u32, to: u32, cut: bool) -> Result<(), JsError> {
        if from == to {
            return Err(JsError::new("a link joins two different nodes"));
        }
        self.inner
            .set_cut(NodeId(from), NodeId(to), cut)
            .map_err(js_err)?;
        self.record(UserAction::SetCut { from, to, cut });
        Ok(())
    }

    /// Cut every link to and from `node`.
    pub fn isolate(&mut self, node: u32) -> Result<(), JsError> {
        self.inner.isolate(NodeId(node)).map_err(js_err)?;
        self.record(UserAction::Isolate { node });
        Ok(())
    }

    /// Partition the nodes: `groups` is an array of arrays of node ids;
    /// nodes in no group form one more group.
    pub fn partition(&mut self, groups: JsValue) -> Result<(), JsError> {
        // Read as JSON (an array of arrays of whole numbers): the same
        // reader the stored actions use, instead of a second deserializer.
        let text = js_sys::JSON::stringify(&groups)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let groups: Vec<Vec<u32>> = crate::json::from_str(&text)
            .map_err(|e| JsError::new(&format!("groups must be arrays of node ids: {e}")))?;
        let ids: Vec<Vec<NodeId>> = groups
            .iter()
            .map(|g| g.iter().copied().map(NodeId).collect())
            .collect();
        self.inner.partition(&ids).map_err(js_err)?;
        self.record(UserAction::Partition { groups });
        Ok(())
    }

    /// Heal every cut.
    #[wasm_bindgen(js_name = healAll)]
    pub fn heal_all(&mut self) {
        self.inner.heal_all();
        self.record(UserAction::HealAll);
    }

    /// Set every link's latency range (ms) and loss, duplication and
    /// reordering probabilities (0 to 1).
    #[wasm_bindgen(js_name = setNetwork)]
    pub fn set_network(
        &mut self,
        latency_min_ms: f64,
        latency_max_ms: f64,
        loss: f64,
        duplicate: f64,
        reorder: f64,
    ) -> Result<(), JsError> {
        let p = LinkParams {
            latency_min_us: ms_to_us(latency_min_ms, "the minimum latency")?,
            latency_max_us: ms_to_us(latency_max_ms, "the maximum latency")?,
            loss,
            duplicate,
            reorder,
        };
        let action = UserAction::SetNetwork {
            latency_min_us: p.latency_min_us,
            latency_max_us: p.latency_max_us,
            loss,
            duplicate,
            reorder,
        };
        self.inner.set_link_params(p).map_err(js_err)?;
        self.record(action);
        Ok(())
    }

    /// Set the election timeout range and heartbeat interval (ms).
    #[wasm_bindgen(js_name = setTiming)]
    pub fn set_timing(
        &mut self,
        election_min_ms: f64,
        election_max_ms: f64,
        heartbeat_ms: f64,
    ) -> Result<(), JsError> {
        let mut c = self.inner.config().raft.clone();
        c.election_timeout_min_us = ms_to_us(election_min_ms, "the minimum election timeout")?;
        c.election_timeout_max_us = ms_to_us(election_max_ms, "the maximum election timeout")?;
        c.heartbeat_interval_us = ms_to_us(heartbeat_ms, "the heartbeat interval")?;
        let action = UserAction::SetTiming {
            election_min_us: c.election_timeout_min_us,
            election_max_us: c.election_timeout_max_us,
            heartbeat_us: c.heartbeat_interval_us,
        };
        self.inner.set_raft_config(c).map_err(js_err)?;
        self.record(action);
        Ok(())
    }

    /// Set all followers' election timers to fire `delay_ms` from now,
    /// spread over `spread_ms` (0 aligns them: a split vote is likely).
    #[wasm_bindgen(js_name = alignTimers)]
    pub fn align_timers(&mut self, delay_ms: f64, spread_ms: f64) -> Result<(), JsError> {
        let d = ms_to_us(delay_ms, "the delay")?;
        let s = ms_to_us(spread_ms, "the spread")?;
        self.inner.align_timers(d, s);
        self.record(UserAction::AlignTimers {
            delay_us: d,
            spread_us: s,
        });
        Ok(())
    }

    /// Send a KV command through a console client that finds the leader
    /// (starting at node `via` if given). `op` is get, put, append, delete
    /// or cas; `value` is required for put, append and cas; for cas,
    /// `expected` of `undefined` means "the key must be absent". Returns the
    /// client id whose answer will appear in the view.
    pub fn submit(
        &mut self,
        op: &str,
        key: &str,
        value: Option<String>,
        expected: Option<String>,
        via: Option<u32>,
    ) -> Result<u32, JsError> {
        let op = parse_op(op, key, value, expected)?;
        let client = self.idle_console_client()?;
        self.inner
            .invoke(client, op.clone(), via.map(NodeId))
            .map_err(js_err)?;
        self.record(UserAction::Submit {
            client: client.0,
            call: op,
            via,
        });
        Ok(client.0)
    }

    /// Read `key` from node `node`'s own applied state, without asking the
    /// leader: possibly stale. Returns the client id.
    #[wasm_bindgen(js_name = staleRead)]
    pub fn stale_read(&mut self, node: u32, key: &str) -> Result<u32, JsError> {
        let client = self.idle_console_client()?;
        self.inner
            .stale_read(client, NodeId(node), key.to_string())
            .map_err(js_err)?;
        self.record(UserAction::StaleRead {
            client: client.0,
            node,
            key: key.to_string(),
        });
        Ok(client.0)
    }

    /// Add `n` clients that write and read random keys by themselves.
    #[wasm_bindgen(js_name = addWorkload)]
    pub fn add_workload(&mut self, n: u32) -> Result<(), JsError> {
        if n > 64 {
            return Err(JsError::new("at most 64 clients at once"));
        }
        self.inner
            .add_auto_clients(n as usize, sim::client::Workload::default());
        self.record(UserAction::AddWorkload { n });
        Ok(())
    }

    /// Stop every automatic client (their calls in progress still finish).
    #[wasm_bindgen(js_name = stopWorkload)]
    pub fn stop_workload(&mut self) {
        self.inner.stop_auto_clients();
        self.record(UserAction::StopWorkload);
    }

    /// The hash of the whole trace so far, as 16 hex digits.
    #[wasm_bindgen(js_name = traceHash)]
    pub fn trace_hash(&self) -> String {
        format!("{:016x}", self.inner.trace_hash())
    }

    /// The clients' history as JSON (format in the README).
    #[wasm_bindgen(js_name = historyJson)]
    pub fn history_json(&self) -> String {
        self.inner.history().to_json()
    }
}

impl Simulation {
    /// Wrap a simulation, with no actions recorded and nothing stored.
    fn wrap(inner: sim::Simulation) -> Simulation {
        Simulation {
            inner,
            console_clients: Vec::new(),
            actions: ActionLog::default(),
            disk: DiskMirror::default(),
        }
    }

    /// Record one of the person's actions (saved with the cluster).
    fn record(&mut self, action: UserAction) {
        let now = self.inner.now();
        self.actions.record(&self.inner, now, action);
    }

    /// The person's actions so far, as saved.
    pub fn actions(&self) -> &ActionLog {
        &self.actions
    }

    /// A console client with no call in flight: an idle one reused, or a
    /// new one, up to [`MAX_CONSOLE_CALLS`] (a script that submits in a
    /// loop without letting the simulation run would otherwise add a client,
    /// and a session, per call).
    fn idle_console_client(&mut self) -> Result<ClientId, JsError> {
        let inner = &self.inner;
        let idle = self
            .console_clients
            .iter()
            .find(|c| inner.client(**c).is_some_and(|x| x.current.is_none()));
        if let Some(c) = idle {
            return Ok(*c);
        }
        if self.console_clients.len() >= MAX_CONSOLE_CALLS {
            return Err(JsError::new(&format!(
                "{MAX_CONSOLE_CALLS} console calls are already waiting for answers: \
                 let the simulation run until some return"
            )));
        }
        let c = self.inner.add_client();
        self.console_clients.push(c);
        Ok(c)
    }

    /// The simulation inside (for Rust callers and tests).
    pub fn inner(&self) -> &sim::Simulation {
        &self.inner
    }
}

/// Turn the console's fields into an operation, with a clear error for
/// anything missing or malformed.
pub fn parse_op(
    op: &str,
    key: &str,
    value: Option<String>,
    expected: Option<String>,
) -> Result<Op, JsError> {
    crate::kv::parse_op(op, key, value, expected).map_err(js_err)
}

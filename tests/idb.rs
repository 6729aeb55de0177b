//! IndexedDB persistence in a real browser (`www/store.js` for the I/O,
//! `src/web/idb.rs` for the records, `src/web/persist.rs` for the
//! facade): writes survive a reopen, a failed transaction leaves nothing,
//! damaged records are errors that name the record, a version 1 database
//! is upgraded in place, a newer one is refused and kept, and a whole
//! cluster comes back from storage after a "power loss" with the same
//! terms and logs (Raft Figure 2, persistent state).
//!
//! The tests drive `www/store.js` itself, imported as a JavaScript module
//! (`#[wasm_bindgen(module = "/www/store.js")]`), with the requests that
//! the wasm plans, as the page does. Browser-only (listed in
//! scripts/browser-only.txt): there is no IndexedDB natively. The record
//! formats alone (planning, checking what a read returned) are also tested
//! natively, in `src/web/idb.rs`. Each test uses its own database name.
#![cfg(target_arch = "wasm32")]

use raftlab::check::history::Call;
use raftlab::kv::{ClientId, Command, Op};
use raftlab::raft::{Entry, HardState, LogIndex, LogWrite, NodeId, Payload, Term};
use raftlab::sim::{DurableRecord, DurableWrite, SimConfig};
use raftlab::storage::{Durable, WriteBatch};
use raftlab::web::idb::{
    self, IdbError, Loaded, SimMeta, WriteSet, CALLS, HARD_STATE, LOG, SIM, STORES,
};
use raftlab::web::persist::assemble_loaded;
use raftlab::web::Simulation;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Event, EventTarget, IdbDatabase, IdbFactory, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/www/store.js")]
extern "C" {
    /// `www/store.js`'s `Store`: one saved cluster's database, open.
    #[derive(Clone, Debug)]
    type Store;

    #[wasm_bindgen(static_method_of = Store, js_name = open, catch)]
    async fn open_js(name: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(static_method_of = Store, catch)]
    async fn exists(name: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(static_method_of = Store, js_name = deleteCluster, catch)]
    async fn delete_cluster(name: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(static_method_of = Store, getter = schemaVersion)]
    fn schema_version() -> u32;

    #[wasm_bindgen(method, getter)]
    fn name(this: &Store) -> String;

    /// The connection (the module's own property, for tests and tools).
    #[wasm_bindgen(method, getter)]
    fn db(this: &Store) -> IdbDatabase;

    #[wasm_bindgen(method, js_name = write, catch)]
    async fn write_js(this: &Store, plan: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = load, catch)]
    async fn load_js(this: &Store) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, js_name = hasMeta, catch)]
    async fn has_meta_js(this: &Store) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method)]
    fn close(this: &Store);
}

/// A rejection or exception: the `Error`'s `name` and `message`.
#[derive(Debug)]
struct Failure {
    name: String,
    message: String,
}

impl Failure {
    fn of(e: JsValue) -> Failure {
        match e.dyn_into::<js_sys::Error>() {
            Ok(e) => Failure {
                name: e.name().into(),
                message: e.message().into(),
            },
            Err(v) => Failure {
                name: "(not an Error)".into(),
                message: format!("{v:?}"),
            },
        }
    }

    fn of_idb(e: IdbError) -> Failure {
        Failure {
            name: e.js_name().into(),
            message: e.to_string(),
        }
    }

    /// A `CorruptError` that names `record` as its message does.
    fn assert_corrupt(&self, record: &str) {
        assert_eq!(self.name, "CorruptError", "{self:?}");
        assert!(
            self.message
                .starts_with(&format!("stored record {record} is corrupt: ")),
            "{self:?} does not name {record}"
        );
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// The schema version of `www/store.js`.
const SCHEMA_VERSION: u32 = 2;
/// The stores of schema version 1.
const STORES_V1: [&str; 2] = [HARD_STATE, LOG];

async fn try_open(name: &str) -> Result<Store, Failure> {
    Store::open_js(name)
        .await
        .map(JsCast::unchecked_into)
        .map_err(Failure::of)
}

async fn open(name: &str) -> Store {
    try_open(name).await.expect("open the store")
}

async fn present(name: &str) -> bool {
    Store::exists(name)
        .await
        .map_err(Failure::of)
        .expect("exists")
        .as_bool()
        .expect("a boolean")
}

async fn remove(name: &str) {
    Store::delete_cluster(name)
        .await
        .map_err(Failure::of)
        .expect("delete");
}

async fn has_meta(store: &Store) -> Result<bool, Failure> {
    let v = store.has_meta_js().await.map_err(Failure::of)?;
    Ok(v.as_bool().expect("a boolean"))
}

/// Plan `set` (in Rust) and store it (`store.write`): the id to confirm.
async fn write_set(store: &Store, set: &WriteSet) -> Result<Option<u64>, Failure> {
    let ops = idb::plan(set).map_err(Failure::of_idb)?;
    let plan = idb::plan_json(&ops, set.last_id());
    let last = store.write_js(&plan).await.map_err(Failure::of)?;
    Ok(last.as_f64().map(|id| id as u64))
}

/// `store.load()`, then checked and assembled in Rust (`nodes` as
/// `assembleLoaded` takes it).
async fn load_cluster(store: &Store, nodes: Option<usize>) -> Result<Loaded, Failure> {
    let raw = store.load_js().await.map_err(Failure::of)?;
    let raw = raw.as_string().expect("store.load() gives a string");
    idb::assemble(&raw, nodes).map_err(Failure::of_idb)
}

async fn load(store: &Store) -> Loaded {
    load_cluster(store, None).await.expect("load")
}

/// A database name no other test (or earlier run) uses.
fn unique(test: &str) -> String {
    format!("test-{test}-{}", js_sys::Date::now() as u64)
}

fn factory() -> IdbFactory {
    js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .expect("indexedDB")
        .dyn_into()
        .expect("an IDBFactory")
}

/// Wait for the first of `names` on `target` (raw IndexedDB, for setting
/// up what the code under test must cope with).
async fn wait(target: &EventTarget, names: &[&str]) -> usize {
    let mut resolve = None;
    let p = js_sys::Promise::new(&mut |res, _| resolve = Some(res));
    let resolve: js_sys::Function = resolve.expect("resolve");
    let mut keep = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let r = resolve.clone();
        let cb = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            let _ = r.call1(&JsValue::UNDEFINED, &JsValue::from(i as u32));
        });
        target
            .add_event_listener_with_callback(n, cb.as_ref().unchecked_ref())
            .expect("listen");
        keep.push((n.to_string(), cb));
    }
    let i = JsFuture::from(p)
        .await
        .expect("event")
        .as_f64()
        .expect("index") as usize;
    for (n, cb) in &keep {
        let _ = target.remove_event_listener_with_callback(n, cb.as_ref().unchecked_ref());
    }
    i
}

/// Open `raftlab-<name>` at `version` with raw web-sys, creating `stores`
/// in the upgrade.
async fn raw_open(name: &str, version: u32, stores: &'static [&'static str]) -> IdbDatabase {
    let req = factory()
        .open_with_u32(&format!("raftlab-{name}"), version)
        .expect("open");
    let r = req.clone();
    let up = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
        let db: IdbDatabase = r.result().expect("result").dyn_into().expect("db");
        for s in stores {
            if !db.object_store_names().contains(s) {
                db.create_object_store(s).expect("create store");
            }
        }
    });
    req.set_onupgradeneeded(Some(up.as_ref().unchecked_ref()));
    assert_eq!(
        wait(&req, &["success", "error", "blocked"]).await,
        0,
        "raw open"
    );
    req.set_onupgradeneeded(None);
    req.result().expect("result").dyn_into().expect("db")
}

/// Put `value` at `key` in `store` with raw web-sys, in its own transaction.
async fn raw_put(db: &IdbDatabase, store: &str, key: &JsValue, value: &JsValue) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .expect("tx");
    tx.object_store(store)
        .expect("store")
        .put_with_key(value, key)
        .expect("put");
    assert_eq!(wait(&tx, &["complete", "abort"]).await, 0, "raw put");
}

async fn raw_delete(db: &IdbDatabase, store: &str, key: &JsValue) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .expect("tx");
    tx.object_store(store)
        .expect("store")
        .delete(key)
        .expect("delete");
    assert_eq!(wait(&tx, &["complete", "abort"]).await, 0, "raw delete");
}

async fn raw_get(db: &IdbDatabase, store: &str, key: &JsValue) -> JsValue {
    let tx = db.transaction_with_str(store).expect("tx");
    let req = tx
        .object_store(store)
        .expect("store")
        .get(key)
        .expect("get");
    assert_eq!(wait(&tx, &["complete", "abort"]).await, 0, "raw get");
    req.result().expect("result")
}

fn pair(a: u32, b: u32) -> JsValue {
    js_sys::Array::of2(&a.into(), &b.into()).into()
}

fn entry(index: u64, term: u64, value: &str) -> Entry<Command> {
    Entry {
        term: Term(term),
        index: LogIndex(index),
        payload: Payload::Command(Command {
            client: ClientId(1),
            seq: index,
            op: Op::Put {
                key: "k".into(),
                value: value.into(),
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

fn node_write(
    id: u64,
    node: u32,
    hard: Option<HardState>,
    from: u64,
    entries: Vec<Entry<Command>>,
) -> DurableWrite {
    DurableWrite {
        id,
        record: DurableRecord::Node {
            node: NodeId(node),
            batch: WriteBatch {
                hard_state: hard,
                log_write: Some(LogWrite {
                    from: LogIndex(from),
                    entries,
                }),
            },
        },
    }
}

fn empty() -> Durable<Command> {
    Durable {
        hard_state: HardState::default(),
        log: Vec::new(),
    }
}

fn meta(nodes: usize) -> SimMeta {
    SimMeta {
        seed: "18446744073709551615".into(),
        config: SimConfig {
            nodes,
            ..SimConfig::default()
        },
        now_us: 9_007_199_254_740_993, // above 2^53: must survive exactly
        epoch: 0,
        actions: Vec::new(),
    }
}

/// Three nodes: node 1 with entries 1..=3 (term 1), node 2 with its vote,
/// one call.
fn sample() -> WriteSet {
    WriteSet {
        base: None,
        writes: vec![
            node_write(
                0,
                1,
                Some(hs(1, Some(1))),
                1,
                vec![entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c")],
            ),
            DurableWrite {
                id: 1,
                record: DurableRecord::Node {
                    node: NodeId(2),
                    batch: WriteBatch {
                        hard_state: Some(hs(1, Some(1))),
                        log_write: None,
                    },
                },
            },
            DurableWrite {
                id: 2,
                record: DurableRecord::Call(Call {
                    id: 0,
                    client: ClientId(1),
                    op: Op::Put {
                        key: "k".into(),
                        value: "a".into(),
                    }
                    .into(),
                    invoke_us: 5,
                    return_us: None,
                    outcome: None,
                }),
            },
        ],
        meta: Some(meta(3)),
    }
}

// ----- tests --------------------------------------------------------------

/// Written batches are there after closing and reopening; a later log
/// write replaces the tail (delete from `from` on, then put), as
/// `Storage::write` does.
#[wasm_bindgen_test]
async fn write_reopen_read_back() {
    let name = unique("reopen");
    assert!(!present(&name).await);
    assert!(!present(&name).await, "asking must not create the database");
    let store = open(&name).await;
    assert_eq!(store.name(), name);
    assert_eq!(Store::schema_version(), SCHEMA_VERSION);
    assert!(present(&name).await);
    assert!(!has_meta(&store).await.expect("hasMeta"));
    assert_eq!(write_set(&store, &sample()).await.expect("write"), Some(2));
    // Node 1: a new leader in term 2 overwrites index 3 and appends 4.
    let second = WriteSet {
        writes: vec![node_write(
            3,
            1,
            Some(hs(2, None)),
            3,
            vec![entry(3, 2, "x"), entry(4, 2, "y")],
        )],
        ..WriteSet::default()
    };
    assert_eq!(write_set(&store, &second).await.expect("write"), Some(3));
    // A shorter rewrite deletes the rest of the tail.
    let third = WriteSet {
        writes: vec![node_write(4, 1, None, 2, vec![entry(2, 2, "z")])],
        ..WriteSet::default()
    };
    write_set(&store, &third).await.expect("write");
    store.close();
    let err = load_cluster(&store, None).await.expect_err("closed");
    assert_eq!(err.name, "ClosedError", "{err}");

    let store = open(&name).await;
    assert!(has_meta(&store).await.expect("hasMeta"));
    let got = load(&store).await;
    assert_eq!(got.meta, Some(meta(3)), "meta, with its u64s exact");
    assert_eq!(got.nodes.len(), 3);
    assert_eq!(got.nodes[0].hard_state, hs(2, None));
    assert_eq!(got.nodes[0].log, vec![entry(1, 1, "a"), entry(2, 2, "z")]);
    assert_eq!(got.nodes[1].hard_state, hs(1, Some(1)));
    assert!(got.nodes[1].log.is_empty());
    assert_eq!(got.nodes[2].hard_state, HardState::default());
    assert_eq!(got.calls.len(), 1);
    assert_eq!(got.calls[0].invoke_us, 5);
    // A base replaces everything.
    let base = WriteSet {
        base: Some(raftlab::web::idb::Baseline {
            nodes: vec![empty(), empty()],
            calls: Vec::new(),
        }),
        meta: Some(meta(2)),
        ..WriteSet::default()
    };
    assert_eq!(write_set(&store, &base).await.expect("write"), None);
    let got = load(&store).await;
    assert_eq!(got.nodes.len(), 2);
    assert!(got.nodes.iter().all(|d| d.log.is_empty()));
    assert!(got.calls.is_empty());
    store.close();
    remove(&name).await;
    assert!(!present(&name).await);
}

/// A transaction that fails midway leaves nothing: a put with an invalid
/// key after valid requests, a put that throws as a full disk does, and a
/// write set with a broken log write after a valid hard state (refused
/// while planning, before any I/O).
#[wasm_bindgen_test]
async fn failed_write_leaves_nothing() {
    let name = unique("atomic");
    let store = open(&name).await;
    write_set(&store, &sample()).await.expect("write");
    let before = load(&store).await;

    // `true` is not a valid IndexedDB key.
    let h = raftlab::json::to_string(&raftlab::json::to_string(&hs(9, None)));
    let plan = format!(
        r#"{{"last": 9, "ops": [["put", "hard_state", 1, {h}],
            ["delete", "log", [1, 1], [1, 9007199254740991]],
            ["put", "log", true, "{{}}"]]}}"#
    );
    let err = Failure::of(
        store
            .write_js(&plan)
            .await
            .expect_err("an invalid key must fail"),
    );
    assert_eq!(err.name, "StorageError", "{err}");
    assert!(err.message.contains("writing log true"), "{err}");
    assert_eq!(
        load(&store).await,
        before,
        "the failed transaction left changes"
    );

    // Every put throws, as with a full disk: a QuotaExceededError.
    let proto = js_sys::eval("IDBObjectStore.prototype").expect("prototype");
    let real_put = js_sys::Reflect::get(&proto, &"put".into()).expect("put");
    let full = js_sys::Function::new_no_args(
        "throw new DOMException('the test filled the quota', 'QuotaExceededError')",
    );
    js_sys::Reflect::set(&proto, &"put".into(), &full).expect("replace put");
    let err = write_set(&store, &sample()).await.expect_err("quota");
    js_sys::Reflect::set(&proto, &"put".into(), &real_put).expect("restore put");
    assert_eq!(err.name, "QuotaExceededError", "{err}");
    assert!(err.message.contains("quota is used up"), "{err}");
    assert_eq!(load(&store).await, before);

    let broken = WriteSet {
        writes: vec![
            DurableWrite {
                id: 7,
                record: DurableRecord::Node {
                    node: NodeId(3),
                    batch: WriteBatch {
                        hard_state: Some(hs(5, None)),
                        log_write: None,
                    },
                },
            },
            node_write(8, 1, None, 2, vec![entry(2, 1, "b"), entry(4, 1, "d")]),
        ],
        ..WriteSet::default()
    };
    let err = write_set(&store, &broken)
        .await
        .expect_err("not contiguous");
    assert_eq!(err.name, "InvalidInputError", "{err}");
    assert_eq!(load(&store).await, before);

    // The JavaScript entry points: readable, named errors.
    let e = Failure::of(store.write_js("{not json").await.expect_err("bad JSON"));
    assert_eq!(e.name, "InvalidInputError", "{e}");
    let e = Failure::of(
        store
            .write_js(r#"{"last": null, "ops": [["rename", "log"]]}"#)
            .await
            .expect_err("unknown request"),
    );
    assert_eq!(e.name, "InvalidInputError", "{e}");
    assert_eq!(load(&store).await, before);
    store.close();
    remove(&name).await;
}

/// Damaged records are errors that name the record, never panics: a value
/// that is not JSON, a value that is not a string, and a hole in a log.
#[wasm_bindgen_test]
async fn corrupt_record_is_an_error_naming_it() {
    let name = unique("corrupt");
    let store = open(&name).await;
    write_set(&store, &sample()).await.expect("write");
    let db = store.db();

    raw_put(&db, LOG, &pair(1, 2), &JsValue::from_str("not json {")).await;
    let err = load_cluster(&store, None).await.expect_err("corrupt");
    err.assert_corrupt("log [1, 2]");
    // Through the JavaScript entry point: a CorruptError naming the record.
    let raw = store
        .load_js()
        .await
        .expect("load")
        .as_string()
        .expect("text");
    let e = Failure::of(assemble_loaded(&raw, None).expect_err("corrupt"));
    e.assert_corrupt("log [1, 2]");

    raw_put(&db, LOG, &pair(1, 2), &JsValue::from_f64(3.0)).await;
    let err = load_cluster(&store, None).await.expect_err("not a string");
    err.assert_corrupt("log [1, 2]");
    assert!(err.message.contains("not a JSON string"), "{err}");

    raw_delete(&db, LOG, &pair(1, 2)).await;
    let err = load_cluster(&store, None).await.expect_err("a gap");
    err.assert_corrupt("log [1, 2]");
    assert!(err.message.contains("missing"), "{err}");

    raw_put(
        &db,
        SIM,
        &JsValue::from_str("meta"),
        &JsValue::from_str("{\"seed\":1}"),
    )
    .await;
    let err = load_cluster(&store, None).await.expect_err("bad meta");
    err.assert_corrupt("sim \"meta\"");

    raw_put(
        &db,
        CALLS,
        &JsValue::from_f64(0.0),
        &JsValue::from_str("[]"),
    )
    .await;
    raw_put(
        &db,
        SIM,
        &JsValue::from_str("meta"),
        &JsValue::from_str(&raftlab::json::to_string(&meta(3))),
    )
    .await;
    raw_put(
        &db,
        LOG,
        &pair(1, 2),
        &JsValue::from_str(&raftlab::json::to_string(&entry(2, 1, "b"))),
    )
    .await;
    let err = load_cluster(&store, None).await.expect_err("bad call");
    err.assert_corrupt("calls 0");
    raw_delete(&db, CALLS, &JsValue::from_f64(0.0)).await;
    load_cluster(&store, None).await.expect("repaired");

    // A node id outside 1..=9, or a node count beyond 9: an error before
    // anything is allocated for it, never a panic or an exhausted memory.
    raw_put(
        &db,
        LOG,
        &pair(10, 1),
        &JsValue::from_str(&raftlab::json::to_string(&entry(1, 1, "a"))),
    )
    .await;
    let err = load_cluster(&store, None)
        .await
        .expect_err("node out of range");
    err.assert_corrupt("log [10, 1]");
    assert!(err.message.contains("not [node, index]"), "{err}");
    raw_delete(&db, LOG, &pair(10, 1)).await;
    let err = load_cluster(&store, Some(1 << 30))
        .await
        .expect_err("too many nodes");
    assert_eq!(err.name, "InvalidInputError", "{err}");
    assert!(err.message.contains("1 to 9"), "{err}");
    // A key IndexedDB holds but JSON cannot (Infinity is a valid key):
    // named as the page reads it.
    raw_put(
        &db,
        HARD_STATE,
        &JsValue::from_f64(f64::INFINITY),
        &JsValue::from_str("{}"),
    )
    .await;
    let err = load_cluster(&store, None).await.expect_err("bad key");
    err.assert_corrupt("hard_state null");
    store.close();
    remove(&name).await;
}

/// A version 1 database (only `hard_state` and `log`) is upgraded in place:
/// its data stays, the new stores appear, nothing else changes.
#[wasm_bindgen_test]
async fn upgrade_from_v1_keeps_data() {
    let name = unique("upgrade");
    let db = raw_open(&name, 1, &STORES_V1).await;
    let h = raftlab::json::to_string(&hs(3, Some(2)));
    raw_put(
        &db,
        HARD_STATE,
        &JsValue::from_f64(2.0),
        &JsValue::from_str(&h),
    )
    .await;
    for i in 1..=2u32 {
        let e = raftlab::json::to_string(&entry(u64::from(i), 3, "v1"));
        raw_put(&db, LOG, &pair(2, i), &JsValue::from_str(&e)).await;
    }
    db.close();

    let store = open(&name).await;
    let db = store.db();
    assert_eq!(db.version() as u32, SCHEMA_VERSION);
    for s in STORES {
        assert!(db.object_store_names().contains(s), "store {s} missing");
    }
    let got = load_cluster(&store, Some(3)).await.expect("load");
    assert_eq!(got.meta, None);
    assert_eq!(got.nodes[1].hard_state, hs(3, Some(2)));
    assert_eq!(got.nodes[1].log, vec![entry(1, 3, "v1"), entry(2, 3, "v1")]);
    assert!(!has_meta(&store).await.expect("hasMeta"));
    // The new stores work.
    write_set(
        &store,
        &WriteSet {
            meta: Some(meta(3)),
            ..WriteSet::default()
        },
    )
    .await
    .expect("write");
    assert!(has_meta(&store).await.expect("hasMeta"));
    store.close();
    remove(&name).await;
}

/// A database from a newer schema is refused with a clear error, and left
/// exactly as it was.
#[wasm_bindgen_test]
async fn newer_schema_is_refused_and_kept() {
    let name = unique("newer");
    let db = raw_open(&name, SCHEMA_VERSION + 1, &["future"]).await;
    raw_put(
        &db,
        "future",
        &JsValue::from_f64(1.0),
        &JsValue::from_str("keep me"),
    )
    .await;
    db.close();

    let err = try_open(&name).await.expect_err("newer schema");
    assert_eq!(err.name, "NewerSchemaError", "{err}");
    assert!(err.message.contains("newer"), "{err}");
    assert!(
        err.message.contains(&format!(
            "schema version {}; this page knows version {SCHEMA_VERSION}",
            SCHEMA_VERSION + 1
        )),
        "{err}"
    );
    assert!(err.message.contains(&format!("{name:?}")), "{err}");

    let db = raw_open(&name, SCHEMA_VERSION + 1, &[]).await;
    assert_eq!(db.version() as u32, SCHEMA_VERSION + 1);
    let kept = raw_get(&db, "future", &JsValue::from_f64(1.0)).await;
    assert_eq!(kept.as_string().as_deref(), Some("keep me"));
    db.close();
    remove(&name).await;
}

/// A whole cluster through the JavaScript API, as the page drives it: run
/// with persistence, taking the planned requests (`takeDurableWrites`), storing (`store.write`) and
/// confirming every write set; then a power loss (writes taken but never
/// stored are lost); load (`store.load`, `assembleLoaded`) and resume:
/// every node comes back with the stored term, vote and log, and the
/// cluster carries on.
#[wasm_bindgen_test]
async fn whole_cluster_round_trip() {
    let name = unique("cluster");
    let store = open(&name).await;
    let mut sim = Simulation::new("4242", 5).expect("sim");
    let base = sim.enable_persistence().expect("enable");
    assert!(sim.persistence_enabled());
    let r = store.write_js(&base).await.expect("write base");
    assert!(r.is_undefined());
    sim.baseline_stored();
    sim.add_workload(3).expect("workload");
    let mut stored_sets = 0;
    for _ in 0..300 {
        sim.advance(10.0).expect("advance");
        if let Some(plan) = sim.take_durable_writes_json(None).expect("take") {
            let up_to = store.write_js(&plan).await.expect("write");
            assert!(sim.confirm_durable_js(up_to.as_f64()).expect("confirm") > 0);
            stored_sets += 1;
        }
    }
    sim.stop_workload();
    assert!(stored_sets > 10, "only {stored_sets} write sets");
    assert_eq!(sim.inner().unconfirmed_writes(), 0);
    assert!(sim.inner().violation().is_none());
    // What is stored now equals every node's durable state.
    let ids = sim.inner().node_ids();
    let stored: Vec<_> = ids
        .iter()
        .map(|id| {
            sim.inner()
                .slot(*id)
                .expect("slot")
                .storage
                .durable()
                .clone()
        })
        .collect();
    let history = sim.inner().history().clone();
    assert!(
        stored.iter().any(|d| d.log.len() > 5),
        "the run committed too little to be a test"
    );
    // More happens, but is never stored: lost at the power loss.
    sim.add_workload(2).expect("workload");
    sim.advance(500.0).expect("advance");
    let _ = sim.take_durable_writes_json(None).expect("take");
    drop(sim);
    store.close();

    // Reload.
    let store = open(&name).await;
    assert!(has_meta(&store).await.expect("hasMeta"));
    let raw = store
        .load_js()
        .await
        .expect("load")
        .as_string()
        .expect("text");
    let json = assemble_loaded(&raw, None).expect("assemble");
    let loaded: Loaded = raftlab::json::from_str(&json).expect("load JSON");
    assert_eq!(loaded.nodes, stored);
    assert_eq!(loaded.calls, history.calls);
    let meta = loaded.meta.clone().expect("meta");
    assert_eq!(meta.seed, "4242");
    assert_eq!(meta.epoch, 0);

    let mut sim = match Simulation::resume(&json, None) {
        Ok(s) => s,
        Err(_) => panic!("resume failed"),
    };
    assert!(!sim.persistence_enabled());
    assert_eq!(sim.inner().now(), meta.now_us);
    for (i, id) in ids.iter().enumerate() {
        let raft = sim.inner().raft(*id).expect("restarted");
        assert_eq!(
            raft.hard_state(),
            stored[i].hard_state,
            "{id}'s term and vote"
        );
        assert_eq!(raft.log(), &stored[i].log[..], "{id}'s log");
    }
    assert_eq!(sim.inner().history().calls, history.calls);
    // The background clients running at the power loss run again (the
    // recorded actions, replayed); stop them so the put below is alone.
    // (The stored record has the first `add_workload(3)`; the stop came
    // after the last write set and was lost with the power.)
    let writers = sim.inner().clients().iter().filter(|c| c.auto.is_some());
    assert_eq!(writers.count(), 3);
    sim.stop_workload();
    // It carries on, persisting again, with clients of a new epoch.
    let base = sim.enable_persistence().expect("enable");
    store.write_js(&base).await.expect("write base");
    sim.baseline_stored();
    let client = sim.submit("put", "after", Some("reload".into()), None, None);
    let Ok(client) = client else {
        panic!("submit failed")
    };
    assert!(client > 1000, "client {client} reuses an old session id");
    for _ in 0..300 {
        sim.advance(10.0).expect("advance");
        if let Some(plan) = sim.take_durable_writes_json(None).expect("take") {
            let up_to = store.write_js(&plan).await.expect("write");
            sim.confirm_durable_js(up_to.as_f64()).expect("confirm");
        }
        if sim.inner().pending_calls() == 0 {
            break;
        }
    }
    assert_eq!(sim.inner().pending_calls(), 0, "the put never finished");
    assert!(sim.inner().violation().is_none());
    assert_eq!(
        raftlab::check::check_history_json(&sim.history_json()),
        Ok(None)
    );
    let meta = load(&store).await.meta.expect("meta");
    assert_eq!(meta.epoch, 1);
    store.close();
    remove(&name).await;
    assert!(!present(&name).await);
}

/// Deleting a cluster closes the stores this page has open on it (instead
/// of being blocked by them); they then fail with a clear error.
#[wasm_bindgen_test]
async fn delete_closes_open_stores() {
    let name = unique("delete");
    let store = open(&name).await;
    write_set(&store, &sample()).await.expect("write");
    remove(&name).await;
    assert!(!present(&name).await);
    let err = has_meta(&store).await.expect_err("closed");
    assert_eq!(err.name, "ClosedError", "{err}");
    assert!(err.message.contains("Open the store again"), "{err}");
    let err = write_set(&store, &sample()).await.expect_err("closed");
    assert_eq!(err.name, "ClosedError", "{err}");
    // A fresh store of the same name starts empty.
    let store = open(&name).await;
    assert_eq!(load(&store).await, Loaded::default());
    store.close();
    remove(&name).await;
}

/// An upgrade blocked by an old connection that does not let go (another
/// tab with an old page) is an error, not a hang; once that connection
/// closes, opening works and the data is there.
#[wasm_bindgen_test]
async fn blocked_upgrade_is_an_error() {
    let name = unique("blocked");
    let old = raw_open(&name, 1, &STORES_V1).await;
    let h = raftlab::json::to_string(&hs(4, None));
    raw_put(
        &old,
        HARD_STATE,
        &JsValue::from_f64(1.0),
        &JsValue::from_str(&h),
    )
    .await;
    let err = try_open(&name).await.expect_err("blocked");
    assert_eq!(err.name, "BlockedError", "{err}");
    assert!(err.message.contains("close the other"), "{err}");
    old.close();
    let store = open(&name).await;
    let got = load_cluster(&store, Some(1)).await.expect("load");
    assert_eq!(got.nodes[0].hard_state, hs(4, None));
    store.close();
    remove(&name).await;
}

/// Without IndexedDB (private browsing, storage off) every entry point
/// fails with `IndexedDBUnavailableError`; a bad name is the caller's
/// mistake.
#[wasm_bindgen_test]
async fn unavailable_and_bad_names_are_named_errors() {
    let err = try_open("").await.expect_err("empty name");
    assert_eq!(err.name, "InvalidInputError", "{err}");
    let err = try_open(&"x".repeat(101)).await.expect_err("long name");
    assert_eq!(err.name, "InvalidInputError", "{err}");

    let global = js_sys::global();
    let desc = js_sys::Object::get_own_property_descriptor(&global, &"indexedDB".into());
    let hide = js_sys::Object::new();
    js_sys::Reflect::set(&hide, &"value".into(), &JsValue::UNDEFINED).expect("set");
    js_sys::Reflect::set(&hide, &"configurable".into(), &JsValue::TRUE).expect("set");
    js_sys::Object::define_property(&global, &"indexedDB".into(), &hide);
    let opened = try_open("unavailable").await.map(|s| s.close());
    let asked = Store::exists("unavailable").await.map_err(Failure::of);
    let deleted = Store::delete_cluster("unavailable")
        .await
        .map_err(Failure::of);
    if desc.is_undefined() {
        js_sys::Reflect::delete_property(&global, &"indexedDB".into()).expect("delete");
    } else {
        js_sys::Object::define_property(&global, &"indexedDB".into(), &desc.unchecked_into());
    }
    for err in [
        opened.expect_err("open"),
        asked.expect_err("exists"),
        deleted.expect_err("delete"),
    ] {
        assert_eq!(err.name, "IndexedDBUnavailableError", "{err}");
        assert!(err.message.contains("runs in memory only"), "{err}");
    }
    assert!(!present(&unique("back")).await, "indexedDB is back");
}
/// The facade's barrier controls: without confirmations nothing leaves a
/// node (messages are held); `storageReport` shows it; turning
/// persistence off releases everything and the cluster elects a leader.
#[wasm_bindgen_test]
async fn disabling_persistence_releases_everything_held() {
    let mut sim = Simulation::new("77", 3).expect("sim");
    let _base = sim.enable_persistence().expect("enable");
    sim.advance(2000.0).expect("advance");
    let report = sim.storage_report().expect("report");
    let field = |k: &str| {
        js_sys::Reflect::get(&report, &k.into())
            .expect("field")
            .as_f64()
            .expect("a number")
    };
    assert!(field("unconfirmed_writes") > 0.0);
    assert!(field("held_messages") > 0.0);
    assert_eq!(sim.inner().raft_messages_sent(), 0);
    assert!(sim.take_durable_writes_json(None).expect("take").is_some());
    assert!(sim.take_durable_writes_json(None).expect("take").is_none());
    let set = sim.take_write_set(true).expect("the meta record");
    assert!(set.writes.is_empty() && set.meta.is_some());
    assert_eq!(sim.confirm_durable_js(None).expect("confirm"), 0);
    assert!(sim.confirm_durable_js(Some(-1.0)).is_err());
    sim.disable_persistence();
    assert!(!sim.persistence_enabled());
    assert_eq!(sim.inner().held_messages(), 0);
    assert!(sim
        .take_durable_writes_json(Some(true))
        .expect("take")
        .is_none());
    sim.advance(3000.0).expect("advance");
    assert!(sim.inner().leader().is_some());
}

/// What a resumed cluster gets back from the recorded actions
/// (`src/web/actions.rs`): the link cuts and the background clients as
/// they were; a node that was down comes back up (a power loss restarts
/// every node); the list itself is kept for the next reload. A damaged
/// action is an error that names it.
#[wasm_bindgen_test]
fn resume_replays_the_recorded_actions() {
    use raftlab::sim::trace::Endpoint;
    let mut sim = Simulation::new("515", 5).expect("sim");
    sim.advance(1000.0).expect("advance");
    sim.set_cut(1, 2, true).expect("cut");
    sim.isolate(3).expect("isolate");
    sim.set_cut(3, 4, false).expect("heal one way");
    sim.add_workload(2).expect("workload");
    sim.stop_workload();
    sim.add_workload(3).expect("workload");
    sim.crash(5).expect("crash");
    sim.set_timing(200.0, 400.0, 60.0).expect("timing");
    sim.advance(500.0).expect("advance");
    let cuts: Vec<_> = sim.inner().network().cuts().copied().collect();
    let meta = sim.meta();
    assert_eq!(meta.actions.len(), 8, "{:?}", meta.actions);
    let loaded = Loaded {
        meta: Some(meta.clone()),
        nodes: sim
            .inner()
            .node_ids()
            .into_iter()
            .map(|id| {
                sim.inner()
                    .slot(id)
                    .expect("slot")
                    .storage
                    .durable()
                    .clone()
            })
            .collect(),
        calls: sim.inner().history().calls.clone(),
    };
    let resumed = Simulation::from_loaded(loaded.clone(), None).expect("resume");
    let inner = resumed.inner();
    let again: Vec<_> = inner.network().cuts().copied().collect();
    assert_eq!(again, cuts, "the link cuts are back");
    assert!(inner
        .network()
        .is_cut(Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2))));
    assert!(!inner
        .network()
        .is_cut(Endpoint::Node(NodeId(3)), Endpoint::Node(NodeId(4))));
    let writers = inner.clients().iter().filter(|c| c.auto.is_some()).count();
    assert_eq!(writers, 3, "as many background clients run again");
    assert!(inner.clients().iter().all(|c| c.id.0 > 1000), "a new epoch");
    assert!(inner.is_up(NodeId(5)), "a power loss restarts every node");
    assert_eq!(inner.config().raft.election_timeout_min_us, 200_000);
    assert_eq!(
        resumed.meta().actions,
        meta.actions,
        "kept for the next reload"
    );
    // A damaged action names itself.
    let mut bad = loaded;
    if let Some(m) = bad.meta.as_mut() {
        m.actions[1] =
            raftlab::web::actions::ActionJson::from_text(r#"{"action": "teleport", "at_us": 1}"#)
                .expect("json");
    }
    match Simulation::from_loaded(bad, None) {
        Err(e) => assert!(e.contains("action 1"), "{e}"),
        Ok(_) => panic!("a damaged action was accepted"),
    }
}

/// The stored actions (`src/web/actions.rs`) read back as written, every
/// kind; a list written before actions were kept as JSON text (each one a
/// `serde_json::Value`, so with its keys sorted) still reads; an action
/// that lacks a field it needs is named with the field.
#[wasm_bindgen_test]
fn recorded_actions_read_back_as_written() {
    use raftlab::web::actions::{ActionJson, ActionLog, Recorded, UserAction};
    let actions = vec![
        UserAction::Crash { node: 1 },
        UserAction::Restart { node: 2 },
        UserAction::ForceTimeout { node: 3 },
        UserAction::SetCut {
            from: 1,
            to: 2,
            cut: true,
        },
        UserAction::Isolate { node: 4 },
        UserAction::Partition {
            groups: vec![vec![1, 2], vec![3]],
        },
        UserAction::HealAll,
        UserAction::SetNetwork {
            latency_min_us: 1,
            latency_max_us: 2,
            loss: 0.25,
            duplicate: 0.0,
            reorder: 1.0,
        },
        UserAction::SetTiming {
            election_min_us: 150_000,
            election_max_us: 300_000,
            heartbeat_us: 50_000,
        },
        UserAction::AlignTimers {
            delay_us: 5,
            spread_us: 0,
        },
        UserAction::Submit {
            client: 7,
            call: Op::Cas {
                key: "k".into(),
                expected: None,
                value: "v".into(),
            },
            via: None,
        },
        UserAction::Submit {
            client: 7,
            call: Op::Get { key: "k".into() },
            via: Some(2),
        },
        UserAction::StaleRead {
            client: 8,
            node: 1,
            key: "k".into(),
        },
        UserAction::AddWorkload { n: 3 },
        UserAction::StopWorkload,
    ];
    let recorded: Vec<Recorded> = actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| Recorded {
            at_us: i as u64 * 10,
            action,
        })
        .collect();
    let log = ActionLog::from_recorded(&recorded);
    assert_eq!(log.len(), recorded.len());
    assert_eq!(ActionLog::parse(log.values()), Ok(recorded));
    let json = |t: &str| ActionJson::from_text(t).expect("json");
    let old = [
        json(r#"{"action":"set_cut","at_us":5,"cut":true,"from":1,"to":2}"#),
        json(
            r#"{"action":"submit","at_us":6,"call":{"key":"x","op":"put","value":"1"},"client":3,"via":null}"#,
        ),
    ];
    assert_eq!(
        ActionLog::parse(&old),
        Ok(vec![
            Recorded {
                at_us: 5,
                action: UserAction::SetCut {
                    from: 1,
                    to: 2,
                    cut: true
                }
            },
            Recorded {
                at_us: 6,
                action: UserAction::Submit {
                    client: 3,
                    call: Op::Put {
                        key: "x".into(),
                        value: "1".into()
                    },
                    via: None
                }
            },
        ])
    );
    let err = ActionLog::parse(&[json(r#"{"action":"set_cut","at_us":5,"from":1,"to":2}"#)])
        .expect_err("no cut");
    assert!(
        err.contains("action 0") && err.contains("missing field `cut`"),
        "{err}"
    );
}

/// `storageReport`'s per-node view: nothing is known to be in IndexedDB
/// until the baseline is stored; then writes taken but not confirmed show
/// as unsaved (log entries from the first one that differs), and once
/// confirmed IndexedDB holds exactly what every node wrote. Histories
/// assembled outside (across reloads) can be checked for linearizability.
#[wasm_bindgen_test]
fn storage_report_tells_disk_from_memory() {
    let mut sim = Simulation::new("616", 3).expect("sim");
    let _base = sim.enable_persistence().expect("enable");
    assert!(sim.node_storage().iter().all(|n| n.on_disk.is_none()));
    sim.baseline_stored();
    assert!(sim
        .node_storage()
        .iter()
        .all(|n| n.on_disk.as_ref() == Some(&n.written)));
    sim.add_workload(2).expect("workload");
    let mut saw_unsaved = false;
    for _ in 0..200 {
        sim.advance(10.0).expect("advance");
        let Some(set) = sim.take_write_set(false) else {
            continue;
        };
        let report = sim.node_storage();
        if report
            .iter()
            .any(|n| n.unsaved_from.is_some() || n.unsaved_hard_state)
        {
            saw_unsaved = true;
        }
        for n in &report {
            if let (Some(from), Some(disk)) = (n.unsaved_from, n.on_disk.as_ref()) {
                assert!(from <= disk.log_len + 1.0, "{n:?}");
                assert!(from <= n.written.log_len, "{n:?}");
            }
        }
        if let Some(last) = set.last_id() {
            sim.confirm_durable_js(Some(last as f64)).expect("confirm");
        }
        for n in sim.node_storage() {
            assert_eq!(n.on_disk.as_ref(), Some(&n.written), "node {}", n.id);
            assert!(n.unsaved_from.is_none() && !n.unsaved_hard_state && !n.unsaved_truncation);
        }
    }
    assert!(saw_unsaved, "no write was ever shown as unsaved");
    assert!(sim.inner().committed_index().0 > 3, "too little happened");
    let history = sim.history_json();
    assert_eq!(raftlab::check::check_history_json(&history), Ok(None));
    assert!(raftlab::check::check_history_json("{}").is_err());
    sim.disable_persistence();
    assert!(sim.node_storage().iter().all(|n| n.on_disk.is_none()));
}

/// A script that submits in a loop without letting the simulation run gets
/// a clear error after `MAX_CONSOLE_CALLS` calls in flight, instead of a
/// new client (and session) per call; once answers are back, the idle
/// console clients are reused.
#[wasm_bindgen_test]
fn console_calls_in_flight_are_capped() {
    use raftlab::web::MAX_CONSOLE_CALLS;
    let mut sim = Simulation::new("64", 5).expect("sim");
    sim.advance(1000.0).expect("advance");
    let mut clients = Vec::new();
    for i in 0..MAX_CONSOLE_CALLS {
        let key = format!("k{i}");
        let c = sim.submit("put", &key, Some("v".into()), None, None);
        clients.push(c.unwrap_or_else(|_| panic!("call {i} refused")));
    }
    let refused = sim.submit("put", "one-more", Some("v".into()), None, None);
    let Err(e) = refused else {
        panic!("call {} accepted", MAX_CONSOLE_CALLS + 1)
    };
    let e: js_sys::Error = JsValue::from(e).dyn_into().expect("an Error");
    let msg = String::from(e.message());
    assert!(msg.contains("waiting for answers"), "{msg}");
    assert!(
        sim.stale_read(1, "k0").is_err(),
        "a stale read took a client too"
    );
    // Let the calls return; then a call reuses one of the same clients.
    for _ in 0..200 {
        sim.advance(50.0).expect("advance");
        if sim.inner().pending_calls() == 0 {
            break;
        }
    }
    assert_eq!(sim.inner().pending_calls(), 0, "the calls never finished");
    let again = sim.submit("get", "k1", None, None, None);
    let Ok(again) = again else {
        panic!("refused after the answers came back")
    };
    assert!(clients.contains(&again), "client {again} is new");
    assert_eq!(sim.inner().clients().len(), MAX_CONSOLE_CALLS);
}

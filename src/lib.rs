//! # raftlab
//!
//! A Raft consensus core and a replicated key-value store on a
//! deterministic simulator, compiled natively and to WebAssembly.
//!
//! Layers (data flows down, events flow up): [`raft`] is the sans-IO
//! consensus core, [`kv`] the state machine, [`storage`] the durable state,
//! [`sim`] the deterministic world that drives them, [`check`] the safety and
//! linearizability checkers.
//!
//! The driving loop, as the simulator runs it for each node:
//!
//! ```
//! use raftlab::raft::{Config, NodeId, RaftNode};
//! use raftlab::storage::{MemStorage, Storage, WriteBatch};
//!
//! // A one-node cluster elects itself at its first timeout.
//! let mut node: RaftNode<String> = RaftNode::new(NodeId(1), vec![NodeId(1)], Config::default(), 7, 0);
//! let mut disk = MemStorage::new();
//! let mut now = node.next_deadline();
//! node.handle_timeout(now);
//! node.propose(now, "hello".to_string()).unwrap();
//! let ready = node.take_ready();
//! // 1. persist, 2. send, 3. apply.
//! disk.write(&WriteBatch { hard_state: ready.hard_state, log_write: ready.log_write }).unwrap();
//! assert!(ready.messages.is_empty()); // no peers
//! assert_eq!(ready.committed.len(), 2); // the leader's no-op and "hello"
//! now += 1;
//! assert!(node.next_deadline() > now);
//! assert_eq!(disk.load().unwrap().log.len(), 2);
//! ```

pub mod check;
pub mod json;
pub mod kv;
pub mod raft;
pub mod rng;
pub mod sim;
pub mod sort;
pub mod storage;
pub mod vecmap;

#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod web;

// The checker's separately loaded wasm module (see its docs). It lives with
// the facade in src/web/, the only code that imports wasm-bindgen.
#[cfg(all(target_arch = "wasm32", feature = "check-module"))]
#[path = "web/check_module.rs"]
pub mod check_module;

/// Natively, the two modules of the facade that import nothing from
/// wasm-bindgen: the saved cluster's record formats ([`web::idb`]: planning
/// writes, checking what a read returned) and the recorded actions they
/// hold ([`web::actions`]), so that their unit tests run under `cargo test`
/// too. The same files as in the wasm build, under the same paths.
#[cfg(not(target_arch = "wasm32"))]
pub mod web {
    pub mod actions;
    pub mod idb;
}

/// In wasm, Talc replaces the standard library's allocator (a port of
/// dlmalloc): the simulator allocates for messages and commands, and under
/// dlmalloc 22–27 % of the wasm time of the busy benchmark workloads (`fuzz`,
/// `conc64`) went to malloc and free. With Talc they ran 7–13 % faster in
/// Node, and the page's wasm is 7 KB smaller. Native builds keep the
/// system's allocator.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

// The library's own unit tests (`raft::tests`, `check::linearizability`, ...)
// run in the browser like the integration tests do.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

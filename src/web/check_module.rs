//! The linearizability checker's own wasm module, loaded by the page only
//! when a script asks for a check (`raftlab.checkHistoryLinearizable(json)`
//! or `raftlab.checkLinearizable()` in `www/main.js`).
//!
//! # Why a second module
//!
//! The page's own controls never run the checker: it serves the JS API and
//! the end-to-end tests. Compiled into the page's wasm it cost about 20 KB
//! (the Wing–Gong/Lowe search, its hash sets, the history reader), which
//! every visitor downloaded before the first frame. Built on its own, it is
//! fetched on first use instead.
//!
//! Both modules come from this one crate. The page's is the default build
//! (feature `page`, which compiles [`crate::web`]); this one is
//! `--no-default-features --features check-module`, which leaves the facade
//! out and compiles this file instead, so the module exports nothing but
//! [`check_history_linearizable`] (the linker drops the simulator and
//! everything else it does not reach). `make wasm` builds both (`www/pkg/`
//! and `www/pkg-check/`). The check itself is
//! [`crate::check::check_history_json`], tested natively and in the
//! browsers like the rest of the crate.

use wasm_bindgen::prelude::*;

/// `checkHistoryLinearizable(json)`: check a history in the JSON format of
/// `historyJson()` (for instance one assembled across page reloads) for
/// linearizability. Returns `undefined` when it is linearizable, else the
/// explanation; throws if the JSON is not a history.
#[wasm_bindgen(js_name = checkHistoryLinearizable)]
pub fn check_history_linearizable(json: &str) -> Result<Option<String>, JsError> {
    crate::check::check_history_json(json).map_err(|e| JsError::new(&e))
}

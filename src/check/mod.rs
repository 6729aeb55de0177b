//! Checkers that run beside the simulator, never inside a node: the Raft
//! safety invariants after every event ([`invariants`], Raft §5.4 and Figure 3)
//! and linearizability of the clients' history ([`linearizability`]).

pub mod history;
pub mod invariants;
pub mod linearizability;
#[cfg(test)]
mod linearizability_oracle;

/// Check a history in the JSON format of [`history::History::to_json`]
/// (the README's "History format") for linearizability, within the
/// default [`linearizability::Limits`]: `Ok(None)` when it is
/// linearizable, `Ok(Some(why))` with the explanation when it is not, and
/// `Err` when the text is not such a history or the search could not
/// decide within its limits (the page shows "could not check: …" and
/// stays responsive, rather than searching for minutes).
///
/// This is what the page's separately loaded checker module exports
/// (`checkHistoryLinearizable`, in `src/web/check_module.rs`).
pub fn check_history_json(text: &str) -> Result<Option<String>, String> {
    let history = history::History::from_json(text)?;
    match linearizability::check_bounded(&history, linearizability::Limits::default()) {
        Ok(()) => Ok(None),
        Err(linearizability::CheckError::Violation(v)) => Ok(Some(v.to_string())),
        Err(linearizability::CheckError::Undecided(u)) => Err(u.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_history_json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn file(calls: &str) -> String {
        format!(r#"{{"format": "raftlab-history/1", "calls": [{calls}]}}"#)
    }

    const PUT: &str = r#"{"id": 0, "client": 1, "op": "put", "key": "x", "value": "1",
        "invoke_us": 0, "return_us": 10, "outcome": {"result": "ok"}}"#;

    /// The checker module's entry point: a history that is linearizable, one
    /// that is not (a read after a completed put that misses it), and text
    /// that is no history at all.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn checks_history_text() {
        let read = |value: &str| {
            format!(
                r#"{{"id": 1, "client": 2, "op": "get", "key": "x", "invoke_us": 20,
                    "return_us": 30, "outcome": {{"result": "value", "value": {value}}}}}"#
            )
        };
        assert_eq!(
            check_history_json(&file(&format!("{PUT}, {}", read("\"1\"")))),
            Ok(None)
        );
        let stale = check_history_json(&file(&format!("{PUT}, {}", read("null"))))
            .expect("a history")
            .expect("a stale read is not linearizable");
        assert!(stale.contains("\"x\""), "names the key: {stale}");
        assert!(check_history_json("{}").is_err());
        assert!(check_history_json(&file(PUT).replace("/1", "/9")).is_err());
    }
}

//! The clients' history: one [`Call`] per client operation, with its
//! invocation and return times in virtual microseconds. This is what the
//! linearizability checker reads, and what `History::to_json` exports for
//! outside checkers.
//!
//! # JSON format
//!
//! ```json
//! {"format": "raftlab-history/1",
//!  "calls": [{"id": 0, "client": 1, "op": "put", "key": "x", "value": "1",
//!             "invoke_us": 1000, "return_us": 9000,
//!             "outcome": {"result": "ok"}}]}
//! ```
//!
//! `op` is one of `get`, `put`, `append`, `delete`, `cas`; `value` is present
//! for put, append and cas; `expected` is present for cas (`null` meaning the
//! key must be absent). `return_us` and `outcome` are `null` for a call that
//! never returned: it may or may not have taken effect. Outcomes are
//! `{"result":"value","value":"…"|null}`, `{"result":"ok"}`,
//! `{"result":"deleted","existed":bool}`,
//! `{"result":"cas","ok":bool,"current":"…"|null}`, `{"result":"too_large"}`.
//!
//! A file from outside is read strictly ([`History::from_json`]): every
//! field above that is present for a call or an outcome must be there, even
//! when `null`, no other field may be, and ids must be unique. A misspelt
//! field (`"expect"` for `"expected"`, `"return"` for `"return_us"`) would
//! otherwise read as `null` and change what the call means, and two calls
//! with one id would be confused in an explanation.

use crate::json::{self, FromJson, Json, JsonError, JsonOut, ToJson};
use crate::kv::{ClientId, Op, OpResult};
use std::sync::Arc;

/// One client call.
///
/// Written and read through [`crate::json`], its operation's fields inline
/// ([`Op::write_fields`], [`Op::from_fields`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Position in the history.
    pub id: u64,
    /// The client that made the call.
    pub client: ClientId,
    /// The operation: shared with the call's requests and the log
    /// entries that carry it (a simulation records every call, and a copy
    /// of its strings per call was two allocations of each operation).
    pub op: Arc<Op>,
    /// When the client invoked it (virtual µs).
    pub invoke_us: u64,
    /// When the answer reached the client, or `None` if it never did.
    pub return_us: Option<u64>,
    /// The answer, or `None` if it never came.
    pub outcome: Option<OpResult>,
}

impl FromJson for Call {
    fn from_json(v: &Json) -> Result<Call, JsonError> {
        let o = v.obj()?;
        Ok(Call {
            id: o.req("id")?,
            client: o.req("client")?,
            op: Arc::new(Op::from_fields(&o)?),
            invoke_us: o.req("invoke_us")?,
            return_us: o.opt("return_us")?,
            outcome: o.opt("outcome")?,
        })
    }
}

impl ToJson for Call {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("id", &self.id);
        out.field("client", &self.client);
        self.op.write_fields(out);
        out.field("invoke_us", &self.invoke_us);
        out.field("return_us", &self.return_us);
        out.field("outcome", &self.outcome);
        out.end_obj();
    }
}

/// The whole history of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Calls in invocation order.
    pub calls: Vec<Call>,
}

/// The format tag written into exported histories.
pub const HISTORY_FORMAT: &str = "raftlab-history/1";

impl History {
    /// Record an invocation; returns its id.
    pub fn invoke(&mut self, client: ClientId, op: Arc<Op>, now: u64) -> u64 {
        let id = self.calls.len() as u64;
        self.calls.push(Call {
            id,
            client,
            op,
            invoke_us: now,
            return_us: None,
            outcome: None,
        });
        id
    }

    /// Record the answer to call `id`.
    pub fn complete(&mut self, id: u64, now: u64, outcome: OpResult) {
        if let Some(c) = self.calls.get_mut(id as usize) {
            c.return_us = Some(now);
            c.outcome = Some(outcome);
        }
    }

    /// Export as JSON in the documented format.
    pub fn to_json(&self) -> String {
        let mut out = JsonOut::new();
        out.begin_obj();
        out.field("format", HISTORY_FORMAT);
        out.field("calls", &self.calls);
        out.end_obj();
        out.into_string()
    }

    /// Read a history exported by [`History::to_json`].
    pub fn from_json(text: &str) -> Result<History, String> {
        let bad = |e: JsonError| format!("not a history file: {e}");
        let file = json::parse(text).map_err(bad)?;
        let file = file.obj().map_err(bad)?;
        let format: String = file.req("format").map_err(bad)?;
        if format != HISTORY_FORMAT {
            return Err(format!(
                "unknown history format {format:?}, expected {HISTORY_FORMAT:?}"
            ));
        }
        if let Some(json::Json::Arr(records)) = file.get("calls") {
            for (i, r) in records.iter().enumerate() {
                check_fields(r).map_err(|e| format!("call record {i}: {e}"))?;
            }
        }
        let calls: Vec<Call> = file.req("calls").map_err(bad)?;
        let mut ids = std::collections::HashMap::new();
        for (i, c) in calls.iter().enumerate() {
            c.validate()?;
            if let Some(first) = ids.insert(c.id, i) {
                return Err(format!(
                    "call records {first} and {i} both have id {}: ids must be unique",
                    c.id
                ));
            }
        }
        Ok(History { calls })
    }
}

/// The fields of a call record of each operation, all required (`null`
/// where the format allows it).
fn call_fields(op: &str) -> &'static [&'static str] {
    const COMMON: [&str; 7] = [
        "id",
        "client",
        "op",
        "key",
        "invoke_us",
        "return_us",
        "outcome",
    ];
    match op {
        "put" | "append" => &[
            "id",
            "client",
            "op",
            "key",
            "value",
            "invoke_us",
            "return_us",
            "outcome",
        ],
        "cas" => &[
            "id",
            "client",
            "op",
            "key",
            "expected",
            "value",
            "invoke_us",
            "return_us",
            "outcome",
        ],
        _ => &COMMON,
    }
}

/// The fields of an outcome of each kind, all required.
fn outcome_fields(result: &str) -> &'static [&'static str] {
    match result {
        "value" => &["result", "value"],
        "deleted" => &["result", "existed"],
        "cas" => &["result", "ok", "current"],
        _ => &["result"],
    }
}

/// Exactly `want`'s fields in `o`, whatever their order.
fn exact_fields(o: json::Obj<'_>, what: &str, want: &[&str]) -> Result<(), String> {
    let list = || {
        want.iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(extra) = o.names().find(|n| !want.contains(n)) {
        return Err(format!(
            "unknown field {extra:?} in {what} (its fields are {})",
            list()
        ));
    }
    if let Some(missing) = want.iter().find(|f| o.get(f).is_none()) {
        return Err(format!(
            "{what} needs the field {missing:?} (its fields are {}; write null where there is no value)",
            list()
        ));
    }
    Ok(())
}

/// A call record's fields and its outcome's, by name (see the module
/// docs); the values are read afterwards.
fn check_fields(record: &Json) -> Result<(), String> {
    let Ok(o) = record.obj() else {
        return Ok(()); // Reading it says what it is instead.
    };
    let Ok(op) = o.tag("op") else {
        return Ok(());
    };
    exact_fields(o, &format!("a {op} call"), call_fields(op))?;
    if let Some(outcome) = o.get("outcome").and_then(|v| v.obj().ok()) {
        if let Ok(result) = outcome.tag("result") {
            exact_fields(
                outcome,
                &format!("a {result:?} outcome"),
                outcome_fields(result),
            )?;
        }
    }
    Ok(())
}

impl Call {
    /// Check that the call is self-consistent: it returns no earlier than
    /// it was invoked, has an answer exactly when it has a return time, and
    /// the answer is of the kind its operation gives. What a file from
    /// outside must pass before the checker reads it.
    pub fn validate(&self) -> Result<(), String> {
        let id = self.id;
        match (self.return_us, &self.outcome) {
            (Some(r), Some(_)) if r < self.invoke_us => {
                return Err(format!(
                    "call #{id} returns at {r} µs, before it was invoked at {} µs",
                    self.invoke_us
                ))
            }
            (Some(_), None) => return Err(format!("call #{id} has a return time but no outcome")),
            (None, Some(_)) => return Err(format!("call #{id} has an outcome but no return time")),
            _ => {}
        }
        if let Some(o) = &self.outcome {
            let fits = matches!(
                (&*self.op, o),
                (Op::Get { .. }, OpResult::Value { .. })
                    | (Op::Put { .. }, OpResult::Ok)
                    | (Op::Append { .. }, OpResult::Ok | OpResult::TooLarge)
                    | (Op::Delete { .. }, OpResult::Deleted { .. })
                    | (Op::Cas { .. }, OpResult::Cas { .. })
            );
            if !fits {
                return Err(format!(
                    "call #{id}: a {} cannot answer {o}",
                    self.op.name()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUT: &str = r#"{"id": 0, "client": 1, "op": "put", "key": "x", "value": "1",
        "invoke_us": 0, "return_us": 5, "outcome": {"result": "ok"}}"#;
    const CAS: &str = r#"{"id": 1, "client": 2, "op": "cas", "key": "x", "expected": null,
        "value": "2", "invoke_us": 10, "return_us": null, "outcome": null}"#;
    const GET: &str = r#"{"id": 2, "client": 2, "op": "get", "key": "x", "invoke_us": 20,
        "return_us": 30, "outcome": {"result": "value", "value": "1"}}"#;

    fn file(calls: &[&str]) -> String {
        format!(
            r#"{{"format": "raftlab-history/1", "calls": [{}]}}"#,
            calls.join(", ")
        )
    }

    /// What the writer writes, the reader reads back; a generated history too.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reads_what_it_writes() {
        let h = History::from_json(&file(&[PUT, CAS, GET])).expect("a history");
        assert_eq!(h.calls.len(), 3);
        assert_eq!(History::from_json(&h.to_json()), Ok(h));
        let g = crate::check::linearizability::generate_random_history(3, 300, 4, 3);
        assert_eq!(History::from_json(&g.to_json()), Ok(g));
    }

    /// A file from outside is read strictly: a misspelt or missing field
    /// would otherwise read as `null` and change what a call means, and a
    /// repeated id would confuse an explanation.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn refuses_unknown_missing_and_repeated_fields() {
        let err = |calls: &[&str]| History::from_json(&file(calls)).unwrap_err();
        // "expect" for "expected": the cas would mean "key absent".
        let e = err(&[PUT, &CAS.replace("\"expected\"", "\"expect\"")]);
        assert!(
            e.contains("call record 1") && e.contains("\"expect\""),
            "{e}"
        );
        // No "expected" at all.
        let e = err(&[&CAS.replace(r#""expected": null,"#, "")]);
        assert!(e.contains("needs the field \"expected\""), "{e}");
        // "return" for "return_us": the call would look unreturned.
        let e = err(&[PUT, CAS, &GET.replace("\"return_us\"", "\"return\"")]);
        assert!(
            e.contains("call record 2") && e.contains("\"return\""),
            "{e}"
        );
        // A misspelt field inside an outcome.
        let e = err(&[PUT, CAS, &GET.replace(r#""value": "1""#, r#""valeu": "1""#)]);
        assert!(e.contains("\"valeu\"") && e.contains("outcome"), "{e}");
        // A get's read value where its outcome should be.
        let e = err(&[&GET.replace(r#""key": "x","#, r#""key": "x", "value": "1","#)]);
        assert!(e.contains("unknown field \"value\" in a get call"), "{e}");
        // Two calls with one id.
        let e = err(&[PUT, CAS, &GET.replace("\"id\": 2", "\"id\": 0")]);
        assert!(e.contains("both have id 0"), "{e}");
    }
}

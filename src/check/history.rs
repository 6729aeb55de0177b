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
        let calls: Vec<Call> = file.req("calls").map_err(bad)?;
        for c in &calls {
            c.validate()?;
        }
        Ok(History { calls })
    }
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

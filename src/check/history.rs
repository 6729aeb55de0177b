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

use crate::kv::{ClientId, Op, OpName, OpResult};
use serde::{Deserialize, Serialize};

/// One client call.
///
/// Read through `CallFields` rather than a derived reader: `#[serde(flatten)]`
/// would buffer each call in serde's generic `Content` first (see the
/// module docs of [`crate::kv`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Call {
    /// Position in the history.
    pub id: u64,
    /// The client that made the call.
    pub client: ClientId,
    /// The operation.
    #[serde(flatten)]
    pub op: Op,
    /// When the client invoked it (virtual µs).
    pub invoke_us: u64,
    /// When the answer reached the client, or `None` if it never did.
    pub return_us: Option<u64>,
    /// The answer, or `None` if it never came.
    pub outcome: Option<OpResult>,
}

/// Every field a [`Call`] has in JSON, its operation's inline.
#[derive(Deserialize)]
struct CallFields {
    id: u64,
    client: ClientId,
    op: OpName,
    key: String,
    value: Option<String>,
    expected: Option<String>,
    invoke_us: u64,
    return_us: Option<u64>,
    outcome: Option<OpResult>,
}

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Call, D::Error> {
        let f = CallFields::deserialize(d)?;
        Ok(Call {
            id: f.id,
            client: f.client,
            op: f.op.build(f.key, f.value, f.expected)?,
            invoke_us: f.invoke_us,
            return_us: f.return_us,
            outcome: f.outcome,
        })
    }
}

/// The whole history of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Calls in invocation order.
    pub calls: Vec<Call>,
}

#[derive(Serialize, Deserialize)]
struct HistoryFile {
    format: String,
    calls: Vec<Call>,
}

/// The format tag written into exported histories.
pub const HISTORY_FORMAT: &str = "raftlab-history/1";

impl History {
    /// Record an invocation; returns its id.
    pub fn invoke(&mut self, client: ClientId, op: Op, now: u64) -> u64 {
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
        let file = HistoryFile {
            format: HISTORY_FORMAT.to_string(),
            calls: self.calls.clone(),
        };
        serde_json::to_string(&file).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Read a history exported by [`History::to_json`].
    pub fn from_json(text: &str) -> Result<History, String> {
        let file: HistoryFile =
            serde_json::from_str(text).map_err(|e| format!("not a history file: {e}"))?;
        if file.format != HISTORY_FORMAT {
            return Err(format!(
                "unknown history format {:?}, expected {HISTORY_FORMAT:?}",
                file.format
            ));
        }
        for c in &file.calls {
            c.validate()?;
        }
        Ok(History { calls: file.calls })
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
                (&self.op, o),
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

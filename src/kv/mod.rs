//! The replicated key-value state machine (dissertation ch. 6).
//!
//! Owns the commands ([`Op`]), their results ([`OpResult`]), validation of
//! client input before anything reaches the log, and the client sessions
//! that make a retried command take effect exactly once (dissertation §6.3):
//! the replicated state keeps each client's last sequence number and answer,
//! and a duplicate gets the saved answer without being applied again.
//!
//! Reads (`get`) do not go through the log: the leader serves them with
//! ReadIndex (dissertation §6.4), see `sim::server`.
//!
//! # JSON
//!
//! [`Op`] and [`OpResult`] are written as internally tagged objects
//! (`{"op": "put", "key": …, "value": …}`, `{"result": "ok"}`) and read
//! back, both through [`crate::json`] ([`Op::from_fields`], `FromJson`):
//! unknown fields ignored, an absent `Option` field is `None`, a missing
//! required one is "missing field `…`", an unknown name is "unknown variant
//! `…`".

use crate::json::{self, FromJson, Json, JsonError, JsonOut, Obj, ToJson};
use crate::vecmap::VecMap;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 128;
/// Longest value accepted in one put, append or cas, in bytes.
pub const MAX_VALUE_LEN: usize = 4096;
/// Longest value a key may hold after appends, in bytes. An append past this
/// fails with [`OpResult::TooLarge`] and changes nothing.
pub const MAX_STORED_VALUE_LEN: usize = 65536;

/// A client's identity; its session is keyed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

impl FromJson for ClientId {
    fn from_json(v: &Json) -> Result<ClientId, JsonError> {
        u32::from_json(v).map(ClientId)
    }
}

impl ToJson for ClientId {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(u64::from(self.0))
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("C")?;
        write_decimal(f, u64::from(self.0))
    }
}

/// A key-value operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read a key.
    Get {
        /// The key.
        key: String,
    },
    /// Set a key.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Append to a key's value (an absent key counts as empty).
    Append {
        /// The key.
        key: String,
        /// The suffix.
        value: String,
    },
    /// Remove a key.
    Delete {
        /// The key.
        key: String,
    },
    /// Compare-and-swap: set `value` if the key currently holds `expected`
    /// (`None` meaning "absent").
    Cas {
        /// The key.
        key: String,
        /// The value the key must hold, or `None` for "absent".
        expected: Option<String>,
        /// The value to set.
        value: String,
    },
}

/// The `op` names, in [`Op`]'s order.
const OP_NAMES: [&str; 5] = ["get", "put", "append", "delete", "cas"];

impl Op {
    /// The operation whose fields (`op`, `key`, `value`, `expected`) are in
    /// `o` (see the module docs); other fields are ignored, so a history's
    /// call, with its operation inline, reads through here too.
    pub fn from_fields(o: &Obj<'_>) -> Result<Op, JsonError> {
        let key: String = o.req("key")?;
        let value = || o.req::<String>("value");
        Ok(match o.tag("op")? {
            "get" => Op::Get { key },
            "put" => Op::Put {
                key,
                value: value()?,
            },
            "append" => Op::Append {
                key,
                value: value()?,
            },
            "delete" => Op::Delete { key },
            "cas" => Op::Cas {
                key,
                expected: o.opt("expected")?,
                value: value()?,
            },
            other => return Err(json::unknown_variant(other, &OP_NAMES).in_field("op")),
        })
    }
}

impl FromJson for Op {
    fn from_json(v: &Json) -> Result<Op, JsonError> {
        Op::from_fields(&v.obj()?)
    }
}

/// Internally tagged, as the reader takes it:
/// `{"op": "cas", "key": …, "expected": …, "value": …}`.
impl ToJson for Op {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        self.write_fields(out);
        out.end_obj();
    }
}

impl Op {
    /// The fields [`ToJson`] writes (`"op":"put","key":…`), without the
    /// braces: a history call has them inline.
    pub fn write_fields(&self, out: &mut JsonOut) {
        let (name, key) = match self {
            Op::Get { key } => ("get", key),
            Op::Put { key, .. } => ("put", key),
            Op::Append { key, .. } => ("append", key),
            Op::Delete { key } => ("delete", key),
            Op::Cas { key, .. } => ("cas", key),
        };
        out.field("op", name);
        out.field("key", key);
        match self {
            Op::Get { .. } | Op::Delete { .. } => {}
            Op::Put { value, .. } | Op::Append { value, .. } => out.field("value", value),
            Op::Cas {
                expected, value, ..
            } => {
                out.field("expected", expected);
                out.field("value", value);
            }
        }
    }
}

impl Op {
    /// The key this operation touches.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Delete { key }
            | Op::Cas { key, .. } => key,
        }
    }

    /// The lowercase name of the operation.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Get { .. } => "get",
            Op::Put { .. } => "put",
            Op::Append { .. } => "append",
            Op::Delete { .. } => "delete",
            Op::Cas { .. } => "cas",
        }
    }

    /// True for operations that only read.
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }

    /// Check the operation against the documented limits before it reaches
    /// the log.
    pub fn validate(&self) -> Result<(), KvError> {
        let key = self.key();
        if key.is_empty() {
            return Err(KvError::EmptyKey);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KvError::KeyTooLong {
                len: key.len(),
                max: MAX_KEY_LEN,
            });
        }
        let values: [Option<&String>; 2] = match self {
            Op::Put { value, .. } | Op::Append { value, .. } => [Some(value), None],
            Op::Cas {
                expected, value, ..
            } => [Some(value), expected.as_ref()],
            Op::Get { .. } | Op::Delete { .. } => [None, None],
        };
        for v in values.into_iter().flatten() {
            if v.len() > MAX_VALUE_LEN {
                return Err(KvError::ValueTooLong {
                    len: v.len(),
                    max: MAX_VALUE_LEN,
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_op(f, self)
    }
}

/// Write `op` as its `Display` does. The simulator describes every entry
/// every node applies, so this writes the pieces directly (into a reused
/// `String` there) instead of going through `format!`; the text is exactly
/// what `write!(f, "put {key:?} = {value:?}")` and friends give.
pub fn write_op(f: &mut impl fmt::Write, op: &Op) -> fmt::Result {
    match op {
        Op::Get { key } => {
            f.write_str("get ")?;
            write_quoted(f, key)
        }
        Op::Put { key, value } => {
            f.write_str("put ")?;
            write_quoted(f, key)?;
            f.write_str(" = ")?;
            write_quoted(f, value)
        }
        Op::Append { key, value } => {
            f.write_str("append ")?;
            write_quoted(f, key)?;
            f.write_str(" += ")?;
            write_quoted(f, value)
        }
        Op::Delete { key } => {
            f.write_str("delete ")?;
            write_quoted(f, key)
        }
        Op::Cas {
            key,
            expected,
            value,
        } => {
            f.write_str("cas ")?;
            write_quoted(f, key)?;
            match expected {
                Some(e) => {
                    f.write_str(" ")?;
                    write_quoted(f, e)?;
                }
                None => f.write_str(" absent")?,
            }
            f.write_str(" -> ")?;
            write_quoted(f, value)
        }
    }
}

/// Write `s` exactly as `{:?}` does: quoted, with escapes. Plain printable
/// ASCII without quotes or backslashes needs none, so it is copied as is.
fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    if s.bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    {
        f.write_str("\"")?;
        f.write_str(s)?;
        f.write_str("\"")
    } else {
        write!(f, "{s:?}")
    }
}

/// Write `n` in decimal, as `{}` does with no width or precision.
pub fn write_decimal(f: &mut impl fmt::Write, mut n: u64) -> fmt::Result {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits, one char each (cheaper than validating them as UTF-8
    // for a `write_str`: this runs for every applied entry's trace text).
    buf[i..]
        .iter()
        .try_for_each(|&d| f.write_char(char::from(d)))
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// A get's answer: the value, or `None` when absent.
    Value {
        /// The value read.
        value: Option<String>,
    },
    /// A put or append took effect.
    Ok,
    /// A delete took effect; `existed` says whether the key was there.
    Deleted {
        /// Whether the key existed.
        existed: bool,
    },
    /// A cas's answer: `ok` if it swapped, with the value it found.
    Cas {
        /// Whether the swap happened.
        ok: bool,
        /// The value found before the swap.
        current: Option<String>,
    },
    /// An append would have grown the value past [`MAX_STORED_VALUE_LEN`];
    /// nothing changed.
    TooLarge,
}

impl FromJson for OpResult {
    fn from_json(v: &Json) -> Result<OpResult, JsonError> {
        let o = v.obj()?;
        Ok(match o.tag("result")? {
            "value" => OpResult::Value {
                value: o.opt("value")?,
            },
            "ok" => OpResult::Ok,
            "deleted" => OpResult::Deleted {
                existed: o.req("existed")?,
            },
            "cas" => OpResult::Cas {
                ok: o.req("ok")?,
                current: o.opt("current")?,
            },
            "too_large" => OpResult::TooLarge,
            other => {
                return Err(json::unknown_variant(
                    other,
                    &["value", "ok", "deleted", "cas", "too_large"],
                )
                .in_field("result"))
            }
        })
    }
}

/// Internally tagged: `{"result": "cas", "ok": …, "current": …}`.
impl ToJson for OpResult {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        match self {
            OpResult::Value { value } => {
                out.field("result", "value");
                out.field("value", value);
            }
            OpResult::Ok => out.field("result", "ok"),
            OpResult::Deleted { existed } => {
                out.field("result", "deleted");
                out.field("existed", existed);
            }
            OpResult::Cas { ok, current } => {
                out.field("result", "cas");
                out.field("ok", ok);
                out.field("current", current);
            }
            OpResult::TooLarge => out.field("result", "too_large"),
        }
        out.end_obj();
    }
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Value { value: Some(v) } => write!(f, "{v:?}"),
            OpResult::Value { value: None } => f.write_str("(absent)"),
            OpResult::Ok => f.write_str("ok"),
            OpResult::Deleted { existed: true } => f.write_str("deleted"),
            OpResult::Deleted { existed: false } => f.write_str("deleted (was absent)"),
            OpResult::Cas { ok: true, .. } => f.write_str("swapped"),
            OpResult::Cas {
                ok: false,
                current: Some(c),
            } => write!(f, "not swapped, found {c:?}"),
            OpResult::Cas {
                ok: false,
                current: None,
            } => f.write_str("not swapped, key absent"),
            OpResult::TooLarge => {
                write!(
                    f,
                    "refused: value would exceed {MAX_STORED_VALUE_LEN} bytes"
                )
            }
        }
    }
}

/// A client's mistake, reported before anything reaches the log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvError {
    /// The key was empty.
    EmptyKey,
    /// The key was longer than [`MAX_KEY_LEN`].
    KeyTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value was longer than [`MAX_VALUE_LEN`].
    ValueTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The command could not be parsed.
    InvalidCommand(String),
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::EmptyKey => f.write_str("the key is empty"),
            KvError::KeyTooLong { len, max } => {
                write!(f, "the key is {len} bytes; the limit is {max}")
            }
            KvError::ValueTooLong { len, max } => {
                write!(f, "the value is {len} bytes; the limit is {max}")
            }
            KvError::InvalidCommand(why) => write!(f, "invalid command: {why}"),
        }
    }
}

impl std::error::Error for KvError {}

/// A command as it sits in the log: who sent it, its sequence number in the
/// client's session, and the operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    /// The client.
    pub client: ClientId,
    /// The client's sequence number for this call (from 1, increasing).
    pub seq: u64,
    /// The operation (never a get: reads use ReadIndex). Shared, not
    /// copied: the same command sits in every node's log, in its storage
    /// and in the AppendEntries that carried it, and a deep copy of its
    /// strings per copy was a third of the allocation of a busy run.
    pub op: Arc<Op>,
}

impl FromJson for Command {
    fn from_json(v: &Json) -> Result<Command, JsonError> {
        let o = v.obj()?;
        Ok(Command {
            client: o.req("client")?,
            seq: o.req("seq")?,
            op: o.req("op")?,
        })
    }
}

impl ToJson for Command {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_obj();
        out.field("client", &self.client);
        out.field("seq", &self.seq);
        out.field("op", &self.op);
        out.end_obj();
    }
}

/// A client's session: its last applied sequence number and the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The last sequence number applied for this client.
    pub last_seq: u64,
    /// Its answer, returned again to a retry.
    pub last_result: OpResult,
}

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command ran now.
    Fresh(OpResult),
    /// A retry of the last command: it did not run again; here is its answer.
    Duplicate(OpResult),
    /// An older command than the session's last: the client has moved on, so
    /// no answer is needed.
    Stale,
}

impl Applied {
    /// The answer to give the client, if any.
    pub fn result(&self) -> Option<&OpResult> {
        match self {
            Applied::Fresh(r) | Applied::Duplicate(r) => Some(r),
            Applied::Stale => None,
        }
    }
}

/// The key-value store with its client sessions. Deterministic: ordered
/// maps. The data is a `BTreeMap`: its size is up to the users (any number
/// of distinct keys), and a sorted `Vec` ([`VecMap`]) would move half of it
/// on every new key (20 µs per insert at 100,000 keys, against 0.7 µs).
/// Sessions are a [`VecMap`]: client ids only grow, so a new one is a push.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    sessions: VecMap<ClientId, Session>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a key.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    /// All keys and values in key order.
    pub fn data(&self) -> &BTreeMap<String, String> {
        &self.data
    }

    /// All client sessions.
    pub fn sessions(&self) -> &VecMap<ClientId, Session> {
        &self.sessions
    }

    /// Apply a command exactly once per (client, seq).
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        if let Some(s) = self.sessions.get(&cmd.client) {
            if cmd.seq == s.last_seq {
                return Applied::Duplicate(s.last_result.clone());
            }
            if cmd.seq < s.last_seq {
                return Applied::Stale;
            }
        }
        let result = self.execute(&cmd.op);
        self.sessions.insert(
            cmd.client,
            Session {
                last_seq: cmd.seq,
                last_result: result.clone(),
            },
        );
        Applied::Fresh(result)
    }

    /// Set `key` to `value`, reusing the stored strings when the key exists.
    fn set(&mut self, key: &str, value: &str) {
        match self.data.get_mut(key) {
            Some(v) => {
                v.clear();
                v.push_str(value);
            }
            None => {
                self.data.insert(key.to_owned(), value.to_owned());
            }
        }
    }

    /// Run an operation against the data, with no session bookkeeping.
    pub fn execute(&mut self, op: &Op) -> OpResult {
        match op {
            Op::Get { key } => OpResult::Value {
                value: self.data.get(key).cloned(),
            },
            Op::Put { key, value } => {
                self.set(key, value);
                OpResult::Ok
            }
            Op::Append { key, value } => {
                // The key is copied only when it is new (not at every
                // append to an existing one, as `entry` would).
                let cur = self.data.get_mut(key);
                let len = cur.as_ref().map_or(0, |v| v.len());
                if len + value.len() > MAX_STORED_VALUE_LEN {
                    return OpResult::TooLarge;
                }
                match cur {
                    Some(v) => v.push_str(value),
                    None => {
                        self.data.insert(key.clone(), value.clone());
                    }
                }
                OpResult::Ok
            }
            Op::Delete { key } => OpResult::Deleted {
                existed: self.data.remove(key).is_some(),
            },
            Op::Cas {
                key,
                expected,
                value,
            } => {
                let current = self.data.get(key).cloned();
                if current == *expected {
                    self.set(key, value);
                    OpResult::Cas { ok: true, current }
                } else {
                    OpResult::Cas { ok: false, current }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u32, seq: u64, op: Op) -> Command {
        Command {
            client: ClientId(client),
            seq,
            op: Arc::new(op),
        }
    }

    fn put(k: &str, v: &str) -> Op {
        Op::Put {
            key: k.into(),
            value: v.into(),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// The hand-written readers of `Op` and `OpResult` (see the module
    /// docs) read back what the derived writers write, accept the fields in
    /// any order with unknown ones ignored and absent options as `None`,
    /// and name a missing field or an unknown operation.
    fn ops_and_results_read_back_as_written() {
        let ops = [
            Op::Get { key: "k".into() },
            put("k", "v"),
            Op::Append {
                key: "k".into(),
                value: "v".into(),
            },
            Op::Delete { key: "k".into() },
            Op::Cas {
                key: "k".into(),
                expected: None,
                value: "v".into(),
            },
            Op::Cas {
                key: "k".into(),
                expected: Some("e".into()),
                value: "v".into(),
            },
        ];
        for op in ops {
            let json = crate::json::to_string(&op);
            assert_eq!(crate::json::from_str::<Op>(&json).ok(), Some(op), "{json}");
        }
        let results = [
            OpResult::Value { value: None },
            OpResult::Value {
                value: Some("v".into()),
            },
            OpResult::Ok,
            OpResult::Deleted { existed: true },
            OpResult::Cas {
                ok: false,
                current: Some("c".into()),
            },
            OpResult::Cas {
                ok: true,
                current: None,
            },
            OpResult::TooLarge,
        ];
        for r in results {
            let json = crate::json::to_string(&r);
            assert_eq!(
                crate::json::from_str::<OpResult>(&json).ok(),
                Some(r),
                "{json}"
            );
        }
        let op = |j: &str| crate::json::from_str::<Op>(j).map_err(|e| e.to_string());
        assert_eq!(
            op(r#"{"value":"v","extra":1,"key":"k","op":"cas"}"#),
            Ok(Op::Cas {
                key: "k".into(),
                expected: None,
                value: "v".into()
            })
        );
        assert!(op(r#"{"op":"put","key":"k"}"#)
            .expect_err("no value")
            .contains("missing field `value`"));
        assert!(op(r#"{"op":"get"}"#)
            .expect_err("no key")
            .contains("missing field `key`"));
        assert!(op(r#"{"op":"swap","key":"k"}"#)
            .expect_err("unknown op")
            .contains("unknown variant `swap`"));
        let res = |j: &str| crate::json::from_str::<OpResult>(j).map_err(|e| e.to_string());
        assert!(res(r#"{"result":"deleted"}"#)
            .expect_err("no existed")
            .contains("missing field `existed`"));
        assert!(res(r#"{"result":"cas","current":null}"#)
            .expect_err("no ok")
            .contains("missing field `ok`"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn duplicate_append_applies_once() {
        // Dissertation §6.3: a retried command must not run twice.
        let mut kv = KvStore::new();
        let a = cmd(
            1,
            1,
            Op::Append {
                key: "k".into(),
                value: "x".into(),
            },
        );
        assert_eq!(kv.apply(&a), Applied::Fresh(OpResult::Ok));
        assert_eq!(kv.apply(&a), Applied::Duplicate(OpResult::Ok));
        assert_eq!(kv.get("k").map(String::as_str), Some("x"));
        assert_eq!(
            kv.apply(&cmd(1, 2, put("k", "y"))),
            Applied::Fresh(OpResult::Ok)
        );
        assert_eq!(kv.apply(&a), Applied::Stale);
        assert_eq!(kv.get("k").map(String::as_str), Some("y"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn cas_against_value_and_absent() {
        let mut kv = KvStore::new();
        let absent = Op::Cas {
            key: "k".into(),
            expected: None,
            value: "1".into(),
        };
        assert_eq!(
            kv.execute(&absent),
            OpResult::Cas {
                ok: true,
                current: None
            }
        );
        assert_eq!(
            kv.execute(&absent),
            OpResult::Cas {
                ok: false,
                current: Some("1".into())
            }
        );
        let swap = Op::Cas {
            key: "k".into(),
            expected: Some("1".into()),
            value: "2".into(),
        };
        assert_eq!(
            kv.execute(&swap),
            OpResult::Cas {
                ok: true,
                current: Some("1".into())
            }
        );
        assert_eq!(kv.get("k").map(String::as_str), Some("2"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn delete_reports_existence() {
        let mut kv = KvStore::new();
        kv.execute(&put("a", "1"));
        assert_eq!(
            kv.execute(&Op::Delete { key: "a".into() }),
            OpResult::Deleted { existed: true }
        );
        assert_eq!(
            kv.execute(&Op::Delete { key: "a".into() }),
            OpResult::Deleted { existed: false }
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn validation_rejects_bad_input() {
        assert_eq!(put("", "v").validate(), Err(KvError::EmptyKey));
        let long_key = "k".repeat(MAX_KEY_LEN + 1);
        assert!(matches!(
            put(&long_key, "v").validate(),
            Err(KvError::KeyTooLong { .. })
        ));
        let long_val = "v".repeat(MAX_VALUE_LEN + 1);
        assert!(matches!(
            put("k", &long_val).validate(),
            Err(KvError::ValueTooLong { .. })
        ));
        assert!(put("k", "").validate().is_ok());
        assert!(put(&"k".repeat(MAX_KEY_LEN), &"v".repeat(MAX_VALUE_LEN))
            .validate()
            .is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn append_past_limit_changes_nothing() {
        let mut kv = KvStore::new();
        let chunk = "x".repeat(MAX_VALUE_LEN);
        for _ in 0..(MAX_STORED_VALUE_LEN / MAX_VALUE_LEN) {
            assert_eq!(
                kv.execute(&Op::Append {
                    key: "k".into(),
                    value: chunk.clone()
                }),
                OpResult::Ok
            );
        }
        let before = kv.get("k").cloned();
        assert_eq!(
            kv.execute(&Op::Append {
                key: "k".into(),
                value: "y".into()
            }),
            OpResult::TooLarge
        );
        assert_eq!(kv.get("k").cloned(), before);
    }
}

/// Build an operation from its parts as a user typed them (the page's
/// console, the command-line tool). `value` is required for put, append and
/// cas; for cas, `expected` of `None` means "the key must be absent".
pub fn parse_op(
    op: &str,
    key: &str,
    value: Option<String>,
    expected: Option<String>,
) -> Result<Op, KvError> {
    let key = key.to_string();
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| KvError::InvalidCommand(format!("{what} needs a value")))
    };
    let op = match op.trim().to_ascii_lowercase().as_str() {
        "get" => Op::Get { key },
        "put" => Op::Put {
            key,
            value: need(value, "put")?,
        },
        "append" => Op::Append {
            key,
            value: need(value, "append")?,
        },
        "delete" | "del" => Op::Delete { key },
        "cas" => Op::Cas {
            key,
            expected,
            value: need(value, "cas")?,
        },
        other => {
            return Err(KvError::InvalidCommand(format!(
                "unknown operation {other:?}; use get, put, append, delete or cas"
            )))
        }
    };
    op.validate()?;
    Ok(op)
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parse_op_reports_missing_fields() {
        assert_eq!(
            parse_op("GET", "k", None, None),
            Ok(Op::Get { key: "k".into() })
        );
        assert!(
            matches!(parse_op("put", "k", None, None), Err(KvError::InvalidCommand(m)) if m.contains("needs a value"))
        );
        assert!(matches!(
            parse_op("cas", "k", None, Some("a".into())),
            Err(KvError::InvalidCommand(_))
        ));
        assert_eq!(
            parse_op("cas", "k", Some("b".into()), None),
            Ok(Op::Cas {
                key: "k".into(),
                expected: None,
                value: "b".into()
            })
        );
        assert!(
            matches!(parse_op("frob", "k", None, None), Err(KvError::InvalidCommand(m)) if m.contains("unknown operation"))
        );
        assert_eq!(parse_op("get", "", None, None), Err(KvError::EmptyKey));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn display_is_the_debug_quoted_text() {
        let texts = [
            "k1",
            "",
            "a b",
            "q\"uote",
            "back\\slash",
            "tab\t",
            "nl\n",
            "é",
            "\u{7f}",
            "'",
            "~!",
            "\u{301}x",
            "z\u{301}",
        ];
        for k in texts {
            for v in texts {
                let ops = [
                    (Op::Get { key: k.into() }, format!("get {k:?}")),
                    (
                        Op::Put {
                            key: k.into(),
                            value: v.into(),
                        },
                        format!("put {k:?} = {v:?}"),
                    ),
                    (
                        Op::Append {
                            key: k.into(),
                            value: v.into(),
                        },
                        format!("append {k:?} += {v:?}"),
                    ),
                    (Op::Delete { key: k.into() }, format!("delete {k:?}")),
                    (
                        Op::Cas {
                            key: k.into(),
                            expected: Some(v.into()),
                            value: k.into(),
                        },
                        format!("cas {k:?} {v:?} -> {k:?}"),
                    ),
                    (
                        Op::Cas {
                            key: k.into(),
                            expected: None,
                            value: v.into(),
                        },
                        format!("cas {k:?} absent -> {v:?}"),
                    ),
                ];
                for (op, want) in ops {
                    assert_eq!(op.to_string(), want);
                }
            }
        }
        for n in [0u32, 7, 10, 99, 1000, u32::MAX] {
            assert_eq!(ClientId(n).to_string(), format!("C{n}"));
        }
        let mut s = String::new();
        write_decimal(&mut s, u64::MAX).unwrap();
        assert_eq!(s, u64::MAX.to_string());
        let op = Op::Put {
            key: "k\"1".into(),
            value: "v".into(),
        };
        let mut s = String::new();
        write_op(&mut s, &op).unwrap();
        assert_eq!(s, op.to_string());
    }
}

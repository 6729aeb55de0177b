//! Durable node state behind a trait shaped like IndexedDB object stores:
//! the hard state (term, vote), log entries keyed by index, and (later)
//! snapshots, changed only through atomic [`WriteBatch`]es (Raft Figure 2,
//! "persistent state on all servers").
//!
//! [`MemStorage`] serves native runs and tests and is the in-page mirror of
//! what the browser keeps in IndexedDB. The rule everywhere: a node's
//! messages and client answers leave only after the batch they depend on is
//! durable.

use crate::raft::{Entry, HardState, LogIndex, LogWrite};
use std::fmt;

/// One atomic change to a node's durable state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteBatch<C> {
    /// New term and vote, if changed.
    pub hard_state: Option<HardState>,
    /// Log change, if any.
    pub log_write: Option<LogWrite<C>>,
}

impl<C> WriteBatch<C> {
    /// True if the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none() && self.log_write.is_none()
    }
}

/// A storage failure, with what the user can do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// A stored record could not be read back.
    Corrupt {
        /// Which record.
        record: String,
        /// What was wrong.
        detail: String,
    },
    /// The write would leave a gap in the log.
    Gap {
        /// Where the write started.
        from: LogIndex,
        /// The log's length.
        len: u64,
    },
    /// The backing store refused (quota, unavailable, ...).
    Backend(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Corrupt { record, detail } => {
                write!(f, "stored record {record} is corrupt: {detail}")
            }
            StorageError::Gap { from, len } => {
                write!(
                    f,
                    "log write at index {from} would leave a gap after index {len}"
                )
            }
            StorageError::Backend(why) => write!(f, "storage failed: {why}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// What a node needs to restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durable<C> {
    /// Term and vote.
    pub hard_state: HardState,
    /// The log from index 1.
    pub log: Vec<Entry<C>>,
}

impl<C: crate::json::FromJson> crate::json::FromJson for WriteBatch<C> {
    fn from_json(v: &crate::json::Json) -> Result<WriteBatch<C>, crate::json::JsonError> {
        let o = v.obj()?;
        Ok(WriteBatch {
            hard_state: o.opt("hard_state")?,
            log_write: o.opt("log_write")?,
        })
    }
}

impl<C: crate::json::ToJson> crate::json::ToJson for WriteBatch<C> {
    fn write_json(&self, out: &mut crate::json::JsonOut) {
        out.begin_obj();
        out.field("hard_state", &self.hard_state);
        out.field("log_write", &self.log_write);
        out.end_obj();
    }
}

impl<C: crate::json::FromJson> crate::json::FromJson for Durable<C> {
    fn from_json(v: &crate::json::Json) -> Result<Durable<C>, crate::json::JsonError> {
        let o = v.obj()?;
        Ok(Durable {
            hard_state: o.req("hard_state")?,
            log: o.req("log")?,
        })
    }
}

impl<C: crate::json::ToJson> crate::json::ToJson for Durable<C> {
    fn write_json(&self, out: &mut crate::json::JsonOut) {
        out.begin_obj();
        out.field("hard_state", &self.hard_state);
        out.field("log", &self.log);
        out.end_obj();
    }
}

/// A node's durable state.
pub trait Storage<C> {
    /// Apply a batch atomically: all of it or none.
    fn write(&mut self, batch: &WriteBatch<C>) -> Result<(), StorageError>;
    /// Read everything back for a restart.
    fn load(&self) -> Result<Durable<C>, StorageError>;
}

/// In-memory storage: survives a node crash (the simulator keeps it), not
/// a process exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemStorage<C> {
    durable: Durable<C>,
    /// Batches written so far (for the inspector and the benchmarks).
    pub writes: u64,
}

impl<C> Default for MemStorage<C> {
    fn default() -> Self {
        MemStorage {
            durable: Durable {
                hard_state: HardState::default(),
                log: Vec::new(),
            },
            writes: 0,
        }
    }
}

impl<C: Clone> MemStorage<C> {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Storage holding `durable`, e.g. as read from IndexedDB.
    pub fn from_durable(durable: Durable<C>) -> Self {
        MemStorage { durable, writes: 0 }
    }

    /// What is stored, without copying.
    pub fn durable(&self) -> &Durable<C> {
        &self.durable
    }
}

impl<C: Clone> MemStorage<C> {
    /// [`Storage::write`] of a batch given by its parts, the log write's
    /// entries borrowed: the simulator persists straight from the node's
    /// log ([`crate::raft::RaftNode::take_log_write_from`]) instead of
    /// from a [`LogWrite`] copy of it, which was an allocation per step.
    /// All of it or none, as [`Storage::write`].
    pub fn write_parts(
        &mut self,
        hard_state: Option<HardState>,
        log_write: Option<(LogIndex, &[Entry<C>])>,
    ) -> Result<(), StorageError> {
        if let Some((from, entries)) = log_write {
            self.check(from, entries)?;
        }
        // Validated: now apply (nothing above mutated, so the batch is atomic).
        if let Some(hs) = hard_state {
            self.durable.hard_state = hs;
        }
        if let Some((from, entries)) = log_write {
            self.durable.log.truncate(from.0 as usize - 1);
            self.durable.log.extend_from_slice(entries);
        }
        self.writes += 1;
        Ok(())
    }

    /// Whether a log write of `entries` from `from` can be applied: it
    /// must not leave a gap and its entries must be contiguous.
    fn check(&self, from: LogIndex, entries: &[Entry<C>]) -> Result<(), StorageError> {
        let len = self.durable.log.len() as u64;
        if from.0 == 0 || from.0 > len + 1 {
            return Err(StorageError::Gap { from, len });
        }
        let contiguous = entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.index.0 == from.0 + i as u64);
        if !contiguous {
            return Err(StorageError::Corrupt {
                record: format!("log write at {from}"),
                detail: "entries are not contiguous".into(),
            });
        }
        Ok(())
    }
}

impl<C: Clone> Storage<C> for MemStorage<C> {
    fn write(&mut self, batch: &WriteBatch<C>) -> Result<(), StorageError> {
        let log_write = batch.log_write.as_ref().map(|w| (w.from, &w.entries[..]));
        self.write_parts(batch.hard_state, log_write)
    }

    fn load(&self) -> Result<Durable<C>, StorageError> {
        Ok(self.durable.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::{NodeId, Payload, Term};

    fn e(i: u64, t: u64) -> Entry<u32> {
        Entry {
            term: Term(t),
            index: LogIndex(i),
            payload: Payload::Command(i as u32),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn write_truncates_and_appends() {
        let mut s = MemStorage::<u32>::new();
        let hs = HardState {
            current_term: Term(2),
            voted_for: Some(NodeId(1)),
        };
        s.write(&WriteBatch {
            hard_state: Some(hs),
            log_write: Some(LogWrite {
                from: LogIndex(1),
                entries: vec![e(1, 1), e(2, 1), e(3, 1)],
            }),
        })
        .unwrap();
        s.write(&WriteBatch {
            hard_state: None,
            log_write: Some(LogWrite {
                from: LogIndex(2),
                entries: vec![e(2, 2)],
            }),
        })
        .unwrap();
        let d = s.load().unwrap();
        assert_eq!(d.hard_state, hs);
        assert_eq!(d.log, vec![e(1, 1), e(2, 2)]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_batch_changes_nothing() {
        let mut s = MemStorage::<u32>::new();
        let hs = HardState {
            current_term: Term(5),
            voted_for: None,
        };
        let gap = WriteBatch {
            hard_state: Some(hs),
            log_write: Some(LogWrite {
                from: LogIndex(3),
                entries: vec![e(3, 1)],
            }),
        };
        assert!(matches!(s.write(&gap), Err(StorageError::Gap { .. })));
        assert_eq!(s.load().unwrap().hard_state, HardState::default());
        let holes = WriteBatch {
            hard_state: Some(hs),
            log_write: Some(LogWrite {
                from: LogIndex(1),
                entries: vec![e(1, 1), e(3, 1)],
            }),
        };
        assert!(matches!(s.write(&holes), Err(StorageError::Corrupt { .. })));
        assert_eq!(s.load().unwrap(), Durable::default());
    }
}

//! A KV server: one Raft node, its state machine, and the client calls it
//! is answering (dissertation ch. 6). Writes go through the log and are
//! answered when applied; reads use ReadIndex (dissertation §6.4) and are
//! answered once the state machine has caught up to the read index; a node
//! that is not leader redirects with its leader hint.

use crate::kv::{Applied, ClientId, Command, KvError, KvStore, Op, OpResult};
use crate::raft::{Entry, LogIndex, NodeId, Payload, ProposeError, RaftNode, ReadyRead};
use crate::vecmap::VecMap;
use std::sync::Arc;

/// A client's request to a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientRequest {
    /// The client.
    pub client: ClientId,
    /// Its sequence number for this call.
    pub seq: u64,
    /// The operation, shared with the client's pending call (a retry
    /// resends it without copying).
    pub op: Arc<Op>,
    /// A stale read: answered by any node from its own applied state.
    pub stale: bool,
}

/// How a node answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// The operation's result.
    Done(OpResult),
    /// Ask the leader instead.
    NotLeader {
        /// Who this node thinks leads, if anyone.
        leader_hint: Option<NodeId>,
    },
    /// The command lost its log slot to another leader's entry; send again.
    Retry,
    /// The request was malformed.
    Rejected(KvError),
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientReply {
    /// The client.
    pub client: ClientId,
    /// The call's sequence number.
    pub seq: u64,
    /// The answer.
    pub answer: Answer,
}

#[derive(Clone, Debug)]
struct WaitingRead {
    client: ClientId,
    seq: u64,
    key: String,
}

/// One KV server.
#[derive(Clone, Debug)]
pub struct Server {
    /// The consensus node.
    pub raft: RaftNode<Command>,
    /// The applied state.
    pub kv: KvStore,
    pending_writes: VecMap<LogIndex, (ClientId, u64)>,
    reads_in_confirmation: VecMap<u64, WaitingRead>,
    reads_confirmed: Vec<(LogIndex, WaitingRead)>,
    next_read_id: u64,
}

/// A read served: who asked, at which index.
#[derive(Clone, Debug)]
pub struct ServedRead {
    /// The reply to send.
    pub reply: ClientReply,
    /// The read index it was served at.
    pub read_index: LogIndex,
}

impl Server {
    /// A server around a (new or restored) Raft node, with an empty state
    /// machine that will be rebuilt by applying the log.
    pub fn new(raft: RaftNode<Command>) -> Self {
        Server {
            raft,
            kv: KvStore::new(),
            pending_writes: VecMap::new(),
            reads_in_confirmation: VecMap::new(),
            reads_confirmed: Vec::new(),
            next_read_id: 0,
        }
    }

    /// Calls this server is still working on.
    pub fn pending_calls(&self) -> usize {
        self.pending_writes.len() + self.reads_in_confirmation.len() + self.reads_confirmed.len()
    }

    /// Confirmed reads waiting for the state machine to catch up.
    pub fn confirmed_reads_waiting(&self) -> usize {
        self.reads_confirmed.len()
    }

    /// Handle a client request. Returns an immediate answer, or `None` when
    /// the answer comes later (after commit or read confirmation).
    pub fn handle_request(&mut self, now: u64, req: ClientRequest) -> Option<ClientReply> {
        let (client, seq) = (req.client, req.seq);
        let reply = |answer| {
            Some(ClientReply {
                client,
                seq,
                answer,
            })
        };
        if let Err(e) = req.op.validate() {
            return reply(Answer::Rejected(e));
        }
        if req.stale {
            let value = self.kv.get(req.op.key()).cloned();
            return match *req.op {
                Op::Get { .. } => reply(Answer::Done(OpResult::Value { value })),
                _ => reply(Answer::Rejected(KvError::InvalidCommand(
                    "only a get can be a stale read".into(),
                ))),
            };
        }
        if let Op::Get { key } = &*req.op {
            let id = self.next_read_id;
            self.next_read_id += 1;
            return match self.raft.read_index(now, id) {
                Ok(()) => {
                    self.reads_in_confirmation.insert(
                        id,
                        WaitingRead {
                            client: req.client,
                            seq: req.seq,
                            key: key.clone(),
                        },
                    );
                    None
                }
                Err(ProposeError::NotLeader { leader_hint }) => {
                    reply(Answer::NotLeader { leader_hint })
                }
            };
        }
        // Exactly once (dissertation §6.3): a retry of an applied command
        // gets the saved answer.
        if let Some(s) = self.kv.sessions().get(&req.client) {
            if s.last_seq == req.seq && self.raft.role() == crate::raft::Role::Leader {
                return reply(Answer::Done(s.last_result.clone()));
            }
        }
        let cmd = Command {
            client: req.client,
            seq: req.seq,
            op: req.op,
        };
        match self.raft.propose(now, cmd) {
            Ok(index) => {
                if let Some((c, s)) = self.pending_writes.insert(index, (req.client, req.seq)) {
                    // Unreachable in practice: a leader never reuses an
                    // index it handed out in its term.
                    if (c, s) != (req.client, req.seq) {
                        return Some(ClientReply {
                            client: c,
                            seq: s,
                            answer: Answer::Retry,
                        });
                    }
                }
                None
            }
            Err(ProposeError::NotLeader { leader_hint }) => {
                reply(Answer::NotLeader { leader_hint })
            }
        }
    }

    /// Apply one committed entry; returns what it did and the reply owed to a
    /// client waiting on this index, if any.
    pub fn apply(&mut self, entry: &Entry<Command>) -> (Option<Applied>, Option<ClientReply>) {
        apply_entry(&mut self.kv, &mut self.pending_writes, entry)
    }

    /// Apply the committed entry at `index` of this node's own log, without
    /// copying it out ([`RaftNode::take_ready_into`] names the indices).
    /// `None` if the log has no such entry.
    pub fn apply_index(
        &mut self,
        index: LogIndex,
    ) -> Option<(Option<Applied>, Option<ClientReply>)> {
        let entry = self.raft.entry(index)?;
        Some(apply_entry(&mut self.kv, &mut self.pending_writes, entry))
    }

    /// Take the node's read confirmations and failures.
    pub fn on_reads(&mut self, confirmed: &[ReadyRead], failed: &[u64]) -> Vec<ClientReply> {
        for r in confirmed {
            if let Some(w) = self.reads_in_confirmation.remove(&r.id) {
                self.reads_confirmed.push((r.read_index, w));
            }
        }
        let mut out = Vec::new();
        for id in failed {
            if let Some(w) = self.reads_in_confirmation.remove(id) {
                out.push(ClientReply {
                    client: w.client,
                    seq: w.seq,
                    answer: Answer::NotLeader {
                        leader_hint: self.raft.leader_hint(),
                    },
                });
            }
        }
        out
    }

    /// Serve confirmed reads whose read index has been applied.
    pub fn serve_reads(&mut self) -> Vec<ServedRead> {
        let applied = self.raft.applied_index();
        let mut out = Vec::new();
        let mut keep = Vec::new();
        for (idx, w) in self.reads_confirmed.drain(..) {
            if idx <= applied {
                let value = self.kv.get(&w.key).cloned();
                out.push(ServedRead {
                    reply: ClientReply {
                        client: w.client,
                        seq: w.seq,
                        answer: Answer::Done(OpResult::Value { value }),
                    },
                    read_index: idx,
                });
            } else {
                keep.push((idx, w));
            }
        }
        self.reads_confirmed = keep;
        out
    }
}

fn apply_entry(
    kv: &mut KvStore,
    pending_writes: &mut VecMap<LogIndex, (ClientId, u64)>,
    entry: &Entry<Command>,
) -> (Option<Applied>, Option<ClientReply>) {
    let applied = match &entry.payload {
        Payload::Noop => None,
        Payload::Command(cmd) => Some(kv.apply(cmd)),
    };
    let waiting = pending_writes.remove(&entry.index);
    let reply = waiting.map(|(client, seq)| {
        let answer = match (&entry.payload, &applied) {
            (Payload::Command(cmd), Some(a)) if cmd.client == client && cmd.seq == seq => a
                .result()
                .cloned()
                .map(Answer::Done)
                .unwrap_or(Answer::Retry),
            _ => Answer::Retry,
        };
        ClientReply {
            client,
            seq,
            answer,
        }
    });
    (applied, reply)
}

//! One Raft node as a sans-IO state machine (Raft §5, Figure 2).

use super::types::*;
use crate::rng::Rng;
use crate::vecmap::VecSet;
use std::fmt;

/// The longest timeout or latency a configuration may hold, µs (1e9 ms,
/// what the page's controls accept): far enough from `u64`'s end that
/// adding it to any virtual time never overflows.
pub const MAX_TIMING_US: u64 = 1_000_000_000_000;

/// Timing and flow-control settings. Times are virtual microseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Lower bound of the randomized election timeout (Raft §5.2).
    pub election_timeout_min_us: u64,
    /// Upper bound of the randomized election timeout.
    pub election_timeout_max_us: u64,
    /// How often a leader sends AppendEntries when idle.
    pub heartbeat_interval_us: u64,
    /// Most entries carried by one AppendEntries (batching).
    pub max_entries_per_message: usize,
    /// Most AppendEntries carrying entries outstanding per follower (pipelining).
    pub max_inflight: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            election_timeout_min_us: 150_000,
            election_timeout_max_us: 300_000,
            heartbeat_interval_us: 50_000,
            max_entries_per_message: 64,
            max_inflight: 4,
        }
    }
}

impl crate::json::FromJson for Config {
    fn from_json(v: &crate::json::Json) -> Result<Config, crate::json::JsonError> {
        let o = v.obj()?;
        Ok(Config {
            election_timeout_min_us: o.req("election_timeout_min_us")?,
            election_timeout_max_us: o.req("election_timeout_max_us")?,
            heartbeat_interval_us: o.req("heartbeat_interval_us")?,
            max_entries_per_message: o.req("max_entries_per_message")?,
            max_inflight: o.req("max_inflight")?,
        })
    }
}

impl crate::json::ToJson for Config {
    fn write_json(&self, out: &mut crate::json::JsonOut) {
        out.begin_obj();
        out.field("election_timeout_min_us", &self.election_timeout_min_us);
        out.field("election_timeout_max_us", &self.election_timeout_max_us);
        out.field("heartbeat_interval_us", &self.heartbeat_interval_us);
        out.field("max_entries_per_message", &self.max_entries_per_message);
        out.field("max_inflight", &self.max_inflight);
        out.end_obj();
    }
}

impl Config {
    /// Check the settings make sense; returns a readable reason otherwise.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min_us == 0 || self.heartbeat_interval_us == 0 {
            return Err("timeouts must be positive".into());
        }
        if self.election_timeout_max_us < self.election_timeout_min_us {
            return Err("the election timeout maximum is below its minimum".into());
        }
        if self.max_entries_per_message == 0 || self.max_inflight == 0 {
            return Err("batch size and in-flight bound must be at least 1".into());
        }
        if self.election_timeout_max_us > MAX_TIMING_US
            || self.heartbeat_interval_us > MAX_TIMING_US
        {
            return Err(format!(
                "timeouts must be at most {} ms",
                MAX_TIMING_US / 1000
            ));
        }
        Ok(())
    }
}

/// A caller's mistake when proposing or reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeError {
    /// Only the leader takes proposals; here is who this node thinks leads.
    NotLeader {
        /// The leader this node last heard from in its current term, if any.
        leader_hint: Option<NodeId>,
    },
}

impl fmt::Display for ProposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeError::NotLeader {
                leader_hint: Some(l),
            } => {
                write!(f, "not the leader; try {l}")
            }
            ProposeError::NotLeader { leader_hint: None } => {
                f.write_str("not the leader, and no leader is known")
            }
        }
    }
}

impl std::error::Error for ProposeError {}

/// A write to the durable log: delete every entry at or after `from`, then
/// store `entries` (which, when non-empty, start at `from`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogWrite<C> {
    /// First index overwritten.
    pub from: LogIndex,
    /// The new entries from `from` on.
    pub entries: Vec<Entry<C>>,
}

impl<C: crate::json::FromJson> crate::json::FromJson for LogWrite<C> {
    fn from_json(v: &crate::json::Json) -> Result<LogWrite<C>, crate::json::JsonError> {
        let o = v.obj()?;
        Ok(LogWrite {
            from: o.req("from")?,
            entries: o.req("entries")?,
        })
    }
}

impl<C: crate::json::ToJson> crate::json::ToJson for LogWrite<C> {
    fn write_json(&self, out: &mut crate::json::JsonOut) {
        out.begin_obj();
        out.field("from", &self.from);
        out.field("entries", &self.entries);
        out.end_obj();
    }
}

/// A confirmed linearizable read: serve it once the state machine has
/// applied `read_index` (dissertation §6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyRead {
    /// The caller's read id.
    pub id: u64,
    /// The commit index when the read arrived.
    pub read_index: LogIndex,
}

/// What a node did, for the trace and the narration. Not needed for
/// correctness.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeEvent {
    /// The election timer fired; the node became a candidate for `term`.
    ElectionTimeout {
        /// The new term.
        term: Term,
    },
    /// The node voted for `candidate` in `term`.
    Voted {
        /// Who got the vote.
        candidate: NodeId,
        /// In which term.
        term: Term,
    },
    /// The node refused a vote.
    VoteRefused {
        /// Who asked.
        candidate: NodeId,
        /// The candidate's term.
        term: Term,
        /// Why, in words.
        reason: String,
    },
    /// The node won an election.
    BecameLeader {
        /// The term it leads.
        term: Term,
        /// Who voted for it.
        votes: Vec<NodeId>,
    },
    /// The node saw a higher term or a leader and became a follower.
    BecameFollower {
        /// Its term now.
        term: Term,
        /// The node whose message caused it.
        because_of: NodeId,
    },
    /// The commit index advanced.
    CommitAdvanced {
        /// Old commit index.
        from: LogIndex,
        /// New commit index.
        to: LogIndex,
    },
    /// Conflicting entries were removed from the log (Raft §5.3).
    Truncated {
        /// First index removed.
        from: LogIndex,
        /// How many entries were removed.
        count: u64,
    },
    /// A message was ignored because it was stale.
    IgnoredStale {
        /// Its sender.
        from: NodeId,
        /// Its kind.
        kind: String,
        /// Its term.
        term: Term,
    },
}

/// Everything a node produced since the last [`RaftNode::take_ready`], in the
/// order the driver must act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ready<C> {
    /// 1. Persist: the new term and vote, if they changed.
    pub hard_state: Option<HardState>,
    /// 1. Persist: the log change, if any.
    pub log_write: Option<LogWrite<C>>,
    /// 2. Send, only after step 1 is durable.
    pub messages: Vec<Message<C>>,
    /// 3. Apply to the state machine, in order.
    pub committed: Vec<Entry<C>>,
    /// 4. Reads confirmed; serve each once `read_index` is applied.
    pub reads: Vec<ReadyRead>,
    /// 4. Reads that failed because the node lost leadership.
    pub failed_reads: Vec<u64>,
    /// What happened, for the trace.
    pub events: Vec<NodeEvent>,
}

impl<C> Default for Ready<C> {
    fn default() -> Self {
        Ready {
            hard_state: None,
            log_write: None,
            messages: Vec::new(),
            committed: Vec::new(),
            reads: Vec::new(),
            failed_reads: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl<C> Ready<C> {
    /// True if there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.log_write.is_none()
            && self.messages.is_empty()
            && self.committed.is_empty()
            && self.reads.is_empty()
            && self.failed_reads.is_empty()
            && self.events.is_empty()
    }
}

/// The `quorum`-th largest of `values` (`len` of them), or the default when
/// there are fewer: the value a majority has reached. Sorts on the stack for
/// clusters of up to 16 members, so the hot path does not allocate.
fn quorum_value<T: Ord + Copy + Default>(
    values: impl Iterator<Item = T>,
    len: usize,
    quorum: usize,
) -> T {
    const SMALL: usize = 16;
    if len <= SMALL {
        let mut buf = [T::default(); SMALL];
        let mut n = 0;
        for v in values.take(SMALL) {
            buf[n] = v;
            n += 1;
        }
        let vals = &mut buf[..n];
        // Insertion sort, largest first: at most 16 values, no allocation,
        // and smaller in the page's wasm than a generic library sort.
        for i in 1..n {
            let mut j = i;
            while j > 0 && vals[j - 1] < vals[j] {
                vals.swap(j - 1, j);
                j -= 1;
            }
        }
        vals.get(quorum.wrapping_sub(1))
            .copied()
            .unwrap_or_default()
    } else {
        let mut vals: Vec<T> = values.collect();
        crate::sort::sort_by(&mut vals, |a, b| b.cmp(a));
        vals.get(quorum.wrapping_sub(1))
            .copied()
            .unwrap_or_default()
    }
}

/// The leader's view of one follower (Raft Figure 2, "volatile state on
/// leaders").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Next log index to send.
    pub next_index: LogIndex,
    /// Highest index known to be replicated.
    pub match_index: LogIndex,
    /// Last index carried by each AppendEntries still outstanding; freed by
    /// any success at or beyond it.
    pub inflight: Vec<LogIndex>,
    /// True after a rejection until the next success: send one at a time.
    pub probing: bool,
    /// Whether a success arrived since the last heartbeat to this follower.
    pub acked_since_heartbeat: bool,
    /// When this follower is owed a heartbeat if no other AppendEntries
    /// reaches it first: a whole interval after the last one sent to it.
    pub heartbeat_due: u64,
    /// Highest heartbeat round acknowledged in the current term.
    pub acked_round: u64,
}

#[derive(Clone, Debug)]
struct PendingRead {
    id: u64,
    read_index: LogIndex,
    round: u64,
}

/// One Raft node.
#[derive(Clone, Debug)]
pub struct RaftNode<C> {
    id: NodeId,
    members: Vec<NodeId>,
    /// Bit `p` set for each member `NodeId(p)` other than this node, for
    /// ids below 64 (`is_peer`): every message is checked against the
    /// membership, and a mask is one test where `members.contains` was a
    /// loop.
    peer_mask: u64,
    config: Config,
    rng: Rng,
    role: Role,
    hard: HardState,
    log: Vec<Entry<C>>,
    commit_index: LogIndex,
    handed_out: LogIndex,
    leader_hint: Option<NodeId>,
    election_deadline: u64,
    election_timer_start: u64,
    heartbeat_deadline: u64,
    votes: VecSet<NodeId>,
    progress: Vec<Progress>,
    round: u64,
    reads_waiting_for_term_commit: Vec<u64>,
    pending_reads: Vec<PendingRead>,
    // Unsent effects.
    hard_dirty: bool,
    log_dirty_from: Option<LogIndex>,
    out_messages: Vec<Message<C>>,
    out_reads: Vec<ReadyRead>,
    out_failed_reads: Vec<u64>,
    out_events: Vec<NodeEvent>,
}

impl<C: Clone> RaftNode<C> {
    /// A fresh node with an empty log, at time `now`.
    pub fn new(id: NodeId, members: Vec<NodeId>, config: Config, seed: u64, now: u64) -> Self {
        Self::restore(
            id,
            members,
            config,
            seed,
            now,
            HardState::default(),
            Vec::new(),
        )
    }

    /// Rebuild a node from what storage holds: its hard state and log. All
    /// volatile state (role, commit index, leader state) starts over
    /// (Raft Figure 2).
    pub fn restore(
        id: NodeId,
        members: Vec<NodeId>,
        config: Config,
        seed: u64,
        now: u64,
        hard: HardState,
        log: Vec<Entry<C>>,
    ) -> Self {
        let n = members
            .iter()
            .map(|m| m.idx() + 1)
            .max()
            .unwrap_or(0)
            .max(id.idx() + 1);
        let peer_mask = members
            .iter()
            .filter(|m| m.0 < 64 && **m != id)
            .fold(0, |mask, m| mask | 1u64 << m.0);
        let mut node = RaftNode {
            id,
            members,
            peer_mask,
            config,
            rng: Rng::new(seed),
            role: Role::Follower,
            hard,
            log,
            commit_index: LogIndex(0),
            handed_out: LogIndex(0),
            leader_hint: None,
            election_deadline: 0,
            election_timer_start: now,
            heartbeat_deadline: u64::MAX,
            votes: VecSet::new(),
            progress: vec![Progress::default(); n],
            round: 0,
            reads_waiting_for_term_commit: Vec::new(),
            pending_reads: Vec::new(),
            hard_dirty: false,
            log_dirty_from: None,
            out_messages: Vec::new(),
            out_reads: Vec::new(),
            out_failed_reads: Vec::new(),
            out_events: Vec::new(),
        };
        node.reset_election_timer(now);
        node
    }

    // ----- Accessors -------------------------------------------------------

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// All members, this node included.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }
    /// Current role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Current term.
    pub fn term(&self) -> Term {
        self.hard.current_term
    }
    /// Term and vote.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }
    /// Who this node voted for in its current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.hard.voted_for
    }
    /// The whole log.
    pub fn log(&self) -> &[Entry<C>] {
        &self.log
    }
    /// Index of the last entry (0 if empty).
    pub fn last_index(&self) -> LogIndex {
        LogIndex(self.log.len() as u64)
    }
    /// Term of the last entry (0 if empty).
    pub fn last_term(&self) -> Term {
        self.log.last().map(|e| e.term).unwrap_or_default()
    }
    /// Highest index known committed.
    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }
    /// Highest index handed out for applying.
    pub fn applied_index(&self) -> LogIndex {
        self.handed_out
    }
    /// Who this node believes leads its current term.
    pub fn leader_hint(&self) -> Option<NodeId> {
        if self.role == Role::Leader {
            Some(self.id)
        } else {
            self.leader_hint
        }
    }
    /// Votes received as a candidate (or that made it leader).
    pub fn votes(&self) -> &VecSet<NodeId> {
        &self.votes
    }
    /// The leader's per-follower progress, indexed by `NodeId::idx`.
    pub fn progress(&self) -> &[Progress] {
        &self.progress
    }
    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// When the election timer fires (meaningless on a leader).
    pub fn election_deadline(&self) -> u64 {
        self.election_deadline
    }
    /// When the election timer was last reset (for drawing it draining).
    pub fn election_timer_start(&self) -> u64 {
        self.election_timer_start
    }
    /// When the leader next sends a heartbeat: the earliest time a
    /// follower is owed one (`u64::MAX` unless leader, or a leader without
    /// followers).
    pub fn heartbeat_deadline(&self) -> u64 {
        self.heartbeat_deadline
    }
    /// The entry at `index`, if present.
    pub fn entry(&self, index: LogIndex) -> Option<&Entry<C>> {
        if index.0 == 0 {
            return None;
        }
        self.log.get(index.0 as usize - 1)
    }
    /// Term of the entry at `index` (0 for index 0), if present.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index.0 == 0 {
            return Some(Term(0));
        }
        self.entry(index).map(|e| e.term)
    }

    /// When the node next wants [`RaftNode::handle_timeout`] called.
    pub fn next_deadline(&self) -> u64 {
        match self.role {
            Role::Leader => self.heartbeat_deadline,
            _ => self.election_deadline,
        }
    }

    /// Change timing settings; the new election range applies at the next
    /// timer reset.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// Move the election timer (for teaching: spread or align timers to
    /// show a split vote). Ignored on a leader.
    pub fn set_election_deadline(&mut self, at: u64) {
        if self.role != Role::Leader {
            self.election_timer_start = self.election_timer_start.min(at);
            self.election_deadline = at;
        }
    }

    /// Whether `p` is a member other than this node.
    #[inline(always)]
    fn is_peer(&self, p: NodeId) -> bool {
        if p.0 < 64 {
            self.peer_mask & (1u64 << p.0) != 0
        } else {
            p != self.id && self.members.contains(&p)
        }
    }

    fn quorum(&self) -> usize {
        self.members.len() / 2 + 1
    }

    fn reset_election_timer(&mut self, now: u64) {
        let t = self.rng.range_inclusive(
            self.config.election_timeout_min_us,
            self.config.election_timeout_max_us,
        );
        self.election_deadline = now.saturating_add(t);
        self.election_timer_start = now;
    }

    /// Queue a message. The push that may grow the buffer is out of line
    /// (`grow_push`): with it inline, the message had to sit on the stack
    /// (the grow can unwind, and the message must then be dropped) and was
    /// block-copied from there right after its fields were written
    /// narrowly, a store-forwarding stall on every message; now the fields
    /// are written straight into the buffer.
    fn send(&mut self, to: NodeId, rpc: Rpc<C>) {
        let m = Message {
            from: self.id,
            to,
            rpc,
        };
        if self.out_messages.len() < self.out_messages.capacity() {
            self.out_messages.push(m);
        } else {
            grow_push(&mut self.out_messages, m);
        }
    }

    fn mark_log_dirty(&mut self, from: LogIndex) {
        self.log_dirty_from = Some(match self.log_dirty_from {
            Some(f) if f < from => f,
            _ => from,
        });
    }

    fn set_term(&mut self, term: Term) {
        if term > self.hard.current_term {
            self.hard.current_term = term;
            self.hard.voted_for = None;
            self.hard_dirty = true;
            self.leader_hint = None;
        }
    }

    fn become_follower(&mut self, now: u64, term: Term, because_of: NodeId) {
        let was = self.role;
        self.set_term(term);
        self.role = Role::Follower;
        self.votes.clear();
        if was == Role::Leader {
            self.heartbeat_deadline = u64::MAX;
            self.fail_all_reads();
        }
        if was != Role::Follower {
            self.reset_election_timer(now);
        }
        self.out_events.push(NodeEvent::BecameFollower {
            term: self.hard.current_term,
            because_of,
        });
    }

    fn fail_all_reads(&mut self) {
        self.out_failed_reads
            .append(&mut self.reads_waiting_for_term_commit);
        let pending: Vec<u64> = self.pending_reads.drain(..).map(|r| r.id).collect();
        self.out_failed_reads.extend(pending);
    }

    // ----- Inputs ----------------------------------------------------------

    /// Called at or after [`RaftNode::next_deadline`]: start an election
    /// (follower, candidate) or send heartbeats (leader). Calls before the
    /// deadline do nothing.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.role {
            Role::Leader => {
                if now >= self.heartbeat_deadline {
                    self.heartbeat(now);
                    debug_assert!(
                        self.commit_candidate().is_none(),
                        "a heartbeat found the commit point movable"
                    );
                }
            }
            _ => {
                if now >= self.election_deadline {
                    self.start_election(now);
                }
            }
        }
    }

    /// Start an election now, whatever the timer says (the page's "force
    /// timeout"). Ignored on a leader.
    pub fn force_election_timeout(&mut self, now: u64) {
        if self.role != Role::Leader {
            self.start_election(now);
        }
    }

    fn start_election(&mut self, now: u64) {
        // Raft §5.2: increment term, vote for self, reset timer, ask all.
        let term = Term(self.hard.current_term.0 + 1);
        self.set_term(term);
        self.hard.voted_for = Some(self.id);
        self.hard_dirty = true;
        self.role = Role::Candidate;
        self.leader_hint = None;
        self.votes.clear();
        self.votes.insert(self.id);
        self.reset_election_timer(now);
        self.out_events.push(NodeEvent::ElectionTimeout { term });
        if self.votes.len() >= self.quorum() {
            self.become_leader(now);
            return;
        }
        let (last_log_index, last_log_term) = (self.last_index(), self.last_term());
        for i in 0..self.members.len() {
            let p = self.members[i];
            if p == self.id {
                continue;
            }
            self.send(
                p,
                Rpc::RequestVote {
                    term,
                    last_log_index,
                    last_log_term,
                },
            );
        }
    }

    fn become_leader(&mut self, now: u64) {
        self.role = Role::Leader;
        self.leader_hint = Some(self.id);
        let next = self.last_index().next();
        for p in self.progress.iter_mut() {
            *p = Progress {
                next_index: next,
                ..Progress::default()
            };
        }
        self.round = 0;
        self.out_events.push(NodeEvent::BecameLeader {
            term: self.hard.current_term,
            votes: self.votes.iter().copied().collect(),
        });
        // Raft §8 / §5.4.2: a no-op lets the leader commit entries of its term.
        self.append_local(Payload::Noop);
        self.heartbeat(now);
        // A one-node cluster commits the no-op at once.
        self.maybe_commit(now);
    }

    fn append_local(&mut self, payload: Payload<C>) -> LogIndex {
        let index = self.last_index().next();
        self.log.push(Entry {
            term: self.hard.current_term,
            index,
            payload,
        });
        self.mark_log_dirty(index);
        let me = self.id.idx();
        if let Some(p) = self.progress.get_mut(me) {
            p.match_index = index;
            p.next_index = index.next();
        }
        index
    }

    /// Heartbeats (Raft §5.2) to the followers that are due one. Figure 2
    /// has the leader send empty AppendEntries "during idle periods to
    /// prevent election timeouts"; a follower that was sent any
    /// AppendEntries within the last interval is not idle, so it is skipped
    /// and owed its heartbeat a whole interval after that send (as in
    /// LogCabin, Ongaro's own implementation). Every follower still hears
    /// from the leader at least once per interval, but a busy leader's
    /// AppendEntries double as heartbeats instead of adding to them.
    fn heartbeat(&mut self, now: u64) {
        self.round += 1;
        // `build_append` refreshes the deadline when it moves the follower
        // that set it; here every due follower moves, so refresh once at
        // the end (no follower's due time equals `u64::MAX`).
        self.heartbeat_deadline = u64::MAX;
        // What an empty AppendEntries says is the same for every follower
        // that has the whole log: worked out once.
        let last = self.last_index();
        let last_term = self.term_at(last).unwrap_or_default();
        let (term, leader_commit, round) = (self.hard.current_term, self.commit_index, self.round);
        let due_again = now.saturating_add(self.config.heartbeat_interval_us);
        for i in 0..self.members.len() {
            let p = self.members[i];
            if p == self.id {
                continue;
            }
            let pr = &mut self.progress[p.idx()];
            if pr.heartbeat_due > now {
                continue;
            }
            if !pr.inflight.is_empty() && !pr.acked_since_heartbeat {
                // Nothing came back since the last heartbeat: assume the
                // pipeline was lost and probe from the last known match.
                pr.inflight.clear();
                pr.next_index = pr.match_index.next();
                pr.probing = true;
            }
            pr.acked_since_heartbeat = false;
            if pr.next_index.max(LogIndex(1)) > last {
                // Nothing new for it (the idle case): the empty
                // AppendEntries `build_append` would send from `last`,
                // without its call and its window and entries logic.
                // (Its deadline refresh cannot apply: the deadline is
                // `u64::MAX` here, and this follower was due by `now`.)
                pr.heartbeat_due = due_again;
                self.send(
                    p,
                    Rpc::AppendEntries {
                        term,
                        prev_log_index: last,
                        prev_log_term: last_term,
                        entries: Vec::new(),
                        leader_commit,
                        round,
                    },
                );
                continue;
            }
            self.build_append(p, true, now);
        }
        self.heartbeat_deadline = self.earliest_heartbeat_due();
        // No `maybe_commit` here (it was a sixth of a heartbeat's cost):
        // the commit point (Raft §5.3, §5.4.2) is a function of the match
        // indexes, the log's terms, the current term and the membership,
        // and a leader changes them only by appending (`propose` and
        // `become_leader` then call it) or by taking an acknowledgement
        // that moves a match index (`handle_append_reply` calls it); its
        // term and membership are fixed while it leads. A heartbeat changes
        // none of them, so it would find nothing new. Debug builds check
        // at every heartbeat tick (`handle_timeout`).
    }

    /// Send one AppendEntries to `to` from its `next_index`. A heartbeat is
    /// sent even when there is nothing new.
    #[inline(always)]
    fn send_append(&mut self, to: NodeId, heartbeat: bool, now: u64) {
        // Most calls that are not heartbeats (one per acknowledgement) find
        // the follower up to date: decide that here, inline.
        if !heartbeat {
            let last = self.last_index();
            let pr = &self.progress[to.idx()];
            if pr.next_index.max(LogIndex(1)).min(last.next()) > last {
                return;
            }
        }
        self.build_append(to, heartbeat, now);
    }

    /// The earliest time a follower is owed a heartbeat.
    fn earliest_heartbeat_due(&self) -> u64 {
        let mut at = u64::MAX;
        for m in &self.members {
            if *m != self.id {
                at = at.min(self.progress[m.idx()].heartbeat_due);
            }
        }
        at
    }

    /// The rest of [`RaftNode::send_append`].
    #[inline(never)]
    fn build_append(&mut self, to: NodeId, heartbeat: bool, now: u64) {
        let last = self.last_index();
        let pr = &self.progress[to.idx()];
        let next = pr.next_index.max(LogIndex(1)).min(last.next());
        let has_new = next <= last;
        let window_open = if pr.probing {
            pr.inflight.is_empty()
        } else {
            pr.inflight.len() < self.config.max_inflight
        };
        if !(heartbeat || has_new && window_open) {
            return;
        }
        let send_entries = has_new && window_open;
        let prev_log_index = next.prev();
        let prev_log_term = self.term_at(prev_log_index).unwrap_or_default();
        let entries: Vec<Entry<C>> = if send_entries {
            let start = next.0 as usize - 1;
            let end = (start + self.config.max_entries_per_message).min(self.log.len());
            self.log[start..end].to_vec()
        } else {
            Vec::new()
        };
        let interval = self.config.heartbeat_interval_us;
        let pr = &mut self.progress[to.idx()];
        // Any AppendEntries counts as this follower's heartbeat.
        let was_due = std::mem::replace(&mut pr.heartbeat_due, now.saturating_add(interval));
        if let Some(last_sent) = entries.last() {
            pr.inflight.push(last_sent.index);
            if !pr.probing {
                pr.next_index = LogIndex(next.0 + entries.len() as u64);
            }
        }
        let rpc = Rpc::AppendEntries {
            term: self.hard.current_term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
            round: self.round,
        };
        self.send(to, rpc);
        if was_due == self.heartbeat_deadline {
            self.heartbeat_deadline = self.earliest_heartbeat_due();
        }
    }

    fn replicate_all(&mut self, now: u64) {
        for i in 0..self.members.len() {
            let p = self.members[i];
            if p != self.id {
                self.send_append(p, false, now);
            }
        }
    }

    /// Propose a command. Only the leader accepts; it appends the entry and
    /// starts replicating it (Raft §5.3).
    pub fn propose(&mut self, now: u64, command: C) -> Result<LogIndex, ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader_hint: self.leader_hint,
            });
        }
        let index = self.append_local(Payload::Command(command));
        self.replicate_all(now);
        self.maybe_commit(now);
        Ok(index)
    }

    /// Ask for a linearizable read (ReadIndex, dissertation §6.4). The read
    /// appears in [`Ready::reads`] once leadership is confirmed, or in
    /// [`Ready::failed_reads`] if leadership is lost first.
    pub fn read_index(&mut self, now: u64, id: u64) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader_hint: self.leader_hint,
            });
        }
        if self.term_at(self.commit_index) != Some(self.hard.current_term) {
            // Step 1: wait until an entry of this term is committed, so the
            // commit index is at least as high as any earlier leader's.
            self.reads_waiting_for_term_commit.push(id);
            return Ok(());
        }
        self.register_read(id, now);
        Ok(())
    }

    fn register_read(&mut self, id: u64, now: u64) {
        if self.quorum() == 1 {
            self.out_reads.push(ReadyRead {
                id,
                read_index: self.commit_index,
            });
            return;
        }
        // Step 2: start a fresh heartbeat round; the read is confirmed when
        // a majority has acknowledged it.
        // A round already in flight started before this read arrived, so
        // its acknowledgements prove nothing about now.
        self.round += 1;
        self.pending_reads.push(PendingRead {
            id,
            read_index: self.commit_index,
            round: self.round,
        });
        for i in 0..self.members.len() {
            let p = self.members[i];
            if p != self.id {
                self.send_append(p, true, now);
            }
        }
    }

    fn confirm_reads(&mut self) {
        if self.pending_reads.is_empty() {
            return;
        }
        let me = self.id.idx();
        let confirmed = quorum_value(
            self.members.iter().map(|m| {
                if m.idx() == me {
                    self.round
                } else {
                    self.progress[m.idx()].acked_round
                }
            }),
            self.members.len(),
            self.quorum(),
        );
        let out_reads = &mut self.out_reads;
        self.pending_reads.retain(|r| {
            if r.round <= confirmed {
                out_reads.push(ReadyRead {
                    id: r.id,
                    read_index: r.read_index,
                });
                false
            } else {
                true
            }
        });
    }

    /// Handle a message from another node.
    pub fn handle_message(&mut self, now: u64, mut msg: Message<C>) {
        self.handle_message_mut(now, &mut msg);
    }

    /// [`RaftNode::handle_message`] for a message the driver keeps (the
    /// simulator reads it where it waited in the event queue instead of
    /// copying it out): read in place, only its entries are moved out
    /// (when they are appended), leaving it with none.
    pub fn handle_message_mut(&mut self, now: u64, msg: &mut Message<C>) {
        if msg.to != self.id || !self.is_peer(msg.from) {
            self.out_events.push(NodeEvent::IgnoredStale {
                from: msg.from,
                kind: format!("{} (misaddressed)", msg.rpc.kind()),
                term: msg.rpc.term(),
            });
            return;
        }
        let term = msg.rpc.term();
        // Raft §5.1: a higher term makes any node a follower.
        if term > self.hard.current_term {
            self.become_follower(now, term, msg.from);
        }
        if term < self.hard.current_term {
            self.out_events.push(NodeEvent::IgnoredStale {
                from: msg.from,
                kind: msg.rpc.kind().to_string(),
                term,
            });
            // Answer so a stale leader or candidate learns the new term.
            match &msg.rpc {
                Rpc::RequestVote { .. } => {
                    let t = self.hard.current_term;
                    self.send(
                        msg.from,
                        Rpc::RequestVoteReply {
                            term: t,
                            granted: false,
                        },
                    );
                }
                Rpc::AppendEntries { .. } => {
                    let t = self.hard.current_term;
                    // Round 0, not the request's round: the request's round
                    // counts an older term's heartbeats, and this reply
                    // carries the current term, so a leader of the current
                    // term (perhaps the same node, re-elected) would take
                    // it as an ack of its own round and confirm ReadIndex
                    // reads without a real quorum (dissertation §6.4).
                    // Every read waits for a round ≥ 1.
                    self.send(
                        msg.from,
                        Rpc::AppendEntriesReply {
                            term: t,
                            success: false,
                            match_index: LogIndex(0),
                            conflict: None,
                            round: 0,
                        },
                    );
                }
                _ => {}
            }
            return;
        }
        match &mut msg.rpc {
            Rpc::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.handle_request_vote(now, msg.from, *term, *last_log_index, *last_log_term),
            Rpc::RequestVoteReply { granted, .. } => {
                self.handle_vote_reply(now, msg.from, *granted)
            }
            Rpc::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
                ..
            } => self.handle_append(
                now,
                msg.from,
                *prev_log_index,
                *prev_log_term,
                entries,
                *leader_commit,
                *round,
            ),
            Rpc::AppendEntriesReply {
                success,
                match_index,
                conflict,
                round,
                ..
            } => self.handle_append_reply(now, msg.from, *success, *match_index, *conflict, *round),
        }
    }

    fn handle_request_vote(
        &mut self,
        now: u64,
        candidate: NodeId,
        term: Term,
        last_log_index: LogIndex,
        last_log_term: Term,
    ) {
        // Raft §5.4.1: grant only if the candidate's log is at least as
        // up-to-date as ours; §5.2: at most one vote per term.
        let up_to_date = last_log_term > self.last_term()
            || (last_log_term == self.last_term() && last_log_index >= self.last_index());
        let free = self.hard.voted_for.is_none() || self.hard.voted_for == Some(candidate);
        let granted = self.role == Role::Follower && free && up_to_date;
        if granted {
            if self.hard.voted_for != Some(candidate) {
                self.hard.voted_for = Some(candidate);
                self.hard_dirty = true;
            }
            self.reset_election_timer(now);
            self.out_events.push(NodeEvent::Voted { candidate, term });
        } else {
            let reason = if !free {
                format!(
                    "already voted for {} in term {}",
                    self.hard
                        .voted_for
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    term
                )
            } else if !up_to_date {
                format!(
                    "its log (last term {}, index {}) is behind ours (last term {}, index {})",
                    last_log_term,
                    last_log_index,
                    self.last_term(),
                    self.last_index()
                )
            } else {
                format!("this node is the {} of term {}", self.role, term)
            };
            self.out_events.push(NodeEvent::VoteRefused {
                candidate,
                term,
                reason,
            });
        }
        self.send(
            candidate,
            Rpc::RequestVoteReply {
                term: self.hard.current_term,
                granted,
            },
        );
    }

    fn handle_vote_reply(&mut self, now: u64, from: NodeId, granted: bool) {
        if self.role != Role::Candidate || !granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.quorum() {
            self.become_leader(now);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_append(
        &mut self,
        now: u64,
        leader: NodeId,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: &mut Vec<Entry<C>>,
        leader_commit: LogIndex,
        round: u64,
    ) {
        let term = self.hard.current_term;
        if self.role != Role::Follower {
            // A candidate (or, impossibly, a leader) of the same term learns
            // there is a leader (Raft §5.2).
            self.become_follower(now, term, leader);
        }
        self.leader_hint = Some(leader);
        self.reset_election_timer(now);

        // Consistency check (Raft §5.3).
        let reply_fail = |this: &mut Self, conflict: ConflictHint| {
            this.send(
                leader,
                Rpc::AppendEntriesReply {
                    term,
                    success: false,
                    match_index: LogIndex(0),
                    conflict: Some(conflict),
                    round,
                },
            );
        };
        if prev_log_index > self.last_index() {
            let hint = ConflictHint {
                conflict_term: None,
                first_index: self.last_index().next(),
            };
            reply_fail(self, hint);
            return;
        }
        let my_prev_term = self.term_at(prev_log_index).unwrap_or_default();
        if my_prev_term != prev_log_term {
            let mut first = prev_log_index;
            while first.0 > 1 && self.term_at(first.prev()) == Some(my_prev_term) {
                first = first.prev();
            }
            let hint = ConflictHint {
                conflict_term: Some(my_prev_term),
                first_index: first,
            };
            reply_fail(self, hint);
            return;
        }
        let count = entries.len() as u64;
        // A heartbeat carries no entries: nothing to check or append, and
        // no vector to take out of the message and drop.
        if count > 0 && !self.append_entries(leader, term, prev_log_index, entries) {
            return;
        }
        let last_new = LogIndex(prev_log_index.0 + count);
        if leader_commit > self.commit_index {
            let to = leader_commit.min(last_new);
            if to > self.commit_index {
                self.out_events.push(NodeEvent::CommitAdvanced {
                    from: self.commit_index,
                    to,
                });
                self.commit_index = to;
            }
        }
        self.send(
            leader,
            Rpc::AppendEntriesReply {
                term,
                success: true,
                match_index: last_new,
                conflict: None,
                round,
            },
        );
    }

    /// The appending part of [`RaftNode::handle_append`] (Raft §5.3), for
    /// a request with entries that passed the consistency check: moves
    /// them out of the message into the log, truncating only at a real
    /// conflict. Returns false, appending nothing, for entries that are
    /// not contiguous (a malformed request, traced).
    fn append_entries(
        &mut self,
        leader: NodeId,
        term: Term,
        prev_log_index: LogIndex,
        entries: &mut Vec<Entry<C>>,
    ) -> bool {
        let contiguous = entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.index.0 == prev_log_index.0 + 1 + i as u64);
        if !contiguous {
            self.out_events.push(NodeEvent::IgnoredStale {
                from: leader,
                kind: "AppendEntries (malformed: entries not contiguous)".into(),
                term,
            });
            return false;
        }
        // Append, truncating only at a real conflict so a stale or
        // reordered request never removes entries it does not replace.
        for e in std::mem::take(entries) {
            match self.term_at(e.index) {
                Some(t) if t == e.term => continue,
                Some(_) => {
                    let from = e.index;
                    let removed = self.last_index().0 - from.0 + 1;
                    self.log.truncate(from.0 as usize - 1);
                    self.out_events.push(NodeEvent::Truncated {
                        from,
                        count: removed,
                    });
                    self.mark_log_dirty(from);
                    if self.handed_out >= from {
                        // Never happens for committed entries (State Machine
                        // Safety); the checker would report it.
                        self.handed_out = from.prev();
                    }
                    self.mark_log_dirty(e.index);
                    self.log.push(e);
                }
                None => {
                    self.mark_log_dirty(e.index);
                    self.log.push(e);
                }
            }
        }
        true
    }

    fn handle_append_reply(
        &mut self,
        now: u64,
        from: NodeId,
        success: bool,
        match_index: LogIndex,
        conflict: Option<ConflictHint>,
        round: u64,
    ) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.last_index();
        // A round this leader never started is not an ack of anything it
        // sent (a reply built from a stale or forged request): ignore it, so
        // it cannot confirm reads (dissertation §6.4).
        let leader_round = self.round;
        let pr = &mut self.progress[from.idx()];
        if round <= leader_round {
            pr.acked_round = pr.acked_round.max(round);
        }
        if success {
            let matched = match_index.min(last);
            pr.inflight.retain(|end| *end > matched);
            pr.acked_since_heartbeat = true;
            let advanced = matched > pr.match_index;
            if advanced {
                pr.match_index = matched;
            }
            if pr.probing {
                pr.probing = false;
                pr.inflight.clear();
                pr.next_index = pr.match_index.next();
            } else if pr.next_index <= pr.match_index {
                pr.next_index = pr.match_index.next();
            }
            // Every other change that can move the commit point (the
            // leader's own appends, a new term) already ran `maybe_commit`;
            // with no match index moved, it would find nothing new.
            if advanced {
                self.maybe_commit(now);
            }
        } else if let Some(hint) = conflict {
            // Fast backtracking (Raft §5.3): skip the follower's whole
            // conflicting term, or jump to its log end.
            let mut next = hint.first_index;
            if let Some(t) = hint.conflict_term {
                if let Some(last_of_t) =
                    self.log.iter().rev().find(|e| e.term == t).map(|e| e.index)
                {
                    next = last_of_t.next();
                }
            }
            let pr = &mut self.progress[from.idx()];
            let next = next.max(pr.match_index.next()).min(last.next());
            pr.next_index = next;
            pr.probing = true;
            pr.inflight.clear();
        }
        self.confirm_reads();
        self.send_append(from, false, now);
    }

    /// The index a leader may commit up to now, if later than its commit
    /// index: the highest index a quorum has matched, if it is of the
    /// current term (Raft §5.4.2: count replicas only for an entry of the
    /// current term).
    fn commit_candidate(&self) -> Option<LogIndex> {
        if self.role != Role::Leader {
            return None;
        }
        let candidate = quorum_value(
            self.members
                .iter()
                .map(|m| self.progress[m.idx()].match_index),
            self.members.len(),
            self.quorum(),
        );
        (candidate > self.commit_index && self.term_at(candidate) == Some(self.hard.current_term))
            .then_some(candidate)
    }

    fn maybe_commit(&mut self, now: u64) {
        if let Some(candidate) = self.commit_candidate() {
            self.out_events.push(NodeEvent::CommitAdvanced {
                from: self.commit_index,
                to: candidate,
            });
            self.commit_index = candidate;
            if !self.reads_waiting_for_term_commit.is_empty() {
                let waiting = std::mem::take(&mut self.reads_waiting_for_term_commit);
                for id in waiting {
                    self.register_read(id, now);
                }
            }
        }
    }

    // ----- Output ----------------------------------------------------------

    /// Drain everything produced since the last call.
    pub fn take_ready(&mut self) -> Ready<C> {
        let mut ready = Ready::default();
        let committed = self.take_ready_into(&mut ready);
        let (start, end) = (committed.start as usize, committed.end as usize);
        ready.committed = self.log[start..end].to_vec();
        ready
    }

    /// The common output of a step, without a [`Ready`]: when the node
    /// produced nothing since the last drain but messages (nothing to
    /// persist, apply, confirm, fail or trace: a follower's answer to a
    /// heartbeat, a leader taking an acknowledgement or sending its
    /// heartbeats), moves those messages, in order, into `out` (which must
    /// be empty; the node keeps `out`'s buffer in exchange, so neither side
    /// allocates), returns true, and the node is drained exactly as
    /// [`RaftNode::take_ready_into`] would have drained it. Otherwise
    /// returns false, takes nothing, and the caller drains the node with
    /// [`RaftNode::take_ready_into`].
    ///
    /// The buffers are swapped, not the messages moved one by one: a
    /// leader's four heartbeats through the `Ready` were reversed, popped
    /// and copied twice each on the way to the network (about a tenth of
    /// an idle cluster's instructions, with the `Ready` around them).
    #[cfg_attr(
        any(not(target_arch = "wasm32"), feature = "wasm-bench"),
        inline(always)
    )]
    pub fn take_messages_only(&mut self, out: &mut Vec<Message<C>>) -> bool {
        // One test of all six conditions, not six tests in turn: every
        // call of a quiet step evaluates them all anyway (each is false),
        // and `|` lets them be computed without a branch apiece.
        let pending = self.out_reads.len() | self.out_failed_reads.len() | self.out_events.len();
        if self.hard_dirty
            | self.log_dirty_from.is_some()
            | (self.commit_index > self.handed_out)
            | (pending != 0)
        {
            return false;
        }
        debug_assert!(out.is_empty(), "take_messages_only into a full buffer");
        std::mem::swap(out, &mut self.out_messages);
        true
    }

    /// For a driver that persists straight from [`RaftNode::log`] (the
    /// simulator): take where the pending log write starts, if there is
    /// one, so that the next [`RaftNode::take_ready_into`] leaves
    /// [`Ready::log_write`] empty instead of copying the entries into it.
    /// The caller then persists the log from index `from` on (positions
    /// `from - 1..` of [`RaftNode::log`], replacing whatever its storage
    /// holds from there), before the step's messages leave, exactly as it
    /// would persist the `log_write` (Raft Figure 2: persistent state is
    /// updated on stable storage before responding to RPCs).
    pub fn take_log_write_from(&mut self) -> Option<LogIndex> {
        self.log_dirty_from.take()
    }

    /// [`RaftNode::take_ready`] for drivers that run many steps: `out`'s
    /// buffers are reused (its previous contents are dropped), and the
    /// committed entries are not copied. `out.committed` is left empty;
    /// instead the indices to apply are returned (`start + 1..=end` as log
    /// indices, i.e. positions `start..end` of [`RaftNode::log`]), and stay
    /// valid until the next input to the node.
    pub fn take_ready_into(&mut self, out: &mut Ready<C>) -> std::ops::Range<u64> {
        out.hard_state = if self.hard_dirty {
            self.hard_dirty = false;
            Some(self.hard)
        } else {
            None
        };
        out.log_write = self.log_dirty_from.take().map(|from| {
            let start = (from.0 as usize).saturating_sub(1).min(self.log.len());
            LogWrite {
                from,
                entries: self.log[start..].to_vec(),
            }
        });
        let committed = if self.commit_index > self.handed_out {
            let start = self.handed_out.0;
            let end = self.commit_index.0.min(self.log.len() as u64);
            self.handed_out = LogIndex(end);
            start..end
        } else {
            0..0
        };
        out.committed.clear();
        // Swap buffers only where there is something (most steps have
        // messages and nothing else).
        out.messages.clear();
        if !self.out_messages.is_empty() {
            std::mem::swap(&mut out.messages, &mut self.out_messages);
        }
        out.reads.clear();
        if !self.out_reads.is_empty() {
            std::mem::swap(&mut out.reads, &mut self.out_reads);
        }
        out.failed_reads.clear();
        if !self.out_failed_reads.is_empty() {
            std::mem::swap(&mut out.failed_reads, &mut self.out_failed_reads);
        }
        out.events.clear();
        if !self.out_events.is_empty() {
            std::mem::swap(&mut out.events, &mut self.out_events);
        }
        committed
    }
}

/// `v.push(x)` when `v` is full (see `RaftNode::send`).
#[inline(never)]
#[cold]
fn grow_push<T>(v: &mut Vec<T>, x: T) {
    v.push(x);
}

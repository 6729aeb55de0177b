//! Checkers that run beside the simulator, never inside a node: the Raft
//! safety invariants after every event ([`invariants`], Raft §5.4 and Figure 3)
//! and linearizability of the clients' history ([`linearizability`]).

pub mod history;
pub mod invariants;
pub mod linearizability;
#[cfg(test)]
mod linearizability_oracle;

//! PLACEHOLDER until the checker lands (being written in a scratch crate).
use crate::check::history::{Call, History};
/// A non-linearizable key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    pub calls: Vec<Call>,
    pub explanation: String,
}
impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.explanation)
    }
}
impl std::error::Error for Violation {}
/// Check a history.
pub fn check(_history: &History) -> Result<(), Violation> {
    Ok(())
}

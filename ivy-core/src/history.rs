//! placeholder until the checker lands
use crate::ids::{NodeId, PageId};
use crate::node::OperationKind;
/// x
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct HistoryEntry {
    /** x */
    pub process: NodeId,
    /** x */
    pub op: OperationKind,
    /** x */
    pub page: PageId,
    /** x */
    pub value: u64,
    /** x */
    pub invoked_at: u64,
    /** x */
    pub completed_at: u64,
}
/// x
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("x")]
pub struct LinearizabilityViolation;
/// x
pub fn check_linearizable(_entries: &[HistoryEntry]) -> Result<(), LinearizabilityViolation> {
    Ok(())
}

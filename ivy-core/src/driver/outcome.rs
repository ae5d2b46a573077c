//! The final check of a finished run, the same for every driver: every manager with
//! state agrees with the processes, and the history is linearizable.

use crate::checks::authority::PageAuthority;
use crate::checks::history::{check_linearizable, HistoryEntry, LinearizabilityViolation};
use crate::checks::invariants::{check_coherence, CoherenceViolation};
use crate::checks::process_view::ProcessView;
use crate::protocol::directory::DirectoryView;
use crate::protocol::process_node::ProcessNode;
use thiserror::Error;

/// Why a finished run fails its final check.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OutcomeViolation {
    /// A manager's state disagrees with the processes.
    #[error("final state is not coherent: {0}")]
    Coherence(#[from] CoherenceViolation),
    /// The history is not linearizable.
    #[error("history is not linearizable: {0}")]
    History(#[from] LinearizabilityViolation),
}

/// Checks a finished run: each of `states` (the live managers' state, or the
/// authority an algorithm without managers supplies) agrees with `processes`, then
/// `history` is linearizable.
pub fn check_outcome<'a, P: ProcessView, A: PageAuthority + ?Sized + 'a>(
    processes: &[P],
    states: impl IntoIterator<Item = &'a A>,
    history: &[HistoryEntry],
) -> Result<(), OutcomeViolation> {
    for state in states {
        check_coherence(processes, state)?;
    }
    check_linearizable(history)?;
    Ok(())
}

/// The final check of a finished run of any algorithm: coherence against the
/// authority its processes supply (see [`ProcessNode::authority`]) or else against
/// each of `states` (the live managers' state), the algorithm's own invariant
/// ([`ProcessNode::check_algorithm`]), then linearizability.
pub fn check_run<'a, P: ProcessNode>(
    processes: &[P],
    states: impl IntoIterator<Item = &'a dyn DirectoryView>,
    history: &[HistoryEntry],
) -> Result<(), OutcomeViolation> {
    match P::authority(processes) {
        Some(authority) => check_outcome(processes, [authority.as_ref()], history)?,
        None => check_outcome(processes, states, history)?,
    }
    P::check_algorithm(processes, None)?;
    Ok(())
}

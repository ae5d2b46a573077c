//! The final check of a finished run, the same for every driver: every manager with
//! state agrees with the processes, and the history is linearizable.

use crate::checks::authority::PageAuthority;
use crate::checks::history::{check_linearizable, HistoryEntry, LinearizabilityViolation};
use crate::checks::invariants::{check_coherence, CoherenceViolation};
use crate::checks::process_view::ProcessView;
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

//! Why an `ivy cluster` run stalled. After kills, the launcher stops every node that
//! is left, rebuilds the processes and the live managers from their final lines, and
//! asks the driver kit what no live manager holds any more (`lost_state_among`, the
//! check the threaded runtime makes): state lost is said as such, with what was lost;
//! anything else is a plain stall.

use super::children::Children;
use super::faults::Faults;
use super::gathered::Gathered;
use crate::error::CliError;
use ivy_basic::PageSerializer;
use ivy_core::driver::{lost_state_among, Holder, PerformedKill};
use ivy_core::NodeId;
use std::time::Instant;

/// The error line of a run that stopped completing operations (`stalled`: for the
/// stall timeout, since `quiet_since`) or ran past its deadline.
pub(super) fn stall_error(
    children: &mut Children,
    mut gathered: Gathered,
    faults: &Faults,
    process_ids: &[NodeId],
    (completed, total): (usize, usize),
    stalled: Option<Instant>,
) -> CliError {
    let waited = stalled.map(|since| since.elapsed().as_secs_f64());
    let stall = format!("run stalled: {completed} of {total} operations completed");
    let (Some(waited), true) = (waited, faults.has_killed()) else {
        return CliError::Failed(stall);
    };
    let maybe_lost =
        format!("{stall}, none for {waited:.1} s: a kill may have lost the state the run needs");
    if super::stop(children, &mut gathered).is_err() {
        return CliError::Failed(maybe_lost);
    }
    let processes: Option<Vec<_>> = process_ids
        .iter()
        .map(|id| gathered.finals.get_mut(id)?.process.take().map(|p| *p))
        .collect();
    let holders: Vec<Holder> = faults
        .live()
        .iter()
        .filter_map(|id| gathered.finals.get(id)?.snapshot.as_deref())
        .map(|snapshot| {
            let state = PageSerializer::from_snapshot(snapshot);
            Holder::of_state(&state, snapshot.last)
        })
        .collect();
    // What each victim knew when it died went with it: the kit then names the last
    // kill, after which nothing live holds what was lost.
    let performed: Vec<PerformedKill> = faults
        .kill_requests()
        .iter()
        .map(|&request| PerformedKill {
            request,
            knew: Vec::new(),
        })
        .collect();
    let lost = processes.and_then(|processes| lost_state_among(&processes, &holders, &performed));
    match lost {
        Some(lost) => CliError::Failed(format!(
            "state lost: after the kill at request {}, no live manager holds {}; the run \
             cannot finish ({completed} of {total} operations done)",
            lost.request, lost.missing
        )),
        None => CliError::Failed(maybe_lost),
    }
}

//! The check after every step: coherence against the most authoritative live
//! manager, over what the step may have changed (one page, the authority's state, or
//! everything), so that the simulator checks every step without re-reading every page
//! when nothing they hold has moved.

use super::{ManagerStatus, Simulation, SimulationError};
use crate::checks::invariants::{check_coherence, check_page_coherence};
use crate::protocol::ids::PageId;
use crate::protocol::manager::ManagerNode;
use crate::protocol::process_node::ProcessNode;
use crate::replication::LogPosition;

/// What a step may have changed, for the check after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Touched {
    /// Nothing (time passed and no timer was due).
    Nothing,
    /// One page's state.
    Page(PageId),
    /// Any page (timers fired, or a message without a page to a process).
    Everything,
    /// Whatever the authority (manager `index`) changed, if its state moved from
    /// this mark (a message without a page reached it).
    Authority(StateMark),
}

/// A manager's state as the per-step check sees it: how far its log reaches, and how
/// many times its directory and open faults may have changed. A state that keeps its
/// mark has not changed (a snapshot installed moves the reach).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StateMark {
    index: usize,
    reach: Option<LogPosition>,
    revision: Option<u64>,
}

impl From<Option<PageId>> for Touched {
    fn from(page: Option<PageId>) -> Touched {
        page.map_or(Touched::Everything, Touched::Page)
    }
}

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    /// Checks coherence against the most authoritative manager: the page touched, or
    /// every page when the step was not about one page or the authority changed.
    pub(super) fn check_step(&mut self, touched: Touched) -> Result<(), SimulationError> {
        if let Some(authority) = P::authority(&self.processes) {
            let processes = &self.processes;
            let checked = match touched {
                Touched::Nothing => Ok(()),
                Touched::Page(page) => check_page_coherence(processes, authority.as_ref(), page)
                    .and_then(|()| P::check_algorithm(processes, Some(page))),
                _ => check_coherence(processes, authority.as_ref())
                    .and_then(|()| P::check_algorithm(processes, None)),
            };
            return checked.map_err(|violation| self.failure(violation.into()));
        }
        let authority = self.most_authoritative();
        let Some(state) = authority.and_then(|index| self.managers[index].state()) else {
            unreachable!("a live manager with state exists while no state is lost");
        };
        let checked = match touched {
            Touched::Nothing if authority == self.authority => Ok(()),
            Touched::Authority(mark)
                if authority == Some(mark.index) && self.state_mark(mark.index) == mark =>
            {
                Ok(())
            }
            Touched::Page(page) if authority == self.authority => {
                check_page_coherence(&self.processes, state, page)
            }
            _ => check_coherence(&self.processes, state),
        };
        self.authority = authority;
        checked.map_err(|violation| self.failure(violation.into()))
    }

    /// Manager `index`'s state as the checks see it now.
    pub(super) fn state_mark(&self, index: usize) -> StateMark {
        let manager = &self.managers[index];
        StateMark {
            index,
            reach: manager.reach(),
            revision: manager.state().map(|state| state.revision()),
        }
    }

    pub(super) fn most_authoritative(&self) -> Option<usize> {
        (0..self.managers.len())
            .filter(|&index| !matches!(self.status[index], ManagerStatus::Down { .. }))
            .filter_map(|index| Some((self.managers[index].rank()?, index)))
            .max()
            .map(|(_, index)| index)
    }
}

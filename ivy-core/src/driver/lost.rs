//! After a run that stalled with kills: what no live manager holds any more, and
//! which kill lost it.

use crate::protocol::ids::{PageId, PageVersion};
use crate::protocol::manager::ManagerNode;
use crate::protocol::process::Process;
use crate::replication::LogPosition;
use std::fmt;

/// A kill carried out: its request and what the manager knew of each page (see
/// [`knowledge`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerformedKill {
    /// The request at whose issue it was due.
    pub request: u64,
    /// Per page, the newest version the manager recorded or was serving.
    pub knew: Vec<PageVersion>,
}

/// What no live manager holds any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostState {
    /// The kill that lost it.
    pub request: u64,
    /// What it lost.
    pub missing: Missing,
}

/// State processes acted on that no live manager holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The newest version of a page, which some process holds or held.
    Page {
        /// The page.
        page: PageId,
        /// Its newest version.
        version: PageVersion,
    },
    /// A log entry a process obeyed a command of, beyond every live manager's reach
    /// (see [`ivy_core::Viewstamp`]).
    LogEntry(LogPosition),
}

impl fmt::Display for Missing {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Page { page, version } => {
                write!(formatter, "page {page} version {}", version.0)
            }
            Missing::LogEntry(stamp) => {
                write!(formatter, "the log entry at {stamp} a process obeyed")
            }
        }
    }
}

/// After a stall, given the processes and the managers (each with whether it is
/// down): the first page whose newest version (the newest any process took
/// part in) no live manager with state knows, recorded or being served, and the last
/// kill of a manager that knew it (else the last kill); or, when every page is known,
/// the newest viewstamp processes obeyed if no live manager reaches it (it cannot
/// prove it holds what they acted on), and the last kill. `None` without kills.
pub fn lost_state<M: ManagerNode>(
    processes: &[Process],
    managers: &[(M, bool)],
    performed: &[PerformedKill],
) -> Option<LostState> {
    let last_kill = performed.last()?;
    let holders: Vec<&M> = managers
        .iter()
        .filter(|(manager, down)| !down && manager.state().is_some())
        .map(|(manager, _)| manager)
        .collect();
    let pages = processes.first()?.page_count();
    let lost_page = (0..pages).find_map(|index| {
        let page = PageId(index as u32);
        let entries = processes.iter().filter_map(|p| p.page(page));
        let versions = entries.map(|entry| entry.version());
        let newest = versions.max()?;
        let known = holders.iter().filter_map(|m| m.state()).any(|held| {
            let fault = held.active_fault(page).map(|fault| fault.version);
            held.directory().record(page).version >= newest || fault >= Some(newest)
        });
        if known {
            return None;
        }
        let culprit = performed
            .iter()
            .rev()
            .find(|kill| kill.knew.get(index).is_some_and(|&knew| knew >= newest))
            .unwrap_or(last_kill);
        Some(LostState {
            request: culprit.request,
            missing: Missing::Page {
                page,
                version: newest,
            },
        })
    });
    let newest_accepted = processes.iter().map(|p| p.accepted()).max()?;
    let reached = holders.iter().any(|manager| {
        manager
            .reach()
            .is_some_and(|reach| reach.covers(newest_accepted))
    });
    lost_page.or_else(|| {
        (!reached).then_some(LostState {
            request: last_kill.request,
            missing: Missing::LogEntry(newest_accepted),
        })
    })
}

/// Per page, the newest version `manager` recorded or is serving; empty when it
/// holds no state.
pub fn knowledge<M: ManagerNode>(manager: &M) -> Vec<PageVersion> {
    let Some(state) = manager.state() else {
        return Vec::new();
    };
    let directory = state.directory();
    (0..directory.page_count())
        .map(|index| {
            let page = PageId(index);
            let recorded = directory.record(page).version;
            let serving = state.active_fault(page).map(|fault| fault.version);
            serving.map_or(recorded, |serving| serving.max(recorded))
        })
        .collect()
}

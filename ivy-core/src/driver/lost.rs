//! After a run that stalled with kills: what no live manager holds any more, and
//! which kill lost it.

use crate::checks::process_view::ProcessView;
use crate::protocol::directory::DirectoryView;
use crate::protocol::ids::{PageId, PageVersion};
use crate::protocol::manager::ManagerNode;
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

/// A live manager that holds state, as [`lost_state_among`] sees it: per page, the
/// newest version it recorded or is serving (see [`knowledge`]), and how far its log
/// provably reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Per page, the newest version it knows.
    pub knew: Vec<PageVersion>,
    /// How far its log reaches.
    pub reach: LogPosition,
}

impl Holder {
    /// What `manager` holds; `None` if it is blank. A manager holds state exactly
    /// when its log has a reach ([`ManagerNode::reach`] is `None` only for a blank
    /// one), so this is `None` exactly when [`ManagerNode::state`] is.
    pub fn of<M: ManagerNode>(manager: &M) -> Option<Holder> {
        Some(Holder {
            knew: knowledge(manager),
            reach: manager.reach()?,
        })
    }

    /// What a manager with `state` (say, rebuilt from its snapshot) whose log reaches
    /// `reach` holds.
    pub fn of_state(state: &dyn DirectoryView, reach: LogPosition) -> Holder {
        Holder {
            knew: knowledge_of(state),
            reach,
        }
    }
}

/// After a stall, given the processes and the managers (each with whether it is
/// down): what [`lost_state_among`] finds among the live managers that hold state.
pub fn lost_state<P: ProcessView, M: ManagerNode>(
    processes: &[P],
    managers: &[(M, bool)],
    performed: &[PerformedKill],
) -> Option<LostState> {
    let holders: Vec<Holder> = managers
        .iter()
        .filter(|(_, down)| !down)
        .filter_map(|(manager, _)| Holder::of(manager))
        .collect();
    lost_state_among(processes, &holders, performed)
}

/// After a stall, given the processes and the live managers that hold state: the
/// first page whose newest version (the newest any process took part in) none of
/// them knows, recorded or being served, and the last kill of a manager that knew it
/// (else the last kill); or, when every page is known, the newest viewstamp processes
/// obeyed if no holder's log reaches it (it cannot prove it holds what they acted
/// on), and the last kill. `None` without kills.
pub fn lost_state_among<P: ProcessView>(
    processes: &[P],
    holders: &[Holder],
    performed: &[PerformedKill],
) -> Option<LostState> {
    let last_kill = performed.last()?;
    let pages = processes.first()?.page_count();
    let lost_page = (0..pages).find_map(|index| {
        let page = PageId(index as u32);
        let entries = processes.iter().filter_map(|p| p.page_entry(page));
        let versions = entries.map(|entry| entry.version());
        let newest = versions.max()?;
        let known = holders
            .iter()
            .any(|holder| holder.knew.get(index).is_some_and(|&knew| knew >= newest));
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
    let newest_accepted = processes.iter().map(ProcessView::obeyed).max()?;
    let reached = holders
        .iter()
        .any(|holder| holder.reach.covers(newest_accepted));
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
    manager.state().map_or(Vec::new(), knowledge_of)
}

/// Per page, the newest version `state` records or is serving.
pub fn knowledge_of(state: &dyn DirectoryView) -> Vec<PageVersion> {
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

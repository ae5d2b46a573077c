//! Scheduled faults: the one place that decides kills and revivals (under the kill
//! lock), the kills that could not happen, and what a stalled run lost.

use super::events::RunEvent;
use super::{FaultAction, Input, RunOutcome, RuntimeManager, Shared};
use ivy_core::{LogPosition, NodeId, PageId, PageVersion};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The role a kill names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KillRole {
    /// `--kill-primary-at`.
    Primary,
    /// `--kill-backup-at`.
    Backup,
}

impl fmt::Display for KillRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KillRole::Primary => "primary",
            KillRole::Backup => "backup",
        })
    }
}

/// A scheduled kill that did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissedKill {
    /// The request at whose issue it was due.
    pub request: u64,
    /// The role it named.
    pub role: KillRole,
    /// Why it did not happen.
    pub reason: MissReason,
}

/// Why a kill did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissReason {
    /// No live manager had the role when the kill was due.
    NoManager,
    /// (Waiting kills) The manager's peer was down or lacked its state until the run
    /// ended.
    StillWaiting {
        /// The manager.
        manager: NodeId,
    },
    /// (Waiting kills) The manager was revived before its peer was up and held its
    /// state.
    Cancelled {
        /// The manager.
        manager: NodeId,
        /// The request whose revival cancelled the kill.
        revival: u64,
    },
}

impl fmt::Display for MissedKill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (request, role) = (self.request, self.role);
        write!(
            f,
            "the kill of the {role} at request {request} did not happen: "
        )?;
        match self.reason {
            MissReason::NoManager => write!(f, "no live manager was {role}"),
            MissReason::StillWaiting { manager } => write!(
                f,
                "cm {manager} still waited for its peer to hold its state when the run ended"
            ),
            MissReason::Cancelled { manager, revival } => write!(
                f,
                "cm {manager} still waited for its peer to hold its state when request \
                 {revival} revived it"
            ),
        }
    }
}

/// A kill carried out: its request and what the manager knew of each page (the
/// newest version it recorded or was serving; empty when it held no state).
pub(super) struct PerformedKill {
    pub(super) request: u64,
    pub(super) knew: Vec<PageVersion>,
}

/// The kills and revivals so far; behind `Shared::kills`, the kill lock.
#[derive(Default)]
pub(super) struct KillBook {
    /// The manager the last kill of each role named (primary, backup), to revive.
    named: [Option<usize>; 2],
    /// Waiting kills (`--kill-waits`) by manager index: their request and role.
    pub(super) waiting: BTreeMap<usize, (u64, KillRole)>,
    missed: Vec<MissedKill>,
    pub(super) performed: Vec<PerformedKill>,
}

impl KillBook {
    /// The kills that did not happen, by request: those missed, and those still
    /// waiting at the end of the run.
    pub(super) fn missed(&self, first_manager: usize) -> Vec<MissedKill> {
        let waiting = self.waiting.iter().map(|(&index, &(request, role))| {
            let manager = NodeId((first_manager + index) as u32);
            let reason = MissReason::StillWaiting { manager };
            MissedKill {
                request,
                role,
                reason,
            }
        });
        let mut missed: Vec<MissedKill> = self.missed.iter().copied().chain(waiting).collect();
        missed.sort_by_key(|kill| kill.request);
        missed
    }
}

impl Shared {
    /// Whether every fault scheduled before `request_number` has been injected.
    pub(super) fn faults_ready(&self, request_number: u64) -> bool {
        if self.options.faults.is_empty() {
            return true;
        }
        let pending = self.pending_faults.lock().expect("no panics while locked");
        pending.first().is_none_or(|&first| first >= request_number)
    }

    /// Injects the faults scheduled at `request_number`, if any; returns the events
    /// to record (kills that found no manager).
    pub(super) fn inject_faults_at(&self, request_number: u64) -> Vec<RunEvent> {
        let Some(actions) = self.options.faults.get(&request_number) else {
            return Vec::new();
        };
        let mut events = Vec::new();
        {
            let mut book = self.kills.lock().expect("no panics while locked");
            for &action in actions {
                events.extend(self.inject(action, request_number, &mut book));
            }
        }
        let mut pending = self.pending_faults.lock().expect("no panics while locked");
        pending.remove(&request_number);
        events
    }

    fn manager_id(&self, index: usize) -> NodeId {
        NodeId((self.first_manager + index) as u32)
    }

    /// Decides what `action` does now. A kill crashes the manager in the role it
    /// names, marked down on the board at once (or, with `--kill-waits`, waits until
    /// its peer holds its state: its worker decides, under this same lock).
    fn inject(&self, action: FaultAction, request: u64, book: &mut KillBook) -> Option<RunEvent> {
        let (role, kill) = match action {
            FaultAction::KillPrimary => (KillRole::Primary, true),
            FaultAction::RevivePrimary => (KillRole::Primary, false),
            FaultAction::KillBackup => (KillRole::Backup, true),
            FaultAction::ReviveBackup => (KillRole::Backup, false),
        };
        let named = &mut book.named[role as usize];
        if kill {
            *named = match role {
                KillRole::Primary => self.board.primary(),
                KillRole::Backup => self.board.backup(),
            };
            let Some(index) = *named else {
                let reason = MissReason::NoManager;
                book.missed.push(MissedKill {
                    request,
                    role,
                    reason,
                });
                return Some(RunEvent::KillMissed { request, role });
            };
            if self.handling.kill_waits {
                book.waiting.entry(index).or_insert((request, role));
            } else {
                self.board.mark_down(index);
            }
            self.send_to_manager(index, Input::Crash { index, request });
        } else {
            // Nothing to revive when the kill found no manager.
            let index = named.take()?;
            if let Some((kill_request, kill_role)) = book.waiting.remove(&index) {
                let manager = self.manager_id(index);
                let reason = MissReason::Cancelled {
                    manager,
                    revival: request,
                };
                book.missed.push(MissedKill {
                    request: kill_request,
                    role: kill_role,
                    reason,
                });
            }
            if self.board.is_down(index) {
                self.board.mark_up(index);
            }
            self.send_to_manager(index, Input::Revive(index));
        }
        None
    }

    fn send_to_manager(&self, index: usize, input: Input) {
        let _ = self.senders[self.first_manager + index].send(input);
    }
}

/// What no live manager holds any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LostState {
    /// The kill that lost it.
    pub(super) request: u64,
    pub(super) missing: Missing,
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

/// After a stall: the first page whose newest version (the newest any process took
/// part in) no live manager with state knows, recorded or being served, and the last
/// kill of a manager that knew it (else the last kill); or, when every page is known,
/// the newest viewstamp processes obeyed if no live manager reaches it (it cannot
/// prove it holds what they acted on), and the last kill. `None` without kills.
pub(super) fn lost_state<M: RuntimeManager>(
    outcome: &RunOutcome<M>,
    performed: &[PerformedKill],
) -> Option<LostState> {
    let last_kill = performed.last()?;
    let holders: Vec<&M> = outcome
        .managers
        .iter()
        .filter(|(manager, down)| !down && manager.state().is_some())
        .map(|(manager, _)| manager)
        .collect();
    let pages = outcome.processes.first()?.pages().len();
    let lost_page = (0..pages).find_map(|index| {
        let page = PageId(index as u32);
        let versions = outcome.processes.iter().map(|p| p.pages()[index].version());
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
    let newest_accepted = outcome.processes.iter().map(|p| p.accepted()).max()?;
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

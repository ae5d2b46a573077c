//! Faults due when a request is issued (kills and revivals of the manager in a
//! role), and the kill book that decides each one and remembers what did not happen.
//! A driver asks [`FaultSchedule::is_ready`] before it issues a request (so that no
//! request overtakes a fault scheduled before it), hands each fault due to
//! [`KillBook::decide`] with the roles the managers hold at that moment, and carries
//! out the [`Decision`].

use super::lost::PerformedKill;
use crate::protocol::ids::NodeId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A fault to inject when a request is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Crash the manager that is primary at that moment.
    KillPrimary,
    /// Restart the manager crashed by the last `KillPrimary`.
    RevivePrimary,
    /// Crash the manager that is backup at that moment.
    KillBackup,
    /// Restart the manager crashed by the last `KillBackup`.
    ReviveBackup,
}

/// The faults of a run, by the request number at whose issue they happen, and those
/// not injected yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultSchedule {
    by_request: BTreeMap<u64, Vec<FaultAction>>,
    pending: BTreeSet<u64>,
}

impl FaultSchedule {
    /// A schedule of `faults` by request number.
    pub fn new(faults: BTreeMap<u64, Vec<FaultAction>>) -> FaultSchedule {
        let pending = faults.keys().copied().collect();
        FaultSchedule {
            by_request: faults,
            pending,
        }
    }

    /// Whether the schedule has no fault at all.
    pub fn is_empty(&self) -> bool {
        self.by_request.is_empty()
    }

    /// Whether every fault scheduled before `request` has been injected.
    pub fn is_ready(&self, request: u64) -> bool {
        self.pending.first().is_none_or(|&first| first >= request)
    }

    /// The faults due at `request`, marked injected.
    pub fn take_due(&mut self, request: u64) -> Vec<FaultAction> {
        if !self.pending.remove(&request) {
            return Vec::new();
        }
        self.by_request.get(&request).cloned().unwrap_or_default()
    }
}

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

/// The managers holding each role when a fault is due (indexes among the managers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// The live primary; mid-failover, the live manager holding the newest state.
    pub primary: Option<usize>,
    /// A live manager other than the primary.
    pub backup: Option<usize>,
}

/// What a fault due now does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Crash manager `index` now: it is down from this moment.
    Crash(usize),
    /// Crash manager `index` once its peer holds its state (waiting kills): the
    /// driver asks [`KillBook::waiting_kill`] until it may.
    Wait(usize),
    /// Restart manager `index`, blank.
    Revive(usize),
    /// The kill found no live manager in its role; it is reported, not done.
    Missed(MissedKill),
    /// Nothing (a revival whose kill found no manager).
    Nothing,
}

/// The kills and revivals so far: the one place that decides them.
#[derive(Clone, Debug)]
pub struct KillBook {
    /// The node id of manager index 0 (the managers follow the processes).
    first_manager: usize,
    /// The manager the last kill of each role named (primary, backup), to revive.
    named: [Option<usize>; 2],
    /// Waiting kills by manager index: their request and role.
    waiting: BTreeMap<usize, (u64, KillRole)>,
    missed: Vec<MissedKill>,
    performed: Vec<PerformedKill>,
}

impl KillBook {
    /// An empty book for managers whose ids start at `first_manager`.
    pub fn new(first_manager: NodeId) -> KillBook {
        KillBook {
            first_manager: first_manager.index(),
            named: [None; 2],
            waiting: BTreeMap::new(),
            missed: Vec::new(),
            performed: Vec::new(),
        }
    }

    fn manager_id(&self, index: usize) -> NodeId {
        NodeId((self.first_manager + index) as u32)
    }

    /// Decides what `action`, due at `request`, does when the managers hold `roles`:
    /// a kill names the manager in its role (crashed at once, or, if `kill_waits`,
    /// once its peer holds its state); a revival restarts the manager its role's last
    /// kill named, and cancels that kill if it still waits.
    pub fn decide(
        &mut self,
        action: FaultAction,
        request: u64,
        roles: Roles,
        kill_waits: bool,
    ) -> Decision {
        let (role, kill) = match action {
            FaultAction::KillPrimary => (KillRole::Primary, true),
            FaultAction::RevivePrimary => (KillRole::Primary, false),
            FaultAction::KillBackup => (KillRole::Backup, true),
            FaultAction::ReviveBackup => (KillRole::Backup, false),
        };
        if !kill {
            let Some(index) = self.named[role as usize].take() else {
                return Decision::Nothing;
            };
            if let Some((kill_request, kill_role)) = self.waiting.remove(&index) {
                self.missed.push(MissedKill {
                    request: kill_request,
                    role: kill_role,
                    reason: MissReason::Cancelled {
                        manager: self.manager_id(index),
                        revival: request,
                    },
                });
            }
            return Decision::Revive(index);
        }
        let named = &mut self.named[role as usize];
        *named = match role {
            KillRole::Primary => roles.primary,
            KillRole::Backup => roles.backup,
        };
        let Some(index) = *named else {
            let missed = MissedKill {
                request,
                role,
                reason: MissReason::NoManager,
            };
            self.missed.push(missed);
            return Decision::Missed(missed);
        };
        if !kill_waits {
            return Decision::Crash(index);
        }
        self.waiting.entry(index).or_insert((request, role));
        Decision::Wait(index)
    }

    /// The request of the kill of manager `index` that still waits, if any.
    pub fn waiting_kill(&self, index: usize) -> Option<u64> {
        self.waiting.get(&index).map(|&(request, _)| request)
    }

    /// The waiting kill of manager `index` happens now; returns its request.
    pub fn stop_waiting(&mut self, index: usize) -> Option<u64> {
        self.waiting.remove(&index).map(|(request, _)| request)
    }

    /// Records a kill carried out.
    pub fn performed(&mut self, kill: PerformedKill) {
        self.performed.push(kill);
    }

    /// The kills carried out, in order.
    pub fn performed_kills(&self) -> &[PerformedKill] {
        &self.performed
    }

    /// The kills that did not happen, by request: those missed, and those still
    /// waiting at the end of the run.
    pub fn missed(&self) -> Vec<MissedKill> {
        let waiting = self.waiting.iter().map(|(&index, &(request, role))| {
            let manager = self.manager_id(index);
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

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST_MANAGER: NodeId = NodeId(3);

    fn roles(primary: Option<usize>, backup: Option<usize>) -> Roles {
        Roles { primary, backup }
    }

    #[test]
    fn a_fault_waits_for_every_fault_scheduled_before_it() {
        let faults = BTreeMap::from([(5, vec![FaultAction::KillPrimary])]);
        let mut schedule = FaultSchedule::new(faults);
        assert!(schedule.is_ready(5) && !schedule.is_ready(6));
        assert_eq!(schedule.take_due(4), vec![]);
        assert_eq!(schedule.take_due(5), vec![FaultAction::KillPrimary]);
        assert_eq!(schedule.take_due(5), vec![], "injected once");
        assert!(schedule.is_ready(6));
    }

    #[test]
    fn a_kill_names_the_manager_in_its_role_and_a_revival_restarts_it() {
        let mut book = KillBook::new(FIRST_MANAGER);
        let now = roles(Some(1), Some(0));
        assert_eq!(
            book.decide(FaultAction::KillPrimary, 10, now, false),
            Decision::Crash(1)
        );
        let after = roles(Some(0), None);
        assert_eq!(
            book.decide(FaultAction::RevivePrimary, 20, after, false),
            Decision::Revive(1)
        );
        assert_eq!(
            book.decide(FaultAction::RevivePrimary, 30, after, false),
            Decision::Nothing
        );
        assert!(book.missed().is_empty());
    }

    #[test]
    fn a_kill_without_a_manager_in_its_role_is_reported_missed() {
        let mut book = KillBook::new(FIRST_MANAGER);
        let decision = book.decide(FaultAction::KillBackup, 7, roles(Some(0), None), false);
        let missed = MissedKill {
            request: 7,
            role: KillRole::Backup,
            reason: MissReason::NoManager,
        };
        assert_eq!(decision, Decision::Missed(missed));
        let revival = book.decide(FaultAction::ReviveBackup, 9, roles(Some(0), None), false);
        assert_eq!(revival, Decision::Nothing, "nothing to revive");
        assert_eq!(book.missed(), vec![missed]);
    }

    #[test]
    fn a_waiting_kill_happens_once_or_is_cancelled_by_its_revival() {
        let mut book = KillBook::new(FIRST_MANAGER);
        let both = roles(Some(0), Some(1));
        assert_eq!(
            book.decide(FaultAction::KillPrimary, 4, both, true),
            Decision::Wait(0)
        );
        assert_eq!(book.waiting_kill(0), Some(4));
        assert_eq!(book.stop_waiting(0), Some(4));
        assert_eq!(book.waiting_kill(0), None);
        assert_eq!(
            book.decide(FaultAction::KillBackup, 6, both, true),
            Decision::Wait(1)
        );
        assert_eq!(
            book.decide(FaultAction::ReviveBackup, 8, both, true),
            Decision::Revive(1)
        );
        let cancelled = MissReason::Cancelled {
            manager: NodeId(4),
            revival: 8,
        };
        assert_eq!(book.missed()[0].reason, cancelled);
        assert_eq!(
            book.decide(FaultAction::KillBackup, 9, both, true),
            Decision::Wait(1)
        );
        let still = MissReason::StillWaiting { manager: NodeId(4) };
        assert_eq!(book.missed()[1].reason, still, "still waiting at the end");
    }
}

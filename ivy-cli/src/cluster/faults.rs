//! The kills and revivals of an `ivy cluster ft` run, as real OS-process events: a kill
//! is SIGKILL to the manager's process (its state is gone with it), a revival starts a
//! fresh, blank process with that id, which rejoins by snapshot. They happen when the
//! request they name is issued: every process holds before issuing a scheduled request
//! until the launcher has injected its faults, as the threaded runtime does. Who is
//! primary comes from the managers' reported events; the decisions themselves are the
//! driver kit's (`KillBook`), shared with the threaded runtime.

use super::children::Children;
use crate::error::CliError;
use ivy_core::driver::{
    Decision, FaultAction, FaultSchedule, KillBook, MissedKill, Roles, RunEvent,
};
use ivy_core::{NodeEvent, NodeId, View};
use std::collections::BTreeMap;

/// The faults still to inject and the managers' state as the launcher knows it.
pub struct Faults {
    schedule: FaultSchedule,
    requests: Vec<u64>,
    book: KillBook,
    managers: Vec<NodeId>,
    down: Vec<bool>,
    /// The index of the manager that last became primary, and the view it leads.
    primary: usize,
    primary_view: View,
    /// Kills that found no manager in their role.
    pub missed: Vec<MissedKill>,
    /// Kills carried out.
    kills: usize,
}

impl Faults {
    /// `faults` by request number, for `managers` (the primary of view 0 first).
    pub fn new(faults: BTreeMap<u64, Vec<FaultAction>>, managers: Vec<NodeId>) -> Faults {
        let requests = faults.keys().copied().collect();
        let down = vec![false; managers.len()];
        Faults {
            schedule: FaultSchedule::new(faults),
            requests,
            book: KillBook::new(managers[0]),
            managers,
            down,
            primary: 0,
            primary_view: View(0),
            missed: Vec::new(),
            kills: 0,
        }
    }

    /// Whether every fault scheduled before `request` has been injected.
    pub fn is_ready(&self, request: u64) -> bool {
        self.schedule.is_ready(request)
    }

    /// The requests processes must hold before issuing.
    pub fn requests(&self) -> Vec<u64> {
        self.requests.clone()
    }

    /// Follows the managers' roles: a promoted manager is the primary.
    pub fn note(&mut self, event: &NodeEvent) {
        if let NodeEvent::Promoted { manager, view } = event {
            if let Some(index) = self.managers.iter().position(|id| id == manager) {
                (self.primary, self.primary_view) = (index, *view);
            }
        }
    }

    /// The view the primary leads, as far as the launcher has heard.
    pub fn primary_view(&self) -> View {
        self.primary_view
    }

    /// The managers running now.
    pub fn live(&self) -> Vec<NodeId> {
        let live = self
            .managers
            .iter()
            .zip(&self.down)
            .filter(|(_, down)| !**down);
        live.map(|(id, _)| *id).collect()
    }

    /// Whether a kill has happened.
    pub fn has_killed(&self) -> bool {
        self.kills > 0
    }

    /// Whether manager `id` is down (killed and not revived).
    pub fn is_down(&self, id: NodeId) -> bool {
        let index = self.managers.iter().position(|manager| *manager == id);
        index.is_some_and(|index| self.down[index])
    }

    /// Injects the faults due at `request` (being issued now); returns what happened,
    /// for the trace.
    pub fn inject(
        &mut self,
        request: u64,
        children: &mut Children,
    ) -> Result<Vec<(NodeId, RunEvent)>, CliError> {
        let mut events = Vec::new();
        for action in self.schedule.take_due(request) {
            let roles = self.roles();
            match self.book.decide(action, request, roles, false) {
                Decision::Crash(index) | Decision::Wait(index) => {
                    let manager = self.managers[index];
                    children.kill(manager);
                    self.down[index] = true;
                    self.kills += 1;
                    let was_primary = roles.primary == Some(index);
                    events.push((
                        manager,
                        RunEvent::Killed {
                            manager,
                            was_primary,
                        },
                    ));
                }
                Decision::Revive(index) => {
                    let manager = self.managers[index];
                    children.spawn(manager)?;
                    self.down[index] = false;
                    events.push((manager, RunEvent::Revived { manager }));
                }
                Decision::Missed(missed) => {
                    let (request, role) = (missed.request, missed.role);
                    events.push((self.managers[0], RunEvent::KillMissed { request, role }));
                    self.missed.push(missed);
                }
                Decision::Nothing => {}
            }
        }
        Ok(events)
    }

    /// The live primary (or, with it down, the live manager left) and the other one.
    fn roles(&self) -> Roles {
        let live = |index: usize| (!self.down[index]).then_some(index);
        let other = |index: usize| (0..self.managers.len()).find(|&o| o != index && !self.down[o]);
        let primary = live(self.primary).or_else(|| other(self.primary));
        let backup = primary.and_then(other);
        Roles { primary, backup }
    }
}

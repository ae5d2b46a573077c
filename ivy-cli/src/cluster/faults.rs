//! The kills and revivals of an `ivy cluster ft` run, as real OS-process events: a kill
//! is SIGKILL to the manager's process (its state is gone with it), a revival starts a
//! fresh, blank process with that id, which rejoins by snapshot. With `--netns`, a cut
//! takes the primary's network link down (it keeps running, unreachable) and a restore
//! brings the last cut link back. They happen when the request they name is issued:
//! every process holds before issuing a scheduled request until the launcher has
//! injected its faults, as the threaded runtime does. Who is primary comes from the
//! managers' reported events; the decisions on kills are the driver kit's (`KillBook`),
//! shared with the threaded runtime.

use super::children::Children;
use crate::args::ClusterFtArgs;
use crate::error::CliError;
use ivy_core::driver::{Decision, FaultAction, FaultSchedule, KillBook, Roles, RunEvent};
use ivy_core::{NodeEvent, NodeId, View};
use std::collections::{BTreeMap, BTreeSet};

/// A change to a manager's network link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Take the link of the manager that is primary down.
    CutPrimary,
    /// Bring the link the last `CutPrimary` took down back up.
    Restore,
}

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
    /// Link changes by request number, and the requests whose changes are not made.
    links: BTreeMap<u64, Vec<LinkAction>>,
    links_pending: BTreeSet<u64>,
    /// The managers whose link is down, the last cut last.
    cut: Vec<usize>,
    /// Faults that found no manager to act on, one line each.
    pub missed: Vec<String>,
    /// The requests at which kills were carried out, in order.
    kills: Vec<u64>,
}

impl Faults {
    /// `faults` and `links` by request number, for `managers` (the primary of view 0
    /// first).
    pub fn new(
        faults: BTreeMap<u64, Vec<FaultAction>>,
        links: BTreeMap<u64, Vec<LinkAction>>,
        managers: Vec<NodeId>,
    ) -> Faults {
        let links_pending: BTreeSet<u64> = links.keys().copied().collect();
        let requests = faults.keys().chain(&links_pending).copied();
        let requests = requests.collect::<BTreeSet<u64>>().into_iter().collect();
        let down = vec![false; managers.len()];
        Faults {
            schedule: FaultSchedule::new(faults),
            requests,
            book: KillBook::new(managers[0]),
            managers,
            down,
            primary: 0,
            primary_view: View(0),
            links,
            links_pending,
            cut: Vec::new(),
            missed: Vec::new(),
            kills: Vec::new(),
        }
    }

    /// Whether every fault scheduled before `request` has been injected.
    pub fn is_ready(&self, request: u64) -> bool {
        let links_ready = self
            .links_pending
            .first()
            .is_none_or(|&first| first >= request);
        self.schedule.is_ready(request) && links_ready
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
        !self.kills.is_empty()
    }

    /// The requests at which kills were carried out, in order.
    pub fn kill_requests(&self) -> &[u64] {
        &self.kills
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
                    self.kills.push(request);
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
                    self.missed.push(missed.to_string());
                }
                Decision::Nothing => {}
            }
        }
        self.links_pending.remove(&request);
        for action in self.links.remove(&request).unwrap_or_default() {
            events.extend(self.change_link(action, request, children)?);
        }
        Ok(events)
    }

    /// Cuts the primary's link or restores the last one cut.
    fn change_link(
        &mut self,
        action: LinkAction,
        request: u64,
        children: &Children,
    ) -> Result<Option<(NodeId, RunEvent)>, CliError> {
        let namespaces = children.namespaces().ok_or_else(|| {
            CliError::Usage("cutting a link needs --netns (a namespace per node)".into())
        })?;
        let roles = self.roles();
        match action {
            LinkAction::CutPrimary => {
                let Some(index) = roles.primary else {
                    let line = format!(
                        "cut of the primary at request {request} not done: no live manager"
                    );
                    self.missed.push(line);
                    return Ok(None);
                };
                let manager = self.managers[index];
                namespaces.cut(manager)?;
                self.cut.push(index);
                // As for kills: the primary if it is the one the managers last promoted
                // (with that one down, the other may not have taken over yet).
                let was_primary = index == self.primary && !self.down[index];
                Ok(Some((
                    manager,
                    RunEvent::LinkCut {
                        manager,
                        was_primary,
                    },
                )))
            }
            LinkAction::Restore => {
                let Some(index) = self.cut.pop() else {
                    let line = format!("restore at request {request} not done: no link is down");
                    self.missed.push(line);
                    return Ok(None);
                };
                let manager = self.managers[index];
                namespaces.restore(manager)?;
                Ok(Some((manager, RunEvent::LinkRestored { manager })))
            }
        }
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

/// The link changes `--cut-primary-at` and `--restore-link-at` ask for, by request:
/// each within the run, only with `--netns`, and every cut restored at a later request
/// (a run ends with every link up, so that the managers can settle together).
pub fn link_schedule(
    args: &ClusterFtArgs,
    netns: bool,
) -> Result<BTreeMap<u64, Vec<LinkAction>>, CliError> {
    let usage = |message: String| Err(CliError::Usage(message));
    let options = [
        (
            "--cut-primary-at",
            &args.cut_primary_at,
            LinkAction::CutPrimary,
        ),
        (
            "--restore-link-at",
            &args.restore_link_at,
            LinkAction::Restore,
        ),
    ];
    if !netns {
        if let Some((name, ..)) = options.iter().find(|(_, requests, _)| !requests.is_empty()) {
            return usage(format!("{name} needs --netns (a link of its own per node)"));
        }
    }
    let schedule = crate::ft::by_request(options, args.ft.run.requests)?;
    let mut down = 0usize;
    for (&request, actions) in &schedule {
        // A restore undoes a cut made at an earlier request.
        let cuts = actions
            .iter()
            .filter(|&&a| a == LinkAction::CutPrimary)
            .count();
        let restores = actions.len() - cuts;
        if restores > down {
            return usage(format!(
                "--restore-link-at {request} has no earlier --cut-primary-at to undo"
            ));
        }
        down = down + cuts - restores;
    }
    if down > 0 {
        return usage(
            "every --cut-primary-at needs a later --restore-link-at (a run ends with every link up)"
                .to_string(),
        );
    }
    Ok(schedule)
}

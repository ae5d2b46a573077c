//! Crashing, pausing and reviving managers, at any step and with no filter, and
//! noticing when no live manager holds the state processes acted on, and whether
//! that lasts (see [`crate::checks::held_state`]).

use super::check::StateMark;
use super::{ManagerStatus, ScriptedFault};
use super::{SimEvent, Simulation, SimulationError, SimulationFailure};
use crate::checks::history::check_linearizable;
use crate::checks::process_view::ProcessView;
use crate::protocol::manager::ManagerNode;
use crate::protocol::process_node::ProcessNode;
use crate::replication::LogPosition;
use rand::Rng;

/// Steps beyond the longest outage that state may stay unheld by any live manager
/// before the run is a loss for good (see [`Simulation::lost_grace_steps`]).
const LOST_GRACE_MARGIN_STEPS: u64 = 2_000;

/// A crash this soon after the manager's revival counts as a crash "again".
const REVIVED_LATELY_STEPS: u64 = 300;

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    /// How many steps state may stay unheld by any live manager before the run is a
    /// loss for good. Meanwhile the history must stay linearizable (no manager acts
    /// on the stale state it has left), and a replication or snapshot still in
    /// flight may arrive and end the spell: to a paused manager it arrives when the
    /// pause ends, so the grace period outlasts two outages and a margin for
    /// delivery (the longest spell that ended in a 20,000-seed sweep was 1,038
    /// steps).
    pub(super) fn lost_grace_steps(&self) -> u64 {
        2 * self.options.faults.outage_steps + LOST_GRACE_MARGIN_STEPS
    }

    /// Crashes or pauses a random manager, now and then.
    pub(super) fn inject_outage(&mut self) {
        let faults = self.options.faults;
        if self.managers.len() < 2 {
            return;
        }
        if faults.partition_per_mille > 0 && self.rng.random_ratio(faults.partition_per_mille, 1000)
        {
            let steps = self.rng.random_range(1..=faults.outage_steps.max(1));
            self.managers_apart_until_step = self.step + steps;
            self.report
                .events
                .push((self.step, SimEvent::ManagersApart));
            self.log_step(|| format!("managers apart for {steps} steps"));
        }
        let crash = self.rng.random_ratio(faults.crash_per_mille, 1000);
        let pause = !crash && self.rng.random_ratio(faults.pause_per_mille, 1000);
        if !(crash || pause) {
            return;
        }
        let index = self.rng.random_range(0..self.managers.len());
        let steps = self.rng.random_range(1..=faults.outage_steps.max(1));
        let fault = if crash {
            ScriptedFault::Crash {
                index,
                down_steps: steps,
            }
        } else {
            ScriptedFault::Pause { index, steps }
        };
        self.inject_scripted(fault);
    }

    /// Crashes a manager, or its peer, at the step its phase changed, now and then.
    pub(super) fn crash_at_transitions(&mut self) {
        let per_mille = self.options.faults.transition_crash_per_mille;
        for index in 0..self.managers.len() {
            let phase = self.managers[index].phase();
            let changed = std::mem::replace(&mut self.phases[index], phase) != phase;
            let down = matches!(self.status[index], ManagerStatus::Down { .. });
            if !changed || down || !self.rng.random_ratio(per_mille, 1000) {
                continue;
            }
            let victim = if self.rng.random_bool(0.5) {
                index
            } else {
                (index + 1) % self.managers.len()
            };
            let down_steps = self
                .rng
                .random_range(1..=self.options.faults.outage_steps.max(1));
            self.inject_scripted(ScriptedFault::Crash {
                index: victim,
                down_steps,
            });
        }
    }

    /// Crashes a manager that is not down (running or paused: a crash does not wait
    /// for a good moment), or pauses a running one.
    pub(super) fn inject_scripted(&mut self, fault: ScriptedFault) {
        let (index, steps) = match fault {
            ScriptedFault::Crash { index, down_steps } => (index, down_steps),
            ScriptedFault::Pause { index, steps } => (index, steps),
        };
        if index >= self.managers.len() || self.managers.len() < 2 {
            return;
        }
        let until_step = self.step.saturating_add(steps.max(1));
        match fault {
            ScriptedFault::Pause { .. } => self.pause_until(index, until_step),
            ScriptedFault::Crash { .. } => self.crash_until(index, until_step),
        }
    }

    /// Pauses manager `index` until `until_step`, if it is running.
    pub(super) fn pause_until(&mut self, index: usize, until_step: u64) {
        if self.status[index] != ManagerStatus::Up {
            return;
        }
        let id = self.managers[index].id();
        self.status[index] = ManagerStatus::Paused { until_step };
        self.report.events.push((self.step, SimEvent::Paused(id)));
        self.log_step(|| format!("paused {id}"));
    }

    /// Crashes manager `index` (running or paused) until `until_step`: it restarts
    /// blank, as a new incarnation, when it comes back.
    pub(super) fn crash_until(&mut self, index: usize, until_step: u64) {
        if matches!(self.status[index], ManagerStatus::Down { .. }) {
            return;
        }
        let id = self.managers[index].id();
        let situation = self.crash_situation(index);
        *self.report.crash_situations.entry(situation).or_default() += 1;
        self.managers[index] = self.managers[index].crashed();
        self.status[index] = ManagerStatus::Down { until_step };
        self.report.events.push((self.step, SimEvent::Crashed(id)));
        self.log_step(|| format!("crashed {id}"));
    }

    /// How the crash of manager `index` happens: its phase and its peer's, whether
    /// either is paused or down, and whether it was revived only lately.
    fn crash_situation(&self, index: usize) -> String {
        let describe = |other: usize| match self.status[other] {
            ManagerStatus::Down { .. } => "down".to_string(),
            ManagerStatus::Paused { .. } => format!("paused {}", self.managers[other].phase()),
            ManagerStatus::Up => self.managers[other].phase().to_string(),
        };
        let peers: Vec<String> = (0..self.managers.len())
            .filter(|&other| other != index)
            .map(describe)
            .collect();
        let id = self.managers[index].id();
        let revived_lately = self.report.events.iter().rev().any(|&(step, event)| {
            event == SimEvent::Revived(id) && step + REVIVED_LATELY_STEPS >= self.step
        });
        let again = if revived_lately {
            ", revived lately"
        } else {
            ""
        };
        format!("{}{again} | peer {}", describe(index), peers.join(", "))
    }

    pub(super) fn end_outages(&mut self) {
        for index in 0..self.status.len() {
            match self.status[index] {
                ManagerStatus::Paused { until_step } | ManagerStatus::Down { until_step }
                    if until_step <= self.step =>
                {
                    self.bring_up(index)
                }
                _ => {}
            }
        }
    }

    /// Ends manager `index`'s outage now: a paused manager resumes, a crashed one
    /// restarts (blank).
    pub(super) fn bring_up(&mut self, index: usize) {
        let id = self.managers[index].id();
        let (event, verb) = match self.status[index] {
            ManagerStatus::Up => return,
            ManagerStatus::Paused { .. } => (SimEvent::Resumed(id), "resumed"),
            ManagerStatus::Down { .. } => (SimEvent::Revived(id), "revived"),
        };
        self.status[index] = ManagerStatus::Up;
        self.report.events.push((self.step, event));
        self.log_step(|| format!("{verb} {id}"));
    }

    /// Decides, after every step, whether some manager that is not down holds every
    /// transaction processes have answered. The first step at which none does starts
    /// a spell of unheld state; a later step at which one does again (a replication
    /// or snapshot that was still in flight has arrived) ends it, and the per-step
    /// checks resume. A spell that lasts [`Simulation::lost_grace_steps`] is a loss
    /// for good.
    pub(super) fn update_held_state(&mut self) {
        if self.managers.len() < 2 {
            return;
        }
        let newest_accepted = self.processes.iter().map(ProcessView::obeyed).max();
        let newest_accepted = newest_accepted.unwrap_or(LogPosition::ZERO);
        let inputs = HeldStateInputs {
            acted_on: self.acted_on.revision(),
            newest_accepted,
            managers: (0..self.managers.len())
                .map(|index| {
                    let down = matches!(self.status[index], ManagerStatus::Down { .. });
                    (down, self.state_mark(index))
                })
                .collect(),
        };
        if self.held_state_inputs.as_ref() == Some(&inputs) {
            return; // nothing the judgement reads has moved
        }
        self.held_state_inputs = Some(inputs);
        let mut missing = None;
        for (manager, status) in self.managers.iter().zip(&self.status) {
            if matches!(status, ManagerStatus::Down { .. }) {
                continue;
            }
            let (Some(last), Some(state)) = (manager.reach(), manager.state()) else {
                continue;
            };
            match self.acted_on.first_unheld(state, last, newest_accepted) {
                None => {
                    if self.lost.take().is_some() {
                        self.report
                            .events
                            .push((self.step, SimEvent::StateHeldAgain));
                        self.log_step(|| "state held again".into());
                        self.authority = None; // the next check covers every page
                    }
                    return;
                }
                Some(unheld) => missing = Some(unheld.to_string()),
            }
        }
        if self.lost.is_some() {
            return;
        }
        let missing = missing.unwrap_or_else(|| "any state (every manager is blank)".into());
        self.report.events.push((self.step, SimEvent::StateUnheld));
        self.log_step(|| format!("no live manager holds {missing}"));
        self.lost = Some((self.step, missing));
        self.steps_before_loss = self.step_log.iter().cloned().collect();
    }

    /// The run cannot complete because state was lost: after the history so far is
    /// checked, the failure that says so.
    pub(super) fn state_lost(&self) -> Option<SimulationError> {
        let (lost_at_step, missing) = self.lost.clone()?;
        if let Err(violation) = check_linearizable(&self.report.history) {
            return Some(self.failure(SimulationFailure::History(violation)));
        }
        let mut error = self.failure(SimulationFailure::StateLost {
            lost_at_step,
            missing,
        });
        error.steps_before = self.steps_before_loss.clone();
        Some(error)
    }
}

/// What the held-state oracle reads: what processes acted on and accepted, and each
/// manager's liveness and state mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct HeldStateInputs {
    acted_on: u64,
    newest_accepted: LogPosition,
    managers: Vec<(bool, StateMark)>,
}

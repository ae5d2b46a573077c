//! Crashing, pausing and reviving managers, at any step and with no filter, and
//! noticing when crashes have lost state for good (see [`crate::held_state`]).

use super::{ManagerStatus, ScriptedFault};
use super::{SimEvent, SimManager, Simulation, SimulationError, SimulationFailure};
use crate::history::check_linearizable;
use rand::Rng;

/// How many steps the simulator runs on after state is lost, checking that the
/// history stays linearizable (no manager acts on the stale state it has left).
pub(super) const LOST_GRACE_STEPS: u64 = 20_000;

impl<M: SimManager> Simulation<M> {
    /// Crashes or pauses a random manager, now and then.
    pub(super) fn inject_outage(&mut self) {
        let faults = self.options.faults;
        if self.managers.len() < 2 {
            return;
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
        let until_step = self.step + steps.max(1);
        let id = self.managers[index].id();
        match (fault, self.status[index]) {
            (ScriptedFault::Pause { .. }, ManagerStatus::Up) => {
                self.status[index] = ManagerStatus::Paused { until_step };
                self.report.events.push((self.step, SimEvent::Paused(id)));
                self.log_step(|| format!("paused {id}"));
            }
            (ScriptedFault::Crash { .. }, ManagerStatus::Up | ManagerStatus::Paused { .. }) => {
                self.managers[index] = self.managers[index].crashed();
                self.status[index] = ManagerStatus::Down { until_step };
                self.report.events.push((self.step, SimEvent::Crashed(id)));
                self.log_step(|| format!("crashed {id}"));
            }
            _ => {}
        }
    }

    pub(super) fn end_outages(&mut self) {
        for index in 0..self.status.len() {
            let id = self.managers[index].id();
            match self.status[index] {
                ManagerStatus::Paused { until_step } if until_step <= self.step => {
                    self.status[index] = ManagerStatus::Up;
                    self.report.events.push((self.step, SimEvent::Resumed(id)));
                    self.log_step(|| format!("resumed {id}"));
                }
                ManagerStatus::Down { until_step } if until_step <= self.step => {
                    self.status[index] = ManagerStatus::Up;
                    self.report.events.push((self.step, SimEvent::Revived(id)));
                    self.log_step(|| format!("revived {id}"));
                }
                _ => {}
            }
        }
    }

    /// Notices the first step after which no manager that is not down holds every
    /// transaction processes have answered. Lost state stays lost.
    pub(super) fn notice_lost_state(&mut self) {
        if self.lost.is_some() || self.managers.len() < 2 {
            return;
        }
        let mut missing = None;
        for (manager, status) in self.managers.iter().zip(&self.status) {
            if matches!(status, ManagerStatus::Down { .. }) || manager.authority().is_none() {
                continue;
            }
            match self.acted_on.first_unheld_page(manager) {
                None => return,
                Some(unheld) => missing = Some(unheld.to_string()),
            }
        }
        let missing = missing.unwrap_or_else(|| "any state (every manager is blank)".into());
        self.log_step(|| format!("state lost: no live manager holds {missing}"));
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

//! The passage of simulated time: a tick while other things may happen, or a jump to
//! the earliest deadline of a running node when nothing else can (never past a time
//! a hand-driven test asked to be woken at), firing every timer then due.

use super::{ManagerStatus, Simulation};
use crate::protocol::manager::ManagerNode;
use crate::protocol::process_node::ProcessNode;

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    /// Lets time pass: one tick while other things may happen, or, when nothing else
    /// can (`idle`), a jump straight to the earliest deadline of a live node. Then
    /// fires every timer due, and returns how many fired.
    pub(super) fn pass_time(&mut self, idle: bool) -> usize {
        let next_tick = self.now_ticks + 1;
        let deadline = match self.wake_at_ticks.filter(|&wake| wake >= next_tick) {
            Some(wake) => Some(self.earliest_deadline().map_or(wake, |d| d.min(wake))),
            None => self.earliest_deadline(),
        };
        self.now_ticks = match deadline {
            Some(deadline) if idle && deadline > next_tick => {
                self.report.time_jumps += 1;
                deadline
            }
            _ => next_tick,
        };
        let now_ticks = self.now_ticks;
        let mut fired = 0;
        for process in &mut self.processes {
            fired += process.handle_due_timers(now_ticks, &mut self.outbox);
        }
        for (manager, status) in self.managers.iter_mut().zip(&self.status) {
            if *status == ManagerStatus::Up {
                fired += manager.handle_due_timers(now_ticks, &mut self.outbox);
            }
        }
        self.report.timer_firings += fired as u64;
        fired
    }

    /// The earliest deadline of a process or a running manager.
    fn earliest_deadline(&self) -> Option<u64> {
        let processes = self.processes.iter().filter_map(|p| p.next_deadline());
        let processes = processes.map(|deadline| deadline.at_ticks);
        let running = self.managers.iter().zip(&self.status);
        let managers = running
            .filter(|(_, status)| **status == ManagerStatus::Up)
            .filter_map(|(manager, _)| manager.next_deadline())
            .map(|deadline| deadline.at_ticks);
        processes.chain(managers).min()
    }
}

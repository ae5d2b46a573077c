//! Delivering in-flight messages: which can arrive now (a paused manager's wait), the
//! loss and duplication of a faulty network, and handing a message to its node.

use super::check::Touched;
use super::{ManagerStatus, Simulation, STEP_LOG_LENGTH};
use crate::protocol::ids::NodeId;
use crate::protocol::manager::ManagerNode;
use crate::protocol::message::Envelope;
use crate::protocol::process_node::ProcessNode;
use crate::protocol::trace::TraceRecord;
use rand::Rng;

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    pub(super) fn deliverable_count(&self) -> usize {
        let apart = self.step < self.managers_apart_until_step;
        if !apart && self.status.iter().all(|&s| s == ManagerStatus::Up) {
            return self.in_flight.len();
        }
        self.in_flight
            .iter()
            .filter(|envelope| self.can_deliver(envelope))
            .count()
    }

    /// Whether `envelope` can arrive now: not to a paused manager, nor from one
    /// manager to the other while they are apart.
    pub(super) fn can_deliver(&self, envelope: &Envelope) -> bool {
        let between_managers = self.manager_index(envelope.from).is_some()
            && self.manager_index(envelope.to).is_some();
        if between_managers && self.step < self.managers_apart_until_step {
            return false;
        }
        match self.manager_index(envelope.to) {
            Some(index) => !matches!(self.status[index], ManagerStatus::Paused { .. }),
            None => true,
        }
    }

    pub(super) fn manager_index(&self, node: NodeId) -> Option<usize> {
        let first = self.processes.len();
        (node.index() >= first).then(|| node.index() - first)
    }

    /// Delivers the `n`th of the `deliverable` messages (or loses it, or duplicates it).
    pub(super) fn deliver_nth(&mut self, n: usize, deliverable: usize, faulty: bool) -> Touched {
        let position = if self.in_flight.len() == deliverable {
            n
        } else {
            let mut receivable =
                (0..self.in_flight.len()).filter(|&index| self.can_deliver(&self.in_flight[index]));
            receivable.nth(n).expect("n counts deliverable messages")
        };
        let envelope = self.in_flight.swap_remove(position);
        self.arrive(envelope, faulty)
    }

    /// Hands `envelope`, taken off the network, to its node: lost if that is a crashed
    /// manager; when `faulty`, perhaps lost or duplicated by the network.
    pub(super) fn arrive(&mut self, envelope: Envelope, faulty: bool) -> Touched {
        let faults = self.options.faults;
        let to_down = self
            .manager_index(envelope.to)
            .is_some_and(|index| matches!(self.status[index], ManagerStatus::Down { .. }));
        if to_down || (faulty && self.rng.random_ratio(faults.drop_per_mille, 1000)) {
            self.report.dropped += 1;
            self.log_step(|| format!("dropped {envelope:?}"));
            return Touched::Nothing;
        }
        if faulty && self.rng.random_ratio(faults.duplicate_per_mille, 1000) {
            self.report.duplicated += 1;
            self.in_flight.push(envelope.clone());
        }
        self.deliver(envelope)
    }

    pub(super) fn log_step(&mut self, line: impl FnOnce() -> String) {
        if self.options.record_trace {
            if self.step_log.len() == STEP_LOG_LENGTH {
                self.step_log.pop_front();
            }
            let line = format!("{} t{}: {}", self.step, self.now_ticks, line());
            self.step_log.push_back(line);
        }
    }

    /// Delivers `envelope` and says what it may have changed: its page; for a message
    /// without one, nothing when its receiver is a manager other than the authority
    /// (whose state the per-step check does not read), the authority's state as it
    /// was when the authority receives it, and else every page.
    pub(super) fn deliver(&mut self, envelope: Envelope) -> Touched {
        let page = envelope.message.page();
        let receiver = self.manager_index(envelope.to);
        let touched = match (page, receiver) {
            (Some(page), _) => Touched::Page(page),
            (None, Some(_)) if receiver != self.authority => Touched::Nothing,
            (None, Some(index)) => Touched::Authority(self.state_mark(index)),
            (None, None) => Touched::Everything,
        };
        if self.options.record_trace {
            self.report.trace.push(TraceRecord::of(&envelope));
            self.log_step(|| format!("{envelope:?}"));
        }
        self.report.messages += 1;
        let now_ticks = self.now_ticks;
        match receiver {
            Some(index) => {
                let manager = &mut self.managers[index];
                manager.handle_message(envelope, now_ticks, &mut self.outbox);
                manager.handle_idle(now_ticks, &mut self.outbox);
            }
            None => self.processes[envelope.to.index()].handle_message(
                envelope,
                now_ticks,
                &mut self.outbox,
            ),
        }
        touched
    }
}

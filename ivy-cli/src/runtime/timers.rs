//! A worker's timers: each hosted node's next deadline, kept per slot and refreshed
//! whenever the node handled something (every handler call ends in `route`, and a
//! crash or revival refreshes its slot), so that neither firing due timers nor
//! choosing how long to sleep asks every node again on every loop turn.

use super::worker::{Hosted, Worker};
use super::RuntimeManager;
use ivy_core::Node;
use std::time::{Duration, Instant};

impl<M: RuntimeManager> Worker<M> {
    /// Reads the clock (a tick is a millisecond since the start), and fires every
    /// due timer of a hosted live node.
    pub(super) fn fire_due_timers(&mut self) {
        self.now_ticks = self.shared.now_ns() / 1_000_000;
        let now_ticks = self.now_ticks;
        for slot in 0..self.hosted.len() {
            if self.deadlines[slot].is_none_or(|at_ticks| at_ticks > now_ticks) {
                continue;
            }
            let fired = match &mut self.hosted[slot] {
                Hosted::Process(process) => {
                    let node = &mut process.client.process;
                    node.handle_due_timers(now_ticks, &mut self.outbox)
                }
                Hosted::Manager(manager) => {
                    manager.node.handle_due_timers(now_ticks, &mut self.outbox)
                }
            };
            self.counts.timer_firings += fired as u64;
            self.route(slot);
        }
    }

    /// Notes when the node in `slot` next needs to be woken (never, if it is a
    /// crashed manager).
    pub(super) fn refresh_deadline(&mut self, slot: usize) {
        let deadline = match &self.hosted[slot] {
            Hosted::Process(process) => process.client.process.next_deadline().map(|d| d.at_ticks),
            Hosted::Manager(manager) if !manager.down => {
                manager.node.next_deadline().map(|d| d.at_ticks)
            }
            Hosted::Manager(_) => None,
        };
        self.deadlines[slot] = deadline;
    }

    /// When the earliest timer of a hosted live node is due, if any is set.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let earliest = self.deadlines.iter().flatten().min()?;
        let start = *self.shared.start.get().expect("started");
        Some(start + Duration::from_millis(*earliest))
    }
}

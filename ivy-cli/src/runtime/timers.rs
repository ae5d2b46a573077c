//! A worker's timers: each hosted node's next deadline, kept per slot. A slot is
//! marked stale whenever its node handled something (every handler call ends in
//! `route`; a crash or revival marks it too), and a stale slot asks its node again at
//! most once per loop turn, when timers are fired or the worker chooses how long to
//! sleep; a slot whose node did nothing keeps its answer.

use super::worker::{Hosted, Worker};
use super::RuntimeManager;
use ivy_core::ProcessNode;
use std::time::{Duration, Instant};

impl<M: RuntimeManager, P: ProcessNode> Worker<M, P> {
    /// Reads the clock (a tick is a millisecond since the start), and fires every
    /// due timer of a hosted live node.
    pub(super) fn fire_due_timers(&mut self) {
        self.now_ticks = self.shared.now_ns() / 1_000_000;
        let now_ticks = self.now_ticks;
        self.refresh_stale_deadlines();
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

    /// Notes that the node in `slot` may have changed its next deadline.
    pub(super) fn deadline_may_have_moved(&mut self, slot: usize) {
        self.stale_deadlines[slot] = true;
    }

    /// Asks every node whose deadline may have moved when it next needs to be woken
    /// (never, if it is a crashed manager).
    fn refresh_stale_deadlines(&mut self) {
        for slot in 0..self.hosted.len() {
            if !std::mem::take(&mut self.stale_deadlines[slot]) {
                continue;
            }
            self.deadlines[slot] = match &self.hosted[slot] {
                Hosted::Process(process) => {
                    let deadline = process.client.process.next_deadline();
                    deadline.map(|deadline| deadline.at_ticks)
                }
                Hosted::Manager(manager) if !manager.down => {
                    manager.node.next_deadline().map(|d| d.at_ticks)
                }
                Hosted::Manager(_) => None,
            };
        }
    }

    /// When the earliest timer of a hosted live node is due, if any is set.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        self.refresh_stale_deadlines();
        let earliest = self.deadlines.iter().flatten().min()?;
        let start = *self.shared.start.get().expect("started");
        Some(start + Duration::from_millis(*earliest))
    }
}

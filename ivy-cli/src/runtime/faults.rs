//! Scheduled faults on threads: the kill book of the driver kit, behind the kill
//! lock, decides each kill and revival when its request is issued, with the roles
//! the board shows at that moment; this file carries the decision to the manager's
//! worker. The failover clocks are shared the same way.

use super::{Input, Shared};
use ivy_core::driver::RunEvent;
use ivy_core::driver::{Decision, FailoverClocks, Roles};
use ivy_core::View;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

impl Shared {
    /// Whether every fault scheduled before `request_number` has been injected.
    pub(super) fn faults_ready(&self, request_number: u64) -> bool {
        if !self.has_faults {
            return true;
        }
        let schedule = self.schedule.lock().expect("no panics while locked");
        schedule.is_ready(request_number)
    }

    /// Injects the faults scheduled at `request_number`, if any; returns the events
    /// to record (kills that found no manager). The schedule's lock is held until
    /// every decision is sent, so no later request overtakes them.
    pub(super) fn inject_faults_at(&self, request_number: u64) -> Vec<RunEvent> {
        if !self.has_faults {
            return Vec::new();
        }
        let mut schedule = self.schedule.lock().expect("no panics while locked");
        let mut events = Vec::new();
        let mut book = self.kills.lock().expect("no panics while locked");
        for action in schedule.take_due(request_number) {
            let roles = Roles {
                primary: self.board.primary(),
                backup: self.board.backup(),
            };
            let kill_waits = self.handling.kill_waits;
            match book.decide(action, request_number, roles, kill_waits) {
                Decision::Crash(index) => {
                    self.board.mark_down(index);
                    self.send_crash(index, request_number);
                }
                Decision::Wait(index) => self.send_crash(index, request_number),
                Decision::Revive(index) => {
                    if self.board.is_down(index) {
                        self.board.mark_up(index);
                    }
                    self.send_to_manager(index, Input::Revive(index));
                }
                Decision::Missed(missed) => events.push(RunEvent::KillMissed {
                    request: missed.request,
                    role: missed.role,
                }),
                Decision::Nothing => {}
            }
        }
        drop(schedule);
        events
    }

    fn send_crash(&self, index: usize, request: u64) {
        self.send_to_manager(index, Input::Crash { index, request });
    }

    fn send_to_manager(&self, index: usize, input: Input) {
        let _ = self.inbox_of(self.first_manager + index).send(input);
    }
}

/// The kit's failover clocks as the workers share them, with a count of running
/// clocks that the fast path reads without the lock.
#[derive(Debug, Default)]
pub(super) struct SharedClocks {
    clocks: Mutex<FailoverClocks>,
    running: AtomicUsize,
}

impl SharedClocks {
    /// The primary of `view` crashed at `crashed_ns`.
    pub(super) fn start(&self, crashed_ns: u64, view: View) {
        let mut clocks = self.clocks.lock().expect("no panics while locked");
        clocks.start(crashed_ns, view);
        self.running.store(clocks.running(), Ordering::SeqCst);
    }

    /// The primary of `view` completed a request at `now_ns`.
    pub(super) fn served(&self, view: View, now_ns: u64) {
        let mut clocks = self.clocks.lock().expect("no panics while locked");
        clocks.served(view, now_ns);
        self.running.store(clocks.running(), Ordering::SeqCst);
    }

    /// Whether a clock is running (so the fast path can skip the lock).
    pub(super) fn any_running(&self) -> bool {
        self.running.load(Ordering::Relaxed) > 0
    }

    /// Every failover time measured, in crash order.
    pub(super) fn durations(&self) -> Vec<Option<Duration>> {
        let clocks = self.clocks.lock().expect("no panics while locked");
        let durations = clocks.durations().into_iter();
        durations.map(|ns| ns.map(Duration::from_nanos)).collect()
    }
}

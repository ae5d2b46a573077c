//! A worker's side of kills and revivals: carrying out the crashes the runtime decided
//! (or, with `--kill-waits`, deciding under the kill lock when a waiting one may
//! happen), reviving, and posting its managers' status on the board.

use super::worker::{Hosted, Worker};
use super::RuntimeManager;
use ivy_core::driver::{knowledge, KillBook, PerformedKill, RunEvent, TraceItem};
use ivy_core::MessageKind;
use ivy_core::ProcessNode;

impl<M: RuntimeManager, P: ProcessNode> Worker<M, P> {
    /// After a manager handled a message: stop a failover clock if it served a
    /// request, carry out a waiting kill if it may happen now, and post its status.
    pub(super) fn after_manager_input(&mut self, slot: usize, kind: MessageKind) {
        let Hosted::Manager(manager) = &self.hosted[slot] else {
            return;
        };
        let confirmation = kind.is_confirmation();
        if confirmation && self.shared.failovers.any_running() {
            if let Some((view, true)) = manager.node.authority() {
                self.shared.failovers.served(view, self.shared.now_ns());
            }
        }
        if manager.crash_pending {
            self.try_crash(slot);
        }
        self.publish(slot);
    }

    fn manager_slot(&self, index: usize) -> Option<usize> {
        (0..self.hosted.len()).find(|&slot| {
            matches!(&self.hosted[slot], Hosted::Manager(manager) if manager.index == index)
        })
    }

    /// Carries out the kill due at `request` of manager `index`: at once, or (with
    /// `--kill-waits`) once its peer holds its state.
    pub(super) fn crash(&mut self, index: usize, request: u64) {
        let Some(slot) = self.manager_slot(index) else {
            return;
        };
        let shared = self.shared.clone();
        let Hosted::Manager(manager) = &mut self.hosted[slot] else {
            return;
        };
        if manager.down {
            manager.generation = shared.board.generation(index);
            return;
        }
        if !shared.handling.kill_waits {
            let mut book = shared.kills.lock().expect("no panics while locked");
            self.crash_now(slot, request, &mut book);
            return;
        }
        manager.crash_pending = true;
        let id = manager.node.id();
        if !self.try_crash(slot) {
            self.record(TraceItem::Event(RunEvent::KillDeferred { manager: id }));
        }
        self.publish(slot);
    }

    /// Retries the waiting kills of this worker's managers (`--kill-waits`).
    pub(super) fn retry_waiting_kills(&mut self) {
        for slot in 0..self.hosted.len() {
            if matches!(&self.hosted[slot], Hosted::Manager(manager) if manager.crash_pending) {
                self.try_crash(slot);
            }
        }
    }

    /// Under the kill lock: crashes the manager in `slot` if its kill still waits and
    /// its peer is up and holds all its state, marking it down at once. Returns false
    /// while the kill must wait.
    fn try_crash(&mut self, slot: usize) -> bool {
        let shared = self.shared.clone();
        let mut book = shared.kills.lock().expect("no panics while locked");
        let Hosted::Manager(manager) = &mut self.hosted[slot] else {
            return true;
        };
        let index = manager.index;
        let Some(request) = book.waiting_kill(index) else {
            manager.crash_pending = false; // a revival cancelled it
            return true;
        };
        if !shared.board.may_crash(index, &manager.node) {
            return false;
        }
        book.stop_waiting(index);
        shared.board.mark_down(index);
        self.crash_now(slot, request, &mut book);
        true
    }

    /// Crashes the manager in `slot` (already marked down on the board): it restarts
    /// blank, as a new incarnation, and stays down until revived.
    fn crash_now(&mut self, slot: usize, request: u64, book: &mut KillBook) {
        let now_ns = self.shared.now_ns();
        let Hosted::Manager(manager) = &mut self.hosted[slot] else {
            return;
        };
        let authority = manager.node.authority();
        let was_primary = authority.is_some_and(|(_, primary)| primary);
        if let (true, Some((view, _))) = (was_primary, authority) {
            self.shared.failovers.start(now_ns, view);
        }
        let knew = knowledge(&manager.node);
        book.performed(PerformedKill { request, knew });
        manager.node = manager.node.crashed();
        manager.down = true;
        manager.crash_pending = false;
        manager.generation = self.shared.board.generation(manager.index);
        let id = manager.node.id();
        self.record(TraceItem::Event(RunEvent::Killed {
            manager: id,
            was_primary,
        }));
        self.deadline_may_have_moved(slot);
        self.publish(slot);
    }

    pub(super) fn revive(&mut self, index: usize) {
        let Some(slot) = self.manager_slot(index) else {
            return;
        };
        let Hosted::Manager(manager) = &mut self.hosted[slot] else {
            return;
        };
        manager.crash_pending = false;
        if manager.down {
            manager.down = false;
            let id = manager.node.id();
            self.record(TraceItem::Event(RunEvent::Revived { manager: id }));
        }
        self.deadline_may_have_moved(slot);
        self.publish(slot);
    }

    pub(super) fn publish(&self, slot: usize) {
        if let Hosted::Manager(manager) = &self.hosted[slot] {
            let board = &self.shared.board;
            board.publish(manager.index, manager.generation, &manager.node);
        }
    }

    pub(super) fn publish_all(&self) {
        for slot in 0..self.hosted.len() {
            self.publish(slot);
        }
    }
}

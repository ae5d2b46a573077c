//! Taking over: a manager establishes a view of its own by fencing every process
//! into it, and may act in it only when its log holds everything any primary has
//! acted on (every process's newest obeyed viewstamp). See `docs/fault-tolerance.md`.

use crate::fence::Fence;
use crate::leading::Leader;
use crate::link::BackupLink;
use crate::manager::{FtManager, Role};
use ivy_core::{Incarnation, LogPosition, NodeEvent, NodeId, Outbox, View};

impl FtManager {
    /// Whether this manager may try to take over: it has state, and no process has
    /// reported obeying an entry its log lacks.
    pub(crate) fn may_take_over(&self, now_ticks: u64) -> bool {
        self.holds_what_was_acted_on() && self.backoff.allows(now_ticks)
    }

    /// Whether this manager's log reaches every position a process reported obeying.
    pub(crate) fn holds_what_was_acted_on(&self) -> bool {
        self.replica()
            .is_some_and(|replica| replica.reach().covers(self.known_acted))
    }

    /// Begins establishing `view`: asks every process to promise it. Only a manager
    /// with state may; a backup that takes over checks [`FtManager::may_take_over`]
    /// first.
    pub(crate) fn start_fence(
        &mut self,
        view: View,
        link: Option<BackupLink>,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if self.replica().is_none() {
            return;
        }
        self.view = view;
        let fence = Fence::new(view, now_ticks);
        fence.ask_for_promises(self.id, self.incarnation, self.processes, out);
        self.begin_fencing(fence, Leader::new(link, now_ticks));
        out.events.push(NodeEvent::Fencing {
            manager: self.id,
            view,
        });
    }

    /// A process promised `view` to `promised_to` (an incarnation of that view's
    /// primary) and reports the newest viewstamp it obeyed.
    pub(crate) fn handle_promise(
        &mut self,
        process: NodeId,
        view: View,
        promised_to: Incarnation,
        accepted: LogPosition,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        self.known_acted = self.known_acted.max(accepted);
        let Some(reach) = self.reach() else {
            self.view = self.view.max(view);
            return;
        };
        let Role::Fencing(_, fence, _) = &mut self.role else {
            return self.adopt_newer_view(view, now_ticks, out);
        };
        let taken = view == fence.view && promised_to != self.incarnation;
        if !reach.covers(accepted) || view > fence.view || taken {
            // A primary acted on an entry we lack, another manager fences a newer
            // view, or an earlier life of ours took this one (and may have acted in
            // it): stand down, catch up from the other manager, try a newer view
            // later.
            self.backoff
                .failed(now_ticks, self.options.failover_timeout_ticks);
            self.adopt_newer_view(view, now_ticks, out);
            if self.is_leading() {
                self.stand_down(now_ticks, out);
            }
            return self.request_snapshot_if_due(now_ticks, out);
        }
        if view == fence.view {
            fence.promised.insert(process);
            if fence.promised.len() == self.processes as usize {
                self.establish(now_ticks, out);
            }
        }
    }

    /// Every process promised our view: lead it, finish what we inherited, and handle
    /// what waited for the view.
    fn establish(&mut self, now_ticks: u64, out: &mut Outbox) {
        let Some(fence) = self.become_primary() else {
            return;
        };
        let incarnation = self.incarnation;
        if let Some(replica) = self.replica_mut() {
            replica.log_view = fence.view;
            replica.log_leader = incarnation;
        }
        self.backoff.succeeded();
        out.events.push(NodeEvent::Promoted {
            manager: self.id,
            view: fence.view,
        });
        self.drive_all(now_ticks, out);
        for envelope in fence.deferred {
            self.handle_process_message(envelope, now_ticks, out);
        }
    }
}

//! Taking over: a manager establishes a view of its own by fencing every process
//! into it, and may act in it only when its log holds everything any primary has
//! acted on (every process's newest obeyed viewstamp). See `docs/fault-tolerance.md`.

use crate::leader::Leader;
use crate::link::BackupLink;
use crate::manager::{FtManager, Role};
use ivy_core::{
    CopySet, Envelope, Incarnation, LogPosition, Message, NodeEvent, NodeId, Outbox, View,
};

/// Process messages a fencing manager keeps for when its view is established, per
/// process; more are dropped (the process retries).
const DEFERRED_PER_PROCESS: usize = 4;

/// A view being established: who has promised it so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Fence {
    pub(crate) view: View,
    pub(crate) promised: CopySet,
    pub(crate) sent_at_ticks: u64,
    /// Requests and confirmations that arrived while fencing. A fencing manager
    /// appends nothing to its log: an entry stamped with a view that may never be
    /// established could outrank entries it lacks. They are handled once it is.
    pub(crate) deferred: Vec<Envelope>,
}

impl Fence {
    pub(crate) fn new(view: View, now_ticks: u64) -> Fence {
        Fence {
            view,
            promised: CopySet::new(),
            sent_at_ticks: now_ticks,
            deferred: Vec::new(),
        }
    }

    /// Sends `NewView` from `incarnation` of `manager` to every process that has
    /// not promised the view yet.
    pub(crate) fn ask_for_promises(
        &self,
        manager: NodeId,
        incarnation: Incarnation,
        processes: u32,
        out: &mut Outbox,
    ) {
        for process in (0..processes).map(NodeId) {
            if !self.promised.contains(process) {
                let new_view = Message::NewView { incarnation };
                out.send(manager, process, self.view, new_view);
            }
        }
    }

    /// Keeps a process message for when the view is established, within the bound.
    pub(crate) fn defer(&mut self, envelope: Envelope, processes: u32) {
        if self.deferred.len() < DEFERRED_PER_PROCESS * processes as usize {
            self.deferred.push(envelope);
        }
    }
}

impl FtManager {
    /// Whether this manager may try to take over: it has state, and no process has
    /// reported obeying an entry its log lacks.
    pub(crate) fn may_take_over(&self, now_ticks: u64) -> bool {
        self.holds_what_was_acted_on() && self.backoff.allows(now_ticks)
    }

    /// Whether this manager's log reaches every position a process reported obeying.
    pub(crate) fn holds_what_was_acted_on(&self) -> bool {
        self.replica
            .as_ref()
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
        if self.replica.is_none() {
            return;
        }
        self.view = view;
        let fence = Fence::new(view, now_ticks);
        fence.ask_for_promises(self.id, self.incarnation, self.processes, out);
        self.role = Role::Leading(Leader::fencing(fence, link, now_ticks));
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
        let Role::Leading(Leader {
            fence: Some(fence), ..
        }) = &mut self.role
        else {
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
            if let Role::Leading(_) = self.role {
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
        let Role::Leading(leader) = &mut self.role else {
            return;
        };
        let Some(fence) = leader.fence.take() else {
            return;
        };
        if let Some(replica) = &mut self.replica {
            replica.log_view = fence.view;
            replica.log_leader = self.incarnation;
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

//! A view being established: who has promised it, and what waits for it.

use ivy_core::{CopySet, Envelope, Incarnation, Message, NodeId, Outbox, View};

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

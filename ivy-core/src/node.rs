//! What every node (process or manager) has in common: it takes a message or a
//! tick and writes what it wants done into an [`Outbox`]. Drivers (the simulator,
//! the threaded runtime, the model checker) deliver the outbox.

use crate::ids::{NodeId, PageId, RequestId, View};
use crate::message::{Envelope, Message};
use serde::Serialize;

/// A sans-IO protocol node. Time is logical: `now_ticks` is given by the driver.
pub trait Node {
    /// This node's id.
    fn id(&self) -> NodeId;

    /// Handles one delivered message.
    fn handle_message(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox);

    /// Lets the node act on the passage of time (timeouts, heartbeats).
    fn handle_tick(&mut self, now_ticks: u64, out: &mut Outbox);

    /// Tells the node that no more input is queued for it right now, so it may send
    /// what it batched (the replicated managers send one replication message for the
    /// changes of several inputs). Drivers call it after an input when the node's inbox
    /// is empty; calling it after every input is correct too.
    fn handle_idle(&mut self, _now_ticks: u64, _out: &mut Outbox) {}
}

/// Whether an operation reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// A read of the page's value.
    Read,
    /// A write of a new value.
    Write,
}

/// An operation a process performs on shared memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read the value stored in `page`.
    Read {
        /// The page read.
        page: PageId,
    },
    /// Store `value` into `page`.
    Write {
        /// The page written.
        page: PageId,
        /// The value stored; unique per write in a run.
        value: u64,
    },
}

impl Operation {
    /// The page the operation touches.
    pub fn page(&self) -> PageId {
        match self {
            Operation::Read { page } | Operation::Write { page, .. } => *page,
        }
    }

    /// Read or write.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::Read { .. } => OperationKind::Read,
            Operation::Write { .. } => OperationKind::Write,
        }
    }
}

/// A finished operation, reported by the process that performed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The process that performed it.
    pub process: NodeId,
    /// Read or write.
    pub kind: OperationKind,
    /// The page touched.
    pub page: PageId,
    /// The value read, or the value written.
    pub value: u64,
    /// The fault that served it, or `None` for a local hit (no messages).
    pub fault: Option<RequestId>,
}

/// Something a manager reports that is not a message: a change of role or view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A manager established a view it leads: it is primary now.
    Promoted {
        /// The new primary.
        manager: NodeId,
        /// The view it leads.
        view: View,
    },
    /// A manager began establishing a view of its own (it sends `NewView`).
    Fencing {
        /// The manager.
        manager: NodeId,
        /// The view it is establishing.
        view: View,
    },
    /// A manager learned of a newer view led by the other manager and follows it.
    ViewChanged {
        /// The manager.
        manager: NodeId,
        /// The view it adopted.
        view: View,
    },
    /// A recovering manager installed a snapshot and follows the primary as backup.
    Rejoined {
        /// The manager.
        manager: NodeId,
        /// The view it follows.
        view: View,
    },
    /// A primary handed its role to the caught-up backup and now follows it.
    HandedOver {
        /// The former primary.
        manager: NodeId,
        /// The view in which the other manager will lead.
        view: View,
    },
}

/// What a node wants done after handling one input. Drivers drain it and reuse it,
/// so handling a message allocates nothing here.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages to send.
    pub messages: Vec<Envelope>,
    /// Operations completed.
    pub completions: Vec<Completion>,
    /// Role changes to report.
    pub events: Vec<NodeEvent>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Queues `message` from `from` (in `view`) to `to`.
    pub fn send(&mut self, from: NodeId, to: NodeId, view: View, message: Message) {
        self.messages.push(Envelope {
            from,
            to,
            view,
            message,
        });
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.completions.is_empty() && self.events.is_empty()
    }

    /// Empties the outbox, keeping its memory.
    pub fn clear(&mut self) {
        self.messages.clear();
        self.completions.clear();
        self.events.clear();
    }
}

//! What a node's runner reports to whoever launched it (each completed operation,
//! manager events, status), and what it counted.

use ivy_core::{HistoryEntry, NodeEvent, TraceRecord, View};
use serde::{Deserialize, Serialize};

/// What a runner tells whoever launched it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// An operation of this process completed.
    Completed(HistoryEntry),
    /// This manager changed role or view.
    Event(NodeEvent),
    /// This process has completed all its operations (it goes on serving its pages).
    Done,
    /// This manager, an established primary of `view`, completed a fault (handled
    /// its confirmation) for the first time in that view: how long a failover took.
    Served {
        /// The view it leads.
        view: View,
    },
    /// This process is about to issue a gated request and waits for its release
    /// ([`Runner::with_gate`]).
    Issuing(u64),
    /// The node handled a message (reported when the runner traces).
    Handled {
        /// The message, as the trace prints it.
        record: TraceRecord,
        /// When, on the runner's clock.
        at_ns: u64,
    },
    /// This manager's authority and settled view changed (see
    /// [`ivy_core::ManagerNode`]): a run ends once the live managers are
    /// [`ivy_core::settled_together`] after the processes are done.
    Status {
        /// Whose log its state follows and whether it is an established primary.
        authority: Option<(View, bool)>,
        /// The view it has nothing left to do in, if any.
        settled: Option<View>,
    },
}

/// What a node handled and how its operations went, for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounts {
    /// Messages handled, heartbeats apart.
    pub messages: u64,
    /// Heartbeats and their acknowledgements handled.
    pub heartbeats: u64,
    /// Operations of this process that completed without a fault.
    pub local_hits: u64,
}

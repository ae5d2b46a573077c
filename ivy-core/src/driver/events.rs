//! The rows of a run's trace besides messages: faults a driver injected, and the
//! managers' changes of role.

use super::schedule::KillRole;
use crate::protocol::ids::NodeId;
use crate::protocol::node::NodeEvent;
use crate::protocol::trace::TraceRecord;
use serde::Serialize;

/// One row of the trace: a handled message, or an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TraceItem {
    /// A message, when its receiver handled it.
    Message(TraceRecord),
    /// A fault injected by the runtime or a manager's change of role.
    Event(RunEvent),
}

/// Something that happened to a manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A manager was crashed; it loses all state.
    Killed {
        /// The manager.
        manager: NodeId,
        /// Whether it was the primary.
        was_primary: bool,
    },
    /// A kill waits until the other manager holds all the state this one has
    /// (`--kill-waits`).
    KillDeferred {
        /// The manager to kill.
        manager: NodeId,
    },
    /// A kill found no live manager in the role it names, and did not happen.
    KillMissed {
        /// The request at whose issue it was due.
        request: u64,
        /// The role it named.
        role: KillRole,
    },
    /// A crashed manager restarted, blank.
    Revived {
        /// The manager.
        manager: NodeId,
    },
    /// A manager's network link was taken down (an `ivy cluster --netns` run): it
    /// keeps running, unreachable.
    LinkCut {
        /// The manager.
        manager: NodeId,
        /// Whether it was the primary.
        was_primary: bool,
    },
    /// A manager's network link, taken down, is back up.
    LinkRestored {
        /// The manager.
        manager: NodeId,
    },
    /// A manager reported a change of role or view.
    #[serde(untagged)]
    Manager(NodeEvent),
}

impl RunEvent {
    /// The row the trace table prints for this event.
    pub fn describe(&self) -> String {
        match *self {
            RunEvent::Killed {
                manager,
                was_primary,
            } => {
                let role = if was_primary { "primary" } else { "backup" };
                format!("kill {role} cm {manager}")
            }
            RunEvent::KillDeferred { manager } => {
                format!("kill of cm {manager} deferred until its peer holds its state")
            }
            RunEvent::KillMissed { request, role } => {
                format!("kill of the {role} at request {request} not done: no live {role}")
            }
            RunEvent::Revived { manager } => format!("revive cm {manager} (blank)"),
            RunEvent::LinkCut {
                manager,
                was_primary,
            } => {
                let role = if was_primary { "primary" } else { "backup" };
                format!("cut the link of {role} cm {manager}")
            }
            RunEvent::LinkRestored { manager } => format!("restore the link of cm {manager}"),
            RunEvent::Manager(event) => describe_node_event(event),
        }
    }
}

fn describe_node_event(event: NodeEvent) -> String {
    match event {
        NodeEvent::Promoted { manager, view } => {
            format!("cm {manager} promoted: primary of {view}")
        }
        NodeEvent::Fencing { manager, view } => {
            format!("cm {manager} fences the processes into {view}")
        }
        NodeEvent::ViewChanged { manager, view } => format!("cm {manager} follows {view}"),
        NodeEvent::Rejoined { manager, view } => {
            format!("cm {manager} rejoined as backup of {view} (snapshot)")
        }
        NodeEvent::HandedOver { manager, view } => {
            format!("cm {manager} hands the primary role back for {view}")
        }
    }
}

//! What the runtime records besides messages: fault events and role changes, and the
//! failover clocks that measure crash-to-service time.

use super::faults::KillRole;
use ivy_core::{NodeEvent, NodeId, TraceRecord, View};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

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

/// Measures each crash of a primary to the first request the next primary serves.
#[derive(Debug, Default)]
pub struct FailoverClocks {
    clocks: Mutex<Vec<FailoverClock>>,
    running: AtomicUsize,
}

#[derive(Debug)]
struct FailoverClock {
    crashed_ns: u64,
    crashed_view: View,
    served_ns: Option<u64>,
}

impl FailoverClocks {
    /// Starts a clock: the primary of `view` crashed at `crashed_ns`.
    pub fn start(&self, crashed_ns: u64, view: View) {
        let mut clocks = self.clocks.lock().expect("no panics while locked");
        clocks.push(FailoverClock {
            crashed_ns,
            crashed_view: view,
            served_ns: None,
        });
        self.running.fetch_add(1, Ordering::SeqCst);
    }

    /// The primary of `view` completed a request at `now_ns`: stops every clock of
    /// an older view's crash.
    pub fn served(&self, view: View, now_ns: u64) {
        let mut clocks = self.clocks.lock().expect("no panics while locked");
        for clock in clocks.iter_mut() {
            if clock.served_ns.is_none() && clock.crashed_view < view {
                clock.served_ns = Some(now_ns);
                self.running.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Whether a clock is running (so the fast path can skip the lock).
    pub fn any_running(&self) -> bool {
        self.running.load(Ordering::Relaxed) > 0
    }

    /// Every failover time measured, in crash order; `None` where no request was
    /// served after the crash.
    pub fn durations(&self) -> Vec<Option<Duration>> {
        let clocks = self.clocks.lock().expect("no panics while locked");
        clocks
            .iter()
            .map(|clock| {
                clock
                    .served_ns
                    .map(|served| Duration::from_nanos(served.saturating_sub(clock.crashed_ns)))
            })
            .collect()
    }
}

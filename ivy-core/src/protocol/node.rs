//! What every node (process or manager) has in common: it takes a message or a
//! timeout and writes what it wants done into an [`Outbox`], and it says when it next
//! needs to be woken ([`Node::next_deadline`]). Drivers (the simulator, the threaded
//! runtime, the model checker) deliver the outbox and sleep until the next message or
//! the earliest deadline: a node with no timer set is never woken.

use crate::protocol::ids::{NodeId, View};
use crate::protocol::message::{Envelope, Message};
use crate::protocol::operation::Completion;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// A moment a node asks to be woken at, and which of its timers that is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deadline<T> {
    /// When the timer fires, in ticks.
    pub at_ticks: u64,
    /// Which timer.
    pub timer: T,
}

/// How many timers may fire at one moment before [`Node::handle_due_timers`] calls it
/// a bug (a timer that fires without moving its deadline would wake its driver for
/// ever).
const MAX_FIRINGS_PER_MOMENT: usize = 1024;

/// A sans-IO protocol node. Time is logical: `now_ticks` is given by the driver.
pub trait Node {
    /// The node's named timers (what it may wait for: a heartbeat, a retry, ...).
    type Timer: Copy + Debug + Eq;

    /// This node's id.
    fn id(&self) -> NodeId;

    /// Handles one delivered message.
    fn handle_message(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox);

    /// The earliest moment this node needs [`Node::handle_timeout`], and for which
    /// timer; `None` when no timer is set (nothing happens until a message arrives).
    /// A deadline at or before now is due now.
    fn next_deadline(&self) -> Option<Deadline<Self::Timer>>;

    /// `timer` is due at `now_ticks`: acts on it. Afterwards the timer is stopped or
    /// set for later than `now_ticks`.
    fn handle_timeout(&mut self, timer: Self::Timer, now_ticks: u64, out: &mut Outbox);

    /// Tells the node that no more input is queued for it right now, so it may send
    /// what it batched (the replicated managers send one replication message for the
    /// changes of several inputs). Drivers call it after an input when the node's inbox
    /// is empty; calling it after every input is correct too.
    fn handle_idle(&mut self, _now_ticks: u64, _out: &mut Outbox) {}

    /// Fires every timer due at `now_ticks`, earliest first, and returns how many
    /// fired.
    ///
    /// # Panics
    ///
    /// If timers keep being due at `now_ticks` after many firings: a node whose timer
    /// does not move when it fires (a protocol bug, which would spin its driver).
    fn handle_due_timers(&mut self, now_ticks: u64, out: &mut Outbox) -> usize {
        let mut fired = 0;
        while let Some(deadline) = self.next_deadline().filter(|d| d.at_ticks <= now_ticks) {
            assert!(
                fired < MAX_FIRINGS_PER_MOMENT,
                "node {}: timer {:?} still due at {now_ticks} after {fired} firings",
                self.id(),
                deadline.timer
            );
            self.handle_timeout(deadline.timer, now_ticks, out);
            fired += 1;
        }
        fired
    }
}

/// The earlier of two optional deadlines (the first on a tie).
pub fn earliest<T>(first: Option<Deadline<T>>, second: Option<Deadline<T>>) -> Option<Deadline<T>> {
    match (first, second) {
        (Some(a), Some(b)) => Some(if b.at_ticks < a.at_ticks { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Something a manager reports that is not a message: a change of role or view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A node whose one timer is due at `due_at` and, when `stuck`, stays due.
    struct Alarm {
        due_at: Option<u64>,
        stuck: bool,
    }

    impl Node for Alarm {
        type Timer = ();
        fn id(&self) -> NodeId {
            NodeId(0)
        }
        fn handle_message(&mut self, _: Envelope, _: u64, _: &mut Outbox) {}
        fn next_deadline(&self) -> Option<Deadline<()>> {
            self.due_at.map(|at_ticks| Deadline {
                at_ticks,
                timer: (),
            })
        }
        fn handle_timeout(&mut self, _: (), now_ticks: u64, _: &mut Outbox) {
            if !self.stuck {
                self.due_at = Some(now_ticks + 5);
            }
        }
    }

    #[test]
    fn due_timers_fire_once_and_move_on() {
        let mut alarm = Alarm {
            due_at: Some(10),
            stuck: false,
        };
        let mut out = Outbox::new();
        assert_eq!(alarm.handle_due_timers(9, &mut out), 0);
        assert_eq!(alarm.handle_due_timers(12, &mut out), 1);
        assert_eq!(alarm.next_deadline().map(|d| d.at_ticks), Some(17));
    }

    #[test]
    #[should_panic(expected = "still due")]
    fn a_timer_that_stays_due_is_a_bug_not_a_spin() {
        let mut alarm = Alarm {
            due_at: Some(1),
            stuck: true,
        };
        alarm.handle_due_timers(1, &mut Outbox::new());
    }

    #[test]
    fn earliest_prefers_the_sooner_and_the_first_on_a_tie() {
        let at = |at_ticks, timer| Some(Deadline { at_ticks, timer });
        assert_eq!(earliest(at(5, 'a'), at(3, 'b')), at(3, 'b'));
        assert_eq!(earliest(at(3, 'a'), at(3, 'b')), at(3, 'a'));
        assert_eq!(earliest(None, at(3, 'b')), at(3, 'b'));
        assert_eq!(earliest::<char>(None, None), None);
    }
}

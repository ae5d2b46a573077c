//! What drivers need of a manager besides the [`Node`] interface: to crash it, to
//! tell whether it holds state and how far its log reaches, and when it has settled.

use crate::protocol::directory::DirectoryView;
use crate::protocol::ids::View;
use crate::protocol::node::Node;
use crate::replication::{LogPosition, Viewstamp};

/// A manager as every driver sees it (the simulator, the threaded runtime, the model
/// checkers): a node it can crash and revive, whose state it can rank and check
/// against the processes, and which can say when it has settled.
pub trait ManagerNode: Node + Sized {
    /// The manager's directory and open faults, which the coherence checks read, or
    /// `None` when it holds no state (blank after a crash).
    fn state(&self) -> Option<&dyn DirectoryView>;

    /// `None` when this manager holds no state; else the view whose primary's log
    /// its state is a prefix of, and whether it is the primary of an established
    /// view. See [`ManagerNode::rank`] for which manager's state is the system's.
    fn authority(&self) -> Option<(View, bool)>;

    /// This manager after a crash and restart: a new incarnation that has lost all
    /// state.
    fn crashed(&self) -> Self;

    /// `Some(view)` when the manager has nothing left to do in `view`: the run may end
    /// once every live manager is settled in the same view.
    fn settled_view(&self) -> Option<View>;

    /// How far the manager's log provably reaches (`None` when it holds no state):
    /// see [`Viewstamp`]. A single manager keeps no log: [`LogPosition::ZERO`].
    fn reach(&self) -> Option<LogPosition>;

    /// How far this manager's state is the system's (`None` when it holds none):
    /// its reach, then whether it is an established primary. Coherence is checked
    /// against the live manager that ranks highest.
    fn rank(&self) -> Option<(Viewstamp, bool)> {
        Some((self.reach()?.stamp, self.authority()?.1))
    }

    /// What the manager is doing, in a word or two ("primary", "fencing", "blank",
    /// ...): drivers tally crashes by the phase of the victim and its peer,
    /// so a sweep can show it crashed managers at every kind of moment.
    fn phase(&self) -> &'static str;
}

/// The view the managers listed (each as its authority and settled view, see
/// [`ManagerNode`]) have all settled in, when they all have, in one view, and one of
/// them is an established primary: what every driver waits for before it ends a run.
pub fn settled_together(
    managers: impl IntoIterator<Item = (Option<(View, bool)>, Option<View>)>,
) -> Option<View> {
    let mut has_primary = false;
    let mut settled_in: Option<View> = None;
    for (authority, settled) in managers {
        has_primary |= authority.is_some_and(|(_, primary)| primary);
        let view = settled?;
        if settled_in.is_some_and(|first| first != view) {
            return None;
        }
        settled_in = Some(view);
    }
    settled_in.filter(|_| has_primary)
}

/// The manager of an algorithm that has none (the broadcast and dynamic distributed
/// managers, and the fixed one, whose managers live inside the process nodes): a
/// type with no values, so a driver given it hosts no manager node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NoManager {}

impl Node for NoManager {
    type Timer = std::convert::Infallible;

    fn id(&self) -> crate::protocol::ids::NodeId {
        match *self {}
    }

    fn handle_message(&mut self, _: crate::Envelope, _: u64, _: &mut crate::Outbox) {
        match *self {}
    }

    fn next_deadline(&self) -> Option<crate::Deadline<Self::Timer>> {
        match *self {}
    }

    fn handle_timeout(&mut self, timer: Self::Timer, _: u64, _: &mut crate::Outbox) {
        match timer {}
    }
}

impl ManagerNode for NoManager {
    fn state(&self) -> Option<&dyn DirectoryView> {
        match *self {}
    }

    fn authority(&self) -> Option<(View, bool)> {
        match *self {}
    }

    fn crashed(&self) -> Self {
        match *self {}
    }

    fn settled_view(&self) -> Option<View> {
        match *self {}
    }

    fn reach(&self) -> Option<LogPosition> {
        match *self {}
    }

    fn phase(&self) -> &'static str {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_settle_together_only_in_one_view_with_a_primary() {
        let primary = (Some((View(2), true)), Some(View(2)));
        let backup = (Some((View(2), false)), Some(View(2)));
        assert_eq!(settled_together([primary, backup]), Some(View(2)));
        assert_eq!(settled_together([backup]), None, "no primary");
        let behind = (Some((View(1), false)), Some(View(1)));
        assert_eq!(settled_together([primary, behind]), None, "two views");
        let busy = (Some((View(2), false)), None);
        assert_eq!(settled_together([primary, busy]), None, "one not settled");
        assert_eq!(settled_together([]), None, "nobody");
    }
}

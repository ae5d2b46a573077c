//! What the fault-tolerant managers replicate: the inputs of the deterministic
//! per-page serializer, numbered by a log index, and a snapshot of its whole state for a
//! manager that rejoins blank. Replicating inputs rather than tables keeps the cost of a
//! change independent of the number of pages.

use crate::protocol::directory::Directory;
use crate::protocol::ids::{Incarnation, PageId, PageVersion, RequestId, View};
use crate::protocol::operation::OperationKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The position of an entry in the replication log; entries are numbered from 1, and
/// index 0 means "nothing yet".
pub type LogIndex = u64;

/// A position in the replicated history: a view whose primary's log holds the entry,
/// then the entry's index (as in Viewstamped Replication, where a log is ranked by
/// the last view in which it was current and its length). Ordered by view, then
/// index.
///
/// Every command a manager sends carries the view it is sent in and the index of the
/// entry that began its transaction: a process that obeys it has acted on that prefix
/// of that view's log, and reports the newest such viewstamp when it promises a view.
/// A manager's *reach* is the view whose primary's log its own is a prefix of, and
/// its last index. A reach at least every reported viewstamp holds all the state any
/// primary has acted on: a view is established only when every process promised it
/// with a viewstamp within its primary's reach, so a view's log begins with every
/// entry obeyed in earlier views, and a view is led by one incarnation only (see
/// [`crate::Message::NewView`]). The basic central manager keeps no log and stamps
/// [`Viewstamp::ZERO`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Viewstamp {
    /// A view whose primary's log holds the entry.
    pub view: View,
    /// The entry's index in the log.
    pub index: LogIndex,
}

impl Viewstamp {
    /// Before the first entry: the initial state.
    pub const ZERO: Viewstamp = Viewstamp {
        view: View(0),
        index: 0,
    };
}

impl fmt::Display for Viewstamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "view {} entry {}", self.view, self.index)
    }
}

/// A viewstamp with the incarnation of the primary whose log it names: what a
/// process records of the newest command it obeyed (the incarnation it had promised
/// that view to), and how far a manager's log reaches (the incarnation whose log of
/// that view its own is a prefix of). A view is led by one incarnation at most, but a
/// manager that hands its role over claims the next view's log before the new
/// primary has it, and an earlier life of that primary may have taken the view
/// already: the incarnation tells the two logs apart.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPosition {
    /// The view and index.
    pub stamp: Viewstamp,
    /// The incarnation of that view's primary.
    pub leader: Incarnation,
}

impl LogPosition {
    /// The initial state: view 0, led by the first incarnation of its primary.
    pub const ZERO: LogPosition = LogPosition {
        stamp: Viewstamp::ZERO,
        leader: Incarnation(0),
    };

    /// Whether a log that reaches `self` holds the entry a process obeyed at
    /// `obeyed`: an older view's entries are all in a newer view's log (its primary
    /// fenced every process first), and within one view's log (of one incarnation)
    /// an index is held once the log is that long.
    pub fn covers(self, obeyed: LogPosition) -> bool {
        let (reach, obeyed_at) = (self.stamp, obeyed.stamp);
        reach.view > obeyed_at.view
            || (reach.view == obeyed_at.view
                && self.leader == obeyed.leader
                && reach.index >= obeyed_at.index)
    }
}

impl fmt::Display for LogPosition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} of incarnation {}", self.stamp, self.leader)
    }
}

/// One change to the manager's state, as the backup applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogEntry {
    /// A fault request was admitted: it began on a free page, or queued behind the
    /// page's transaction.
    Admit {
        /// The faulting page.
        page: PageId,
        /// The fault.
        request: RequestId,
        /// Read or write fault.
        kind: OperationKind,
    },
    /// A transaction was confirmed: the directory records its result, and the next
    /// queued fault on the page (if any) begins.
    Confirm {
        /// The page.
        page: PageId,
        /// The fault confirmed.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// Read or write fault.
        kind: OperationKind,
    },
}

/// A fault the manager holds: the transaction serving a page, or one queued behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeldFault {
    /// The page.
    pub page: PageId,
    /// The fault.
    pub request: RequestId,
    /// Read or write fault.
    pub kind: OperationKind,
    /// For the page's current transaction, the entry that began it (the commands
    /// carry it); [`Viewstamp::ZERO`] for a queued fault.
    pub began_at: Viewstamp,
}

/// A manager's whole replicated state. Re-admitting `held` in order onto `directory`
/// rebuilds every transaction and queue exactly, because a transaction's shape follows
/// from the directory record when it begins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ManagerSnapshot {
    /// Owner, copy set and version of every page.
    pub directory: Directory,
    /// Every held fault: per page, the current transaction first, then its queue.
    pub held: Vec<HeldFault>,
    /// Per process, the sequence number of its last completed fault.
    pub last_completed: Vec<u64>,
    /// How far the sender's log reaches: its view, its incarnation and its last
    /// index; the sender replicates from the next.
    pub last: LogPosition,
}

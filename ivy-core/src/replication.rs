//! What the fault-tolerant managers replicate: the inputs of the deterministic
//! per-page serializer, numbered by a log index, and a snapshot of its whole state for a
//! manager that rejoins blank. Replicating inputs rather than tables keeps the cost of a
//! change independent of the number of pages.

use crate::directory::Directory;
use crate::ids::{PageId, PageVersion, RequestId, View};
use crate::node::OperationKind;
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// One change to the manager's state, as the backup applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ManagerSnapshot {
    /// Owner, copy set and version of every page.
    pub directory: Directory,
    /// Every held fault: per page, the current transaction first, then its queue.
    pub held: Vec<HeldFault>,
    /// Per process, the sequence number of its last completed fault.
    pub last_completed: Vec<u64>,
    /// The last log entry the snapshot includes; the sender replicates from the next.
    pub last: Viewstamp,
}

//! What the fault-tolerant managers replicate: the inputs of the deterministic
//! per-page serializer, numbered by a log index, and a snapshot of its whole state for a
//! manager that rejoins blank. Replicating inputs rather than tables keeps the cost of a
//! change independent of the number of pages.

use crate::directory::Directory;
use crate::ids::{PageId, PageVersion, RequestId};
use crate::node::OperationKind;

/// The position of an entry in the replication log; entries are numbered from 1, and
/// index 0 means "nothing yet".
pub type LogIndex = u64;

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
    pub log_index: LogIndex,
}

//! What an owner-side process keeps per page beside its page-table entry: its
//! probable owner, the copy set while it owns the page, the requests waiting for its
//! own write to finish (the page's lock, on the owner's side), and whom it last
//! handed the page to. Kept only for pages that differ from their initial state.

use ivy_core::{CopySet, NodeId, OperationKind, PageVersion, RequestId};
use std::collections::VecDeque;

/// A fault request waiting at a process (or being forwarded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Request {
    /// The fault (its requester is `request.process`).
    pub request: RequestId,
    /// Read or write.
    pub kind: OperationKind,
}

/// The last hand-over of a page by this process: to whom, at which version, and the
/// copy set that travelled with it (what the coherence check compares copies with
/// while the page is in flight).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct HandOver {
    pub to: RequestId,
    pub version: PageVersion,
    pub copy_set: CopySet,
}

/// One page's owner-side state at one process.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PageState {
    /// Where this process believes the owner is (itself while it owns the page).
    pub prob_owner: NodeId,
    /// While this process owns the page: the processes holding Read copies; while
    /// it waits for their invalidations, those that have not confirmed yet.
    pub copy_set: CopySet,
    /// Requests that reached this process while its own write on the page was under
    /// way: it serves them, in order, once the write is done.
    pub waiting: VecDeque<Request>,
    /// The last time this process handed the page over.
    pub handed: Option<HandOver>,
    /// While this process owns the page (broadcast manager): per process, the
    /// sequence number of its last fault on the page an owner served.
    pub served: Vec<u64>,
    /// With distributed copy sets: the invalidation this process passed down to the
    /// copies it gave, to confirm once they have (`copy_set` holds those left).
    pub relaying: Option<crate::process::Invalidation>,
    /// While this process owns the page (with periodic owner broadcasts): the faults
    /// on it that ended here since it last told every process it owns it.
    pub faults_since_broadcast: u32,
}

impl PageState {
    /// The state of a page whose first owner is `owner`.
    pub fn initial(owner: NodeId) -> PageState {
        PageState {
            prob_owner: owner,
            copy_set: CopySet::new(),
            waiting: VecDeque::new(),
            handed: None,
            served: Vec::new(),
            relaying: None,
            faults_since_broadcast: 0,
        }
    }
}

//! The manager's directory: per page, the owner and the copy set (Li & Hudak's
//! "info" table), and the view of it that invariant checks read.

use crate::protocol::config::SystemConfig;
use crate::protocol::copy_set::CopySet;
use crate::protocol::ids::{NodeId, PageId, PageVersion, RequestId};
use crate::protocol::operation::OperationKind;
use serde::{Deserialize, Serialize};

/// What the manager records about one page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageRecord {
    /// The process that owns the page.
    pub owner: NodeId,
    /// The processes, other than the owner, holding Read copies.
    pub copy_set: CopySet,
    /// The version of the last transaction completed on the page.
    pub version: PageVersion,
}

/// The manager's table of page records, one per page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Directory {
    records: Vec<PageRecord>,
}

impl Directory {
    /// The initial directory: page `p` owned by `p % processes`, no copies.
    pub fn new(config: &SystemConfig) -> Directory {
        let records = config
            .page_ids()
            .map(|page| PageRecord {
                owner: config.initial_owner(page),
                copy_set: CopySet::new(),
                version: PageVersion(0),
            })
            .collect();
        Directory { records }
    }

    /// The record of `page`, or `None` if there is no such page.
    pub fn get(&self, page: PageId) -> Option<&PageRecord> {
        self.records.get(page.index())
    }

    /// The record of `page`, which must exist.
    pub fn record(&self, page: PageId) -> &PageRecord {
        &self.records[page.index()]
    }

    /// The record of `page`, for the manager to change.
    pub fn record_mut(&mut self, page: PageId) -> &mut PageRecord {
        &mut self.records[page.index()]
    }

    /// The number of pages.
    pub fn page_count(&self) -> u32 {
        self.records.len() as u32
    }

    /// Every record, in page order.
    pub fn records(&self) -> &[PageRecord] {
        &self.records
    }
}

/// The fault a manager is serving on a page (the page is held until it is confirmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActiveFault {
    /// The fault.
    pub request: RequestId,
    /// Read or write fault.
    pub kind: OperationKind,
    /// The transaction's page version.
    pub version: PageVersion,
}

/// What the coherence invariant needs to see of a manager.
pub trait DirectoryView {
    /// The manager's directory.
    fn directory(&self) -> &Directory;

    /// The fault being served on `page`, if the page is held.
    fn active_fault(&self, page: PageId) -> Option<ActiveFault>;

    /// How many times the directory or the open faults may have changed: a driver
    /// that sees the same count (of the same state) knows nothing the coherence
    /// check reads has changed.
    fn revision(&self) -> u64;
}

/// A count of the changes made to a manager's directory and open faults (see
/// [`DirectoryView::revision`]). It is bookkeeping, not state: every two revisions
/// are equal and hash alike, so states that differ only in it are the same state
/// (to the model checkers, for instance).
#[derive(Clone, Copy, Debug, Default)]
pub struct Revision(u64);

impl Revision {
    /// Counts a change (or a call that may make one).
    pub fn bump(&mut self) {
        self.0 += 1;
    }

    /// The changes counted so far.
    pub fn count(&self) -> u64 {
        self.0
    }
}

impl PartialEq for Revision {
    fn eq(&self, _: &Revision) -> bool {
        true
    }
}

impl Eq for Revision {}

impl std::hash::Hash for Revision {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

//! What the checks read of a process: its id and its page table. Today's `Process`
//! is one; the processes of the other managers of Li & Hudak (issue 13) keep the same
//! page entries beside what their algorithm adds, and are checked by the same code.

use crate::protocol::ids::{NodeId, PageId};
use crate::protocol::process::{PageEntry, Process};
use crate::replication::LogPosition;

/// A process as the coherence check, the lost-state oracle and the final check see it.
pub trait ProcessView {
    /// The process's id.
    fn node_id(&self) -> NodeId;

    /// Its entry for `page` (`None` if the system has no such page).
    fn page_entry(&self, page: PageId) -> Option<&PageEntry>;

    /// How many pages the system has.
    fn page_count(&self) -> usize;

    /// The pages it ever touched, if its table keeps only those (a large system);
    /// `None` if it keeps every page.
    fn touched(&self) -> Option<Vec<PageId>>;

    /// The newest command of a replicated manager it obeyed (see
    /// [`crate::Viewstamp`]); [`LogPosition::ZERO`] where no manager keeps a log.
    fn obeyed(&self) -> LogPosition {
        LogPosition::ZERO
    }

    /// Where it believes `page`'s owner is, in an algorithm that keeps such hints
    /// (the dynamic distributed manager's `probOwner`); `None` in the others.
    fn probable_owner(&self, _page: PageId) -> Option<NodeId> {
        None
    }

    /// The copy set it keeps for `page`, in an algorithm whose owners keep them
    /// (`Some` for every page then, empty where it is not the owner); `None` where a
    /// manager keeps them.
    fn kept_copy_set(&self, _page: PageId) -> Option<crate::CopySet> {
        None
    }
}

impl ProcessView for Process {
    fn node_id(&self) -> NodeId {
        crate::protocol::node::Node::id(self)
    }

    fn page_entry(&self, page: PageId) -> Option<&PageEntry> {
        self.page(page)
    }

    fn page_count(&self) -> usize {
        Process::page_count(self)
    }

    fn touched(&self) -> Option<Vec<PageId>> {
        self.touched_pages().map(Iterator::collect)
    }

    fn obeyed(&self) -> LogPosition {
        self.accepted()
    }
}

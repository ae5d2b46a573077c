//! What the coherence check compares each page against: the page's *authority*, the
//! record of whoever keeps its owner, copy set and version, and the fault open on it.
//! For the central manager that is the manager's directory (the live manager that
//! ranks highest, with two); an algorithm that keeps a page's record elsewhere (a
//! manager per share of the pages, or the owner itself) supplies its own.

use crate::protocol::directory::{ActiveFault, DirectoryView, PageRecord};
use crate::protocol::ids::PageId;
use std::borrow::Cow;

/// Per page, the record the processes must agree with and the fault open on it.
pub trait PageAuthority {
    /// How many pages there are.
    fn page_count(&self) -> u32;

    /// The record of `page`: its owner, the processes other than the owner holding
    /// Read copies, and the version of its last completed transaction.
    fn record_of(&self, page: PageId) -> Cow<'_, PageRecord>;

    /// The fault being served on `page`, if any: its requester is excused from
    /// agreeing with the record while it is open.
    fn fault_on(&self, page: PageId) -> Option<ActiveFault>;
}

/// A manager's directory is the authority on every page.
impl<T: DirectoryView + ?Sized> PageAuthority for T {
    fn page_count(&self) -> u32 {
        self.directory().page_count()
    }

    fn record_of(&self, page: PageId) -> Cow<'_, PageRecord> {
        Cow::Borrowed(self.directory().record(page))
    }

    fn fault_on(&self, page: PageId) -> Option<ActiveFault> {
        self.active_fault(page)
    }
}

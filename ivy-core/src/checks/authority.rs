//! What the coherence check compares each page against: the page's *authority*, the
//! record of whoever keeps its owner, copy set and version, and the fault open on it.
//! For the central manager that is the manager's directory (the live manager that
//! ranks highest, with two); an algorithm that keeps a page's record elsewhere (a
//! manager per share of the pages, or the owner itself) supplies its own.

use crate::protocol::directory::{ActiveFault, DirectoryView, PageRecord};
use crate::protocol::ids::PageId;
use crate::protocol::mapping::PageMapping;
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

/// Managers that each keep a share of the pages (the fixed distributed manager): a
/// page's authority is the directory of the manager of its share.
pub struct Sharded<'a> {
    shares: Vec<&'a dyn DirectoryView>,
    mapping: PageMapping,
    pages: u32,
}

impl<'a> Sharded<'a> {
    /// The authority of `shares` (manager `i` keeps share `i`), divided by `mapping`.
    pub fn new(shares: Vec<&'a dyn DirectoryView>, mapping: PageMapping) -> Sharded<'a> {
        let pages = shares.first().map_or(0, |share| share.page_count());
        Sharded {
            shares,
            mapping,
            pages,
        }
    }

    fn keeper(&self, page: PageId) -> &'a dyn DirectoryView {
        self.shares[self
            .mapping
            .share(page, self.pages, self.shares.len() as u32)]
    }
}

impl PageAuthority for Sharded<'_> {
    fn page_count(&self) -> u32 {
        self.pages
    }

    fn record_of(&self, page: PageId) -> Cow<'_, PageRecord> {
        Cow::Borrowed(self.keeper(page).directory().record(page))
    }

    fn fault_on(&self, page: PageId) -> Option<ActiveFault> {
        self.keeper(page).active_fault(page)
    }
}

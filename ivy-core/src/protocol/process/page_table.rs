//! A process's page table. Every page starts in the initial layout (owned with
//! ReadWrite by process `p % processes`, Nil elsewhere). A small system keeps every
//! entry in a vector (a lookup is an index: the simulator and the model checkers look
//! up pages after every step); a large one keeps an entry only for a page this process
//! has touched, so its memory grows with what the run did, not with processes x pages,
//! and creating it costs nothing per page: 64 processes and a million pages fit in a
//! few megabytes.
//!
//! Equality and hashing are by what the table says, page by page: an entry that went
//! back to its initial state counts as untouched (the model checkers compare states).

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{NodeId, PageId, PageVersion};
use crate::protocol::page::{Access, PageBuffer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// A process's knowledge of one page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageEntry {
    pub(super) access: Access,
    pub(super) is_owner: bool,
    pub(super) version: PageVersion,
    pub(super) data: Option<PageBuffer>,
}

impl PageEntry {
    /// What this process may do with the page.
    pub fn access(&self) -> Access {
        self.access
    }

    /// Whether this process owns the page.
    pub fn is_owner(&self) -> bool {
        self.is_owner
    }

    /// The latest page version this process took part in.
    pub fn version(&self) -> PageVersion {
        self.version
    }

    /// The value in this process's copy, if it has a valid one.
    pub fn value(&self) -> Option<u64> {
        self.data.as_ref().map(PageBuffer::value)
    }

    /// This process's copy of the page, if it has a valid one.
    pub fn data(&self) -> Option<&PageBuffer> {
        self.data.as_ref()
    }

    /// Sets what this process may do with the page (another algorithm's process
    /// changes its entries with these).
    pub fn set_access(&mut self, access: Access) {
        self.access = access;
    }

    /// Sets whether this process owns the page.
    pub fn set_owner(&mut self, is_owner: bool) {
        self.is_owner = is_owner;
    }

    /// Sets the latest page version this process took part in.
    pub fn set_version(&mut self, version: PageVersion) {
        self.version = version;
    }

    /// Replaces this process's copy (`None`: it holds no valid copy).
    pub fn set_data(&mut self, data: Option<PageBuffer>) {
        self.data = data;
    }

    /// This process's copy, to write to.
    pub fn data_mut(&mut self) -> Option<&mut PageBuffer> {
        self.data.as_mut()
    }
}

/// Systems with at most this many pages keep every entry.
const DENSE_UP_TO_PAGES: u32 = 4096;

/// Every page as one process sees it (the process state machine's, and those of
/// the other algorithms, which keep the same entries beside their own state).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageTable {
    page_count: u32,
    processes: u32,
    id: NodeId,
    /// The initial entry of a page this process owns, and of one it does not.
    owned: PageEntry,
    not_owned: PageEntry,
    entries: Entries,
}

/// Where the entries live.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Entries {
    /// Every page's entry, by page.
    Dense(Vec<PageEntry>),
    /// The pages touched since the start, by page.
    Sparse(BTreeMap<PageId, PageEntry>),
}

impl PageTable {
    /// The initial page table of process `id`.
    pub fn new(id: NodeId, config: &SystemConfig) -> PageTable {
        let entry = |owned: bool| PageEntry {
            access: if owned {
                Access::ReadWrite
            } else {
                Access::Nil
            },
            is_owner: owned,
            version: PageVersion(0),
            data: owned.then(|| PageBuffer::zeroed(config.page_size_bytes)),
        };
        let entries = match config.pages <= DENSE_UP_TO_PAGES {
            true => {
                let initial = |page| entry(config.initial_owner(page) == id);
                Entries::Dense(config.page_ids().map(initial).collect())
            }
            false => Entries::Sparse(BTreeMap::new()),
        };
        PageTable {
            page_count: config.pages,
            processes: config.processes,
            id,
            owned: entry(true),
            not_owned: entry(false),
            entries,
        }
    }

    /// How many pages the system has.
    pub fn len(&self) -> usize {
        self.page_count as usize
    }

    /// Whether the system has no pages (never: a system has at least one).
    pub fn is_empty(&self) -> bool {
        self.page_count == 0
    }

    /// Whether `page` exists.
    pub fn contains(&self, page: PageId) -> bool {
        page.0 < self.page_count
    }

    /// The entry of `page`, if it exists.
    pub fn get(&self, page: PageId) -> Option<&PageEntry> {
        match &self.entries {
            Entries::Dense(entries) => entries.get(page.index()),
            Entries::Sparse(_) if !self.contains(page) => None,
            Entries::Sparse(touched) => Some(touched.get(&page).unwrap_or(self.initial(page))),
        }
    }

    /// The entry of `page` to change, if it exists (from now on it is kept).
    pub fn get_mut(&mut self, page: PageId) -> Option<&mut PageEntry> {
        if !self.contains(page) {
            return None;
        }
        let initial = match page.0 % self.processes == self.id.0 {
            true => &self.owned,
            false => &self.not_owned,
        };
        match &mut self.entries {
            Entries::Dense(entries) => entries.get_mut(page.index()),
            Entries::Sparse(touched) => {
                Some(touched.entry(page).or_insert_with(|| initial.clone()))
            }
        }
    }

    /// The pages touched since the start, where only those are kept (a large
    /// system); `None` where every page's entry is kept.
    pub fn touched(&self) -> Option<impl Iterator<Item = PageId> + '_> {
        match &self.entries {
            Entries::Dense(_) => None,
            Entries::Sparse(touched) => Some(touched.keys().copied()),
        }
    }

    /// Every page and its entry, in page order.
    pub fn iter(&self) -> impl Iterator<Item = (PageId, &PageEntry)> + '_ {
        let pages = (0..self.page_count).map(PageId);
        pages.filter_map(|page| Some((page, self.get(page)?)))
    }

    fn initial(&self, page: PageId) -> &PageEntry {
        match page.0 % self.processes == self.id.0 {
            true => &self.owned,
            false => &self.not_owned,
        }
    }

    /// The entries that differ from their initial state, in page order.
    fn changes(&self) -> impl Iterator<Item = (PageId, &PageEntry)> + '_ {
        let entries: Box<dyn Iterator<Item = (PageId, &PageEntry)>> = match &self.entries {
            Entries::Dense(entries) => Box::new((0..self.page_count).map(PageId).zip(entries)),
            Entries::Sparse(touched) => Box::new(touched.iter().map(|(page, e)| (*page, e))),
        };
        entries.filter(|(page, entry)| *entry != self.initial(*page))
    }
}

impl PartialEq for PageTable {
    fn eq(&self, other: &PageTable) -> bool {
        let same_layout = (self.page_count, self.processes, self.id)
            == (other.page_count, other.processes, other.id)
            && self.owned == other.owned;
        same_layout && self.changes().eq(other.changes())
    }
}

impl Eq for PageTable {}

impl Hash for PageTable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.page_count, self.processes, self.id).hash(state);
        for change in self.changes() {
            change.hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(table: &PageTable) -> u64 {
        let mut hasher = DefaultHasher::new();
        table.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn pages_start_in_the_initial_layout_and_cost_nothing_until_touched() {
        let config = SystemConfig::new(3, 1_000_000, 8).expect("a valid size");
        let table = PageTable::new(NodeId(1), &config);
        assert_eq!(table.len(), 1_000_000);
        assert!(table.get(PageId(4)).is_some_and(PageEntry::is_owner));
        assert_eq!(
            table.get(PageId(5)).map(PageEntry::access),
            Some(Access::Nil)
        );
        assert_eq!(table.get(PageId(1_000_000)), None);
        assert!(matches!(&table.entries, Entries::Sparse(touched) if touched.is_empty()));
    }

    #[test]
    fn an_entry_back_in_its_initial_state_compares_and_hashes_as_untouched() {
        let small = SystemConfig::new(2, 4, 8).expect("a valid size");
        let large = SystemConfig::new(2, DENSE_UP_TO_PAGES + 1, 8).expect("a valid size");
        for config in [small, large] {
            back_in_its_initial_state(&config);
        }
    }

    fn back_in_its_initial_state(config: &SystemConfig) {
        let fresh = PageTable::new(NodeId(0), config);
        let mut table = fresh.clone();
        let entry = table.get_mut(PageId(2)).expect("a page");
        entry.access = Access::Read;
        assert_ne!(table, fresh);
        assert_eq!(
            table.iter().nth(2).map(|(_, e)| e.access),
            Some(Access::Read)
        );
        table.get_mut(PageId(2)).expect("a page").access = Access::ReadWrite;
        assert_eq!(table, fresh);
        assert_eq!(hash_of(&table), hash_of(&fresh));
        assert_eq!(table.get_mut(PageId(config.pages)), None);
    }
}

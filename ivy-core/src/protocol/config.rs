//! The size of a system and its fixed initial layout.

use crate::protocol::ids::{NodeId, PageId};
use thiserror::Error;

/// The smallest page that can hold a written value (a `u64`).
pub const MIN_PAGE_SIZE_BYTES: usize = 8;

/// The largest number of processes; copy sets and tables are sized for it.
pub const MAX_PROCESSES: u32 = 1 << 16;

/// How many processes and pages a system has, and how large a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemConfig {
    /// Number of processes sharing the address space.
    pub processes: u32,
    /// Number of pages in the shared address space.
    pub pages: u32,
    /// Bytes per page; a write stores its value in the first eight.
    pub page_size_bytes: usize,
}

/// A system configuration that cannot run.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// No processes.
    #[error("the number of processes must be at least 1")]
    NoProcesses,
    /// More processes than supported.
    #[error("the number of processes must be at most {MAX_PROCESSES}, not {0}")]
    TooManyProcesses(u32),
    /// No pages.
    #[error("the number of pages must be at least 1")]
    NoPages,
    /// Pages too small to hold a value.
    #[error("the page size must be at least {MIN_PAGE_SIZE_BYTES} bytes, not {0}")]
    PageTooSmall(usize),
}

impl SystemConfig {
    /// A validated configuration.
    pub fn new(processes: u32, pages: u32, page_size_bytes: usize) -> Result<Self, ConfigError> {
        if processes == 0 {
            return Err(ConfigError::NoProcesses);
        }
        if processes > MAX_PROCESSES {
            return Err(ConfigError::TooManyProcesses(processes));
        }
        if pages == 0 {
            return Err(ConfigError::NoPages);
        }
        if page_size_bytes < MIN_PAGE_SIZE_BYTES {
            return Err(ConfigError::PageTooSmall(page_size_bytes));
        }
        Ok(SystemConfig {
            processes,
            pages,
            page_size_bytes,
        })
    }

    /// The process that owns `page` at start: `page % processes`, with ReadWrite.
    pub fn initial_owner(&self, page: PageId) -> NodeId {
        NodeId(page.0 % self.processes)
    }

    /// The central manager (the primary at start, where there are two).
    pub fn manager(&self) -> NodeId {
        NodeId(self.processes)
    }

    /// The backup manager of the fault-tolerant system.
    pub fn backup_manager(&self) -> NodeId {
        NodeId(self.processes + 1)
    }

    /// Every process id, in order.
    pub fn process_ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.processes).map(NodeId)
    }

    /// Every page id, in order.
    pub fn page_ids(&self) -> impl Iterator<Item = PageId> {
        (0..self.pages).map(PageId)
    }

    /// Whether `node` is one of the processes (rather than a manager).
    pub fn is_process(&self, node: NodeId) -> bool {
        node.0 < self.processes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_tiny_systems() {
        assert_eq!(SystemConfig::new(0, 5, 4096), Err(ConfigError::NoProcesses));
        assert_eq!(SystemConfig::new(3, 0, 4096), Err(ConfigError::NoPages));
        assert_eq!(
            SystemConfig::new(3, 5, 7),
            Err(ConfigError::PageTooSmall(7))
        );
    }

    #[test]
    fn initial_layout_follows_the_reference() {
        let config = SystemConfig::new(3, 5, 4096).unwrap();
        let owners: Vec<u32> = config
            .page_ids()
            .map(|page| config.initial_owner(page).0)
            .collect();
        assert_eq!(owners, vec![0, 1, 2, 0, 1]);
        assert_eq!(config.manager(), NodeId(3));
        assert_eq!(config.backup_manager(), NodeId(4));
    }
}

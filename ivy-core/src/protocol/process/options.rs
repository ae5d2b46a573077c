//! How a process reaches its manager(s): one reliable manager, the replicated pair
//! with a retry timeout, or a manager per share of the pages (the fixed distributed
//! manager).

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{NodeId, PageId};
use crate::protocol::mapping::PageMapping;
use serde::{Deserialize, Serialize};

/// Which manager a process sends a fault (and its confirmations) to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Routing {
    /// To the primary: the primary of view `v` is `managers[v % managers.len()]`
    /// (one manager, or the replicated pair).
    #[default]
    ByView,
    /// To the manager of the page's share: `managers[mapping.share(page)]`.
    ByPage {
        /// How the pages are divided.
        mapping: PageMapping,
        /// How many pages the system has.
        pages: u32,
    },
}

/// How a process reaches its manager(s).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessOptions {
    /// The managers, chosen among by `routing`.
    pub managers: Vec<NodeId>,
    /// Which manager gets a fault.
    #[serde(default)]
    pub routing: Routing,
    /// Resend an unanswered fault to the next manager after this many ticks; `None`
    /// never resends (a single, reliable manager).
    pub retry_timeout_ticks: Option<u64>,
    /// Keep a copy of a page handed over by a WriteForward, so that a repeated forward
    /// (from a manager re-driving the transaction) can be answered. Costs a page copy
    /// per ownership transfer, so only the fault-tolerant system turns it on.
    pub retain_handoff: bool,
}

impl ProcessOptions {
    /// One reliable central manager: no retries, pages moved rather than copied.
    pub fn single_manager(config: &SystemConfig) -> ProcessOptions {
        ProcessOptions {
            managers: vec![config.manager()],
            routing: Routing::ByView,
            retry_timeout_ticks: None,
            retain_handoff: false,
        }
    }

    /// The two replicated managers: an unanswered fault is resent to the other one
    /// after `retry_timeout_ticks`, and handed-over pages are kept for repeated forwards.
    pub fn replicated(config: &SystemConfig, retry_timeout_ticks: u64) -> ProcessOptions {
        ProcessOptions {
            managers: vec![config.manager(), config.backup_manager()],
            routing: Routing::ByView,
            retry_timeout_ticks: Some(retry_timeout_ticks),
            retain_handoff: true,
        }
    }

    /// A manager per share of the pages (the fixed distributed manager): `managers[i]`
    /// manages share `i` of `config`'s pages as `mapping` divides them; each is
    /// reliable (no retries).
    pub fn sharded(
        config: &SystemConfig,
        managers: Vec<NodeId>,
        mapping: PageMapping,
    ) -> ProcessOptions {
        assert!(!managers.is_empty(), "a share needs a manager");
        ProcessOptions {
            managers,
            routing: Routing::ByPage {
                mapping,
                pages: config.pages,
            },
            retry_timeout_ticks: None,
            retain_handoff: false,
        }
    }

    /// The index in `managers` of the manager of `page`, for routing by page.
    pub(crate) fn share_of(&self, page: PageId) -> Option<usize> {
        match self.routing {
            Routing::ByView => None,
            Routing::ByPage { mapping, pages } => {
                Some(mapping.share(page, pages, self.managers.len() as u32))
            }
        }
    }
}

//! What a leading manager (fencing or primary) keeps besides the replicated state:
//! the replication link to its backup, and its open transactions.

use crate::link::BackupLink;
use ivy_core::{Incarnation, LogIndex, PageId};
use std::collections::BTreeMap;

/// What a leading manager keeps besides the replicated state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Leader {
    /// `None` when leading alone.
    pub(crate) link: Option<BackupLink>,
    /// Held pages whose transaction began at a log index the backup has not acknowledged.
    pub(crate) gated: BTreeMap<PageId, LogIndex>,
    /// When each held page's commands were last sent.
    pub(crate) driven_at_ticks: BTreeMap<PageId, u64>,
    /// When a lone leader last invited its peer with a heartbeat.
    pub(crate) invited_at_ticks: u64,
}

impl Leader {
    /// The leader of an established view, with a backup (of that incarnation) in sync,
    /// or alone.
    pub(crate) fn established(backup: Option<Incarnation>) -> Leader {
        let link = backup.map(|incarnation| BackupLink::new(incarnation, 0, 0, 0));
        Leader::new(link, 0)
    }

    /// A manager that begins to lead at `now_ticks`, with a backup (after a
    /// hand-over) or alone.
    pub(crate) fn new(link: Option<BackupLink>, now_ticks: u64) -> Leader {
        Leader {
            link,
            gated: BTreeMap::new(),
            driven_at_ticks: BTreeMap::new(),
            invited_at_ticks: now_ticks,
        }
    }

    pub(crate) fn is_fully_acked(&self, log_index: LogIndex) -> bool {
        self.link
            .as_ref()
            .is_none_or(|link| link.acked_index >= log_index)
    }
}

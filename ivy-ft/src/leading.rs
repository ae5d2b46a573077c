//! What a leading manager keeps besides the replicated state: the fence of the view it
//! establishes, the replication link to its backup, and its open transactions.

use crate::fence::Fence;
use crate::link::BackupLink;
use ivy_core::{Incarnation, LogIndex, PageId};
use std::collections::BTreeMap;

/// What a leading manager keeps besides the replicated state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Leader {
    /// `Some` until every process promised the view.
    pub(crate) fence: Option<Fence>,
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
        Leader::new(None, link, 0)
    }

    /// A manager establishing a view, with a backup (after a hand-over) or alone.
    pub(crate) fn fencing(fence: Fence, link: Option<BackupLink>, now_ticks: u64) -> Leader {
        Leader::new(Some(fence), link, now_ticks)
    }

    fn new(fence: Option<Fence>, link: Option<BackupLink>, now_ticks: u64) -> Leader {
        Leader {
            fence,
            link,
            gated: BTreeMap::new(),
            driven_at_ticks: BTreeMap::new(),
            invited_at_ticks: now_ticks,
        }
    }

    pub(crate) fn is_established(&self) -> bool {
        self.fence.is_none()
    }

    pub(crate) fn is_fully_acked(&self, log_index: LogIndex) -> bool {
        self.link
            .as_ref()
            .is_none_or(|link| link.acked_index >= log_index)
    }
}

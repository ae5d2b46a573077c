//! The primary's side of replication to its backup: what the backup has
//! acknowledged, what it got without acting on it, and what is still unacknowledged.

use ivy_core::{Incarnation, LogEntry, LogIndex, Message};
use std::collections::VecDeque;

/// Replication to one incarnation of the backup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BackupLink {
    /// The incarnation replicated to: only its acknowledgements count.
    pub(crate) incarnation: Incarnation,
    /// Every entry up to here is applied by that incarnation.
    pub(crate) acked_index: LogIndex,
    /// The backup got the entries up to here without acting on them (from a snapshot,
    /// or before the link): the primary sends their transactions' commands itself.
    /// Later entries go in `Replicate { act: true }` and the backup sends them.
    pub(crate) base_index: LogIndex,
    /// Entries not acknowledged, oldest first, resent on every heartbeat.
    pub(crate) unacked: VecDeque<(LogIndex, LogEntry)>,
    /// The first entry appended since the last send, if any: sent as one batch when
    /// the manager is idle and a transaction waits for it, else with the heartbeat.
    pub(crate) unsent_from: Option<LogIndex>,
    pub(crate) sent_at_ticks: u64,
}

impl BackupLink {
    /// A link to `incarnation`, which has applied everything up to `acked_index` and
    /// will have every entry up to `base_index` without having acted on it.
    pub(crate) fn new(
        incarnation: Incarnation,
        acked_index: LogIndex,
        base_index: LogIndex,
        now_ticks: u64,
    ) -> BackupLink {
        BackupLink {
            incarnation,
            acked_index,
            base_index,
            unacked: VecDeque::new(),
            unsent_from: None,
            sent_at_ticks: now_ticks,
        }
    }

    /// Queues entry `index` for the backup.
    pub(crate) fn push(&mut self, index: LogIndex, entry: LogEntry) {
        self.unacked.push_back((index, entry));
        self.unsent_from.get_or_insert(index);
    }

    /// The backup has applied every entry up to `applied_index`.
    pub(crate) fn acknowledge(&mut self, applied_index: LogIndex) {
        self.acked_index = self.acked_index.max(applied_index);
        while self
            .unacked
            .front()
            .is_some_and(|&(index, _)| index <= self.acked_index)
        {
            self.unacked.pop_front();
        }
        if self
            .unsent_from
            .is_some_and(|first| first <= self.acked_index)
        {
            self.unsent_from = None;
        }
    }

    /// One message with every entry from `first_index` on; only an established
    /// primary sends them, so the backup acts on them.
    pub(crate) fn replicate_from(&self, first_index: LogIndex) -> Message {
        Message::Replicate {
            incarnation: self.incarnation,
            first_index,
            entries: self
                .unacked
                .iter()
                .filter(|&&(index, _)| index >= first_index)
                .map(|&(_, entry)| entry)
                .collect(),
            act: true,
        }
    }

    /// What the heartbeat timer sends: every unacknowledged entry, or a heartbeat.
    pub(crate) fn resend(&mut self, now_ticks: u64) -> Message {
        self.sent_at_ticks = now_ticks;
        self.unsent_from = None;
        match self.unacked.front() {
            None => Message::Heartbeat {
                backup: Some(self.incarnation),
            },
            Some(&(first_index, _)) => self.replicate_from(first_index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{NodeId, OperationKind, PageId, RequestId};

    fn entry(sequence: u64) -> LogEntry {
        LogEntry::Admit {
            page: PageId(0),
            request: RequestId {
                process: NodeId(1),
                sequence,
            },
            kind: OperationKind::Read,
        }
    }

    #[test]
    fn acknowledged_entries_are_neither_kept_nor_sent_again() {
        let mut link = BackupLink::new(Incarnation(0), 0, 0, 0);
        link.push(1, entry(1));
        link.push(2, entry(2));
        assert_eq!(link.unsent_from, Some(1));
        link.acknowledge(2);
        assert_eq!((link.unsent_from, link.unacked.len()), (None, 0));
        link.push(3, entry(3));
        link.acknowledge(1); // late: changes nothing
        assert_eq!((link.acked_index, link.unsent_from), (2, Some(3)));
        assert_eq!(link.unacked.len(), 1);
    }
}

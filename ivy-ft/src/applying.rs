//! The backup's apply loop: it follows its primary's replication, heartbeats and
//! hand-over, applies the entries that continue its log in order, and sends the
//! commands of the transactions they began.

use crate::link::BackupLink;
use crate::manager::FtManager;
use ivy_core::{LogEntry, LogIndex, Message, Outbox, PageId, View, Viewstamp};

impl FtManager {
    /// The backup's side of replication, heartbeats and hand-over.
    pub(crate) fn follow(
        &mut self,
        view: View,
        message: Message,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let incarnation = self.incarnation;
        match message {
            Message::Heartbeat { backup } => {
                if backup == Some(incarnation) {
                    self.linked_in = Some(view);
                } else {
                    // The primary does not replicate to us: a snapshot links us.
                    self.request_snapshot_if_due(now_ticks, out);
                }
                let applied_index = self.applied_index();
                let ack = Message::HeartbeatAck {
                    incarnation,
                    applied_index,
                };
                self.send_to_peer(ack, out);
            }
            Message::Replicate {
                first_index,
                entries,
                act,
                ..
            } => {
                self.linked_in = Some(view);
                let began = self.apply_entries(view, first_index, &entries);
                if act {
                    self.drive_began(began, out);
                }
                let applied_index = self.applied_index();
                let ack = Message::ReplicateAck {
                    incarnation,
                    applied_index,
                };
                self.send_to_peer(ack, out);
            }
            Message::HandOver {
                incarnation: sender,
                last_index,
            } if last_index == self.applied_index() => {
                let next = self.next_own_view(view);
                let link = BackupLink::new(sender, last_index, last_index, now_ticks);
                self.start_fence(next, Some(link), now_ticks, out);
            }
            _ => {}
        }
    }

    fn applied_index(&self) -> LogIndex {
        self.reach().map_or(0, |reach| reach.stamp.index)
    }

    /// Applies the entries that continue our log, in order, stamped with the primary's
    /// `view`; returns the pages whose transactions they began.
    fn apply_entries(
        &mut self,
        view: View,
        first_index: LogIndex,
        entries: &[LogEntry],
    ) -> Vec<PageId> {
        let Some(replica) = self.replica_mut() else {
            return Vec::new();
        };
        let mut began = Vec::new();
        for (index, entry) in (first_index..).zip(entries) {
            if index > replica.last.index + 1 {
                break; // a gap: the primary resends from our acknowledgement
            }
            if index == replica.last.index + 1 {
                let at = Viewstamp { view, index };
                began.extend(replica.serializer.apply(entry, at));
                replica.last = at;
            }
        }
        began
    }

    /// Sends, in the primary's view, the commands of the transactions just begun that
    /// are still in progress (a later entry of the same batch may have ended one, or
    /// begun the next on the same page).
    fn drive_began(&self, mut pages: Vec<PageId>, out: &mut Outbox) {
        let Some(serializer) = self.serializer() else {
            return;
        };
        pages.sort_unstable();
        pages.dedup();
        for page in pages {
            serializer.drive(page, self.id, self.view, out);
        }
    }
}

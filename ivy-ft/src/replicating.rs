//! The leader's duties toward its backup and over time: batching entries,
//! acknowledgements, snapshots for a rejoining manager, hand-back, heartbeats, noticing
//! a silent backup, and re-driving stalled transactions.

use crate::link::BackupLink;
use crate::manager::{FtManager, Role};
use ivy_core::{Incarnation, LogIndex, Message, NodeEvent, Outbox, PageId, View};

impl FtManager {
    /// Sends the changes queued since the last send, as one message, if a transaction
    /// waits for them. Changes nothing waits for (a confirmation that starts no queued
    /// fault) go with the next batch or heartbeat: until then, a new primary would
    /// re-drive that transaction and get the same confirmation again.
    pub(crate) fn send_batched(&mut self, now_ticks: u64, out: &mut Outbox) {
        let (id, peer, view) = (self.id, self.peer, self.view);
        // A fencing manager sends nothing: the backup acts on what it receives.
        let Role::Primary(_, leader) = &mut self.role else {
            return;
        };
        let waited_for = !leader.gated.is_empty();
        let Some(link) = &mut leader.link else {
            return;
        };
        let Some(first_index) = link.unsent_from.filter(|_| waited_for) else {
            return;
        };
        out.send(id, peer, view, link.replicate_from(first_index));
        link.unsent_from = None;
        link.sent_at_ticks = now_ticks;
    }

    /// Incarnation `incarnation` of the backup applied every entry up to
    /// `applied_index`. An acknowledgement from another incarnation (an earlier life of
    /// the backup, whose state is gone) counts for nothing.
    pub(crate) fn handle_ack(
        &mut self,
        view: View,
        incarnation: Incarnation,
        applied_index: LogIndex,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if view != self.view {
            return;
        }
        let Some(leader) = self.leader_mut() else {
            return;
        };
        let Some(link) = leader
            .link
            .as_mut()
            .filter(|link| link.incarnation == incarnation)
        else {
            return;
        };
        link.acknowledge(applied_index);
        let (acked_index, base_index) = (link.acked_index, link.base_index);
        let released: Vec<(PageId, LogIndex)> = leader
            .gated
            .iter()
            .filter(|&(_, &index)| index <= acked_index)
            .map(|(&page, &index)| (page, index))
            .collect();
        leader.gated.retain(|_, index| *index > acked_index);
        self.last_peer_ticks = now_ticks;
        for (page, index) in released {
            let backup_drove = index > base_index
                && self
                    .serializer()
                    .is_some_and(|serializer| !serializer.invalidations_done(page));
            // Entries after the base reached the backup in `Replicate { act: true }`:
            // it sent their commands. A write's forward is still ours to send if the
            // invalidations it sent were all confirmed before this acknowledgement.
            if backup_drove {
                if let Some(leader) = self.leader_mut() {
                    leader.driven_at_ticks.insert(page, now_ticks);
                }
            } else {
                self.drive(page, now_ticks, out);
            }
        }
        self.hand_back_if_caught_up(now_ticks, out);
    }

    /// Incarnation `incarnation` of the other manager asks for our state: send it, and
    /// replicate to that incarnation from now on. A repeated request of the same
    /// incarnation keeps what it acknowledged; a new incarnation starts from nothing.
    pub(crate) fn handle_snapshot_request(
        &mut self,
        incarnation: Incarnation,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let Some(replica) = self.replica() else {
            return;
        };
        let snapshot = replica.serializer.snapshot(replica.reach());
        let Role::Primary(_, leader) = &mut self.role else {
            return;
        };
        let old = leader.link.take();
        let acked_index = old
            .as_ref()
            .filter(|old| old.incarnation == incarnation)
            .map_or(0, |old| old.acked_index);
        let mut link = BackupLink::new(
            incarnation,
            acked_index,
            snapshot.last.stamp.index,
            now_ticks,
        );
        // Keep what is not acknowledged: if this snapshot is lost and an older one (an
        // answer to an earlier request) is installed, the heartbeats resend the rest.
        if let Some(old) = old {
            link.unacked = old.unacked;
        }
        leader.link = Some(link);
        self.last_peer_ticks = now_ticks;
        let message = Message::Snapshot {
            incarnation,
            snapshot: Box::new(snapshot),
        };
        self.send_to_peer(message, out);
    }

    /// The original primary has rejoined and holds everything: give its role back.
    fn hand_back_if_caught_up(&mut self, now_ticks: u64, out: &mut Outbox) {
        let Some(log_index) = self.reach().map(|reach| reach.stamp.index) else {
            return;
        };
        let is_primary = matches!(self.role, Role::Primary(..));
        let (hand_back, is_home, incarnation) = (
            self.options.hand_back,
            self.id == self.home,
            self.incarnation,
        );
        let Some(leader) = self.leader_mut() else {
            return;
        };
        let caught_up = is_primary && leader.is_fully_acked(log_index);
        let Some(successor) = leader.link.as_ref().map(|link| link.incarnation) else {
            return;
        };
        if !hand_back || is_home || !caught_up {
            return;
        }
        let handover = Message::HandOver {
            incarnation,
            last_index: log_index,
        };
        self.send_to_peer(handover, out);
        // The successor begins the next view from exactly our log (it fences only if
        // it holds our last index): ours is a prefix of that view's log as the
        // successor leads it, and we follow its replication from there. (An earlier
        // life of the successor may have taken the view already, with another log:
        // the incarnation in our reach tells them apart.)
        let next = View(self.view.0 + 1);
        self.view = next;
        if let Some(replica) = self.replica_mut() {
            replica.log_view = next;
            replica.log_leader = successor;
        }
        self.follow_with_own_state();
        self.last_peer_ticks = now_ticks;
        out.events.push(NodeEvent::HandedOver {
            manager: self.id,
            view: next,
        });
    }
}

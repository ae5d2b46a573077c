//! Following: the backup applies the primary's log (and sends the commands of what it
//! has just applied), a blank or stale manager installs a snapshot meant for this very
//! incarnation, and a backup whose primary went silent tries to take over.

use crate::manager::{FtManager, Replica, Role, RoleKind};
use ivy_basic::PageSerializer;
use ivy_core::{Envelope, ManagerSnapshot, Message, NodeEvent, Outbox, View};

impl FtManager {
    /// A message from the other manager.
    pub(crate) fn handle_peer_message(
        &mut self,
        envelope: Envelope,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let view = envelope.view;
        match envelope.message {
            Message::ReplicateAck {
                incarnation,
                applied_index,
            }
            | Message::HeartbeatAck {
                incarnation,
                applied_index,
            } => self.handle_ack(view, incarnation, applied_index, now_ticks, out),
            Message::SnapshotRequest { incarnation } if self.role() == RoleKind::Primary => {
                if view > self.view {
                    // The blank peer knows of a newer view (a fence of its own that it
                    // abandoned): processes may have promised it, so lead a newer one.
                    let next = self.next_own_view(view);
                    self.start_fence(next, None, now_ticks, out);
                } else {
                    self.handle_snapshot_request(incarnation, now_ticks, out)
                }
            }
            message @ (Message::Heartbeat { .. }
            | Message::Replicate { .. }
            | Message::Snapshot { .. }
            | Message::HandOver { .. })
                if self.primary_of(view) == self.peer =>
            {
                self.handle_primary_message(view, message, now_ticks, out)
            }
            _ => {}
        }
    }

    /// A message the peer sends as the primary of `view`.
    fn handle_primary_message(
        &mut self,
        view: View,
        message: Message,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if view < self.view {
            // A primary of an older view: if we lead a newer one, tell it.
            if self.role() == RoleKind::Primary {
                let backup = self
                    .leader()
                    .and_then(|l| l.link.as_ref().map(|l| l.incarnation));
                self.send_to_peer(Message::Heartbeat { backup }, out);
            }
            return;
        }
        let for_me = match &message {
            Message::Replicate { incarnation, .. } | Message::Snapshot { incarnation, .. } => {
                *incarnation == self.incarnation
            }
            _ => true,
        };
        if !for_me {
            return; // meant for an earlier life of this manager
        }
        self.adopt_newer_view(view, now_ticks, out);
        if let Message::Snapshot { snapshot, .. } = message {
            return self.install_if_newer(view, *snapshot, now_ticks, out);
        }
        self.last_peer_ticks = now_ticks;
        if matches!(self.role, Role::Backup(_)) && self.log_view() == Some(view) {
            return self.follow(view, message, now_ticks, out);
        }
        // The primary of our view, whose log we do not follow: our state may lack
        // what it acted on. Keep it (a fence of ours would find out and abort) and
        // ask for a snapshot.
        self.request_snapshot_if_due(now_ticks, out);
    }

    /// Installs a snapshot from the primary of `view`, unless ours already follows that
    /// primary's log further.
    fn install_if_newer(
        &mut self,
        view: View,
        snapshot: ManagerSnapshot,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if self.is_leading() {
            return;
        }
        let reach = self.reach();
        if reach == Some(snapshot.last) {
            // A repeated answer to a repeated request: we hold it already; say so.
            self.linked_in = Some(view);
            let applied_index = snapshot.last.stamp.index;
            let incarnation = self.incarnation;
            let ack = Message::ReplicateAck {
                incarnation,
                applied_index,
            };
            return self.send_to_peer(ack, out);
        }
        // Newer: of a newer view, of another log of the same view (the one its
        // primary leads, not the one we claimed when we handed the role over), or
        // longer.
        let newer = self.replica().is_none_or(|replica| {
            replica.log_view < view
                || replica.log_leader != snapshot.last.leader
                || snapshot.last.stamp.index > replica.last.index
        });
        if !newer {
            return;
        }
        let last = snapshot.last.stamp;
        self.install(Replica {
            serializer: PageSerializer::from_snapshot(&snapshot),
            last,
            log_view: view,
            log_leader: snapshot.last.leader,
        });
        self.view = self.view.max(view);
        self.linked_in = Some(view);
        self.last_peer_ticks = now_ticks;
        self.snapshot_requested_at_ticks = None;
        out.events.push(NodeEvent::Rejoined {
            manager: self.id,
            view,
        });
        let ack = Message::ReplicateAck {
            incarnation: self.incarnation,
            applied_index: last.index,
        };
        self.send_to_peer(ack, out);
    }

    pub(crate) fn request_snapshot_if_due(&mut self, now_ticks: u64, out: &mut Outbox) {
        let due = self.snapshot_requested_at_ticks.is_none_or(|requested_at| {
            now_ticks.saturating_sub(requested_at) >= self.options.heartbeat_ticks
        });
        if due {
            self.snapshot_requested_at_ticks = Some(now_ticks);
            let incarnation = self.incarnation;
            self.send_to_peer(Message::SnapshotRequest { incarnation }, out);
        }
    }

    /// Whether this manager must catch up by a snapshot: it is blank, or it follows a
    /// view newer than the log it holds.
    pub(crate) fn is_behind(&self) -> bool {
        self.log_view().is_none_or(|log_view| log_view < self.view)
    }
}

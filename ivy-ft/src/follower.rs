//! Following and taking over: the backup applies the primary's log, a blank manager
//! installs a snapshot, and a manager that takes over fences every process into its
//! new view before it acts (see `docs/fault-tolerance.md`).

use crate::leader::{BackupLink, Leader};
use crate::manager::{FtManager, Replica, Role, RoleKind};
use ivy_basic::PageSerializer;
use ivy_core::{
    Envelope, LogEntry, LogIndex, ManagerSnapshot, Message, NodeEvent, NodeId, Outbox, PageId, View,
};

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
            Message::ReplicateAck { applied_index } | Message::HeartbeatAck { applied_index } => {
                self.handle_ack(view, applied_index, now_ticks, out)
            }
            Message::SnapshotRequest if self.role() == RoleKind::Primary => {
                if view > self.view {
                    // The blank peer knows of a newer view (a fence of its own that it
                    // abandoned): processes may have promised it, so lead a newer one.
                    let next = self.next_own_view(view);
                    self.start_fence(next, None, now_ticks, out);
                } else {
                    self.handle_snapshot_request(now_ticks, out)
                }
            }
            message @ (Message::Heartbeat
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

    fn role_is_leading(&self) -> bool {
        matches!(self.role, Role::Leading(_))
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
                self.send_to_peer(Message::Heartbeat, out);
            }
            return;
        }
        if let Message::Snapshot { snapshot } = message {
            let newer = self.held_view().is_none_or(|held| held < view)
                || snapshot.log_index >= self.log_index();
            if newer && !self.role_is_leading() {
                self.install(view, *snapshot, now_ticks, out);
            }
            return;
        }
        if self.role == Role::Backup && self.held_view() == Some(view) {
            self.view = view;
            self.last_peer_ticks = now_ticks;
            return self.follow(view, message, now_ticks, out);
        }
        // The primary of a view at least ours whose log we have not followed: our
        // state may be behind what it acted on. Keep it (a fence of ours would find
        // out and abort), stop leading, and ask for a snapshot.
        if view > self.view || self.role_is_leading() {
            self.adopt_newer_view(view, now_ticks, out);
        }
        self.last_peer_ticks = now_ticks;
        self.request_snapshot_if_due(now_ticks, out);
    }

    /// The backup's side of replication, heartbeats and hand-over.
    fn follow(&mut self, view: View, message: Message, now_ticks: u64, out: &mut Outbox) {
        match message {
            Message::Heartbeat => {
                let applied_index = self.log_index();
                self.send_to_peer(Message::HeartbeatAck { applied_index }, out);
            }
            Message::Replicate {
                first_index,
                entries,
                act,
            } => {
                let began = self.apply_entries(first_index, &entries);
                if act {
                    self.drive_began(began, out);
                }
                let applied_index = self.log_index();
                self.send_to_peer(Message::ReplicateAck { applied_index }, out);
            }
            Message::HandOver { last_index } if last_index == self.log_index() => {
                let next = self.next_own_view(view);
                let link = BackupLink::new(last_index, last_index, now_ticks);
                self.start_fence(next, Some(link), now_ticks, out);
            }
            _ => {}
        }
    }

    /// Applies the entries that continue our log, in order; returns the pages whose
    /// transactions they began.
    fn apply_entries(&mut self, first_index: LogIndex, entries: &[LogEntry]) -> Vec<PageId> {
        let replica = self.replica_mut();
        let mut began = Vec::new();
        for (index, entry) in (first_index..).zip(entries) {
            if index > replica.log_index + 1 {
                break; // a gap: the primary resends from our acknowledgement
            }
            if index == replica.log_index + 1 {
                began.extend(replica.serializer.apply(entry));
                replica.log_index = index;
            }
        }
        began
    }

    /// Sends, in the primary's view, the commands of the transactions just begun that
    /// are still in progress (a later entry of the same batch may have ended one, or
    /// begun the next on the same page).
    fn drive_began(&self, mut pages: Vec<PageId>, out: &mut Outbox) {
        let serializer = self.serializer().expect("a backup has state");
        pages.sort_unstable();
        pages.dedup();
        for page in pages {
            serializer.drive(page, self.id, self.view, out);
        }
    }

    fn install(&mut self, view: View, snapshot: ManagerSnapshot, now_ticks: u64, out: &mut Outbox) {
        let log_index = snapshot.log_index;
        self.replica = Some(Replica {
            serializer: PageSerializer::from_snapshot(&snapshot),
            log_index,
            held_view: view,
        });
        self.view = self.view.max(view);
        self.role = Role::Backup;
        self.last_peer_ticks = now_ticks;
        self.snapshot_requested_at_ticks = None;
        out.events.push(NodeEvent::Rejoined {
            manager: self.id,
            view,
        });
        let ack = Message::ReplicateAck {
            applied_index: log_index,
        };
        self.send_to_peer(ack, out);
    }

    fn request_snapshot_if_due(&mut self, now_ticks: u64, out: &mut Outbox) {
        let due = self.snapshot_requested_at_ticks.is_none_or(|requested_at| {
            now_ticks.saturating_sub(requested_at) >= self.options.heartbeat_ticks
        });
        if due {
            self.snapshot_requested_at_ticks = Some(now_ticks);
            self.send_to_peer(Message::SnapshotRequest, out);
        }
    }

    /// Whether this manager must catch up by a snapshot: it is blank, or it follows a
    /// view newer than the state it holds.
    fn is_behind(&self) -> bool {
        self.held_view().is_none_or(|held| held < self.view)
    }

    /// Ticks of a manager that does not lead: one that is behind asks for state, a
    /// backup whose primary went silent takes over.
    pub(crate) fn follower_tick(&mut self, now_ticks: u64, out: &mut Outbox) {
        if self.is_behind() {
            self.request_snapshot_if_due(now_ticks, out);
        }
        let silent_ticks = now_ticks.saturating_sub(self.last_peer_ticks);
        if self.replica.is_some() && silent_ticks > self.options.failover_timeout_ticks {
            let view = self.next_own_view(self.view);
            self.start_fence(view, None, now_ticks, out);
        }
    }

    /// Begins establishing `view`: asks every process to promise it. Only a manager
    /// with state may; a blank one never takes over.
    pub(crate) fn start_fence(
        &mut self,
        view: View,
        link: Option<BackupLink>,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if self.replica.is_none() {
            return;
        }
        self.view = view;
        self.role = Role::Leading(Leader::fencing(view, link, now_ticks));
        out.events.push(NodeEvent::Fencing {
            manager: self.id,
            view,
        });
        if let Role::Leading(Leader {
            fence: Some(fence), ..
        }) = &self.role
        {
            fence.ask_for_promises(self.id, self.processes, out);
        }
    }

    /// A process promised `view` and reports the newest view whose command it obeyed.
    pub(crate) fn handle_promise(
        &mut self,
        process: NodeId,
        view: View,
        accepted: View,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let Some(held_view) = self.held_view() else {
            self.view = self.view.max(view);
            return;
        };
        let fence = match &mut self.role {
            Role::Leading(Leader {
                fence: Some(fence), ..
            }) => fence,
            _ => {
                if view > self.view {
                    self.adopt_newer_view(view, now_ticks, out);
                }
                return;
            }
        };
        if accepted > held_view {
            // Another manager acted on state we do not have: ours is stale. Follow,
            // and catch up from the other manager.
            self.adopt_newer_view(view.max(accepted), now_ticks, out);
            return self.request_snapshot_if_due(now_ticks, out);
        }
        if view > fence.view {
            return self.adopt_newer_view(view, now_ticks, out);
        }
        if view == fence.view {
            fence.promised.insert(process);
            if fence.promised.len() == self.processes as usize {
                self.establish(now_ticks, out);
            }
        }
    }

    /// Every process promised our view: lead it, and finish what we inherited.
    fn establish(&mut self, now_ticks: u64, out: &mut Outbox) {
        let Role::Leading(leader) = &mut self.role else {
            return;
        };
        let Some(fence) = leader.fence.take() else {
            return;
        };
        if leader.link.is_none() {
            leader.gated.clear(); // alone: our state is the only one
        }
        self.replica_mut().held_view = fence.view;
        out.events.push(NodeEvent::Promoted {
            manager: self.id,
            view: fence.view,
        });
        self.drive_all(now_ticks, out);
    }
}

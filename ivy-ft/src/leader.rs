//! The leading manager: it serves the processes, logs every change and replicates it
//! to the backup in batches. A transaction's commands wait until the backup holds the
//! entry that began it: the backup sends them itself when it applies the entry, and the
//! leader only for entries the backup got by snapshot, when it re-drives a stalled
//! transaction, or when it leads alone (after fencing a view of its own).

use crate::manager::{FtManager, Role};
use ivy_basic::Admission;
use ivy_core::{
    CopySet, Envelope, LogEntry, LogIndex, Message, NodeId, OperationKind, Outbox, PageId,
    PageVersion, RequestId, View,
};
use std::collections::{BTreeMap, VecDeque};

/// A view being established: who has promised it so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Fence {
    pub(crate) view: View,
    pub(crate) promised: CopySet,
    pub(crate) sent_at_ticks: u64,
}

impl Fence {
    /// Sends `NewView` to every process that has not promised the view yet.
    pub(crate) fn ask_for_promises(&self, manager: NodeId, processes: u32, out: &mut Outbox) {
        for process in (0..processes).map(NodeId) {
            if !self.promised.contains(process) {
                out.send(manager, process, self.view, Message::NewView);
            }
        }
    }
}

/// The primary's side of replication to its backup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BackupLink {
    /// Every entry up to here is applied by the backup.
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
    /// A link to a backup that has applied everything up to `acked_index`, and will
    /// have every entry up to `base_index` without having acted on it.
    pub(crate) fn new(acked_index: LogIndex, base_index: LogIndex, now_ticks: u64) -> BackupLink {
        BackupLink {
            acked_index,
            base_index,
            unacked: VecDeque::new(),
            unsent_from: None,
            sent_at_ticks: now_ticks,
        }
    }

    fn acknowledge(&mut self, applied_index: LogIndex) {
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
    fn replicate_from(&self, first_index: LogIndex) -> Message {
        Message::Replicate {
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
}

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
    /// The leader of an established view, with a backup in sync or alone.
    pub(crate) fn established(with_backup: bool) -> Leader {
        Leader::new(None, with_backup.then(|| BackupLink::new(0, 0, 0)), 0)
    }

    /// A manager establishing `view`, with a backup (after a hand-over) or alone.
    pub(crate) fn fencing(view: View, link: Option<BackupLink>, now_ticks: u64) -> Leader {
        let fence = Fence {
            view,
            promised: CopySet::new(),
            sent_at_ticks: now_ticks,
        };
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

impl FtManager {
    fn leader_mut(&mut self) -> Option<&mut Leader> {
        match &mut self.role {
            Role::Leading(leader) => Some(leader),
            _ => None,
        }
    }

    /// A request, confirmation or promise from a process.
    pub(crate) fn handle_process_message(
        &mut self,
        envelope: Envelope,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let from = envelope.from;
        if let Message::ViewPromise { accepted } = envelope.message {
            return self.handle_promise(from, envelope.view, accepted, now_ticks, out);
        }
        if envelope.view > self.view {
            self.adopt_newer_view(envelope.view, now_ticks, out);
        }
        if self.leader_mut().is_none() {
            return; // only a leader serves processes; they retry to the other manager
        }
        use OperationKind::{Read, Write};
        match envelope.message {
            Message::ReadRequest { page, request } => {
                self.admit(page, request, Read, now_ticks, out)
            }
            Message::WriteRequest { page, request } => {
                self.admit(page, request, Write, now_ticks, out)
            }
            Message::ReadConfirmation {
                page,
                request,
                version,
            } => self.confirm(page, request, version, Read, now_ticks, out),
            Message::WriteConfirmation {
                page,
                request,
                version,
            } => self.confirm(page, request, version, Write, now_ticks, out),
            Message::InvalidateConfirmation {
                page,
                request,
                version,
            } => {
                let serializer = &mut self.replica_mut().serializer;
                if serializer.confirm_invalidation(page, request, version, from) {
                    // Still gated: the forward goes out when the acknowledgement comes.
                    self.drive(page, now_ticks, out);
                }
            }
            _ => {}
        }
    }

    fn admit(
        &mut self,
        page: PageId,
        request: RequestId,
        kind: OperationKind,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let serializer = &mut self.replica_mut().serializer;
        let entry = LogEntry::Admit {
            page,
            request,
            kind,
        };
        match serializer.admit(page, request, kind) {
            Admission::Began => {
                let index = self.append(entry);
                self.gate(page, index);
                self.drive(page, now_ticks, out);
            }
            Admission::Queued => {
                self.append(entry);
            }
            Admission::Duplicate => {
                // The process retried: what we sent it may be lost. Send it again.
                let current = serializer.transaction(page).map(|t| t.request);
                if current == Some(request) {
                    self.drive(page, now_ticks, out);
                }
            }
            Admission::Completed | Admission::Invalid => {}
        }
    }

    fn confirm(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        kind: OperationKind,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let serializer = &mut self.replica_mut().serializer;
        let Some(completed) = serializer.confirm(page, request, version, kind) else {
            return; // not the page's transaction: a repeat, or stale
        };
        let entry = LogEntry::Confirm {
            page,
            request,
            version,
            kind,
        };
        let index = self.append(entry);
        let leader = self.leader_mut().expect("a leader confirms");
        leader.gated.remove(&page);
        leader.driven_at_ticks.remove(&page);
        if completed.next_began {
            self.gate(page, index);
            self.drive(page, now_ticks, out);
        }
    }

    /// Numbers a change and queues it for the backup, if there is one.
    fn append(&mut self, entry: LogEntry) -> LogIndex {
        let replica = self.replica.as_mut().expect("a leader has state");
        replica.log_index += 1;
        let index = replica.log_index;
        let Role::Leading(leader) = &mut self.role else {
            unreachable!("only a leader appends");
        };
        if let Some(link) = &mut leader.link {
            link.unacked.push_back((index, entry));
            link.unsent_from.get_or_insert(index);
        }
        index
    }

    /// Sends the changes queued since the last send, as one message, if a transaction
    /// waits for them. Changes nothing waits for (a confirmation that starts no queued
    /// fault) go with the next batch or heartbeat: until then, a new primary would
    /// re-drive that transaction and get the same confirmation again.
    pub(crate) fn send_batched(&mut self, now_ticks: u64, out: &mut Outbox) {
        let (id, peer, view) = (self.id, self.peer, self.view);
        let Some(leader) = self.leader_mut() else {
            return;
        };
        // A fencing manager sends nothing: the backup acts on what it receives.
        let waited_for = !leader.gated.is_empty() && leader.is_established();
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

    /// Holds back `page`'s commands until the backup has applied entry `index`.
    fn gate(&mut self, page: PageId, index: LogIndex) {
        let leader = self.leader_mut().expect("a leader gates");
        if let Some(link) = &leader.link {
            if index > link.acked_index {
                leader.gated.insert(page, index);
            }
        }
    }

    /// Sends what the transaction on `page` waits for, if this manager may act now:
    /// its view is established and the backup has the change that began it.
    pub(crate) fn drive(&mut self, page: PageId, now_ticks: u64, out: &mut Outbox) {
        let Role::Leading(leader) = &mut self.role else {
            return;
        };
        if !leader.is_established() || leader.gated.contains_key(&page) {
            return;
        }
        let serializer = &self
            .replica
            .as_ref()
            .expect("a leader has state")
            .serializer;
        if serializer.drive(page, self.id, self.view, out) {
            leader.driven_at_ticks.insert(page, now_ticks);
        }
    }

    /// Drives every held page (after establishing a view, every transaction inherited).
    pub(crate) fn drive_all(&mut self, now_ticks: u64, out: &mut Outbox) {
        let pages: Vec<PageId> = self
            .serializer()
            .map(|serializer| serializer.held_page_ids().collect())
            .unwrap_or_default();
        for page in pages {
            self.drive(page, now_ticks, out);
        }
    }

    /// The backup applied every entry up to `applied_index`.
    pub(crate) fn handle_ack(
        &mut self,
        view: View,
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
        let Some(link) = &mut leader.link else {
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
            let serializer = self.serializer().expect("a leader has state");
            // Entries after the base reached the backup in `Replicate { act: true }`:
            // it sent their commands. A write's forward is still ours to send if the
            // invalidations it sent were all confirmed before this acknowledgement.
            let backup_drove = index > base_index && !serializer.invalidations_done(page);
            if backup_drove {
                let leader = self.leader_mut().expect("a leader releases");
                leader.driven_at_ticks.insert(page, now_ticks);
            } else {
                self.drive(page, now_ticks, out);
            }
        }
        self.hand_back_if_caught_up(now_ticks, out);
    }

    /// A blank manager asks for our state: send it, and replicate to it from now on.
    pub(crate) fn handle_snapshot_request(&mut self, now_ticks: u64, out: &mut Outbox) {
        let replica = self.replica.as_ref().expect("a leader has state");
        let snapshot = replica.serializer.snapshot(replica.log_index);
        let Role::Leading(leader) = &mut self.role else {
            return;
        };
        if !leader.is_established() {
            return;
        }
        let acked_index = leader.link.as_ref().map_or(0, |link| link.acked_index);
        let mut link = BackupLink::new(acked_index, snapshot.log_index, now_ticks);
        // Keep what is not acknowledged: if this snapshot is lost and an older one (an
        // answer to an earlier request) is installed, the heartbeats resend the rest.
        if let Some(old) = leader.link.take() {
            link.unacked = old.unacked;
        }
        leader.link = Some(link);
        self.last_peer_ticks = now_ticks;
        let message = Message::Snapshot {
            snapshot: Box::new(snapshot),
        };
        self.send_to_peer(message, out);
    }

    /// The original primary has rejoined and holds everything: give its role back.
    fn hand_back_if_caught_up(&mut self, now_ticks: u64, out: &mut Outbox) {
        let log_index = self.log_index();
        let Some(leader) = self.leader_mut() else {
            return;
        };
        let caught_up =
            leader.is_established() && leader.link.is_some() && leader.is_fully_acked(log_index);
        if !self.options.hand_back || self.id == self.home || !caught_up {
            return;
        }
        let handover = Message::HandOver {
            last_index: log_index,
        };
        self.send_to_peer(handover, out);
        // Our state stays that of our view: the new primary's view is newer, so we
        // catch up from it by a snapshot before following it.
        let next = View(self.view.0 + 1);
        self.view = next;
        self.role = Role::Backup;
        self.last_peer_ticks = now_ticks;
        out.events.push(ivy_core::NodeEvent::HandedOver {
            manager: self.id,
            view: next,
        });
    }

    /// Heartbeats, retransmission, failure of the backup, and re-driving.
    pub(crate) fn leader_tick(&mut self, now_ticks: u64, out: &mut Outbox) {
        let (id, peer, view) = (self.id, self.peer, self.view);
        let processes = self.processes;
        let heartbeat_ticks = self.options.heartbeat_ticks;
        let silent_ticks = now_ticks.saturating_sub(self.last_peer_ticks);
        let peer_is_silent = silent_ticks > self.options.failover_timeout_ticks;
        let Some(leader) = self.leader_mut() else {
            return;
        };
        if let Some(fence) = &mut leader.fence {
            if now_ticks.saturating_sub(fence.sent_at_ticks) >= heartbeat_ticks {
                fence.sent_at_ticks = now_ticks;
                fence.ask_for_promises(id, processes, out);
            }
        }
        match &mut leader.link {
            Some(_) if peer_is_silent => {
                leader.link = None;
                if leader.is_established() {
                    // The backup is gone: go on alone, in a view of our own.
                    let next = self.next_own_view(view);
                    return self.start_fence(next, None, now_ticks, out);
                }
            }
            Some(link)
                if leader.fence.is_none()
                    && now_ticks.saturating_sub(link.sent_at_ticks) >= heartbeat_ticks =>
            {
                link.sent_at_ticks = now_ticks;
                link.unsent_from = None;
                let message = match link.unacked.front() {
                    None => Message::Heartbeat,
                    Some(&(first_index, _)) => link.replicate_from(first_index),
                };
                out.send(id, peer, view, message);
            }
            Some(_) => {}
            None => {
                // Only an established primary speaks for its view: a heartbeat from a
                // fence that may yet fail would make the peer stand down for nothing.
                let due = now_ticks.saturating_sub(leader.invited_at_ticks) >= heartbeat_ticks;
                if leader.is_established() && due {
                    leader.invited_at_ticks = now_ticks;
                    out.send(id, peer, view, Message::Heartbeat);
                }
            }
        }
        self.redrive_stalled(now_ticks, out);
    }

    fn redrive_stalled(&mut self, now_ticks: u64, out: &mut Outbox) {
        let redrive_ticks = self.options.redrive_ticks;
        let Role::Leading(leader) = &self.role else {
            return;
        };
        if !leader.is_established() {
            return;
        }
        let stalled: Vec<PageId> = leader
            .driven_at_ticks
            .iter()
            .filter(|&(_, &driven_at)| now_ticks.saturating_sub(driven_at) >= redrive_ticks)
            .map(|(&page, _)| page)
            .collect();
        for page in stalled {
            self.drive(page, now_ticks, out);
        }
    }
}

//! The leading manager serves the processes: it admits faults and confirmations into
//! its log and sends a transaction's commands only when the backup holds the entry
//! that began it (the backup sends them itself when it applies the entry; the leader
//! sends them for entries the backup got by snapshot, when it re-drives a stalled
//! transaction, or when it leads alone after fencing a view of its own).

use crate::leading::Leader;
use crate::manager::{FtManager, Role};
use ivy_basic::Admission;
use ivy_core::{
    Envelope, LogEntry, LogIndex, Message, OperationKind, Outbox, PageId, PageVersion, RequestId,
    Viewstamp,
};

impl FtManager {
    pub(crate) fn leader(&self) -> Option<&Leader> {
        match &self.role {
            Role::Fencing(_, _, leader) | Role::Primary(_, leader) => Some(leader),
            Role::Recovering | Role::Backup(_) => None,
        }
    }

    pub(crate) fn leader_mut(&mut self) -> Option<&mut Leader> {
        match &mut self.role {
            Role::Fencing(_, _, leader) | Role::Primary(_, leader) => Some(leader),
            Role::Recovering | Role::Backup(_) => None,
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
        if let Message::ViewPromise {
            accepted,
            incarnation,
        } = envelope.message
        {
            let view = envelope.view;
            return self.handle_promise(from, view, incarnation, accepted, now_ticks, out);
        }
        self.adopt_newer_view(envelope.view, now_ticks, out);
        let processes = self.processes;
        match &mut self.role {
            Role::Fencing(_, fence, _) => return fence.defer(envelope, processes),
            Role::Primary(..) => {}
            // Only a leader serves processes; they retry to the other manager.
            Role::Recovering | Role::Backup(_) => return,
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
                let Some(replica) = self.replica_mut() else {
                    return;
                };
                if replica
                    .serializer
                    .confirm_invalidation(page, request, version, from)
                {
                    // Still gated: the forward goes out when the acknowledgement comes.
                    self.drive(page, now_ticks, out);
                }
            }
            _ => {}
        }
    }

    /// The viewstamp the next appended entry gets.
    fn next_stamp(&self) -> Option<Viewstamp> {
        let replica = self.replica()?;
        Some(Viewstamp {
            view: self.view,
            index: replica.last.index + 1,
        })
    }

    fn admit(
        &mut self,
        page: PageId,
        request: RequestId,
        kind: OperationKind,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        let (Some(at), Some(replica)) = (self.next_stamp(), self.replica_mut()) else {
            return;
        };
        let serializer = &mut replica.serializer;
        let entry = LogEntry::Admit {
            page,
            request,
            kind,
        };
        match serializer.admit(page, request, kind, at) {
            Admission::Began => {
                self.append(at, entry);
                self.gate(page, at.index);
                self.drive(page, now_ticks, out);
            }
            Admission::Queued => self.append(at, entry),
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
        let (Some(at), Some(replica)) = (self.next_stamp(), self.replica_mut()) else {
            return;
        };
        let Some(completed) = replica.serializer.confirm(page, request, version, kind, at) else {
            return; // not the page's transaction: a repeat, or stale
        };
        let entry = LogEntry::Confirm {
            page,
            request,
            version,
            kind,
        };
        self.append(at, entry);
        if let Some(leader) = self.leader_mut() {
            leader.gated.remove(&page);
            leader.driven_at_ticks.remove(&page);
        }
        if completed.next_began {
            self.gate(page, at.index);
            self.drive(page, now_ticks, out);
        }
    }

    /// Records that the replica now reflects entry `at`, and queues the entry for the
    /// backup, if there is one.
    fn append(&mut self, at: Viewstamp, entry: LogEntry) {
        if let Some(replica) = self.replica_mut() {
            debug_assert_eq!(at.index, replica.last.index + 1, "entries in order");
            replica.last = at;
        }
        if let Some(link) = self.leader_mut().and_then(|leader| leader.link.as_mut()) {
            link.push(at.index, entry);
        }
    }

    /// Holds back `page`'s commands until the backup has applied entry `index`.
    fn gate(&mut self, page: PageId, index: LogIndex) {
        let Some(leader) = self.leader_mut() else {
            return;
        };
        if leader
            .link
            .as_ref()
            .is_some_and(|link| index > link.acked_index)
        {
            leader.gated.insert(page, index);
        }
    }

    /// Sends what the transaction on `page` waits for, if this manager may act now:
    /// its view is established and the backup has the change that began it.
    pub(crate) fn drive(&mut self, page: PageId, now_ticks: u64, out: &mut Outbox) {
        let (id, view) = (self.id, self.view);
        let Role::Primary(replica, leader) = &mut self.role else {
            return;
        };
        if leader.gated.contains_key(&page) {
            return;
        }
        if replica.serializer.drive(page, id, view, out) {
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
}

//! The process's message handlers, one per message it can receive.

use super::{PageEntry, Process};
use crate::protocol::ids::{PageId, PageVersion, RequestId};
use crate::protocol::message::Message;
use crate::protocol::node::Outbox;
use crate::protocol::operation::{Operation, OperationKind};
use crate::protocol::page::{Access, PageBuffer};
use std::collections::BTreeMap;

impl Process {
    pub(super) fn dispatch(&mut self, message: Message, out: &mut Outbox) {
        match message {
            Message::ReadForward {
                page,
                request,
                version,
                ..
            } => self.handle_read_forward(page, request, version, out),
            Message::ReadPage {
                page,
                request,
                version,
                data,
            } => self.handle_read_page(page, request, version, data, out),
            Message::Invalidate {
                page,
                request,
                version,
                ..
            } => self.handle_invalidate(page, request, version, out),
            Message::WriteForward {
                page,
                request,
                version,
                ..
            } => self.handle_write_forward(page, request, version, out),
            Message::WritePage {
                page,
                request,
                version,
                data,
            } => self.handle_write_page(page, request, version, data, out),
            Message::ReadRequest { .. }
            | Message::ReadConfirmation { .. }
            | Message::WriteRequest { .. }
            | Message::InvalidateConfirmation { .. }
            | Message::WriteConfirmation { .. } => {
                debug_assert!(false, "a manager's message reached process {}", self.id)
            }
            // Replication and view-change traffic is between managers; the
            // fault-tolerant process handles views before dispatching here.
            _ => {}
        }
    }

    /// The owner sends a read-only copy and keeps ownership with Read access.
    fn handle_read_forward(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        out: &mut Outbox,
    ) {
        let Some(entry) = self.pages.get_mut(page) else {
            return; // no such page: `handle_message` lets none through
        };
        if version < entry.version || !entry.is_owner {
            return; // stale: this transaction is over, or we no longer own the page
        }
        advance(entry, &mut self.handoffs, page, version);
        entry.access = Access::Read;
        let data = entry.data.clone().expect("the owner has data");
        let message = Message::ReadPage {
            page,
            request,
            version,
            data,
        };
        out.send(self.id, request.process, self.view, message);
    }

    /// The requester installs its read-only copy, completes its read and confirms.
    fn handle_read_page(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        data: PageBuffer,
        out: &mut Outbox,
    ) {
        let pending = self.is_pending(request, page);
        if pending {
            let Some(entry) = self.pages.get_mut(page) else {
                return; // no such page: `handle_message` lets none through
            };
            advance(entry, &mut self.handoffs, page, version);
            let value = data.value();
            entry.access = Access::Read;
            entry.data = Some(data);
            self.complete(value, out);
        }
        let confirmation = Message::confirmation(OperationKind::Read, page, request, version);
        self.confirm_if_ours(pending, request, confirmation, out);
    }

    /// A copy holder drops its copy and confirms.
    fn handle_invalidate(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        out: &mut Outbox,
    ) {
        let Some(entry) = self.pages.get_mut(page) else {
            return; // no such page: `handle_message` lets none through
        };
        if version < entry.version || entry.is_owner {
            return; // stale: the owner is never in the copy set
        }
        advance(entry, &mut self.handoffs, page, version);
        entry.access = Access::Nil;
        entry.data = None;
        self.reply_to_manager(
            Message::InvalidateConfirmation {
                page,
                request,
                version,
            },
            out,
        );
    }

    /// The owner hands the page and its ownership to the requester; when the owner is
    /// the requester, the forward grants its upgrade from Read to ReadWrite in place.
    fn handle_write_forward(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        out: &mut Outbox,
    ) {
        if request.process == self.id {
            return self.handle_upgrade_grant(page, request, version, out);
        }
        let retain_handoff = self.options.retain_handoff;
        let Some(entry) = self.pages.get_mut(page) else {
            return; // no such page: `handle_message` lets none through
        };
        if version < entry.version {
            return; // stale
        }
        let data = if entry.is_owner {
            advance(entry, &mut self.handoffs, page, version);
            entry.is_owner = false;
            entry.access = Access::Nil;
            let data = entry.data.take().expect("the owner has data");
            if retain_handoff {
                self.handoffs.insert(page, data.clone());
            }
            data
        } else if let (true, Some(handoff)) = (version == entry.version, self.handoffs.get(&page)) {
            handoff.clone() // a repeated forward: hand over the same page again
        } else {
            return; // stale: we no longer own the page
        };
        let message = Message::WritePage {
            page,
            request,
            version,
            data,
        };
        out.send(self.id, request.process, self.view, message);
    }

    /// The owner's own write fault is granted in place: it keeps its page and gains
    /// ReadWrite.
    fn handle_upgrade_grant(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        out: &mut Outbox,
    ) {
        self.grant_write(page, request, version, None, out);
    }

    /// The requester becomes the owner with ReadWrite, completes its write and confirms.
    fn handle_write_page(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        data: PageBuffer,
        out: &mut Outbox,
    ) {
        self.grant_write(page, request, version, Some(data), out);
    }

    /// Completes the pending write fault `request` with ownership and ReadWrite, with
    /// the page `data` handed over (or, for an upgrade in place, the copy already
    /// held), and confirms; a repeated grant of a completed fault only confirms again.
    fn grant_write(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        data: Option<PageBuffer>,
        out: &mut Outbox,
    ) {
        let pending = self.is_pending(request, page);
        if pending {
            let Some(entry) = self.pages.get_mut(page) else {
                return; // no such page: `handle_message` lets none through
            };
            if data.is_none() && !entry.is_owner {
                return; // malformed: only the owner is granted an upgrade in place
            }
            advance(entry, &mut self.handoffs, page, version);
            entry.is_owner = true;
            entry.access = Access::ReadWrite;
            if data.is_some() {
                entry.data = data;
            }
            self.complete_write(page, out);
        }
        let confirmation = Message::confirmation(OperationKind::Write, page, request, version);
        self.confirm_if_ours(pending, request, confirmation, out);
    }

    /// Confirms a grant to the manager if it answered this process's fault: the one
    /// pending (`was_pending`), or one completed before (the confirmation was lost
    /// and the grant resent). A grant for a fault that is not ours (a malformed
    /// message) changes nothing.
    fn confirm_if_ours(
        &mut self,
        was_pending: bool,
        request: RequestId,
        confirmation: Message,
        out: &mut Outbox,
    ) {
        if was_pending || self.has_completed(request) {
            self.reply_to_manager(confirmation, out);
        }
    }

    /// Stores the pending write's value, now that this process owns the page with
    /// ReadWrite, and completes it.
    fn complete_write(&mut self, page: PageId, out: &mut Outbox) {
        let pending = self.pending.as_ref().expect("a pending write");
        let Operation::Write { value, .. } = pending.operation else {
            unreachable!("complete_write on a read fault");
        };
        let Some(entry) = self.pages.get_mut(page) else {
            return; // no such page: `handle_message` lets none through
        };
        entry
            .data
            .as_mut()
            .expect("the owner has data")
            .store(value);
        self.complete(value, out);
    }

    /// Reports the pending fault as done.
    fn complete(&mut self, value: u64, out: &mut Outbox) {
        let pending = self.pending.take().expect("a pending fault");
        self.last_completed_sequence = pending.request.sequence;
        self.report(pending.operation, value, Some(pending.request), out);
    }

    /// Sends a confirmation to the page's manager: the one this process believes is
    /// primary, or the manager of the page's share.
    fn reply_to_manager(&self, message: Message, out: &mut Outbox) {
        let share = message.page().and_then(|page| self.options.share_of(page));
        let manager = share.map_or_else(|| self.primary(), |index| self.options.managers[index]);
        out.send(self.id, manager, self.view, message);
    }

    fn is_pending(&self, request: RequestId, page: PageId) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|pending| pending.request == request && pending.operation.page() == page)
    }

    fn has_completed(&self, request: RequestId) -> bool {
        request.process == self.id && request.sequence <= self.last_completed_sequence
    }
}

/// Records that this process takes part in the page's transaction `version`; a page
/// kept for a repeated hand-over belongs to an older transaction and is dropped.
fn advance(
    entry: &mut PageEntry,
    handoffs: &mut BTreeMap<PageId, PageBuffer>,
    page: PageId,
    version: PageVersion,
) {
    if version > entry.version {
        entry.version = version;
        if !handoffs.is_empty() {
            handoffs.remove(&page);
        }
    }
}

//! The owner-side process's message handlers: serving, queueing or forwarding a
//! request; receiving a read copy, or the page with its ownership and copy set;
//! invalidations and their confirmations.
//!
//! An invalidation that reaches a reader before its copy waits for the copy (the
//! reader's lock on the page, as in the paper), so that the write that sent it
//! completes only after the read. Page versions order the writes of a page (each
//! write that moves or upgrades ownership takes the next one); the checks of them
//! here (a copy older than an invalidation already obeyed is not kept, an older
//! invalidation drops nothing) guard against messages this reliable network never
//! delivers late, and cost nothing.

use crate::page_state::{HandOver, Request};
use crate::process::{Invalidation, OwnerProcess};
use crate::Algorithm;
use ivy_core::{
    Access, CopySet, Envelope, Message, NodeId, OperationKind, Outbox, PageBuffer, PageId,
    PageVersion, RequestId, View,
};

impl OwnerProcess {
    /// Handles a message about an existing page.
    pub(crate) fn handle(&mut self, envelope: Envelope, out: &mut Outbox) {
        let from = envelope.from;
        match envelope.message {
            Message::ReadRequest { page, request } => {
                let kind = OperationKind::Read;
                self.handle_request(page, Request { request, kind }, out)
            }
            Message::WriteRequest { page, request } => {
                let kind = OperationKind::Write;
                self.handle_request(page, Request { request, kind }, out)
            }
            Message::ReadPage {
                page,
                request,
                version,
                data,
            } => self.receive_copy(page, request, version, data, from, out),
            Message::OwnerPage {
                page,
                request,
                version,
                data,
                copy_set,
                served,
            } => {
                let ownership = (version, data, copy_set, served);
                self.receive_ownership(page, request, ownership, out)
            }
            Message::Invalidate {
                page,
                request,
                version,
                ..
            } => {
                let invalidation = Invalidation {
                    page,
                    request,
                    version,
                    from,
                };
                let copy_on_its_way = self.is_reading(page)
                    && self.pages.get(page).is_some_and(|e| e.value().is_none());
                match copy_on_its_way {
                    true => {
                        // A write completes only after every copy confirmed, so no
                        // second invalidation reaches a reader that deferred one.
                        debug_assert!(self.deferred.is_none(), "{}: two deferred", self.id);
                        self.deferred = Some(invalidation)
                    }
                    false => self.invalidate(invalidation, out),
                }
            }
            Message::InvalidateConfirmation {
                page,
                request,
                version,
            } => self.confirm_invalidation(page, request, version, from, out),
            Message::OwnerIs { page, version } => self.learn_owner(page, version, from),
            _ => {} // the central manager's messages are not part of these algorithms
        }
    }

    /// The owner serves a request; a process about to own the page (its own write is
    /// under way) keeps it until the write is done; any other forwards it.
    pub(crate) fn handle_request(&mut self, page: PageId, request: Request, out: &mut Outbox) {
        if request.request.process == self.id {
            debug_assert!(false, "{}: its own request came back", self.id);
            return; // a hint never leads back to the requester
        }
        let entry = self.pages.get(page);
        let owns = entry.is_some_and(|entry| entry.is_owner());
        let serves_copies = self.algorithm == Algorithm::DynamicCopyTree
            && request.kind == OperationKind::Read
            && entry.is_some_and(|entry| entry.value().is_some());
        if self.is_writing(page) {
            self.state_mut(page).waiting.push_back(request);
        } else if owns || serves_copies {
            self.serve(page, request, out);
        } else if self.algorithm == Algorithm::Broadcast {
            self.keep_unserved(page, request);
        } else {
            self.forward(page, request, out);
        }
    }

    /// Passes a request on to the probable owner; a write request leaves the hint
    /// pointing at its writer, who will own the page.
    fn forward(&mut self, page: PageId, request: Request, out: &mut Outbox) {
        let state = self.state_mut(page);
        let to = state.prob_owner;
        if request.kind == OperationKind::Write {
            state.prob_owner = request.request.process;
        }
        self.send_request(to, page, request, out);
    }

    /// The owner answers: a read copy (the reader joins the copy set, and the owner
    /// keeps Read), or the page with its ownership and copy set. With distributed
    /// copy sets a holder of a copy answers a read too, from its copy.
    fn serve(&mut self, page: PageId, request: Request, out: &mut Outbox) {
        if self.algorithm == Algorithm::Broadcast && self.was_served(page, request) {
            return; // another owner heard this broadcast first and served it
        }
        let requester = request.request.process;
        match request.kind {
            OperationKind::Read => {
                self.state_mut(page).copy_set.insert(requester);
                let entry = self.entry_mut(page);
                entry.set_access(Access::Read);
                let message = Message::ReadPage {
                    page,
                    request: request.request,
                    version: entry.version(),
                    data: entry.data().expect("an owner holds the page").clone(),
                };
                out.send(self.id, requester, View(0), message);
                if self.pages.get(page).is_some_and(|entry| entry.is_owner()) {
                    self.count_fault_ended_here(page, out);
                }
            }
            OperationKind::Write => {
                let entry = self.entry_mut(page);
                let version = entry.version().next();
                let data = entry.data().expect("an owner holds the page").clone();
                entry.set_owner(false);
                entry.set_access(Access::Nil);
                entry.set_data(None);
                entry.set_version(version);
                let state = self.state_mut(page);
                let copy_set = std::mem::take(&mut state.copy_set);
                let served = std::mem::take(&mut state.served);
                state.prob_owner = requester;
                state.handed = Some(HandOver {
                    to: request.request,
                    version,
                    copy_set: copy_set.clone(),
                });
                let message = Message::OwnerPage {
                    page,
                    request: request.request,
                    version,
                    data,
                    copy_set,
                    served,
                };
                out.send(self.id, requester, View(0), message);
            }
        }
    }

    /// A read copy arrives: the read completes; the copy is kept unless a later
    /// write's invalidation overtook it.
    fn receive_copy(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        data: PageBuffer,
        from: NodeId,
        out: &mut Outbox,
    ) {
        let Some(pending) = self.pending.filter(|p| p.request == request) else {
            return; // not the copy this process waits for: changes nothing
        };
        let value = data.value();
        let entry = self.entry_mut(page);
        if version >= entry.version() && !entry.is_owner() {
            entry.set_access(Access::Read);
            entry.set_data(Some(data));
            entry.set_version(version);
        }
        self.state_mut(page).prob_owner = from;
        self.pending = None;
        self.complete(pending.operation, value, Some(request), out);
        if let Some(invalidation) = self.deferred.take() {
            self.invalidate(invalidation, out);
        }
    }

    /// The page arrives with its ownership: the new owner invalidates the copies
    /// that came with it (holding Read meanwhile), then writes.
    fn receive_ownership(
        &mut self,
        page: PageId,
        request: RequestId,
        (version, data, mut copy_set, served): (PageVersion, PageBuffer, CopySet, Vec<u64>),
        out: &mut Outbox,
    ) {
        let Some(pending) = self.pending.as_mut().filter(|p| p.request == request) else {
            debug_assert!(false, "{}: ownership of {page} it did not ask for", self.id);
            return;
        };
        pending.has_page = true;
        let entry = self.entry_mut(page);
        entry.set_owner(true);
        entry.set_access(Access::Read);
        entry.set_data(Some(data));
        entry.set_version(version);
        let id = self.id;
        let state = self.state_mut(page);
        // With distributed copy sets, the copies this process gave from its own copy
        // are invalidated with the rest.
        for child in state.copy_set.iter() {
            copy_set.insert(child);
        }
        copy_set.remove(id);
        state.prob_owner = id;
        state.copy_set = copy_set;
        state.served = served;
        self.invalidate_copies(page, request, version, out);
        self.finish_write_if_done(page, out);
    }

    /// A new owner's invalidation: the copy goes (unless it is newer), the hint
    /// points at the new owner, and the confirmation goes back.
    fn invalidate(&mut self, invalidation: Invalidation, out: &mut Outbox) {
        let Invalidation {
            page,
            request,
            version,
            from,
        } = invalidation;
        let entry = self.entry_mut(page);
        if version > entry.version() && !entry.is_owner() {
            entry.set_access(Access::Nil);
            entry.set_data(None);
            entry.set_version(version);
            self.state_mut(page).prob_owner = from;
            if self.relay_invalidation(invalidation, out) {
                return; // confirmed once the copies given from this one are gone
            }
        }
        let message = Message::InvalidateConfirmation {
            page,
            request,
            version,
        };
        out.send(self.id, from, View(0), message);
    }

    fn confirm_invalidation(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        from: NodeId,
        out: &mut Outbox,
    ) {
        let current = self.pages.get(page).map(|entry| entry.version());
        let ours = self
            .pending
            .is_some_and(|p| p.request == request && p.has_page);
        if !ours {
            return self.confirm_relayed(page, request, from, out);
        }
        if current == Some(version) {
            self.state_mut(page).copy_set.remove(from);
            self.finish_write_if_done(page, out);
        }
    }

    /// Completes the write under way on `page` once it holds the page and every copy
    /// is invalidated; then serves the requests that waited for it, in order.
    pub(crate) fn finish_write_if_done(&mut self, page: PageId, out: &mut Outbox) {
        let Some(pending) = self.pending.filter(|p| p.has_page) else {
            return;
        };
        if pending.operation.page() != page || !self.state_mut(page).copy_set.is_empty() {
            return;
        }
        let ivy_core::Operation::Write { value, .. } = pending.operation else {
            unreachable!("only a write holds the page while it waits");
        };
        let entry = self.entry_mut(page);
        entry.set_access(Access::ReadWrite);
        entry
            .data_mut()
            .expect("the owner holds the page")
            .store(value);
        self.pending = None;
        self.complete(pending.operation, value, Some(pending.request), out);
        self.count_fault_ended_here(page, out);
        self.serve_waiting(page, out);
    }
}

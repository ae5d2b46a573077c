//! The broadcast manager's part of the owner-side process. A fault goes to every
//! other process, and only the owner answers; but a request can reach a process
//! before the page does (the owner handed it over meanwhile) and reach the old owner
//! after it let the page go. So every process keeps, per requester, the last request
//! it could not serve, and serves those for a page when it comes to own it; the page
//! carries, per process, the last of its faults an owner served, so that a request
//! heard by several owners is served once.

use crate::page_state::Request;
use crate::process::OwnerProcess;
use ivy_core::{NodeId, Outbox, PageId};

impl OwnerProcess {
    /// Sends this process's fault to every other process.
    pub(crate) fn broadcast(&self, page: PageId, request: Request, out: &mut Outbox) {
        for other in (0..self.processes).map(NodeId).filter(|&id| id != self.id) {
            self.send_request(other, page, request, out);
        }
    }

    /// A request this process can neither serve nor hold for its own write: kept
    /// until it owns the page, in place of any older request of that requester.
    pub(crate) fn keep_unserved(&mut self, page: PageId, request: Request) {
        let slot = &mut self.unserved[request.request.process.index()];
        if slot.is_none_or(|(_, kept)| kept.request.sequence < request.request.sequence) {
            *slot = Some((page, request));
        }
    }

    /// Whether an owner of `page` already served `request`.
    pub(crate) fn was_served(&mut self, page: PageId, request: Request) -> bool {
        let processes = self.processes as usize;
        let served = &mut self.state_mut(page).served;
        served.resize(processes, 0);
        let requester = request.request.process.index();
        let already = served[requester] >= request.request.sequence;
        served[requester] = served[requester].max(request.request.sequence);
        already
    }

    /// Now that this process owns `page`, the requests for it that it kept.
    pub(crate) fn take_unserved(&mut self, page: PageId) -> Vec<Request> {
        let mut taken = Vec::new();
        for slot in &mut self.unserved {
            if let Some((kept_page, request)) = *slot {
                if kept_page == page {
                    taken.push(request);
                    *slot = None;
                }
            }
        }
        taken
    }

    /// Serves what waited for this process to own `page`, in order: the requests
    /// held for its write, then (broadcast) those it kept unserved.
    pub(crate) fn serve_waiting(&mut self, page: PageId, out: &mut Outbox) {
        let mut waiting: Vec<Request> = std::mem::take(&mut self.state_mut(page).waiting).into();
        if self.algorithm == crate::Algorithm::Broadcast {
            waiting.extend(self.take_unserved(page));
        }
        for request in waiting {
            self.handle_request(page, request, out);
        }
    }
}

//! The process of the owner-side algorithms. It keeps the same page entries as the
//! central manager's process, and per page ([`crate::page_state`]) a probable owner,
//! the copy set while it owns the page, and the requests waiting for its own write.
//!
//! How the probable owner changes (Li & Hudak's dynamic distributed manager, the
//! same rules for the improved central manager's processes, which only follow
//! their hints when a forwarded fault finds the page gone):
//! - the owner hands the page to a writer: the writer;
//! - a process forwards a write request: its writer (who will own the page);
//! - a read copy arrives: the process that sent it;
//! - an invalidation arrives: the new owner that sent it;
//! - the page arrives with its ownership: the process itself.
//!
//! A forwarded *read* request leaves the hint alone: the reader will not own the
//! page, and pointing at a process that does not hold it yet could close a loop.

use crate::algorithm::Algorithm;
use crate::page_state::{PageState, Request};
use ivy_core::{
    Access, Completion, Deadline, Envelope, Message, Node, NodeId, Operation, OperationKind,
    Outbox, PageEntry, PageId, PageTable, ProcessNode, ProcessView, RequestId, StartError,
    SystemConfig, View, Viewstamp,
};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// The fault this process waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Pending {
    pub request: RequestId,
    pub operation: Operation,
    /// A write holds the page (it arrived, or the process owned it): it completes
    /// once every copy is invalidated.
    pub has_page: bool,
}

/// A process of the improved central or the dynamic distributed manager.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnerProcess {
    pub(crate) id: NodeId,
    pub(crate) processes: u32,
    pub(crate) algorithm: Algorithm,
    pub(crate) pages: PageTable,
    /// The owner-side state of the pages that have any beyond their initial one.
    pub(crate) states: BTreeMap<PageId, PageState>,
    next_sequence: u64,
    pub(crate) pending: Option<Pending>,
    /// An invalidation that reached this process while its read copy of that page
    /// was on its way: it is obeyed, and confirmed, once the copy has arrived and the
    /// read completed (the page's lock, held by the read fault, as in the paper).
    pub(crate) deferred: Option<Invalidation>,
    /// The broadcast manager's requests this process heard but could not serve,
    /// the last of each requester (see [`crate::broadcast`]); empty otherwise.
    pub(crate) unserved: Vec<Option<(PageId, Request)>>,
    /// With the dynamic algorithms: the owner of a page tells every process so after
    /// this many faults on it end at it (`None`: never).
    pub(crate) owner_broadcast_every: Option<u32>,
}

/// An invalidation to obey: the page, the write that sent it, and its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Invalidation {
    pub page: PageId,
    pub request: RequestId,
    pub version: ivy_core::PageVersion,
    pub from: NodeId,
}

impl OwnerProcess {
    /// Every process of the system of `config` following `algorithm`, in id order,
    /// in the initial layout (page `p` owned by process `p % processes`).
    pub fn all(config: &SystemConfig, algorithm: Algorithm) -> Vec<OwnerProcess> {
        let new = |id| OwnerProcess {
            id,
            processes: config.processes,
            algorithm,
            pages: PageTable::new(id, config),
            states: BTreeMap::new(),
            next_sequence: 1,
            pending: None,
            deferred: None,
            owner_broadcast_every: None,
            unserved: match algorithm {
                Algorithm::Broadcast => vec![None; config.processes as usize],
                _ => Vec::new(),
            },
        };
        config.process_ids().map(new).collect()
    }

    /// This process, which (as owner of a page) tells every process it owns the page
    /// after every `faults` faults on it that end at it: the paper's variant of the
    /// dynamic algorithm that refreshes every probable owner now and then.
    pub fn broadcasting_ownership_every(mut self, faults: u32) -> OwnerProcess {
        self.owner_broadcast_every = Some(faults.max(1));
        self
    }

    /// The algorithm this process follows.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Where this process believes `page`'s owner is (itself while it owns it).
    pub fn prob_owner(&self, page: PageId) -> NodeId {
        match self.states.get(&page) {
            Some(state) => state.prob_owner,
            None => self.initial_owner(page),
        }
    }

    /// While this process owns `page`: the processes it records as holding Read
    /// copies (while it invalidates them for its write, those not yet confirmed).
    pub fn copy_set(&self, page: PageId) -> Option<&ivy_core::CopySet> {
        let owns = self.pages.get(page).is_some_and(PageEntry::is_owner);
        owns.then(|| self.states.get(&page).map(|state| &state.copy_set))
            .flatten()
    }

    /// The fault this process waits on, if any: its request and operation.
    pub fn pending(&self) -> Option<(RequestId, Operation)> {
        self.pending
            .map(|pending| (pending.request, pending.operation))
    }

    /// Whether this process waits to write `page` (it will own it, so a request for
    /// the page that reaches it waits for the write to finish).
    pub fn is_writing(&self, page: PageId) -> bool {
        self.pending.is_some_and(|pending| {
            pending.operation.page() == page && pending.operation.kind() == OperationKind::Write
        })
    }

    /// Whether this process waits to read `page`.
    pub fn is_reading(&self, page: PageId) -> bool {
        self.pending.is_some_and(|pending| {
            pending.operation.page() == page && pending.operation.kind() == OperationKind::Read
        })
    }

    pub(crate) fn initial_owner(&self, page: PageId) -> NodeId {
        NodeId(page.0 % self.processes)
    }

    /// `page`'s owner-side state, created in its initial form on first use.
    pub(crate) fn state_mut(&mut self, page: PageId) -> &mut PageState {
        let owner = self.initial_owner(page);
        self.states
            .entry(page)
            .or_insert_with(|| PageState::initial(owner))
    }

    pub(crate) fn entry_mut(&mut self, page: PageId) -> &mut PageEntry {
        self.pages
            .get_mut(page)
            .expect("handlers see only pages that exist")
    }

    /// Sends a request for `page` (the process's own fault, or one it forwards).
    pub(crate) fn send_request(
        &self,
        to: NodeId,
        page: PageId,
        request: Request,
        out: &mut Outbox,
    ) {
        let message = match request.kind {
            OperationKind::Read => Message::ReadRequest {
                page,
                request: request.request,
            },
            OperationKind::Write => Message::WriteRequest {
                page,
                request: request.request,
            },
        };
        out.send(self.id, to, View(0), message);
    }

    pub(crate) fn complete(
        &self,
        operation: Operation,
        value: u64,
        fault: Option<RequestId>,
        out: &mut Outbox,
    ) {
        out.completions
            .push(Completion::of(self.id, operation, value, fault));
    }

    /// The id of this process's next fault.
    fn next_request(&mut self) -> RequestId {
        let request = RequestId {
            process: self.id,
            sequence: self.next_sequence,
        };
        self.next_sequence += 1;
        request
    }

    /// Faults on `operation`: asks the manager, or the page's probable owner.
    fn fault(&mut self, operation: Operation, out: &mut Outbox) {
        let request = self.next_request();
        self.pending = Some(Pending {
            request,
            operation,
            has_page: false,
        });
        let page = operation.page();
        let request = Request {
            request,
            kind: operation.kind(),
        };
        match self.algorithm {
            Algorithm::ImprovedCentral { manager } => {
                self.send_request(manager, page, request, out)
            }
            Algorithm::Dynamic | Algorithm::DynamicCopyTree => {
                self.send_request(self.prob_owner(page), page, request, out)
            }
            Algorithm::Broadcast => self.broadcast(page, request, out),
        }
    }

    /// The owner, holding a Read copy, writes: it invalidates every copy first
    /// (no request travels: it owns the page already).
    fn upgrade(&mut self, operation: Operation, out: &mut Outbox) {
        let page = operation.page();
        let request = self.next_request();
        self.pending = Some(Pending {
            request,
            operation,
            has_page: true,
        });
        let version = self.entry_mut(page).version().next();
        self.entry_mut(page).set_version(version);
        self.invalidate_copies(page, request, version, out);
        self.finish_write_if_done(page, out);
    }

    /// Sends an invalidation to every process in `page`'s copy set.
    pub(crate) fn invalidate_copies(
        &mut self,
        page: PageId,
        request: RequestId,
        version: ivy_core::PageVersion,
        out: &mut Outbox,
    ) {
        let id = self.id;
        for holder in self.state_mut(page).copy_set.iter() {
            let message = Message::Invalidate {
                page,
                request,
                version,
                stamp: Viewstamp::ZERO,
            };
            out.send(id, holder, View(0), message);
        }
    }
}

impl Node for OwnerProcess {
    type Timer = Infallible;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, envelope: Envelope, _now_ticks: u64, out: &mut Outbox) {
        match envelope.message.page() {
            Some(page) if self.pages.contains(page) => {}
            _ => return, // no such page, or a control message: nothing changes
        }
        self.handle(envelope, out);
    }

    /// Nothing here waits for time: the network is reliable.
    fn next_deadline(&self) -> Option<Deadline<Infallible>> {
        None
    }

    fn handle_timeout(&mut self, timer: Infallible, _now_ticks: u64, _out: &mut Outbox) {
        match timer {}
    }
}

impl ProcessView for OwnerProcess {
    fn node_id(&self) -> NodeId {
        self.id
    }

    fn page_entry(&self, page: PageId) -> Option<&PageEntry> {
        self.pages.get(page)
    }

    fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn probable_owner(&self, page: PageId) -> Option<NodeId> {
        self.algorithm
            .follows_hints()
            .then(|| self.prob_owner(page))
    }

    /// The processes this one gave read copies to: as owner, or, with distributed
    /// copy sets, as a holder of a copy.
    fn kept_copy_set(&self, page: PageId) -> Option<ivy_core::CopySet> {
        let kept = self.states.get(&page).map(|state| state.copy_set.clone());
        Some(kept.unwrap_or_default())
    }

    fn touched(&self) -> Option<Vec<PageId>> {
        let mut touched: Vec<PageId> = self.pages.touched()?.collect();
        touched.extend(self.states.keys().copied());
        touched.sort_unstable();
        touched.dedup();
        Some(touched)
    }
}

impl ProcessNode for OwnerProcess {
    fn start(
        &mut self,
        operation: Operation,
        _now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<(), StartError> {
        if let Some(pending) = self.pending {
            return Err(StartError::Busy {
                process: self.id,
                pending: pending.request,
            });
        }
        let page = operation.page();
        let pages = self.pages.len() as u32;
        let entry = self.pages.get(page);
        let entry = entry.ok_or(StartError::UnknownPage { page, pages })?;
        match (operation, entry.access()) {
            (Operation::Read { .. }, Access::Read | Access::ReadWrite) => {
                let value = entry.value().expect("a readable page has a copy");
                self.complete(operation, value, None, out);
            }
            (Operation::Write { value, .. }, Access::ReadWrite) => {
                let entry = self.entry_mut(page);
                entry.data_mut().expect("a writer has a copy").store(value);
                self.complete(operation, value, None, out);
            }
            (Operation::Write { .. }, Access::Read) if entry.is_owner() => {
                self.upgrade(operation, out)
            }
            _ => self.fault(operation, out),
        }
        Ok(())
    }

    fn is_idle(&self) -> bool {
        self.pending.is_none()
    }

    fn authority(processes: &[OwnerProcess]) -> Option<Box<dyn ivy_core::PageAuthority + '_>> {
        Some(Box::new(crate::authority::OwnerSide::new(processes)))
    }

    /// The probable owners lead to the owners (the broadcast manager follows no
    /// hints: it has nothing more to check).
    fn check_algorithm(
        processes: &[OwnerProcess],
        page: Option<PageId>,
    ) -> Result<(), ivy_core::CoherenceViolation> {
        match processes.first().map(OwnerProcess::algorithm) {
            Some(Algorithm::Broadcast) | None => Ok(()),
            Some(_) => crate::authority::check_hints(processes, page),
        }
    }
}

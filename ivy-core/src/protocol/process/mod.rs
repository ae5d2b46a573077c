//! The process state machine: a node that performs reads and writes on shared pages,
//! faults to the manager when it lacks access, and serves the manager's forwards and
//! invalidations, including while its own fault is outstanding.
//!
//! Handlers are idempotent: a duplicated or stale message (recognised by its page
//! version, or by a request this process already completed) changes nothing and at
//! most repeats the reply, so the fault-tolerant managers can re-drive a transaction.

mod handlers;
mod options;
mod page_table;
#[cfg(test)]
mod tests;

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{Incarnation, NodeId, PageId, RequestId, View};
use crate::protocol::message::{Envelope, Message};
use crate::protocol::node::{Deadline, Node, Outbox};
use crate::protocol::operation::{Completion, Operation};
use crate::protocol::page::{Access, PageBuffer};
use crate::replication::LogPosition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

pub use options::{ProcessOptions, Routing};
pub use page_table::PageEntry;
pub use page_table::PageTable;

/// The fault a process is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PendingFault {
    /// The request sent.
    pub request: RequestId,
    /// The operation that faulted.
    pub operation: Operation,
    /// When the request was last sent.
    pub sent_at_ticks: u64,
    /// Which manager (index into `ProcessOptions::managers`) it was last sent to.
    pub manager_index: usize,
}

/// An operation a process could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum StartError {
    /// The process already waits on a fault; a process has one operation at a time.
    #[error("process {process} already waits on fault {pending}")]
    Busy {
        /// The process.
        process: NodeId,
        /// Its outstanding fault.
        pending: RequestId,
    },
    /// The page does not exist.
    #[error("page {page} does not exist (there are {pages} pages)")]
    UnknownPage {
        /// The page asked for.
        page: PageId,
        /// How many pages there are.
        pages: u32,
    },
}

/// One process of the DSM.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Process {
    id: NodeId,
    options: ProcessOptions,
    view: View,
    /// The incarnation of `view`'s primary this process promised `view` to.
    promised_to: Incarnation,
    /// The newest viewstamp of a manager command this process obeyed, with the
    /// incarnation it had promised that view to.
    accepted: LogPosition,
    pages: PageTable,
    next_sequence: u64,
    last_completed_sequence: u64,
    pending: Option<PendingFault>,
    /// Pages handed over by a `WriteForward`, kept (with `retain_handoff`) to answer a
    /// repeated forward of the same transaction until a newer one touches the page.
    handoffs: BTreeMap<PageId, PageBuffer>,
}

impl Process {
    /// Every process of the system of `config`, in id order, in its initial state.
    pub fn all(config: &SystemConfig, options: &ProcessOptions) -> Vec<Process> {
        let new = |id| Process::new(id, config, options.clone());
        config.process_ids().map(new).collect()
    }

    /// Process `id` in its initial state: owner with ReadWrite of the pages
    /// `p` with `p % processes == id`, Nil elsewhere.
    pub fn new(id: NodeId, config: &SystemConfig, options: ProcessOptions) -> Process {
        assert!(config.is_process(id), "{id} is not a process id");
        assert!(!options.managers.is_empty(), "a process needs a manager");
        Process {
            id,
            options,
            view: View(0),
            promised_to: Incarnation(0),
            accepted: LogPosition::ZERO,
            pages: PageTable::new(id, config),
            next_sequence: 1,
            last_completed_sequence: 0,
            pending: None,
            handoffs: BTreeMap::new(),
        }
    }

    /// The process's view of `page`, or `None` if there is no such page.
    pub fn page(&self, page: PageId) -> Option<&PageEntry> {
        self.pages.get(page)
    }

    /// Every page and this process's entry for it, in page order.
    pub fn pages(&self) -> impl Iterator<Item = (PageId, &PageEntry)> + '_ {
        self.pages.iter()
    }

    /// The pages this process has touched, in a large system, whose page table keeps
    /// only those (every other page is as in the initial layout); `None` in a small
    /// one, whose table keeps every page.
    pub fn touched_pages(&self) -> Option<impl Iterator<Item = PageId> + '_> {
        self.pages.touched()
    }

    /// How many pages the system has.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// How this process reaches its manager(s).
    pub fn options(&self) -> &ProcessOptions {
        &self.options
    }

    /// The fault this process waits on, if any.
    pub fn pending(&self) -> Option<&PendingFault> {
        self.pending.as_ref()
    }

    /// Whether the process can start an operation.
    pub fn is_idle(&self) -> bool {
        self.pending.is_none()
    }

    /// The newest manager view this process has promised to follow: it ignores
    /// commands from older views and sends its requests to this view's primary.
    pub fn view(&self) -> View {
        self.view
    }

    /// The newest viewstamp of a command (forward or invalidation) this process
    /// obeyed: the view it was sent in, and the log entry whose state it acted on.
    pub fn accepted(&self) -> LogPosition {
        self.accepted
    }

    /// Starts `operation`. With enough access it completes at once (a local hit,
    /// reported in `out.completions`); otherwise the process sends a fault request to
    /// the manager and waits, serving other messages meanwhile.
    pub fn start(
        &mut self,
        operation: Operation,
        now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<(), StartError> {
        if let Some(pending) = &self.pending {
            return Err(StartError::Busy {
                process: self.id,
                pending: pending.request,
            });
        }
        let page = operation.page();
        let pages = self.pages.len() as u32;
        let entry = self.pages.get(page);
        let access = entry.ok_or(StartError::UnknownPage { page, pages })?.access;
        match (operation, access) {
            (Operation::Read { .. }, Access::Read | Access::ReadWrite) => {
                let value = entry.and_then(PageEntry::value);
                self.report(operation, value.expect("a valid copy has data"), None, out);
            }
            (Operation::Write { value, .. }, Access::ReadWrite) => {
                let entry = self.pages.get_mut(page).expect("the page exists");
                let data = entry.data.as_mut().expect("the owner has data");
                data.store(value);
                self.report(operation, value, None, out);
            }
            _ => self.send_fault(operation, now_ticks, out),
        }
        Ok(())
    }

    fn send_fault(&mut self, operation: Operation, now_ticks: u64, out: &mut Outbox) {
        let request = RequestId {
            process: self.id,
            sequence: self.next_sequence,
        };
        self.next_sequence += 1;
        let by_page = self.options.share_of(operation.page());
        let manager_index = by_page.unwrap_or_else(|| self.primary_index());
        self.pending = Some(PendingFault {
            request,
            operation,
            sent_at_ticks: now_ticks,
            manager_index,
        });
        self.send_request(out);
    }

    /// Incarnation `incarnation` of a manager is establishing `view`. Promise it if
    /// it is newer (and resend a pending fault to its primary at once), and tell the
    /// manager the newest view promised, to which incarnation, and the viewstamp of
    /// the newest command obeyed, so that it can tell whether its log holds
    /// everything a primary has acted on. A view already promised to another
    /// incarnation is not promised again: that incarnation may have acted in it.
    fn handle_new_view(
        &mut self,
        manager: NodeId,
        view: View,
        incarnation: Incarnation,
        now_ticks: u64,
        out: &mut Outbox,
    ) {
        if view > self.view {
            self.view = view;
            self.promised_to = incarnation;
            let primary_index = self.primary_index();
            let routed_by_view = self.options.routing == Routing::ByView;
            if let Some(pending) = self.pending.as_mut().filter(|_| routed_by_view) {
                pending.manager_index = primary_index;
                pending.sent_at_ticks = now_ticks;
                self.send_request(out);
            }
        }
        let promise = Message::ViewPromise {
            accepted: self.accepted,
            incarnation: self.promised_to,
        };
        out.send(self.id, manager, self.view, promise);
    }

    /// Sends (or resends) the pending fault's request to its chosen manager.
    fn send_request(&self, out: &mut Outbox) {
        let pending = self.pending.as_ref().expect("a pending fault");
        let page = pending.operation.page();
        let request = pending.request;
        let message = match pending.operation {
            Operation::Read { .. } => Message::ReadRequest { page, request },
            Operation::Write { .. } => Message::WriteRequest { page, request },
        };
        let manager = self.options.managers[pending.manager_index];
        out.send(self.id, manager, self.view, message);
    }

    fn primary_index(&self) -> usize {
        (self.view.0 % self.options.managers.len() as u64) as usize
    }

    /// The manager this process believes is primary.
    fn primary(&self) -> NodeId {
        self.options.managers[self.primary_index()]
    }

    fn report(
        &mut self,
        operation: Operation,
        value: u64,
        fault: Option<RequestId>,
        out: &mut Outbox,
    ) {
        out.completions
            .push(Completion::of(self.id, operation, value, fault));
    }

    fn is_manager(&self, node: NodeId) -> bool {
        self.options.managers.contains(&node)
    }
}

impl Node for Process {
    type Timer = ProcessTimer;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox) {
        if self.is_manager(envelope.from) {
            if let Message::NewView { incarnation } = envelope.message {
                let (from, view) = (envelope.from, envelope.view);
                return self.handle_new_view(from, view, incarnation, now_ticks, out);
            }
            if envelope.view < self.view {
                return; // fenced: a manager of an older view may no longer act
            }
            self.view = envelope.view;
            if let Some(stamp) = envelope.message.stamp() {
                // Commands come from established views, which every process
                // promised: the sender is the incarnation this one promised it to.
                let obeyed = LogPosition {
                    stamp,
                    leader: self.promised_to,
                };
                self.accepted = self.accepted.max(obeyed);
            }
        }
        match envelope.message.page() {
            Some(page) if self.pages.contains(page) => {}
            _ => return, // no such page, or a control message: nothing changes
        }
        self.dispatch(envelope.message, out);
    }

    fn next_deadline(&self) -> Option<Deadline<ProcessTimer>> {
        let timeout_ticks = self.options.retry_timeout_ticks?;
        let pending = self.pending.as_ref()?;
        Some(Deadline {
            at_ticks: pending.sent_at_ticks + timeout_ticks,
            timer: ProcessTimer::FaultRetry,
        })
    }

    /// The fault went unanswered for the retry timeout: resend it to the next manager.
    fn handle_timeout(&mut self, timer: ProcessTimer, now_ticks: u64, out: &mut Outbox) {
        let ProcessTimer::FaultRetry = timer;
        let manager_count = self.options.managers.len();
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        pending.sent_at_ticks = now_ticks;
        // The other replica; a page's share has one manager, asked again.
        if self.options.routing == Routing::ByView {
            pending.manager_index = (pending.manager_index + 1) % manager_count;
        }
        self.send_request(out);
    }
}

/// The timers of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcessTimer {
    /// The pending fault went unanswered (replicated managers only): resend it to the
    /// next manager.
    FaultRetry,
}

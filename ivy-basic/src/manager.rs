//! The central manager node.

use crate::serializer::{Admission, PageSerializer};
use ivy_core::{
    ActiveFault, Deadline, Directory, DirectoryView, Envelope, LogPosition, Message, Node, NodeId,
    OperationKind, Outbox, PageId, PageVersion, RequestId, SystemConfig, View, Viewstamp,
};
use std::convert::Infallible;

/// The single central manager: it owns the directory, serialises faults per page and
/// sends each transaction's forwards and invalidations at once. It works in view 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CentralManager {
    id: NodeId,
    serializer: PageSerializer,
}

impl CentralManager {
    /// The manager of a system of `config`, in its initial state.
    pub fn new(config: &SystemConfig) -> CentralManager {
        CentralManager::with_id(config, config.manager())
    }

    /// A manager of a system of `config` with node id `id`, in its initial state (a
    /// manager of one share of the pages runs on a process's node, with its id).
    pub fn with_id(config: &SystemConfig, id: NodeId) -> CentralManager {
        CentralManager {
            id,
            serializer: PageSerializer::new(config),
        }
    }

    /// The per-page serialisation state.
    pub fn serializer(&self) -> &PageSerializer {
        &self.serializer
    }

    fn handle_request(
        &mut self,
        page: PageId,
        request: RequestId,
        kind: OperationKind,
        out: &mut Outbox,
    ) {
        if self.serializer.admit(page, request, kind, Viewstamp::ZERO) == Admission::Began {
            self.serializer.drive(page, self.id, View(0), out);
        }
    }

    fn handle_confirmation(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        kind: OperationKind,
        out: &mut Outbox,
    ) {
        let completed = self
            .serializer
            .confirm(page, request, version, kind, Viewstamp::ZERO);
        if completed.is_some_and(|completed| completed.next_began) {
            self.serializer.drive(page, self.id, View(0), out);
        }
    }
}

impl Node for CentralManager {
    type Timer = Infallible;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, envelope: Envelope, _now_ticks: u64, out: &mut Outbox) {
        let message = envelope.message;
        let Some(page) = message.page() else {
            return; // replication and view changes do not concern a single manager
        };
        if self.serializer.directory().get(page).is_none() {
            return; // no such page: a malformed message changes nothing
        }
        match message {
            Message::ReadRequest { request, .. } => {
                self.handle_request(page, request, OperationKind::Read, out)
            }
            Message::WriteRequest { request, .. } => {
                self.handle_request(page, request, OperationKind::Write, out)
            }
            Message::InvalidateConfirmation {
                request, version, ..
            } => {
                let holder = envelope.from;
                if self
                    .serializer
                    .confirm_invalidation(page, request, version, holder)
                {
                    self.serializer.drive(page, self.id, View(0), out);
                }
            }
            Message::ReadConfirmation {
                request, version, ..
            } => self.handle_confirmation(page, request, version, OperationKind::Read, out),
            Message::WriteConfirmation {
                request, version, ..
            } => self.handle_confirmation(page, request, version, OperationKind::Write, out),
            Message::ReadForward { .. }
            | Message::ReadPage { .. }
            | Message::Invalidate { .. }
            | Message::WriteForward { .. }
            | Message::WritePage { .. } => {
                debug_assert!(false, "a process's message reached the manager")
            }
            _ => {}
        }
    }

    /// A reliable manager waits for nothing: it sets no timer.
    fn next_deadline(&self) -> Option<Deadline<Infallible>> {
        None
    }

    fn handle_timeout(&mut self, timer: Infallible, _now_ticks: u64, _out: &mut Outbox) {
        match timer {}
    }
}

impl DirectoryView for CentralManager {
    fn directory(&self) -> &Directory {
        self.serializer.directory()
    }

    fn active_fault(&self, page: PageId) -> Option<ActiveFault> {
        self.serializer.active_fault(page)
    }

    fn revision(&self) -> u64 {
        self.serializer.revision()
    }
}

impl ivy_core::ManagerNode for CentralManager {
    fn state(&self) -> Option<&dyn DirectoryView> {
        Some(self)
    }

    /// The single manager always holds the whole state and leads view 0.
    fn authority(&self) -> Option<(View, bool)> {
        Some((View(0), true))
    }

    /// A single manager cannot crash without losing the system: the simulator only
    /// crashes managers of a replicated pair, so this is never called.
    fn crashed(&self) -> CentralManager {
        unreachable!("the simulator never crashes a lone manager")
    }

    fn settled_view(&self) -> Option<View> {
        (self.serializer.held_pages() == 0).then_some(View(0))
    }

    fn phase(&self) -> &'static str {
        "central"
    }

    fn reach(&self) -> Option<LogPosition> {
        Some(LogPosition::ZERO)
    }
}

impl DirectoryView for PageSerializer {
    fn directory(&self) -> &Directory {
        PageSerializer::directory(self)
    }

    fn active_fault(&self, page: PageId) -> Option<ActiveFault> {
        PageSerializer::active_fault(self, page)
    }

    fn revision(&self) -> u64 {
        PageSerializer::revision(self)
    }
}

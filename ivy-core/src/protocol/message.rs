//! The protocol's messages. The variant docs are the protocol table (Li & Hudak,
//! section 3.1, the central manager algorithm).
//!
//! Every protocol message names its page and its request: the faulting process and its
//! request sequence number, so the true requester is known at every hop. Messages a
//! manager sends, and the replies to them, carry the page version of the transaction.
//!
//! The fault-tolerant managers add control messages that name no page: establishing a
//! view with the processes, replication, heartbeats and state transfer between the two
//! managers. The view they are about is the envelope's.

use crate::protocol::copy_set::CopySet;
use crate::protocol::ids::{Incarnation, NodeId, PageId, PageVersion, RequestId, View};
use crate::protocol::operation::OperationKind;
use crate::protocol::page::PageBuffer;
use crate::replication::{LogEntry, LogIndex, LogPosition, ManagerSnapshot, Viewstamp};
use serde::{Deserialize, Serialize};

/// One message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Message {
    /// Requester → manager: the requester faulted reading `page`.
    ReadRequest {
        /// The faulting page.
        page: PageId,
        /// The fault.
        request: RequestId,
    },
    /// Manager → owner: send a read-only copy of `page` to the requester, and keep
    /// ownership with Read access.
    ReadForward {
        /// The page to copy.
        page: PageId,
        /// The fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// The sender's log view and the index of the entry that began the
        /// transaction (see [`Viewstamp`]).
        stamp: Viewstamp,
    },
    /// Owner → requester: a read-only copy of the page.
    ReadPage {
        /// The page copied.
        page: PageId,
        /// The fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// The page's contents.
        data: PageBuffer,
    },
    /// Requester → manager: the copy arrived; add me to the copy set and release the page.
    ReadConfirmation {
        /// The page received.
        page: PageId,
        /// The fault served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
    },
    /// Requester → manager: the requester faulted writing `page`.
    WriteRequest {
        /// The faulting page.
        page: PageId,
        /// The fault.
        request: RequestId,
    },
    /// Manager → copy holder: drop your read-only copy of `page`.
    Invalidate {
        /// The page to drop.
        page: PageId,
        /// The write fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// The sender's log view and the index of the entry that began the
        /// transaction (see [`Viewstamp`]).
        stamp: Viewstamp,
    },
    /// Copy holder → manager: my copy is dropped.
    InvalidateConfirmation {
        /// The page dropped.
        page: PageId,
        /// The write fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
    },
    /// Manager → owner: give the page and its ownership to the requester. When the
    /// requester is the owner itself (it holds Read and wants ReadWrite), this is the
    /// grant of the upgrade and no page travels.
    WriteForward {
        /// The page to hand over.
        page: PageId,
        /// The write fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// The sender's log view and the index of the entry that began the
        /// transaction (see [`Viewstamp`]).
        stamp: Viewstamp,
    },
    /// Old owner → requester: the page, with its ownership and ReadWrite access.
    WritePage {
        /// The page handed over.
        page: PageId,
        /// The write fault being served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
        /// The page's contents.
        data: PageBuffer,
    },
    /// Requester → manager: I own the page now; record me as owner and release it.
    WriteConfirmation {
        /// The page received.
        page: PageId,
        /// The write fault served.
        request: RequestId,
        /// The transaction's page version.
        version: PageVersion,
    },
    /// Owner → requester, in the algorithms that keep the copy set with the owner
    /// (improved central, broadcast, dynamic distributed): the page with its
    /// ownership and its copy set, whose copies the new owner invalidates.
    OwnerPage {
        /// The page handed over.
        page: PageId,
        /// The write fault being served.
        request: RequestId,
        /// The page version the new owner's write begins.
        version: PageVersion,
        /// The page's contents.
        data: PageBuffer,
        /// The processes holding Read copies, for the new owner to invalidate.
        copy_set: CopySet,
        /// Per process, the sequence number of its last fault on this page that an
        /// owner served (the broadcast manager, whose requests reach every process,
        /// serves each once); empty where the algorithm does not track it.
        served: Vec<u64>,
    },
    /// Owner → every other process (the dynamic distributed manager's periodic
    /// broadcast): I own the page, at this version; point your probable owner here.
    OwnerIs {
        /// The page owned.
        page: PageId,
        /// The owner's page version when it broadcast.
        version: PageVersion,
    },
    /// Manager → process: the manager is establishing the envelope's view; promise to
    /// ignore every manager message from an older view.
    NewView {
        /// The manager's incarnation: a view is promised to one incarnation only, so
        /// a restarted manager never re-establishes a view its earlier life led.
        incarnation: Incarnation,
    },
    /// Process → manager: I promised the envelope's view (which is higher than the
    /// manager's if I had already promised a newer one) to `incarnation` (another
    /// one than the asker's when an earlier life of it took that view first).
    ViewPromise {
        /// The newest viewstamp of a command (forward or invalidation) I obeyed, with
        /// the incarnation that led its view: the manager may act only if its log
        /// holds it.
        accepted: LogPosition,
        /// The incarnation of the view's primary this process promised the view to.
        incarnation: Incarnation,
    },
    /// Primary → backup: apply these state changes, numbered from `first_index`.
    /// Entries appended in the envelope's view; the backup's viewstamps follow from it.
    Replicate {
        /// The backup incarnation the primary replicates to; another ignores it.
        incarnation: Incarnation,
        /// The log index of the first entry.
        first_index: LogIndex,
        /// The changes, in order.
        entries: Vec<LogEntry>,
        /// The sender leads an established view: the backup itself sends the commands
        /// of every transaction the entries begin, as soon as it has applied them (it
        /// then holds their state, so acting needs no round trip back to the primary).
        act: bool,
    },
    /// Backup → primary: I have applied every change up to `applied_index`.
    ReplicateAck {
        /// The sender's incarnation: the primary counts acknowledgements of the
        /// incarnation it replicates to, and only those.
        incarnation: Incarnation,
        /// The highest log index applied (cumulative).
        applied_index: LogIndex,
    },
    /// Primary → other manager: I am alive and lead the envelope's view.
    Heartbeat {
        /// The backup incarnation I replicate to (`None`: I lead alone). Another
        /// incarnation that follows my view asks me for a snapshot, which links it.
        backup: Option<Incarnation>,
    },
    /// Backup → primary: I am alive and follow you.
    HeartbeatAck {
        /// The sender's incarnation.
        incarnation: Incarnation,
        /// The highest log index applied (cumulative).
        applied_index: LogIndex,
    },
    /// Recovering manager → other manager: send me your whole state.
    SnapshotRequest {
        /// The requester's incarnation, which the snapshot and replication name.
        incarnation: Incarnation,
    },
    /// Primary → recovering manager: my whole state; follow me as backup from here on.
    Snapshot {
        /// The incarnation that asked for it; a later one ignores it.
        incarnation: Incarnation,
        /// The state.
        snapshot: Box<ManagerSnapshot>,
    },
    /// Primary → caught-up backup: take the primary role in the next view. The sender
    /// has stopped acting and follows that view as backup.
    HandOver {
        /// The backup incarnation the sender replicated to.
        incarnation: Incarnation,
        /// The last log index the sender applied: the new primary continues after it.
        last_index: LogIndex,
    },
}

impl Message {
    /// A process's confirmation to the manager that its `kind` fault on `page`,
    /// `request`, was granted at `version`.
    pub fn confirmation(
        kind: OperationKind,
        page: PageId,
        request: RequestId,
        version: PageVersion,
    ) -> Message {
        match kind {
            OperationKind::Read => Message::ReadConfirmation {
                page,
                request,
                version,
            },
            OperationKind::Write => Message::WriteConfirmation {
                page,
                request,
                version,
            },
        }
    }

    /// The manager's forward to the owner of `page` for the `kind` fault `request`
    /// of transaction version `version`, begun by the log entry at `stamp`.
    pub fn forward(
        kind: OperationKind,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        stamp: Viewstamp,
    ) -> Message {
        match kind {
            OperationKind::Read => Message::ReadForward {
                page,
                request,
                version,
                stamp,
            },
            OperationKind::Write => Message::WriteForward {
                page,
                request,
                version,
                stamp,
            },
        }
    }

    /// The page a protocol message is about; `None` for a control message.
    pub fn page(&self) -> Option<PageId> {
        match self {
            Message::ReadRequest { page, .. }
            | Message::ReadForward { page, .. }
            | Message::ReadPage { page, .. }
            | Message::ReadConfirmation { page, .. }
            | Message::WriteRequest { page, .. }
            | Message::Invalidate { page, .. }
            | Message::InvalidateConfirmation { page, .. }
            | Message::WriteForward { page, .. }
            | Message::WritePage { page, .. }
            | Message::OwnerPage { page, .. }
            | Message::OwnerIs { page, .. }
            | Message::WriteConfirmation { page, .. } => Some(*page),
            _ => None,
        }
    }

    /// The fault a protocol message serves; `None` for a control message.
    pub fn request(&self) -> Option<RequestId> {
        match self {
            Message::ReadRequest { request, .. }
            | Message::ReadForward { request, .. }
            | Message::ReadPage { request, .. }
            | Message::ReadConfirmation { request, .. }
            | Message::WriteRequest { request, .. }
            | Message::Invalidate { request, .. }
            | Message::InvalidateConfirmation { request, .. }
            | Message::WriteForward { request, .. }
            | Message::WritePage { request, .. }
            | Message::OwnerPage { request, .. }
            | Message::WriteConfirmation { request, .. } => Some(*request),
            _ => None,
        }
    }

    /// For a manager's command (forward or invalidation), the viewstamp of the entry
    /// that began its transaction.
    pub fn stamp(&self) -> Option<Viewstamp> {
        match self {
            Message::ReadForward { stamp, .. }
            | Message::Invalidate { stamp, .. }
            | Message::WriteForward { stamp, .. } => Some(*stamp),
            _ => None,
        }
    }

    /// The process whose fault a protocol message serves.
    pub fn requester(&self) -> Option<NodeId> {
        self.request().map(|request| request.process)
    }
}

/// A message in transit, with its sender, receiver and the sender's view.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Envelope {
    /// The sending node.
    pub from: NodeId,
    /// The receiving node.
    pub to: NodeId,
    /// The view the sender was in (always view 0 with a single manager).
    pub view: View,
    /// The message.
    pub message: Message,
}

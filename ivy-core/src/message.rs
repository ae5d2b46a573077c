//! The protocol's messages. The variant docs are the protocol table (Li & Hudak,
//! section 3.1, the central manager algorithm).
//!
//! Every message names its page and its request: the faulting process and its
//! request sequence number, so the true requester is known at every hop. Messages a
//! manager sends, and the replies to them, carry the page version of the transaction.

use crate::ids::{NodeId, PageId, PageVersion, RequestId, View};
use crate::page::PageBuffer;
use serde::Serialize;
use std::fmt;

/// One protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// The type of a message, without its fields: what the trace prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[allow(missing_docs)] // each kind is documented on its `Message` variant
pub enum MessageKind {
    ReadRequest,
    ReadForward,
    ReadPage,
    ReadConfirmation,
    WriteRequest,
    Invalidate,
    InvalidateConfirmation,
    WriteForward,
    WritePage,
    WriteConfirmation,
}

impl MessageKind {
    /// Every kind, in protocol order.
    pub const ALL: [MessageKind; 10] = [
        MessageKind::ReadRequest,
        MessageKind::ReadForward,
        MessageKind::ReadPage,
        MessageKind::ReadConfirmation,
        MessageKind::WriteRequest,
        MessageKind::Invalidate,
        MessageKind::InvalidateConfirmation,
        MessageKind::WriteForward,
        MessageKind::WritePage,
        MessageKind::WriteConfirmation,
    ];

    /// The name the trace prints.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::ReadRequest => "ReadRequest",
            MessageKind::ReadForward => "ReadForward",
            MessageKind::ReadPage => "ReadPage",
            MessageKind::ReadConfirmation => "ReadConfirmation",
            MessageKind::WriteRequest => "WriteRequest",
            MessageKind::Invalidate => "Invalidate",
            MessageKind::InvalidateConfirmation => "InvalidateConfirmation",
            MessageKind::WriteForward => "WriteForward",
            MessageKind::WritePage => "WritePage",
            MessageKind::WriteConfirmation => "WriteConfirmation",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(self.name())
    }
}

impl Message {
    /// The message's type.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::ReadRequest { .. } => MessageKind::ReadRequest,
            Message::ReadForward { .. } => MessageKind::ReadForward,
            Message::ReadPage { .. } => MessageKind::ReadPage,
            Message::ReadConfirmation { .. } => MessageKind::ReadConfirmation,
            Message::WriteRequest { .. } => MessageKind::WriteRequest,
            Message::Invalidate { .. } => MessageKind::Invalidate,
            Message::InvalidateConfirmation { .. } => MessageKind::InvalidateConfirmation,
            Message::WriteForward { .. } => MessageKind::WriteForward,
            Message::WritePage { .. } => MessageKind::WritePage,
            Message::WriteConfirmation { .. } => MessageKind::WriteConfirmation,
        }
    }

    /// The page the message is about.
    pub fn page(&self) -> PageId {
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
            | Message::WriteConfirmation { page, .. } => *page,
        }
    }

    /// The fault the message serves.
    pub fn request(&self) -> RequestId {
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
            | Message::WriteConfirmation { request, .. } => *request,
        }
    }

    /// The process whose fault the message serves.
    pub fn requester(&self) -> NodeId {
        self.request().process
    }
}

/// A message in transit, with its sender, receiver and the sender's view.
#[derive(Clone, Debug, PartialEq, Eq)]
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

//! The type of each message, for traces and for counting: [`MessageKind`], and
//! [`Message::kind`].

use super::message::Message;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The type of a message, without its fields: what the trace prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    OwnerPage,
    OwnerIs,
    NewView,
    ViewPromise,
    Replicate,
    ReplicateAck,
    Heartbeat,
    HeartbeatAck,
    SnapshotRequest,
    Snapshot,
    HandOver,
}

impl MessageKind {
    /// The ten kinds of the central-manager protocol, in protocol order.
    pub const PROTOCOL: [MessageKind; 10] = [
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
            MessageKind::OwnerPage => "OwnerPage",
            MessageKind::OwnerIs => "OwnerIs",
            MessageKind::NewView => "NewView",
            MessageKind::ViewPromise => "ViewPromise",
            MessageKind::Replicate => "Replicate",
            MessageKind::ReplicateAck => "ReplicateAck",
            MessageKind::Heartbeat => "Heartbeat",
            MessageKind::HeartbeatAck => "HeartbeatAck",
            MessageKind::SnapshotRequest => "SnapshotRequest",
            MessageKind::Snapshot => "Snapshot",
            MessageKind::HandOver => "HandOver",
        }
    }

    /// Whether this is a process's confirmation to the manager that its fault was
    /// granted (the end of a transaction).
    pub fn is_confirmation(self) -> bool {
        matches!(
            self,
            MessageKind::ReadConfirmation | MessageKind::WriteConfirmation
        )
    }

    /// Whether the kind is a liveness signal, which traces leave out unless asked.
    pub fn is_heartbeat(self) -> bool {
        matches!(self, MessageKind::Heartbeat | MessageKind::HeartbeatAck)
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
            Message::OwnerPage { .. } => MessageKind::OwnerPage,
            Message::OwnerIs { .. } => MessageKind::OwnerIs,
            Message::WriteConfirmation { .. } => MessageKind::WriteConfirmation,
            Message::NewView { .. } => MessageKind::NewView,
            Message::ViewPromise { .. } => MessageKind::ViewPromise,
            Message::Replicate { .. } => MessageKind::Replicate,
            Message::ReplicateAck { .. } => MessageKind::ReplicateAck,
            Message::Heartbeat { .. } => MessageKind::Heartbeat,
            Message::HeartbeatAck { .. } => MessageKind::HeartbeatAck,
            Message::SnapshotRequest { .. } => MessageKind::SnapshotRequest,
            Message::Snapshot { .. } => MessageKind::Snapshot,
            Message::HandOver { .. } => MessageKind::HandOver,
        }
    }
}

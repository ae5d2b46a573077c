//! What drivers record of a run: one record per message handled, in handling order.

use crate::protocol::ids::{NodeId, PageId, View};
use crate::protocol::message::Envelope;
use crate::protocol::message_kind::MessageKind;
use serde::{Deserialize, Serialize};

/// One handled message, as the trace prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// The message type.
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The page, for a protocol message.
    pub page: Option<PageId>,
    /// The process whose fault a protocol message serves.
    pub requester: Option<NodeId>,
    /// The sender's view.
    pub view: View,
}

impl TraceRecord {
    /// The record of `envelope`.
    pub fn of(envelope: &Envelope) -> TraceRecord {
        TraceRecord {
            kind: envelope.message.kind(),
            from: envelope.from,
            to: envelope.to,
            page: envelope.message.page(),
            requester: envelope.message.requester(),
            view: envelope.view,
        }
    }
}

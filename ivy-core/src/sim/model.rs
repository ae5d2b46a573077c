//! What the exhaustive model checks share (they drive the same state machines as the
//! simulator, through stateright): the messages in flight, kept in one canonical
//! order for the network they model so that equal networks are equal states, and the
//! check that every read returns the latest completed write.

use crate::protocol::message::Envelope;
use crate::protocol::operation::{Completion, OperationKind};

/// How a modelled network may reorder messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reordering {
    /// Any message in flight may arrive next (a multiset).
    Any,
    /// Each channel (a pair of nodes) is FIFO, as over one TCP connection; channels
    /// interleave in any order. A message identical to the one queued just before it
    /// on its channel merges with it (a redundant resend), so the state space stays
    /// finite.
    FifoPerChannel,
}

/// The messages in flight of a modelled network.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InFlight {
    reordering: Reordering,
    messages: Vec<Envelope>,
}

fn channel(envelope: &Envelope) -> (crate::NodeId, crate::NodeId) {
    (envelope.from, envelope.to)
}

impl InFlight {
    /// An empty network that reorders as `reordering` says.
    pub fn new(reordering: Reordering) -> InFlight {
        InFlight {
            reordering,
            messages: Vec::new(),
        }
    }

    /// Whether no message is in flight.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The messages that may arrive next, each distinct one once: any message, or the
    /// oldest of each channel.
    pub fn deliverable(&self) -> Vec<&Envelope> {
        let mut deliverable: Vec<&Envelope> = Vec::new();
        let mut previous: Option<&Envelope> = None;
        for envelope in &self.messages {
            let next = match (self.reordering, previous) {
                (_, None) => true,
                (Reordering::Any, Some(previous)) => previous != envelope,
                (Reordering::FifoPerChannel, Some(previous)) => {
                    channel(previous) != channel(envelope)
                }
            };
            if next {
                deliverable.push(envelope);
            }
            previous = Some(envelope);
        }
        deliverable
    }

    /// Takes one copy of `envelope` off the network; `false` if none is in flight.
    pub fn take(&mut self, envelope: &Envelope) -> bool {
        let position = self.messages.iter().position(|e| e == envelope);
        position.map(|index| self.messages.remove(index)).is_some()
    }

    /// Puts sent messages on the network, in the canonical order.
    pub fn send(&mut self, messages: impl IntoIterator<Item = Envelope>) {
        self.messages.extend(messages);
        match self.reordering {
            Reordering::Any => self.messages.sort_by_key(|envelope| {
                let message = &envelope.message;
                let request = message.request();
                (
                    envelope.to,
                    envelope.from,
                    message.kind(),
                    message.page(),
                    request,
                )
            }),
            Reordering::FifoPerChannel => {
                self.messages.sort_by_key(channel); // stable: keeps each channel's order
                self.messages.dedup();
            }
        }
    }
}

/// Every completed read checked against the latest completed write to its page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReadsSeeWrites {
    /// The value of the latest completed write to each page (0 before any).
    latest_write: Vec<u64>,
    /// Set once a read returned something else.
    stale_read: bool,
}

impl ReadsSeeWrites {
    /// No write yet on any of `pages` pages.
    pub fn new(pages: u32) -> ReadsSeeWrites {
        ReadsSeeWrites {
            latest_write: vec![0; pages as usize],
            stale_read: false,
        }
    }

    /// Records completed operations, in completion order.
    pub fn observe(&mut self, completions: &[Completion]) {
        for completion in completions {
            let latest = &mut self.latest_write[completion.page.index()];
            match completion.kind {
                OperationKind::Write => *latest = completion.value,
                OperationKind::Read => self.stale_read |= completion.value != *latest,
            }
        }
    }

    /// Whether every read so far returned the latest completed write.
    pub fn hold(&self) -> bool {
        !self.stale_read
    }
}

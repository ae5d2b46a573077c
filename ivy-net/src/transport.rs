//! The transport: carries a node's envelopes to its peers and theirs to it. A node
//! sends to a peer over a connection it opens on first use and re-opens, with
//! exponential backoff, after it breaks (the peer restarted, or the network failed);
//! what it sends while the peer is away waits in a bounded queue. It receives on the
//! connections its peers open. Each connection starts with the authenticated hello
//! ([`crate::handshake`]); after it, a frame that does not decode, is too long, claims
//! another sender or receiver, or names what the system does not have, closes that
//! one connection (logged and counted); the node goes on.
//!
//! The transport is generic over how streams are made ([`Dialer`], [`Acceptor`]), so
//! that a simulated network (turmoil's) drives the same code as real TCP.

use crate::handshake::Identity;
use crate::receiving::accept_loop;
use crate::sending::link;
pub use crate::streams::{Acceptor, Dialer, TcpDialer};
use crate::wire::FrameCodec;
use crate::wire::{codec, max_frame_bytes};
use ivy_core::{Envelope, NodeId, SystemConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::warn;

/// What the transport needs to know besides who this node is.
#[derive(Clone, Debug)]
pub struct NetOptions {
    /// The system the messages belong to (pages, processes, page size).
    pub system: SystemConfig,
    /// How many managers the system has (1, or 2 when replicated).
    pub managers: u32,
    /// How long a peer may take to complete the hello.
    pub handshake_timeout: Duration,
    /// The first and the longest wait before connecting again.
    pub reconnect_min: Duration,
    /// See `reconnect_min`.
    pub reconnect_max: Duration,
    /// Messages kept for a peer that cannot be reached; more are dropped (logged).
    pub queue_limit: usize,
    /// How often a receiver acknowledges what it received on a connection.
    pub ack_interval: Duration,
    /// How long a sender waits for an acknowledgement of frames it sent before it
    /// takes the connection for dead and opens another (a network can swallow a
    /// connection's data without closing it).
    pub stall_timeout: Duration,
}

impl NetOptions {
    /// Defaults for `system` with `managers` managers.
    pub fn new(system: SystemConfig, managers: u32) -> NetOptions {
        NetOptions {
            system,
            managers,
            handshake_timeout: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(5),
            reconnect_max: Duration::from_millis(500),
            queue_limit: 65_536,
            ack_interval: Duration::from_millis(20),
            stall_timeout: Duration::from_secs(1),
        }
    }
}

/// What the transport counted, for logs and tests.
#[derive(Debug, Default)]
pub struct NetCounters {
    /// Connections whose hello failed (a stranger, another cluster, a wrong key).
    pub refused_connections: AtomicU64,
    /// Connections closed for a bad frame after the hello.
    pub bad_frames: AtomicU64,
    /// Messages dropped because a peer's queue was full.
    pub dropped_messages: AtomicU64,
    /// Connections opened to peers (the first and every reconnection).
    pub connections_opened: AtomicU64,
    /// Connections given up because the peer stopped acknowledging.
    pub stalled_connections: AtomicU64,
    /// Connections accepted from peers (after their hello).
    pub connections_accepted: AtomicU64,
    /// The last peer this node could not connect to, and why.
    pub last_failure: std::sync::Mutex<Option<(NodeId, String)>>,
}

impl NetCounters {
    /// Whether this node has ever been connected to a peer, either way.
    pub fn ever_connected(&self) -> bool {
        self.connections_opened.load(Ordering::Relaxed) > 0
            || self.connections_accepted.load(Ordering::Relaxed) > 0
    }
}

pub(crate) struct Shared {
    pub(crate) identity: Identity,
    pub(crate) options: NetOptions,
    pub(crate) counters: Arc<NetCounters>,
}

impl Shared {
    /// The framing of this cluster's connections.
    pub(crate) fn codec(&self) -> FrameCodec {
        let system = &self.options.system;
        let max = max_frame_bytes(system.page_size_bytes, system.pages, system.processes);
        codec(max)
    }
}

/// A node's end of the network: [`Transport::send`] to peers; what peers send
/// arrives on the receiver [`Transport::start`] returns.
pub struct Transport<D: Dialer> {
    shared: Arc<Shared>,
    dialer: D,
    addresses: BTreeMap<NodeId, String>,
    links: BTreeMap<NodeId, mpsc::Sender<Envelope>>,
}

/// A message the transport cannot send.
#[derive(Debug, thiserror::Error)]
#[error("node {0} is not a peer of this node")]
pub struct UnknownPeer(pub NodeId);

impl<D: Dialer> Transport<D> {
    /// Starts accepting connections on `acceptor`; peers are reached at `addresses`.
    /// Must be called within a tokio runtime.
    pub fn start<A: Acceptor>(
        identity: Identity,
        addresses: BTreeMap<NodeId, String>,
        options: NetOptions,
        dialer: D,
        acceptor: A,
    ) -> (Transport<D>, mpsc::UnboundedReceiver<Envelope>) {
        let counters = Arc::new(NetCounters::default());
        let shared = Arc::new(Shared {
            identity,
            options,
            counters,
        });
        let (inbox, received) = mpsc::unbounded_channel();
        tokio::spawn(accept_loop(shared.clone(), acceptor, inbox));
        let transport = Transport {
            shared,
            dialer,
            addresses,
            links: BTreeMap::new(),
        };
        (transport, received)
    }

    /// The transport's counters.
    pub fn counters(&self) -> Arc<NetCounters> {
        self.shared.counters.clone()
    }

    /// Queues `envelope` for its receiver, connecting on first use. A message for a
    /// peer whose queue is full is dropped (and counted), as a network would.
    pub fn send(&mut self, envelope: Envelope) -> Result<(), UnknownPeer> {
        let peer = envelope.to;
        if !self.links.contains_key(&peer) {
            let address = self.addresses.get(&peer).ok_or(UnknownPeer(peer))?;
            let (queue, queued) = mpsc::channel(self.shared.options.queue_limit);
            let (shared, dialer) = (self.shared.clone(), self.dialer.clone());
            tokio::spawn(link(shared, dialer, peer, address.clone(), queued));
            self.links.insert(peer, queue);
        }
        if self.links[&peer].try_send(envelope).is_err() {
            let dropped = self
                .shared
                .counters
                .dropped_messages
                .fetch_add(1, Ordering::Relaxed);
            if dropped.is_power_of_two() {
                warn!(peer = %peer, dropped = dropped + 1, "queue full, message dropped");
            }
        }
        Ok(())
    }
}

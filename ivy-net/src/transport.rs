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

use crate::handshake::{handshake, Identity};
pub use crate::streams::{Acceptor, Dialer, TcpDialer};
use crate::wire::{codec, Frame};
use futures::{SinkExt, StreamExt};
use ivy_core::{Envelope, NodeId, SystemConfig};
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::bytes::Bytes;
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tracing::{debug, info, warn};

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
}

struct Shared {
    identity: Identity,
    options: NetOptions,
    counters: Arc<NetCounters>,
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

/// The task that owns the connection to `peer`: connects when there is something to
/// send, sends what is queued, and reconnects with backoff when the connection fails.
async fn link<D: Dialer>(
    shared: Arc<Shared>,
    dialer: D,
    peer: NodeId,
    address: String,
    mut queued: mpsc::Receiver<Envelope>,
) {
    let options = &shared.options;
    let mut delay = options.reconnect_min;
    let mut waiting: Option<Envelope> = None;
    loop {
        let first = match waiting.take() {
            Some(envelope) => envelope,
            None => match queued.recv().await {
                Some(envelope) => envelope,
                None => return, // the transport is gone
            },
        };
        let framed = match connect(&shared, &dialer, peer, &address).await {
            Ok(framed) => framed,
            Err(error) => {
                debug!(peer = %peer, %address, %error, "cannot connect; retrying");
                waiting = Some(first);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(options.reconnect_max);
                continue;
            }
        };
        delay = options.reconnect_min;
        shared
            .counters
            .connections_opened
            .fetch_add(1, Ordering::Relaxed);
        info!(peer = %peer, %address, "connected");
        match pump(framed, first, &mut queued).await {
            Ok(()) => return, // the transport is gone
            Err(error) => info!(peer = %peer, %error, "connection lost; reconnecting"),
        }
    }
}

/// Sends `first` and then whatever is queued, writing all that is ready before each
/// flush; returns when the transport is gone, or the connection failed or was closed
/// by the peer (what was written to it since may be lost, as on any network). The
/// peer never writes on this connection, so anything readable is its end closing,
/// which is noticed before the next message rather than by a failed write after it.
async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
    mut framed: Framed<S, LengthDelimitedCodec>,
    first: Envelope,
    queued: &mut mpsc::Receiver<Envelope>,
) -> io::Result<()> {
    let mut next = first;
    loop {
        framed.feed(Frame::Message(next).to_bytes()).await?;
        while let Ok(more) = queued.try_recv() {
            framed.feed(Frame::Message(more).to_bytes()).await?;
        }
        SinkExt::<Bytes>::flush(&mut framed).await?;
        next = tokio::select! {
            biased;
            _ = framed.next() => {
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed by the peer"));
            }
            queued = queued.recv() => match queued {
                Some(envelope) => envelope,
                None => return Ok(()),
            },
        };
    }
}

/// Opens a connection to `peer` and runs the hello on it.
async fn connect<D: Dialer>(
    shared: &Shared,
    dialer: &D,
    peer: NodeId,
    address: &str,
) -> Result<Framed<D::Stream, LengthDelimitedCodec>, String> {
    let stream = dialer
        .connect(address)
        .await
        .map_err(|error| error.to_string())?;
    let mut framed = Framed::new(stream, frame_codec(&shared.options));
    let identity = &shared.identity;
    let hello = handshake(&mut framed, identity, Some(peer));
    match tokio::time::timeout(shared.options.handshake_timeout, hello).await {
        Ok(Ok(_)) => Ok(framed),
        Ok(Err(error)) => {
            shared
                .counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            warn!(peer = %peer, %error, "hello refused");
            Err(error.to_string())
        }
        Err(_) => Err("the hello timed out".to_string()),
    }
}

fn frame_codec(options: &NetOptions) -> LengthDelimitedCodec {
    let system = &options.system;
    let max = crate::wire::max_frame_bytes(system.page_size_bytes, system.pages, system.processes);
    codec(max)
}

/// Accepts connections until the runtime stops, serving each in its own task.
async fn accept_loop<A: Acceptor>(
    shared: Arc<Shared>,
    mut acceptor: A,
    inbox: mpsc::UnboundedSender<Envelope>,
) {
    loop {
        match acceptor.accept().await {
            Ok(stream) => {
                tokio::spawn(serve(shared.clone(), stream, inbox.clone()));
            }
            Err(error) => {
                warn!(%error, "accept failed");
                tokio::time::sleep(shared.options.reconnect_min).await;
            }
        }
    }
}

/// Receives on one accepted connection: the hello, then messages, until the peer
/// closes it or sends a bad frame.
async fn serve<S>(shared: Arc<Shared>, stream: S, inbox: mpsc::UnboundedSender<Envelope>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut framed = Framed::new(stream, frame_codec(&shared.options));
    let identity = &shared.identity;
    let hello = handshake(&mut framed, identity, None);
    let peer = match tokio::time::timeout(shared.options.handshake_timeout, hello).await {
        Ok(Ok(peer)) => peer,
        Ok(Err(error)) => {
            shared
                .counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            return warn!(%error, "refused a connection");
        }
        Err(_) => {
            shared
                .counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            return warn!("refused a connection: no hello in time");
        }
    };
    info!(peer = %peer, "accepted");
    while let Some(body) = framed.next().await {
        let refusal = match body {
            Err(error) => format!("unreadable frame: {error}"),
            Ok(body) => match check(&shared, peer, Frame::decode(&body)) {
                Ok(envelope) => match inbox.send(envelope) {
                    Ok(()) => continue,
                    Err(_) => return, // the node has stopped
                },
                Err(refusal) => refusal,
            },
        };
        shared.counters.bad_frames.fetch_add(1, Ordering::Relaxed);
        return warn!(peer = %peer, %refusal, "closing the connection");
    }
    info!(peer = %peer, "closed by the peer");
}

/// The envelope a frame from `peer` carries, if it is a message from `peer` to this
/// node that the system could have sent.
fn check(
    shared: &Shared,
    peer: NodeId,
    frame: Result<Frame, crate::wire::WireError>,
) -> Result<Envelope, String> {
    let envelope = match frame {
        Ok(Frame::Message(envelope)) => envelope,
        Ok(_) => return Err("a handshake frame after the handshake".to_string()),
        Err(error) => return Err(error.to_string()),
    };
    let me = shared.identity.node;
    if envelope.from != peer || envelope.to != me {
        let (from, to) = (envelope.from, envelope.to);
        return Err(format!(
            "a message from {from} to {to} on the link {peer} -> {me}"
        ));
    }
    let options = &shared.options;
    envelope
        .check_well_formed(&options.system, options.managers)
        .map_err(|malformed| malformed.to_string())?;
    Ok(envelope)
}

//! The sending side of a link: one task per peer this node sends to. It connects when
//! there is something to send, runs the hello, writes whatever is queued (all that is
//! ready before each flush), and reconnects with exponential backoff when the
//! connection fails, is closed by the peer, or stalls: the peer acknowledges what it
//! received every few milliseconds, and frames left unacknowledged for the stall
//! timeout mean the network swallowed the connection (a blackhole, a partition)
//! without closing it. What was written to a dead connection may be lost, as on any
//! network; the protocol's retries cover it.

use crate::handshake::handshake;
use crate::streams::Dialer;
use crate::transport::Shared;
use crate::wire::Frame;
use crate::wire::FrameCodec;
use futures::{SinkExt, StreamExt};
use ivy_core::{Envelope, NodeId};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::bytes::Bytes;
use tokio_util::codec::Framed;
use tracing::{debug, info, warn};

/// The task that owns the connection to `peer`.
pub(crate) async fn link<D: Dialer>(
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
                let failure = format!("cannot reach node {peer} at {address}: {error}");
                *shared.counters.last_failure.lock().expect("not poisoned") = Some((peer, failure));
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
        match pump(&shared, framed, first, &mut queued).await {
            Ok(()) => return, // the transport is gone
            Err(error) => info!(peer = %peer, %error, "connection lost; reconnecting"),
        }
    }
}

/// Opens a connection to `peer` and runs the hello on it, within the hello timeout.
async fn connect<D: Dialer>(
    shared: &Shared,
    dialer: &D,
    peer: NodeId,
    address: &str,
) -> Result<Framed<D::Stream, FrameCodec>, String> {
    let attempt = async {
        let stream = dialer
            .connect(address)
            .await
            .map_err(|error| error.to_string())?;
        let mut framed = Framed::new(stream, shared.codec());
        match handshake(&mut framed, &shared.identity, Some(peer)).await {
            Ok(_) => Ok(framed),
            Err(error) => {
                shared
                    .counters
                    .refused_connections
                    .fetch_add(1, Ordering::Relaxed);
                warn!(peer = %peer, %error, "hello refused");
                Err(error.to_string())
            }
        }
    };
    tokio::time::timeout(shared.options.handshake_timeout, attempt)
        .await
        .unwrap_or_else(|_| Err("no connection and hello in time".to_string()))
}

/// Sends `first` and then whatever is queued; returns when the transport is gone
/// (`Ok`) or the connection is dead (`Err`). The peer writes nothing on this
/// connection but acknowledgements: anything else, or its end closing, ends it.
async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    framed: Framed<S, FrameCodec>,
    first: Envelope,
    queued: &mut mpsc::Receiver<Envelope>,
) -> io::Result<()> {
    let (mut sink, mut acks) = framed.split::<Bytes>();
    let stall_timeout = shared.options.stall_timeout;
    let (mut sent, mut acknowledged) = (0u64, 0u64);
    // While frames are unacknowledged, the peer must show progress by this deadline:
    // one timer for the connection, moved when the peer acknowledges (a timer per
    // write cost more than the write's own work).
    let stall = tokio::time::sleep_until(Instant::now() + stall_timeout);
    tokio::pin!(stall);
    let mut next = Some(first);
    loop {
        if let Some(envelope) = next.take() {
            if sent == acknowledged {
                stall.as_mut().reset(Instant::now() + stall_timeout);
            } else if stall.is_elapsed() {
                // A steady stream of messages must not keep a silent peer alive: the
                // polls below favour writing and may never reach the timer.
                return Err(stalled(shared));
            }
            // A write blocks while the peer reads nothing (its buffers are full), so
            // the stall timeout bounds the writing too.
            let write = async {
                sink.feed(Frame::Message(envelope).to_bytes()).await?;
                let mut written = 1;
                while let Ok(more) = queued.try_recv() {
                    sink.feed(Frame::Message(more).to_bytes()).await?;
                    written += 1;
                }
                sink.flush().await.map(|()| written)
            };
            tokio::select! {
                biased;
                written = write => sent += written?,
                () = &mut stall => return Err(stalled(shared)),
            }
        }
        tokio::select! {
            biased;
            frame = acks.next() => match frame {
                Some(Ok(body)) => match Frame::decode(&body) {
                    Ok(Frame::Ack { received }) if received <= sent => {
                        if received > acknowledged {
                            acknowledged = received;
                            stall.as_mut().reset(Instant::now() + stall_timeout);
                        }
                    }
                    _ => return Err(dead("the peer sent something else than an acknowledgement")),
                },
                Some(Err(error)) => return Err(error),
                None => return Err(dead("closed by the peer")),
            },
            envelope = queued.recv() => match envelope {
                Some(envelope) => next = Some(envelope),
                None => return Ok(()),
            },
            () = &mut stall, if sent > acknowledged => return Err(stalled(shared)),
        }
    }
}

/// Counts a stalled connection and says why it ended.
fn stalled(shared: &Shared) -> io::Error {
    shared
        .counters
        .stalled_connections
        .fetch_add(1, Ordering::Relaxed);
    dead("no acknowledgement within the stall timeout")
}

fn dead(reason: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, reason)
}

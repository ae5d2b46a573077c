//! The receiving side: accepts connections, runs the hello on each, and passes on the
//! messages that arrive, acknowledging what it received every `ack_interval` (the
//! sender's proof that the connection is alive). A frame that does not decode, is too
//! long, is out of place, claims another sender or receiver, or names what the system
//! does not have closes that one connection, logged and counted.

use crate::handshake::handshake;
use crate::streams::Acceptor;
use crate::transport::Shared;
use crate::wire::{Frame, WireError};
use futures::{SinkExt, StreamExt};
use ivy_core::{Envelope, NodeId};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::bytes::Bytes;
use tokio_util::codec::Framed;
use tracing::{info, warn};

/// Accepts connections until the runtime stops, serving each in its own task.
pub(crate) async fn accept_loop<A: Acceptor>(
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

/// Receives on one accepted connection until the peer closes it or misbehaves.
async fn serve<S>(shared: Arc<Shared>, stream: S, inbox: mpsc::UnboundedSender<Envelope>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut framed = Framed::new(stream, shared.codec());
    let hello = handshake(&mut framed, &shared.identity, None);
    let peer = match tokio::time::timeout(shared.options.handshake_timeout, hello).await {
        Ok(Ok(peer)) => peer,
        outcome => {
            shared
                .counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            let error = match outcome {
                Ok(Err(error)) => error.to_string(),
                _ => "no hello in time".to_string(),
            };
            return warn!(%error, "refused a connection");
        }
    };
    info!(peer = %peer, "accepted");
    shared
        .counters
        .connections_accepted
        .fetch_add(1, Ordering::Relaxed);
    let (mut acks, mut frames) = framed.split::<Bytes>();
    let mut ticks = tokio::time::interval(shared.options.ack_interval);
    let (mut received, mut acknowledged) = (0u64, 0u64);
    loop {
        let body = tokio::select! {
            body = frames.next() => body,
            _ = ticks.tick(), if received > acknowledged => {
                if acks.send(Frame::Ack { received }.to_bytes()).await.is_err() {
                    return info!(peer = %peer, "closed by the peer");
                }
                acknowledged = received;
                continue;
            }
        };
        let refusal = match body {
            None => return info!(peer = %peer, "closed by the peer"),
            Some(Err(error)) => format!("unreadable frame: {error}"),
            Some(Ok(body)) => match check(&shared, peer, Frame::decode(&body)) {
                Ok(envelope) => {
                    received += 1;
                    match inbox.send(envelope) {
                        Ok(()) => continue,
                        Err(_) => return, // the node has stopped
                    }
                }
                Err(refusal) => refusal,
            },
        };
        shared.counters.bad_frames.fetch_add(1, Ordering::Relaxed);
        return warn!(peer = %peer, %refusal, "closing the connection");
    }
}

/// The envelope a frame from `peer` carries, if it is a message from `peer` to this
/// node that the system could have sent.
fn check(
    shared: &Shared,
    peer: NodeId,
    frame: Result<Frame, WireError>,
) -> Result<Envelope, String> {
    let envelope = match frame {
        Ok(Frame::Message(envelope)) => envelope,
        Ok(_) => return Err("a frame out of place".to_string()),
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

//! The hello every connection begins with: both sides say who they are (protocol
//! version, cluster, node id) and prove they hold the cluster key by answering the
//! other's fresh challenge with an HMAC-SHA256 tag over the whole exchange. The tag
//! names prover and verifier in order, so a tag cannot be reflected back, and binds
//! both nonces, so it cannot be replayed. A stranger, a node of another cluster or
//! version, an unknown id or a wrong key is refused before any message is accepted.

use crate::wire::FrameCodec;
use crate::wire::{Frame, Hello, NONCE_BYTES, PROTOCOL_VERSION};
use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use ivy_core::NodeId;
use sha2::Sha256;
use std::collections::BTreeSet;
use std::fmt;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;

/// The secret every node of a cluster shares.
#[derive(Clone)]
pub struct ClusterKey(Vec<u8>);

impl ClusterKey {
    /// A key of these bytes; at least 16 of them.
    pub fn new(bytes: Vec<u8>) -> Result<ClusterKey, HandshakeError> {
        match bytes.len() >= 16 {
            true => Ok(ClusterKey(bytes)),
            false => Err(HandshakeError::WeakKey(bytes.len())),
        }
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ClusterKey({} bytes)", self.0.len())
    }
}

/// Who this node is, and whom it accepts.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The cluster's name.
    pub cluster: String,
    /// This node's id.
    pub node: NodeId,
    /// The cluster's shared key.
    pub key: ClusterKey,
    /// Every node id of the cluster (this one included).
    pub members: BTreeSet<NodeId>,
}

/// Why a handshake failed.
#[derive(Debug, Error)]
pub enum HandshakeError {
    /// The key is too short to be a secret.
    #[error("a cluster key needs at least 16 bytes, not {0}")]
    WeakKey(usize),
    /// The connection failed or closed.
    #[error("connection lost during the handshake: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("the peer closed the connection during the handshake")]
    Closed,
    /// The peer sent something else than the frame the handshake expects.
    #[error("the peer sent {0} during the handshake")]
    Unexpected(&'static str),
    /// Another wire protocol version.
    #[error("the peer speaks protocol version {0}, this node {PROTOCOL_VERSION}")]
    Version(u32),
    /// Another cluster.
    #[error("the peer belongs to cluster {0:?}")]
    Cluster(String),
    /// An id that is not a member, is this node's own, or is not the one dialled.
    #[error("the peer claims node id {0}, which it may not")]
    Id(NodeId),
    /// The peer could not prove it holds the key.
    #[error("the peer's proof is wrong (another key)")]
    Proof,
}

/// Runs the handshake on a fresh connection; returns the authenticated peer's id.
/// `dialled` is the id this side connected to (`None` on an accepted connection).
pub async fn handshake<S>(
    framed: &mut Framed<S, FrameCodec>,
    me: &Identity,
    dialled: Option<NodeId>,
) -> Result<NodeId, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let my_nonce: [u8; NONCE_BYTES] = rand::random();
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        cluster: me.cluster.clone(),
        node: me.node,
        nonce: my_nonce,
    };
    send(framed, &Frame::Hello(hello)).await?;
    let Frame::Hello(theirs) = receive(framed).await? else {
        return Err(HandshakeError::Unexpected("another frame than a hello"));
    };
    if theirs.protocol_version != PROTOCOL_VERSION {
        return Err(HandshakeError::Version(theirs.protocol_version));
    }
    if theirs.cluster != me.cluster {
        return Err(HandshakeError::Cluster(theirs.cluster));
    }
    let peer = theirs.node;
    let claimable = me.members.contains(&peer) && peer != me.node;
    if !claimable || dialled.is_some_and(|dialled| dialled != peer) {
        return Err(HandshakeError::Id(peer));
    }
    let tag = transcript_mac(me, me.node, peer, &theirs.nonce, &my_nonce).finalize();
    let tag: [u8; NONCE_BYTES] = tag.into_bytes().into();
    send(framed, &Frame::Proof { tag }).await?;
    let Frame::Proof { tag } = receive(framed).await? else {
        return Err(HandshakeError::Unexpected("another frame than a proof"));
    };
    transcript_mac(me, peer, me.node, &my_nonce, &theirs.nonce)
        .verify_slice(&tag)
        .map_err(|_| HandshakeError::Proof)?;
    Ok(peer)
}

/// The MAC `prover` sends `verifier`: over the protocol, the cluster, both ids in
/// that order, the verifier's challenge and the prover's own nonce.
fn transcript_mac(
    me: &Identity,
    prover: NodeId,
    verifier: NodeId,
    challenge: &[u8; NONCE_BYTES],
    prover_nonce: &[u8; NONCE_BYTES],
) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&me.key.0).expect("HMAC takes any key");
    mac.update(b"ivy-rs handshake");
    mac.update(&PROTOCOL_VERSION.to_be_bytes());
    mac.update(&(me.cluster.len() as u64).to_be_bytes());
    mac.update(me.cluster.as_bytes());
    mac.update(&prover.0.to_be_bytes());
    mac.update(&verifier.0.to_be_bytes());
    mac.update(challenge);
    mac.update(prover_nonce);
    mac
}

async fn send<S>(framed: &mut Framed<S, FrameCodec>, frame: &Frame) -> Result<(), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    framed.send(frame.to_bytes()).await?;
    Ok(())
}

async fn receive<S>(framed: &mut Framed<S, FrameCodec>) -> Result<Frame, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let body = framed.next().await.ok_or(HandshakeError::Closed)??;
    Frame::decode(&body).map_err(|_| HandshakeError::Unexpected("an undecodable frame"))
}

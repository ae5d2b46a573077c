//! The hello: members of one cluster with one key accept each other; a node of another
//! cluster or protocol version, a wrong key, an unknown id, or an id other than the one
//! dialled is refused, on both sides where both can tell.

mod common;

use common::{identity, key};
use futures::{SinkExt, StreamExt};
use ivy_core::NodeId;
use ivy_net::handshake::handshake;
use ivy_net::wire::codec;
use ivy_net::wire::FrameCodec;
use ivy_net::{Frame, HandshakeError, Hello, Identity};
use tokio::io::DuplexStream;
use tokio_util::codec::Framed;

fn pair() -> (
    Framed<DuplexStream, FrameCodec>,
    Framed<DuplexStream, FrameCodec>,
) {
    let (a, b) = tokio::io::duplex(1 << 16);
    (
        Framed::new(a, codec(1 << 16)),
        Framed::new(b, codec(1 << 16)),
    )
}

async fn both(
    dialler: Identity,
    dialled: Option<NodeId>,
    acceptor: Identity,
) -> (
    Result<NodeId, HandshakeError>,
    Result<NodeId, HandshakeError>,
) {
    // Each side owns its end and drops it when it gives up, as a node does.
    let (mut a, mut b) = pair();
    tokio::join!(
        async move { handshake(&mut a, &dialler, dialled).await },
        async move { handshake(&mut b, &acceptor, None).await }
    )
}

#[tokio::test]
async fn members_with_the_key_accept_each_other() {
    let (dialler, acceptor) = both(identity(0), Some(NodeId(2)), identity(2)).await;
    assert_eq!(dialler.unwrap(), NodeId(2));
    assert_eq!(acceptor.unwrap(), NodeId(0));
}

#[tokio::test]
async fn a_wrong_key_is_refused_by_both_sides() {
    let stranger = Identity {
        key: key(8),
        ..identity(0)
    };
    let (dialler, acceptor) = both(stranger, Some(NodeId(2)), identity(2)).await;
    assert!(matches!(dialler, Err(HandshakeError::Proof)), "{dialler:?}");
    assert!(
        matches!(acceptor, Err(HandshakeError::Proof)),
        "{acceptor:?}"
    );
}

#[tokio::test]
async fn another_cluster_is_refused() {
    let other = Identity {
        cluster: "other".to_string(),
        ..identity(0)
    };
    let (_, acceptor) = both(other, Some(NodeId(2)), identity(2)).await;
    assert!(matches!(acceptor, Err(HandshakeError::Cluster(name)) if name == "other"));
}

#[tokio::test]
async fn unknown_ids_and_impostors_are_refused() {
    // Node 9 is no member; node 2 may not claim to be the node it talks to.
    for claimed in [9, 2] {
        let (_, acceptor) = both(identity(claimed), None, identity(2)).await;
        assert!(matches!(acceptor, Err(HandshakeError::Id(id)) if id == NodeId(claimed)));
    }
    // Dialling node 1 and reaching node 2 is refused by the dialler.
    let (dialler, _) = both(identity(0), Some(NodeId(1)), identity(2)).await;
    assert!(matches!(dialler, Err(HandshakeError::Id(id)) if id == NodeId(2)));
}

#[tokio::test]
async fn another_protocol_version_is_refused() {
    let (mut a, mut b) = pair();
    let hello = Hello {
        protocol_version: 99,
        cluster: common::CLUSTER.to_string(),
        node: NodeId(0),
        nonce: [0; 32],
    };
    a.send(Frame::Hello(hello).to_bytes()).await.unwrap();
    let refused = handshake(&mut b, &identity(2), None).await;
    assert!(
        matches!(refused, Err(HandshakeError::Version(99))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_message_instead_of_a_hello_is_refused() {
    let (mut a, mut b) = pair();
    a.send(Frame::Message(common::request(0, 2, 1)).to_bytes())
        .await
        .unwrap();
    let refused = handshake(&mut b, &identity(2), None).await;
    assert!(
        matches!(refused, Err(HandshakeError::Unexpected(_))),
        "{refused:?}"
    );
    drop(a.next().await); // the hello node 2 sent
}

//! The transport over real sockets on 127.0.0.1: messages arrive in order; a peer that
//! restarts on the same address is reached again; a stranger, or a member that sends a
//! bad frame after its hello, loses its one connection while the node goes on; a peer
//! that acknowledges nothing is dropped after the stall timeout and dialled again.

mod common;

use common::{identity, options, request};
use futures::SinkExt;
use ivy_core::{Envelope, NodeId};
use ivy_net::handshake::handshake;
use ivy_net::wire::codec;
use ivy_net::{ClusterKey, Identity, TcpDialer, Transport};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::bytes::Bytes;
use tokio_util::codec::Framed;

async fn node(
    id: u32,
    listener: TcpListener,
    addresses: &BTreeMap<NodeId, String>,
) -> (Transport<TcpDialer>, UnboundedReceiver<Envelope>) {
    Transport::start(
        identity(id),
        addresses.clone(),
        options(),
        TcpDialer,
        listener,
    )
}

async fn listeners(count: u32) -> (Vec<TcpListener>, BTreeMap<NodeId, String>) {
    let mut listeners = Vec::new();
    let mut addresses = BTreeMap::new();
    for id in 0..count {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addresses.insert(NodeId(id), listener.local_addr().unwrap().to_string());
        listeners.push(listener);
    }
    (listeners, addresses)
}

async fn receive(inbox: &mut UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .expect("a message within 10 s")
        .expect("the transport is running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_order_over_tcp() {
    let (mut listeners, addresses) = listeners(3).await;
    let (mut manager, mut manager_inbox) = node(2, listeners.remove(2), &addresses).await;
    let (mut process, mut process_inbox) = node(0, listeners.remove(0), &addresses).await;
    for sequence in 1..=500 {
        process.send(request(0, 2, sequence)).unwrap();
    }
    for sequence in 1..=500 {
        assert_eq!(receive(&mut manager_inbox).await, request(0, 2, sequence));
    }
    manager.send(request(2, 0, 1)).unwrap();
    assert_eq!(receive(&mut process_inbox).await, request(2, 0, 1));
    assert!(process.send(request(0, 7, 1)).is_err(), "node 7 is no peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_peer_is_reached_again() {
    common::logs();
    let (mut listeners, addresses) = listeners(3).await;
    let manager_address = addresses[&NodeId(2)].clone();
    let (mut process, _process_inbox) = node(0, listeners.remove(0), &addresses).await;
    // The manager runs on its own runtime, so that dropping it closes its sockets.
    // Each life runs on a blocking thread, so that waiting for it blocks no worker.
    let first_life = tokio::task::spawn_blocking({
        let addresses = addresses.clone();
        let listener = listeners.remove(1).into_std().unwrap();
        move || life(listener, addresses, 1)
    });
    process.send(request(0, 2, 1)).unwrap();
    first_life.await.unwrap();
    let listener = std::net::TcpListener::bind(&manager_address).unwrap();
    let second_life = tokio::task::spawn_blocking(move || life(listener, addresses, 2));
    // Sent while the manager restarts: the process notices the old connection closed,
    // reconnects and delivers. A message written just as a peer dies may be lost, as
    // on any network, so the process repeats it, as the protocol's retries do.
    while !second_life.is_finished() {
        process.send(request(0, 2, 2)).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    second_life.await.unwrap();
    assert!(
        process
            .counters()
            .connections_opened
            .load(Ordering::Relaxed)
            >= 2
    );
}

/// A life of the manager: receives the message numbered `sequence`, then stops.
fn life(listener: std::net::TcpListener, addresses: BTreeMap<NodeId, String>, sequence: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let (_manager, mut inbox) = node(2, listener, &addresses).await;
        let received = receive(&mut inbox).await;
        assert_eq!(received, request(0, 2, sequence));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_bad_frames_lose_only_their_connection() {
    let (mut listeners, addresses) = listeners(3).await;
    let (manager, mut manager_inbox) = node(2, listeners.remove(2), &addresses).await;
    let (mut process, _inbox) = node(0, listeners.remove(0), &addresses).await;
    let manager_address = &addresses[&NodeId(2)];
    let counters = manager.counters();

    // A stranger with another key is refused at the hello.
    let stranger = Identity {
        key: ClusterKey::new(vec![1; 32]).unwrap(),
        ..identity(1)
    };
    let stream = tokio::net::TcpStream::connect(manager_address)
        .await
        .unwrap();
    let mut framed = Framed::new(stream, codec(1 << 16));
    assert!(handshake(&mut framed, &stranger, Some(NodeId(2)))
        .await
        .is_err());

    // A member that sends garbage, a message in another's name, or an oversized frame
    // after its hello loses that connection, one each.
    let garbage = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x42]);
    let forged = ivy_net::Frame::Message(request(0, 2, 1)).to_bytes();
    let oversized = Bytes::from(vec![0u8; 1 << 20]);
    for bad in [garbage, forged, oversized] {
        let stream = tokio::net::TcpStream::connect(manager_address)
            .await
            .unwrap();
        let mut framed = Framed::new(stream, codec(1 << 21));
        handshake(&mut framed, &identity(1), Some(NodeId(2)))
            .await
            .unwrap();
        // The node may close the connection before it has read all of a long frame.
        let _ = framed.send(bad).await;
    }

    // The node goes on: the honest process's messages still arrive.
    process.send(request(0, 2, 7)).unwrap();
    assert_eq!(receive(&mut manager_inbox).await, request(0, 2, 7));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while counters.bad_frames.load(Ordering::Relaxed) < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(counters.bad_frames.load(Ordering::Relaxed), 3);
    assert_eq!(counters.refused_connections.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_acknowledges_nothing_is_dropped_and_dialled_again() {
    // Node 2 is a silent peer: it answers the hello, then reads every frame and
    // acknowledges none (as a peer whose process hangs, or a link that swallows
    // everything after the connection was made).
    let (mut listeners, addresses) = listeners(3).await;
    let silent = listeners.remove(2);
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = silent.accept().await.unwrap();
            counted.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut framed = Framed::new(stream, codec(1 << 16));
                handshake(&mut framed, &identity(2), None).await.unwrap();
                while let Some(Ok(_)) = futures::StreamExt::next(&mut framed).await {}
            });
        }
    });
    let options = ivy_net::NetOptions {
        stall_timeout: Duration::from_millis(100),
        ..options()
    };
    let (mut process, _inbox) = Transport::start(
        identity(0),
        addresses,
        options,
        TcpDialer,
        listeners.remove(0),
    );
    let counters = process.counters();
    process.send(request(0, 2, 1)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while counters.stalled_connections.load(Ordering::Relaxed) == 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(counters.stalled_connections.load(Ordering::Relaxed), 1);
    // Frames that were on the dropped connection are not sent again (the protocol
    // retries what it needs); the next message dials again.
    process.send(request(0, 2, 2)).unwrap();
    while accepted.load(Ordering::Relaxed) < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(accepted.load(Ordering::Relaxed) >= 2, "dialled again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_acknowledges_keeps_its_connection_however_long_it_is_quiet() {
    let (mut listeners, addresses) = listeners(3).await;
    let options = ivy_net::NetOptions {
        stall_timeout: Duration::from_millis(100),
        ..options()
    };
    let start = |id: u32, listener, options| {
        Transport::start(
            identity(id),
            addresses.clone(),
            options,
            TcpDialer,
            listener,
        )
    };
    let (_manager, mut manager_inbox) = start(2, listeners.remove(2), options.clone());
    let (mut process, _inbox) = start(0, listeners.remove(0), options);
    let counters = process.counters();
    for sequence in 1..=3 {
        process.send(request(0, 2, sequence)).unwrap();
        assert_eq!(receive(&mut manager_inbox).await, request(0, 2, sequence));
        // Three stall timeouts with nothing to send, and nothing unacknowledged.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(counters.stalled_connections.load(Ordering::Relaxed), 0);
    assert_eq!(counters.connections_opened.load(Ordering::Relaxed), 1);
}

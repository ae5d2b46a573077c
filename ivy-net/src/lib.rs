//! Ivy over TCP: the driver side of running each node as its own OS process. The
//! protocol crates stay free of I/O; this crate moves their [`ivy_core::Envelope`]s
//! between OS processes, on one machine or many:
//!
//! - [`cluster`]: the cluster file (TOML) every node of a cluster reads;
//! - [`wire`]: length-delimited frames holding a compact (postcard) encoding of an
//!   envelope, page contents as raw bytes, with a size cap per frame;
//! - [`handshake`]: every connection begins with a hello (protocol version, cluster,
//!   node id) and a mutual HMAC-SHA256 challenge and response with the cluster key;
//! - [`transport`]: a connection per peer a node sends to, opened on first use and
//!   re-opened with backoff; bad input closes the one connection that carried it;
//! - [`runner`]: the event loop of one node over the transport: messages, timers, the
//!   process's operations, and reports of what completed.
//!
//! Everything is generic over the stream, so tests drive it over real sockets and over
//! turmoil's simulated network alike.

pub mod cluster;
pub mod handshake;
mod receiving;
mod reports;
pub mod runner;
mod sending;
pub mod streams;
pub mod transport;
pub mod wire;

pub use cluster::{ClusterError, ClusterSpec, NodeKind};
pub use handshake::{ClusterKey, HandshakeError, Identity};
pub use runner::{Clock, NodeCounts, Report, Role, Runner, Stopped};
pub use transport::{Acceptor, Dialer, NetCounters, NetOptions, TcpDialer, Transport, UnknownPeer};
pub use wire::{Frame, Hello, WireError, PROTOCOL_VERSION};

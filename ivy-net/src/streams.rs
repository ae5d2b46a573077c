//! Where a transport's streams come from: real TCP here, a simulated network in tests
//! (any type with these two traits; turmoil's `TcpStream` and `TcpListener` fit).

use std::future::Future;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite};

/// Opens connections to peers.
pub trait Dialer: Clone + Send + Sync + 'static {
    /// The stream a connection gives.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Connects to `address` (`host:port`).
    fn connect(&self, address: &str) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// Accepts connections from peers.
pub trait Acceptor: Send + 'static {
    /// The stream a connection gives.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Waits for the next connection.
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// Real TCP, with Nagle's algorithm off (a fault is a chain of small messages).
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpDialer;

impl Dialer for TcpDialer {
    type Stream = tokio::net::TcpStream;

    async fn connect(&self, address: &str) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

impl Acceptor for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Stream> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

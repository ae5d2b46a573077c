//! The wire format: every connection carries frames, each a 4-byte big-endian length
//! and a postcard encoding of one [`Frame`]; page contents travel as raw bytes. A frame
//! longer than the cap, a body that does not decode to exactly one frame, or a frame
//! out of place (a second hello, a message before the handshake) closes the
//! connection that carried it, and nothing else.

use ivy_core::{Envelope, NodeId};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio_util::bytes::Bytes;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// The version of this wire protocol; a peer with another is refused at the hello.
pub const PROTOCOL_VERSION: u32 = 1;

/// Bytes of a handshake nonce and of a proof (an HMAC-SHA256 tag).
pub const NONCE_BYTES: usize = 32;

/// Room for everything of a frame but its page contents or snapshot.
const FRAME_OVERHEAD_BYTES: usize = 4096;

/// One unit on a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The first frame each side sends: who it is, and a fresh challenge.
    Hello(Hello),
    /// The second frame each side sends: the answer to the other side's challenge.
    Proof {
        /// HMAC-SHA256 with the cluster key over the handshake transcript.
        tag: [u8; NONCE_BYTES],
    },
    /// A protocol message, after the handshake.
    Message(Envelope),
    /// Receiver → sender: how many messages it has received on this connection.
    Ack {
        /// The count, cumulative.
        received: u64,
    },
}

/// Who a node says it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub protocol_version: u32,
    /// The name of the sender's cluster.
    pub cluster: String,
    /// The sender's node id.
    pub node: NodeId,
    /// A fresh random challenge for the other side to answer.
    pub nonce: [u8; NONCE_BYTES],
}

/// Why bytes from the network are not a frame.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    /// The body does not decode.
    #[error("undecodable frame: {0}")]
    Undecodable(String),
    /// The body decodes but bytes are left over.
    #[error("{0} bytes after the frame")]
    TrailingBytes(usize),
}

impl Frame {
    /// The frame's body (without its length prefix).
    pub fn encode(&self) -> Vec<u8> {
        // Sized first (a dry run that copies nothing), so that a page is copied once
        // into a buffer of the right size rather than into one that keeps growing.
        let size = postcard::experimental::serialized_size(self).expect("a frame always encodes");
        postcard::to_extend(self, Vec::with_capacity(size)).expect("a frame always encodes")
    }

    /// The frame's body, ready for [`codec`].
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(self.encode())
    }

    /// Decodes one whole body; never panics, whatever the bytes.
    pub fn decode(body: &[u8]) -> Result<Frame, WireError> {
        let (frame, rest) = postcard::take_from_bytes::<Frame>(body)
            .map_err(|error| WireError::Undecodable(error.to_string()))?;
        match rest.is_empty() {
            true => Ok(frame),
            false => Err(WireError::TrailingBytes(rest.len())),
        }
    }
}

/// The largest frame a cluster with pages of `page_size_bytes` and `pages` pages
/// needs: a snapshot holds a record per page (owner, version and copy set of up to
/// `processes` members, a few bytes each in postcard's variable-length integers).
pub fn max_frame_bytes(page_size_bytes: usize, pages: u32, processes: u32) -> usize {
    let record_bytes = 24 + 5 * processes as usize;
    let snapshot_bytes = (pages as usize).saturating_mul(record_bytes);
    FRAME_OVERHEAD_BYTES
        .saturating_add(page_size_bytes.max(snapshot_bytes))
        .min(u32::MAX as usize)
}

/// Bytes of free room a connection's read buffer keeps for the next frame, at most.
const READ_ROOM_BYTES: usize = 64 << 10;

/// The framing of a connection: a big-endian `u32` length, then the body, refusing
/// bodies longer than `max_frame_bytes`.
pub fn codec(max_frame_bytes: usize) -> FrameCodec {
    FrameCodec {
        lengths: LengthDelimitedCodec::builder()
            .length_field_type::<u32>()
            .max_frame_length(max_frame_bytes)
            .new_codec(),
        room_bytes: (max_frame_bytes + 4).min(READ_ROOM_BYTES),
    }
}

/// Length-delimited framing whose read buffer always has room for a whole frame of
/// the usual size (up to 64 KiB) before the next read, so that a page arrives in one
/// read instead of two (a buffer whose earlier frames were split off keeps only the
/// rest of its capacity).
#[derive(Debug)]
pub struct FrameCodec {
    lengths: LengthDelimitedCodec,
    room_bytes: usize,
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        let frame = self.lengths.decode(src)?;
        if frame.is_none() {
            src.reserve(self.room_bytes);
        }
        Ok(frame)
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = std::io::Error;

    fn encode(&mut self, body: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        self.lengths.encode(body, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{Message, PageBuffer, PageId, PageVersion, RequestId, View};

    #[test]
    fn a_frame_survives_the_wire() {
        let mut data = PageBuffer::zeroed(64);
        data.store(42);
        let message = Message::WritePage {
            page: PageId(3),
            request: RequestId {
                process: NodeId(1),
                sequence: 9,
            },
            version: PageVersion(2),
            data,
        };
        let envelope = Envelope {
            from: NodeId(0),
            to: NodeId(1),
            view: View(0),
            message,
        };
        let frame = Frame::Message(envelope);
        let body = frame.encode();
        assert!(body.len() < 64 + 32, "compact: {} bytes", body.len());
        assert_eq!(Frame::decode(&body), Ok(frame));
    }

    #[test]
    fn leftover_bytes_are_refused() {
        let mut body = Frame::Proof { tag: [7; 32] }.encode();
        body.push(0);
        assert_eq!(Frame::decode(&body), Err(WireError::TrailingBytes(1)));
    }
}

//! Network input never panics a node: random bytes, and valid frames with bytes
//! flipped, inserted, removed or cut off, either decode to a frame (which the
//! well-formedness check then judges) or are refused with an error.

mod common;

use ivy_core::{
    Directory, Envelope, HeldFault, LogEntry, LogPosition, ManagerSnapshot, Message, NodeId,
    OperationKind, PageBuffer, PageId, PageVersion, RequestId, View,
};
use ivy_net::{Frame, Hello};
use proptest::prelude::*;

/// One frame of each shape the wire carries, pages and snapshots included.
fn valid_frames() -> Vec<Frame> {
    let system = common::system();
    let request = RequestId {
        process: NodeId(1),
        sequence: 3,
    };
    let mut data = PageBuffer::zeroed(system.page_size_bytes);
    data.store(99);
    let page = PageId(5);
    let version = PageVersion(4);
    let messages = vec![
        Message::ReadRequest { page, request },
        Message::WritePage {
            page,
            request,
            version,
            data,
        },
        Message::Replicate {
            incarnation: Default::default(),
            first_index: 7,
            entries: vec![LogEntry::Confirm {
                page,
                request,
                version,
                kind: OperationKind::Write,
            }],
            act: true,
        },
        Message::Snapshot {
            incarnation: Default::default(),
            snapshot: Box::new(ManagerSnapshot {
                directory: Directory::new(&system),
                held: vec![HeldFault {
                    page,
                    request,
                    kind: OperationKind::Read,
                    began_at: Default::default(),
                }],
                last_completed: vec![0, 2],
                last: LogPosition::default(),
            }),
        },
    ];
    let mut frames: Vec<Frame> = messages
        .into_iter()
        .map(|message| {
            Frame::Message(Envelope {
                from: NodeId(2),
                to: NodeId(1),
                view: View(3),
                message,
            })
        })
        .collect();
    frames.push(Frame::Hello(Hello {
        protocol_version: 1,
        cluster: common::CLUSTER.to_string(),
        node: NodeId(0),
        nonce: [9; 32],
    }));
    frames.push(Frame::Proof { tag: [3; 32] });
    frames
}

/// Decodes `body` and, for a message, runs the check a node applies to it.
fn judge(body: &[u8]) {
    if let Ok(Frame::Message(envelope)) = Frame::decode(body) {
        let _ = envelope.check_well_formed(&common::system(), 2);
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bits: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { to: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|to| Mutation::Truncate { to }),
    ]
}

fn apply(body: &mut Vec<u8>, mutation: &Mutation) {
    let len = body.len();
    match *mutation {
        Mutation::Flip { at, bits } if len > 0 => body[at % len] ^= bits,
        Mutation::Insert { at, byte } => body.insert(at % (len + 1), byte),
        Mutation::Remove { at } if len > 0 => drop(body.remove(at % len)),
        Mutation::Truncate { to } => body.truncate(to % (len + 1)),
        _ => {}
    }
}

#[test]
fn every_valid_frame_round_trips_and_passes_the_check() {
    for frame in valid_frames() {
        assert_eq!(Frame::decode(&frame.encode()), Ok(frame.clone()));
        if let Frame::Message(envelope) = frame {
            assert_eq!(envelope.check_well_formed(&common::system(), 2), Ok(()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::fuzz_cases()))]

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        judge(&body);
    }

    #[test]
    fn mutated_frames_never_panic(
        which in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let frames = valid_frames();
        let mut body = frames[which % frames.len()].encode();
        for mutation in &mutations {
            apply(&mut body, mutation);
        }
        judge(&body);
    }
}

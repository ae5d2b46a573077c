//! Routing by page (the fixed distributed manager): two managers, nodes 3 and 4, each
//! keeping a share of the three pages; a fault and its confirmation go to the manager
//! of the page's share, and neither a new view nor a retry sends them elsewhere.

use super::*;
use crate::protocol::mapping::PageMapping;

const SHARE_0: NodeId = NodeId(3);
const SHARE_1: NodeId = NodeId(4);

fn sharded(id: u32, mapping: PageMapping) -> Process {
    let config = config();
    let options = ProcessOptions::sharded(&config, vec![SHARE_0, SHARE_1], mapping);
    Process::new(NodeId(id), &config, options)
}

fn read_request(page: u32, process: u32) -> Message {
    Message::ReadRequest {
        page: PageId(page),
        request: request(process, 1),
    }
}

#[test]
fn a_fault_goes_to_the_manager_of_its_pages_share() {
    // Modulo: pages 0 and 2 in share 0, page 1 in share 1.
    let mut reader = sharded(0, PageMapping::Modulo);
    let out = start(&mut reader, Operation::read(1));
    assert_eq!(sent(&out), vec![(SHARE_1, read_request(1, 0))]);
    let mut reader = sharded(1, PageMapping::Modulo);
    let out = start(&mut reader, Operation::read(2));
    assert_eq!(sent(&out), vec![(SHARE_0, read_request(2, 1))]);
    // Blocks of two: pages 0 and 1 in share 0, page 2 in share 1.
    let mut reader = sharded(0, PageMapping::Blocks);
    let out = start(&mut reader, Operation::read(1));
    assert_eq!(sent(&out), vec![(SHARE_0, read_request(1, 0))]);
    let out = deliver(&mut reader, NodeId(1), read_page(1, request(0, 1), 1, 5));
    assert_eq!(out.completions.len(), 1);
    let out = start(&mut reader, Operation::read(2));
    let second = Message::ReadRequest {
        page: PageId(2),
        request: request(0, 2),
    };
    assert_eq!(sent(&out), vec![(SHARE_1, second)]);
}

#[test]
fn the_confirmation_goes_to_the_same_share() {
    let mut reader = sharded(0, PageMapping::Modulo);
    start(&mut reader, Operation::read(1));
    let out = deliver(&mut reader, NodeId(1), read_page(1, request(0, 1), 1, 4));
    let confirmation = read_confirmation(1, request(0, 1), 1);
    assert_eq!(sent(&out), vec![(SHARE_1, confirmation)]);
}

#[test]
fn a_new_view_or_a_retry_does_not_move_a_fault_to_another_share() {
    let config = config();
    let options = ProcessOptions {
        retry_timeout_ticks: Some(10),
        ..ProcessOptions::sharded(&config, vec![SHARE_0, SHARE_1], PageMapping::Modulo)
    };
    let mut reader = Process::new(NodeId(0), &config, options);
    start(&mut reader, Operation::read(1));
    // A NewView (which no share's manager sends, but a node may receive) is promised
    // without resending the fault to the "primary" of view 2 (share 0's manager).
    let mut out = Outbox::new();
    let new_view = Envelope {
        from: SHARE_0,
        to: NodeId(0),
        view: View(2),
        message: Message::NewView {
            incarnation: crate::protocol::ids::Incarnation(0),
        },
    };
    reader.handle_message(new_view, 1, &mut out);
    assert!(sent(&out)
        .iter()
        .all(|(_, message)| !matches!(message, Message::ReadRequest { .. })));
    // The retry asks the same manager again.
    let mut out = Outbox::new();
    reader.handle_timeout(ProcessTimer::FaultRetry, 20, &mut out);
    assert_eq!(sent(&out), vec![(SHARE_1, read_request(1, 0))]);
}

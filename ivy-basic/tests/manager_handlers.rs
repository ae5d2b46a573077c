//! Central manager handler tests: one message in, the exact outbox and directory out.
//!
//! Three processes and three pages: process `p` owns page `p`; the manager is node 3.

use ivy_basic::CentralManager;
use ivy_core::{
    DirectoryView, Envelope, Message, Node, NodeId, OperationKind, Outbox, PageId, PageVersion,
    RequestId, SystemConfig, View, Viewstamp,
};

const MANAGER: NodeId = NodeId(3);

fn manager() -> CentralManager {
    CentralManager::new(&SystemConfig::new(3, 3, 16).expect("a valid configuration"))
}

fn request(process: u32, sequence: u64) -> RequestId {
    RequestId {
        process: NodeId(process),
        sequence,
    }
}

fn deliver(manager: &mut CentralManager, from: u32, message: Message) -> Vec<(NodeId, Message)> {
    let mut out = Outbox::new();
    let envelope = Envelope {
        from: NodeId(from),
        to: MANAGER,
        view: View(0),
        message,
    };
    manager.handle_message(envelope, 0, &mut out);
    assert!(out.completions.is_empty() && out.events.is_empty());
    out.messages
        .into_iter()
        .inspect(|envelope| assert_eq!((envelope.from, envelope.view), (MANAGER, View(0))))
        .map(|envelope| (envelope.to, envelope.message))
        .collect()
}

fn read_request(process: u32, sequence: u64, page: u32) -> Message {
    Message::ReadRequest {
        page: PageId(page),
        request: request(process, sequence),
    }
}

fn write_request(process: u32, sequence: u64, page: u32) -> Message {
    Message::WriteRequest {
        page: PageId(page),
        request: request(process, sequence),
    }
}

/// The owner and copy set the directory records for `page`.
fn record(manager: &CentralManager, page: u32) -> (NodeId, Vec<NodeId>, PageVersion) {
    let record = manager.directory().record(PageId(page));
    (
        record.owner,
        record.copy_set.iter().collect(),
        record.version,
    )
}

/// Serves process `reader`'s read of `page` to completion (request and confirmation).
fn serve_read(manager: &mut CentralManager, reader: u32, sequence: u64, page: u32) {
    let sent = deliver(manager, reader, read_request(reader, sequence, page));
    let [(_, Message::ReadForward { version, .. })] = sent.as_slice() else {
        panic!("expected one ReadForward, got {sent:?}");
    };
    let confirmation = Message::ReadConfirmation {
        page: PageId(page),
        request: request(reader, sequence),
        version: *version,
    };
    deliver(manager, reader, confirmation);
}

#[test]
fn a_read_request_on_a_free_page_is_forwarded_to_the_owner() {
    let mut manager = manager();
    let sent = deliver(&mut manager, 1, read_request(1, 1, 0));
    let forward = Message::ReadForward {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(0), forward)]);
    let fault = manager.active_fault(PageId(0)).expect("the page is held");
    assert_eq!(
        (fault.request, fault.kind, fault.version),
        (request(1, 1), OperationKind::Read, PageVersion(1))
    );
}

#[test]
fn a_read_confirmation_adds_the_reader_to_the_copy_set_and_frees_the_page() {
    let mut manager = manager();
    serve_read(&mut manager, 1, 1, 0);
    assert_eq!(
        record(&manager, 0),
        (NodeId(0), vec![NodeId(1)], PageVersion(1))
    );
    assert!(manager.active_fault(PageId(0)).is_none());
}

#[test]
fn requests_on_a_held_page_queue_and_begin_in_order_on_confirmation() {
    let mut manager = manager();
    deliver(&mut manager, 1, read_request(1, 1, 0));
    assert!(deliver(&mut manager, 2, write_request(2, 1, 0)).is_empty());
    assert!(deliver(&mut manager, 0, read_request(0, 1, 0)).is_empty());
    let confirmation = Message::ReadConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    // Process 2's write begins: process 1's new copy is invalidated first.
    let sent = deliver(&mut manager, 1, confirmation);
    let invalidate = Message::Invalidate {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(2),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(1), invalidate)]);
}

#[test]
fn a_duplicate_request_is_ignored() {
    let mut manager = manager();
    deliver(&mut manager, 1, read_request(1, 1, 0));
    deliver(&mut manager, 2, read_request(2, 1, 0));
    let before = manager.clone();
    assert!(deliver(&mut manager, 1, read_request(1, 1, 0)).is_empty());
    assert!(deliver(&mut manager, 2, read_request(2, 1, 0)).is_empty());
    assert_eq!(manager, before);
}

#[test]
fn different_pages_are_served_in_parallel() {
    let mut manager = manager();
    let first = deliver(&mut manager, 1, write_request(1, 1, 0));
    let second = deliver(&mut manager, 0, write_request(0, 1, 2));
    assert_eq!(first.len(), 1);
    assert_eq!(second.len(), 1);
    assert_eq!(manager.serializer().held_pages(), 2);
}

#[test]
fn a_write_invalidates_every_copy_but_the_writers_then_forwards() {
    let mut manager = manager();
    serve_read(&mut manager, 1, 1, 0);
    serve_read(&mut manager, 2, 1, 0);
    let sent = deliver(&mut manager, 1, write_request(1, 2, 0));
    let invalidate = Message::Invalidate {
        page: PageId(0),
        request: request(1, 2),
        version: PageVersion(3),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(2), invalidate)]);
    let confirmed = Message::InvalidateConfirmation {
        page: PageId(0),
        request: request(1, 2),
        version: PageVersion(3),
    };
    let sent = deliver(&mut manager, 2, confirmed.clone());
    let forward = Message::WriteForward {
        page: PageId(0),
        request: request(1, 2),
        version: PageVersion(3),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(0), forward)]);
    // A repeated invalidation confirmation does not forward twice.
    assert!(deliver(&mut manager, 2, confirmed).is_empty());
}

#[test]
fn a_write_on_a_page_without_copies_goes_straight_to_the_owner() {
    let mut manager = manager();
    let sent = deliver(&mut manager, 2, write_request(2, 1, 1));
    let forward = Message::WriteForward {
        page: PageId(1),
        request: request(2, 1),
        version: PageVersion(1),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(1), forward)]);
}

#[test]
fn a_write_confirmation_moves_ownership_and_empties_the_copy_set() {
    let mut manager = manager();
    serve_read(&mut manager, 1, 1, 0);
    deliver(&mut manager, 2, write_request(2, 1, 0));
    let confirmed = Message::InvalidateConfirmation {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(2),
    };
    deliver(&mut manager, 1, confirmed);
    let confirmation = Message::WriteConfirmation {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(2),
    };
    assert!(deliver(&mut manager, 2, confirmation).is_empty());
    assert_eq!(record(&manager, 0), (NodeId(2), vec![], PageVersion(2)));
    assert!(manager.active_fault(PageId(0)).is_none());
}

#[test]
fn the_owner_upgrading_gets_the_forward_itself_and_no_invalidation() {
    let mut manager = manager();
    serve_read(&mut manager, 1, 1, 0);
    // Process 0 owns page 0 with Read (it served a read) and faults to write.
    let sent = deliver(&mut manager, 0, write_request(0, 1, 0));
    let invalidate = Message::Invalidate {
        page: PageId(0),
        request: request(0, 1),
        version: PageVersion(2),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(1), invalidate)]);
    let confirmed = Message::InvalidateConfirmation {
        page: PageId(0),
        request: request(0, 1),
        version: PageVersion(2),
    };
    let grant = Message::WriteForward {
        page: PageId(0),
        request: request(0, 1),
        version: PageVersion(2),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(
        deliver(&mut manager, 1, confirmed),
        vec![(NodeId(0), grant)]
    );
}

#[test]
fn a_writer_in_the_copy_set_is_not_invalidated() {
    let mut manager = manager();
    serve_read(&mut manager, 1, 1, 0);
    let sent = deliver(&mut manager, 1, write_request(1, 2, 0));
    let forward = Message::WriteForward {
        page: PageId(0),
        request: request(1, 2),
        version: PageVersion(2),
        stamp: Viewstamp::ZERO,
    };
    assert_eq!(sent, vec![(NodeId(0), forward)]);
}

#[test]
fn confirmations_that_do_not_match_the_transaction_change_nothing() {
    let mut manager = manager();
    deliver(&mut manager, 1, read_request(1, 1, 0));
    let before = manager.clone();
    let wrong_version = Message::ReadConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(7),
    };
    let wrong_request = Message::ReadConfirmation {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
    };
    let wrong_kind = Message::WriteConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    let free_page = Message::ReadConfirmation {
        page: PageId(1),
        request: request(1, 1),
        version: PageVersion(1),
    };
    for message in [wrong_version, wrong_request, wrong_kind, free_page] {
        assert!(deliver(&mut manager, 1, message).is_empty());
    }
    assert_eq!(manager, before);
}

#[test]
fn requests_naming_a_missing_page_or_process_are_ignored() {
    let mut manager = manager();
    let before = manager.clone();
    assert!(deliver(&mut manager, 1, read_request(1, 1, 3)).is_empty());
    assert!(deliver(&mut manager, 1, write_request(7, 1, 0)).is_empty());
    assert_eq!(manager, before);
}

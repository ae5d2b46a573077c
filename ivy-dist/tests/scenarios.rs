//! Fault by fault, the messages each owner-side algorithm sends, run one operation
//! at a time so that nothing races: the counts the paper gives (improved central:
//! 3 for a read fault, 3 + 2 per copy for a write; dynamic: 2 plus one per hop of
//! forwarding), and the probable owners moving as the paper says.

mod common;

use common::{System, Which};
use ivy_core::{MessageKind, NodeId, Operation, PageId, SystemConfig};

use MessageKind::{
    Invalidate, InvalidateConfirmation, OwnerPage, ReadPage, ReadRequest, WriteRequest,
};

#[test]
fn improved_central_reads_in_three_messages_and_writes_in_three_plus_two_per_copy() {
    let config = SystemConfig::new(4, 4, 8).unwrap(); // the manager is node 4
    let mut system = System::new(&config, Which::Improved);
    // Process 0 reads page 1 (owner 1): to the manager, forwarded, the copy.
    let read = system.run_alone(0, Operation::read(1));
    assert_eq!(
        read,
        [(ReadRequest, 0, 4), (ReadRequest, 4, 1), (ReadPage, 1, 0)]
    );
    // Process 2 writes it: the page and its copy set {0} move to 2, which invalidates.
    let write = system.run_alone(2, Operation::write(1, 7));
    let expected = [
        (WriteRequest, 2, 4),
        (WriteRequest, 4, 1),
        (OwnerPage, 1, 2),
        (Invalidate, 2, 0),
        (InvalidateConfirmation, 0, 2),
    ];
    assert_eq!(write, expected);
    assert_eq!(system.manager.as_ref().unwrap().owner(PageId(1)), NodeId(2));
    // The owner, with a Read copy out, writes again: invalidations only, no manager.
    system.run_alone(3, Operation::read(1));
    let upgrade = system.run_alone(2, Operation::write(1, 8));
    assert_eq!(
        upgrade,
        [(Invalidate, 2, 3), (InvalidateConfirmation, 3, 2)]
    );
}

#[test]
fn dynamic_faults_follow_the_hints_and_the_hints_follow_the_paper() {
    let config = SystemConfig::new(4, 4, 8).unwrap();
    let mut system = System::new(&config, Which::Dynamic);
    assert_eq!(
        system.hints(1),
        [1, 1, 1, 1],
        "every hint starts at the first owner"
    );
    // A read straight to the owner: 2 messages; the reader's hint is the sender.
    let read = system.run_alone(0, Operation::read(1));
    assert_eq!(read, [(ReadRequest, 0, 1), (ReadPage, 1, 0)]);
    // Process 2 writes: the owner hands over page and copy set, and points at 2.
    let write = system.run_alone(2, Operation::write(1, 7));
    let expected = [
        (WriteRequest, 2, 1),
        (OwnerPage, 1, 2),
        (Invalidate, 2, 0),
        (InvalidateConfirmation, 0, 2),
    ];
    assert_eq!(write, expected);
    assert_eq!(
        system.hints(1),
        [2, 2, 2, 1],
        "0 learnt from the invalidation"
    );
    // Process 3 still believes 1 owns it: one hop of forwarding, which (a read)
    // leaves 1's hint alone; 3 learns the owner from the copy.
    let read = system.run_alone(3, Operation::read(1));
    assert_eq!(
        read,
        [(ReadRequest, 3, 1), (ReadRequest, 1, 2), (ReadPage, 2, 3)]
    );
    assert_eq!(system.hints(1), [2, 2, 2, 2]);
    // A write that is forwarded points every hop it passes at its writer.
    let mut system = System::new(&config, Which::Dynamic);
    system.run_alone(2, Operation::write(1, 1)); // 1 hands page 1 to 2
    let write = system.run_alone(0, Operation::write(1, 2)); // 0 -> 1 -> 2
    assert_eq!(
        write,
        [
            (WriteRequest, 0, 1),
            (WriteRequest, 1, 2),
            (OwnerPage, 2, 0)
        ]
    );
    assert_eq!(
        system.hints(1),
        [0, 0, 0, 1],
        "1 forwarded it, 2 handed it over"
    );
}

#[test]
fn with_distributed_copy_sets_a_copy_serves_reads_and_invalidation_follows_the_tree() {
    let config = SystemConfig::new(4, 1, 8).unwrap();
    let mut system = System::new(&config, Which::DynamicCopyTree);
    // 0 hands page 0 to 1, then reads it back from 1.
    system.run_alone(1, Operation::write(0, 1));
    system.run_alone(0, Operation::read(0));
    // 3's hint still names 0, which serves it from its own copy: 2 messages.
    let read = system.run_alone(3, Operation::read(0));
    assert_eq!(read, [(ReadRequest, 3, 0), (ReadPage, 0, 3)]);
    assert_eq!(
        system.hints(0),
        [1, 1, 0, 0],
        "3 follows 0, which gave it its copy"
    );
    // 2 writes (its hint names 0, which forwards): the owner's copy set is {0}; 0
    // passes the invalidation on to 3 and confirms once 3 has.
    let write = system.run_alone(2, Operation::write(0, 2));
    let expected = [
        (WriteRequest, 2, 0),
        (WriteRequest, 0, 1),
        (OwnerPage, 1, 2),
        (Invalidate, 2, 0),
        (Invalidate, 0, 3),
        (InvalidateConfirmation, 3, 0),
        (InvalidateConfirmation, 0, 2),
    ];
    assert_eq!(write, expected);
    assert_eq!(
        system.hints(0),
        [2, 2, 2, 0],
        "3 follows 0, which follows 2"
    );
}

#[test]
fn a_page_handed_to_a_process_that_does_not_wait_for_it_is_reported_lost() {
    use ivy_core::{check_coherence, CoherenceViolation, Envelope, Message, Node, NodeId};
    use ivy_core::{RequestId, View};
    let config = SystemConfig::new(3, 1, 8).unwrap();
    let mut system = System::new(&config, Which::Broadcast);
    system.run_alone(1, Operation::write(0, 7)); // 0 hands page 0 to 1
                                                 // A write request process 2 never made (it is idle) reaches the owner, which
                                                 // hands the page over: while it travels, nobody owns it and nobody waits for it.
    let stray = Message::WriteRequest {
        page: PageId(0),
        request: RequestId {
            process: NodeId(2),
            sequence: 1,
        },
    };
    let envelope = Envelope {
        from: NodeId(2),
        to: NodeId(1),
        view: View(0),
        message: stray,
    };
    let mut out = ivy_core::Outbox::new();
    system.processes[1].handle_message(envelope, 0, &mut out);
    assert_eq!(out.messages.len(), 1, "the page is on its way to process 2");
    let authority = ivy_dist::OwnerSide::new(&system.processes);
    let lost = check_coherence(&system.processes, &authority);
    assert!(
        matches!(lost, Err(CoherenceViolation::NoOwner { .. })),
        "{lost:?}"
    );
}

#[test]
fn with_ownership_broadcast_after_every_fault_faults_go_straight_to_the_owner() {
    let config = SystemConfig::new(4, 1, 8).unwrap();
    let processes = ivy_dist::OwnerProcess::all(&config, ivy_dist::Algorithm::Dynamic);
    let processes = processes
        .into_iter()
        .map(|p| p.broadcasting_ownership_every(1));
    let mut system = System {
        processes: processes.collect(),
        manager: None,
    };
    // 1 writes: its write ends there, and 1 tells the 3 others it owns the page.
    let write = system.run_alone(1, Operation::write(0, 1));
    assert_eq!(write[..2], [(WriteRequest, 1, 0), (OwnerPage, 0, 1)]);
    let told: Vec<_> = write[2..].iter().map(|&(kind, _, to)| (kind, to)).collect();
    assert_eq!(
        told,
        [
            (MessageKind::OwnerIs, 0),
            (MessageKind::OwnerIs, 2),
            (MessageKind::OwnerIs, 3)
        ]
    );
    assert_eq!(system.hints(0), [1, 1, 1, 1]);
    // Every fault one at a time now reaches the owner without a forwarding.
    for (process, operation) in [
        (3, Operation::read(0)),
        (2, Operation::write(0, 2)),
        (0, Operation::read(0)),
    ] {
        let sent = system.run_alone(process, operation);
        let requests = sent
            .iter()
            .filter(|(kind, ..)| matches!(kind, ReadRequest | WriteRequest));
        assert_eq!(requests.count(), 1, "{process} {operation:?}: {sent:?}");
    }
}

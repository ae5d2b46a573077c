//! Write faults: hand-over, upgrade in place, and faults racing on one page.

use super::*;

#[test]
fn write_forward_hands_over_page_and_ownership() {
    let mut owner = process(0);
    start(&mut owner, Operation::write(0, 6));
    let out = from_manager(&mut owner, write_forward(0, request(1, 1), 1));
    let handover = write_page(0, request(1, 1), 1, 6);
    assert_eq!(sent(&out), vec![(NodeId(1), handover)]);
    assert_eq!(state(&owner, 0), (Access::Nil, false, PageVersion(1), None));
    // Without a retained copy, a repeated forward has nothing to send.
    let repeated = write_forward(0, request(1, 1), 1);
    assert!(from_manager(&mut owner, repeated).is_empty());
}

#[test]
fn a_retained_hand_over_answers_a_repeated_forward_until_the_next_version() {
    let config = config();
    let options = ProcessOptions {
        retain_handoff: true,
        ..ProcessOptions::single_manager(&config)
    };
    let mut owner = Process::new(NodeId(0), &config, options);
    start(&mut owner, Operation::write(0, 6));
    let forward = write_forward(0, request(1, 1), 1);
    let first = from_manager(&mut owner, forward.clone());
    let second = from_manager(&mut owner, forward.clone());
    assert_eq!(sent(&first), sent(&second));
    // A newer transaction on the page makes the retained copy useless.
    from_manager(&mut owner, invalidate(0, request(2, 1), 2));
    assert!(from_manager(&mut owner, forward).is_empty());
}

#[test]
fn write_page_makes_the_requester_owner_stores_completes_and_confirms() {
    let mut writer = process(1);
    start(&mut writer, Operation::write(0, 8));
    let out = deliver(&mut writer, NodeId(0), write_page(0, request(1, 1), 1, 3));
    let confirmation = write_confirmation(0, request(1, 1), 1);
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    let done = Completion {
        fault: Some(request(1, 1)),
        ..completion(1, OperationKind::Write, 0, 8)
    };
    assert_eq!(out.completions, vec![done]);
    assert_eq!(
        state(&writer, 0),
        (Access::ReadWrite, true, PageVersion(1), Some(8))
    );
    // A repeated hand-over only repeats the confirmation.
    let repeated = deliver(&mut writer, NodeId(0), write_page(0, request(1, 1), 1, 3));
    assert_eq!(repeated.messages.len(), 1);
    assert!(repeated.completions.is_empty());
    assert_eq!(state(&writer, 0).3, Some(8));
}

#[test]
fn a_writer_holding_a_read_copy_faults_and_takes_ownership() {
    let mut writer = reader_with_copy();
    let out = start(&mut writer, Operation::write(0, 9));
    assert_eq!(
        sent(&out),
        vec![(
            MANAGER,
            Message::WriteRequest {
                page: PageId(0),
                request: request(1, 2)
            }
        )]
    );
    let out = deliver(&mut writer, NodeId(0), write_page(0, request(1, 2), 2, 0));
    assert_eq!(out.completions.len(), 1);
    assert_eq!(
        state(&writer, 0),
        (Access::ReadWrite, true, PageVersion(2), Some(9))
    );
}

#[test]
fn an_owner_with_read_upgrades_in_place_without_a_page_transfer() {
    let mut owner = process(0);
    from_manager(&mut owner, read_forward(0, request(1, 1), 1));
    let out = start(&mut owner, Operation::write(0, 11));
    assert_eq!(out.messages.len(), 1, "Read access is not enough to write");
    let grant = write_forward(0, request(0, 1), 2);
    let out = from_manager(&mut owner, grant);
    let confirmation = write_confirmation(0, request(0, 1), 2);
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    assert_eq!(out.completions.len(), 1);
    assert_eq!(
        state(&owner, 0),
        (Access::ReadWrite, true, PageVersion(2), Some(11))
    );
}

#[test]
fn a_process_serves_forwards_while_its_own_fault_is_pending() {
    let mut owner = process(0);
    start(&mut owner, Operation::read(1));
    let out = from_manager(&mut owner, write_forward(0, request(2, 1), 1));
    assert_eq!(out.messages.len(), 1);
    assert_eq!(out.messages[0].to, NodeId(2));
    assert_eq!(owner.pending().map(|p| p.request), Some(request(0, 1)));
}

#[test]
fn an_invalidate_ordered_before_our_own_write_fault_on_the_page_is_obeyed() {
    // Process 1 holds a Read copy and faults to write; the manager first serves
    // process 2's write, which invalidates process 1's copy.
    let mut writer = reader_with_copy();
    start(&mut writer, Operation::write(0, 12));
    let out = from_manager(&mut writer, invalidate(0, request(2, 1), 2));
    assert_eq!(out.messages.len(), 1);
    assert_eq!(
        state(&writer, 0),
        (Access::Nil, false, PageVersion(2), None)
    );
    assert!(!writer.is_idle(), "the write still waits for its own turn");
    let out = deliver(&mut writer, NodeId(2), write_page(0, request(1, 2), 3, 5));
    assert_eq!(out.completions.len(), 1);
    assert_eq!(
        state(&writer, 0),
        (Access::ReadWrite, true, PageVersion(3), Some(12))
    );
}

#[test]
fn a_message_for_a_missing_page_changes_nothing() {
    let mut owner = process(0);
    let before = owner.clone();
    let malformed = write_forward(9, request(1, 1), 1);
    assert!(from_manager(&mut owner, malformed).is_empty());
    assert_eq!(owner, before);
}

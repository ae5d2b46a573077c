//! Handler unit tests: one input in, the exact outbox and state out.
//!
//! The system has three processes and three pages: process `p` owns page `p` with
//! ReadWrite, and the manager is node 3.

use super::*;
use crate::node::OperationKind;

const MANAGER: NodeId = NodeId(3);
const PAGE_SIZE_BYTES: usize = 16;

fn config() -> SystemConfig {
    SystemConfig::new(3, 3, PAGE_SIZE_BYTES).expect("a valid configuration")
}

fn process(id: u32) -> Process {
    let config = config();
    Process::new(NodeId(id), &config, ProcessOptions::single_manager(&config))
}

fn request(process: u32, sequence: u64) -> RequestId {
    RequestId {
        process: NodeId(process),
        sequence,
    }
}

fn page_with(value: u64) -> PageBuffer {
    let mut data = PageBuffer::zeroed(PAGE_SIZE_BYTES);
    data.store(value);
    data
}

fn envelope(from: NodeId, to: NodeId, message: Message) -> Envelope {
    Envelope {
        from,
        to,
        view: View(0),
        message,
    }
}

/// Delivers `message` from the manager to `process`, returning what it wanted done.
fn from_manager(process: &mut Process, message: Message) -> Outbox {
    deliver(process, MANAGER, message)
}

fn deliver(process: &mut Process, from: NodeId, message: Message) -> Outbox {
    let mut out = Outbox::new();
    let to = process.id();
    process.handle_message(envelope(from, to, message), 0, &mut out);
    out
}

fn start(process: &mut Process, operation: Operation) -> Outbox {
    let mut out = Outbox::new();
    process
        .start(operation, 0, &mut out)
        .expect("the process is idle and the page exists");
    out
}

fn read(page: u32) -> Operation {
    Operation::Read { page: PageId(page) }
}

fn write(page: u32, value: u64) -> Operation {
    Operation::Write {
        page: PageId(page),
        value,
    }
}

fn sent(out: &Outbox) -> Vec<(NodeId, Message)> {
    out.messages
        .iter()
        .map(|envelope| (envelope.to, envelope.message.clone()))
        .collect()
}

fn state(process: &Process, page: u32) -> (Access, bool, PageVersion, Option<u64>) {
    let entry = process.page(PageId(page)).expect("the page exists");
    (
        entry.access(),
        entry.is_owner(),
        entry.version(),
        entry.value(),
    )
}

fn completion(process: u32, kind: OperationKind, page: u32, value: u64) -> Completion {
    Completion {
        process: NodeId(process),
        kind,
        page: PageId(page),
        value,
        fault: None,
    }
}

/// Process 1 after its read fault on page 0 was served at version 1 (a Read copy).
fn reader_with_copy() -> Process {
    let mut reader = process(1);
    start(&mut reader, read(0));
    let out = deliver(
        &mut reader,
        NodeId(0),
        Message::ReadPage {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
            data: page_with(0),
        },
    );
    assert_eq!(out.completions.len(), 1);
    reader
}

#[test]
fn initial_state_follows_the_layout() {
    let process = process(1);
    assert_eq!(
        state(&process, 1),
        (Access::ReadWrite, true, PageVersion(0), Some(0))
    );
    assert_eq!(
        state(&process, 0),
        (Access::Nil, false, PageVersion(0), None)
    );
    assert!(process.is_idle());
}

#[test]
fn a_read_with_access_is_a_local_hit() {
    let mut owner = process(0);
    let out = start(&mut owner, read(0));
    assert!(out.messages.is_empty());
    assert_eq!(
        out.completions,
        vec![completion(0, OperationKind::Read, 0, 0)]
    );
    assert!(owner.is_idle());
}

#[test]
fn a_write_with_read_write_access_is_a_local_hit() {
    let mut owner = process(0);
    let out = start(&mut owner, write(0, 7));
    assert!(out.messages.is_empty());
    assert_eq!(
        out.completions,
        vec![completion(0, OperationKind::Write, 0, 7)]
    );
    assert_eq!(
        state(&owner, 0),
        (Access::ReadWrite, true, PageVersion(0), Some(7))
    );
}

#[test]
fn a_read_without_access_faults_to_the_manager() {
    let mut reader = process(1);
    let out = start(&mut reader, read(0));
    let fault = Message::ReadRequest {
        page: PageId(0),
        request: request(1, 1),
    };
    assert_eq!(sent(&out), vec![(MANAGER, fault)]);
    assert!(out.completions.is_empty());
    assert_eq!(reader.pending().map(|p| p.request), Some(request(1, 1)));
}

#[test]
fn each_fault_gets_the_next_request_number_and_hits_do_not_use_one() {
    let mut writer = reader_with_copy();
    start(&mut writer, read(1)); // a local hit
    let out = start(&mut writer, write(2, 9));
    let fault = Message::WriteRequest {
        page: PageId(2),
        request: request(1, 2),
    };
    assert_eq!(sent(&out), vec![(MANAGER, fault)]);
}

#[test]
fn a_process_has_one_outstanding_fault() {
    let mut reader = process(1);
    start(&mut reader, read(0));
    let mut out = Outbox::new();
    let refused = reader.start(read(1), 0, &mut out);
    assert_eq!(
        refused,
        Err(StartError::Busy {
            process: NodeId(1),
            pending: request(1, 1)
        })
    );
    assert!(out.is_empty());
}

#[test]
fn an_operation_on_a_missing_page_is_refused() {
    let mut reader = process(1);
    let mut out = Outbox::new();
    let refused = reader.start(read(3), 0, &mut out);
    assert_eq!(
        refused,
        Err(StartError::UnknownPage {
            page: PageId(3),
            pages: 3
        })
    );
    assert!(out.is_empty() && reader.is_idle());
}

#[test]
fn read_forward_sends_a_copy_and_the_owner_drops_to_read() {
    let mut owner = process(0);
    start(&mut owner, write(0, 5));
    let out = from_manager(
        &mut owner,
        Message::ReadForward {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
        },
    );
    let copy = Message::ReadPage {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
        data: page_with(5),
    };
    assert_eq!(sent(&out), vec![(NodeId(1), copy)]);
    assert_eq!(
        state(&owner, 0),
        (Access::Read, true, PageVersion(1), Some(5))
    );
}

#[test]
fn read_forward_to_a_non_owner_or_of_an_old_version_changes_nothing() {
    let mut other = process(2);
    let before = other.clone();
    let forward = Message::ReadForward {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    assert!(from_manager(&mut other, forward).is_empty());
    assert_eq!(other, before);

    let mut owner = process(0);
    from_manager(
        &mut owner,
        Message::ReadForward {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(2),
        },
    );
    let before = owner.clone();
    let stale = Message::ReadForward {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
    };
    assert!(from_manager(&mut owner, stale).is_empty());
    assert_eq!(owner, before);
}

#[test]
fn read_page_installs_a_copy_completes_and_confirms() {
    let mut reader = process(1);
    start(&mut reader, read(0));
    let out = deliver(
        &mut reader,
        NodeId(0),
        Message::ReadPage {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
            data: page_with(4),
        },
    );
    let confirmation = Message::ReadConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    let done = Completion {
        fault: Some(request(1, 1)),
        ..completion(1, OperationKind::Read, 0, 4)
    };
    assert_eq!(out.completions, vec![done]);
    assert_eq!(
        state(&reader, 0),
        (Access::Read, false, PageVersion(1), Some(4))
    );
    assert!(reader.is_idle());
}

#[test]
fn a_repeated_read_page_only_repeats_the_confirmation() {
    let mut reader = reader_with_copy();
    let before = reader.clone();
    let repeated = Message::ReadPage {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
        data: page_with(0),
    };
    let out = deliver(&mut reader, NodeId(0), repeated);
    let confirmation = Message::ReadConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    assert!(out.completions.is_empty());
    assert_eq!(reader, before);
}

#[test]
fn a_page_for_a_fault_never_made_changes_nothing() {
    let mut other = process(2);
    let before = other.clone();
    let stray = Message::ReadPage {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
        data: page_with(0),
    };
    assert!(deliver(&mut other, NodeId(0), stray).is_empty());
    let stray_write = Message::WritePage {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
        data: page_with(0),
    };
    assert!(deliver(&mut other, NodeId(0), stray_write).is_empty());
    assert_eq!(other, before);
}

#[test]
fn invalidate_drops_the_copy_and_confirms() {
    let mut holder = reader_with_copy();
    let out = from_manager(
        &mut holder,
        Message::Invalidate {
            page: PageId(0),
            request: request(2, 1),
            version: PageVersion(2),
        },
    );
    let confirmation = Message::InvalidateConfirmation {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(2),
    };
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    assert_eq!(
        state(&holder, 0),
        (Access::Nil, false, PageVersion(2), None)
    );
}

#[test]
fn a_repeated_invalidate_repeats_the_confirmation_and_an_old_one_is_ignored() {
    let mut holder = reader_with_copy();
    let invalidate = Message::Invalidate {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(2),
    };
    from_manager(&mut holder, invalidate.clone());
    let again = from_manager(&mut holder, invalidate);
    assert_eq!(again.messages.len(), 1);
    let old = Message::Invalidate {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
    };
    assert!(from_manager(&mut holder, old).is_empty());
}

#[test]
fn the_owner_ignores_an_invalidate() {
    let mut owner = process(0);
    let before = owner.clone();
    let invalidate = Message::Invalidate {
        page: PageId(0),
        request: request(2, 1),
        version: PageVersion(1),
    };
    assert!(from_manager(&mut owner, invalidate).is_empty());
    assert_eq!(owner, before);
}

#[test]
fn write_forward_hands_over_page_and_ownership() {
    let mut owner = process(0);
    start(&mut owner, write(0, 6));
    let out = from_manager(
        &mut owner,
        Message::WriteForward {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
        },
    );
    let handover = Message::WritePage {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
        data: page_with(6),
    };
    assert_eq!(sent(&out), vec![(NodeId(1), handover)]);
    assert_eq!(state(&owner, 0), (Access::Nil, false, PageVersion(1), None));
    // Without a retained copy, a repeated forward has nothing to send.
    let repeated = Message::WriteForward {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
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
    start(&mut owner, write(0, 6));
    let forward = Message::WriteForward {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    let first = from_manager(&mut owner, forward.clone());
    let second = from_manager(&mut owner, forward.clone());
    assert_eq!(sent(&first), sent(&second));
    // A newer transaction on the page makes the retained copy useless.
    from_manager(
        &mut owner,
        Message::Invalidate {
            page: PageId(0),
            request: request(2, 1),
            version: PageVersion(2),
        },
    );
    assert!(from_manager(&mut owner, forward).is_empty());
}

#[test]
fn write_page_makes_the_requester_owner_stores_completes_and_confirms() {
    let mut writer = process(1);
    start(&mut writer, write(0, 8));
    let out = deliver(
        &mut writer,
        NodeId(0),
        Message::WritePage {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
            data: page_with(3),
        },
    );
    let confirmation = Message::WriteConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
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
    let repeated = deliver(
        &mut writer,
        NodeId(0),
        Message::WritePage {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
            data: page_with(3),
        },
    );
    assert_eq!(repeated.messages.len(), 1);
    assert!(repeated.completions.is_empty());
    assert_eq!(state(&writer, 0).3, Some(8));
}

#[test]
fn a_writer_holding_a_read_copy_faults_and_takes_ownership() {
    let mut writer = reader_with_copy();
    let out = start(&mut writer, write(0, 9));
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
    let out = deliver(
        &mut writer,
        NodeId(0),
        Message::WritePage {
            page: PageId(0),
            request: request(1, 2),
            version: PageVersion(2),
            data: page_with(0),
        },
    );
    assert_eq!(out.completions.len(), 1);
    assert_eq!(
        state(&writer, 0),
        (Access::ReadWrite, true, PageVersion(2), Some(9))
    );
}

#[test]
fn an_owner_with_read_upgrades_in_place_without_a_page_transfer() {
    let mut owner = process(0);
    from_manager(
        &mut owner,
        Message::ReadForward {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
        },
    );
    let out = start(&mut owner, write(0, 11));
    assert_eq!(out.messages.len(), 1, "Read access is not enough to write");
    let grant = Message::WriteForward {
        page: PageId(0),
        request: request(0, 1),
        version: PageVersion(2),
    };
    let out = from_manager(&mut owner, grant);
    let confirmation = Message::WriteConfirmation {
        page: PageId(0),
        request: request(0, 1),
        version: PageVersion(2),
    };
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
    start(&mut owner, read(1));
    let out = from_manager(
        &mut owner,
        Message::WriteForward {
            page: PageId(0),
            request: request(2, 1),
            version: PageVersion(1),
        },
    );
    assert_eq!(out.messages.len(), 1);
    assert_eq!(out.messages[0].to, NodeId(2));
    assert_eq!(owner.pending().map(|p| p.request), Some(request(0, 1)));
}

#[test]
fn an_invalidate_ordered_before_our_own_write_fault_on_the_page_is_obeyed() {
    // Process 1 holds a Read copy and faults to write; the manager first serves
    // process 2's write, which invalidates process 1's copy.
    let mut writer = reader_with_copy();
    start(&mut writer, write(0, 12));
    let out = from_manager(
        &mut writer,
        Message::Invalidate {
            page: PageId(0),
            request: request(2, 1),
            version: PageVersion(2),
        },
    );
    assert_eq!(out.messages.len(), 1);
    assert_eq!(
        state(&writer, 0),
        (Access::Nil, false, PageVersion(2), None)
    );
    assert!(!writer.is_idle(), "the write still waits for its own turn");
    let out = deliver(
        &mut writer,
        NodeId(2),
        Message::WritePage {
            page: PageId(0),
            request: request(1, 2),
            version: PageVersion(3),
            data: page_with(5),
        },
    );
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
    let malformed = Message::WriteForward {
        page: PageId(9),
        request: request(1, 1),
        version: PageVersion(1),
    };
    assert!(from_manager(&mut owner, malformed).is_empty());
    assert_eq!(owner, before);
}

#[test]
fn messages_from_an_older_manager_view_are_ignored() {
    let mut owner = process(0);
    let mut out = Outbox::new();
    let newer = Envelope {
        view: View(2),
        ..envelope(
            MANAGER,
            NodeId(0),
            Message::ReadForward {
                page: PageId(1),
                request: request(2, 1),
                version: PageVersion(1),
            },
        )
    };
    owner.handle_message(newer, 0, &mut out);
    assert_eq!(owner.view(), View(2));
    let before = owner.clone();
    let older = envelope(
        MANAGER,
        NodeId(0),
        Message::WriteForward {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
        },
    );
    out.clear();
    owner.handle_message(older, 0, &mut out);
    assert!(out.is_empty());
    assert_eq!(owner, before);
}

#[test]
fn an_unanswered_fault_is_resent_to_the_other_manager_with_the_same_id() {
    let config = config();
    let options = ProcessOptions {
        managers: vec![NodeId(3), NodeId(4)],
        retry_timeout_ticks: Some(10),
        retain_handoff: true,
    };
    let mut reader = Process::new(NodeId(1), &config, options);
    let mut out = Outbox::new();
    reader.start(read(0), 0, &mut out).expect("idle");
    out.clear();
    reader.handle_tick(9, &mut out);
    assert!(out.is_empty(), "not yet timed out");
    reader.handle_tick(10, &mut out);
    let resent = Message::ReadRequest {
        page: PageId(0),
        request: request(1, 1),
    };
    assert_eq!(sent(&out), vec![(NodeId(4), resent.clone())]);
    out.clear();
    reader.handle_tick(20, &mut out);
    assert_eq!(sent(&out), vec![(NodeId(3), resent)]);
}

#[test]
fn a_process_without_a_retry_timeout_never_resends() {
    let mut reader = process(1);
    start(&mut reader, read(0));
    let mut out = Outbox::new();
    reader.handle_tick(1_000_000, &mut out);
    assert!(out.is_empty());
}

fn replicated_process(id: u32) -> Process {
    let config = config();
    Process::new(NodeId(id), &config, ProcessOptions::replicated(&config, 60))
}

fn new_view(process: &mut Process, from: u32, view: u64) -> Outbox {
    let mut out = Outbox::new();
    let envelope = Envelope {
        view: View(view),
        ..envelope(NodeId(from), process.id(), Message::NewView)
    };
    process.handle_message(envelope, 5, &mut out);
    out
}

#[test]
fn a_newer_view_is_promised_and_a_pending_fault_goes_to_its_primary() {
    let mut reader = replicated_process(1);
    start(&mut reader, read(0));
    let out = new_view(&mut reader, 4, 1);
    let envelopes: Vec<_> = out
        .messages
        .iter()
        .map(|e| (e.to, e.view, e.message.clone()))
        .collect();
    let resent = Message::ReadRequest {
        page: PageId(0),
        request: request(1, 1),
    };
    let promise = Message::ViewPromise { accepted: View(0) };
    assert_eq!(
        envelopes,
        vec![(NodeId(4), View(1), resent), (NodeId(4), View(1), promise)]
    );
    assert_eq!(reader.view(), View(1));
    assert_eq!(reader.pending().map(|p| p.sent_at_ticks), Some(5));
}

#[test]
fn a_stale_new_view_is_answered_with_the_newer_promise() {
    let mut process = replicated_process(2);
    new_view(&mut process, 4, 3);
    let before = process.clone();
    let out = new_view(&mut process, 3, 2);
    assert_eq!(out.messages.len(), 1);
    let answer = &out.messages[0];
    assert_eq!((answer.to, answer.view), (NodeId(3), View(3)));
    assert_eq!(answer.message, Message::ViewPromise { accepted: View(0) });
    assert_eq!(process, before);
}

#[test]
fn the_promise_reports_the_newest_view_whose_command_was_obeyed() {
    let mut owner = replicated_process(0);
    new_view(&mut owner, 4, 1);
    let mut out = Outbox::new();
    let command = Envelope {
        view: View(1),
        ..envelope(
            NodeId(4),
            NodeId(0),
            Message::ReadForward {
                page: PageId(0),
                request: request(1, 1),
                version: PageVersion(1),
            },
        )
    };
    owner.handle_message(command, 0, &mut out);
    assert_eq!(owner.accepted_view(), View(1));
    let out = new_view(&mut owner, 3, 2);
    assert_eq!(
        out.messages[0].message,
        Message::ViewPromise { accepted: View(1) }
    );
    // Confirmations now go to the primary of view 2, node 3.
    assert_eq!(owner.view(), View(2));
}

#[test]
fn a_page_entry_stays_small_for_systems_with_millions_of_pages() {
    // Every process keeps an entry for every page: 64 processes and a million pages
    // make 64 million entries.
    assert!(std::mem::size_of::<PageEntry>() <= 40);
    assert_eq!(
        std::mem::size_of::<Option<PageBuffer>>(),
        std::mem::size_of::<PageBuffer>()
    );
}

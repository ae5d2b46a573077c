//! Handler unit tests: one input in, the exact outbox and state out.
//!
//! The system has three processes and three pages: process `p` owns page `p` with
//! ReadWrite, and the manager is node 3.

use super::*;
use crate::protocol::ids::PageVersion;
use crate::protocol::operation::OperationKind;
use crate::replication::Viewstamp;

mod shares;
mod views;
mod writes;

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

/// A manager command about `page` for `request` at `version`, stamped
/// [`Viewstamp::ZERO`] as the basic central manager stamps it.
macro_rules! command_message {
    ($($name:ident => $variant:ident),* $(,)?) => {$(
        fn $name(page: u32, request: RequestId, version: u64) -> Message {
            Message::$variant {
                page: PageId(page),
                request,
                version: PageVersion(version),
                stamp: Viewstamp::ZERO,
            }
        }
    )*};
}

command_message! {
    read_forward => ReadForward,
    invalidate => Invalidate,
    write_forward => WriteForward,
}

/// A confirmation about `page` for `request` at `version`.
macro_rules! confirmation_message {
    ($($name:ident => $variant:ident),* $(,)?) => {$(
        fn $name(page: u32, request: RequestId, version: u64) -> Message {
            Message::$variant {
                page: PageId(page),
                request,
                version: PageVersion(version),
            }
        }
    )*};
}

confirmation_message! {
    read_confirmation => ReadConfirmation,
    write_confirmation => WriteConfirmation,
    invalidate_confirmation => InvalidateConfirmation,
}

/// `command` (a forward or an invalidation) carrying the viewstamp `at`.
fn stamped(mut command: Message, at: Viewstamp) -> Message {
    match &mut command {
        Message::ReadForward { stamp, .. }
        | Message::Invalidate { stamp, .. }
        | Message::WriteForward { stamp, .. } => *stamp = at,
        other => panic!("{other:?} carries no viewstamp"),
    }
    command
}

/// A page copy (`ReadPage`) holding `value`.
fn read_page(page: u32, request: RequestId, version: u64, value: u64) -> Message {
    Message::ReadPage {
        page: PageId(page),
        request,
        version: PageVersion(version),
        data: page_with(value),
    }
}

/// A page hand-over (`WritePage`) holding `value`.
fn write_page(page: u32, request: RequestId, version: u64, value: u64) -> Message {
    Message::WritePage {
        page: PageId(page),
        request,
        version: PageVersion(version),
        data: page_with(value),
    }
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
    start(&mut reader, Operation::read(0));
    let out = deliver(&mut reader, NodeId(0), read_page(0, request(1, 1), 1, 0));
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
    let out = start(&mut owner, Operation::read(0));
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
    let out = start(&mut owner, Operation::write(0, 7));
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
    let out = start(&mut reader, Operation::read(0));
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
    start(&mut writer, Operation::read(1)); // a local hit
    let out = start(&mut writer, Operation::write(2, 9));
    let fault = Message::WriteRequest {
        page: PageId(2),
        request: request(1, 2),
    };
    assert_eq!(sent(&out), vec![(MANAGER, fault)]);
}

#[test]
fn a_process_has_one_outstanding_fault() {
    let mut reader = process(1);
    start(&mut reader, Operation::read(0));
    let mut out = Outbox::new();
    let refused = reader.start(Operation::read(1), 0, &mut out);
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
    let refused = reader.start(Operation::read(3), 0, &mut out);
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
    start(&mut owner, Operation::write(0, 5));
    let out = from_manager(&mut owner, read_forward(0, request(1, 1), 1));
    let copy = read_page(0, request(1, 1), 1, 5);
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
    let forward = read_forward(0, request(1, 1), 1);
    assert!(from_manager(&mut other, forward).is_empty());
    assert_eq!(other, before);

    let mut owner = process(0);
    from_manager(&mut owner, read_forward(0, request(1, 1), 2));
    let before = owner.clone();
    let stale = read_forward(0, request(2, 1), 1);
    assert!(from_manager(&mut owner, stale).is_empty());
    assert_eq!(owner, before);
}

#[test]
fn read_page_installs_a_copy_completes_and_confirms() {
    let mut reader = process(1);
    start(&mut reader, Operation::read(0));
    let out = deliver(&mut reader, NodeId(0), read_page(0, request(1, 1), 1, 4));
    let confirmation = read_confirmation(0, request(1, 1), 1);
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
    let repeated = read_page(0, request(1, 1), 1, 0);
    let out = deliver(&mut reader, NodeId(0), repeated);
    let confirmation = read_confirmation(0, request(1, 1), 1);
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    assert!(out.completions.is_empty());
    assert_eq!(reader, before);
}

#[test]
fn a_page_for_a_fault_never_made_changes_nothing() {
    let mut other = process(2);
    let before = other.clone();
    let stray = read_page(0, request(2, 1), 1, 0);
    assert!(deliver(&mut other, NodeId(0), stray).is_empty());
    let stray_write = write_page(0, request(2, 1), 1, 0);
    assert!(deliver(&mut other, NodeId(0), stray_write).is_empty());
    assert_eq!(other, before);
}

#[test]
fn invalidate_drops_the_copy_and_confirms() {
    let mut holder = reader_with_copy();
    let out = from_manager(&mut holder, invalidate(0, request(2, 1), 2));
    let confirmation = invalidate_confirmation(0, request(2, 1), 2);
    assert_eq!(sent(&out), vec![(MANAGER, confirmation)]);
    assert_eq!(
        state(&holder, 0),
        (Access::Nil, false, PageVersion(2), None)
    );
}

#[test]
fn a_repeated_invalidate_repeats_the_confirmation_and_an_old_one_is_ignored() {
    let mut holder = reader_with_copy();
    let newer = invalidate(0, request(2, 1), 2);
    from_manager(&mut holder, newer.clone());
    let again = from_manager(&mut holder, newer);
    assert_eq!(again.messages.len(), 1);
    let old = invalidate(0, request(2, 1), 1);
    assert!(from_manager(&mut holder, old).is_empty());
}

#[test]
fn the_owner_ignores_an_invalidate() {
    let mut owner = process(0);
    let before = owner.clone();
    let message = invalidate(0, request(2, 1), 1);
    assert!(from_manager(&mut owner, message).is_empty());
    assert_eq!(owner, before);
}

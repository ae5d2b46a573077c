//! The page serializer as the fault-tolerant managers use it: replicated inputs, late
//! duplicates, and snapshots.

use ivy_basic::{Admission, PageSerializer};
use ivy_core::{
    Incarnation, LogEntry, LogPosition, Message, NodeId, OperationKind, Outbox, PageId,
    PageVersion, RequestId, SystemConfig, View, Viewstamp,
};

fn config() -> SystemConfig {
    SystemConfig::new(3, 2, 8).expect("a valid configuration")
}

fn request(process: u32, sequence: u64) -> RequestId {
    RequestId {
        process: NodeId(process),
        sequence,
    }
}

/// Entry `index` of view 1.
fn at(index: u64) -> Viewstamp {
    Viewstamp {
        view: View(1),
        index,
    }
}

/// A log that reaches entry `index` of view 1, led by the first incarnation.
fn reach(index: u64) -> LogPosition {
    LogPosition {
        stamp: at(index),
        leader: Incarnation(0),
    }
}

fn admit(page: u32, process: u32, sequence: u64, kind: OperationKind) -> LogEntry {
    LogEntry::Admit {
        page: PageId(page),
        request: request(process, sequence),
        kind,
    }
}

/// The confirmation of `process`'s fault `sequence` on `page`, at page `version`.
fn confirm(page: u32, process: u32, sequence: u64, version: u64, kind: OperationKind) -> LogEntry {
    LogEntry::Confirm {
        page: PageId(page),
        request: request(process, sequence),
        version: PageVersion(version),
        kind,
    }
}

/// A log with a completed read, a write waiting behind a read, and a second page held.
fn log() -> Vec<LogEntry> {
    vec![
        admit(0, 1, 1, OperationKind::Read),
        confirm(0, 1, 1, 1, OperationKind::Read),
        admit(0, 2, 1, OperationKind::Read),
        admit(0, 0, 1, OperationKind::Write),
        admit(1, 1, 2, OperationKind::Write),
    ]
}

#[test]
fn applying_the_log_reproduces_the_primary_state() {
    let mut primary = PageSerializer::new(&config());
    primary.admit(PageId(0), request(1, 1), OperationKind::Read, at(1));
    primary.confirm(
        PageId(0),
        request(1, 1),
        PageVersion(1),
        OperationKind::Read,
        at(2),
    );
    primary.admit(PageId(0), request(2, 1), OperationKind::Read, at(3));
    primary.admit(PageId(0), request(0, 1), OperationKind::Write, at(4));
    primary.admit(PageId(1), request(1, 2), OperationKind::Write, at(5));
    let mut backup = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(log()) {
        backup.apply(&entry, at(index));
    }
    assert_eq!(backup, primary);
    assert_eq!(backup.last_completed(NodeId(1)), 1);
}

#[test]
fn a_snapshot_rebuilds_the_same_state() {
    let mut primary = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(log()) {
        primary.apply(&entry, at(index));
    }
    let snapshot = primary.snapshot(reach(5));
    assert_eq!(snapshot.last, reach(5));
    assert_eq!(snapshot.held.len(), 3);
    assert_eq!(PageSerializer::from_snapshot(&snapshot), primary);
}

#[test]
fn commands_carry_the_view_sent_in_and_the_index_of_the_entry_that_began_them() {
    let mut serializer = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(log()) {
        serializer.apply(&entry, at(index));
    }
    // Page 0's read by process 2 began at entry 3 (entry 2 confirmed the first read
    // with nothing queued, freeing the page); page 1's write began at entry 5. A
    // snapshot keeps both.
    // Re-driven in view 2, they carry view 2: the log they are sent from.
    let rebuilt = PageSerializer::from_snapshot(&serializer.snapshot(reach(5)));
    for (page, began_at) in [(0, 3), (1, 5)] {
        let mut out = Outbox::new();
        assert!(rebuilt.drive(PageId(page), NodeId(3), View(2), &mut out));
        let stamps: Vec<_> = out.messages.iter().map(|e| e.message.stamp()).collect();
        assert!(!stamps.is_empty());
        let expected = Viewstamp {
            view: View(2),
            index: began_at,
        };
        assert!(
            stamps.iter().all(|&stamp| stamp == Some(expected)),
            "{stamps:?}"
        );
        assert!(matches!(
            out.messages[0].message,
            Message::ReadForward { .. } | Message::WriteForward { .. }
        ));
    }
}

#[test]
fn a_late_duplicate_of_a_completed_request_is_not_granted_again() {
    let mut serializer = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(&log()[..2]) {
        serializer.apply(entry, at(index));
    }
    let again = serializer.admit(PageId(0), request(1, 1), OperationKind::Read, at(3));
    assert_eq!(again, Admission::Completed);
    assert!(serializer.transaction(PageId(0)).is_none());
}

#[test]
fn a_snapshot_keeps_a_held_fault_whose_process_completed_later_faults() {
    // Process 1's read of page 0 completed, but its confirmation was lost; its next
    // fault (on page 1) was confirmed. The held read must survive a snapshot.
    let mut primary = PageSerializer::new(&config());
    primary.apply(&admit(0, 1, 1, OperationKind::Read), at(1));
    primary.apply(&admit(1, 1, 2, OperationKind::Read), at(2));
    let confirm = confirm(1, 1, 2, 1, OperationKind::Read);
    primary.apply(&confirm, at(3));
    let rebuilt = PageSerializer::from_snapshot(&primary.snapshot(reach(3)));
    assert_eq!(rebuilt, primary);
    assert_eq!(
        rebuilt.transaction(PageId(0)).map(|t| t.request),
        Some(request(1, 1))
    );
}

#[test]
fn applying_an_entry_names_the_page_whose_transaction_it_began() {
    let mut serializer = PageSerializer::new(&config());
    let began: Vec<_> = (1..)
        .zip(log())
        .map(|(index, entry)| serializer.apply(&entry, at(index)))
        .collect();
    // The first read begins; its confirmation frees the page with nothing queued; the
    // second read begins; the write queues behind it; page 1's write begins.
    let expected = [
        Some(PageId(0)),
        None,
        Some(PageId(0)),
        None,
        Some(PageId(1)),
    ];
    assert_eq!(began, expected);
    // Confirming the second read begins the queued write.
    let confirm = confirm(0, 2, 1, 2, OperationKind::Read);
    assert_eq!(serializer.apply(&confirm, at(6)), Some(PageId(0)));
    assert_eq!(
        serializer.transaction(PageId(0)).map(|t| t.request),
        Some(request(0, 1))
    );
}

#[test]
fn held_pages_and_last_completed_faults_are_reported() {
    let mut serializer = PageSerializer::new(&config());
    assert_eq!(serializer.held_page_ids().count(), 0);
    for (index, entry) in (1..).zip(log()) {
        serializer.apply(&entry, at(index));
    }
    let held: Vec<_> = serializer.held_page_ids().collect();
    assert_eq!(held, vec![PageId(0), PageId(1)]);
    assert_eq!(serializer.last_completed(NodeId(0)), 0);
    assert_eq!(serializer.last_completed(NodeId(1)), 1);
    assert_eq!(serializer.last_completed(NodeId(2)), 0);
}

/// Process 0 owns page 0 (the initial owner); processes 1 and 2 read it, so both
/// hold copies; then `writer` writes it.
fn write_after_two_reads(writer: u32) -> PageSerializer {
    let mut serializer = PageSerializer::new(&config());
    let mut index = 0;
    let mut next = || {
        index += 1;
        at(index)
    };
    for (reader, version) in [(1, 1), (2, 2)] {
        serializer.apply(&admit(0, reader, 1, OperationKind::Read), next());
        let confirm = confirm(0, reader, 1, version, OperationKind::Read);
        serializer.apply(&confirm, next());
    }
    serializer.apply(&admit(0, writer, 2, OperationKind::Write), next());
    serializer
}

#[test]
fn invalidations_are_done_only_when_every_other_copy_confirmed() {
    let mut serializer = write_after_two_reads(1);
    let version = serializer
        .transaction(PageId(0))
        .expect("the write")
        .version;
    assert!(
        !serializer.invalidations_done(PageId(0)),
        "process 2's copy"
    );
    // The writer's own copy needs no invalidation: process 2's is the only one.
    assert!(serializer.confirm_invalidation(PageId(0), request(1, 2), version, NodeId(2)));
    assert!(serializer.invalidations_done(PageId(0)));
    // No transaction on page 1, and none on page 0 once the write completed.
    assert!(!serializer.invalidations_done(PageId(1)));
    let completed = serializer.confirm(
        PageId(0),
        request(1, 2),
        version,
        OperationKind::Write,
        at(9),
    );
    assert!(completed.is_some());
    assert!(!serializer.invalidations_done(PageId(0)));
}

#[test]
fn a_write_with_no_copy_to_invalidate_or_a_read_waits_for_no_invalidation() {
    // Process 0 writes the page it owns and nobody copied: its forward is next, but
    // not because invalidations finished.
    let mut serializer = PageSerializer::new(&config());
    serializer.apply(&admit(0, 0, 1, OperationKind::Write), at(1));
    assert!(!serializer.invalidations_done(PageId(0)));
    // A read never invalidates, even with copies around: after processes 1 and 2
    // read page 0, process 1 reads it again.
    let mut serializer = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(log()).take(3) {
        serializer.apply(&entry, at(index));
    }
    let confirm = confirm(0, 2, 1, 2, OperationKind::Read);
    serializer.apply(&confirm, at(4));
    serializer.apply(&admit(0, 1, 3, OperationKind::Read), at(5));
    assert_eq!(
        serializer.transaction(PageId(0)).map(|t| t.kind),
        Some(OperationKind::Read)
    );
    assert!(!serializer.invalidations_done(PageId(0)));
}

#[test]
fn a_write_by_a_process_holding_the_only_copy_has_nothing_to_invalidate() {
    let mut serializer = PageSerializer::new(&config());
    serializer.apply(&admit(0, 1, 1, OperationKind::Read), at(1));
    let confirm = confirm(0, 1, 1, 1, OperationKind::Read);
    serializer.apply(&confirm, at(2));
    serializer.apply(&admit(0, 1, 2, OperationKind::Write), at(3));
    assert!(!serializer.invalidations_done(PageId(0)));
}

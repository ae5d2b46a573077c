//! The page serializer as the fault-tolerant managers use it: replicated inputs, late
//! duplicates, and snapshots.

use ivy_basic::{Admission, PageSerializer};
use ivy_core::{
    LogEntry, Message, NodeId, OperationKind, Outbox, PageId, PageVersion, RequestId, SystemConfig,
    View, Viewstamp,
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

fn admit(page: u32, process: u32, sequence: u64, kind: OperationKind) -> LogEntry {
    LogEntry::Admit {
        page: PageId(page),
        request: request(process, sequence),
        kind,
    }
}

/// A log with a completed read, a write waiting behind a read, and a second page held.
fn log() -> Vec<LogEntry> {
    vec![
        admit(0, 1, 1, OperationKind::Read),
        LogEntry::Confirm {
            page: PageId(0),
            request: request(1, 1),
            version: PageVersion(1),
            kind: OperationKind::Read,
        },
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
    let snapshot = primary.snapshot(at(5));
    assert_eq!(snapshot.last, at(5));
    assert_eq!(snapshot.held.len(), 3);
    assert_eq!(PageSerializer::from_snapshot(&snapshot), primary);
}

#[test]
fn commands_carry_the_viewstamp_of_the_entry_that_began_the_transaction() {
    let mut serializer = PageSerializer::new(&config());
    for (index, entry) in (1..).zip(log()) {
        serializer.apply(&entry, at(index));
    }
    // Page 0's read by process 2 began at entry 3 (entry 2 confirmed the first read
    // with nothing queued, freeing the page); page 1's write began at entry 5. A
    // snapshot keeps both.
    let rebuilt = PageSerializer::from_snapshot(&serializer.snapshot(at(5)));
    for (page, began_at) in [(0, at(3)), (1, at(5))] {
        let mut out = Outbox::new();
        assert!(rebuilt.drive(PageId(page), NodeId(3), View(1), &mut out));
        let stamps: Vec<_> = out.messages.iter().map(|e| e.message.stamp()).collect();
        assert!(!stamps.is_empty());
        assert!(
            stamps.iter().all(|&stamp| stamp == Some(began_at)),
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
    let confirm = LogEntry::Confirm {
        page: PageId(1),
        request: request(1, 2),
        version: PageVersion(1),
        kind: OperationKind::Read,
    };
    primary.apply(&confirm, at(3));
    let rebuilt = PageSerializer::from_snapshot(&primary.snapshot(at(3)));
    assert_eq!(rebuilt, primary);
    assert_eq!(
        rebuilt.transaction(PageId(0)).map(|t| t.request),
        Some(request(1, 1))
    );
}

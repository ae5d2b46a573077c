//! Handler tests of the replicated manager: one input in, the exact messages and role
//! out. Three processes and one page (owned by process 0); the original primary is
//! node 3, the original backup node 4.

use ivy_core::sim::SimManager;
use ivy_core::{
    Envelope, LogEntry, Message, Node, NodeEvent, NodeId, OperationKind, Outbox, PageId,
    PageVersion, RequestId, SystemConfig, View,
};
use ivy_ft::{FtManager, FtOptions, RoleKind};

const PRIMARY: NodeId = NodeId(3);
const BACKUP: NodeId = NodeId(4);

fn config() -> SystemConfig {
    SystemConfig::new(3, 1, 8).expect("a valid configuration")
}

fn manager(id: NodeId) -> FtManager {
    FtManager::new(&config(), id, FtOptions::default())
}

fn request(process: u32, sequence: u64) -> RequestId {
    RequestId {
        process: NodeId(process),
        sequence,
    }
}

fn read_request(process: u32, sequence: u64) -> Message {
    Message::ReadRequest {
        page: PageId(0),
        request: request(process, sequence),
    }
}

/// Delivers `message` from `from` in `view`; returns (to, view, message) sent.
fn deliver(
    manager: &mut FtManager,
    from: NodeId,
    view: u64,
    message: Message,
    now_ticks: u64,
) -> (Vec<(NodeId, View, Message)>, Vec<NodeEvent>) {
    let mut out = Outbox::new();
    let envelope = Envelope {
        from,
        to: manager.id(),
        view: View(view),
        message,
    };
    manager.handle_message(envelope, now_ticks, &mut out);
    manager.handle_idle(now_ticks, &mut out);
    drain(out)
}

fn tick(manager: &mut FtManager, now_ticks: u64) -> (Vec<(NodeId, View, Message)>, Vec<NodeEvent>) {
    let mut out = Outbox::new();
    manager.handle_tick(now_ticks, &mut out);
    drain(out)
}

fn drain(out: Outbox) -> (Vec<(NodeId, View, Message)>, Vec<NodeEvent>) {
    let sent = out
        .messages
        .into_iter()
        .map(|envelope| (envelope.to, envelope.view, envelope.message))
        .collect();
    (sent, out.events)
}

fn forward(process: u32, sequence: u64) -> Message {
    Message::ReadForward {
        page: PageId(0),
        request: request(process, sequence),
        version: PageVersion(1),
    }
}

fn admit(process: u32, sequence: u64) -> LogEntry {
    LogEntry::Admit {
        page: PageId(0),
        request: request(process, sequence),
        kind: OperationKind::Read,
    }
}

#[test]
fn the_primary_replicates_and_the_backup_forwards_once_it_holds_the_change() {
    let mut primary = manager(PRIMARY);
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    let replicate = Message::Replicate {
        first_index: 1,
        entries: vec![admit(1, 1)],
        act: true,
    };
    assert_eq!(sent, vec![(BACKUP, View(0), replicate.clone())]);
    // The backup applies the change, sends the forward in the primary's view, and
    // acknowledges; the primary then has nothing left to send.
    let mut backup = manager(BACKUP);
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, replicate, 0);
    let ack = Message::ReplicateAck { applied_index: 1 };
    assert_eq!(
        sent,
        vec![
            (NodeId(0), View(0), forward(1, 1)),
            (PRIMARY, View(0), ack.clone())
        ]
    );
    let (sent, _) = deliver(&mut primary, BACKUP, 0, ack, 1);
    assert!(sent.is_empty(), "the backup sent the forward: {sent:?}");
    // Had the forward been lost, the primary re-sends it after the re-drive delay.
    let (sent, _) = tick(&mut primary, 41);
    assert!(sent.contains(&(NodeId(0), View(0), forward(1, 1))));
}

#[test]
fn a_backup_that_only_stores_sends_no_command() {
    let mut backup = manager(BACKUP);
    let replicate = Message::Replicate {
        first_index: 1,
        entries: vec![admit(1, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, replicate, 0);
    assert_eq!(
        sent,
        vec![(PRIMARY, View(0), Message::ReplicateAck { applied_index: 1 })]
    );
}

#[test]
fn the_backup_applies_entries_in_order_and_acknowledges_cumulatively() {
    let mut backup = manager(BACKUP);
    let gap = Message::Replicate {
        first_index: 2,
        entries: vec![admit(2, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, gap, 0);
    assert_eq!(
        sent,
        vec![(PRIMARY, View(0), Message::ReplicateAck { applied_index: 0 })]
    );
    let both = Message::Replicate {
        first_index: 1,
        entries: vec![admit(1, 1), admit(2, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, both.clone(), 0);
    assert_eq!(
        sent,
        vec![(PRIMARY, View(0), Message::ReplicateAck { applied_index: 2 })]
    );
    // A retransmission applies nothing twice.
    deliver(&mut backup, PRIMARY, 0, both, 0);
    assert_eq!(backup.log_index(), 2);
    let held = backup.serializer().expect("state").transaction(PageId(0));
    assert_eq!(held.map(|t| t.request), Some(request(1, 1)));
}

#[test]
fn a_retried_request_is_driven_again_and_a_completed_one_is_ignored() {
    let mut primary = manager(PRIMARY);
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    deliver(
        &mut primary,
        BACKUP,
        0,
        Message::ReplicateAck { applied_index: 1 },
        0,
    );
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 5);
    assert_eq!(sent, vec![(NodeId(0), View(0), forward(1, 1))]);
    let confirmation = Message::ReadConfirmation {
        page: PageId(0),
        request: request(1, 1),
        version: PageVersion(1),
    };
    deliver(&mut primary, NodeId(1), 0, confirmation, 6);
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 7);
    assert!(sent.is_empty(), "a late duplicate is never granted again");
}

#[test]
fn a_backup_whose_primary_is_silent_fences_then_finishes_what_it_inherited() {
    let mut backup = manager(BACKUP);
    let replicate = Message::Replicate {
        first_index: 1,
        entries: vec![admit(1, 1)],
        act: false,
    };
    deliver(&mut backup, PRIMARY, 0, replicate, 0);
    assert!(
        tick(&mut backup, 50).0.is_empty(),
        "not silent for long enough"
    );
    let (sent, events) = tick(&mut backup, 51);
    let new_views: Vec<_> = (0..3)
        .map(|p| (NodeId(p), View(1), Message::NewView))
        .collect();
    assert_eq!(sent, new_views);
    assert_eq!(
        events,
        vec![NodeEvent::Fencing {
            manager: BACKUP,
            view: View(1)
        }]
    );
    assert_eq!(backup.role(), RoleKind::Fencing);
    let promise = Message::ViewPromise { accepted: View(0) };
    for process in 0..2 {
        let (sent, _) = deliver(&mut backup, NodeId(process), 1, promise.clone(), 52);
        assert!(sent.is_empty(), "no command before every process promised");
    }
    let (sent, events) = deliver(&mut backup, NodeId(2), 1, promise, 52);
    assert_eq!(sent, vec![(NodeId(0), View(1), forward(1, 1))]);
    assert_eq!(
        events,
        vec![NodeEvent::Promoted {
            manager: BACKUP,
            view: View(1)
        }]
    );
    assert_eq!(backup.role(), RoleKind::Primary);
}

#[test]
fn a_fence_that_finds_a_newer_obeyed_view_stands_down() {
    let mut backup = manager(BACKUP);
    tick(&mut backup, 51);
    let newer = Message::ViewPromise { accepted: View(2) };
    let (sent, _) = deliver(&mut backup, NodeId(0), 1, newer, 52);
    assert_eq!(sent, vec![(PRIMARY, View(2), Message::SnapshotRequest)]);
    assert_eq!(backup.role(), RoleKind::Backup);
    assert_eq!(backup.held_view(), Some(View(0)), "keeps its state, stale");
}

#[test]
fn a_primary_of_an_older_view_is_told_of_the_newer_one() {
    let mut backup = manager(BACKUP);
    tick(&mut backup, 51);
    let promise = Message::ViewPromise { accepted: View(0) };
    for process in 0..3 {
        deliver(&mut backup, NodeId(process), 1, promise.clone(), 52);
    }
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, Message::Heartbeat, 53);
    assert_eq!(sent, vec![(PRIMARY, View(1), Message::Heartbeat)]);
    // The old primary, told, stops acting and asks for the new state.
    let mut old = manager(PRIMARY);
    let (sent, _) = deliver(&mut old, BACKUP, 1, Message::Heartbeat, 53);
    assert_eq!(sent, vec![(BACKUP, View(1), Message::SnapshotRequest)]);
    assert_eq!(old.role(), RoleKind::Backup);
}

#[test]
fn a_primary_whose_backup_is_silent_serves_alone_after_fencing() {
    let mut primary = manager(PRIMARY);
    let (sent, _) = tick(&mut primary, 10);
    assert_eq!(sent, vec![(BACKUP, View(0), Message::Heartbeat)]);
    let (sent, events) = tick(&mut primary, 51);
    assert_eq!(sent.len(), 3);
    assert!(sent
        .iter()
        .all(|(_, view, m)| *view == View(2) && *m == Message::NewView));
    assert_eq!(
        events,
        vec![NodeEvent::Fencing {
            manager: PRIMARY,
            view: View(2)
        }]
    );
}

#[test]
fn a_blank_manager_rejoins_by_snapshot_and_the_original_primary_takes_its_role_back() {
    // The backup took over in view 1; the original primary restarts blank.
    let mut primary = manager(BACKUP);
    tick(&mut primary, 51);
    for process in 0..3 {
        let promise = Message::ViewPromise { accepted: View(0) };
        deliver(&mut primary, NodeId(process), 1, promise, 52);
    }
    let mut blank = manager(PRIMARY).crashed();
    assert_eq!(blank.role(), RoleKind::Recovering);
    let (sent, _) = tick(&mut blank, 60);
    assert_eq!(sent, vec![(BACKUP, View(0), Message::SnapshotRequest)]);
    let (sent, _) = deliver(&mut primary, PRIMARY, 0, Message::SnapshotRequest, 60);
    let [(to, view, snapshot @ Message::Snapshot { .. })] = sent.as_slice() else {
        panic!("expected a snapshot, got {sent:?}");
    };
    assert_eq!((*to, *view), (PRIMARY, View(1)));
    let (sent, events) = deliver(&mut blank, BACKUP, 1, snapshot.clone(), 61);
    assert_eq!(
        sent,
        vec![(BACKUP, View(1), Message::ReplicateAck { applied_index: 0 })]
    );
    assert_eq!(
        events,
        vec![NodeEvent::Rejoined {
            manager: PRIMARY,
            view: View(1)
        }]
    );
    // Caught up: the acting primary hands the role back and follows view 2.
    let ack = Message::ReplicateAck { applied_index: 0 };
    let (sent, _) = deliver(&mut primary, PRIMARY, 1, ack, 62);
    assert_eq!(
        sent,
        vec![(PRIMARY, View(1), Message::HandOver { last_index: 0 })]
    );
    assert_eq!(primary.role(), RoleKind::Backup);
    let (sent, _) = deliver(
        &mut blank,
        BACKUP,
        1,
        Message::HandOver { last_index: 0 },
        63,
    );
    assert_eq!(
        sent.len(),
        3,
        "the original primary fences view 2: {sent:?}"
    );
    assert_eq!(blank.role(), RoleKind::Fencing);
    assert_eq!(blank.view(), View(2));
}

#[test]
fn process_requests_to_a_backup_are_left_to_the_primary() {
    let mut backup = manager(BACKUP);
    let (sent, _) = deliver(&mut backup, NodeId(1), 0, read_request(1, 1), 0);
    assert!(sent.is_empty());
    assert_eq!(backup.log_index(), 0);
}

#[test]
fn entries_survive_a_lost_second_snapshot() {
    // A blank backup asks twice; the first snapshot arrives, the second (which held a
    // new entry) and the entry's own replication are lost. The heartbeat must resend
    // the entry, or the fault waits forever (found in review).
    let mut primary = manager(PRIMARY);
    let mut backup = manager(BACKUP).crashed();
    let (first, _) = deliver(&mut primary, BACKUP, 0, Message::SnapshotRequest, 60);
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 61); // Replicate lost
    deliver(&mut primary, BACKUP, 0, Message::SnapshotRequest, 70); // snapshot lost
    let [(_, _, snapshot)] = first.as_slice() else {
        panic!("one snapshot: {first:?}");
    };
    let (acks, _) = deliver(&mut backup, PRIMARY, 0, snapshot.clone(), 71);
    let [(_, _, ack)] = acks.as_slice() else {
        panic!("one acknowledgement: {acks:?}");
    };
    deliver(&mut primary, BACKUP, 0, ack.clone(), 72);
    let (sent, _) = tick(&mut primary, 82);
    let resent = Message::Replicate {
        first_index: 1,
        entries: vec![admit(1, 1)],
        act: true,
    };
    assert_eq!(sent, vec![(BACKUP, View(0), resent.clone())]);
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, resent, 83);
    assert!(sent.contains(&(NodeId(0), View(0), forward(1, 1))));
}

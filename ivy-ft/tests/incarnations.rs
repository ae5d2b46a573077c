//! Handler tests of the replicated manager across restarts and failed takeovers:
//! incarnations on replication and snapshots, fences that find their manager behind,
//! and requests that arrive while a view is being established. Same system as
//! `handlers.rs`: three processes, one page owned by process 0, managers 3 and 4, the
//! timing of `FtOptions::default()`.

mod common;

use common::*;
use ivy_core::ManagerNode;
use ivy_core::{Incarnation, LogPosition, Message, NodeEvent, NodeId, View, Viewstamp};
use ivy_ft::{FtManager, RoleKind};

#[test]
fn an_ack_from_an_earlier_incarnation_of_the_backup_does_not_release_a_gated_transaction() {
    let mut primary = manager(PRIMARY);
    // Entry 1 begins process 1's read; its replication to incarnation 0 is lost, and
    // the backup restarts as incarnation 1 and asks for the state.
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    let restarted = Incarnation(1);
    let (sent, _) = deliver(&mut primary, BACKUP, 0, snapshot_request(restarted), 1);
    assert!(matches!(
        sent.as_slice(),
        [(BACKUP, View(0), Message::Snapshot { incarnation, .. })] if *incarnation == restarted
    ));
    // The earlier life had applied entry 1 before it crashed; its acknowledgements
    // arrive late. That state is gone: nothing is released, even on a retry.
    for late in [
        replicate_ack(FIRST, 1),
        Message::HeartbeatAck {
            incarnation: FIRST,
            applied_index: 1,
        },
    ] {
        let (sent, _) = deliver(&mut primary, BACKUP, 0, late, 2);
        assert!(sent.is_empty(), "released by a dead incarnation: {sent:?}");
        let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 3);
        assert!(sent.is_empty(), "still gated: {sent:?}");
    }
    // The new incarnation got entry 1 by snapshot, without acting on it: once it
    // acknowledges, the primary sends the forward itself.
    let (sent, _) = deliver(&mut primary, BACKUP, 0, replicate_ack(restarted, 1), 4);
    assert_eq!(sent, vec![(NodeId(0), View(0), forward(1, 1, stamp(0, 1)))]);
}

#[test]
fn a_snapshot_addressed_to_an_earlier_incarnation_is_not_installed() {
    let mut primary = manager(PRIMARY);
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    // Incarnation 1 of the backup asks, and restarts again before the answer arrives.
    let (sent, _) = deliver(&mut primary, BACKUP, 0, snapshot_request(Incarnation(1)), 1);
    let [(_, _, stale @ Message::Snapshot { .. })] = sent.as_slice() else {
        panic!("expected a snapshot, got {sent:?}");
    };
    let third = Incarnation(2);
    let mut backup = FtManager::restarted(&config(), BACKUP, timing(), third);
    assert_eq!(backup.incarnation(), third);
    let (sent, events) = deliver(&mut backup, PRIMARY, 0, stale.clone(), 2);
    assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
    assert_eq!(backup.role(), RoleKind::Recovering);
    assert_eq!(backup.reach(), None);
    // It asks for a snapshot of its own, and installs that one.
    let (sent, _) = tick(&mut backup, 3);
    assert_eq!(sent, vec![(PRIMARY, View(0), snapshot_request(third))]);
    let (sent, _) = deliver(&mut primary, BACKUP, 0, snapshot_request(third), 4);
    let [(_, _, fresh)] = sent.as_slice() else {
        panic!("expected a snapshot, got {sent:?}");
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, fresh.clone(), 5);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(third, 1))]);
    assert_eq!(backup.role(), RoleKind::Backup);
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(0, 1)));
}

#[test]
fn a_snapshot_request_from_a_new_incarnation_resets_what_the_backup_acknowledged() {
    let mut primary = manager(PRIMARY);
    // Entries 1 (process 1's read) and 2 (its confirmation), both acknowledged by
    // incarnation 0 of the backup.
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    deliver(&mut primary, BACKUP, 0, replicate_ack(FIRST, 1), 1);
    deliver(&mut primary, NodeId(1), 0, read_confirmation(1, 1, 1), 2);
    let resent_at = heartbeat_interval();
    let (sent, _) = tick(&mut primary, resent_at);
    assert!(matches!(
        sent.as_slice(),
        [(BACKUP, _, Message::Replicate { first_index: 2, .. })]
    ));
    let ack = replicate_ack(FIRST, 2);
    deliver(&mut primary, BACKUP, 0, ack, resent_at + 1);
    assert!(primary.is_settled_primary());
    // The backup restarts as incarnation 1: it has acknowledged nothing yet.
    let restarted = Incarnation(1);
    let asked_at = resent_at + 2;
    let ask = snapshot_request(restarted);
    deliver(&mut primary, BACKUP, 0, ask, asked_at);
    assert!(
        !primary.is_settled_primary(),
        "the new incarnation holds nothing"
    );
    // Entry 3 begins process 2's read; it is replicated to the new incarnation and
    // gated until that incarnation acknowledges it.
    let (sent, _) = deliver(&mut primary, NodeId(2), 0, read_request(2, 1), asked_at + 1);
    let replicate = Message::Replicate {
        incarnation: restarted,
        first_index: 3,
        entries: vec![admit(2, 1)],
        act: true,
    };
    assert_eq!(sent, vec![(BACKUP, View(0), replicate)]);
    let snapshot_ack = replicate_ack(restarted, 2);
    deliver(&mut primary, BACKUP, 0, snapshot_ack, asked_at + 2);
    let (sent, _) = deliver(&mut primary, NodeId(2), 0, read_request(2, 1), asked_at + 3);
    assert!(
        sent.is_empty(),
        "the snapshot's acknowledgement releases nothing"
    );
    let entry_3_ack = replicate_ack(restarted, 3);
    deliver(&mut primary, BACKUP, 0, entry_3_ack, asked_at + 4);
    let (sent, _) = deliver(&mut primary, NodeId(2), 0, read_request(2, 1), asked_at + 5);
    let forward = read_forward(2, 1, 2, stamp(0, 3));
    assert_eq!(sent, vec![(NodeId(0), View(0), forward)]);
}

#[test]
fn a_fence_that_finds_an_entry_beyond_its_log_aborts_and_waits_to_catch_up() {
    let mut backup = backup_holding_first_read();
    tick(&mut backup, silent_at());
    assert_eq!(backup.role(), RoleKind::Fencing);
    // Process 0 obeyed entry 1, which the backup holds: the fence goes on.
    let obeyed_1 = promise(stamp(0, 1));
    let (sent, _) = deliver(&mut backup, NodeId(0), 1, obeyed_1, silent_at() + 1);
    assert!(sent.is_empty());
    assert_eq!(backup.role(), RoleKind::Fencing);
    // Process 1 obeyed a command of entry 2 of view 0, which the backup never applied.
    let aborted_at = silent_at() + 2;
    let obeyed_2 = promise(stamp(0, 2));
    let (sent, _) = deliver(&mut backup, NodeId(1), 1, obeyed_2, aborted_at);
    assert_eq!(sent, vec![(PRIMARY, View(1), snapshot_request(FIRST))]);
    assert_eq!(backup.role(), RoleKind::Backup);
    assert_eq!(
        backup.reach().map(|r| r.stamp),
        Some(stamp(0, 1)),
        "keeps its state"
    );
    // However long the primary stays silent (well past any back-off, which is at most
    // 32 failover timeouts), a manager behind never fences again: it only keeps asking
    // for the state.
    let mut now_ticks = aborted_at;
    for failovers in [2, 8, 40, 200] {
        now_ticks = aborted_at + failovers * failover_timeout();
        let (sent, events) = tick(&mut backup, now_ticks);
        assert_eq!(sent, vec![(PRIMARY, View(1), snapshot_request(FIRST))]);
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(backup.role(), RoleKind::Backup);
    }
    // Caught up from the primary of view 2, whose log holds entry 2 of view 0 (it
    // reaches entry 2 of view 2), it may take over again once that primary is silent.
    let state = backup
        .serializer()
        .expect("state")
        .snapshot(first_life(stamp(2, 2)));
    let snapshot = Message::Snapshot {
        incarnation: FIRST,
        snapshot: Box::new(state),
    };
    let caught_up_at = now_ticks + 1;
    let (sent, _) = deliver(&mut backup, PRIMARY, 2, snapshot, caught_up_at);
    assert_eq!(sent, vec![(PRIMARY, View(2), replicate_ack(FIRST, 2))]);
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(2, 2)));
    let (_, events) = tick(&mut backup, silent_since(caught_up_at));
    let fencing = NodeEvent::Fencing {
        manager: BACKUP,
        view: View(3),
    };
    assert_eq!(events, vec![fencing]);
}

#[test]
fn a_request_that_arrives_while_fencing_is_handled_once_the_view_is_established() {
    let mut backup = manager(BACKUP);
    tick(&mut backup, silent_at());
    assert_eq!(backup.role(), RoleKind::Fencing);
    // Appending it now would stamp an entry with a view that may never be
    // established: the fencing manager keeps the request for later.
    let requested_at = silent_at() + 1;
    let (sent, _) = deliver(&mut backup, NodeId(1), 1, read_request(1, 1), requested_at);
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(backup.reach().map(|r| r.stamp), Some(Viewstamp::ZERO));
    promise_nothing_obeyed(&mut backup, 0..2, requested_at + 1);
    let last_promise = promise(Viewstamp::ZERO);
    let (sent, events) = deliver(&mut backup, NodeId(2), 1, last_promise, requested_at + 2);
    // Established: the request becomes entry 1 of view 1 and, with no backup to
    // wait for, its forward goes out at once.
    assert_eq!(sent, vec![(NodeId(0), View(1), forward(1, 1, stamp(1, 1)))]);
    assert_eq!(events, backup_promoted_to_view_1());
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(1, 1)));
    assert_eq!(
        backup.settled_view(),
        None,
        "process 1's read is still held"
    );
}

#[test]
fn a_log_claimed_at_hand_over_does_not_cover_another_life_of_the_successor() {
    // The backup holds entry 1 and leads view 1; the original primary's third life
    // (incarnation 2) rejoins and catches up, and the backup hands view 2 over to
    // it, claiming its own log begins view 2 as incarnation 2 will lead it.
    let successor = Incarnation(2);
    let (mut acting, asked_at) = acting_primary_asked_by(successor);
    let handed_over_at = asked_at + 1;
    let ack = replicate_ack(successor, 1);
    let (sent, events) = deliver(&mut acting, PRIMARY, 1, ack, handed_over_at);
    assert!(
        matches!(sent[..], [(PRIMARY, View(1), Message::HandOver { .. })]),
        "{sent:?}"
    );
    assert!(matches!(
        events[..],
        [NodeEvent::HandedOver { view: View(2), .. }]
    ));
    let claimed = LogPosition {
        stamp: stamp(2, 1),
        leader: successor,
    };
    assert_eq!(acting.reach(), Some(claimed));
    // But an earlier life of it (incarnation 1) had taken view 2 and acted there at
    // entry 1 (another entry than ours). Its successor never establishes view 2 (the
    // processes have promised it to incarnation 1); when the acting manager tries to
    // take over, a process reports that entry: the claim does not cover it.
    let fenced_at = silent_since(handed_over_at);
    tick(&mut acting, fenced_at);
    assert_eq!(acting.role(), RoleKind::Fencing);
    let earlier_life = LogPosition {
        stamp: stamp(2, 1),
        leader: Incarnation(1),
    };
    let obeyed = Message::ViewPromise {
        accepted: earlier_life,
        incarnation: FIRST,
    };
    deliver(&mut acting, NodeId(0), 3, obeyed, fenced_at + 1);
    assert_eq!(acting.role(), RoleKind::Backup, "the fence aborts");
    assert!(!claimed.covers(earlier_life));
    assert!(claimed.covers(LogPosition {
        stamp: stamp(1, 7),
        leader: Incarnation(0),
    }));
}

#[test]
fn a_fence_for_a_view_an_earlier_life_took_gives_it_up_for_a_newer_one() {
    // The original backup's first life had taken view 1; its second life, holding
    // the same entry, fences view 1 again and a process answers that it promised
    // view 1 to incarnation 0.
    let mut restarted = FtManager::restarted(&config(), BACKUP, timing(), Incarnation(1));
    let snapshot = manager(PRIMARY)
        .serializer()
        .expect("state")
        .snapshot(first_life(Viewstamp::ZERO));
    let snapshot = Message::Snapshot {
        incarnation: Incarnation(1),
        snapshot: Box::new(snapshot),
    };
    deliver(&mut restarted, PRIMARY, 0, snapshot, 0);
    tick(&mut restarted, silent_at());
    assert_eq!(restarted.role(), RoleKind::Fencing);
    let taken = promise_to(Viewstamp::ZERO, FIRST);
    let aborted_at = silent_at() + 1;
    let (_, events) = deliver(&mut restarted, NodeId(0), 1, taken, aborted_at);
    assert_eq!(restarted.role(), RoleKind::Backup, "{events:?}");
    // Its next attempt (after the back-off) is for view 3.
    let (_, events) = tick(&mut restarted, past_first_backoff(aborted_at));
    let fencing = NodeEvent::Fencing {
        manager: BACKUP,
        view: View(3),
    };
    assert_eq!(events, vec![fencing]);
}

#[test]
fn a_fence_that_finds_a_newer_promised_view_gives_up_even_if_it_holds_everything() {
    let mut backup = backup_holding_first_read();
    tick(&mut backup, silent_at());
    assert_eq!(backup.role(), RoleKind::Fencing);
    // Process 0 promised view 5 already, having obeyed nothing the backup lacks.
    let promised = promise(Viewstamp::ZERO);
    deliver(&mut backup, NodeId(0), 5, promised, silent_at() + 1);
    assert_eq!(backup.role(), RoleKind::Backup);
    assert_eq!(backup.view(), View(5));
}

#[test]
fn a_message_from_the_other_manager_in_a_view_it_does_not_lead_is_ignored() {
    // View 1 is the original backup's to lead: a heartbeat "from the primary of view
    // 1" sent by the original primary is no primary's, and changes nothing.
    let mut backup = manager(BACKUP);
    let before = backup.clone();
    let (sent, events) = deliver(&mut backup, PRIMARY, 1, heartbeat(None), 10);
    assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
    assert_eq!(backup, before);
}

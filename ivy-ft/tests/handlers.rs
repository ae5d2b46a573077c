//! Handler tests of the replicated manager: one input in, the exact messages and role
//! out. Three processes and one page (owned by process 0); the original primary is
//! node 3, the original backup node 4; the timing of `FtOptions::default()`.

mod common;

use common::*;
use ivy_core::ManagerNode;
use ivy_core::{Incarnation, Message, NodeEvent, NodeId, PageId, View, Viewstamp};
use ivy_ft::RoleKind;

#[test]
fn the_primary_replicates_and_the_backup_forwards_once_it_holds_the_change() {
    let mut primary = manager(PRIMARY);
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    let replicate = replicate_first_read(FIRST, true);
    assert_eq!(sent, vec![(BACKUP, View(0), replicate.clone())]);
    // The backup applies the change, sends the forward in the primary's view, and
    // acknowledges; the primary then has nothing left to send.
    let mut backup = manager(BACKUP);
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, replicate, 0);
    let ack = replicate_ack(FIRST, 1);
    assert_eq!(
        sent,
        vec![
            (NodeId(0), View(0), forward(1, 1, stamp(0, 1))),
            (PRIMARY, View(0), ack.clone())
        ]
    );
    let acked_at = 1;
    let (sent, _) = deliver(&mut primary, BACKUP, 0, ack, acked_at);
    assert!(sent.is_empty(), "the backup sent the forward: {sent:?}");
    // Had the forward been lost, the primary re-sends it after the re-drive delay
    // (while the backup, heard at the same moment, does not count as silent yet).
    assert!(redrive_due(acked_at) < silent_since(acked_at));
    let (sent, _) = tick(&mut primary, redrive_due(acked_at));
    assert!(sent.contains(&(NodeId(0), View(0), forward(1, 1, stamp(0, 1)))));
}

#[test]
fn a_backup_that_only_stores_sends_no_command() {
    let mut backup = manager(BACKUP);
    let replicate = replicate_first_read(FIRST, false);
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, replicate, 0);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 1))]);
}

#[test]
fn the_backup_applies_entries_in_order_and_acknowledges_cumulatively() {
    let mut backup = manager(BACKUP);
    let gap = Message::Replicate {
        incarnation: FIRST,
        first_index: 2,
        entries: vec![admit(2, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, gap, 0);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 0))]);
    let both = Message::Replicate {
        incarnation: FIRST,
        first_index: 1,
        entries: vec![admit(1, 1), admit(2, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, both.clone(), 0);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 2))]);
    // A retransmission applies nothing twice.
    deliver(&mut backup, PRIMARY, 0, both, 0);
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(0, 2)));
    let held = backup.serializer().expect("state").transaction(PageId(0));
    assert_eq!(held.map(|t| t.request), Some(request(1, 1)));
}

#[test]
fn a_retried_request_is_driven_again_and_a_completed_one_is_ignored() {
    let mut primary = manager(PRIMARY);
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 0);
    deliver(&mut primary, BACKUP, 0, replicate_ack(FIRST, 1), 0);
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 5);
    assert_eq!(sent, vec![(NodeId(0), View(0), forward(1, 1, stamp(0, 1)))]);
    deliver(&mut primary, NodeId(1), 0, read_confirmation(1, 1, 1), 6);
    let (sent, _) = deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 7);
    assert!(sent.is_empty(), "a late duplicate is never granted again");
}

#[test]
fn a_backup_whose_primary_is_silent_fences_then_finishes_what_it_inherited() {
    let mut backup = backup_holding_first_read();
    assert!(
        tick(&mut backup, failover_timeout()).0.is_empty(),
        "not silent for long enough"
    );
    let (sent, events) = tick(&mut backup, silent_at());
    let new_views: Vec<_> = (0..3).map(|p| (NodeId(p), View(1), new_view())).collect();
    assert_eq!(sent, new_views);
    assert_eq!(
        events,
        vec![NodeEvent::Fencing {
            manager: BACKUP,
            view: View(1)
        }]
    );
    assert_eq!(backup.role(), RoleKind::Fencing);
    let nothing_obeyed = promise(Viewstamp::ZERO);
    let promised_at = silent_at() + 1;
    for process in 0..2 {
        let promised = nothing_obeyed.clone();
        let (sent, _) = deliver(&mut backup, NodeId(process), 1, promised, promised_at);
        assert!(sent.is_empty(), "no command before every process promised");
    }
    let (sent, events) = deliver(&mut backup, NodeId(2), 1, nothing_obeyed, promised_at);
    // Re-driven in view 1: the stamp names the view sent in and the entry that began
    // the transaction (view 1's log holds it, from view 0's).
    assert_eq!(sent, vec![(NodeId(0), View(1), forward(1, 1, stamp(1, 1)))]);
    assert_eq!(events, backup_promoted_to_view_1());
    assert_eq!(backup.role(), RoleKind::Primary);
}

#[test]
fn a_fence_that_finds_a_newer_obeyed_view_stands_down() {
    let mut backup = manager(BACKUP);
    tick(&mut backup, silent_at());
    // Process 0 obeyed entry 1 of view 2, so it has promised view 2 and answers in it.
    let newer = promise(stamp(2, 1));
    let (sent, _) = deliver(&mut backup, NodeId(0), 2, newer, silent_at() + 1);
    assert_eq!(sent, vec![(PRIMARY, View(2), snapshot_request(FIRST))]);
    assert_eq!(backup.role(), RoleKind::Backup);
    assert_eq!(backup.log_view(), Some(View(0)), "keeps its state, stale");
    assert_eq!(backup.reach().map(|r| r.stamp), Some(Viewstamp::ZERO));
}

#[test]
fn a_primary_of_an_older_view_is_told_of_the_newer_one() {
    let mut backup = backup_leading_view_1();
    let late_at = view_1_established_at() + 1;
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, heartbeat(Some(FIRST)), late_at);
    assert_eq!(sent, vec![(PRIMARY, View(1), heartbeat(None))]);
    // The old primary, told, stops acting and asks for the new state.
    let mut old = manager(PRIMARY);
    let (sent, _) = deliver(&mut old, BACKUP, 1, heartbeat(None), late_at);
    assert_eq!(sent, vec![(BACKUP, View(1), snapshot_request(FIRST))]);
    assert_eq!(old.role(), RoleKind::Backup);
}

#[test]
fn a_primary_whose_backup_is_silent_serves_alone_after_fencing() {
    let mut primary = manager(PRIMARY);
    let (sent, _) = tick(&mut primary, heartbeat_interval());
    assert_eq!(sent, vec![(BACKUP, View(0), heartbeat(Some(FIRST)))]);
    let (sent, events) = tick(&mut primary, silent_at());
    assert_eq!(sent.len(), 3);
    assert!(sent
        .iter()
        .all(|(_, view, m)| *view == View(2) && *m == new_view()));
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
    let mut primary = backup_leading_view_1();
    let mut blank = manager(PRIMARY).crashed();
    let restarted = Incarnation(1);
    assert_eq!(blank.incarnation(), restarted);
    assert_eq!(blank.role(), RoleKind::Recovering);
    let asked_at = view_1_established_at() + 1;
    let (sent, _) = tick(&mut blank, asked_at);
    assert_eq!(sent, vec![(BACKUP, View(0), snapshot_request(restarted))]);
    let ask = snapshot_request(restarted);
    let (sent, _) = deliver(&mut primary, PRIMARY, 0, ask, asked_at);
    let [(to, view, snapshot @ Message::Snapshot { incarnation, .. })] = sent.as_slice() else {
        panic!("expected a snapshot, got {sent:?}");
    };
    assert_eq!((*to, *view, *incarnation), (PRIMARY, View(1), restarted));
    let (sent, events) = deliver(&mut blank, BACKUP, 1, snapshot.clone(), asked_at + 1);
    assert_eq!(sent, vec![(BACKUP, View(1), replicate_ack(restarted, 0))]);
    // The snapshot's view is the first the blank manager hears of: it reports
    // following it, then rejoining in it.
    assert_eq!(
        events,
        vec![
            NodeEvent::ViewChanged {
                manager: PRIMARY,
                view: View(1)
            },
            NodeEvent::Rejoined {
                manager: PRIMARY,
                view: View(1)
            }
        ]
    );
    // Caught up: the acting primary hands the role back and follows view 2.
    let ack = replicate_ack(restarted, 0);
    let (sent, _) = deliver(&mut primary, PRIMARY, 1, ack, asked_at + 2);
    let hand_over = Message::HandOver {
        incarnation: FIRST,
        last_index: 0,
    };
    assert_eq!(sent, vec![(PRIMARY, View(1), hand_over.clone())]);
    assert_eq!(primary.role(), RoleKind::Backup);
    let (sent, _) = deliver(&mut blank, BACKUP, 1, hand_over, asked_at + 3);
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
    assert_eq!(backup.reach().map(|r| r.stamp), Some(Viewstamp::ZERO));
}

#[test]
fn entries_survive_a_lost_second_snapshot() {
    // A blank backup asks twice; the first snapshot arrives, the second (which held a
    // new entry) and the entry's own replication are lost. The heartbeat must resend
    // the entry, or the fault waits forever (found in review).
    let mut primary = manager(PRIMARY);
    let mut backup = manager(BACKUP).crashed();
    let restarted = backup.incarnation();
    let ask = snapshot_request(restarted);
    let first_ask_at = 60; // any moment: the primary has not ticked yet
    let (first, _) = deliver(&mut primary, BACKUP, 0, ask.clone(), first_ask_at);
    let read = read_request(1, 1);
    deliver(&mut primary, NodeId(1), 0, read, first_ask_at + 1); // Replicate lost
    let second_ask_at = first_ask_at + heartbeat_interval(); // the backup's retry
    deliver(&mut primary, BACKUP, 0, ask, second_ask_at); // snapshot lost
    let [(_, _, snapshot)] = first.as_slice() else {
        panic!("one snapshot: {first:?}");
    };
    let (acks, _) = deliver(&mut backup, PRIMARY, 0, snapshot.clone(), second_ask_at + 1);
    let [(_, _, ack)] = acks.as_slice() else {
        panic!("one acknowledgement: {acks:?}");
    };
    let acked_at = second_ask_at + 2;
    deliver(&mut primary, BACKUP, 0, ack.clone(), acked_at);
    let resent_at = acked_at + heartbeat_interval();
    let (sent, _) = tick(&mut primary, resent_at);
    let resent = replicate_first_read(restarted, true);
    assert_eq!(sent, vec![(BACKUP, View(0), resent.clone())]);
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, resent, resent_at + 1);
    assert!(sent.contains(&(NodeId(0), View(0), forward(1, 1, stamp(0, 1)))));
}

#[test]
fn a_fencing_manager_keeps_at_most_four_process_messages_per_process() {
    // While fencing, 13 requests arrive (three processes: room for 12); once the view
    // is established the 12 kept are admitted behind the inherited read, and the
    // last is dropped (its process will retry).
    let mut backup = backup_holding_first_read();
    tick(&mut backup, silent_at());
    assert_eq!(backup.role(), RoleKind::Fencing);
    let requested_at = silent_at() + 1;
    for sequence in 2..=14 {
        let read = read_request(2, sequence);
        deliver(&mut backup, NodeId(2), 1, read, requested_at);
    }
    promise_nothing_obeyed(&mut backup, 0..3, requested_at + 1);
    assert_eq!(backup.role(), RoleKind::Primary);
    let reach = backup.reach().expect("state");
    let snapshot = backup.serializer().expect("state").snapshot(reach);
    assert_eq!(snapshot.held.len(), 1 + 12);
}

#[test]
fn only_a_primary_answers_a_snapshot_request() {
    // A backup asked for its state, even by a manager that knows a newer view, neither
    // answers nor starts a fence: it has nothing to lead.
    let mut backup = backup_holding_first_read();
    let (sent, events) = deliver(&mut backup, PRIMARY, 2, snapshot_request(FIRST), 10);
    assert!(sent.is_empty(), "{sent:?}");
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(backup.role(), RoleKind::Backup);
}

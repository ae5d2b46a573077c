//! Handler tests of a backup following its primary: which snapshots it installs
//! (a newer view, another log of the same view, or a longer log, never a shorter
//! one), replication with a gap, a hand-over from a log that ends elsewhere, when a
//! backup is settled, and the phases the simulator tallies crashes by.
//! Same system as `handlers.rs`: three processes, one page owned by process 0,
//! managers 3 and 4, the timing of `FtOptions::default()`.

mod common;

use common::*;
use ivy_core::ManagerNode;
use ivy_core::{Incarnation, LogPosition, Message, NodeEvent, NodeId, View, Viewstamp};
use ivy_ft::{FtManager, RoleKind};

/// A snapshot of the backup's own state, claiming to reach `index` of `view` as
/// `leader` leads it, for the backup's first incarnation.
fn snapshot(of: &FtManager, view: u64, index: u64, leader: u64) -> Message {
    let last = LogPosition {
        stamp: stamp(view, index),
        leader: Incarnation(leader),
    };
    let state = of.serializer().expect("state").snapshot(last);
    Message::Snapshot {
        incarnation: FIRST,
        snapshot: Box::new(state),
    }
}

fn rejoined(events: &[NodeEvent]) -> bool {
    events
        .iter()
        .any(|event| matches!(event, NodeEvent::Rejoined { .. }))
}

#[test]
fn a_shorter_snapshot_of_the_log_it_follows_is_not_installed() {
    let mut backup = backup_holding_first_read();
    let late = snapshot(&backup, 0, 0, 0);
    let (_, events) = deliver(&mut backup, PRIMARY, 0, late, 5);
    assert!(!rejoined(&events), "{events:?}");
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(0, 1)));
}

#[test]
fn a_longer_snapshot_of_the_log_it_follows_is_installed() {
    let mut backup = backup_holding_first_read();
    let newer = snapshot(&backup, 0, 5, 0);
    let (sent, events) = deliver(&mut backup, PRIMARY, 0, newer, 5);
    assert!(rejoined(&events), "{events:?}");
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 5))]);
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(0, 5)));
}

#[test]
fn a_snapshot_of_another_log_of_the_same_view_replaces_a_claimed_one() {
    // The backup's log is view 0's as incarnation 0 leads it; a snapshot of view 0 as
    // incarnation 1 leads it is another log, installed even if shorter.
    let mut backup = backup_holding_first_read();
    let other = snapshot(&backup, 0, 0, 1);
    let (_, events) = deliver(&mut backup, PRIMARY, 0, other, 5);
    assert!(rejoined(&events), "{events:?}");
    let reach = backup.reach().expect("state");
    assert_eq!(
        (reach.stamp, reach.leader),
        (Viewstamp::ZERO, Incarnation(1))
    );
}

#[test]
fn a_snapshot_of_a_newer_view_is_installed_even_if_shorter() {
    let mut backup = backup_holding_first_read();
    let newer_view = snapshot(&backup, 2, 0, 0);
    let (_, events) = deliver(&mut backup, PRIMARY, 2, newer_view, 5);
    assert!(rejoined(&events), "{events:?}");
    assert_eq!(backup.log_view(), Some(View(2)));
}

#[test]
fn replication_after_a_gap_is_not_applied() {
    // Entries 3 and 4 arrive before entry 2: the backup keeps entry 1 and says so.
    let mut backup = backup_holding_first_read();
    let after_gap = Message::Replicate {
        incarnation: FIRST,
        first_index: 3,
        entries: vec![admit(2, 1), admit(0, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, after_gap, 5);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 1))]);
    assert_eq!(backup.reach().map(|r| r.stamp), Some(stamp(0, 1)));
}

#[test]
fn a_hand_over_from_a_log_that_ends_elsewhere_is_ignored() {
    // A late hand-over naming entry 7 reaches a manager whose log ends at entry 1: it
    // does not hold that log, so it must not lead the next view from it.
    let mut backup = backup_holding_first_read();
    let late = Message::HandOver {
        incarnation: FIRST,
        last_index: 7,
    };
    let (sent, events) = deliver(&mut backup, PRIMARY, 0, late, 5);
    assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
    assert_eq!(backup.role(), RoleKind::Backup);
}

#[test]
fn a_resend_that_overlaps_the_log_applies_only_what_is_new() {
    let mut backup = backup_holding_first_read();
    let resend = Message::Replicate {
        incarnation: FIRST,
        first_index: 1,
        entries: vec![admit(1, 1), admit(2, 1)],
        act: false,
    };
    let (sent, _) = deliver(&mut backup, PRIMARY, 0, resend, 5);
    assert_eq!(sent, vec![(PRIMARY, View(0), replicate_ack(FIRST, 2))]);
    let held = backup
        .serializer()
        .expect("state")
        .transaction(ivy_core::PageId(0));
    assert_eq!(held.map(|t| t.request), Some(request(1, 1)), "entry 1 once");
}

#[test]
fn a_primary_tells_an_older_primary_which_backup_it_replicates_to() {
    // The original backup leads view 1 and replicates to the original primary's
    // second life; the first life's heartbeat of view 0 arrives late. The answer
    // names the backup incarnation, so that a manager that follows view 1 without
    // being that incarnation asks to be linked.
    let mut acting = backup_leading_view_1();
    let asked_at = view_1_established_at() + 1;
    let ask = snapshot_request(Incarnation(1));
    deliver(&mut acting, PRIMARY, 1, ask, asked_at);
    let late = heartbeat(Some(FIRST));
    let (sent, _) = deliver(&mut acting, PRIMARY, 0, late, asked_at + 1);
    assert_eq!(
        sent,
        vec![(PRIMARY, View(1), heartbeat(Some(Incarnation(1))))]
    );
}

#[test]
fn a_backup_is_settled_only_once_its_primary_names_it() {
    // After handing view 2 over, the former primary follows view 2 but nobody
    // replicates to it yet: not settled. The new primary's heartbeat names it.
    let successor = Incarnation(2);
    let (mut acting, asked_at) = acting_primary_asked_by(successor);
    let ack = replicate_ack(successor, 1);
    deliver(&mut acting, PRIMARY, 1, ack, asked_at + 1);
    assert_eq!(acting.log_view(), Some(View(2)));
    assert_eq!(acting.settled_view(), None, "not linked yet");
    assert_eq!(acting.phase(), "backup");
    assert_eq!(acting.authority(), Some((View(2), false)));
    let naming_it = heartbeat(Some(FIRST));
    deliver(&mut acting, PRIMARY, 2, naming_it, asked_at + 2);
    assert_eq!(acting.settled_view(), Some(View(2)));
}

#[test]
fn phases_and_authority_name_what_a_manager_is_doing_and_holds() {
    let mut primary = manager(PRIMARY);
    assert_eq!(primary.phase(), "primary in sync");
    assert_eq!(primary.authority(), Some((View(0), true)));
    deliver(&mut primary, NodeId(1), 0, read_request(1, 1), 1);
    assert_eq!(primary.phase(), "primary awaiting ack");
    deliver(&mut primary, BACKUP, 0, snapshot_request(Incarnation(1)), 2);
    assert_eq!(primary.phase(), "primary sending snapshot");
    let mut backup = manager(BACKUP);
    assert_eq!(backup.phase(), "backup");
    assert_eq!(backup.authority(), Some((View(0), false)));
    // A process reports view 2: the backup's log (view 0's) is behind it.
    tick(&mut backup, silent_at());
    let promised_view_2 = promise(Viewstamp::ZERO);
    deliver(&mut backup, NodeId(0), 2, promised_view_2, silent_at() + 1);
    assert_eq!(backup.phase(), "behind");
    assert_eq!(
        backup.authority(),
        Some((View(0), false)),
        "its log is view 0's"
    );
    let blank = FtManager::restarted(&config(), BACKUP, timing(), Incarnation(1));
    assert_eq!(blank.phase(), "blank");
    assert_eq!(blank.authority(), None);
}

//! Handler tests of what the replicated managers do as time passes: heartbeats once
//! per interval, the failover timeout's boundary, a fence resending `NewView` to the
//! processes that have not promised, no heartbeat from a fence, and hand-back only
//! once the successor holds everything. Same system as `handlers.rs`: three
//! processes, one page owned by process 0, managers 3 and 4; heartbeat every 10
//! ticks, failover after 50.

mod common;

use common::*;
use ivy_core::{Incarnation, Message, Node, NodeEvent, NodeId, Outbox, View, Viewstamp};
use ivy_ft::{FtManager, FtOptions, FtTimer, RoleKind};

#[test]
fn a_primary_sends_one_heartbeat_per_interval() {
    let mut primary = manager(PRIMARY);
    assert!(tick(&mut primary, 9).0.is_empty());
    let (sent, _) = tick(&mut primary, 10);
    assert_eq!(sent, vec![(BACKUP, View(0), heartbeat(Some(FIRST)))]);
    assert!(tick(&mut primary, 11).0.is_empty(), "not due again yet");
    assert!(tick(&mut primary, 19).0.is_empty());
    assert_eq!(tick(&mut primary, 20).0.len(), 1);
}

#[test]
fn a_backup_silent_for_exactly_the_timeout_is_not_yet_given_up() {
    let mut primary = manager(PRIMARY);
    tick(&mut primary, 10);
    let (_, events) = tick(&mut primary, 50);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(primary.role(), RoleKind::Primary);
    let (_, events) = tick(&mut primary, 51);
    let fencing = NodeEvent::Fencing {
        manager: PRIMARY,
        view: View(2),
    };
    assert_eq!(events, vec![fencing]);
}

#[test]
fn a_fence_resends_new_view_each_interval_to_those_that_have_not_promised() {
    let mut backup = manager(BACKUP);
    let (sent, _) = tick(&mut backup, 51);
    assert_eq!(sent.len(), 3);
    deliver(&mut backup, NodeId(0), 1, promise(Viewstamp::ZERO), 52);
    assert!(tick(&mut backup, 55).0.is_empty(), "not due yet");
    let (sent, _) = tick(&mut backup, 61);
    let to: Vec<NodeId> = sent.iter().map(|(to, _, _)| *to).collect();
    assert_eq!(to, vec![NodeId(1), NodeId(2)]);
    assert!(sent
        .iter()
        .all(|(_, view, m)| *view == View(1) && *m == new_view()));
}

/// The original backup leads view 1 holding one entry, and the original primary's
/// second life asked it for a snapshot: a link to incarnation 1, which has not
/// acknowledged anything yet.
fn acting_with_a_successor() -> FtManager {
    let mut acting = backup_holding_first_read();
    tick(&mut acting, 51);
    for process in 0..3 {
        deliver(
            &mut acting,
            NodeId(process),
            1,
            promise(Viewstamp::ZERO),
            52,
        );
    }
    assert_eq!(acting.role(), RoleKind::Primary);
    let (sent, _) = deliver(
        &mut acting,
        PRIMARY,
        1,
        snapshot_request(Incarnation(1)),
        60,
    );
    assert!(matches!(
        sent[..],
        [(PRIMARY, View(1), Message::Snapshot { .. })]
    ));
    acting
}

#[test]
fn the_role_is_handed_back_only_once_the_successor_holds_everything() {
    let mut acting = acting_with_a_successor();
    let (sent, events) = deliver(
        &mut acting,
        PRIMARY,
        1,
        replicate_ack(Incarnation(1), 0),
        61,
    );
    assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
    assert_eq!(acting.role(), RoleKind::Primary);
    let (sent, _) = deliver(
        &mut acting,
        PRIMARY,
        1,
        replicate_ack(Incarnation(1), 1),
        62,
    );
    assert!(matches!(
        sent[..],
        [(PRIMARY, View(1), Message::HandOver { .. })]
    ));
}

#[test]
fn a_manager_fencing_after_a_hand_over_sends_its_backup_nothing() {
    // The original primary's second life is handed view 2 and fences it, with a
    // link to its predecessor: until the view is established, it sends the other
    // manager no heartbeat (which would make it stand down for a view that may fail).
    let mut successor =
        FtManager::restarted(&config(), PRIMARY, FtOptions::default(), Incarnation(1));
    let state = manager(BACKUP)
        .serializer()
        .expect("state")
        .snapshot(first_life(stamp(1, 0)));
    let snapshot = Message::Snapshot {
        incarnation: Incarnation(1),
        snapshot: Box::new(state),
    };
    deliver(&mut successor, BACKUP, 1, snapshot, 90);
    let handover = Message::HandOver {
        incarnation: FIRST,
        last_index: 0,
    };
    deliver(&mut successor, BACKUP, 1, handover, 100);
    assert_eq!(successor.role(), RoleKind::Fencing);
    for now_ticks in [105, 110, 120, 130] {
        let (sent, _) = tick(&mut successor, now_ticks);
        assert!(sent.iter().all(|(to, _, _)| *to != BACKUP), "{sent:?}");
    }
}

/// Two managers with nothing to do, their messages delivered at once: time jumps
/// from one deadline to the next, and each timer that fires is recorded.
fn idle_pair_timers(until_ticks: u64) -> Vec<(NodeId, FtTimer)> {
    let mut managers = [manager(PRIMARY), manager(BACKUP)];
    let mut fired = Vec::new();
    loop {
        let next = managers
            .iter()
            .enumerate()
            .filter_map(|(index, m)| Some((m.next_deadline()?, index)))
            .min_by_key(|(deadline, _)| deadline.at_ticks);
        let Some((deadline, index)) = next else {
            return fired;
        };
        if deadline.at_ticks > until_ticks {
            return fired;
        }
        let now = deadline.at_ticks;
        fired.push((managers[index].id(), deadline.timer));
        let mut out = Outbox::new();
        managers[index].handle_timeout(deadline.timer, now, &mut out);
        for envelope in out.messages {
            let to = usize::from(envelope.to == BACKUP);
            let mut replies = Outbox::new();
            managers[to].handle_message(envelope, now, &mut replies);
            for reply in replies.messages {
                let back = usize::from(reply.to == BACKUP);
                managers[back].handle_message(reply, now, &mut Outbox::new());
            }
        }
    }
}

#[test]
fn an_idle_pair_wakes_only_for_heartbeats() {
    let timing = FtOptions::default();
    let until_ticks = 100 * timing.heartbeat_ticks;
    let fired = idle_pair_timers(until_ticks);
    assert!(
        fired
            .iter()
            .all(|&fired| fired == (PRIMARY, FtTimer::Heartbeat)),
        "{fired:?}"
    );
    assert_eq!(fired.len() as u64, until_ticks / timing.heartbeat_ticks);
}

#[test]
fn a_backup_whose_primary_is_silent_wakes_once_the_timeout_has_passed() {
    let backup = manager(BACKUP);
    let deadline = backup
        .next_deadline()
        .expect("a backup waits for its primary");
    assert_eq!(deadline.timer, FtTimer::Takeover);
    assert_eq!(deadline.at_ticks, FtOptions::default().silence_ticks());
}

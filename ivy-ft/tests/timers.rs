//! Handler tests of what the replicated managers do as time passes: heartbeats once
//! per interval, the failover timeout's boundary, a fence resending `NewView` to the
//! processes that have not promised, no heartbeat from a fence, and hand-back only
//! once the successor holds everything. Same system as `handlers.rs`: three
//! processes, one page owned by process 0, managers 3 and 4; the timing of
//! `FtOptions::default()` (heartbeat every 10 ticks, failover after 50), every moment
//! placed relative to it.

mod common;

use common::*;
use ivy_core::{Incarnation, Message, Node, NodeEvent, NodeId, Outbox, View, Viewstamp};
use ivy_ft::{FtManager, FtTimer, RoleKind};

#[test]
fn a_primary_sends_one_heartbeat_per_interval() {
    let mut primary = manager(PRIMARY);
    let interval = heartbeat_interval();
    assert!(tick(&mut primary, interval - 1).0.is_empty());
    let (sent, _) = tick(&mut primary, interval);
    assert_eq!(sent, vec![(BACKUP, View(0), heartbeat(Some(FIRST)))]);
    let too_soon = tick(&mut primary, interval + 1).0;
    assert!(too_soon.is_empty(), "not due again yet");
    assert!(tick(&mut primary, 2 * interval - 1).0.is_empty());
    assert_eq!(tick(&mut primary, 2 * interval).0.len(), 1);
}

#[test]
fn a_backup_silent_for_exactly_the_timeout_is_not_yet_given_up() {
    let mut primary = manager(PRIMARY);
    tick(&mut primary, heartbeat_interval());
    let (_, events) = tick(&mut primary, failover_timeout());
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(primary.role(), RoleKind::Primary);
    let (_, events) = tick(&mut primary, silent_at());
    let fencing = NodeEvent::Fencing {
        manager: PRIMARY,
        view: View(2),
    };
    assert_eq!(events, vec![fencing]);
}

#[test]
fn a_fence_resends_new_view_each_interval_to_those_that_have_not_promised() {
    let mut backup = manager(BACKUP);
    let fenced_at = silent_at();
    let (sent, _) = tick(&mut backup, fenced_at);
    assert_eq!(sent.len(), 3);
    let promised = promise(Viewstamp::ZERO);
    deliver(&mut backup, NodeId(0), 1, promised, fenced_at + 1);
    let resend_at = fenced_at + heartbeat_interval();
    assert!(tick(&mut backup, resend_at - 1).0.is_empty(), "not due yet");
    let (sent, _) = tick(&mut backup, resend_at);
    let to: Vec<NodeId> = sent.iter().map(|(to, _, _)| *to).collect();
    assert_eq!(to, vec![NodeId(1), NodeId(2)]);
    assert!(sent
        .iter()
        .all(|(_, view, m)| *view == View(1) && *m == new_view()));
}

/// The original backup leads view 1 holding one entry, and the original primary's
/// second life asked it for a snapshot: a link to incarnation 1, which has not
/// acknowledged anything yet. Returns it and the tick the successor asked.
fn acting_with_a_successor() -> (FtManager, u64) {
    let mut acting = backup_holding_first_read();
    take_over_view_1(&mut acting);
    let asked_at = view_1_established_at() + 1;
    let ask = snapshot_request(Incarnation(1));
    let (sent, _) = deliver(&mut acting, PRIMARY, 1, ask, asked_at);
    assert!(matches!(
        sent[..],
        [(PRIMARY, View(1), Message::Snapshot { .. })]
    ));
    (acting, asked_at)
}

#[test]
fn the_role_is_handed_back_only_once_the_successor_holds_everything() {
    let (mut acting, asked_at) = acting_with_a_successor();
    let (sent, events) = deliver(
        &mut acting,
        PRIMARY,
        1,
        replicate_ack(Incarnation(1), 0),
        asked_at + 1,
    );
    assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
    assert_eq!(acting.role(), RoleKind::Primary);
    let (sent, _) = deliver(
        &mut acting,
        PRIMARY,
        1,
        replicate_ack(Incarnation(1), 1),
        asked_at + 2,
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
    let mut successor = FtManager::restarted(&config(), PRIMARY, timing(), Incarnation(1));
    let state = manager(BACKUP)
        .serializer()
        .expect("state")
        .snapshot(first_life(stamp(1, 0)));
    let snapshot = Message::Snapshot {
        incarnation: Incarnation(1),
        snapshot: Box::new(state),
    };
    let installed_at = 90; // any moment
    deliver(&mut successor, BACKUP, 1, snapshot, installed_at);
    let handover = Message::HandOver {
        incarnation: FIRST,
        last_index: 0,
    };
    let handed_over_at = installed_at + 1;
    deliver(&mut successor, BACKUP, 1, handover, handed_over_at);
    assert_eq!(successor.role(), RoleKind::Fencing);
    // Half an interval, then one, two and three intervals later (when a heartbeat
    // would be due), all before the other manager counts as silent.
    let interval = heartbeat_interval();
    for after in [interval / 2, interval, 2 * interval, 3 * interval] {
        let now_ticks = handed_over_at + after;
        assert!(now_ticks < silent_since(handed_over_at));
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
    let until_ticks = 100 * heartbeat_interval();
    let fired = idle_pair_timers(until_ticks);
    assert!(
        fired
            .iter()
            .all(|&fired| fired == (PRIMARY, FtTimer::Heartbeat)),
        "{fired:?}"
    );
    assert_eq!(fired.len() as u64, until_ticks / heartbeat_interval());
}

#[test]
fn a_backup_whose_primary_is_silent_wakes_once_the_timeout_has_passed() {
    let backup = manager(BACKUP);
    let deadline = backup
        .next_deadline()
        .expect("a backup waits for its primary");
    assert_eq!(deadline.timer, FtTimer::Takeover);
    assert_eq!(deadline.at_ticks, silent_at());
}

//! Regression scenarios for the review of issue 9, one per finding that concerns the
//! protocol (findings 3 and 5 concern the CLI: `ivy-cli/tests/cli_kills.rs`). Each
//! places by hand the instants the review found, on a FIFO network, and checks
//! coherence after every step (see `common::net`).

mod common;

use common::net::{Net, Status};
use common::{failover_timeout, heartbeat_interval, BACKUP, PRIMARY};
use ivy_core::{Envelope, Incarnation, Message, NodeEvent, NodeId, Operation, PageId, View};
use ivy_ft::RoleKind;

const STEP_LIMIT: u64 = 20_000;

fn write(value: u64) -> Operation {
    Operation::Write {
        page: PageId(0),
        value,
    }
}

fn read() -> Operation {
    Operation::Read { page: PageId(0) }
}

/// Three processes sharing one page, reading and writing in turn.
fn workload() -> Vec<Vec<Operation>> {
    vec![
        vec![write(1), read(), write(4), read()],
        vec![read(), write(2), read(), write(5)],
        vec![write(3), read(), read(), write(6)],
    ]
}

const OPERATIONS: usize = 12;

fn is_snapshot_for(incarnation: Incarnation) -> impl Fn(&Envelope) -> bool {
    move |envelope| matches!(envelope.message, Message::Snapshot { incarnation: i, .. } if i == incarnation)
}

fn is_ack_from(incarnation: Incarnation) -> impl Fn(&Envelope) -> bool {
    move |envelope| {
        matches!(envelope.message, Message::ReplicateAck { incarnation: i, applied_index }
            if i == incarnation && applied_index > 0)
    }
}

fn promoted(manager: NodeId) -> impl Fn(&NodeEvent) -> bool {
    move |event| matches!(event, NodeEvent::Promoted { manager: m, .. } if *m == manager)
}

/// Finding 1 up to the late deliveries: the backup restarts (incarnation 1) and
/// rejoins; a copy of its snapshot and of a later acknowledgement are kept; it
/// crashes again (incarnation 2), and the primary's snapshot for the new incarnation
/// is held back. Then the copies arrive: the snapshot meant for incarnation 1 at the
/// blank incarnation 2, the acknowledgement of incarnation 1 at the primary.
fn late_messages_of_an_earlier_life() -> Net {
    let mut net = Net::new(&workload(), 1);
    net.crash(1);
    net.set_status(1, Status::Up);
    let first_life = Incarnation(1);
    net.run_until(STEP_LIMIT, |n| {
        n.in_flight.iter().any(is_snapshot_for(first_life))
    });
    let old_snapshot = net
        .in_flight
        .iter()
        .find(|e| is_snapshot_for(first_life)(e));
    let old_snapshot = old_snapshot.cloned().expect("a snapshot");
    net.run_until(STEP_LIMIT, |n| {
        n.history.len() >= 4 && n.in_flight.iter().any(is_ack_from(first_life))
    });
    let old_ack = net.in_flight.iter().find(|e| is_ack_from(first_life)(e));
    let old_ack = old_ack.cloned().expect("an acknowledgement");
    net.crash(1);
    net.set_status(1, Status::Up);
    let second_life = Incarnation(2);
    net.run_until(STEP_LIMIT, |n| {
        n.in_flight.iter().any(is_snapshot_for(second_life))
    });
    net.take(is_snapshot_for(second_life));
    net.inject(old_snapshot);
    assert_eq!(
        net.managers[1].role(),
        RoleKind::Recovering,
        "a snapshot for an earlier life is not installed"
    );
    net.inject(old_ack);
    net
}

#[test]
fn finding_1_a_revived_backup_ignores_what_was_meant_for_its_earlier_life() {
    // The backup catches up properly, then the primary crashes: the backup takes
    // over holding everything processes acted on, and the run completes.
    let mut net = late_messages_of_an_earlier_life();
    net.run_until(STEP_LIMIT, |n| {
        n.managers[1].role() == RoleKind::Backup && n.managers[0].is_settled_primary()
    });
    net.crash(0);
    net.run_until(STEP_LIMIT, |n| n.count(promoted(BACKUP)) > 0);
    net.set_status(0, Status::Up);
    net.run_to_end(STEP_LIMIT, OPERATIONS);
}

#[test]
fn finding_1_a_blank_backup_never_takes_over_when_the_primary_crashes() {
    // The primary crashes before the blank backup caught up: nobody holds the state
    // (the primary acted alone, as it may), and the backup must not lead without it.
    let mut net = late_messages_of_an_earlier_life();
    net.crash(0);
    // Long past any failover, snapshot retry and process retry (most steps are
    // ticks: little is in flight).
    let long_past_ticks = 100 * failover_timeout();
    let until = net.now_ticks + long_past_ticks;
    net.run_until(2 * long_past_ticks, |n| n.now_ticks >= until);
    assert_eq!(net.count(promoted(BACKUP)), 0, "{:?}", net.events);
    assert_eq!(net.managers[1].role(), RoleKind::Recovering);
    assert!(!net.state_is_held());
}

#[test]
fn finding_2_a_crash_during_hand_back_leaves_a_survivor_that_takes_over() {
    // The original primary crashes, the backup leads view 1, the original primary
    // returns blank, catches up and is handed its role back; it establishes view 2,
    // re-sends what it inherited, and crashes. The survivor holds the same log.
    let mut net = Net::new(&workload(), 1);
    net.run_until(STEP_LIMIT, |n| n.history.len() >= 2);
    net.crash(0);
    net.run_until(STEP_LIMIT, |n| n.count(promoted(BACKUP)) > 0);
    net.run_until(STEP_LIMIT, |n| n.history.len() >= 5);
    net.set_status(0, Status::Up);
    net.run_until(STEP_LIMIT, |n| {
        n.events.iter().any(|e| {
            *e == NodeEvent::Promoted {
                manager: PRIMARY,
                view: View(2),
            }
        })
    });
    // Let the re-sent commands reach the processes, then crash.
    let inherited_sent = net.in_flight.len();
    for _ in 0..inherited_sent {
        net.step();
    }
    net.crash(0);
    let fences_before =
        net.count(|e| matches!(e, NodeEvent::Fencing { manager, .. } if *manager == BACKUP));
    net.run_until(STEP_LIMIT, |n| n.count(promoted(BACKUP)) > 1);
    let fences =
        net.count(|e| matches!(e, NodeEvent::Fencing { manager, .. } if *manager == BACKUP));
    assert_eq!(
        fences - fences_before,
        1,
        "one takeover, no aborted attempts: {:?}",
        net.events
    );
    net.set_status(0, Status::Up);
    net.run_to_end(STEP_LIMIT, OPERATIONS);
}

#[test]
fn finding_4_a_manager_that_is_behind_stops_trying_to_take_over() {
    // Load slows the managers' link in bursts of three failover timeouts, a heartbeat
    // apart, while both keep ticking: the primary serves alone, the backup hears
    // nothing and falls behind. A takeover by the backup may start before it learns
    // it is behind, but then it must stop trying (the review saw one started every
    // few milliseconds, each unseating the primary), and the run finishes once the
    // bursts end.
    let long_workload: Vec<Vec<Operation>> = (0..3u64)
        .map(|p| {
            let op = |i: u64| {
                if i % 2 == 0 {
                    write(p * 100 + i + 1)
                } else {
                    read()
                }
            };
            (0..12).map(op).collect()
        })
        .collect();
    let mut net = Net::new(&long_workload, 1);
    const BURSTS: usize = 6;
    for _ in 0..BURSTS {
        net.managers_cut_off = true;
        let until = net.now_ticks + 3 * failover_timeout();
        net.run_until(STEP_LIMIT, |n| n.now_ticks >= until);
        net.managers_cut_off = false;
        let until = net.now_ticks + heartbeat_interval();
        net.run_until(STEP_LIMIT, |n| n.now_ticks >= until);
    }
    net.run_to_end(STEP_LIMIT * 5, 36);
    let backup_fences =
        net.count(|e| matches!(e, NodeEvent::Fencing { manager, .. } if *manager == BACKUP));
    assert!(
        backup_fences <= BURSTS,
        "{backup_fences} takeovers in {BURSTS} bursts"
    );
}

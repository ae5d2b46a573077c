//! Regression scenarios for the review of issue 9, one per finding that concerns the
//! protocol (findings 3 and 5 concern the CLI: `ivy-cli/tests/cli_kills.rs`). Each
//! places by hand the instants the review found, on the simulator driven by hand (FIFO
//! unless the test picks), and checks coherence after every step (see `common::hand`).

mod common;

use common::hand::{count, count_in, finish, passes, simulation};
use common::{failover_timeout, heartbeat_interval, BACKUP, PRIMARY};
use ivy_core::sim::Simulation;
use ivy_core::{Envelope, Incarnation, Message, NodeEvent, NodeId, Operation, PageId, View};
use ivy_ft::{FtManager, RoleKind};

type Sim = Simulation<FtManager>;

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

fn fencing(manager: NodeId) -> impl Fn(&NodeEvent) -> bool {
    move |event| matches!(event, NodeEvent::Fencing { manager: m, .. } if *m == manager)
}

fn completed(sim: &Sim) -> usize {
    sim.report().history.len()
}

/// Steps `sim` in order until `done` holds of it.
fn run_until(sim: &mut Sim, label: &str, done: impl Fn(&Sim) -> bool) {
    passes(sim.run_in_order_until(STEP_LIMIT, done), label);
}

/// The first message in flight in `sim` that `matches`, copied.
fn copy_of(sim: &Sim, matches: impl Fn(&Envelope) -> bool) -> Envelope {
    let found = sim.in_flight().iter().find(|&e| matches(e));
    found.cloned().expect("a message in flight")
}

/// Finding 1 up to the late deliveries: the backup restarts (incarnation 1) and
/// rejoins; a copy of its snapshot and of a later acknowledgement are kept; it
/// crashes again (incarnation 2), and the primary's snapshot for the new incarnation
/// is held back. Then the copies arrive: the snapshot meant for incarnation 1 at the
/// blank incarnation 2, the acknowledgement of incarnation 1 at the primary.
fn late_messages_of_an_earlier_life(label: &str) -> Sim {
    let mut sim = simulation(&workload(), 1);
    sim.crash(1);
    sim.revive(1);
    let first_life = Incarnation(1);
    let snapshot_for = |life| move |s: &Sim| s.in_flight().iter().any(is_snapshot_for(life));
    run_until(&mut sim, label, snapshot_for(first_life));
    let old_snapshot = copy_of(&sim, is_snapshot_for(first_life));
    run_until(&mut sim, label, |s| {
        completed(s) >= 4 && s.in_flight().iter().any(is_ack_from(first_life))
    });
    let old_ack = copy_of(&sim, is_ack_from(first_life));
    sim.crash(1);
    sim.revive(1);
    let second_life = Incarnation(2);
    run_until(&mut sim, label, snapshot_for(second_life));
    sim.take(is_snapshot_for(second_life));
    passes(sim.inject(old_snapshot), label);
    assert_eq!(
        sim.managers()[1].role(),
        RoleKind::Recovering,
        "a snapshot for an earlier life is not installed"
    );
    passes(sim.inject(old_ack), label);
    sim
}

#[test]
fn finding_1_a_revived_backup_ignores_what_was_meant_for_its_earlier_life() {
    // The backup catches up properly, then the primary crashes: the backup takes
    // over holding everything processes acted on, and the run completes.
    let label = "finding 1, revived backup";
    let mut sim = late_messages_of_an_earlier_life(label);
    run_until(&mut sim, label, |s| {
        s.managers()[1].role() == RoleKind::Backup && s.managers()[0].is_settled_primary()
    });
    sim.crash(0);
    run_until(&mut sim, label, |s| count(s, promoted(BACKUP)) > 0);
    sim.revive(0);
    finish(sim, STEP_LIMIT, OPERATIONS, label);
}

#[test]
fn finding_1_a_blank_backup_never_takes_over_when_the_primary_crashes() {
    // The primary crashes before the blank backup caught up: nobody holds the state
    // (the primary acted alone, as it may), and the backup must not lead without it.
    let label = "finding 1, blank backup";
    let mut sim = late_messages_of_an_earlier_life(label);
    sim.crash(0);
    // Long past any failover, snapshot retry and process retry.
    let until = sim.now_ticks() + 100 * failover_timeout();
    run_until(&mut sim, label, |s| s.now_ticks() >= until);
    let events: Vec<&NodeEvent> = sim.node_events().collect();
    assert_eq!(count(&sim, promoted(BACKUP)), 0, "{events:?}");
    assert_eq!(sim.managers()[1].role(), RoleKind::Recovering);
    assert!(!sim.state_is_held());
}

#[test]
fn finding_2_a_crash_during_hand_back_leaves_a_survivor_that_takes_over() {
    // The original primary crashes, the backup leads view 1, the original primary
    // returns blank, catches up and is handed its role back; it establishes view 2,
    // re-sends what it inherited, and crashes. The survivor holds the same log.
    let label = "finding 2";
    let mut sim = simulation(&workload(), 1);
    run_until(&mut sim, label, |s| completed(s) >= 2);
    sim.crash(0);
    run_until(&mut sim, label, |s| count(s, promoted(BACKUP)) > 0);
    run_until(&mut sim, label, |s| completed(s) >= 5);
    sim.revive(0);
    let view_2 = NodeEvent::Promoted {
        manager: PRIMARY,
        view: View(2),
    };
    run_until(&mut sim, label, |s| s.node_events().any(|e| *e == view_2));
    // Let the re-sent commands reach the processes, then crash.
    for _ in 0..sim.in_flight().len() {
        passes(sim.step_in_order(), label);
    }
    sim.crash(0);
    let fences_before = count(&sim, fencing(BACKUP));
    run_until(&mut sim, label, |s| count(s, promoted(BACKUP)) > 1);
    let events: Vec<&NodeEvent> = sim.node_events().collect();
    let fences = count(&sim, fencing(BACKUP)) - fences_before;
    assert_eq!(fences, 1, "one takeover, no aborted attempts: {events:?}");
    sim.revive(0);
    finish(sim, STEP_LIMIT, OPERATIONS, label);
}

#[test]
fn finding_4_a_manager_that_is_behind_stops_trying_to_take_over() {
    // Load slows the managers' link in bursts of three failover timeouts, a heartbeat
    // apart, while both keep ticking: the primary serves alone, the backup hears
    // nothing and falls behind. A takeover by the backup may start before it learns
    // it is behind, but then it must stop trying (the review saw one started every
    // few milliseconds, each unseating the primary), and the run finishes once the
    // bursts end.
    let label = "finding 4";
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
    let mut sim = simulation(&long_workload, 1);
    const BURSTS: usize = 6;
    for _ in 0..BURSTS {
        for (apart, ticks) in [
            (true, 3 * failover_timeout()),
            (false, heartbeat_interval()),
        ] {
            sim.keep_managers_apart(apart);
            let until = sim.now_ticks() + ticks;
            sim.wake_at(until);
            run_until(&mut sim, label, |s| s.now_ticks() >= until);
        }
    }
    let (report, _) = finish(sim, STEP_LIMIT * 5, 36, label);
    let backup_fences = count_in(&report, fencing(BACKUP));
    assert!(
        backup_fences <= BURSTS,
        "{backup_fences} takeovers in {BURSTS} bursts"
    );
}

//! The replicated managers on the simulator driven by hand, under each network fault
//! the hand-driven harness offers: duplicated, reordered and lost messages, and a
//! paused primary. Every step is checked for coherence, and every run must finish
//! settled, agreeing with the processes, linearizable, each operation once.

mod common;

use common::hand::{count, finish, passes, simulation};
use common::BACKUP;
use ivy_core::{Message, NodeEvent, Operation};

const STEP_LIMIT: u64 = 50_000;

/// Three processes sharing one page, reading and writing in turn.
fn workload() -> Vec<Vec<Operation>> {
    vec![
        vec![
            Operation::write(0, 1),
            Operation::read(0),
            Operation::write(0, 4),
        ],
        vec![
            Operation::read(0),
            Operation::write(0, 2),
            Operation::read(0),
        ],
        vec![
            Operation::write(0, 3),
            Operation::read(0),
            Operation::read(0),
        ],
    ]
}

const OPERATIONS: usize = 9;

#[test]
fn every_message_delivered_twice_changes_nothing() {
    let label = "duplicates";
    let mut sim = simulation(&workload(), 1);
    let mut duplicated = 0;
    while !sim.is_finished() && duplicated < 2_000 {
        // A copy of the oldest message joins the network behind the newest.
        if sim.duplicate(|_| true) {
            duplicated += 1;
        }
        passes(sim.step_in_order(), label);
    }
    assert!(duplicated > 20, "only {duplicated} duplicates");
    let (report, _) = finish(sim, STEP_LIMIT, OPERATIONS, label);
    assert_eq!(report.duplicated, duplicated);
}

#[test]
fn newest_first_delivery_completes() {
    let label = "newest first";
    let mut sim = simulation(&workload(), 1);
    let mut steps = 0;
    while !sim.is_finished() {
        steps += 1;
        assert!(steps < STEP_LIMIT, "{label}: not finished");
        // The newest message overtakes every older one; time passes when none can.
        if !passes(sim.deliver_newest(), label) {
            passes(sim.step_in_order(), label);
        }
    }
    finish(sim, STEP_LIMIT, OPERATIONS, label);
}

#[test]
fn lost_forwards_and_confirmations_are_sent_again() {
    let label = "losses";
    let mut sim = simulation(&workload(), 1);
    let lost_kinds = |message: &Message| {
        matches!(
            message,
            Message::ReadForward { .. }
                | Message::WriteForward { .. }
                | Message::ReadConfirmation { .. }
        )
    };
    let mut lost = 0;
    while !sim.is_finished() && lost < 6 {
        lost += sim.drop_all(|envelope| lost_kinds(&envelope.message));
        passes(sim.step_in_order(), label);
    }
    assert!(lost >= 6, "only {lost} messages lost");
    finish(sim, STEP_LIMIT, OPERATIONS, label);
}

#[test]
fn a_paused_primary_is_replaced_and_follows_when_it_resumes() {
    let label = "pause";
    let mut sim = simulation(&workload(), 1);
    passes(
        sim.run_in_order_until(STEP_LIMIT, |s| s.report().history.len() >= 2),
        label,
    );
    sim.pause(0);
    let promoted =
        |e: &NodeEvent| matches!(e, NodeEvent::Promoted { manager, .. } if *manager == BACKUP);
    passes(
        sim.run_in_order_until(STEP_LIMIT, |s| count(s, promoted) > 0),
        label,
    );
    sim.resume(0);
    let (report, managers) = finish(sim, STEP_LIMIT, OPERATIONS, label);
    assert!(managers[1].view() > ivy_core::View(0));
    assert!(report.history.len() == OPERATIONS);
}

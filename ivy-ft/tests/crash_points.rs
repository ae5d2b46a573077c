//! Crash a manager at every message of a fault: for a read fault, a write fault that
//! invalidates a copy, and an owner's upgrade, crash the primary, or the backup, just
//! before each message is delivered (so also between a replication and its
//! acknowledgement), with and without a later revival, and with and without losing
//! the messages it had sent. Messages travel in FIFO order and time jumps to the next
//! deadline only when none is in flight (the simulator driven by hand). Every run must
//! complete every operation exactly once, stay coherent after every step, end with
//! the live managers settled and agreeing with the processes, and be linearizable.

mod common;

use common::hand::{finish, passes, simulation};
use common::{failover_timeout, heartbeat_interval};
use ivy_core::{Node, Operation, View};
use ivy_ft::FtManager;

type Sim = ivy_core::sim::Simulation<FtManager>;

const STEP_LIMIT: u64 = 100_000;

/// Where to crash: before the `delivery`th delivery, manager `manager` (0: the
/// original primary, 1: the original backup); revive it so many ticks later. With
/// `loses_sent`, the messages it sent that are still in flight are lost with it.
#[derive(Clone, Copy, Debug)]
struct Crash {
    delivery: u64,
    manager: usize,
    revive_after_ticks: Option<u64>,
    loses_sent: bool,
}

/// What a run ended with.
#[derive(Debug, PartialEq, Eq)]
struct Ending {
    deliveries: u64,
    /// The newest view of a live manager.
    view: View,
}

/// Runs `workload` with `crash`, checking coherence after every step and agreement
/// and linearizability at the end (it panics, naming the crash, otherwise).
fn run(workload: &[Vec<Operation>], crash: Option<Crash>) -> Ending {
    let label = format!("{crash:?}");
    let mut sim = simulation(workload, 1);
    if let Some(crash) = crash {
        let crash_point = |s: &Sim| s.is_finished() || s.deliveries() == crash.delivery;
        passes(sim.run_in_order_until(STEP_LIMIT, crash_point), &label);
        if !sim.is_finished() {
            sim.crash(crash.manager);
            if crash.loses_sent {
                let id = sim.managers()[crash.manager].id();
                sim.drop_all(|envelope| envelope.from == id);
            }
            if let Some(after) = crash.revive_after_ticks {
                let revival = sim.now_ticks() + after;
                sim.wake_at(revival);
                let due = |s: &Sim| s.is_finished() || s.now_ticks() >= revival;
                passes(sim.run_in_order_until(STEP_LIMIT, due), &label);
                sim.revive(crash.manager);
            }
        }
    }
    let operations = workload.iter().map(Vec::len).sum();
    let (report, managers) = finish(sim, STEP_LIMIT, operations, &label);
    let view = managers.iter().map(FtManager::view).max();
    Ending {
        deliveries: report.messages + report.dropped,
        view: view.expect("two managers"),
    }
}

/// Runs `workload` with a crash of each manager before every message of its
/// fault-free run, with and without revival.
fn crash_everywhere(workload: &[Vec<Operation>]) {
    let messages = run(workload, None).deliveries;
    let mut runs: u64 = 0;
    for delivery in 0..=messages {
        for manager in 0..2 {
            for (revive_after_ticks, loses_sent) in revivals_and_losses() {
                let crash = Crash {
                    delivery,
                    manager,
                    revive_after_ticks,
                    loses_sent,
                };
                let ending = run(workload, Some(crash));
                if manager == 0 && revive_after_ticks.is_none() && delivery < messages {
                    assert!(
                        ending.view > View(0),
                        "{crash:?}: the backup never took over"
                    );
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, (messages + 1) * 2 * 6);
}

/// No revival, one within half a heartbeat (before the other manager notices), and one
/// long after the failover (four failover timeouts), each with and without the loss.
fn revivals_and_losses() -> impl Iterator<Item = (Option<u64>, bool)> {
    let soon = heartbeat_interval() / 2;
    let late = 4 * failover_timeout();
    [None, Some(soon), Some(late)]
        .into_iter()
        .flat_map(|revive| [(revive, false), (revive, true)])
}

#[test]
fn a_crash_anywhere_in_a_read_fault_loses_nothing() {
    crash_everywhere(&[vec![], vec![Operation::read(0)], vec![]]);
}

#[test]
fn a_crash_anywhere_in_a_write_fault_with_a_copy_loses_nothing() {
    // Process 1 reads (a copy), then process 2 writes: invalidation and transfer.
    crash_everywhere(&[
        vec![],
        vec![Operation::read(0)],
        vec![Operation::read(0), Operation::write(0, 7)],
    ]);
}

#[test]
fn a_crash_anywhere_in_an_upgrade_loses_nothing() {
    crash_everywhere(&[
        vec![Operation::write(0, 3)],
        vec![Operation::read(0)],
        vec![],
    ]);
}

#[test]
fn a_crash_anywhere_in_racing_writes_loses_nothing() {
    crash_everywhere(&[
        vec![Operation::write(0, 1)],
        vec![Operation::write(0, 2)],
        vec![Operation::write(0, 3)],
    ]);
}

#[test]
fn the_fault_free_runs_use_the_messages_they_should() {
    // Request, replication and its acknowledgement, forward, page, confirmation,
    // replication of the confirmation and its acknowledgement.
    let ending = run(&[vec![], vec![Operation::read(0)], vec![]], None);
    assert_eq!(
        ending,
        Ending {
            deliveries: 8,
            view: View(0)
        }
    );
}

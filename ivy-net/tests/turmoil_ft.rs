//! Fault-tolerant clusters on turmoil's simulated network, with the faults a network
//! and its hosts bring: a manager's host crashing (its state gone) and restarting
//! blank to rejoin by snapshot, partitions between a manager and a process or between
//! the managers (short ones on purpose, down to a millisecond, and long ones past the
//! failover timeout), and random latency, all drawn from the seed. Each run must end
//! with every operation completed exactly once, every live manager's directory
//! coherent with the processes, and a linearizable history. `IVY_SEEDS=n` runs more;
//! `IVY_SEED=n` replays one, and a failure names its seed and its faults.

mod common;

use common::sim::{add_launcher, add_node, history, host, process_role, split, Gathered};
use ivy_core::check_linearizable;
use ivy_core::driver::{check_outcome, lost_state, LostState, PerformedKill};
use ivy_core::{
    DirectoryView, Incarnation, ManagerNode, NodeId, OperationMix, ProcessOptions, SystemConfig,
    Workload,
};
use ivy_ft::{FtManager, FtOptions};
use ivy_net::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const REQUESTS: u64 = 150;

/// When a run that has not finished is stopped and judged (simulated time).
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

/// How a run that passed ended.
enum Ending {
    /// Every operation completed.
    Completed,
    /// Both managers crashed, the second before the first had rejoined, leaving no
    /// manager with the state processes acted on; the run stopped, and what completed
    /// was linearizable.
    StateLost(LostState, Vec<Fault>),
}

/// One fault of a run, at a moment of simulated time.
#[derive(Clone, Debug)]
enum Fault {
    Crash {
        node: NodeId,
        at_ms: u64,
        back_at_ms: u64,
    },
    Partition {
        a: NodeId,
        b: NodeId,
        at_ms: u64,
        repaired_at_ms: u64,
    },
}

/// The faults of `seed`: one or two, crashes of either manager and partitions of any
/// pair that involves a manager, of every length from 1 ms to several failover
/// timeouts (30 ms), from 10 ms into the run (once the first connections and hellos,
/// a few round trips, are done) to its usual end (about 200 ms).
fn faults(seed: u64, system: &SystemConfig) -> Vec<Fault> {
    let mut rng = StdRng::seed_from_u64(seed);
    let managers = [system.manager(), system.backup_manager()];
    let count = rng.random_range(1..=2);
    (0..count)
        .map(|_| {
            let at_ms = rng.random_range(10..160);
            let length_ms = match rng.random_range(0..3) {
                0 => rng.random_range(1..5),    // shorter than a failover
                1 => rng.random_range(25..36),  // about the failover timeout
                _ => rng.random_range(60..150), // long past it
            };
            let node = managers[rng.random_range(0..2)];
            match rng.random_bool(0.5) {
                true => Fault::Crash {
                    node,
                    at_ms,
                    back_at_ms: at_ms + length_ms,
                },
                false => {
                    let others: Vec<NodeId> = (0..system.processes + 2)
                        .map(NodeId)
                        .filter(|&other| other != node)
                        .collect();
                    let other = others[rng.random_range(0..others.len())];
                    Fault::Partition {
                        a: node,
                        b: other,
                        at_ms,
                        repaired_at_ms: at_ms + length_ms,
                    }
                }
            }
        })
        .collect()
}

/// A manager's host: the first life starts with the initial state, every later one
/// blank with a larger incarnation.
fn manager_role(
    system: SystemConfig,
    id: NodeId,
    options: FtOptions,
) -> impl Fn() -> Role<FtManager> + 'static {
    let lives = Rc::new(Cell::new(0u64));
    move || {
        let life = lives.get();
        lives.set(life + 1);
        Role::Manager(match life {
            0 => FtManager::new(&system, id, options),
            _ => FtManager::restarted(&system, id, options, Incarnation(life)),
        })
    }
}

fn run_ft(seed: u64) -> Result<Ending, String> {
    common::logs();
    let system = SystemConfig::new(3, 8, 64).unwrap();
    let workload = Workload::generate(&system, REQUESTS, OperationMix::Mixed, seed);
    let faults = faults(seed, &system);
    let ft = FtOptions::with_timing(5, 30);
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .min_message_latency(Duration::from_micros(50))
        .max_message_latency(Duration::from_millis(2))
        .simulation_duration(Duration::from_secs(60))
        .build();
    let gathered = Gathered::<FtManager>::new();
    let options = ProcessOptions::replicated(&system, ft.process_retry_ticks());
    for id in system.process_ids() {
        let role = process_role(&system, &options, &workload, id);
        add_node(&mut sim, &gathered, system, 2, id, role);
    }
    for id in [system.manager(), system.backup_manager()] {
        add_node(
            &mut sim,
            &gathered,
            system,
            2,
            id,
            manager_role(system, id, ft),
        );
    }
    let (finals, reported) = add_launcher(
        &mut sim,
        gathered,
        3,
        vec![system.manager(), system.backup_manager()],
        GIVE_UP_AFTER,
    );
    let describe = |error: String| format!("{error}; faults {faults:?}");
    let mut pending = schedule(&faults);
    let mut crashes = Vec::new();
    loop {
        let now_ms = sim.elapsed().as_millis() as u64;
        while pending.first().is_some_and(|(at_ms, _)| *at_ms <= now_ms) {
            let (_, action) = pending.remove(0);
            if let Action::Crash(_) = action {
                let knew = Vec::new(); // the host is gone: the last crash is blamed
                crashes.push(PerformedKill {
                    request: now_ms,
                    knew,
                });
            }
            action.apply(&mut sim);
        }
        match sim.step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(error) => {
                let (history, done) = history(&reported.borrow());
                let progress = format!(
                    "{} operations completed, {done} processes done",
                    history.len()
                );
                return Err(describe(format!("simulation failed: {error} ({progress})")));
            }
        }
    }
    let (history, _) = history(&reported.borrow());
    let (processes, managers) = split(finals.take());
    if history.len() as u64 != REQUESTS {
        let completed = history.len();
        let stalled = format!("{completed} of {REQUESTS} operations completed");
        let managers: Vec<(FtManager, bool)> = managers.into_iter().map(|m| (m, false)).collect();
        let Some(lost) = lost_state(&processes, &managers, &crashes) else {
            return Err(describe(format!(
                "{stalled}, yet a live manager holds the state"
            )));
        };
        check_linearizable(&history).map_err(|violation| describe(violation.to_string()))?;
        return Ok(Ending::StateLost(lost, faults));
    }
    let states: Vec<&dyn DirectoryView> = managers.iter().filter_map(|m| m.state()).collect();
    check_outcome(&processes, states, &history)
        .map_err(|violation| describe(violation.to_string()))?;
    Ok(Ending::Completed)
}

/// A change to the simulated world.
enum Action {
    Crash(NodeId),
    Restart(NodeId),
    Partition(NodeId, NodeId),
    Repair(NodeId, NodeId),
}

impl Action {
    fn apply(&self, sim: &mut turmoil::Sim<'_>) {
        match *self {
            Action::Crash(node) => sim.crash(host(node).as_str()),
            Action::Restart(node) => sim.bounce(host(node).as_str()),
            Action::Partition(a, b) => sim.partition(host(a).as_str(), host(b).as_str()),
            Action::Repair(a, b) => sim.repair(host(a).as_str(), host(b).as_str()),
        }
    }
}

/// The faults as timed actions, in time order.
fn schedule(faults: &[Fault]) -> Vec<(u64, Action)> {
    let mut actions = Vec::new();
    for fault in faults {
        match *fault {
            Fault::Crash {
                node,
                at_ms,
                back_at_ms,
            } => {
                actions.push((at_ms, Action::Crash(node)));
                actions.push((back_at_ms, Action::Restart(node)));
            }
            Fault::Partition {
                a,
                b,
                at_ms,
                repaired_at_ms,
            } => {
                actions.push((at_ms, Action::Partition(a, b)));
                actions.push((repaired_at_ms, Action::Repair(a, b)));
            }
        }
    }
    actions.sort_by_key(|(at_ms, _)| *at_ms);
    actions
}

#[test]
fn fault_tolerant_clusters_survive_crashes_and_partitions() {
    let (mut completed, mut lost) = (0, 0);
    for seed in common::seeds(24) {
        match run_ft(seed) {
            Ok(Ending::Completed) => completed += 1,
            Ok(Ending::StateLost(state, faults)) => {
                lost += 1;
                let missing = state.missing;
                println!("seed {seed}: {missing} lost for good, history linearizable; {faults:?}");
            }
            Err(failure) => panic!("seed {seed}: {failure} (replay with IVY_SEED={seed})"),
        }
    }
    println!("{completed} runs completed, {lost} lost the state for good and stayed linearizable");
}

//! Whole clusters on turmoil's deterministic simulated network: each node on its own
//! host, running the real transport (TCP, hello, frames) and the real runner, with
//! seeded message latency; each run is checked for coherence (every process's table
//! against the manager's directory), exactly-once completion of every operation, and
//! linearizability. `IVY_SEEDS` runs more seeds; a failure names its seed.

mod common;

use common::sim::{add_launcher, add_node, history, process_role, split, Gathered};
use ivy_basic::CentralManager;
use ivy_core::driver::check_outcome;
use ivy_core::{DirectoryView, ManagerNode, OperationMix, ProcessOptions, SystemConfig, Workload};
use ivy_net::Role;
use std::time::Duration;

const REQUESTS: u64 = 60;

/// Runs a basic cluster (three processes, one central manager) for `seed`.
fn run_basic(seed: u64) -> Result<(), String> {
    let system = SystemConfig::new(3, 8, 64).unwrap();
    let workload = Workload::generate(&system, REQUESTS, OperationMix::Mixed, seed);
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .min_message_latency(Duration::from_micros(50))
        .max_message_latency(Duration::from_millis(3))
        .simulation_duration(Duration::from_secs(120))
        .build();
    let gathered = Gathered::<CentralManager>::new();
    let options = ProcessOptions::single_manager(&system);
    for id in system.process_ids() {
        let role = process_role(&system, &options, &workload, id);
        add_node(&mut sim, &gathered, system, 1, id, role);
    }
    let manager = move || Role::Manager(CentralManager::new(&system));
    add_node(&mut sim, &gathered, system, 1, system.manager(), manager);

    let (finals, reported) = add_launcher(
        &mut sim,
        gathered,
        3,
        vec![system.manager()],
        Duration::from_secs(30),
    );
    sim.run()
        .map_err(|error| format!("simulation failed: {error}"))?;

    let (history, _) = history(&reported.borrow());
    if history.len() as u64 != REQUESTS {
        return Err(format!(
            "{} of {REQUESTS} operations completed",
            history.len()
        ));
    }
    let (processes, managers) = split(finals.take());
    let states: Vec<&dyn DirectoryView> = managers.iter().filter_map(|m| m.state()).collect();
    check_outcome(&processes, states, &history).map_err(|violation| violation.to_string())
}

#[test]
fn basic_clusters_on_a_simulated_network_are_coherent_and_linearizable() {
    for seed in common::seeds(8) {
        if let Err(failure) = run_basic(seed) {
            panic!("seed {seed}: {failure} (replay with IVY_SEED={seed})");
        }
    }
}

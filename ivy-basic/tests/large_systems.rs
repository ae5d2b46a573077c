//! Coherence of a large system, whose page tables keep only the pages a process
//! touched: the final check skips pages that nobody touched and the manager never
//! changed, and must still catch a change on either side.

use ivy_basic::CentralManager;
use ivy_core::sim::{Simulation, SimulationOptions};
use ivy_core::{check_coherence, OperationMix, Process, ProcessOptions, SystemConfig, Workload};

/// A system of 3 processes and 10,000 pages (sparse tables), after 300 operations.
fn a_finished_run() -> (SystemConfig, Vec<Process>, CentralManager) {
    let config = SystemConfig::new(3, 10_000, 8).expect("a valid size");
    let workload = Workload::generate(&config, 300, OperationMix::Mixed, 7);
    let managers = vec![CentralManager::new(&config)];
    let simulation = Simulation::new(&config, managers, workload, SimulationOptions::seeded(7));
    let (report, mut managers) = simulation.run_with_managers().expect("coherent");
    assert!(report.processes.iter().all(|p| p.touched_pages().is_some()));
    (config, report.processes, managers.remove(0))
}

#[test]
fn a_finished_large_run_is_coherent() {
    let (_, processes, manager) = a_finished_run();
    assert_eq!(check_coherence(&processes, &manager), Ok(()));
}

#[test]
fn pages_the_processes_changed_are_checked_against_a_manager_that_never_saw_it() {
    let (config, processes, _) = a_finished_run();
    let fresh_manager = CentralManager::new(&config);
    assert!(check_coherence(&processes, &fresh_manager).is_err());
}

#[test]
fn pages_the_manager_changed_are_checked_against_processes_that_never_saw_it() {
    let (config, _, manager) = a_finished_run();
    let fresh = Process::all(&config, &ProcessOptions::single_manager(&config));
    assert!(check_coherence(&fresh, &manager).is_err());
}

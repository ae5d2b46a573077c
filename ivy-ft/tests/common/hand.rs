//! The simulator driven by hand (`ivy_core::sim::hand`) for the scenario tests of
//! the replicated managers: one process per list of a workload, two managers (index 0
//! the original primary) with the test timing, and failures that panic with what
//! the test was doing and the steps that led there.

use ivy_core::sim::{SimEvent, Simulation, SimulationError, SimulationOptions, SimulationReport};
use ivy_core::{NodeEvent, Operation, SystemConfig, Workload};
use ivy_ft::FtManager;

/// A hand-driven simulation of `workload` on `pages` pages, its processes started.
pub fn simulation(workload: &[Vec<Operation>], pages: u32) -> Simulation<FtManager> {
    let config = SystemConfig::new(workload.len() as u32, pages, 8).expect("a valid size");
    let ft = super::timing();
    let managers = vec![
        FtManager::new(&config, config.manager(), ft),
        FtManager::new(&config, config.backup_manager(), ft),
    ];
    let options = SimulationOptions {
        record_trace: true,
        retry_timeout_ticks: Some(ft.process_retry_ticks()),
        ..SimulationOptions::seeded(0)
    };
    let workload = Workload::from_lists(workload.to_vec());
    let simulation = Simulation::new(&config, managers, workload, options).by_hand();
    passes(simulation, "starting")
}

/// The value of `result`, or a panic naming `label`, the failure and the steps
/// before it.
pub fn passes<T>(result: Result<T, SimulationError>, label: &str) -> T {
    result.unwrap_or_else(|error| {
        let steps = error.steps_before.join("\n");
        panic!("{label}: {error}\nlast steps:\n{steps}")
    })
}

/// How often the nodes of `simulation` reported an event that `matches`.
pub fn count(simulation: &Simulation<FtManager>, matches: impl Fn(&NodeEvent) -> bool) -> usize {
    count_in(simulation.report(), matches)
}

/// How often the nodes reported an event that `matches`, in `report`.
pub fn count_in(report: &SimulationReport, matches: impl Fn(&NodeEvent) -> bool) -> usize {
    let events = report.events.iter();
    let node_events = events.filter_map(|(_, event)| match event {
        SimEvent::Node(event) => Some(event),
        _ => None,
    });
    node_events.filter(|&e| matches(e)).count()
}

/// Finishes `simulation` in order and checks it (see `Simulation::finish_in_order`),
/// and that the history holds each of the `operations` exactly once.
pub fn finish(
    simulation: Simulation<FtManager>,
    step_limit: u64,
    operations: usize,
    label: &str,
) -> (SimulationReport, Vec<FtManager>) {
    let (report, managers) = passes(simulation.finish_in_order(step_limit), label);
    let completed = report.history.len();
    assert_eq!(completed, operations, "{label}: every operation once");
    (report, managers)
}

//! Property tests: random operation sequences on random small systems, run in the
//! deterministic simulator. The simulator checks the coherence invariant after every
//! step, that every request completes, and that the history is linearizable per page;
//! these properties add what a whole run must show. On failure proptest shrinks to a
//! minimal workload and prints it with the simulator seed that replays it.
//! `PROPTEST_CASES=2000` runs more cases.

use ivy_basic::CentralManager;
use ivy_core::sim::{Simulation, SimulationOptions, SimulationReport};
use ivy_core::{Access, DirectoryView, Operation, OperationKind, PageId, SystemConfig, Workload};
use proptest::prelude::*;

/// A system size, per-process operation lists on it, and a delivery-order seed.
#[derive(Clone, Debug)]
struct Case {
    processes: u32,
    pages: u32,
    operations: Vec<Vec<Operation>>,
    seed: u64,
}

/// Operation `(is_write, page)` pairs become operations; writes get unique values.
fn build(processes: u32, pages: u32, drawn: Vec<Vec<(bool, u32)>>, seed: u64) -> Case {
    let mut next_value = 0;
    let operations = drawn
        .into_iter()
        .map(|list| {
            list.into_iter()
                .map(|(is_write, page)| {
                    let page = PageId(page % pages);
                    if is_write {
                        next_value += 1;
                        Operation::Write {
                            page,
                            value: next_value,
                        }
                    } else {
                        Operation::Read { page }
                    }
                })
                .collect()
        })
        .collect();
    Case {
        processes,
        pages,
        operations,
        seed,
    }
}

fn case(write_probability: f64) -> impl Strategy<Value = Case> {
    (1u32..=4, 1u32..=4).prop_flat_map(move |(processes, pages)| {
        let operation = (proptest::bool::weighted(write_probability), 0..pages);
        let list = proptest::collection::vec(operation, 0..=6);
        let lists = proptest::collection::vec(list, processes as usize);
        (lists, any::<u64>()).prop_map(move |(drawn, seed)| build(processes, pages, drawn, seed))
    })
}

fn simulate(case: &Case) -> (SimulationReport, CentralManager) {
    let config = SystemConfig::new(case.processes, case.pages, 8).expect("a valid size");
    let workload = Workload::from_lists(case.operations.clone());
    let simulation = Simulation::new(
        &config,
        vec![CentralManager::new(&config)],
        workload,
        SimulationOptions::seeded(case.seed),
    );
    match simulation.run_with_managers() {
        Ok((report, mut managers)) => (report, managers.remove(0)),
        Err(error) => panic!("{error}"),
    }
}

proptest! {
    #[test]
    fn every_run_completes_coherent_and_linearizable(case in case(0.5)) {
        let (report, _) = simulate(&case);
        let issued: usize = case.operations.iter().map(Vec::len).sum();
        prop_assert_eq!(report.history.len(), issued);
        let faults = issued as u64 - report.local_hits;
        // Every fault takes at least a request, a forward or grant, and a confirmation.
        prop_assert!(report.messages >= 3 * faults);
    }

    #[test]
    fn the_same_seed_replays_the_same_run(case in case(0.5)) {
        let (first, _) = simulate(&case);
        let (second, _) = simulate(&case);
        prop_assert_eq!(first.history, second.history);
        prop_assert_eq!(first.messages, second.messages);
    }

    #[test]
    fn reads_never_move_ownership(case in case(0.0)) {
        let (report, manager) = simulate(&case);
        let config = SystemConfig::new(case.processes, case.pages, 8).expect("a valid size");
        for page in config.page_ids() {
            let owner = config.initial_owner(page);
            prop_assert_eq!(manager.directory().record(page).owner, owner);
            let entry = report.processes[owner.index()].page(page).expect("the page exists");
            prop_assert!(entry.is_owner());
            prop_assert!(report.history.iter().all(|op| op.value == 0));
        }
    }

    #[test]
    fn after_writes_only_every_page_has_an_exclusive_owner(case in case(1.0)) {
        let (report, manager) = simulate(&case);
        for (index, record) in manager.directory().records().iter().enumerate() {
            prop_assert!(record.copy_set.is_empty());
            let owner = &report.processes[record.owner.index()];
            let entry = owner.page(PageId(index as u32)).expect("a page");
            prop_assert_eq!(entry.access(), Access::ReadWrite);
            // The owner holds the last value written to the page, or 0 if none was.
            let last_write = report
                .history
                .iter()
                .filter(|op| op.page.index() == index && op.op == OperationKind::Write)
                .max_by_key(|op| op.completed_at)
                .map_or(0, |op| op.value);
            prop_assert_eq!(entry.value(), Some(last_write));
        }
    }
}

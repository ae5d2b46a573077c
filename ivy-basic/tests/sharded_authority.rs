//! The coherence check against managers that each keep a share of the pages (the
//! fixed distributed manager's `Sharded` authority): each page is checked against the
//! directory of its share's manager, and only that one.

use ivy_basic::CentralManager;
use ivy_core::sim::{Simulation, SimulationOptions};
use ivy_core::{
    check_coherence, check_page_coherence, OperationMix, PageId, PageMapping, Process, Sharded,
    SystemConfig, Workload,
};

/// A finished run of 3 processes on 8 pages, checked against one manager, and a
/// manager of the same system that never saw it.
fn a_finished_run() -> (Vec<Process>, CentralManager, CentralManager) {
    let config = SystemConfig::new(3, 8, 8).expect("a valid size");
    let workload = Workload::generate(&config, 200, OperationMix::Mixed, 11);
    let managers = vec![CentralManager::new(&config)];
    let simulation = Simulation::new(&config, managers, workload, SimulationOptions::seeded(11));
    let (report, mut managers) = simulation.run_with_managers().expect("coherent");
    (
        report.processes,
        managers.remove(0),
        CentralManager::new(&config),
    )
}

/// The shares whose pages the run changed from their start, under `mapping` with two
/// managers.
fn changed_shares(
    processes: &[Process],
    fresh: &CentralManager,
    mapping: PageMapping,
) -> Vec<usize> {
    let shares: std::collections::BTreeSet<usize> = (0..8)
        .map(PageId)
        .filter(|&page| check_page_coherence(processes, fresh, page).is_err())
        .map(|page| mapping.share(page, 8, 2))
        .collect();
    shares.into_iter().collect()
}

#[test]
fn each_page_is_checked_against_its_own_share() {
    let (processes, seen, fresh) = a_finished_run();
    for mapping in [PageMapping::Modulo, PageMapping::Blocks] {
        // The manager that saw the run keeps both shares: coherent.
        let both = Sharded::new(vec![&seen, &seen], mapping);
        assert_eq!(check_coherence(&processes, &both), Ok(()));
        // The run changed pages of both shares, so a share kept by a manager that
        // never saw it is caught, whichever share it is.
        assert_eq!(changed_shares(&processes, &fresh, mapping), [0, 1]);
        let stale_second = Sharded::new(vec![&seen, &fresh], mapping);
        let stale_first = Sharded::new(vec![&fresh, &seen], mapping);
        for stale in [stale_second, stale_first] {
            assert!(check_coherence(&processes, &stale).is_err(), "{mapping:?}");
        }
    }
}

#[test]
fn a_page_is_not_checked_against_another_share() {
    // Every page of share 1 under Modulo is odd: a violation only on odd pages is
    // found against share 1's manager, not share 0's.
    let (processes, seen, fresh) = a_finished_run();
    let odd_pages_changed = (0..8)
        .map(PageId)
        .filter(|page| page.0 % 2 == 1)
        .any(|page| check_page_coherence(&processes, &fresh, page).is_err());
    assert!(odd_pages_changed, "the run changed an odd page");
    let even_from_seen = Sharded::new(vec![&seen, &fresh], PageMapping::Modulo);
    let failure = check_coherence(&processes, &even_from_seen).expect_err("share 1 is stale");
    let page = failure.to_string();
    let odd = (0..8)
        .filter(|p| p % 2 == 1)
        .any(|p| page.starts_with(&format!("page {p}:")));
    assert!(odd, "the violation is on an odd page: {page}");
}

//! Property tests of both owner-side algorithms: random systems, workloads and
//! delivery orders in the simulator (which checks coherence and the probable
//! owners after every step, and linearizability at the end). On failure proptest
//! shrinks the case and prints it with the seed that replays it.
//! `PROPTEST_CASES=2000` runs more cases.

mod common;

use common::{simulate, Which, ALL};
use ivy_core::sim::SimulationOptions;
use ivy_core::{MessageKind, OperationMix, SystemConfig, Workload};
use proptest::prelude::*;

/// A system's size, a workload's length and mix, and the seed of the workload and
/// of the delivery order.
fn any_run() -> impl Strategy<Value = (u32, u32, u64, OperationMix, u64)> {
    let mix = prop_oneof![
        Just(OperationMix::Read),
        Just(OperationMix::Write),
        Just(OperationMix::Mixed)
    ];
    (1u32..=6, 1u32..=5, 0u64..=60, mix, any::<u64>())
}

fn counted(
    which: Which,
    (processes, pages, requests, mix, seed): (u32, u32, u64, OperationMix, u64),
) -> (u64, u64, u64) {
    let config = SystemConfig::new(processes, pages, 8).expect("a valid size");
    let workload = Workload::generate(&config, requests, mix, seed);
    let issued = workload.len() as u64;
    let mut options = SimulationOptions::seeded(seed);
    options.record_trace = true;
    let report =
        simulate(which, &config, workload, options).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        report.history.len() as u64,
        issued,
        "every operation completed"
    );
    let count = |kind| {
        report
            .trace
            .iter()
            .filter(|record| record.kind == kind)
            .count() as u64
    };
    let faults = issued - report.local_hits;
    let pages_sent = count(MessageKind::ReadPage) + count(MessageKind::OwnerPage);
    let invalidations = count(MessageKind::Invalidate);
    assert_eq!(invalidations, count(MessageKind::InvalidateConfirmation));
    (faults, pages_sent, invalidations)
}

proptest! {
    /// Every fault is answered by exactly one page, a copy or the ownership (an
    /// owner's upgrade by none), and every invalidation is confirmed.
    #[test]
    fn every_fault_gets_one_answer_and_every_invalidation_a_confirmation(run in any_run()) {
        for which in ALL {
            let (faults, pages_sent, _) = counted(which, run);
            prop_assert!(pages_sent <= faults, "{which:?}: {pages_sent} pages for {faults} faults");
        }
    }

    /// A read-only workload moves no page and invalidates nothing.
    #[test]
    fn reads_alone_never_invalidate(run in any_run()) {
        let (processes, pages, requests, _, seed) = run;
        for which in ALL {
            let (faults, pages_sent, invalidations) =
                counted(which, (processes, pages, requests, OperationMix::Read, seed));
            prop_assert_eq!(invalidations, 0);
            prop_assert_eq!(pages_sent, faults, "{:?}: one copy per read fault", which);
        }
    }
}

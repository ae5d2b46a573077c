//! Property tests over fault schedules: proptest draws a small system, a workload, a
//! delivery-order seed, message loss and duplication rates, and a schedule of manager
//! crashes and pauses at chosen steps (any manager, any step, with no filter); the
//! simulator checks coherence after every step while a live manager holds the latest
//! state, and every run must complete every request exactly once, settle, and be
//! linearizable, or, when the crashes left no live manager holding what processes
//! acted on, stay linearizable and report the loss. A failure shrinks to a minimal
//! schedule and prints it.
//! `PROPTEST_CASES=2000` runs more cases.

use ivy_core::sim::{
    FaultOptions, ScriptedFault, Simulation, SimulationFailure, SimulationOptions,
};
use ivy_core::{OperationMix, SystemConfig, Workload};
use ivy_ft::{FtManager, FtOptions};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    processes: u32,
    pages: u32,
    requests: u64,
    mix: OperationMix,
    seed: u64,
    drop_per_mille: u32,
    duplicate_per_mille: u32,
    schedule: Vec<(u64, ScriptedFault)>,
}

fn scripted_fault() -> impl Strategy<Value = ScriptedFault> {
    prop_oneof![
        (0usize..2, prop_oneof![1u64..30, 1u64..3000])
            .prop_map(|(index, down_steps)| ScriptedFault::Crash { index, down_steps }),
        (0usize..2, prop_oneof![1u64..30, 1u64..3000])
            .prop_map(|(index, steps)| ScriptedFault::Pause { index, steps }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let mix = prop_oneof![
        Just(OperationMix::Read),
        Just(OperationMix::Write),
        Just(OperationMix::Mixed)
    ];
    let schedule = proptest::collection::vec((0u64..4000, scripted_fault()), 0..5);
    (
        (1u32..=4, 1u32..=3, 1u64..=25, mix),
        (any::<u64>(), 0u32..=50, 0u32..=50, schedule),
    )
        .prop_map(
            |((processes, pages, requests, mix), (seed, drop, duplicate, schedule))| Case {
                processes,
                pages,
                requests,
                mix,
                seed,
                drop_per_mille: drop,
                duplicate_per_mille: duplicate,
                schedule,
            },
        )
}

proptest! {
    #[test]
    fn every_fault_schedule_completes_coherent_and_linearizable(case in case()) {
        let config = SystemConfig::new(case.processes, case.pages, 8).expect("a valid size");
        let workload = Workload::generate(&config, case.requests, case.mix, case.seed);
        let faults = FaultOptions {
            tick_per_mille: 100,
            drop_per_mille: case.drop_per_mille,
            duplicate_per_mille: case.duplicate_per_mille,
            until_step: 4000,
            ..FaultOptions::none()
        };
        let options = SimulationOptions {
            retry_timeout_ticks: Some(FtOptions::default().process_retry_ticks()),
            faults,
            max_steps: 1_000_000,
            ..SimulationOptions::seeded(case.seed)
        };
        let managers = vec![
            FtManager::new(&config, config.manager(), FtOptions::default()),
            FtManager::new(&config, config.backup_manager(), FtOptions::default()),
        ];
        let simulation = Simulation::new(&config, managers, workload, options)
            .with_script(case.schedule.clone());
        match simulation.run() {
            Ok(report) => prop_assert_eq!(report.history.len() as u64, case.requests),
            Err(error) if matches!(*error.failure, SimulationFailure::StateLost { .. }) => {}
            Err(error) => prop_assert!(false, "{}", error),
        }
    }
}

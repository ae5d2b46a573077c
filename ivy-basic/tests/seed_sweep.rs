//! Seed sweep: many random runs of the basic protocol in the deterministic simulator.
//! Each seed draws a small configuration, a workload and a delivery order; the simulator
//! checks coherence after every step, that every request completes, and that the history
//! is linearizable. `IVY_SEEDS=10000` runs more seeds; `IVY_SEED=n` replays one.

use ivy_basic::CentralManager;
use ivy_core::sim::{Simulation, SimulationOptions};
use ivy_core::{OperationMix, SystemConfig, Workload};
use rand::{Rng, SeedableRng};

fn run_seed(seed: u64) -> Result<ivy_core::sim::SimulationReport, ivy_core::sim::SimulationError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x1f2e_3d4c);
    let config = SystemConfig::new(rng.random_range(1..=6), rng.random_range(1..=6), 8).unwrap();
    let mix =
        [OperationMix::Read, OperationMix::Write, OperationMix::Mixed][rng.random_range(0..3)];
    let requests = rng.random_range(1..=60);
    let workload = Workload::generate(&config, requests, mix, seed);
    let manager = CentralManager::new(&config);
    Simulation::new(
        &config,
        vec![manager],
        workload,
        SimulationOptions::seeded(seed),
    )
    .run()
}

#[test]
fn seed_sweep_keeps_memory_coherent() {
    for seed in ivy_core::sim::seeds_to_run(2000) {
        match run_seed(seed) {
            Err(error) => panic!("{error}"),
            // Nothing in the basic system waits for time: no node is ever woken by it.
            Ok(report) => assert_eq!(
                (report.timer_firings, report.time_jumps),
                (0, 0),
                "seed {seed}"
            ),
        }
    }
}

//! Seed sweep: many random runs of each owner-side algorithm in the deterministic
//! simulator, which checks after every step coherence against the owners' records
//! and that the probable owners lead to an owner, then that every request
//! completed and the history is linearizable. Each seed draws a small system, a
//! workload and a delivery order (any message in flight may arrive next).
//! `IVY_SEEDS=10000` runs more seeds; `IVY_SEED=n` replays one (of each algorithm).

mod common;

use common::{seeds, simulate, Which, ALL};
use ivy_core::sim::{SimulationError, SimulationOptions, SimulationReport};
use ivy_core::{OperationMix, SystemConfig, Workload};
use ivy_dist::OwnerProcess;
use rand::{Rng, SeedableRng};

fn run_seed(which: Which, seed: u64) -> Result<SimulationReport<OwnerProcess>, SimulationError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x0dd_ba11);
    let config = SystemConfig::new(rng.random_range(1..=7), rng.random_range(1..=6), 8).unwrap();
    let mix =
        [OperationMix::Read, OperationMix::Write, OperationMix::Mixed][rng.random_range(0..3)];
    let requests = rng.random_range(1..=80);
    let workload = Workload::generate(&config, requests, mix, seed);
    simulate(which, &config, workload, SimulationOptions::seeded(seed))
}

#[test]
fn seed_sweep_keeps_memory_coherent() {
    for which in ALL {
        let mut messages = 0;
        for seed in seeds(2000) {
            // A broken state machine may panic in a handler: name the seed first.
            let run = std::panic::catch_unwind(|| run_seed(which, seed));
            let run = run.unwrap_or_else(|panic| {
                eprintln!("{which:?}: seed {seed} panicked (replay with IVY_SEED={seed})");
                std::panic::resume_unwind(panic)
            });
            match run {
                Ok(report) => messages += report.messages,
                Err(error) => panic!("{which:?}: {error}"),
            }
        }
        assert!(messages > 0, "{which:?}: the sweep's faults sent messages");
    }
}

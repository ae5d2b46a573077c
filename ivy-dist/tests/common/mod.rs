//! What the owner-side algorithms' tests share: building a system of either
//! algorithm and running a workload on it in the simulator.

#![allow(dead_code)] // each test binary uses part of it

use ivy_core::sim::{Simulation, SimulationError, SimulationOptions, SimulationReport};
use ivy_core::{NoManager, SystemConfig, Workload};
use ivy_dist::{Algorithm, ImprovedManager, OwnerProcess};

/// The two algorithms, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Improved,
    Dynamic,
}

pub const BOTH: [Which; 2] = [Which::Improved, Which::Dynamic];

/// Runs `workload` on a system of `config` following `which`, checked after every
/// step (coherence at the owners, the probable owners) and at the end
/// (linearizability).
pub fn simulate(
    which: Which,
    config: &SystemConfig,
    workload: Workload,
    options: SimulationOptions,
) -> Result<SimulationReport<OwnerProcess>, SimulationError> {
    match which {
        Which::Improved => {
            let algorithm = Algorithm::ImprovedCentral {
                manager: config.manager(),
            };
            let processes = OwnerProcess::all(config, algorithm);
            let managers = vec![ImprovedManager::new(config)];
            Simulation::with_processes(config, processes, managers, workload, options).run()
        }
        Which::Dynamic => {
            let processes = OwnerProcess::all(config, Algorithm::Dynamic);
            Simulation::<NoManager, _>::with_processes(
                config,
                processes,
                Vec::new(),
                workload,
                options,
            )
            .run()
        }
    }
}

/// The seeds a sweep runs: `IVY_SEEDS` of them, or `default`.
pub fn seeds(default: u64) -> u64 {
    std::env::var("IVY_SEEDS")
        .ok()
        .map(|seeds| seeds.parse().expect("IVY_SEEDS is a number"))
        .unwrap_or(default)
}

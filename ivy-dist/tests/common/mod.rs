//! What the owner-side algorithms' tests share: building a system of either
//! algorithm and running a workload on it in the simulator.

#![allow(dead_code)] // each test binary uses part of it

use ivy_core::sim::{Simulation, SimulationError, SimulationOptions, SimulationReport};
use ivy_core::{
    Envelope, MessageKind, NoManager, Node, Operation, Outbox, PageId, ProcessNode, SystemConfig,
    Workload,
};
use ivy_dist::{Algorithm, ImprovedManager, OwnerProcess};
use std::collections::VecDeque;

/// The owner-side algorithms, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Improved,
    Dynamic,
    DynamicCopyTree,
    /// Dynamic, the owner telling every process it owns a page every 2 faults.
    DynamicOwnerBroadcast,
    Broadcast,
}

pub const ALL: [Which; 5] = [
    Which::Improved,
    Which::Dynamic,
    Which::DynamicCopyTree,
    Which::DynamicOwnerBroadcast,
    Which::Broadcast,
];

/// The processes of `which` on a system of `config`.
pub fn processes(which: Which, config: &SystemConfig) -> Vec<OwnerProcess> {
    let algorithm = match which {
        Which::Improved => Algorithm::ImprovedCentral {
            manager: config.manager(),
        },
        Which::Dynamic | Which::DynamicOwnerBroadcast => Algorithm::Dynamic,
        Which::DynamicCopyTree => Algorithm::DynamicCopyTree,
        Which::Broadcast => Algorithm::Broadcast,
    };
    let processes = OwnerProcess::all(config, algorithm).into_iter();
    match which {
        Which::DynamicOwnerBroadcast => processes
            .map(|p| p.broadcasting_ownership_every(2))
            .collect(),
        _ => processes.collect(),
    }
}

/// Runs `workload` on a system of `config` following `which`, checked after every
/// step (coherence at the owners, the probable owners) and at the end
/// (linearizability).
pub fn simulate(
    which: Which,
    config: &SystemConfig,
    workload: Workload,
    options: SimulationOptions,
) -> Result<SimulationReport<OwnerProcess>, SimulationError> {
    let processes = processes(which, config);
    match which {
        Which::Improved => {
            let managers = vec![ImprovedManager::new(config)];
            Simulation::with_processes(config, processes, managers, workload, options).run()
        }
        _ => Simulation::<NoManager, _>::with_processes(
            config,
            processes,
            Vec::new(),
            workload,
            options,
        )
        .run(),
    }
}

/// The seeds a sweep runs (`IVY_SEED`, `IVY_SEEDS`, or `default` of them).
pub fn seeds(default: u64) -> std::ops::Range<u64> {
    ivy_core::sim::seeds_to_run(default)
}

/// A system run by hand: processes, and the improved manager if there is one.
pub struct System {
    pub processes: Vec<OwnerProcess>,
    pub manager: Option<ImprovedManager>,
}

impl System {
    pub fn new(config: &SystemConfig, which: Which) -> System {
        System {
            processes: processes(which, config),
            manager: (which == Which::Improved).then(|| ImprovedManager::new(config)),
        }
    }

    /// Runs `operation` on `process` until nothing is in flight (oldest message
    /// first) and returns what crossed the network, as `(kind, from, to)`.
    pub fn run_alone(
        &mut self,
        process: u32,
        operation: Operation,
    ) -> Vec<(MessageKind, u32, u32)> {
        let mut out = Outbox::new();
        let node = &mut self.processes[process as usize];
        node.start(operation, 0, &mut out).expect("idle");
        let mut queue: VecDeque<Envelope> = out.messages.drain(..).collect();
        let mut sent = Vec::new();
        while let Some(envelope) = queue.pop_front() {
            sent.push((envelope.message.kind(), envelope.from.0, envelope.to.0));
            match self.processes.get_mut(envelope.to.index()) {
                Some(node) => node.handle_message(envelope, 0, &mut out),
                None => self
                    .manager
                    .as_mut()
                    .expect("a manager")
                    .handle_message(envelope, 0, &mut out),
            }
            queue.extend(out.messages.drain(..));
        }
        assert!(
            self.processes[process as usize].is_idle(),
            "{operation:?} completed"
        );
        sent
    }

    pub fn hints(&self, page: u32) -> Vec<u32> {
        let hint = |process: &OwnerProcess| process.prob_owner(PageId(page)).0;
        self.processes.iter().map(hint).collect()
    }
}

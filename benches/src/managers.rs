//! Li & Hudak's manager algorithms side by side: each one's messages and
//! forwardings per fault, counted in the deterministic simulator (the same runs
//! checked as every simulated run is), and its time on the actor runtime, for the
//! same workloads: uniform over the pages, or hot (most operations on few pages).

use ivy_basic::{CentralManager, FixedNode};
use ivy_cli::runtime::{self, RuntimeOptions};
use ivy_core::sim::{Simulation, SimulationOptions};
use ivy_core::{
    MessageKind, NoManager, OperationMix, PageMapping, Process, ProcessNode, ProcessOptions,
    SystemConfig, TraceRecord, Workload,
};
use ivy_dist::{Algorithm, ImprovedManager, OwnerProcess};
use std::time::Duration;

/// A manager algorithm, as `ivy basic --manager` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    /// One central manager (section 3.1).
    Central,
    /// The improved central manager: owners keep the copy sets.
    Improved,
    /// A manager per share of the pages (`p mod N`), on each process's node.
    Fixed,
    /// No manager: a fault goes to every process.
    Broadcast,
    /// No manager: faults follow probable owners.
    Dynamic,
    /// Dynamic, with distributed copy sets.
    DynamicCopyTree,
}

impl Manager {
    /// Every algorithm, in the order the report lists them.
    pub const ALL: [Manager; 6] = [
        Manager::Central,
        Manager::Improved,
        Manager::Fixed,
        Manager::Broadcast,
        Manager::Dynamic,
        Manager::DynamicCopyTree,
    ];

    /// The name in benchmark ids and the report.
    pub fn name(self) -> &'static str {
        match self {
            Manager::Central => "central",
            Manager::Improved => "improved",
            Manager::Fixed => "fixed",
            Manager::Broadcast => "broadcast",
            Manager::Dynamic => "dynamic",
            Manager::DynamicCopyTree => "dynamic, copy tree",
        }
    }
}

/// A workload shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Every page equally likely.
    Uniform,
    /// 90% of the operations on 4 pages.
    Hot,
}

impl Shape {
    /// The name in benchmark ids and the report.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Uniform => "uniform",
            Shape::Hot => "hot",
        }
    }

    /// `requests` mixed operations on a system of `config`.
    pub fn workload(self, config: &SystemConfig, requests: u64) -> Workload {
        let mix = OperationMix::Mixed;
        match self {
            Shape::Uniform => Workload::generate(config, requests, mix, 1),
            Shape::Hot => Workload::generate_hot(config, requests, mix, 1, 4, 900),
        }
    }
}

/// What one simulated run counted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Operations that faulted.
    pub faults: u64,
    /// Messages between nodes.
    pub messages: u64,
    /// Messages that passed a request on (a manager's forward, a hop along a
    /// probable owner) rather than starting it.
    pub forwardings: u64,
}

impl Counts {
    /// Messages per fault.
    pub fn messages_per_fault(&self) -> f64 {
        self.messages as f64 / self.faults.max(1) as f64
    }

    /// Forwardings per fault.
    pub fn forwardings_per_fault(&self) -> f64 {
        self.forwardings as f64 / self.faults.max(1) as f64
    }
}

/// Runs `workload` with `manager` in the simulator (checked after every step) and
/// counts its messages and forwardings per fault.
pub fn count(manager: Manager, config: &SystemConfig, workload: Workload) -> Counts {
    match manager {
        Manager::Central => {
            let processes = Process::all(config, &ProcessOptions::single_manager(config));
            let managers = vec![CentralManager::new(config)];
            simulated(manager, config, processes, managers, workload)
        }
        Manager::Fixed => {
            let nodes = FixedNode::all(config, PageMapping::Modulo);
            simulated::<NoManager, _>(manager, config, nodes, Vec::new(), workload)
        }
        Manager::Improved => {
            let processes = OwnerProcess::all(config, owner_side(manager, config));
            let managers = vec![ImprovedManager::new(config)];
            simulated(manager, config, processes, managers, workload)
        }
        _ => {
            let processes = OwnerProcess::all(config, owner_side(manager, config));
            simulated::<NoManager, _>(manager, config, processes, Vec::new(), workload)
        }
    }
}

fn simulated<M: ivy_core::ManagerNode, P: ProcessNode>(
    manager: Manager,
    config: &SystemConfig,
    processes: Vec<P>,
    managers: Vec<M>,
    workload: Workload,
) -> Counts {
    let mut options = SimulationOptions::seeded(1);
    options.record_trace = true;
    let simulation = Simulation::with_processes(config, processes, managers, workload, options);
    let report = simulation
        .run()
        .unwrap_or_else(|error| panic!("{}: {error}", manager.name()));
    Counts {
        faults: report.history.len() as u64 - report.local_hits,
        messages: report.messages,
        forwardings: forwardings(&report.trace),
    }
}

/// The owner-side algorithm of `manager`.
fn owner_side(manager: Manager, config: &SystemConfig) -> Algorithm {
    match manager {
        Manager::Improved => Algorithm::ImprovedCentral {
            manager: config.manager(),
        },
        Manager::Broadcast => Algorithm::Broadcast,
        Manager::Dynamic => Algorithm::Dynamic,
        Manager::DynamicCopyTree => Algorithm::DynamicCopyTree,
        Manager::Central | Manager::Fixed => unreachable!("not an owner-side algorithm"),
    }
}

/// The messages of a trace that pass a request on: a central manager's forwards,
/// and requests sent by another node than their requester.
fn forwardings(trace: &[TraceRecord]) -> u64 {
    let passes_on = |record: &&TraceRecord| match record.kind {
        MessageKind::ReadForward | MessageKind::WriteForward => true,
        MessageKind::ReadRequest | MessageKind::WriteRequest => {
            record.requester != Some(record.from)
        }
        _ => false,
    };
    trace.iter().filter(passes_on).count() as u64
}

/// Runs `workload` with `manager` on the actor runtime (a worker per core, nothing
/// recorded) and returns the time from the start to the last completion.
pub fn time_on_runtime(manager: Manager, config: &SystemConfig, workload: Workload) -> Duration {
    let options = RuntimeOptions {
        threads: crate::default_workers(),
        ..crate::unrecorded_options()
    };
    let elapsed = match manager {
        Manager::Central => {
            let processes = Process::all(config, &ProcessOptions::single_manager(config));
            let managers = vec![CentralManager::new(config)];
            runtime::run(processes, managers, workload, options).map(|outcome| outcome.elapsed)
        }
        Manager::Fixed => {
            let nodes = FixedNode::all(config, PageMapping::Modulo);
            runtime::run::<NoManager, _>(nodes, Vec::new(), workload, options).map(|o| o.elapsed)
        }
        Manager::Improved => {
            let processes = OwnerProcess::all(config, owner_side(manager, config));
            let managers = vec![ImprovedManager::new(config)];
            runtime::run(processes, managers, workload, options).map(|outcome| outcome.elapsed)
        }
        _ => {
            let processes = OwnerProcess::all(config, owner_side(manager, config));
            runtime::run::<NoManager, _>(processes, Vec::new(), workload, options)
                .map(|o| o.elapsed)
        }
    };
    elapsed.unwrap_or_else(|error| panic!("{}: {error}", manager.name()))
}

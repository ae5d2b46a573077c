//! Criterion benchmarks of Ivy DSM; the suites live in `benches/`, and this library
//! holds what they share: building systems and running them on the threaded runtime.
//! `bench-report` turns criterion's results into the tables of `BENCHMARKS.md`.

pub mod managers;

use ivy_basic::CentralManager;
use ivy_cli::runtime::{self, FaultAction, RunOutcome, RuntimeOptions};
use ivy_core::ManagerNode;
use ivy_core::{OperationMix, Process, ProcessOptions, SystemConfig, Workload};
use ivy_ft::{FtManager, FtOptions};
use std::collections::BTreeMap;
use std::time::Duration;

/// Which system a benchmark runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// One central manager.
    Basic,
    /// A primary and a backup manager.
    Ft,
}

impl System {
    /// The name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            System::Basic => "basic",
            System::Ft => "ft",
        }
    }
}

/// A run's size and workload.
#[derive(Clone, Debug)]
pub struct Run {
    /// Processes.
    pub processes: u32,
    /// Pages.
    pub pages: u32,
    /// Operations.
    pub requests: u64,
    /// Which operations.
    pub mix: OperationMix,
    /// Fault-tolerance timing (ignored by the basic system).
    pub ft: FtOptions,
    /// Kills and revivals by request number (fault-tolerant system only).
    pub faults: BTreeMap<u64, Vec<FaultAction>>,
    /// Worker threads for the actor runtime; `None`: one thread per node. By default
    /// the CLI's default: a worker per core.
    pub threads: Option<usize>,
}

/// The default mode's worker count: one per core (the runtime starts no more workers
/// than nodes).
pub fn default_workers() -> Option<usize> {
    Some(std::thread::available_parallelism().map_or(1, |cores| cores.get()))
}

impl Run {
    /// `requests` operations of `mix` on `processes` processes and `pages` pages.
    pub fn new(processes: u32, pages: u32, requests: u64, mix: OperationMix) -> Run {
        Run {
            processes,
            pages,
            requests,
            mix,
            ft: FtOptions::default(),
            faults: BTreeMap::new(),
            threads: default_workers(),
        }
    }

    /// Runs on the threaded runtime; returns the time from start to the last
    /// completion, and the failover times of any kills.
    pub fn execute(&self, system: System) -> (Duration, Vec<Option<Duration>>) {
        let config = SystemConfig::new(self.processes, self.pages, 4096).expect("a valid size");
        let workload = Workload::generate(&config, self.requests, self.mix, 1);
        let mut options = RuntimeOptions {
            threads: self.threads,
            ..unrecorded_options()
        };
        match system {
            System::Basic => {
                let processes = Process::all(&config, &ProcessOptions::single_manager(&config));
                let manager = CentralManager::new(&config);
                summarize(runtime::run(processes, vec![manager], workload, options))
            }
            System::Ft => {
                options.faults = self.faults.clone();
                let retry = self.ft.process_retry_ticks();
                let processes = Process::all(&config, &ProcessOptions::replicated(&config, retry));
                let managers = vec![
                    FtManager::new(&config, config.manager(), self.ft),
                    FtManager::new(&config, config.backup_manager(), self.ft),
                ];
                summarize(runtime::run(processes, managers, workload, options))
            }
        }
    }
}

/// Runtime options for measuring: nothing recorded, no time, no faults.
pub fn unrecorded_options() -> RuntimeOptions {
    RuntimeOptions {
        record_trace: false,
        record_heartbeats: false,
        record_history: false,
        deadline: Duration::from_secs(300),
        faults: BTreeMap::new(),
        settle_timeout: Duration::from_secs(10),
        threads: None,
        progress: None,
        inputs_per_turn: runtime::DEFAULT_INPUTS_PER_TURN,
    }
}

fn summarize<M: ManagerNode>(
    outcome: Result<RunOutcome<M>, runtime::RuntimeError>,
) -> (Duration, Vec<Option<Duration>>) {
    let outcome = outcome.expect("a benchmark run completes");
    (outcome.elapsed, outcome.failovers)
}

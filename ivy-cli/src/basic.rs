//! `ivy basic`: one central manager and its processes on the threaded runtime.

use crate::args::RunArgs;
use crate::error::CliError;
use crate::readout::Table;
use crate::run::{prepare, runtime_options, Ending};
use crate::runtime;
use ivy_basic::CentralManager;
use ivy_core::{DirectoryView, Process, ProcessOptions, SystemConfig};
use std::io::Write;

/// Runs the basic system as `args` asks and prints its output to `out`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args, 1)?;
    let config = prepared.config;
    let (processes, manager) = initial_system(&config);
    let table = std::iter::once_with(|| Table::manager("cm", manager.directory()));
    prepared.write_initial(out, table, &processes)?;
    let outcome = runtime::run(processes, vec![manager], workload, runtime_options(args))
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let manager = &outcome.managers[0].0;
    let ending = Ending {
        outcome: &outcome,
        live_managers: vec![manager],
        manager_tables: Box::new(std::iter::once_with(|| {
            Table::manager("cm", manager.directory())
        })),
        report_slowest: false,
    };
    prepared.conclude(out, ending)
}

/// The basic system at its start: every process, and the central manager.
pub(crate) fn initial_system(config: &SystemConfig) -> (Vec<Process>, CentralManager) {
    let processes = Process::all(config, &ProcessOptions::single_manager(config));
    (processes, CentralManager::new(config))
}

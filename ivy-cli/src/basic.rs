//! `ivy basic`: one central manager, one thread per node.

use crate::args::RunArgs;
use crate::error::CliError;
use crate::output::{write_history, write_trace, Summary};
use crate::readout::write_readout;
use crate::runtime::{self, RuntimeOptions};
use ivy_basic::CentralManager;
use ivy_core::{
    check_coherence, check_linearizable, OperationKind, Process, ProcessOptions, SystemConfig,
    Workload,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

/// The most operations one run may draw (they are generated up front).
pub const MAX_REQUESTS: u64 = 100_000_000;

/// Runs the basic system as `args` asks and prints its output to `out`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let config = args.system_config().map_err(CliError::Usage)?;
    if args.requests > MAX_REQUESTS {
        return Err(CliError::Usage(format!(
            "--requests must be at most {MAX_REQUESTS}, not {}",
            args.requests
        )));
    }
    let history_file = open_history(args)?;
    let workload = Workload::generate(&config, args.requests, args.ops.into(), args.seed);
    let summary_counts = (
        workload.len(),
        workload.count(OperationKind::Read),
        workload.count(OperationKind::Write),
    );
    let processes = initial_processes(&config);
    let manager = CentralManager::new(&config);
    if !args.quiet {
        write_readout(
            out,
            &[("cm:".to_string(), manager.serializer().directory())],
            &processes,
        )?;
    }
    let options = RuntimeOptions {
        record_trace: args.wants_trace(),
        record_history: true,
        deadline: deadline_for(args.requests),
    };
    let outcome = runtime::run(processes, vec![manager], workload, options)
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let manager = &outcome.managers[0];
    check_coherence(&outcome.processes, manager).map_err(|violation| {
        CliError::Failed(format!("final state is not coherent: {violation}"))
    })?;
    check_linearizable(&outcome.history).map_err(|violation| {
        CliError::Failed(format!("history is not linearizable: {violation}"))
    })?;
    if !args.quiet {
        write_trace(out, args.trace, &outcome.trace, config.processes, 1)?;
        write_readout(
            out,
            &[("cm:".to_string(), manager.serializer().directory())],
            &outcome.processes,
        )?;
    }
    if let Some((path, file)) = history_file {
        let mut writer = BufWriter::new(file);
        write_history(&mut writer, &outcome.history)
            .and_then(|()| writer.flush())
            .map_err(|error| {
                CliError::Failed(format!("cannot write history file {}: {error}", path))
            })?;
    }
    let (requests, reads, writes) = summary_counts;
    let summary = Summary {
        requests,
        reads,
        writes,
        local_hits: outcome.local_hits,
        messages: outcome.messages,
        elapsed: outcome.elapsed,
    };
    writeln!(out, "{}", summary.line())?;
    Ok(())
}

/// Opens the history file before the run, so a bad path fails fast.
fn open_history(args: &RunArgs) -> Result<Option<(String, File)>, CliError> {
    let Some(path) = &args.history else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    File::create(path)
        .map(|file| Some((shown.clone(), file)))
        .map_err(|error| CliError::Usage(format!("cannot write history file {shown}: {error}")))
}

/// Every process in its initial state, talking to the single manager.
pub fn initial_processes(config: &SystemConfig) -> Vec<Process> {
    let options = ProcessOptions::single_manager(config);
    config
        .process_ids()
        .map(|id| Process::new(id, config, options.clone()))
        .collect()
}

/// How long a run may take before it is declared stalled: generous, so that only a
/// protocol bug (a lost or never-served fault) reaches it.
fn deadline_for(requests: u64) -> Duration {
    Duration::from_secs(60) + Duration::from_micros(200) * requests.min(u32::MAX as u64) as u32
}

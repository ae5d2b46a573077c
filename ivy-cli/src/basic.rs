//! `ivy basic`: one central manager, one thread per node; and what every run shares:
//! preparing the workload, checking the outcome, writing the history and the summary.

use crate::args::RunArgs;
use crate::error::CliError;
use crate::output::{write_history, write_trace, Summary};
use crate::readout::write_readout;
use crate::runtime::{self, RunOutcome, RuntimeOptions};
use ivy_basic::CentralManager;
use ivy_core::{
    check_coherence, check_linearizable, DirectoryView, OperationKind, Process, ProcessOptions,
    SystemConfig, Workload,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

/// The most operations one run may draw (they are generated up front).
pub const MAX_REQUESTS: u64 = 100_000_000;

/// A validated run, ready to start.
pub struct Prepared {
    /// The system's size.
    pub config: SystemConfig,
    /// The history file, opened before the run so that a bad path fails fast.
    history_file: Option<(String, File)>,
    counts: (usize, usize, usize),
}

/// Validates `args`, draws the workload and opens the history file.
pub fn prepare(args: &RunArgs) -> Result<(Prepared, Workload), CliError> {
    let config = args.system_config().map_err(CliError::Usage)?;
    if args.requests > MAX_REQUESTS {
        return Err(CliError::Usage(format!(
            "--requests must be at most {MAX_REQUESTS}, not {}",
            args.requests
        )));
    }
    let history_file = open_history(args)?;
    let workload = Workload::generate(&config, args.requests, args.ops.into(), args.seed);
    let counts = (
        workload.len(),
        workload.count(OperationKind::Read),
        workload.count(OperationKind::Write),
    );
    let prepared = Prepared {
        config,
        history_file,
        counts,
    };
    Ok((prepared, workload))
}

/// The runtime options every system starts from: trace and history as asked, no time.
pub fn runtime_options(args: &RunArgs) -> RuntimeOptions {
    RuntimeOptions {
        record_trace: args.wants_trace(),
        record_heartbeats: false,
        record_history: true,
        deadline: deadline_for(args.requests),
        tick: None,
        faults: BTreeMap::new(),
        settle_timeout: Duration::from_secs(10),
        threads: (args.threads > 0).then_some(args.threads),
    }
}

/// Runs the basic system as `args` asks and prints its output to `out`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args)?;
    let config = prepared.config;
    let processes = initial_processes(&config, ProcessOptions::single_manager(&config));
    let manager = CentralManager::new(&config);
    if !args.quiet {
        let title = "cm:".to_string();
        write_readout(out, &[(title, manager.directory())], &processes)?;
    }
    let outcome = runtime::run(processes, vec![manager], workload, runtime_options(args))
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let manager = &outcome.managers[0].0;
    check_outcome(&outcome, &[manager])?;
    if !args.quiet {
        write_trace(out, args.trace, &outcome.trace, config.processes, 1)?;
        let title = "cm:".to_string();
        write_readout(out, &[(title, manager.directory())], &outcome.processes)?;
    }
    finish(out, prepared, &outcome, false)
}

/// The longest time any operation took.
fn slowest_operation(history: &[ivy_core::HistoryEntry]) -> Duration {
    let longest_ns = history
        .iter()
        .map(|entry| entry.completed_at - entry.invoked_at)
        .max();
    Duration::from_nanos(longest_ns.unwrap_or(0))
}

/// Checks the end of a run: every live manager with state agrees with the processes,
/// and the history is linearizable.
pub fn check_outcome<M>(
    outcome: &RunOutcome<M>,
    managers: &[&dyn DirectoryView],
) -> Result<(), CliError> {
    for manager in managers {
        check_coherence(&outcome.processes, *manager).map_err(|violation| {
            CliError::Failed(format!("final state is not coherent: {violation}"))
        })?;
    }
    check_linearizable(&outcome.history)
        .map_err(|violation| CliError::Failed(format!("history is not linearizable: {violation}")))
}

/// Writes the history file, if asked for, and the summary line.
pub fn finish<M>(
    out: &mut dyn Write,
    prepared: Prepared,
    outcome: &RunOutcome<M>,
    report_slowest: bool,
) -> Result<(), CliError> {
    if let Some((path, file)) = prepared.history_file {
        let mut writer = BufWriter::new(file);
        write_history(&mut writer, &outcome.history)
            .and_then(|()| writer.flush())
            .map_err(|error| {
                CliError::Failed(format!("cannot write history file {path}: {error}"))
            })?;
    }
    let (requests, reads, writes) = prepared.counts;
    let summary = Summary {
        requests,
        reads,
        writes,
        local_hits: outcome.local_hits,
        messages: outcome.messages,
        elapsed: outcome.elapsed,
        failovers: outcome.failovers.clone(),
        slowest: report_slowest.then(|| slowest_operation(&outcome.history)),
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

/// Every process in its initial state.
pub fn initial_processes(config: &SystemConfig, options: ProcessOptions) -> Vec<Process> {
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

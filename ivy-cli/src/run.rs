//! What every run of the CLI shares, whatever system it drives: preparing the
//! workload and the history file, the runtime options, and the end of a run (the
//! history file first, then the checks, then the trace, the final readout and the
//! summary), so that a failed output never costs the history or the verdict.

use crate::args::{RunArgs, TraceFormat};
use crate::budget;
use crate::error::CliError;
use crate::history_file::HistoryFile;
use crate::output::{write_summary, write_trace, Summary};
use crate::progress;
use crate::readout::{write_readout, Table};
use crate::runtime::{self, RunOutcome, RuntimeOptions};
use ivy_core::driver;
use ivy_core::{
    DirectoryView, HistoryEntry, OperationKind, ProcessNode, ProcessView, SystemConfig, Workload,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// The most operations one run may draw (they are generated up front).
pub const MAX_REQUESTS: u64 = 100_000_000;

/// A validated run, ready to start.
pub struct Prepared {
    /// The system's size.
    pub config: SystemConfig,
    /// The history file, created before the run so that a bad path fails fast.
    history_file: Option<HistoryFile>,
    counts: (usize, usize, usize),
    format: TraceFormat,
    quiet: bool,
}

/// How a finished run ends: what to check and what to print.
pub struct Ending<'a, M, P> {
    /// The finished run.
    pub outcome: &'a RunOutcome<M, P>,
    /// The live managers with state, each of which must agree with the processes
    /// (unless the processes' algorithm keeps the pages' records itself: see
    /// `ivy_core::driver::check_run`).
    pub live_managers: Vec<&'a dyn DirectoryView>,
    /// The final readout's manager tables (the process tables follow them), built
    /// one at a time as they are written.
    pub manager_tables: Box<dyn Iterator<Item = Table> + 'a>,
    /// Whether the summary reports the slowest operation (fault tolerance).
    pub report_slowest: bool,
}

/// Validates `args` for a system of `managers` managers (refusing a run that cannot
/// fit in memory), draws the workload and checks the history file can be written.
pub fn prepare(args: &RunArgs, managers: u64) -> Result<(Prepared, Workload), CliError> {
    let config = args.system_config().map_err(CliError::Usage)?;
    if args.requests > MAX_REQUESTS {
        return Err(CliError::Usage(format!(
            "--requests must be at most {MAX_REQUESTS}, not {}",
            args.requests
        )));
    }
    budget::check(args, managers).map_err(CliError::Usage)?;
    let history_file = match &args.history {
        Some(path) => Some(HistoryFile::create(path).map_err(CliError::Usage)?),
        None => None,
    };
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
        format: args.trace,
        quiet: args.quiet,
    };
    Ok((prepared, workload))
}

impl Prepared {
    /// Writes the initial readout: `manager_tables`, then every process's table, one
    /// table at a time (a table is built only to be written, and not at all with
    /// `--quiet`).
    pub fn write_initial(
        &self,
        out: &mut dyn Write,
        manager_tables: impl Iterator<Item = Table>,
        processes: &[impl ProcessView],
    ) -> std::io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let tables = manager_tables.chain(processes.iter().map(Table::process));
        write_readout(out, self.format, "initial", tables)
    }

    /// Ends a finished run: writes the history file, checks the outcome, then prints
    /// the trace, the final readout and the summary.
    pub fn conclude<M, P: ProcessNode>(
        self,
        out: &mut dyn Write,
        ending: Ending<'_, M, P>,
    ) -> Result<(), CliError> {
        let outcome = ending.outcome;
        if let Some(history_file) = self.history_file {
            history_file
                .commit(&outcome.history)
                .map_err(CliError::Failed)?;
        }
        check_outcome(outcome, &ending.live_managers)?;
        if !self.quiet {
            let (processes, managers) = (self.config.processes, outcome.managers.len() as u32);
            write_trace(out, self.format, &outcome.trace, processes, managers)?;
            let processes = outcome.processes.iter().map(Table::process);
            let tables = ending.manager_tables.chain(processes);
            write_readout(out, self.format, "final", tables)?;
        }
        let (requests, reads, writes) = self.counts;
        let summary = Summary {
            requests,
            reads,
            writes,
            local_hits: outcome.counts.local_hits,
            messages: outcome.counts.messages,
            heartbeats: outcome.counts.heartbeats,
            elapsed: outcome.elapsed,
            failovers: outcome.failovers.clone(),
            slowest: ending
                .report_slowest
                .then(|| slowest_operation(&outcome.history)),
        };
        write_summary(out, self.format, &summary)?;
        Ok(())
    }
}

/// The runtime options every system starts from: trace and history as asked, no time.
pub fn runtime_options(args: &RunArgs) -> RuntimeOptions {
    RuntimeOptions {
        record_trace: args.wants_trace(),
        record_heartbeats: false,
        record_history: true,
        deadline: deadline_for(args.requests),
        faults: BTreeMap::new(),
        settle_timeout: Duration::from_secs(10),
        threads: workers(args.threads),
        progress: progress::hook_for(args),
        inputs_per_turn: runtime::DEFAULT_INPUTS_PER_TURN,
    }
}

/// How many actor workers `--threads` asks for: by default one per core (the runtime
/// never starts more workers than nodes); `None` (`--threads 0`): a thread per node.
fn workers(threads: Option<usize>) -> Option<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    match threads {
        None => Some(cores),
        Some(0) => None,
        Some(threads) => Some(threads),
    }
}

/// The longest time any operation took.
fn slowest_operation(history: &[HistoryEntry]) -> Duration {
    let longest_ns = history
        .iter()
        .map(|entry| entry.completed_at - entry.invoked_at)
        .max();
    Duration::from_nanos(longest_ns.unwrap_or(0))
}

/// Checks the end of a run with the driver kit's final check.
fn check_outcome<M, P: ProcessNode>(
    outcome: &RunOutcome<M, P>,
    managers: &[&dyn DirectoryView],
) -> Result<(), CliError> {
    let states = managers.iter().copied();
    driver::check_run(&outcome.processes, states, &outcome.history)
        .map_err(|violation| CliError::Failed(violation.to_string()))
}

/// How long a run may take before it is declared stalled: generous, so that only a
/// protocol bug (a lost or never-served fault) reaches it.
pub(crate) fn deadline_for(requests: u64) -> Duration {
    Duration::from_secs(60) + Duration::from_micros(200) * requests.min(u32::MAX as u64) as u32
}

//! `ivy node --cluster FILE --id N`: runs one node of a cluster as this OS process,
//! over TCP (`ivy-net`). A process node runs its share of the seeded workload, the
//! same `Workload` the threaded runtime draws; every node writes what it reports as
//! JSON lines on standard output (each completed operation, with times on the
//! machine's monotonic clock so that histories from several OS processes of one
//! machine merge; a process's end of work; a manager's role changes, and whether it
//! has settled, stamped on the same clock), serves until it
//! is sent SIGTERM or SIGINT, and then writes its final state (the process whole, or
//! the manager's snapshot) and what it counted.

use crate::args::NodeArgs;
use crate::error::CliError;
use crate::report_line::{ReportKind, ReportLine};
use ivy_basic::CentralManager;
use ivy_core::driver::Client;
use ivy_core::{
    Incarnation, LogPosition, ManagerNode, ManagerSnapshot, NodeId, Process, ProcessOptions,
    Workload,
};
use ivy_ft::{FtManager, FtOptions};
use ivy_net::{
    ClusterSpec, Identity, NetOptions, Report, Role, Runner, Stopped, TcpDialer, Transport,
};
use std::io::Write;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Runs the node `args` names until it is told to stop.
pub fn run(args: &NodeArgs, out: &mut impl Write) -> Result<(), CliError> {
    let spec = ClusterSpec::read(&args.cluster).map_err(|error| {
        CliError::Usage(format!("cluster file {}: {error}", args.cluster.display()))
    })?;
    let id = NodeId(args.id);
    let Some(address) = spec.addresses.get(&id).cloned() else {
        let count = spec.addresses.len();
        return Err(CliError::Usage(format!(
            "--id {id}: the cluster's ids are 0 to {}",
            count - 1
        )));
    };
    init_logs(args.log_level.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Failed(format!("cannot start the runtime: {error}")))?;
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|error| CliError::Usage(format!("cannot listen on {address}: {error}")))?;
        match spec.managers {
            1 => serve::<CentralManager>(&spec, id, args, listener, out).await,
            _ => serve::<FtManager>(&spec, id, args, listener, out).await,
        }
    });
    // A read of standard input may still be waiting: leave it, do not wait for it.
    runtime.shutdown_background();
    result
}

/// A manager `ivy node` can start: at the start of a run, or restarted blank.
trait NodeManager: ManagerNode + Send + 'static {
    fn start(spec: &ClusterSpec, id: NodeId, incarnation: u64) -> Self;
    /// The manager's whole state, if it holds any.
    fn snapshot(&self) -> Option<ManagerSnapshot>;
}

impl NodeManager for CentralManager {
    fn start(spec: &ClusterSpec, _: NodeId, _: u64) -> Self {
        CentralManager::new(&spec.system)
    }

    fn snapshot(&self) -> Option<ManagerSnapshot> {
        Some(self.serializer().snapshot(LogPosition::ZERO))
    }
}

impl NodeManager for FtManager {
    fn start(spec: &ClusterSpec, id: NodeId, incarnation: u64) -> Self {
        let options = ft_options(spec);
        match incarnation {
            0 => FtManager::new(&spec.system, id, options),
            _ => FtManager::restarted(&spec.system, id, options, Incarnation(incarnation)),
        }
    }

    fn snapshot(&self) -> Option<ManagerSnapshot> {
        let reach = self.reach()?;
        Some(self.serializer()?.snapshot(reach))
    }
}

fn ft_options(spec: &ClusterSpec) -> FtOptions {
    FtOptions::with_timing(spec.run.heartbeat_ms, spec.run.failover_timeout_ms)
}

async fn serve<M: NodeManager>(
    spec: &ClusterSpec,
    id: NodeId,
    args: &NodeArgs,
    listener: tokio::net::TcpListener,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let identity = Identity {
        cluster: spec.name.clone(),
        node: id,
        key: spec.key.clone(),
        members: spec.members(),
    };
    let options = NetOptions::new(spec.system, spec.managers);
    let addresses = spec.addresses.clone();
    let (transport, inbox) = Transport::start(identity, addresses, options, TcpDialer, listener);
    let counters = transport.counters();
    let startup = tokio::time::sleep(std::time::Duration::from_secs(args.startup_timeout_s));
    tokio::pin!(startup);
    let mut started = false;
    let role: Role<M> = match spec.system.is_process(id) {
        true => Role::Process(Box::new(client(spec, id))),
        false => Role::Manager(M::start(spec, id, args.incarnation)),
    };
    let (reports, mut reported) = mpsc::unbounded_channel();
    let (release, releases) = mpsc::unbounded_channel();
    let runner = Runner::new(role, transport, inbox, Arc::new(monotonic_ns), reports)
        .with_trace(args.trace)
        .with_gate(args.pause_before.iter().copied().collect(), releases);
    // The runner is a task of its own, not part of this loop's future: a message
    // that arrives wakes it directly, without the runtime first polling its drivers
    // once more, as it does before it polls the future it blocks on.
    let mut node = tokio::spawn(runner.run(stop_signal()));
    // Whoever launched the node talks to it on standard input, a line at a time:
    // `status N` asks for the manager's status now (answered with `query` N), and
    // `go N` lets a process issue request N, held by --pause-before.
    let mut queries =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(tokio::io::stdin()));
    let mut latest_status = Report::Status {
        authority: None,
        settled: None,
    };
    let mut asking = true;
    let last = loop {
        tokio::select! {
            biased;
            last = &mut node => break last.map_err(|error| CliError::Failed(format!("the node failed: {error}")))?,
            () = &mut startup, if !started => {
                started = true;
                // Only a node that tried to reach a peer and never could gives up: one
                // nobody needed (a manager of processes that only hit locally) goes on.
                let failed = counters.last_failure.lock().expect("not poisoned").is_some();
                if !counters.ever_connected() && failed {
                    let seconds = args.startup_timeout_s;
                    let failure = counters.last_failure.lock().expect("not poisoned").clone();
                    let reason = failure.map_or("no peer connected".to_string(), |(_, why)| why);
                    return Err(CliError::Usage(format!("{reason} (start-up timeout {seconds} s)")));
                }
            }
            Some(report) = reported.recv() => {
                // Everything reported so far, then one flush (a line and a system
                // call per operation made reads 30 times slower than on threads).
                let mut next = Some(report);
                while let Some(report) = next.take() {
                    if let Report::Status { .. } = report {
                        latest_status = report.clone();
                    }
                    write_report(out, id, &report, None)?;
                    next = reported.try_recv().ok();
                }
                out.flush()?;
            }
            query = queries.next_line(), if asking => match query {
                Ok(Some(line)) => match line.split_once(' ') {
                    Some(("status", number)) => {
                        if let Ok(number) = number.parse() {
                            write_report(out, id, &latest_status, Some(number))?;
                            out.flush()?;
                        }
                    }
                    Some(("go", request)) => {
                        if let Ok(request) = request.parse() {
                            let _ = release.send(request);
                        }
                    }
                    _ => {}
                },
                _ => asking = false, // no launcher to answer
            },
        }
    };
    while let Ok(report) = reported.try_recv() {
        write_report(out, id, &report, None)?;
    }
    write_final(out, id, &last)?;
    out.flush()?;
    Ok(())
}

/// Process `id` with its share of the cluster's workload.
fn client(spec: &ClusterSpec, id: NodeId) -> Client {
    let system = &spec.system;
    let options = match spec.managers {
        1 => ProcessOptions::single_manager(system),
        _ => ProcessOptions::replicated(system, ft_options(spec).process_retry_ticks()),
    };
    let run = &spec.run;
    let workload = Workload::generate(system, run.requests, spec.mix, run.seed);
    let operations = workload.into_numbered_lists().swap_remove(id.index());
    Client::new(Process::new(id, system, options), operations)
}

/// Nanoseconds on the machine's monotonic clock, which every OS process shares.
pub(crate) fn monotonic_ns() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("the monotonic clock is always readable");
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("a signal handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("a signal handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

/// Writes `report` as a JSON line (a status with the `query` it answers, if any).
fn write_report(
    out: &mut impl Write,
    id: NodeId,
    report: &Report,
    query: Option<u64>,
) -> Result<(), CliError> {
    let line = match report {
        Report::Completed(entry) => ReportLine {
            entry: Some(*entry),
            ..ReportLine::new(id, ReportKind::Completed)
        },
        Report::Done => ReportLine::new(id, ReportKind::Done),
        Report::Issuing(request) => ReportLine {
            request: Some(*request),
            ..ReportLine::new(id, ReportKind::Issuing)
        },
        Report::Served { view } => ReportLine {
            view: Some(view.0),
            at: Some(monotonic_ns()),
            ..ReportLine::new(id, ReportKind::Served)
        },
        Report::Event(event) => ReportLine {
            event: Some(*event),
            at: Some(monotonic_ns()),
            ..ReportLine::new(id, ReportKind::Event)
        },
        Report::Handled { record, at_ns } => ReportLine {
            record: Some(*record),
            at: Some(*at_ns),
            ..ReportLine::new(id, ReportKind::Handled)
        },
        Report::Status { authority, settled } => ReportLine {
            at: Some(monotonic_ns()),
            primary: Some(authority.is_some_and(|(_, primary)| primary)),
            settled_view: settled.map(|view| view.0),
            query,
            ..ReportLine::new(id, ReportKind::Status)
        },
    };
    write_line(out, &line)
}

fn write_line(out: &mut impl Write, line: &ReportLine) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, line).map_err(|error| CliError::Output(error.into()))?;
    writeln!(out)?;
    Ok(())
}

/// The node's final state, whole (a process, or a manager's snapshot), and its
/// counts: what `ivy cluster` checks and prints.
fn write_final<M: NodeManager>(
    out: &mut impl Write,
    id: NodeId,
    stopped: &Stopped<M>,
) -> Result<(), CliError> {
    let (process, snapshot) = match &stopped.role {
        Role::Process(client) => (Some(Box::new(client.process.clone())), None),
        Role::Manager(manager) => (None, manager.snapshot().map(Box::new)),
    };
    let line = ReportLine {
        process,
        snapshot,
        counts: Some(stopped.counts),
        ..ReportLine::new(id, ReportKind::Final)
    };
    write_line(out, &line)
}

/// Logs to standard error: `--log-level`, else `RUST_LOG`, else `info`.
fn init_logs(level: Option<&str>) -> Result<(), CliError> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => EnvFilter::try_new(level)
            .map_err(|error| CliError::Usage(format!("--log-level {level}: {error}")))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    Ok(())
}

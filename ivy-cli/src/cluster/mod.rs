//! `ivy cluster basic|ft`: the same run as `ivy basic`/`ivy ft`, with every node its
//! own OS process on 127.0.0.1 talking TCP (`ivy node`). The launcher writes the
//! cluster file, starts the nodes, gathers what they report on their standard output
//! (completions, manager events, traced messages), and once the processes are done
//! asks the managers for their status until they have settled together; then it stops
//! every node, rebuilds their final states (each process whole, each manager from its
//! snapshot) and prints exactly what the threaded run prints, with the same checks.
//! With `--netns` every node runs in a network namespace of its own, and the primary's
//! link can be cut and restored during the run.

mod children;
mod faults;
mod gathered;
mod interrupt;
mod netns;
mod stall;

use crate::args::{ClusterBasicArgs, ClusterFtArgs, FtArgs, NetworkArgs, RunArgs};
use crate::error::CliError;
use crate::node::monotonic_ns;
use crate::readout::Table;
use crate::report_line::ReportLine;
use crate::run::{deadline_for, prepare, Ending};
use crate::runtime::{RunCounts, RunOutcome, TraceItem};
use children::{Children, Line};
use faults::{Faults, LinkAction};
use gathered::{Gathered, Notice};
use ivy_basic::PageSerializer;
use ivy_core::driver::{FailoverClocks, RunEvent};
use ivy_core::{DirectoryView, NodeId, View};
use ivy_ft::FtOptions;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// `ivy cluster basic`.
pub fn run_basic(args: &ClusterBasicArgs, out: &mut dyn Write) -> Result<(), CliError> {
    interrupted_or(launch(&args.run, None, &args.network, out))
}

/// A run cut short by Ctrl-C or SIGTERM ends as interrupted, whatever failed first
/// (the `ip` commands making namespaces get the signal too).
fn interrupted_or(result: Result<(), CliError>) -> Result<(), CliError> {
    match result {
        Err(_) if interrupt::requested() => Err(CliError::Interrupted),
        result => result,
    }
}

/// `ivy cluster ft`.
pub fn run_ft(cluster_args: &ClusterFtArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let args = &cluster_args.ft;
    let refused = [
        (
            args.kill_waits,
            "--kill-waits (ivy cluster kills at once, with SIGKILL)",
        ),
        (
            args.trace_heartbeats,
            "--trace-heartbeats (ivy cluster traces no heartbeats)",
        ),
    ];
    if let Some((_, option)) = refused.iter().find(|(given, _)| *given) {
        return Err(CliError::Usage(format!(
            "{option} is an option of ivy ft only"
        )));
    }
    let links = faults::link_schedule(cluster_args, cluster_args.network.netns)?;
    interrupted_or(launch(
        &args.run,
        Some((args, links)),
        &cluster_args.network,
        out,
    ))
}

/// The fault-tolerant options of a run, and its link changes.
type FtRun<'a> = (&'a FtArgs, BTreeMap<u64, Vec<LinkAction>>);

fn launch(
    args: &RunArgs,
    ft_run: Option<FtRun>,
    network: &NetworkArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if args.threads.is_some() {
        let message = "--threads is an option of the threaded runtime: ivy cluster runs an OS process per node";
        return Err(CliError::Usage(message.to_string()));
    }
    let (ft, links) = match ft_run {
        Some((ft, links)) => (Some(ft), links),
        None => (None, BTreeMap::new()),
    };
    interrupt::catch();
    let managers = if ft.is_some() { 2 } else { 1 };
    let schedule = match ft {
        Some(ft) => crate::ft::fault_schedule(ft)?,
        None => BTreeMap::new(),
    };
    let (prepared, workload) = prepare(args, u64::from(managers))?;
    let config = prepared.config;
    let timing = ft.map(|ft| (ft.heartbeat_ms, ft.timeout_ms));
    write_initial(&prepared, timing, out)?;

    let manager_ids: Vec<NodeId> = (0..managers)
        .map(|i| NodeId(config.processes + i))
        .collect();
    let process_ids: Vec<NodeId> = config.process_ids().collect();
    let mut faults = Faults::new(schedule, links, manager_ids.clone());
    let namespaces = match network.netns {
        true => Some(netns::Namespaces::create(config.processes + managers)?),
        false => None,
    };
    let mut children = Children::prepare(args, managers, timing, faults.requests(), namespaces)?;
    for &id in manager_ids.iter().chain(&process_ids) {
        children.spawn(id)?;
    }
    let deadline = Instant::now() + deadline_for(args.requests);
    // As ivy ft: a run that completes nothing for this long is stopped (a kill may
    // have lost the state it needs).
    let stall_after = ft.map(|ft| crate::ft::stall_after(ft.timeout_ms));
    let mut progress = (0, Instant::now());
    // Scheduled requests whose process holds before issuing them.
    let mut held = std::collections::BTreeSet::new();
    let mut gathered = Gathered::default();
    let (mut query, mut asked_at) = (0, Instant::now());
    while !(gathered.done == config.processes && gathered.settled(&faults.live(), query)) {
        if gathered.done == config.processes && asked_at.elapsed() >= Duration::from_millis(2) {
            (query, asked_at) = (query + 1, Instant::now());
            for id in faults.live() {
                children.tell(id, &format!("status {query}"));
            }
        }
        if gathered.history.len() != progress.0 {
            progress = (gathered.history.len(), Instant::now());
        }
        if interrupt::requested() {
            return Err(CliError::Interrupted);
        }
        let stalled = stall_after.is_some_and(|after| progress.1.elapsed() > after);
        match children.lines.recv_timeout(Duration::from_millis(2)) {
            Ok(Line::Report(id, report)) => match gathered.add(id, *report)? {
                Some(Notice::Issuing(request)) => {
                    held.insert(request);
                    release_held(
                        &mut held,
                        &mut faults,
                        &mut children,
                        &process_ids,
                        &mut gathered,
                    )?;
                }
                Some(Notice::Event(event)) => faults.note(&event),
                None => {}
            },
            Ok(Line::Closed(id, life)) if children.is_current(id, life) => {
                return Err(CliError::Failed(format!("node {id} exited during the run")));
            }
            Ok(Line::Closed(..)) => {} // a node the launcher killed
            Ok(Line::Unreadable(id, life, line)) if children.is_current(id, life) => {
                return Err(unreadable(id, &line));
            }
            Ok(Line::Unreadable(..)) => {} // cut off by the kill
            Err(RecvTimeoutError::Timeout) if Instant::now() < deadline && !stalled => {}
            Err(_) => {
                let counts = (gathered.history.len(), workload.len());
                let quiet_since = stalled.then_some(progress.1);
                let (children, ids) = (&mut children, process_ids.as_slice());
                let error =
                    stall::stall_error(children, gathered, &faults, ids, counts, quiet_since);
                return Err(error);
            }
        }
    }
    stop(&mut children, &mut gathered)?;
    if interrupt::requested() {
        return Err(CliError::Interrupted);
    }
    let ids = (process_ids.as_slice(), manager_ids.as_slice());
    conclude(prepared, gathered, ids, &faults, ft.is_some(), out)?;
    match faults.missed.as_slice() {
        [] => Ok(()),
        missed => {
            let lines: Vec<String> = missed.iter().map(ToString::to_string).collect();
            Err(CliError::Failed(lines.join("; ")))
        }
    }
}

/// Injects the faults of every held request whose turn it is (each earlier scheduled
/// request injected), in request order, and lets every process go past them.
fn release_held(
    held: &mut std::collections::BTreeSet<u64>,
    faults: &mut Faults,
    children: &mut Children,
    processes: &[NodeId],
    gathered: &mut Gathered,
) -> Result<(), CliError> {
    while let Some(&request) = held.first().filter(|&&request| faults.is_ready(request)) {
        held.remove(&request);
        let view = faults.primary_view();
        for (manager, event) in faults.inject(request, children)? {
            let at = monotonic_ns();
            if let RunEvent::Killed {
                was_primary: true, ..
            }
            | RunEvent::LinkCut {
                was_primary: true, ..
            } = event
            {
                gathered.failover_marks.push((at, Some(view), view));
            }
            gathered.trace.push((at, manager, TraceItem::Event(event)));
        }
        for &process in processes {
            children.tell(process, &format!("go {request}"));
        }
    }
    Ok(())
}

/// The readout before the run, as ivy basic/ivy ft print it.
fn write_initial(
    prepared: &crate::run::Prepared,
    timing: Option<(u64, u64)>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let config = prepared.config;
    let (processes, tables) = match timing {
        None => {
            let (processes, manager) = crate::basic::initial_system(&config);
            (processes, vec![Table::manager("cm", manager.directory())])
        }
        Some((heartbeat, timeout)) => {
            let ft_options = FtOptions::with_timing(heartbeat, timeout);
            let (processes, managers) = crate::ft::initial_system(&config, ft_options);
            let tables = managers.iter().map(|manager| (manager, false));
            (processes, crate::ft::manager_tables(tables).collect())
        }
    };
    prepared.write_initial(out, tables.into_iter(), &processes)?;
    Ok(())
}

/// Stops every running node and gathers what each writes last.
fn stop(children: &mut Children, gathered: &mut Gathered) -> Result<(), CliError> {
    let mut open = children.current_lives();
    children.stop_all()?;
    while !open.is_empty() {
        match children.lines.recv_timeout(Duration::from_secs(10)) {
            Ok(Line::Report(id, report)) => {
                gathered.add(id, *report)?;
            }
            Ok(Line::Closed(id, life)) => open.retain(|&node| node != (id, life)),
            Ok(Line::Unreadable(id, life, line)) if children.is_current(id, life) => {
                return Err(unreadable(id, &line));
            }
            Ok(Line::Unreadable(..)) => {}
            Err(_) => {
                return Err(CliError::Failed(
                    "a node did not write its final state".into(),
                ))
            }
        }
    }
    Ok(())
}

fn unreadable(id: NodeId, line: &str) -> CliError {
    CliError::Failed(format!("node {id} wrote a line that is no report: {line}"))
}

/// A manager at the end: its id, whether it answered last as primary, its state
/// (rebuilt from its snapshot; none if blank), and whether it is down.
type FinalManager = (NodeId, bool, Option<PageSerializer>, bool);

/// Rebuilds the final states, checks them and prints the run as `ivy basic`/`ivy ft`.
fn conclude(
    prepared: crate::run::Prepared,
    mut gathered: Gathered,
    (process_ids, manager_ids): (&[NodeId], &[NodeId]),
    faults: &Faults,
    fault_tolerant: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let bad = |id: NodeId| CliError::Failed(format!("node {id} wrote no usable final state"));
    let mut counts = RunCounts::default();
    let mut processes = Vec::new();
    for &id in process_ids {
        let last = gathered.finals.get_mut(&id).ok_or_else(|| bad(id))?;
        processes.push(*last.process.take().ok_or_else(|| bad(id))?);
        add_counts(&mut counts, last);
    }
    let mut managers: Vec<FinalManager> = Vec::new();
    for &id in manager_ids {
        if faults.is_down(id) {
            managers.push((id, false, None, true));
            continue;
        }
        let last = gathered.finals.get(&id).ok_or_else(|| bad(id))?;
        let state = last.snapshot.as_deref().map(PageSerializer::from_snapshot);
        add_counts(&mut counts, last);
        let primary = gathered.answers.get(&id).is_some_and(|answer| answer.1);
        managers.push((id, primary, state, false));
    }
    gathered.trace.sort_by_key(|&(at, id, _)| (at, id));
    let trace: Vec<TraceItem> = gathered
        .trace
        .into_iter()
        .map(|(_, _, item)| item)
        .collect();
    let first = gathered.history.iter().map(|entry| entry.invoked_at).min();
    let last = gathered
        .history
        .iter()
        .map(|entry| entry.completed_at)
        .max();
    gathered
        .history
        .sort_by_key(|entry| (entry.completed_at, entry.process));
    let outcome = RunOutcome {
        processes,
        managers: managers
            .iter()
            .map(|&(id, _, _, down)| (id, down))
            .collect(),
        trace,
        history: gathered.history,
        counts,
        elapsed: Duration::from_nanos(last.unwrap_or(0).saturating_sub(first.unwrap_or(0))),
        failovers: failovers(&mut gathered.failover_marks),
        missed_kills: Vec::new(),
    };
    // As ivy ft orders them: the primary, then the backup or a recovering manager, then
    // a manager that is down.
    managers.sort_by_key(|&(_, primary, _, down)| (down, !primary));
    let live_managers: Vec<&dyn DirectoryView> = managers
        .iter()
        .filter_map(|(_, _, state, _)| state.as_ref().map(|state| state as &dyn DirectoryView))
        .collect();
    let tables = managers
        .iter()
        .map(|(id, primary, state, down)| match state {
            _ if *down => Table::empty("cm_Backup", format!("down, cm {id}")),
            Some(state) if !fault_tolerant => Table::manager("cm", state.directory()),
            Some(state) if *primary => Table::manager("cm_Primary", state.directory()),
            Some(state) => Table::manager("cm_Backup", state.directory()),
            None => Table::empty("cm_Backup", format!("recovering, cm {id}")),
        });
    let ending = Ending {
        outcome: &outcome,
        live_managers,
        manager_tables: Box::new(tables),
        report_slowest: fault_tolerant,
    };
    prepared.conclude(out, ending)
}

/// Each kill of a primary timed to the first fault a primary of a newer view
/// completed after it, as the threaded runtime times them.
fn failovers(marks: &mut [(u64, Option<View>, View)]) -> Vec<Option<Duration>> {
    marks.sort_by_key(|&(at, ..)| at);
    let mut clocks = FailoverClocks::default();
    for &(at, crashed, view) in marks.iter() {
        match crashed {
            Some(crashed_view) => clocks.start(at, crashed_view),
            None => clocks.served(view, at),
        }
    }
    let durations = clocks.durations().into_iter();
    durations
        .map(|duration| duration.map(Duration::from_nanos))
        .collect()
}

fn add_counts(counts: &mut RunCounts, last: &ReportLine) {
    let node = last.counts.unwrap_or_default();
    counts.messages += node.messages;
    counts.heartbeats += node.heartbeats;
    counts.local_hits += node.local_hits;
}

//! `ivy cluster basic|ft`: the same run as `ivy basic`/`ivy ft`, with every node its
//! own OS process on 127.0.0.1 talking TCP (`ivy node`). The launcher writes the
//! cluster file, starts the nodes, gathers what they report on their standard output
//! (completions, manager events, traced messages), and once the processes are done
//! asks the managers for their status until they have settled together; then it stops
//! every node, rebuilds their final states (each process whole, each manager from its
//! snapshot) and prints exactly what the threaded run prints, with the same checks.

mod children;

use crate::args::{FtArgs, RunArgs};
use crate::error::CliError;
use crate::readout::Table;
use crate::run::{deadline_for, prepare, Ending};
use crate::runtime::{RunCounts, RunOutcome, TraceItem};
use children::{Children, Line};
use ivy_basic::{CentralManager, PageSerializer};
use ivy_core::driver::RunEvent;
use ivy_core::{
    settled_together, DirectoryView, HistoryEntry, ManagerSnapshot, NodeEvent, NodeId, Process,
    ProcessOptions, TraceRecord, View,
};
use ivy_ft::{FtManager, FtOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// `ivy cluster basic`.
pub fn run_basic(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    launch(args, None, out)
}

/// `ivy cluster ft`.
pub fn run_ft(args: &FtArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let scheduled = [
        &args.kill_primary_at,
        &args.revive_primary_at,
        &args.kill_backup_at,
        &args.revive_backup_at,
    ];
    if scheduled.iter().any(|list| !list.is_empty()) || args.kill_waits {
        let message = "ivy cluster ft does not schedule kills or revivals yet; use ivy ft";
        return Err(CliError::Usage(message.to_string()));
    }
    launch(&args.run, Some(args), out)
}

/// Everything the nodes reported.
#[derive(Default)]
struct Gathered {
    history: Vec<HistoryEntry>,
    done: u32,
    handled: Vec<(u64, NodeId, TraceRecord)>,
    events: Vec<(NodeId, NodeEvent)>,
    /// Per manager, its answer to the latest status query: primary, settled view.
    answers: BTreeMap<NodeId, (u64, bool, Option<View>)>,
    finals: BTreeMap<NodeId, Value>,
}

impl Gathered {
    fn add(&mut self, id: NodeId, report: Value) -> Result<(), CliError> {
        let malformed = |what: &str| CliError::Failed(format!("node {id} reported a bad {what}"));
        match report["report"].as_str() {
            Some("completed") => {
                let entry = serde_json::from_value(report["entry"].clone());
                self.history
                    .push(entry.map_err(|_| malformed("completion"))?);
            }
            Some("done") => self.done += 1,
            Some("handled") => {
                let record = serde_json::from_value(report["record"].clone());
                let at = report["at"]
                    .as_u64()
                    .ok_or_else(|| malformed("trace record"))?;
                self.handled
                    .push((at, id, record.map_err(|_| malformed("trace record"))?));
            }
            Some("event") => {
                let event = serde_json::from_value(report["event"].clone());
                self.events
                    .push((id, event.map_err(|_| malformed("event"))?));
            }
            Some("status") => {
                if let Some(query) = report["query"].as_u64() {
                    let primary = report["primary"].as_bool().unwrap_or(false);
                    let settled = report["settled_view"].as_u64().map(View);
                    self.answers.insert(id, (query, primary, settled));
                }
            }
            Some("final") => {
                self.finals.insert(id, report);
            }
            _ => return Err(malformed("line")),
        }
        Ok(())
    }

    /// Whether every live manager answered query `query` and they have settled
    /// together.
    fn settled(&self, managers: &[NodeId], query: u64) -> bool {
        let answers = managers.iter().map(|id| match self.answers.get(id) {
            Some(&(answered, primary, settled)) if answered == query => {
                (settled.map(|view| (view, primary)), settled)
            }
            _ => (None, None),
        });
        settled_together(answers).is_some()
    }
}

fn launch(args: &RunArgs, ft: Option<&FtArgs>, out: &mut dyn Write) -> Result<(), CliError> {
    let managers = if ft.is_some() { 2 } else { 1 };
    let (prepared, workload) = prepare(args, u64::from(managers))?;
    let config = prepared.config;
    let timing = ft.map(|ft| (ft.heartbeat_ms, ft.timeout_ms));
    let options = match timing {
        None => ProcessOptions::single_manager(&config),
        Some((heartbeat, timeout)) => {
            let retry = FtOptions::with_timing(heartbeat, timeout).process_retry_ticks();
            ProcessOptions::replicated(&config, retry)
        }
    };
    let processes = Process::all(&config, &options);
    let initial: Vec<Table> = match timing {
        None => vec![Table::manager(
            "cm",
            CentralManager::new(&config).directory(),
        )],
        Some((heartbeat, timeout)) => {
            let ft_options = FtOptions::with_timing(heartbeat, timeout);
            let managers = [config.manager(), config.backup_manager()]
                .map(|id| FtManager::new(&config, id, ft_options));
            crate::ft::manager_tables(managers.iter().map(|manager| (manager, false))).collect()
        }
    };
    prepared.write_initial(out, initial.into_iter(), &processes)?;

    let mut children = Children::prepare(args, managers, timing)?;
    let manager_ids: Vec<NodeId> = (config.processes..config.processes + managers)
        .map(NodeId)
        .collect();
    for &id in manager_ids
        .iter()
        .chain(&config.process_ids().collect::<Vec<_>>())
    {
        children.spawn(id, 0)?;
    }
    let deadline = Instant::now() + deadline_for(args.requests);
    let mut gathered = Gathered::default();
    let mut query = 0;
    let mut asked_at = Instant::now();
    while !(gathered.done == config.processes && gathered.settled(&manager_ids, query)) {
        if gathered.done == config.processes && asked_at.elapsed() >= Duration::from_millis(2) {
            query += 1;
            asked_at = Instant::now();
            for &id in &manager_ids {
                children.ask_status(id, query);
            }
        }
        match children.lines.recv_timeout(Duration::from_millis(2)) {
            Ok(Line::Report(id, report)) => gathered.add(id, report)?,
            Ok(Line::Closed(id)) => {
                return Err(CliError::Failed(format!("node {id} exited during the run")));
            }
            Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => {
                let (completed, total) = (gathered.history.len(), workload.len());
                let message = format!("run stalled: {completed} of {total} operations completed");
                return Err(CliError::Failed(message));
            }
        }
    }
    children.stop_all()?;
    let mut open = manager_ids.len() + config.processes as usize;
    while open > 0 {
        match children.lines.recv_timeout(Duration::from_secs(10)) {
            Ok(Line::Report(id, report)) => gathered.add(id, report)?,
            Ok(Line::Closed(_)) => open -= 1,
            Err(_) => {
                return Err(CliError::Failed(
                    "a node did not write its final state".into(),
                ))
            }
        }
    }
    conclude(
        prepared,
        gathered,
        &config.process_ids().collect::<Vec<_>>(),
        &manager_ids,
        ft.is_some(),
        out,
    )
}

/// Rebuilds the final states, checks them and prints the run as `ivy basic`/`ivy ft`.
fn conclude(
    prepared: crate::run::Prepared,
    mut gathered: Gathered,
    process_ids: &[NodeId],
    manager_ids: &[NodeId],
    fault_tolerant: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let bad = |id: NodeId| CliError::Failed(format!("node {id} wrote no usable final state"));
    let mut counts = RunCounts::default();
    let mut processes = Vec::new();
    for &id in process_ids {
        let last = gathered.finals.get(&id).ok_or_else(|| bad(id))?;
        processes
            .push(serde_json::from_value::<Process>(last["process"].clone()).map_err(|_| bad(id))?);
        add_counts(&mut counts, last);
    }
    let mut managers = Vec::new();
    for &id in manager_ids {
        let last = gathered.finals.get(&id).ok_or_else(|| bad(id))?;
        let snapshot: Option<ManagerSnapshot> =
            serde_json::from_value(last["snapshot"].clone()).map_err(|_| bad(id))?;
        add_counts(&mut counts, last);
        let primary = gathered.answers.get(&id).is_some_and(|answer| answer.1);
        managers.push((
            id,
            primary,
            snapshot.map(|s| PageSerializer::from_snapshot(&s)),
        ));
    }
    gathered.handled.sort_by_key(|&(at, id, _)| (at, id));
    let mut trace: Vec<TraceItem> = gathered
        .handled
        .iter()
        .map(|&(_, _, record)| TraceItem::Message(record))
        .collect();
    trace.extend(
        gathered
            .events
            .iter()
            .map(|&(_, event)| TraceItem::Event(RunEvent::Manager(event))),
    );
    let first = gathered
        .history
        .iter()
        .map(|entry| entry.invoked_at)
        .min()
        .unwrap_or(0);
    let last = gathered
        .history
        .iter()
        .map(|entry| entry.completed_at)
        .max()
        .unwrap_or(0);
    gathered
        .history
        .sort_by_key(|entry| (entry.completed_at, entry.process));
    let outcome = RunOutcome {
        processes,
        managers: managers.iter().map(|(id, ..)| (*id, false)).collect(),
        trace,
        history: gathered.history,
        counts,
        elapsed: Duration::from_nanos(last.saturating_sub(first)),
        failovers: Vec::new(),
        missed_kills: Vec::new(),
    };
    let live_managers: Vec<&dyn DirectoryView> = managers
        .iter()
        .filter_map(|(_, _, state)| state.as_ref().map(|s| s as &dyn DirectoryView))
        .collect();
    let tables = managers
        .iter()
        .map(move |(id, primary, state)| match (state, fault_tolerant) {
            (Some(state), false) => Table::manager("cm", state.directory()),
            (Some(state), true) if *primary => Table::manager("cm_Primary", state.directory()),
            (Some(state), true) => Table::manager("cm_Backup", state.directory()),
            (None, _) => Table::empty("cm_Backup", format!("recovering, cm {id}")),
        });
    let ending = Ending {
        outcome: &outcome,
        live_managers,
        manager_tables: Box::new(tables),
        report_slowest: fault_tolerant,
    };
    prepared.conclude(out, ending)
}

fn add_counts(counts: &mut RunCounts, last: &Value) {
    let count = |name: &str| last["counts"][name].as_u64().unwrap_or(0);
    counts.messages += count("messages");
    counts.heartbeats += count("heartbeats");
    counts.local_hits += count("local_hits");
}

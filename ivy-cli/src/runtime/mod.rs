//! The threaded runtime: one thread per node, connected by crossbeam channels, driving
//! the same sans-IO state machines as the simulator. Every process issues its
//! operations one after another (a fault blocks it, as in a real DSM) while serving
//! the messages other nodes send it; all processes start at once. Time, when the
//! system needs it, reaches the nodes as one tick per millisecond. Scheduled faults
//! crash and revive managers when a given request is issued.

mod board;
mod events;
mod worker;

pub use events::TraceItem;

use board::ManagerBoard;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use events::FailoverClocks;
use ivy_core::sim::SimManager;
use ivy_core::{Envelope, HistoryEntry, NodeId, Process, Workload};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use thiserror::Error;
use worker::{run_manager, run_process, Finished, Worker};

/// A fault to inject when a request is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Crash the manager that is primary at that moment.
    KillPrimary,
    /// Restart the manager crashed by the last `KillPrimary`.
    RevivePrimary,
    /// Crash the manager that is backup at that moment.
    KillBackup,
    /// Restart the manager crashed by the last `KillBackup`.
    ReviveBackup,
}

/// What to record, when time passes, which faults to inject, and how long to wait.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// Record every handled message, in handling order, and every event.
    pub record_trace: bool,
    /// Record heartbeats too (they dominate a trace otherwise).
    pub record_heartbeats: bool,
    /// Record every completed operation with its invocation and completion times.
    pub record_history: bool,
    /// Give up if the operations have not all completed by then.
    pub deadline: Duration,
    /// The length of a tick, or `None` when the nodes need no time.
    pub tick: Option<Duration>,
    /// Faults by the request number at whose issue they happen.
    pub faults: BTreeMap<u64, Vec<FaultAction>>,
    /// After the operations, how long the managers may take to settle.
    pub settle_timeout: Duration,
}

/// A finished run: the nodes' final state and what was recorded.
pub struct RunOutcome<M> {
    /// The processes, in id order.
    pub processes: Vec<Process>,
    /// The managers, in id order, and whether each is down (crashed) at the end.
    pub managers: Vec<(M, bool)>,
    /// Handled messages and events in the order they happened (if recorded).
    pub trace: Vec<TraceItem>,
    /// Completed operations, times in nanoseconds since the start (if recorded).
    pub history: Vec<HistoryEntry>,
    /// Messages handled.
    pub messages: u64,
    /// Operations that completed without a fault.
    pub local_hits: u64,
    /// From the start until the last operation completed.
    pub elapsed: Duration,
    /// For each crash of a primary, the time until the next primary served a request.
    pub failovers: Vec<Option<Duration>>,
}

/// A run that did not finish.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// Operations were still incomplete at the deadline.
    #[error("run stalled: {completed} of {total} operations completed after {waited:?}")]
    Stalled {
        /// Operations completed.
        completed: u64,
        /// Operations in the workload.
        total: u64,
        /// How long the runtime waited.
        waited: Duration,
    },
    /// The managers did not agree on a settled view in time after the operations.
    #[error("the managers did not settle within {0:?} after the last operation")]
    Unsettled(Duration),
    /// A node's thread panicked (a broken protocol invariant).
    #[error("node {0} failed")]
    NodeFailed(NodeId),
}

pub(crate) enum Input {
    Deliver(Envelope),
    Crash,
    Revive,
    Stop,
}

/// Which manager the last kill of each role crashed, so the revival finds it.
#[derive(Default)]
struct Crashed {
    primary: Option<usize>,
    backup: Option<usize>,
}

pub(crate) struct Shared {
    senders: Vec<Sender<Input>>,
    start: OnceLock<Instant>,
    start_barrier: Barrier,
    trace_sequence: AtomicU64,
    completed: AtomicU64,
    options: RuntimeOptions,
    first_manager: usize,
    board: ManagerBoard,
    crashed: Mutex<Crashed>,
    /// Request numbers whose faults are not injected yet.
    pending_faults: Mutex<BTreeSet<u64>>,
    failovers: FailoverClocks,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.get().expect("started").elapsed().as_nanos() as u64
    }

    /// Whether every fault scheduled before `request_number` has been injected.
    fn faults_ready(&self, request_number: u64) -> bool {
        if self.options.faults.is_empty() {
            return true;
        }
        let pending = self.pending_faults.lock().expect("no panics while locked");
        pending.first().is_none_or(|&first| first >= request_number)
    }

    /// Injects the faults scheduled at `request_number`, if any.
    fn inject_faults_at(&self, request_number: u64) {
        let Some(actions) = self.options.faults.get(&request_number) else {
            return;
        };
        for &action in actions {
            self.inject(action);
        }
        let mut pending = self.pending_faults.lock().expect("no panics while locked");
        pending.remove(&request_number);
    }

    /// Sends a crash or revival to the manager the action names now.
    fn inject(&self, action: FaultAction) {
        let mut crashed = self.crashed.lock().expect("no panics while locked");
        let (target, input) = match action {
            FaultAction::KillPrimary => {
                let target = self.board.primary();
                crashed.primary = target;
                (target, Input::Crash)
            }
            FaultAction::KillBackup => {
                let target = self.board.backup();
                crashed.backup = target;
                (target, Input::Crash)
            }
            FaultAction::RevivePrimary => (crashed.primary.take(), Input::Revive),
            FaultAction::ReviveBackup => (crashed.backup.take(), Input::Revive),
        };
        if let Some(index) = target {
            let _ = self.senders[self.first_manager + index].send(input);
        }
    }
}

/// Runs `workload` on `processes` and `managers` (node ids in order: processes, then
/// managers), one thread each, until every operation has completed and the managers
/// have settled.
pub fn run<M: SimManager + Send + 'static>(
    processes: Vec<Process>,
    managers: Vec<M>,
    workload: Workload,
    options: RuntimeOptions,
) -> Result<RunOutcome<M>, RuntimeError> {
    let node_count = processes.len() + managers.len();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..node_count).map(|_| unbounded()).unzip();
    let deadline = options.deadline;
    let settle_timeout = options.settle_timeout;
    let pending_faults = Mutex::new(options.faults.keys().copied().collect());
    let shared = Arc::new(Shared {
        senders,
        start: OnceLock::new(),
        start_barrier: Barrier::new(node_count + 1),
        trace_sequence: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        options,
        first_manager: processes.len(),
        board: ManagerBoard::new(managers.len()),
        crashed: Mutex::new(Crashed::default()),
        pending_faults,
        failovers: FailoverClocks::default(),
    });
    let mut receivers = receivers.into_iter();
    let (done_sender, done_receiver) = unbounded();
    let total = workload.len() as u64;
    let process_count = processes.len();
    let process_threads: Vec<JoinHandle<Finished<Process>>> = processes
        .into_iter()
        .zip(workload.into_numbered_lists())
        .map(|(process, operations)| {
            let worker = Worker::new(process, receivers.next().unwrap(), shared.clone());
            let done = done_sender.clone();
            thread::spawn(move || run_process(worker, operations, done))
        })
        .collect();
    let manager_threads: Vec<JoinHandle<Finished<M>>> = managers
        .into_iter()
        .enumerate()
        .map(|(index, manager)| {
            let worker = Worker::new(manager, receivers.next().unwrap(), shared.clone());
            thread::spawn(move || run_manager(worker, index))
        })
        .collect();
    let start = Instant::now();
    shared.start.set(start).expect("set once");
    shared.start_barrier.wait();
    let stalled = wait_for_processes(&done_receiver, process_count, start + deadline);
    let elapsed = start.elapsed();
    let settled = stalled || shared.board.wait_until_settled(settle_timeout);
    for sender in &shared.senders {
        let _ = sender.send(Input::Stop);
    }
    let processes = join_all(process_threads, 0)?;
    let managers = join_all(manager_threads, process_count)?;
    if stalled {
        return Err(RuntimeError::Stalled {
            completed: shared.completed.load(Ordering::Relaxed),
            total,
            waited: elapsed,
        });
    }
    if !settled {
        return Err(RuntimeError::Unsettled(settle_timeout));
    }
    Ok(assemble(
        processes,
        managers,
        elapsed,
        shared.failovers.durations(),
    ))
}

/// Waits until every process has reported all its operations done; returns whether
/// the deadline passed first.
fn wait_for_processes(done: &Receiver<NodeId>, processes: usize, deadline: Instant) -> bool {
    for _ in 0..processes {
        match done.recv_deadline(deadline) {
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return true,
        }
    }
    false
}

fn join_all<N>(
    threads: Vec<JoinHandle<Finished<N>>>,
    first_id: usize,
) -> Result<Vec<Finished<N>>, RuntimeError> {
    let mut finished = Vec::with_capacity(threads.len());
    let mut failed = None;
    for (index, thread) in threads.into_iter().enumerate() {
        match thread.join() {
            Ok(node) => finished.push(node),
            Err(_) => failed = failed.or(Some(index)),
        }
    }
    match failed {
        None => Ok(finished),
        Some(index) => Err(RuntimeError::NodeFailed(NodeId((first_id + index) as u32))),
    }
}

fn assemble<M>(
    processes: Vec<Finished<Process>>,
    managers: Vec<Finished<M>>,
    elapsed: Duration,
    failovers: Vec<Option<Duration>>,
) -> RunOutcome<M> {
    let mut trace = Vec::new();
    let mut history = Vec::new();
    let (mut messages, mut local_hits) = (0, 0);
    let mut process_nodes = Vec::with_capacity(processes.len());
    for finished in processes {
        trace.extend(finished.trace);
        history.extend(finished.history);
        messages += finished.messages;
        local_hits += finished.local_hits;
        process_nodes.push(finished.node);
    }
    let mut manager_nodes = Vec::with_capacity(managers.len());
    for finished in managers {
        trace.extend(finished.trace);
        messages += finished.messages;
        manager_nodes.push((finished.node, finished.down));
    }
    trace.sort_unstable_by_key(|(sequence, _)| *sequence);
    history.sort_by_key(|entry| (entry.completed_at, entry.invoked_at));
    RunOutcome {
        processes: process_nodes,
        managers: manager_nodes,
        trace: trace.into_iter().map(|(_, item)| item).collect(),
        history,
        messages,
        local_hits,
        elapsed,
        failovers,
    }
}

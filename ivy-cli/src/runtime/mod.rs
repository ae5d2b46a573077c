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
use ivy_core::Node;
use ivy_core::{Envelope, HistoryEntry, NodeId, Process, Workload};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use thiserror::Error;
use worker::{Finished, Worker};

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
    /// Run the nodes as actors on this many worker threads (node `i` on worker
    /// `i % threads`); `None`: one thread per node.
    pub threads: Option<usize>,
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
    /// A worker thread panicked (a broken protocol invariant).
    #[error("worker thread {0} failed")]
    WorkerFailed(usize),
}

pub(crate) enum Input {
    Deliver(Envelope),
    /// Crash the manager with this index (among the managers).
    Crash(usize),
    /// Revive the manager with this index.
    Revive(usize),
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
        let (target, kill) = match action {
            FaultAction::KillPrimary => {
                crashed.primary = self.board.primary();
                (crashed.primary, true)
            }
            FaultAction::KillBackup => {
                crashed.backup = self.board.backup();
                (crashed.backup, true)
            }
            FaultAction::RevivePrimary => (crashed.primary.take(), false),
            FaultAction::ReviveBackup => (crashed.backup.take(), false),
        };
        if let Some(index) = target {
            let input = if kill {
                Input::Crash(index)
            } else {
                Input::Revive(index)
            };
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
    let worker_count = options.threads.unwrap_or(node_count).clamp(1, node_count);
    let (worker_senders, receivers): (Vec<_>, Vec<_>) =
        (0..worker_count).map(|_| unbounded()).unzip();
    // Every node's inbox is its worker's.
    let senders = (0..node_count)
        .map(|id| worker_senders[id % worker_count].clone())
        .collect();
    let deadline = options.deadline;
    let settle_timeout = options.settle_timeout;
    let pending_faults = Mutex::new(options.faults.keys().copied().collect());
    let shared = Arc::new(Shared {
        senders,
        start: OnceLock::new(),
        start_barrier: Barrier::new(worker_count + 1),
        trace_sequence: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        options,
        first_manager: processes.len(),
        board: ManagerBoard::new(managers.len()),
        crashed: Mutex::new(Crashed::default()),
        pending_faults,
        failovers: FailoverClocks::default(),
    });
    let (done_sender, done_receiver) = unbounded();
    let total = workload.len() as u64;
    let process_count = processes.len();
    let mut workers: Vec<Worker<M>> = receivers
        .into_iter()
        .map(|inbox| Worker::new(inbox, shared.clone(), done_sender.clone(), node_count))
        .collect();
    for (id, (process, operations)) in processes
        .into_iter()
        .zip(workload.into_numbered_lists())
        .enumerate()
    {
        workers[id % worker_count].host_process(process, operations);
    }
    for (index, manager) in managers.into_iter().enumerate() {
        workers[(process_count + index) % worker_count].host_manager(manager, index);
    }
    let threads: Vec<JoinHandle<Finished<M>>> = workers
        .into_iter()
        .map(|worker| thread::spawn(move || worker.run()))
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
    let finished = join_all(threads)?;
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
    Ok(assemble(finished, elapsed, shared.failovers.durations()))
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

fn join_all<M>(threads: Vec<JoinHandle<Finished<M>>>) -> Result<Vec<Finished<M>>, RuntimeError> {
    let mut finished = Vec::with_capacity(threads.len());
    let mut failed = None;
    for (index, thread) in threads.into_iter().enumerate() {
        match thread.join() {
            Ok(worker) => finished.push(worker),
            Err(_) => failed = failed.or(Some(index)),
        }
    }
    match failed {
        None => Ok(finished),
        Some(index) => Err(RuntimeError::WorkerFailed(index)),
    }
}

fn assemble<M>(
    workers: Vec<Finished<M>>,
    elapsed: Duration,
    failovers: Vec<Option<Duration>>,
) -> RunOutcome<M> {
    let mut trace = Vec::new();
    let mut history = Vec::new();
    let (mut messages, mut local_hits) = (0, 0);
    let mut processes = Vec::new();
    let mut managers = Vec::new();
    for worker in workers {
        trace.extend(worker.trace);
        history.extend(worker.history);
        messages += worker.messages;
        local_hits += worker.local_hits;
        processes.extend(worker.processes.into_iter().map(|slot| slot.node));
        managers.extend(
            worker
                .managers
                .into_iter()
                .map(|slot| (slot.index, slot.node, slot.down)),
        );
    }
    processes.sort_by_key(|process| process.id());
    managers.sort_by_key(|(index, _, _)| *index);
    trace.sort_unstable_by_key(|(sequence, _)| *sequence);
    history.sort_by_key(|entry| (entry.completed_at, entry.invoked_at));
    RunOutcome {
        processes,
        managers: managers
            .into_iter()
            .map(|(_, node, down)| (node, down))
            .collect(),
        trace: trace.into_iter().map(|(_, item)| item).collect(),
        history,
        messages,
        local_hits,
        elapsed,
        failovers,
    }
}

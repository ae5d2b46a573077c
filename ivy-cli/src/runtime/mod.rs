//! The threaded runtime: one thread per node, connected by crossbeam channels, driving
//! the same sans-IO state machines as the simulator. Every process issues its
//! operations one after another (a fault blocks it, as in a real DSM) while serving
//! the messages other nodes send it; all processes start at once. A tick is a
//! millisecond since the start; a worker sleeps until a message arrives or the
//! earliest deadline of a node it hosts, so nodes that set no timer (the basic
//! system) are only ever woken by messages. Scheduled faults
//! crash and revive managers when a given request is issued: a kill crashes the
//! manager in the role it names at once (or, with `kill_waits`, once its peer holds
//! its state), and a kill that finds no such manager is reported, never skipped in
//! silence. A watchdog stops a run that makes no progress, and tells whether a kill
//! lost the state the run needs.

mod board;
mod clients;
mod faults;
mod inbox;
mod kills;
mod outcome;
mod timers;
mod watch;
mod worker;

pub use ivy_core::driver::{FaultAction, KillRole, MissReason, MissedKill, TraceItem};
pub use outcome::RunCounts;
pub use watch::ProgressHook;
use watch::Watch;

use board::ManagerBoard;
use crossbeam_channel::{unbounded, Sender};
use faults::SharedClocks;
use ivy_basic::CentralManager;
use ivy_core::driver::{lost_state, FaultSchedule, KillBook, Missing};
use ivy_core::ManagerNode;
use ivy_core::{Envelope, HistoryEntry, NoManager, NodeId, Process, ProcessNode, View, Workload};
use ivy_ft::FtManager;
use outcome::{assemble, join_all};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use thiserror::Error;
use worker::{Finished, Worker};

/// A manager the runtime can drive: the simulator's view of it (with the last
/// viewstamp its state reflects), and whose log it follows (what a waiting kill
/// compares).
pub trait RuntimeManager: ManagerNode {
    /// The view whose primary's log its state is a prefix of; `None` when blank.
    fn log_view(&self) -> Option<View>;
}

impl RuntimeManager for FtManager {
    fn log_view(&self) -> Option<View> {
        FtManager::log_view(self)
    }
}

impl RuntimeManager for NoManager {
    fn log_view(&self) -> Option<View> {
        match *self {}
    }
}

impl RuntimeManager for ivy_dist::ImprovedManager {
    fn log_view(&self) -> Option<View> {
        Some(View(0))
    }
}

impl RuntimeManager for CentralManager {
    fn log_view(&self) -> Option<View> {
        Some(View(0))
    }
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
    /// Faults by the request number at whose issue they happen.
    pub faults: BTreeMap<u64, Vec<FaultAction>>,
    /// After the operations, how long the managers may take to settle.
    pub settle_timeout: Duration,
    /// Run the nodes as actors on this many worker threads (node `i` on worker
    /// `i % threads`); `None`: one thread per node.
    pub threads: Option<usize>,
    /// Told how many operations have completed, a few times a second, and once more
    /// when the processes are done.
    pub progress: Option<ProgressHook>,
    /// How many inputs a worker handles in a row before it fires its timers and
    /// starts operations again (at least 1; [`DEFAULT_INPUTS_PER_TURN`]).
    pub inputs_per_turn: usize,
}

/// How many inputs a worker handles in a row by default: enough to empty a busy
/// inbox, few enough that a due timer or an idle process waits little.
pub const DEFAULT_INPUTS_PER_TURN: usize = 64;

/// How kills happen, and when a run that makes no progress is stopped.
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultHandling {
    /// A kill waits until the peer of the manager it names is up and holds all its
    /// state (for demonstrations); by default it crashes the manager at once.
    pub kill_waits: bool,
    /// Stop the run if no operation completes for this long; `None`: only the
    /// deadline stops it.
    pub stall_after: Option<Duration>,
}

/// A finished run: the nodes' final state and what was recorded.
pub struct RunOutcome<M, P = Process> {
    /// The processes, in id order.
    pub processes: Vec<P>,
    /// The managers, in id order, and whether each is down (crashed) at the end.
    pub managers: Vec<(M, bool)>,
    /// Handled messages and events in the order they happened (if recorded).
    pub trace: Vec<TraceItem>,
    /// Completed operations, times in nanoseconds since the start (if recorded).
    pub history: Vec<HistoryEntry>,
    /// What the run counted: messages, heartbeats, local hits, timer wake-ups.
    pub counts: RunCounts,
    /// From the start until the last operation completed.
    pub elapsed: Duration,
    /// For each crash of a primary, the time until the next primary served a request.
    pub failovers: Vec<Option<Duration>>,
    /// The scheduled kills that did not happen, by request.
    pub missed_kills: Vec<MissedKill>,
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
    /// Kills left no live manager holding state the run needs.
    #[error(
        "state lost: the kill at request {request} left no live manager holding {missing}; \
         the run cannot finish ({completed} of {total} operations done)"
    )]
    StateLost {
        /// The kill that lost it.
        request: u64,
        /// What no live manager holds.
        missing: Missing,
        /// Operations completed.
        completed: u64,
        /// Operations in the workload.
        total: u64,
    },
    /// The managers did not agree on a settled view in time after the operations.
    #[error("the managers did not settle within {0:?} after the last operation")]
    Unsettled(Duration),
    /// A worker thread panicked (a broken protocol invariant).
    #[error("worker thread {0} failed")]
    WorkerFailed(usize),
}

pub(crate) enum Input {
    /// Messages for nodes of this worker, all sent by one worker in one loop turn.
    Deliver(Vec<Envelope>),
    /// Crash the manager with this index (among the managers), as the kill due at
    /// `request` asks.
    Crash {
        index: usize,
        request: u64,
    },
    /// Revive the manager with this index.
    Revive(usize),
    Stop,
}

pub(crate) struct Shared {
    /// Each worker's inbox (node `i` lives on worker `i % workers.len()`).
    workers: Vec<Sender<Input>>,
    /// Whether an idle worker spins briefly before it parks (actors with a core each).
    spin_before_parking: bool,
    start: OnceLock<Instant>,
    start_barrier: Barrier,
    trace_sequence: AtomicU64,
    completed: AtomicU64,
    options: RuntimeOptions,
    first_manager: usize,
    handling: FaultHandling,
    board: ManagerBoard,
    /// The kill lock: every kill and revival is decided under it.
    kills: Mutex<KillBook>,
    /// Whether any fault is scheduled (the fast path skips the schedule's lock).
    has_faults: bool,
    /// The faults by request, and those not injected yet.
    schedule: Mutex<FaultSchedule>,
    failovers: SharedClocks,
}

impl Shared {
    /// The inbox of the worker hosting node `index`.
    fn inbox_of(&self, index: usize) -> &Sender<Input> {
        &self.workers[self.worker_of(index)]
    }

    /// Which worker hosts node `index`: process `i` on worker `i % K`, and, when there
    /// are fewer workers than processes, every manager on the worker after the last
    /// process's, together (a replicated pair
    /// exchanges a message for every fault: placed together, replication never
    /// crosses cores).
    fn worker_of(&self, index: usize) -> usize {
        worker_of(index, self.first_manager, self.workers.len())
    }

    fn now_ns(&self) -> u64 {
        self.start.get().expect("started").elapsed().as_nanos() as u64
    }
}

/// Runs `workload` on `processes` and `managers` (node ids in order: processes, then
/// managers), one thread each, until every operation has completed and the managers
/// have settled; kills crash at once and only the deadline stops a stalled run.
pub fn run<M: RuntimeManager + Send + 'static, P: ProcessNode + Send + 'static>(
    processes: Vec<P>,
    managers: Vec<M>,
    workload: Workload,
    options: RuntimeOptions,
) -> Result<RunOutcome<M, P>, RuntimeError> {
    run_with(
        processes,
        managers,
        workload,
        options,
        FaultHandling::default(),
    )
}

/// [`run`], with kills and stalls handled as `handling` says.
pub fn run_with<M: RuntimeManager + Send + 'static, P: ProcessNode + Send + 'static>(
    processes: Vec<P>,
    managers: Vec<M>,
    workload: Workload,
    options: RuntimeOptions,
    handling: FaultHandling,
) -> Result<RunOutcome<M, P>, RuntimeError> {
    let node_count = processes.len() + managers.len();
    let worker_count = options.threads.unwrap_or(node_count).clamp(1, node_count);
    let (workers, receivers): (Vec<_>, Vec<_>) = (0..worker_count).map(|_| unbounded()).unzip();
    let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
    let spin_before_parking = options.threads.is_some() && worker_count <= cores;
    let deadline = options.deadline;
    let settle_timeout = options.settle_timeout;
    let schedule = Mutex::new(FaultSchedule::new(options.faults.clone()));
    let has_faults = !options.faults.is_empty();
    let shared = Arc::new(Shared {
        workers,
        spin_before_parking,
        start: OnceLock::new(),
        start_barrier: Barrier::new(worker_count + 1),
        trace_sequence: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        options,
        first_manager: processes.len(),
        handling,
        // Every manager's status is on the board before any fault can look for it.
        board: ManagerBoard::new(&managers),
        kills: Mutex::new(KillBook::new(NodeId(processes.len() as u32))),
        has_faults,
        schedule,
        failovers: SharedClocks::default(),
    });
    let (done_sender, done_receiver) = unbounded();
    let total = workload.len() as u64;
    let process_count = processes.len();
    let mut workers: Vec<Worker<M, P>> = receivers
        .into_iter()
        .map(|inbox| Worker::new(inbox, shared.clone(), done_sender.clone(), node_count))
        .collect();
    for (id, (process, operations)) in processes
        .into_iter()
        .zip(workload.into_numbered_lists())
        .enumerate()
    {
        workers[worker_of(id, process_count, worker_count)].host_process(process, operations);
    }
    for (index, manager) in managers.into_iter().enumerate() {
        let worker = worker_of(process_count + index, process_count, worker_count);
        workers[worker].host_manager(manager, index);
    }
    let threads: Vec<JoinHandle<Finished<M, P>>> = workers
        .into_iter()
        .map(|worker| thread::spawn(move || worker.run()))
        .collect();
    let start = Instant::now();
    shared.start.set(start).expect("set once");
    shared.start_barrier.wait();
    let watch = Watch {
        deadline: start + deadline,
        stall_after: handling.stall_after,
        completed: &shared.completed,
        total,
        progress: shared.options.progress.clone(),
    };
    let stalled = watch.wait_for_processes(&done_receiver, process_count);
    let elapsed = start.elapsed();
    let settled = stalled || shared.board.wait_until_settled(settle_timeout);
    for sender in &shared.workers {
        let _ = sender.send(Input::Stop);
    }
    let finished = join_all(threads)?;
    let completed = shared.completed.load(Ordering::Relaxed);
    let book = shared.kills.lock().expect("no panics while locked");
    let missed_kills = book.missed();
    let outcome = assemble(
        finished,
        elapsed,
        shared.failovers.durations(),
        missed_kills,
    );
    if stalled || !settled {
        let performed = book.performed_kills();
        if let Some(lost) = lost_state(&outcome.processes, &outcome.managers, performed) {
            return Err(RuntimeError::StateLost {
                request: lost.request,
                missing: lost.missing,
                completed,
                total,
            });
        }
    }
    if stalled {
        return Err(RuntimeError::Stalled {
            completed,
            total,
            waited: elapsed,
        });
    }
    if !settled {
        return Err(RuntimeError::Unsettled(settle_timeout));
    }
    Ok(outcome)
}

/// The worker of node `index` among `workers`, in a system of `processes` processes
/// (see `Shared::worker_of`); with more workers than processes (a thread per node),
/// node `i` on worker `i`.
fn worker_of(index: usize, processes: usize, workers: usize) -> usize {
    match workers > processes {
        true => index % workers,
        false => index.min(processes) % workers,
    }
}

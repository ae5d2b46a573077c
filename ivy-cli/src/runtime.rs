//! The threaded runtime: one thread per node, connected by crossbeam channels, driving
//! the same sans-IO state machines as the simulator. Every process issues its
//! operations one after another (a fault blocks it, as in a real DSM) while serving
//! the messages other nodes send it; all processes start at once.

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use ivy_core::{
    Envelope, HistoryEntry, Node, NodeId, Operation, Outbox, Process, TraceRecord, Workload,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use thiserror::Error;

/// What to record, and how long to wait before declaring a run stalled.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeOptions {
    /// Record every handled message, in handling order.
    pub record_trace: bool,
    /// Record every completed operation with its invocation and completion times.
    pub record_history: bool,
    /// Give up if the operations have not all completed by then.
    pub deadline: Duration,
}

/// A finished run: the nodes' final state and what was recorded.
pub struct RunOutcome<M> {
    /// The processes, in id order.
    pub processes: Vec<Process>,
    /// The managers, in id order.
    pub managers: Vec<M>,
    /// Handled messages in the order their receivers handled them (if recorded).
    pub trace: Vec<TraceRecord>,
    /// Completed operations, times in nanoseconds since the start (if recorded).
    pub history: Vec<HistoryEntry>,
    /// Messages handled.
    pub messages: u64,
    /// Operations that completed without a fault.
    pub local_hits: u64,
    /// From the start until the last operation completed.
    pub elapsed: Duration,
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
    /// A node's thread panicked (a broken protocol invariant).
    #[error("node {0} failed")]
    NodeFailed(NodeId),
}

enum Input {
    Deliver(Envelope),
    Stop,
}

struct Shared {
    senders: Vec<Sender<Input>>,
    start: OnceLock<Instant>,
    start_barrier: Barrier,
    trace_sequence: AtomicU64,
    completed: AtomicU64,
    options: RuntimeOptions,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.get().expect("started").elapsed().as_nanos() as u64
    }
}

/// What a node's thread hands back.
struct Finished<N> {
    node: N,
    trace: Vec<(u64, TraceRecord)>,
    history: Vec<HistoryEntry>,
    messages: u64,
    local_hits: u64,
}

/// One node on its thread: its inbox, its reusable outbox and what it recorded.
struct Worker<N> {
    inbox: Receiver<Input>,
    shared: Arc<Shared>,
    outbox: Outbox,
    finished: Finished<N>,
}

impl<N: Node> Worker<N> {
    fn new(node: N, inbox: Receiver<Input>, shared: Arc<Shared>) -> Worker<N> {
        Worker {
            inbox,
            shared,
            outbox: Outbox::new(),
            finished: Finished {
                node,
                trace: Vec::new(),
                history: Vec::new(),
                messages: 0,
                local_hits: 0,
            },
        }
    }

    fn now_ticks(&self) -> u64 {
        self.shared.now_ns() / 1_000_000
    }

    /// Handles one message and sends what it produced; returns false on Stop.
    fn handle(&mut self, input: Input) -> bool {
        let Input::Deliver(envelope) = input else {
            return false;
        };
        self.finished.messages += 1;
        if self.shared.options.record_trace {
            let sequence = self.shared.trace_sequence.fetch_add(1, Ordering::Relaxed);
            self.finished
                .trace
                .push((sequence, TraceRecord::of(&envelope)));
        }
        let now_ticks = self.now_ticks();
        self.finished
            .node
            .handle_message(envelope, now_ticks, &mut self.outbox);
        true
    }

    /// Sends the outbox's messages; returns how many operations completed.
    fn flush(&mut self, invoked_ns: u64) -> usize {
        for envelope in self.outbox.messages.drain(..) {
            // A node that already stopped needs nothing more; ignore the send error.
            let _ = self.shared.senders[envelope.to.index()].send(Input::Deliver(envelope));
        }
        let completed = self.outbox.completions.len();
        if completed > 0 {
            let complete_ns = self.shared.now_ns();
            for completion in self.outbox.completions.drain(..) {
                if completion.fault.is_none() {
                    self.finished.local_hits += 1;
                }
                if self.shared.options.record_history {
                    self.finished.history.push(HistoryEntry {
                        process: completion.process,
                        op: completion.kind,
                        page: completion.page,
                        value: completion.value,
                        invoked_at: invoked_ns,
                        completed_at: complete_ns,
                    });
                }
            }
            self.shared
                .completed
                .fetch_add(completed as u64, Ordering::Relaxed);
        }
        self.outbox.events.clear();
        completed
    }
}

fn run_manager<M: Node>(mut worker: Worker<M>) -> Finished<M> {
    worker.shared.start_barrier.wait();
    while let Ok(input) = worker.inbox.recv() {
        if !worker.handle(input) {
            break;
        }
        worker.flush(0);
    }
    worker.finished
}

fn run_process(
    mut worker: Worker<Process>,
    operations: Vec<Operation>,
    done: Sender<NodeId>,
) -> Finished<Process> {
    worker.shared.start_barrier.wait();
    let mut operations = operations.into_iter();
    let mut invoked_ns = 0;
    let mut signalled_done = false;
    loop {
        while worker.finished.node.is_idle() {
            let Some(operation) = operations.next() else {
                break;
            };
            invoked_ns = worker.shared.now_ns();
            let now_ticks = worker.now_ticks();
            worker
                .finished
                .node
                .start(operation, now_ticks, &mut worker.outbox)
                .expect("workload operations name existing pages and start on an idle process");
            worker.flush(invoked_ns);
        }
        if !signalled_done && worker.finished.node.is_idle() {
            let _ = done.send(worker.finished.node.id());
            signalled_done = true;
        }
        let Ok(input) = worker.inbox.recv() else {
            break;
        };
        if !worker.handle(input) {
            break;
        }
        worker.flush(invoked_ns);
    }
    worker.finished
}

/// Runs `workload` on `processes` and `managers` (node ids in order: processes, then
/// managers), one thread each, until every operation has completed.
pub fn run<M: Node + Send + 'static>(
    processes: Vec<Process>,
    managers: Vec<M>,
    workload: Workload,
    options: RuntimeOptions,
) -> Result<RunOutcome<M>, RuntimeError> {
    let node_count = processes.len() + managers.len();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..node_count).map(|_| unbounded()).unzip();
    let shared = Arc::new(Shared {
        senders,
        start: OnceLock::new(),
        start_barrier: Barrier::new(node_count + 1),
        trace_sequence: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        options,
    });
    let mut receivers = receivers.into_iter();
    let (done_sender, done_receiver) = unbounded();
    let total = workload.len() as u64;
    let process_count = processes.len();
    let process_threads: Vec<JoinHandle<Finished<Process>>> = processes
        .into_iter()
        .zip(workload.into_lists())
        .map(|(process, operations)| {
            let worker = Worker::new(process, receivers.next().unwrap(), shared.clone());
            let done = done_sender.clone();
            thread::spawn(move || run_process(worker, operations, done))
        })
        .collect();
    let manager_threads: Vec<JoinHandle<Finished<M>>> = managers
        .into_iter()
        .map(|manager| {
            let worker = Worker::new(manager, receivers.next().unwrap(), shared.clone());
            thread::spawn(move || run_manager(worker))
        })
        .collect();
    let start = Instant::now();
    shared.start.set(start).expect("set once");
    shared.start_barrier.wait();
    let stalled = wait_for_processes(&done_receiver, process_count, start + options.deadline);
    let elapsed = start.elapsed();
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
    Ok(assemble(processes, managers, elapsed))
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

fn join_all<N: Node>(
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
        manager_nodes.push(finished.node);
    }
    trace.sort_unstable_by_key(|(sequence, _)| *sequence);
    history.sort_by_key(|entry| (entry.completed_at, entry.invoked_at));
    RunOutcome {
        processes: process_nodes,
        managers: manager_nodes,
        trace: trace.into_iter().map(|(_, record)| record).collect(),
        history,
        messages,
        local_hits,
        elapsed,
    }
}

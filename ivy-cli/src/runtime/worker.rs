//! One node on its own thread: it receives from its inbox, turns elapsed time into
//! ticks (one tick per millisecond), and sends what its state machine produced.

use super::events::{RunEvent, TraceItem};
use super::{Input, Shared};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ivy_core::sim::SimManager;
use ivy_core::{HistoryEntry, MessageKind, Node, NodeId, Operation, Outbox, Process, TraceRecord};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a node's thread hands back.
pub(super) struct Finished<N> {
    pub(super) node: N,
    pub(super) down: bool,
    pub(super) trace: Vec<(u64, TraceItem)>,
    pub(super) history: Vec<HistoryEntry>,
    pub(super) messages: u64,
    pub(super) local_hits: u64,
}

/// What waiting for an input gave.
enum Received {
    Input(Input),
    TimedOut,
    Closed,
}

impl From<Result<Input, RecvTimeoutError>> for Received {
    fn from(received: Result<Input, RecvTimeoutError>) -> Received {
        match received {
            Ok(input) => Received::Input(input),
            Err(RecvTimeoutError::Timeout) => Received::TimedOut,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }
}

pub(super) struct Worker<N> {
    inbox: Receiver<Input>,
    shared: Arc<Shared>,
    outbox: Outbox,
    next_tick: Instant,
    /// When the operation in progress was invoked (processes only).
    invoked_ns: u64,
    finished: Finished<N>,
}

impl<N: Node> Worker<N> {
    pub(super) fn new(node: N, inbox: Receiver<Input>, shared: Arc<Shared>) -> Worker<N> {
        Worker {
            inbox,
            shared,
            outbox: Outbox::new(),
            next_tick: Instant::now(),
            invoked_ns: 0,
            finished: Finished {
                node,
                down: false,
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

    fn record(&mut self, item: TraceItem) {
        let sequence = self.shared.trace_sequence.fetch_add(1, Ordering::Relaxed);
        self.finished.trace.push((sequence, item));
    }

    fn record_event(&mut self, event: RunEvent) {
        if self.shared.options.record_trace {
            self.record(TraceItem::Event(event));
        }
    }

    /// The next input, handling ticks that fall due meanwhile; `None` when every
    /// sender is gone.
    fn receive(&mut self) -> Option<Input> {
        loop {
            match self.receive_until(None) {
                Received::Input(input) => return Some(input),
                Received::TimedOut => continue,
                Received::Closed => return None,
            }
        }
    }

    /// Like [`Worker::receive`], giving up at `deadline`.
    fn receive_until(&mut self, deadline: Option<Instant>) -> Received {
        let Some(tick) = self.shared.options.tick else {
            let received = match deadline {
                None => self
                    .inbox
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(deadline) => self.inbox.recv_deadline(deadline),
            };
            return Received::from(received);
        };
        let now = Instant::now();
        if now >= self.next_tick {
            self.next_tick = now + tick;
            if !self.finished.down {
                let now_ticks = self.now_ticks();
                self.finished.node.handle_tick(now_ticks, &mut self.outbox);
                self.flush();
            }
        }
        let wake = deadline.map_or(self.next_tick, |deadline| deadline.min(self.next_tick));
        Received::from(self.inbox.recv_deadline(wake))
    }

    /// Handles one delivered message, unless this node is down (then it is lost).
    fn deliver(&mut self, envelope: ivy_core::Envelope) -> MessageKind {
        let kind = envelope.message.kind();
        if self.finished.down {
            return kind;
        }
        self.finished.messages += 1;
        let options = &self.shared.options;
        if options.record_trace && (options.record_heartbeats || !kind.is_heartbeat()) {
            self.record(TraceItem::Message(TraceRecord::of(&envelope)));
        }
        let now_ticks = self.now_ticks();
        let node = &mut self.finished.node;
        node.handle_message(envelope, now_ticks, &mut self.outbox);
        if self.inbox.is_empty() {
            node.handle_idle(now_ticks, &mut self.outbox);
        }
        self.flush();
        kind
    }

    /// Sends the outbox's messages and records its completions and events.
    fn flush(&mut self) {
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
                        invoked_at: self.invoked_ns,
                        completed_at: complete_ns,
                    });
                }
            }
            self.shared
                .completed
                .fetch_add(completed as u64, Ordering::Relaxed);
        }
        let events = std::mem::take(&mut self.outbox.events);
        for event in &events {
            self.record_event(RunEvent::Manager(*event));
        }
        self.outbox.events = events;
        self.outbox.events.clear();
    }
}

impl<M: SimManager> Worker<M> {
    fn publish(&self, index: usize) {
        self.shared
            .board
            .publish(index, &self.finished.node, self.finished.down);
    }

    /// Crashes this manager if its peer holds all its state; returns whether it did.
    fn try_crash(&mut self, index: usize) -> bool {
        if !self.shared.board.may_crash(index, &self.finished.node) {
            return false;
        }
        let was_primary = self.finished.node.authority().is_some_and(|(_, p)| p);
        if let (true, Some((view, _))) = (was_primary, self.finished.node.authority()) {
            self.shared.failovers.start(self.shared.now_ns(), view);
        }
        self.finished.node = self.finished.node.crashed();
        self.finished.down = true;
        let manager = self.finished.node.id();
        self.record_event(RunEvent::Killed {
            manager,
            was_primary,
        });
        true
    }
}

pub(super) fn run_manager<M: SimManager>(mut worker: Worker<M>, index: usize) -> Finished<M> {
    worker.shared.start_barrier.wait();
    worker.publish(index);
    let mut crash_pending = false;
    while let Some(input) = worker.receive() {
        match input {
            Input::Stop => break,
            Input::Deliver(envelope) => {
                let kind = worker.deliver(envelope);
                let confirmation = matches!(
                    kind,
                    MessageKind::ReadConfirmation | MessageKind::WriteConfirmation
                );
                if confirmation && worker.shared.failovers.any_running() {
                    if let Some((view, true)) = worker.finished.node.authority() {
                        worker.shared.failovers.served(view, worker.shared.now_ns());
                    }
                }
            }
            Input::Crash => {
                crash_pending = !worker.finished.down;
                if crash_pending && !worker.try_crash(index) {
                    let manager = worker.finished.node.id();
                    worker.record_event(RunEvent::KillDeferred { manager });
                } else {
                    crash_pending = false;
                }
            }
            Input::Revive => {
                crash_pending = false;
                if worker.finished.down {
                    worker.finished.down = false;
                    let manager = worker.finished.node.id();
                    worker.record_event(RunEvent::Revived { manager });
                }
            }
        }
        if crash_pending && worker.try_crash(index) {
            crash_pending = false;
        }
        worker.publish(index);
    }
    worker.finished
}

pub(super) fn run_process(
    mut worker: Worker<Process>,
    operations: Vec<(u64, Operation)>,
    done: crossbeam_channel::Sender<NodeId>,
) -> Finished<Process> {
    worker.shared.start_barrier.wait();
    let mut operations = operations.into_iter().peekable();
    let mut signalled_done = false;
    loop {
        let mut waiting_for_faults = false;
        while worker.finished.node.is_idle() {
            let Some(&(request_number, operation)) = operations.peek() else {
                break;
            };
            // Faults happen in request order: wait (serving messages) until every
            // fault of an earlier request has been injected.
            if !worker.shared.faults_ready(request_number) {
                waiting_for_faults = true;
                break;
            }
            operations.next();
            worker.shared.inject_faults_at(request_number);
            worker.invoked_ns = worker.shared.now_ns();
            let now_ticks = worker.now_ticks();
            worker
                .finished
                .node
                .start(operation, now_ticks, &mut worker.outbox)
                .expect("workload operations name existing pages and start on an idle process");
            worker.flush();
        }
        if !signalled_done && worker.finished.node.is_idle() && operations.peek().is_none() {
            let _ = done.send(worker.finished.node.id());
            signalled_done = true;
        }
        let received = if waiting_for_faults {
            worker.receive_until(Some(Instant::now() + Duration::from_micros(200)))
        } else {
            worker.receive_until(None)
        };
        match received {
            Received::Input(Input::Deliver(envelope)) => {
                worker.deliver(envelope);
            }
            Received::Input(Input::Stop) | Received::Closed => break,
            Received::Input(Input::Crash | Input::Revive) | Received::TimedOut => {}
        }
    }
    worker.finished
}

//! A worker thread hosting one node (the thread-per-node runtime) or several (the
//! actor runtime, `--threads K`): it receives from its inbox, delivers messages
//! between its own nodes through a local queue (no channel, no wake-up), turns elapsed
//! time into ticks (one per millisecond), and starts each process's next operation as
//! soon as the process is idle.

use super::events::{RunEvent, TraceItem};
use super::{Input, RunCounts, RuntimeManager, Shared};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ivy_core::{Envelope, HistoryEntry, Node, NodeId, Operation, Outbox, Process, TraceRecord};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A process and the operations it has left.
pub(super) struct ProcessSlot {
    pub(super) node: Process,
    operations: Vec<(u64, Operation)>,
    /// The next operation to start.
    next: usize,
    invoked_ns: u64,
    reported_done: bool,
}

/// A manager, its index among the managers, and whether it is crashed.
pub(super) struct ManagerSlot<M> {
    pub(super) node: M,
    pub(super) index: usize,
    pub(super) down: bool,
    /// A kill waits for its peer to hold its state (`--kill-waits`).
    pub(super) crash_pending: bool,
    /// How many of its kills this worker has carried out (the board's generation).
    pub(super) generation: u64,
}

pub(super) enum Hosted<M> {
    Process(Box<ProcessSlot>),
    Manager(ManagerSlot<M>),
}

/// What a worker hands back.
pub(super) struct Finished<M> {
    pub(super) processes: Vec<ProcessSlot>,
    pub(super) managers: Vec<ManagerSlot<M>>,
    pub(super) trace: Vec<(u64, TraceItem)>,
    pub(super) history: Vec<HistoryEntry>,
    pub(super) counts: RunCounts,
}

pub(super) struct Worker<M> {
    inbox: Receiver<Input>,
    pub(super) shared: Arc<Shared>,
    done: Sender<NodeId>,
    pub(super) hosted: Vec<Hosted<M>>,
    /// For every node id, its slot in `hosted` if this worker hosts it.
    slot_of: Vec<Option<usize>>,
    local: VecDeque<Envelope>,
    outbox: Outbox,
    /// The time in ticks, read once per batch of inputs rather than per message.
    now_ticks: u64,
    trace: Vec<(u64, TraceItem)>,
    history: Vec<HistoryEntry>,
    counts: RunCounts,
}

impl<M: RuntimeManager> Worker<M> {
    pub(super) fn new(
        inbox: Receiver<Input>,
        shared: Arc<Shared>,
        done: Sender<NodeId>,
        node_count: usize,
    ) -> Worker<M> {
        Worker {
            inbox,
            shared,
            done,
            hosted: Vec::new(),
            slot_of: vec![None; node_count],
            local: VecDeque::new(),
            outbox: Outbox::new(),
            now_ticks: 0,
            trace: Vec::new(),
            history: Vec::new(),
            counts: RunCounts::default(),
        }
    }

    pub(super) fn host_process(&mut self, node: Process, operations: Vec<(u64, Operation)>) {
        self.slot_of[node.id().index()] = Some(self.hosted.len());
        self.hosted.push(Hosted::Process(Box::new(ProcessSlot {
            node,
            operations,
            next: 0,
            invoked_ns: 0,
            reported_done: false,
        })));
    }

    pub(super) fn host_manager(&mut self, node: M, index: usize) {
        self.slot_of[node.id().index()] = Some(self.hosted.len());
        self.hosted.push(Hosted::Manager(ManagerSlot {
            node,
            index,
            down: false,
            crash_pending: false,
            generation: 0,
        }));
    }

    pub(super) fn record(&mut self, item: TraceItem) {
        if self.shared.options.record_trace {
            let sequence = self.shared.trace_sequence.fetch_add(1, Ordering::Relaxed);
            self.trace.push((sequence, item));
        }
    }

    /// Runs until told to stop.
    pub(super) fn run(mut self) -> Finished<M> {
        self.shared.start_barrier.wait();
        self.publish_all();
        loop {
            self.fire_due_timers();
            if self.shared.handling.kill_waits {
                self.retry_waiting_kills();
            }
            let waiting_for_faults = self.start_operations();
            self.drain_local();
            if self.inbox.is_empty() {
                self.idle_managers();
                self.drain_local();
            }
            if self.can_start_more() {
                continue;
            }
            // Sleep until the next message or the earliest deadline; with no timer
            // set (a basic system), only a message wakes the worker.
            let deadline = self.next_deadline();
            let wake = match waiting_for_faults {
                true => {
                    let soon = Instant::now() + Duration::from_micros(200);
                    Some(deadline.map_or(soon, |deadline| deadline.min(soon)))
                }
                false => deadline,
            };
            let received = match wake {
                None => self
                    .inbox
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(wake) => self.inbox.recv_deadline(wake),
            };
            match received {
                Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(input) => {
                    // The wait may have been long: the input is handled at its own time.
                    self.now_ticks = self.shared.now_ns() / 1_000_000;
                    self.handle_input(input)
                }
                Err(RecvTimeoutError::Timeout) => self.counts.timed_wakeups += 1,
            }
        }
        self.finish()
    }

    fn handle_input(&mut self, input: Input) {
        match input {
            Input::Deliver(envelope) => self.deliver(envelope),
            Input::Crash { index, request } => self.crash(index, request),
            Input::Revive(index) => self.revive(index),
            Input::Stop => {}
        }
    }

    /// Reads the clock (a tick is a millisecond since the start), and fires every
    /// timer of a hosted live node that is due.
    fn fire_due_timers(&mut self) {
        self.now_ticks = self.shared.now_ns() / 1_000_000;
        let now_ticks = self.now_ticks;
        for slot in 0..self.hosted.len() {
            let fired = match &mut self.hosted[slot] {
                Hosted::Process(process) => {
                    process.node.handle_due_timers(now_ticks, &mut self.outbox)
                }
                Hosted::Manager(manager) if !manager.down => {
                    manager.node.handle_due_timers(now_ticks, &mut self.outbox)
                }
                Hosted::Manager(_) => 0,
            };
            if fired > 0 {
                self.counts.timer_firings += fired as u64;
                self.route(slot);
            }
        }
    }

    /// When the earliest timer of a hosted live node is due, if any is set.
    fn next_deadline(&self) -> Option<Instant> {
        let deadlines = self.hosted.iter().filter_map(|hosted| match hosted {
            Hosted::Process(process) => process.node.next_deadline().map(|d| d.at_ticks),
            Hosted::Manager(manager) if !manager.down => {
                manager.node.next_deadline().map(|d| d.at_ticks)
            }
            Hosted::Manager(_) => None,
        });
        let start = *self.shared.start.get().expect("started");
        deadlines
            .min()
            .map(|ticks| start + Duration::from_millis(ticks))
    }

    /// Starts the next operation of every idle process whose turn has come; returns
    /// whether a process waits for an earlier request's fault to be injected.
    fn start_operations(&mut self) -> bool {
        let mut waiting = false;
        for slot in 0..self.hosted.len() {
            while let Hosted::Process(process) = &mut self.hosted[slot] {
                if !process.node.is_idle() {
                    break;
                }
                let Some(&(request_number, operation)) = process.operations.get(process.next)
                else {
                    break;
                };
                if !self.shared.faults_ready(request_number) {
                    waiting = true;
                    break;
                }
                process.next += 1;
                let events = self.shared.inject_faults_at(request_number);
                process.invoked_ns = self.shared.now_ns();
                let now_ticks = process.invoked_ns / 1_000_000;
                process
                    .node
                    .start(operation, now_ticks, &mut self.outbox)
                    .expect("workload operations name existing pages and start idle");
                for event in events {
                    self.record(TraceItem::Event(event));
                }
                self.route(slot);
            }
            self.report_done(slot);
        }
        waiting
    }

    fn can_start_more(&self) -> bool {
        !self.local.is_empty()
            || self.hosted.iter().any(|hosted| match hosted {
                Hosted::Process(process) => {
                    process.node.is_idle()
                        && process
                            .operations
                            .get(process.next)
                            .is_some_and(|&(number, _)| self.shared.faults_ready(number))
                }
                Hosted::Manager(_) => false,
            })
    }

    fn report_done(&mut self, slot: usize) {
        if let Hosted::Process(process) = &mut self.hosted[slot] {
            let finished = process.node.is_idle() && process.next == process.operations.len();
            if finished && !process.reported_done {
                process.reported_done = true;
                let _ = self.done.send(process.node.id());
            }
        }
    }

    fn drain_local(&mut self) {
        while let Some(envelope) = self.local.pop_front() {
            self.deliver(envelope);
        }
    }

    /// Lets every hosted manager send what it batched.
    fn idle_managers(&mut self) {
        let now_ticks = self.now_ticks;
        for slot in 0..self.hosted.len() {
            if let Hosted::Manager(manager) = &mut self.hosted[slot] {
                if !manager.down {
                    manager.node.handle_idle(now_ticks, &mut self.outbox);
                    self.route(slot);
                }
            }
        }
    }

    /// Hands a message to the hosted node it is for; lost if that node is down.
    fn deliver(&mut self, envelope: Envelope) {
        let Some(slot) = self.slot_of[envelope.to.index()] else {
            return; // not hosted here: a routing bug would show as a stalled run
        };
        let kind = envelope.message.kind();
        if let Hosted::Manager(manager) = &self.hosted[slot] {
            if manager.down {
                return;
            }
        }
        if kind.is_heartbeat() {
            self.counts.heartbeats += 1;
        } else {
            self.counts.messages += 1;
        }
        let options = &self.shared.options;
        if options.record_trace && (options.record_heartbeats || !kind.is_heartbeat()) {
            self.record(TraceItem::Message(TraceRecord::of(&envelope)));
        }
        let now_ticks = self.now_ticks;
        match &mut self.hosted[slot] {
            Hosted::Process(process) => {
                process
                    .node
                    .handle_message(envelope, now_ticks, &mut self.outbox)
            }
            Hosted::Manager(manager) => {
                manager
                    .node
                    .handle_message(envelope, now_ticks, &mut self.outbox)
            }
        }
        self.route(slot);
        if let Hosted::Manager(_) = self.hosted[slot] {
            self.after_manager_input(slot, kind);
        }
    }

    /// Sends the outbox's messages (locally when this worker hosts the receiver) and
    /// records the completions and events of the node in `slot`.
    fn route(&mut self, slot: usize) {
        for envelope in self.outbox.messages.drain(..) {
            if self.slot_of[envelope.to.index()].is_some() {
                self.local.push_back(envelope);
            } else {
                // A worker that already stopped needs nothing more.
                let _ = self.shared.senders[envelope.to.index()].send(Input::Deliver(envelope));
            }
        }
        let completed = self.outbox.completions.len();
        if completed > 0 {
            let invoked_ns = match &self.hosted[slot] {
                Hosted::Process(process) => process.invoked_ns,
                Hosted::Manager(_) => 0,
            };
            let complete_ns = self.shared.now_ns();
            for completion in self.outbox.completions.drain(..) {
                if completion.fault.is_none() {
                    self.counts.local_hits += 1;
                }
                if self.shared.options.record_history {
                    let entry = HistoryEntry::of(&completion, invoked_ns, complete_ns);
                    self.history.push(entry);
                }
            }
            self.shared
                .completed
                .fetch_add(completed as u64, Ordering::Relaxed);
            self.report_done(slot);
        }
        let events = std::mem::take(&mut self.outbox.events);
        for &event in &events {
            self.record(TraceItem::Event(RunEvent::Manager(event)));
        }
        self.outbox.events = events;
        self.outbox.events.clear();
    }

    fn finish(self) -> Finished<M> {
        let mut processes = Vec::new();
        let mut managers = Vec::new();
        for hosted in self.hosted {
            match hosted {
                Hosted::Process(process) => processes.push(*process),
                Hosted::Manager(manager) => managers.push(manager),
            }
        }
        Finished {
            processes,
            managers,
            trace: self.trace,
            history: self.history,
            counts: self.counts,
        }
    }
}

//! A worker thread hosting one node (the thread-per-node runtime) or several (the
//! actor runtime, the default): it receives from its inbox, delivers messages
//! between its own nodes through a local queue (no channel, no wake-up), turns elapsed
//! time into ticks (one per millisecond), and starts each process's next operation as
//! soon as the process is idle.

use super::inbox::Wake;
use super::{Input, RunCounts, RuntimeManager, Shared};
use crossbeam_channel::{Receiver, Sender};
use ivy_core::driver::{Client, RunEvent, TraceItem};
use ivy_core::{Envelope, HistoryEntry, NodeId, Operation, Outbox, ProcessNode, TraceRecord};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A process, the operations it has left, and whether it told the runtime it is done.
pub(super) struct ProcessSlot<P> {
    pub(super) client: Client<P>,
    pub(super) reported_done: bool,
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

pub(super) enum Hosted<M, P> {
    Process(Box<ProcessSlot<P>>),
    Manager(ManagerSlot<M>),
}

/// What a worker hands back.
pub(super) struct Finished<M, P> {
    pub(super) processes: Vec<ProcessSlot<P>>,
    pub(super) managers: Vec<ManagerSlot<M>>,
    pub(super) trace: Vec<(u64, TraceItem)>,
    pub(super) history: Vec<HistoryEntry>,
    pub(super) counts: RunCounts,
}

pub(super) struct Worker<M, P> {
    pub(super) inbox: Receiver<Input>,
    pub(super) shared: Arc<Shared>,
    pub(super) done: Sender<NodeId>,
    pub(super) hosted: Vec<Hosted<M, P>>,
    /// For every node id, its slot in `hosted` if this worker hosts it.
    slot_of: Vec<Option<usize>>,
    /// For every slot, the tick at which its node next needs to be woken, and whether
    /// that may have moved since it was asked.
    pub(super) deadlines: Vec<Option<u64>>,
    pub(super) stale_deadlines: Vec<bool>,
    pub(super) local: VecDeque<Envelope>,
    /// Messages for each other worker's nodes, sent at the end of the loop turn.
    pub(super) outgoing: Vec<Vec<Envelope>>,
    pub(super) outbox: Outbox,
    /// The time in ticks, read once per batch of inputs rather than per message.
    pub(super) now_ticks: u64,
    trace: Vec<(u64, TraceItem)>,
    pub(super) history: Vec<HistoryEntry>,
    pub(super) counts: RunCounts,
    /// Completions not yet added to the shared count.
    pub(super) unpublished_completions: u64,
    /// While set, the time completions are recorded at (read after they happened).
    pub(super) completion_clock: Option<u64>,
}

impl<M: RuntimeManager, P: ProcessNode> Worker<M, P> {
    pub(super) fn new(
        inbox: Receiver<Input>,
        shared: Arc<Shared>,
        done: Sender<NodeId>,
        node_count: usize,
    ) -> Worker<M, P> {
        let shared_workers = shared.workers.len();
        Worker {
            inbox,
            shared,
            done,
            hosted: Vec::new(),
            slot_of: vec![None; node_count],
            deadlines: Vec::new(),
            stale_deadlines: Vec::new(),
            local: VecDeque::new(),
            outgoing: vec![Vec::new(); shared_workers],
            outbox: Outbox::new(),
            now_ticks: 0,
            trace: Vec::new(),
            history: Vec::new(),
            counts: RunCounts::default(),
            unpublished_completions: 0,
            completion_clock: None,
        }
    }

    pub(super) fn host_process(&mut self, node: P, operations: Vec<(u64, Operation)>) {
        self.slot_of[node.id().index()] = Some(self.hosted.len());
        if self.shared.options.record_history {
            self.history.reserve(operations.len());
        }
        self.hosted.push(Hosted::Process(Box::new(ProcessSlot {
            client: Client::new(node, operations),
            reported_done: false,
        })));
        self.deadlines.push(None);
        self.stale_deadlines.push(true);
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
        self.deadlines.push(None);
        self.stale_deadlines.push(true);
    }

    pub(super) fn record(&mut self, item: TraceItem) {
        if self.shared.options.record_trace {
            let sequence = self.shared.trace_sequence.fetch_add(1, Ordering::Relaxed);
            self.trace.push((sequence, item));
        }
    }

    /// Runs until told to stop.
    pub(super) fn run(mut self) -> Finished<M, P> {
        self.shared.start_barrier.wait();
        self.publish_all();

        loop {
            self.fire_due_timers();
            if self.shared.handling.kill_waits {
                self.retry_waiting_kills();
            }
            let waiting_for_faults = self.start_operations();
            self.flush_outgoing();
            self.drain_local();
            if self.inbox.is_empty() {
                self.idle_managers();
                self.drain_local();
            }
            self.flush_outgoing();
            self.publish_completed();
            if self.can_start_more() {
                continue;
            }
            match self.next_input(waiting_for_faults) {
                Wake::Input(input) => {
                    if !self.handle_inputs(input) {
                        break;
                    }
                }
                Wake::Stop => break,
                Wake::TimedOut => self.counts.timed_wakeups += 1,
            }
        }
        self.finish()
    }

    pub(super) fn handle_input(&mut self, input: Input) {
        match input {
            Input::Deliver(envelopes) => {
                for envelope in envelopes {
                    self.deliver(envelope);
                }
            }
            Input::Crash { index, request } => self.crash(index, request),
            Input::Revive(index) => self.revive(index),
            Input::Stop => {}
        }
    }

    pub(super) fn drain_local(&mut self) {
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
                let node = &mut process.client.process;
                node.handle_message(envelope, now_ticks, &mut self.outbox)
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
    pub(super) fn route(&mut self, slot: usize) {
        for envelope in self.outbox.messages.drain(..) {
            let to = envelope.to.index();
            if self.slot_of[to].is_some() {
                self.local.push_back(envelope);
            } else {
                let worker = self.shared.worker_of(to);
                self.outgoing[worker].push(envelope);
            }
        }
        if !self.outbox.completions.is_empty() {
            let mut completions = std::mem::take(&mut self.outbox.completions);
            self.record_completions(slot, &completions);
            completions.clear();
            self.outbox.completions = completions; // keeps its capacity
        }
        let events = std::mem::take(&mut self.outbox.events);
        for &event in &events {
            self.record(TraceItem::Event(RunEvent::Manager(event)));
        }
        self.outbox.events = events;
        self.outbox.events.clear();
        self.deadline_may_have_moved(slot);
    }

    fn finish(self) -> Finished<M, P> {
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

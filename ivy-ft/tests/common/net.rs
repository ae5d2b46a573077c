//! A hand-driven network for scenario tests of the replicated managers: messages
//! travel in FIFO order unless a test holds, injects or drops some; time passes only
//! when nothing is in flight; managers crash (restart blank as a new incarnation),
//! stay down, pause and resume when the test says. After every step the processes
//! are checked against the live manager of greatest reach while one holds the state
//! processes acted on (the oracle of `ivy_core::held_state`).

use ivy_core::ManagerNode;
use ivy_core::{
    check_coherence, check_linearizable, ActedOn, Envelope, HistoryEntry, LogPosition, Node,
    NodeEvent, NodeId, Operation, Outbox, Process, ProcessOptions, SystemConfig,
};
use ivy_ft::FtManager;
use std::collections::VecDeque;

/// Whether a manager is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    /// Keeps its state; messages to it wait; it does not tick.
    Paused,
    /// Crashed; messages to it are lost.
    Down,
}

/// Three processes or more, two managers (index 0 is the original primary).
pub struct Net {
    pub processes: Vec<Process>,
    pub managers: Vec<FtManager>,
    pub status: Vec<Status>,
    pub in_flight: VecDeque<Envelope>,
    pub now_ticks: u64,
    pub events: Vec<NodeEvent>,
    pub history: Vec<HistoryEntry>,
    /// While set, messages between the managers wait (a slow link, or a manager
    /// starved of the CPU that still ticks).
    pub managers_cut_off: bool,
    /// Messages taken off the network to be handled (or lost, to a crashed manager).
    pub deliveries: u64,
    /// What the test is doing, for failure messages.
    pub label: String,
    remaining: Vec<VecDeque<Operation>>,
    invoked_at: Vec<u64>,
    acted_on: ActedOn,
    steps: u64,
}

impl Net {
    /// A system of one process per list of `workload` and `pages` pages.
    pub fn new(workload: &[Vec<Operation>], pages: u32) -> Net {
        let config = SystemConfig::new(workload.len() as u32, pages, 8).expect("a valid size");
        let ft = super::timing();
        let options = ProcessOptions::replicated(&config, ft.process_retry_ticks());
        let mut net = Net {
            processes: config
                .process_ids()
                .map(|id| Process::new(id, &config, options.clone()))
                .collect(),
            managers: vec![
                FtManager::new(&config, config.manager(), ft),
                FtManager::new(&config, config.backup_manager(), ft),
            ],
            status: vec![Status::Up; 2],
            in_flight: VecDeque::new(),
            now_ticks: 0,
            events: Vec::new(),
            history: Vec::new(),
            managers_cut_off: false,
            deliveries: 0,
            label: String::new(),
            remaining: workload
                .iter()
                .map(|ops| ops.iter().copied().collect())
                .collect(),
            invoked_at: vec![0; workload.len()],
            acted_on: ActedOn::new(pages),
            steps: 0,
        };
        net.start_idle_processes();
        net
    }

    /// Manager `index` crashes: it restarts blank, as a new incarnation, when revived.
    pub fn crash(&mut self, index: usize) {
        self.managers[index] = self.managers[index].crashed();
        self.status[index] = Status::Down;
    }

    pub fn set_status(&mut self, index: usize, status: Status) {
        self.status[index] = status;
    }

    /// Takes the first message in flight that `matches` out of the network.
    pub fn take(&mut self, matches: impl Fn(&Envelope) -> bool) -> Option<Envelope> {
        let position = self.in_flight.iter().position(matches)?;
        self.in_flight.remove(position)
    }

    /// Delivers `envelope` now (a late or duplicated message), then checks.
    pub fn inject(&mut self, envelope: Envelope) {
        let mut out = Outbox::new();
        self.deliver(envelope, &mut out);
        self.check();
    }

    /// Takes one step: the first deliverable message, or a tick when none is.
    pub fn step(&mut self) {
        self.steps += 1;
        let mut out = Outbox::new();
        let deliverable = self.in_flight.iter().position(|envelope| {
            let to = self.manager_index(envelope.to);
            let between_managers = to.is_some() && self.manager_index(envelope.from).is_some();
            to.is_none_or(|index| self.status[index] != Status::Paused)
                && !(self.managers_cut_off && between_managers)
        });
        match deliverable {
            Some(position) => {
                let envelope = self.in_flight.remove(position).expect("a message");
                self.deliver(envelope, &mut out);
            }
            None => self.tick(&mut out),
        }
        self.check();
    }

    /// Steps until `done` holds; panics after `step_limit` steps.
    pub fn run_until(&mut self, step_limit: u64, done: impl Fn(&Net) -> bool) {
        let start = self.steps;
        while !done(self) {
            assert!(
                self.steps - start < step_limit,
                "{}: not done after {step_limit} steps; events: {:?}",
                self.label,
                self.events
            );
            self.step();
        }
    }

    /// Runs until every operation completed and the managers that are not down are
    /// up and settled in one view; then each must agree with the processes, and the
    /// history must be linearizable with one entry per operation.
    pub fn run_to_end(&mut self, step_limit: u64, operations: usize) {
        self.run_until(step_limit, Net::is_done);
        for manager in self.live_managers() {
            let Some(held) = manager.state() else {
                panic!(
                    "{}: {} is live and holds no state at the end",
                    self.label,
                    manager.id()
                );
            };
            if let Err(violation) = check_coherence(&self.processes, held) {
                panic!(
                    "{}: {} disagrees at the end: {violation}",
                    self.label,
                    manager.id()
                );
            }
        }
        assert_eq!(
            self.history.len(),
            operations,
            "{}: every operation once",
            self.label
        );
        if let Err(violation) = check_linearizable(&self.history) {
            panic!("{}: {violation}", self.label);
        }
    }

    pub fn is_done(&self) -> bool {
        let live: Vec<&FtManager> = self.live_managers().collect();
        let settled = live.first().and_then(|m| m.settled_view());
        self.in_flight.is_empty()
            && self.remaining.iter().all(VecDeque::is_empty)
            && self.processes.iter().all(Process::is_idle)
            && !self.status.contains(&Status::Paused)
            && settled.is_some()
            && live.iter().all(|m| m.settled_view() == settled)
            && live.iter().any(|m| m.authority().is_some_and(|a| a.1))
    }

    /// The managers that are not down.
    pub fn live_managers(&self) -> impl Iterator<Item = &FtManager> {
        let status = &self.status;
        let live = self.managers.iter().zip(status);
        live.filter(|(_, &s)| s != Status::Down).map(|(m, _)| m)
    }

    /// How often `event` was reported.
    pub fn count(&self, event: impl Fn(&NodeEvent) -> bool) -> usize {
        self.events.iter().filter(|&e| event(e)).count()
    }

    /// Whether a live manager holds everything processes acted on.
    pub fn state_is_held(&self) -> bool {
        self.authority().is_some()
    }

    fn manager_index(&self, node: NodeId) -> Option<usize> {
        node.index().checked_sub(self.processes.len())
    }

    fn deliver(&mut self, envelope: Envelope, out: &mut Outbox) {
        self.deliveries += 1;
        match self.manager_index(envelope.to) {
            Some(index) if self.status[index] == Status::Down => {} // lost
            Some(index) => {
                self.managers[index].handle_message(envelope, self.now_ticks, out);
                self.managers[index].handle_idle(self.now_ticks, out);
            }
            None => {
                let to = envelope.to.index();
                self.processes[to].handle_message(envelope, self.now_ticks, out)
            }
        }
        self.absorb(out);
    }

    fn tick(&mut self, out: &mut Outbox) {
        self.now_ticks += 1;
        for process in &mut self.processes {
            process.handle_due_timers(self.now_ticks, out);
        }
        for index in 0..self.managers.len() {
            if self.status[index] == Status::Up {
                self.managers[index].handle_due_timers(self.now_ticks, out);
            }
        }
        self.absorb(out);
    }

    fn absorb(&mut self, out: &mut Outbox) {
        for envelope in &out.messages {
            if envelope.from.index() < self.processes.len() {
                self.acted_on.observe(&envelope.message);
            }
        }
        self.in_flight.extend(out.messages.drain(..));
        self.events.append(&mut out.events);
        let mut started = false;
        for completion in out.completions.drain(..) {
            let process = completion.process.index();
            self.history.push(HistoryEntry {
                process: completion.process,
                op: completion.kind,
                page: completion.page,
                value: completion.value,
                invoked_at: self.invoked_at[process],
                completed_at: self.steps,
            });
            started = true;
        }
        if started {
            self.start_idle_processes();
        }
    }

    fn start_idle_processes(&mut self) {
        let mut out = Outbox::new();
        for index in 0..self.processes.len() {
            if self.processes[index].is_idle() {
                if let Some(operation) = self.remaining[index].pop_front() {
                    self.invoked_at[index] = self.steps;
                    self.processes[index]
                        .start(operation, self.now_ticks, &mut out)
                        .expect("an idle process");
                }
            }
        }
        self.absorb(&mut out);
    }

    /// The live manager of greatest reach that holds what processes acted on.
    fn authority(&self) -> Option<usize> {
        let newest_accepted = self.processes.iter().map(Process::accepted).max();
        let newest_accepted = newest_accepted.unwrap_or(LogPosition::ZERO);
        (0..self.managers.len())
            .filter(|&index| self.status[index] != Status::Down)
            .filter(|&index| {
                let manager = &self.managers[index];
                let (Some(reach), Some(held)) = (manager.reach(), manager.state()) else {
                    return false;
                };
                self.acted_on
                    .first_unheld(held, reach, newest_accepted)
                    .is_none()
            })
            .max_by_key(|&index| self.managers[index].rank())
    }

    fn check(&self) {
        let held = self
            .authority()
            .and_then(|index| self.managers[index].state());
        if let Some(held) = held {
            if let Err(violation) = check_coherence(&self.processes, held) {
                panic!(
                    "{}: after step {}: {violation}; events {:?}",
                    self.label, self.steps, self.events
                );
            }
        }
    }
}

//! The deterministic simulator: runs processes and managers in one thread, delivers
//! in-flight messages in a random order chosen by a seeded generator, starts each
//! process's next operation at random moments, and checks the coherence invariant after
//! every step. The same seed replays the same run, step for step.

mod report;

pub use report::{SimulationError, SimulationFailure, SimulationReport};

use crate::config::SystemConfig;
use crate::directory::DirectoryView;
use crate::history::{check_linearizable, HistoryEntry};
use crate::ids::{NodeId, PageId};
use crate::invariants::{check_coherence, check_page_coherence};
use crate::message::Envelope;
use crate::node::{Completion, Node, Operation, Outbox};
use crate::process::{Process, ProcessOptions};
use crate::trace::TraceRecord;
use crate::workload::Workload;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a simulation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimulationOptions {
    /// The seed of every random choice.
    pub seed: u64,
    /// Record every handled message in the report's trace.
    pub record_trace: bool,
    /// Give up (as a failure) after this many steps.
    pub max_steps: u64,
}

impl SimulationOptions {
    /// Options for `seed`, without a trace, with a generous step limit.
    pub fn seeded(seed: u64) -> SimulationOptions {
        SimulationOptions {
            seed,
            record_trace: false,
            max_steps: 10_000_000,
        }
    }
}

/// A simulated system: its processes, one manager and the messages in flight.
pub struct Simulation<M> {
    options: SimulationOptions,
    processes: Vec<Process>,
    manager: M,
    in_flight: Vec<Envelope>,
    rng: ChaCha8Rng,
    step: u64,
    remaining: Vec<std::vec::IntoIter<Operation>>,
    ready: Vec<NodeId>,
    invoked_at: Vec<u64>,
    outbox: Outbox,
    report: SimulationReport,
}

impl<M: Node + DirectoryView> Simulation<M> {
    /// A simulation of `workload` on a system of `config` served by `manager`.
    pub fn new(
        config: &SystemConfig,
        manager: M,
        workload: Workload,
        options: SimulationOptions,
    ) -> Simulation<M> {
        assert_eq!(workload.process_count(), config.processes as usize);
        let process_options = ProcessOptions::single_manager(config);
        let processes: Vec<Process> = config
            .process_ids()
            .map(|id| Process::new(id, config, process_options.clone()))
            .collect();
        let remaining: Vec<_> = workload
            .into_lists()
            .into_iter()
            .map(Vec::into_iter)
            .collect();
        let ready = config
            .process_ids()
            .filter(|id| remaining[id.index()].len() > 0)
            .collect();
        Simulation {
            options,
            processes,
            manager,
            in_flight: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            step: 0,
            remaining,
            ready,
            invoked_at: vec![0; config.processes as usize],
            outbox: Outbox::new(),
            report: SimulationReport::default(),
        }
    }

    /// Runs to the end: every operation completed and no message in flight. Then the
    /// whole system must be coherent and the history linearizable.
    pub fn run(self) -> Result<SimulationReport, SimulationError> {
        self.run_with_manager().map(|(report, _)| report)
    }

    /// Like [`Simulation::run`], and also hands back the manager's final state.
    pub fn run_with_manager(mut self) -> Result<(SimulationReport, M), SimulationError> {
        while self.step_once()? {}
        if self.ready.len() + self.processes.iter().filter(|p| !p.is_idle()).count() > 0 {
            return Err(self.failure(SimulationFailure::Stuck {
                incomplete: self.incomplete_operations(),
            }));
        }
        check_coherence(&self.processes, &self.manager)
            .map_err(|violation| self.failure(SimulationFailure::Coherence(violation)))?;
        check_linearizable(&self.report.history)
            .map_err(|violation| self.failure(SimulationFailure::History(violation)))?;
        self.report.steps = self.step;
        self.report.processes = self.processes;
        Ok((self.report, self.manager))
    }

    /// Takes one random step; returns whether there was one to take.
    fn step_once(&mut self) -> Result<bool, SimulationError> {
        let choices = self.in_flight.len() + self.ready.len();
        if choices == 0 {
            return Ok(false);
        }
        if self.step >= self.options.max_steps {
            return Err(self.failure(SimulationFailure::StepLimit));
        }
        self.step += 1;
        let choice = self.rng.random_range(0..choices);
        let page = if choice < self.in_flight.len() {
            let envelope = self.in_flight.swap_remove(choice);
            self.deliver(envelope)
        } else {
            let process = self.ready[choice - self.in_flight.len()];
            self.start_next(process)
        };
        self.drain_outbox();
        let checked = match page {
            Some(page) => check_page_coherence(&self.processes, &self.manager, page),
            None => check_coherence(&self.processes, &self.manager),
        };
        checked.map_err(|violation| self.failure(SimulationFailure::Coherence(violation)))?;
        Ok(true)
    }

    fn deliver(&mut self, envelope: Envelope) -> Option<PageId> {
        let page = envelope.message.page();
        if self.options.record_trace {
            self.report.trace.push(TraceRecord::of(&envelope));
        }
        self.report.messages += 1;
        let to = envelope.to;
        if to == self.manager.id() {
            self.manager
                .handle_message(envelope, self.step, &mut self.outbox);
        } else {
            self.processes[to.index()].handle_message(envelope, self.step, &mut self.outbox);
        }
        page
    }

    fn start_next(&mut self, process: NodeId) -> Option<PageId> {
        let operation = self.remaining[process.index()]
            .next()
            .expect("a ready process has an operation left");
        self.invoked_at[process.index()] = self.step;
        self.processes[process.index()]
            .start(operation, self.step, &mut self.outbox)
            .expect("a ready process is idle and the workload's pages exist");
        if !self.processes[process.index()].is_idle() || self.remaining[process.index()].len() == 0
        {
            self.ready.retain(|&id| id != process);
        }
        Some(operation.page())
    }

    fn drain_outbox(&mut self) {
        self.in_flight.append(&mut self.outbox.messages);
        for index in 0..self.outbox.completions.len() {
            let completion = self.outbox.completions[index];
            self.record_completion(completion);
        }
        self.outbox.clear();
    }

    fn record_completion(&mut self, completion: Completion) {
        let process = completion.process;
        if completion.fault.is_none() {
            self.report.local_hits += 1;
        } else if self.remaining[process.index()].len() > 0 {
            self.ready.push(process);
        }
        self.report.history.push(HistoryEntry {
            process,
            op: completion.kind,
            page: completion.page,
            value: completion.value,
            invoked_at: self.invoked_at[process.index()],
            completed_at: self.step,
        });
    }

    fn incomplete_operations(&self) -> usize {
        let pending = self.processes.iter().filter(|p| !p.is_idle()).count();
        pending + self.remaining.iter().map(|ops| ops.len()).sum::<usize>()
    }

    fn failure(&self, failure: SimulationFailure) -> SimulationError {
        SimulationError {
            seed: self.options.seed,
            step: self.step,
            failure,
        }
    }

    /// The manager, for inspection.
    pub fn manager(&self) -> &M {
        &self.manager
    }
}

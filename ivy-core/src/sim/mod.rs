//! The deterministic simulator: runs processes and managers in one thread, delivers
//! in-flight messages in a random order chosen by a seeded generator, starts each
//! process's next operation at random moments, and checks the coherence invariant after
//! every step. With [`FaultOptions`] it also lets time pass, loses and duplicates
//! messages, and crashes, pauses and revives managers. The same seed replays the same
//! run, step for step.

mod check;
mod delivery;
#[cfg(feature = "model-check")]
pub mod explore;
mod faults;
pub mod hand;
pub mod model;
mod outages;
mod report;
mod seeds;
mod time;

pub use faults::{FaultOptions, ManagerStatus, ScriptedFault};
pub use seeds::seeds_to_run;

use crate::protocol::manager::{settled_together, ManagerNode};

pub use report::{SimEvent, SimulationError, SimulationFailure, SimulationReport};

use crate::checks::held_state::ActedOn;
use crate::checks::history::HistoryEntry;
use crate::driver::{check_run, OutcomeViolation};
use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{NodeId, PageId};
use crate::protocol::message::Envelope;
use crate::protocol::node::Outbox;
use crate::protocol::operation::{Completion, Operation};
use crate::protocol::process::{Process, ProcessOptions};
use crate::protocol::process_node::ProcessNode;
use crate::workload::Workload;
use check::Touched;
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
    /// `None`: one reliable manager. `Some(ticks)`: two replicated managers, and
    /// processes resend an unanswered fault after this many ticks.
    pub retry_timeout_ticks: Option<u64>,
    /// What goes wrong, and how often.
    pub faults: FaultOptions,
}

impl SimulationOptions {
    /// Options for `seed` with one reliable manager, without a trace, with a generous
    /// step limit.
    pub fn seeded(seed: u64) -> SimulationOptions {
        SimulationOptions {
            seed,
            record_trace: false,
            max_steps: 10_000_000,
            retry_timeout_ticks: None,
            faults: FaultOptions::none(),
        }
    }
}

/// A simulated system: its processes, its managers and the messages in flight.
/// The processes are today's [`Process`] unless another algorithm's are given
/// ([`Simulation::with_processes`]); an algorithm without manager nodes takes
/// [`crate::NoManager`] and no managers.
pub struct Simulation<M, P = Process> {
    options: SimulationOptions,
    processes: Vec<P>,
    managers: Vec<M>,
    status: Vec<ManagerStatus>,
    in_flight: Vec<Envelope>,
    rng: ChaCha8Rng,
    step: u64,
    now_ticks: u64,
    authority: Option<usize>,
    remaining: Vec<std::vec::IntoIter<Operation>>,
    ready: Vec<NodeId>,
    invoked_at: Vec<u64>,
    outbox: Outbox,
    report: SimulationReport<P>,
    /// With `record_trace`: the last steps, as text, for failure reports.
    step_log: std::collections::VecDeque<String>,
    /// Scripted faults, by step, soonest last.
    script: Vec<(u64, ScriptedFault)>,
    /// What processes have acted on: the oracle of lost state.
    acted_on: ActedOn,
    /// Since when no live manager has held the latest state, and what it lacks.
    lost: Option<(u64, String)>,
    /// With `record_trace`, the steps that led to the loss of state.
    steps_before_loss: Vec<String>,
    /// Messages between the managers wait until this step.
    managers_apart_until_step: u64,
    /// Each manager's phase after the last step, to notice changes.
    phases: Vec<&'static str>,
    /// What the held-state oracle last judged: it judges again only when it moved.
    held_state_inputs: Option<outages::HeldStateInputs>,
    /// Driven by hand (see [`hand`]): outages last until the test ends them, and
    /// processes start their next operation as soon as they are idle.
    by_hand: bool,
    /// Time never jumps past this tick (a hand-driven test's alarm).
    wake_at_ticks: Option<u64>,
}

/// How many steps a failure report shows.
const STEP_LOG_LENGTH: usize = 400;

impl<M: ManagerNode> Simulation<M> {
    /// A simulation of `workload` on a system of `config` served by `managers` (the
    /// manager ids in order: one, or the primary and the backup).
    pub fn new(
        config: &SystemConfig,
        managers: Vec<M>,
        workload: Workload,
        options: SimulationOptions,
    ) -> Simulation<M> {
        assert_eq!(workload.process_count(), config.processes as usize);
        let process_options = match options.retry_timeout_ticks {
            None => ProcessOptions::single_manager(config),
            Some(ticks) => ProcessOptions::replicated(config, ticks),
        };
        assert_eq!(managers.len(), process_options.managers.len());
        let processes = Process::all(config, &process_options);
        Simulation::with_processes(config, processes, managers, workload, options)
    }
}

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    /// A simulation of `workload` on a system of `config` whose processes are
    /// `processes` (in id order) and whose managers are `managers` (none, one, or the
    /// primary and the backup, with ids following the processes').
    pub fn with_processes(
        config: &SystemConfig,
        processes: Vec<P>,
        managers: Vec<M>,
        workload: Workload,
        options: SimulationOptions,
    ) -> Simulation<M, P> {
        assert_eq!(processes.len(), config.processes as usize);
        let remaining: Vec<_> = workload
            .into_lists()
            .into_iter()
            .map(Vec::into_iter)
            .collect();
        let ready = config
            .process_ids()
            .filter(|id| remaining[id.index()].len() > 0)
            .collect();
        let phases = managers.iter().map(ManagerNode::phase).collect();
        Simulation {
            options,
            processes,
            status: vec![ManagerStatus::Up; managers.len()],
            managers,
            in_flight: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            step: 0,
            now_ticks: 0,
            authority: Some(0),
            remaining,
            ready,
            invoked_at: vec![0; config.processes as usize],
            outbox: Outbox::new(),
            report: SimulationReport::default(),
            step_log: std::collections::VecDeque::new(),
            script: Vec::new(),
            acted_on: ActedOn::new(config.pages),
            lost: None,
            steps_before_loss: Vec::new(),
            phases,
            managers_apart_until_step: 0,
            held_state_inputs: None,
            by_hand: false,
            wake_at_ticks: None,
        }
    }

    /// Adds faults to inject at given steps. A crash of a manager that is down, or a
    /// pause of one that is not running, is skipped.
    pub fn with_script(mut self, mut script: Vec<(u64, ScriptedFault)>) -> Simulation<M, P> {
        script.sort_by_key(|&(step, _)| std::cmp::Reverse(step));
        self.script = script;
        self
    }

    /// Runs to the end: every operation completed, no message in flight, and every
    /// manager live and settled. Then every manager with state must agree with the
    /// processes and the history must be linearizable. If crashes leave no live
    /// manager holding the latest state, the run fails with
    /// [`SimulationFailure::StateLost`] instead (after a grace period in which the
    /// history must stay linearizable).
    pub fn run(self) -> Result<SimulationReport<P>, SimulationError> {
        self.run_with_managers().map(|(report, _)| report)
    }

    /// Like [`Simulation::run`], and also hands back the managers' final state.
    pub fn run_with_managers(mut self) -> Result<(SimulationReport<P>, Vec<M>), SimulationError> {
        while !self.is_finished() {
            let grace = self.lost_grace_steps();
            let grace_over = self
                .lost
                .as_ref()
                .is_some_and(|&(lost_at, _)| self.step >= lost_at + grace);
            if grace_over {
                return Err(self.state_lost().expect("state was lost"));
            }
            if let Err(error) = self.step_once() {
                return Err(self.state_lost().unwrap_or(error));
            }
        }
        self.conclude()
    }

    /// The checks at the end of a run: no state lost, every manager with state
    /// agreeing with the processes, and a linearizable history.
    fn conclude(mut self) -> Result<(SimulationReport<P>, Vec<M>), SimulationError> {
        // Finishing does not undo a loss: the managers' state need not agree with the
        // processes (only the history is checked, as in the grace period).
        if let Some(error) = self.state_lost() {
            return Err(error);
        }
        let states = self.managers.iter().filter_map(ManagerNode::state);
        check_run(&self.processes, states, &self.report.history).map_err(|violation| {
            self.failure(match violation {
                OutcomeViolation::Coherence(violation) => violation.into(),
                OutcomeViolation::History(violation) => SimulationFailure::History(violation),
            })
        })?;
        self.report.steps = self.step;
        self.report.processes = self.processes;
        Ok((self.report, self.managers))
    }

    /// Whether the run is over: every operation completed, nothing in flight, no
    /// manager paused (nor, unless driven by hand, down), and the live managers
    /// settled in one view with a primary.
    pub fn is_finished(&self) -> bool {
        if !(self.in_flight.is_empty() && self.ready.is_empty()) {
            return false;
        }
        if !self.processes.iter().all(P::is_idle) {
            return false;
        }
        // Driven by hand, a crashed manager stays down until the test revives it: the
        // run may end without it. Else every outage ends by itself, and the run waits.
        let outages_over = self.status.iter().all(|status| match status {
            ManagerStatus::Up => true,
            ManagerStatus::Paused { .. } => false,
            ManagerStatus::Down { .. } => self.by_hand,
        });
        let live = self.managers.iter().zip(&self.status);
        let live = live.filter(|(_, status)| **status == ManagerStatus::Up);
        // Without manager nodes nothing is left to settle.
        outages_over
            && (self.managers.is_empty()
                || settled_together(live.map(|(m, _)| (m.authority(), m.settled_view()))).is_some())
    }

    /// Takes one random step: a delivery, an operation start, or the passage of time.
    fn step_once(&mut self) -> Result<(), SimulationError> {
        if self.step >= self.options.max_steps {
            return Err(self.failure(SimulationFailure::StepLimit));
        }
        self.step += 1;
        self.end_outages();
        while self
            .script
            .last()
            .is_some_and(|&(step, _)| step <= self.step)
        {
            let (_, fault) = self.script.pop().expect("a scripted fault");
            self.inject_scripted(fault);
        }
        let faults = self.options.faults;
        let faulty = self.step < faults.until_step;
        if faulty {
            self.inject_outage();
        }
        let deliverable = self.deliverable_count();
        let choices = deliverable + self.ready.len();
        let time_passes = faults.has_time()
            && (choices == 0 || self.rng.random_ratio(faults.tick_per_mille, 1000));
        // Time passing with no timer due changes nothing: only a changed authority
        // (after a crash or a pause) then needs a check.
        let touched = if time_passes {
            match self.pass_time(choices == 0) {
                0 => Touched::Nothing,
                _ => Touched::Everything,
            }
        } else if choices == 0 {
            return Err(self.failure(SimulationFailure::Stuck {
                incomplete: self.incomplete_operations(),
            }));
        } else {
            let choice = self.rng.random_range(0..choices);
            if choice < deliverable {
                self.deliver_nth(choice, deliverable, faulty)
            } else {
                let process = self.ready[choice - deliverable];
                Touched::from(self.start_next(process))
            }
        };
        self.drain_outbox();
        if faulty {
            self.crash_at_transitions();
        }
        self.update_held_state();
        if self.lost.is_some() {
            return Ok(()); // managers may disagree with processes now: nobody holds it all
        }
        self.check_step(touched)
    }

    fn start_next(&mut self, process: NodeId) -> Option<PageId> {
        let operation = self.remaining[process.index()]
            .next()
            .expect("a ready process has an operation left");
        self.invoked_at[process.index()] = self.step;
        self.log_step(|| format!("{process} starts {operation:?}"));
        self.processes[process.index()]
            .start(operation, self.now_ticks, &mut self.outbox)
            .expect("a ready process is idle and the workload's pages exist");
        if !self.processes[process.index()].is_idle() || self.remaining[process.index()].len() == 0
        {
            self.ready.retain(|&id| id != process);
        }
        Some(operation.page())
    }

    fn drain_outbox(&mut self) {
        let processes = self.processes.len();
        for envelope in &self.outbox.messages {
            if envelope.from.index() < processes {
                self.acted_on.observe(&envelope.message);
            }
        }
        self.in_flight.append(&mut self.outbox.messages);
        for index in 0..self.outbox.completions.len() {
            let completion = self.outbox.completions[index];
            self.record_completion(completion);
        }
        for index in 0..self.outbox.events.len() {
            let event = self.outbox.events[index];
            self.report.events.push((self.step, SimEvent::Node(event)));
            self.log_step(|| format!("{event:?}"));
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
        let invoked_at = self.invoked_at[process.index()];
        let entry = HistoryEntry::of(&completion, invoked_at, self.step);
        self.report.history.push(entry);
    }

    fn incomplete_operations(&self) -> usize {
        let pending = self.processes.iter().filter(|p| !p.is_idle()).count();
        pending + self.remaining.iter().map(|ops| ops.len()).sum::<usize>()
    }

    fn failure(&self, failure: SimulationFailure) -> SimulationError {
        SimulationError {
            steps_before: self.step_log.iter().cloned().collect(),
            seed: self.options.seed,
            step: self.step,
            failure: Box::new(failure),
            crash_situations: self.report.crash_situations.clone(),
        }
    }
}

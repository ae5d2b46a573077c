//! The simulator driven by hand, for scenario tests (in the spirit of raft-rs's test
//! `Network`): the test delivers the oldest message or one it picks (reordering),
//! holds back, drops, duplicates or injects messages, crashes, revives, pauses and
//! resumes managers, keeps the managers apart, and lets time jump to the next
//! deadline. Processes start their next operation as soon as they are idle. Every step
//! is checked exactly as a random step is (coherence against the most authoritative
//! live manager, and the held-state oracle), and a finished run gets the same final
//! checks as [`Simulation::run`]: one harness for the sweeps and the scenarios.
//!
//! Outages last until the test ends them: a crashed manager stays down (messages to
//! it are lost) until [`Simulation::revive`], and a run may finish without it.

use super::check::Touched;
use super::{ManagerStatus, Simulation, SimulationError, SimulationFailure, SimulationReport};
use crate::protocol::ids::NodeId;
use crate::protocol::manager::ManagerNode;
use crate::protocol::message::Envelope;
use crate::protocol::node::NodeEvent;
use crate::protocol::operation::Operation;
use crate::protocol::process_node::ProcessNode;

/// Every outage started by hand lasts until the test ends it.
const UNTIL_ENDED: u64 = u64::MAX;

impl<M: ManagerNode, P: ProcessNode> Simulation<M, P> {
    /// This simulation, driven by hand from now on: every process starts its first
    /// operation now, and each later one as soon as it is idle.
    pub fn by_hand(mut self) -> Result<Simulation<M, P>, SimulationError> {
        self.by_hand = true;
        self.end_hand_step(Touched::Everything)?;
        Ok(self)
    }

    /// One step in order: the oldest message that can arrive (not to a paused
    /// manager, nor between managers kept apart), or, when none can, time jumps to
    /// the earliest deadline (or the tick given to [`Simulation::wake_at`], if
    /// sooner) and every timer then due fires.
    pub fn step_in_order(&mut self) -> Result<(), SimulationError> {
        self.begin_hand_step()?;
        let oldest = (0..self.in_flight.len()).find(|&i| self.can_deliver(&self.in_flight[i]));
        let touched = match oldest {
            Some(position) => {
                let envelope = self.in_flight.remove(position);
                self.arrive(envelope, false)
            }
            None => {
                self.pass_time(true);
                Touched::Everything
            }
        };
        self.end_hand_step(touched)
    }

    /// Steps in order until `done` holds; fails after `step_limit` steps.
    pub fn run_in_order_until(
        &mut self,
        step_limit: u64,
        done: impl Fn(&Simulation<M, P>) -> bool,
    ) -> Result<(), SimulationError> {
        let start = self.step;
        while !done(self) {
            if self.step - start >= step_limit {
                return Err(self.failure(SimulationFailure::StepLimit));
            }
            self.step_in_order()?;
        }
        Ok(())
    }

    /// Steps in order until the run is finished (see [`Simulation::is_finished`]),
    /// then checks it as [`Simulation::run_with_managers`] does.
    pub fn finish_in_order(
        mut self,
        step_limit: u64,
    ) -> Result<(SimulationReport<P>, Vec<M>), SimulationError> {
        self.run_in_order_until(step_limit, Simulation::is_finished)?;
        self.conclude()
    }

    /// Delivers the oldest message in flight that `matches` and can arrive, ahead of
    /// any older one; returns whether there was one.
    pub fn deliver_first(
        &mut self,
        matches: impl Fn(&Envelope) -> bool,
    ) -> Result<bool, SimulationError> {
        let found = (0..self.in_flight.len())
            .find(|&i| self.can_deliver(&self.in_flight[i]) && matches(&self.in_flight[i]));
        self.deliver_found(found)
    }

    /// Delivers the newest message in flight that can arrive, ahead of every older
    /// one; returns whether there was one.
    pub fn deliver_newest(&mut self) -> Result<bool, SimulationError> {
        let found = (0..self.in_flight.len())
            .rev()
            .find(|&i| self.can_deliver(&self.in_flight[i]));
        self.deliver_found(found)
    }

    /// Delivers the message in flight at `position`, if one was found.
    fn deliver_found(&mut self, position: Option<usize>) -> Result<bool, SimulationError> {
        let Some(position) = position else {
            return Ok(false);
        };
        self.begin_hand_step()?;
        let envelope = self.in_flight.remove(position);
        let touched = self.arrive(envelope, false);
        self.end_hand_step(touched)?;
        Ok(true)
    }

    /// Starts `operation` at idle `process` now, besides its workload (for
    /// scenarios that place each operation). Panics if the process is busy or the
    /// page does not exist: a mistake in the test.
    pub fn start(&mut self, process: NodeId, operation: Operation) -> Result<(), SimulationError> {
        self.begin_hand_step()?;
        self.invoked_at[process.index()] = self.step;
        self.log_step(|| format!("{process} starts {operation:?}"));
        let started =
            self.processes[process.index()].start(operation, self.now_ticks, &mut self.outbox);
        if let Err(error) = started {
            panic!("{process} cannot start {operation:?}: {error}");
        }
        self.end_hand_step(Touched::from(Some(operation.page())))
    }

    /// Takes the oldest message in flight that `matches` off the network, to hold it
    /// back (and perhaps [`Simulation::inject`] it later) or to lose it.
    pub fn take(&mut self, matches: impl Fn(&Envelope) -> bool) -> Option<Envelope> {
        let position = self.in_flight.iter().position(matches)?;
        Some(self.in_flight.remove(position))
    }

    /// Loses every message in flight that `matches`; returns how many.
    pub fn drop_all(&mut self, matches: impl Fn(&Envelope) -> bool) -> usize {
        let before = self.in_flight.len();
        self.in_flight.retain(|envelope| !matches(envelope));
        let dropped = before - self.in_flight.len();
        self.report.dropped += dropped as u64;
        dropped
    }

    /// Puts a copy of the oldest message in flight that `matches` on the network
    /// again; returns whether there was one.
    pub fn duplicate(&mut self, matches: impl Fn(&Envelope) -> bool) -> bool {
        let Some(copy) = self.in_flight.iter().find(|&e| matches(e)).cloned() else {
            return false;
        };
        self.report.duplicated += 1;
        self.in_flight.push(copy);
        true
    }

    /// Delivers `envelope` now (a late, duplicated or forged message), then checks.
    pub fn inject(&mut self, envelope: Envelope) -> Result<(), SimulationError> {
        self.begin_hand_step()?;
        let touched = self.arrive(envelope, false);
        self.end_hand_step(touched)
    }

    /// Crashes manager `index` (running or paused): it loses everything, and
    /// messages to it are lost until [`Simulation::revive`] restarts it blank, as a
    /// new incarnation. Only a replicated system's managers crash.
    pub fn crash(&mut self, index: usize) {
        assert!(self.managers.len() > 1, "only replicated managers crash");
        self.crash_until(index, UNTIL_ENDED);
    }

    /// Restarts crashed manager `index` (blank), or resumes it if paused.
    pub fn revive(&mut self, index: usize) {
        self.bring_up(index);
    }

    /// Pauses running manager `index`: it keeps its state, handles nothing and fires
    /// no timer; messages to it wait until [`Simulation::resume`].
    pub fn pause(&mut self, index: usize) {
        self.pause_until(index, UNTIL_ENDED);
    }

    /// Resumes paused manager `index`.
    pub fn resume(&mut self, index: usize) {
        if matches!(self.status[index], ManagerStatus::Paused { .. }) {
            self.bring_up(index);
        }
    }

    /// While `apart`, messages between the managers wait (a slow link, or managers
    /// that still run and reach every process but not each other).
    pub fn keep_managers_apart(&mut self, apart: bool) {
        self.managers_apart_until_step = if apart { UNTIL_ENDED } else { 0 };
    }

    /// Time never jumps past `ticks` (until it is reached), so that the test can act
    /// at that moment.
    pub fn wake_at(&mut self, ticks: u64) {
        self.wake_at_ticks = Some(ticks);
    }

    /// The processes.
    pub fn processes(&self) -> &[P] {
        &self.processes
    }

    /// The managers, in the order given (0: the original primary).
    pub fn managers(&self) -> &[M] {
        &self.managers
    }

    /// Whether manager `index` is up, paused or down.
    pub fn status(&self, index: usize) -> ManagerStatus {
        self.status[index]
    }

    /// The messages in flight, oldest first (when driven by hand).
    pub fn in_flight(&self) -> &[Envelope] {
        &self.in_flight
    }

    /// The simulated time.
    pub fn now_ticks(&self) -> u64 {
        self.now_ticks
    }

    /// The report so far (history, events, counts).
    pub fn report(&self) -> &SimulationReport<P> {
        &self.report
    }

    /// Every event the nodes reported so far, in order.
    pub fn node_events(&self) -> impl Iterator<Item = &NodeEvent> {
        self.report
            .events
            .iter()
            .filter_map(|(_, event)| match event {
                super::SimEvent::Node(event) => Some(event),
                _ => None,
            })
    }

    /// Messages taken off the network: delivered, or lost (to a crashed manager, or
    /// dropped).
    pub fn deliveries(&self) -> u64 {
        self.report.messages + self.report.dropped
    }

    /// Whether some live manager holds everything processes acted on (see
    /// [`crate::checks::held_state`]).
    pub fn state_is_held(&self) -> bool {
        self.lost.is_none()
    }

    fn begin_hand_step(&mut self) -> Result<(), SimulationError> {
        assert!(self.by_hand, "call by_hand() before driving a simulation");
        if self.step >= self.options.max_steps {
            return Err(self.failure(SimulationFailure::StepLimit));
        }
        self.step += 1;
        Ok(())
    }

    /// After a hand-driven step: starts every idle process's next operation, then
    /// checks as after a random step.
    fn end_hand_step(&mut self, touched: Touched) -> Result<(), SimulationError> {
        self.drain_outbox();
        let mut touched = touched;
        while let Some(&process) = self.ready.first() {
            self.start_next(process);
            self.drain_outbox();
            touched = Touched::Everything;
        }
        self.update_held_state();
        if self.lost.is_some() {
            return Ok(()); // nobody holds it all: see `state_is_held`
        }
        self.check_step(touched)
    }
}

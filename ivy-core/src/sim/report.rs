//! What a simulation reports: its outcome, or the failure and the seed that replays it.

use crate::checks::history::{HistoryEntry, LinearizabilityViolation};
use crate::checks::invariants::CoherenceViolation;
use crate::protocol::ids::NodeId;
use crate::protocol::node::NodeEvent;
use crate::protocol::process::Process;
use crate::protocol::trace::TraceRecord;
use thiserror::Error;

/// A completed simulation.
#[derive(Clone, Debug)]
pub struct SimulationReport<P = Process> {
    /// Steps taken (deliveries and operation starts).
    pub steps: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Timers fired (each a node woken by a deadline rather than a message).
    pub timer_firings: u64,
    /// Jumps of time to the next deadline, when nothing else could happen.
    pub time_jumps: u64,
    /// Operations that completed without a fault.
    pub local_hits: u64,
    /// Every completed operation; times are step numbers.
    pub history: Vec<HistoryEntry>,
    /// Every delivered message, if the trace was asked for.
    pub trace: Vec<TraceRecord>,
    /// The processes' final state.
    pub processes: Vec<P>,
    /// Messages lost (injected, or sent to a crashed manager).
    pub dropped: u64,
    /// Messages delivered twice.
    pub duplicated: u64,
    /// Faults injected and role changes reported, with the step they happened at.
    pub events: Vec<(u64, SimEvent)>,
    /// Crashes by situation: the victim's phase (see
    /// [`super::ManagerNode::phase`]), whether it was revived lately, and its peer's.
    pub crash_situations: std::collections::BTreeMap<String, u64>,
}

impl<P> Default for SimulationReport<P> {
    fn default() -> SimulationReport<P> {
        SimulationReport {
            steps: 0,
            messages: 0,
            timer_firings: 0,
            time_jumps: 0,
            local_hits: 0,
            history: Vec::new(),
            trace: Vec::new(),
            processes: Vec::new(),
            dropped: 0,
            duplicated: 0,
            events: Vec::new(),
            crash_situations: Default::default(),
        }
    }
}

/// Something that happened in a simulated run besides a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimEvent {
    /// A manager reported a change of role or view.
    Node(NodeEvent),
    /// A manager crashed, losing its state.
    Crashed(NodeId),
    /// A crashed manager restarted blank.
    Revived(NodeId),
    /// A manager stopped handling anything, keeping its state.
    Paused(NodeId),
    /// A paused manager resumed.
    Resumed(NodeId),
    /// The managers stopped hearing each other for a while.
    ManagersApart,
    /// No live manager holds every transaction processes have answered (per-step
    /// checks pause: the managers' records may disagree with the processes).
    StateUnheld,
    /// A live manager holds the answered state again (what it lacked was in flight).
    StateHeldAgain,
}

/// What went wrong in a simulation.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SimulationFailure {
    /// The coherence invariant broke.
    #[error("coherence violated: {0}")]
    Coherence(#[from] CoherenceViolation),
    /// Nothing could happen but operations were left undone.
    #[error("stuck with {incomplete} operations incomplete and no message in flight")]
    Stuck {
        /// Operations never completed.
        incomplete: usize,
    },
    /// The history of completed operations is not linearizable.
    #[error("history not linearizable: {0}")]
    History(#[from] LinearizabilityViolation),
    /// The run took more steps than allowed.
    #[error("step limit reached")]
    StepLimit,
    /// Crashes left no live manager holding state that processes have seen (the
    /// oracle of [`crate::checks::held_state`]): no protocol could complete the run. The
    /// simulator runs on for a while after the loss, checking that the history stays
    /// linearizable, then stops with this.
    #[error("state lost at step {lost_at_step}: no live manager holds {missing}")]
    StateLost {
        /// The step after which no live manager held the latest state.
        lost_at_step: u64,
        /// What was lost: the first page version no live manager knows, or all state.
        missing: String,
    },
}

/// A failed simulation, with what replays it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("seed {seed} failed at step {step}: {failure} (replay with IVY_SEED={seed})")]
pub struct SimulationError {
    /// With `record_trace`, the last steps before the failure, one line each.
    pub steps_before: Vec<String>,
    /// The seed that replays the failure.
    pub seed: u64,
    /// The step at which it was found.
    pub step: u64,
    /// What went wrong.
    pub failure: Box<SimulationFailure>,
    /// The crashes before the failure, by situation (as in
    /// [`SimulationReport::crash_situations`]).
    pub crash_situations: std::collections::BTreeMap<String, u64>,
}

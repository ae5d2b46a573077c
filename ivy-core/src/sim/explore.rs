//! An exhaustive model (stateright) of any system of processes and reliable
//! managers on a reliable network: every interleaving of message deliveries and
//! operation starts, over the real state machines. With the `model-check` feature.
//!
//! The properties, in every reachable state: coherence (against the managers' state,
//! or the authority the processes supply, see [`ProcessNode::authority`]) and the
//! algorithm's own invariant ([`ProcessNode::check_algorithm`]), both by the same
//! functions the simulator calls after every step; every read returns the latest
//! completed write; and no run ends, or sticks, with an operation incomplete
//! (stateright's `eventually`: it finds deadlocks, not livelocks).
//! Crashes are not modelled here (the fault-tolerant managers have their own model).

use super::model::{InFlight, ReadsSeeWrites, Reordering};
use crate::checks::invariants::{check_coherence, CoherenceViolation};
use crate::protocol::config::SystemConfig;
use crate::protocol::ids::NodeId;
use crate::protocol::manager::ManagerNode;
use crate::protocol::message::Envelope;
use crate::protocol::node::Outbox;
use crate::protocol::operation::Operation;
use crate::protocol::process_node::ProcessNode;
use stateright::{Model, Property};
use std::hash::Hash;

/// The small system every algorithm's model check explores first: three processes,
/// two pages (page `p` first owned by process `p`), and two operations each. Process
/// 0 reads then writes page 1 (a writer holding a Read copy); process 1 writes page
/// 1, which it owns but may hold only Read by then (an upgrade in place), then reads
/// page 0; process 2 reads then writes page 0.
pub fn small_racing_system() -> (SystemConfig, Vec<Vec<Operation>>) {
    let config = SystemConfig::new(3, 2, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![read(1), write(1, 1)],
        vec![write(1, 2), read(0)],
        vec![read(0), write(0, 3)],
    ];
    (config, workload)
}

/// A system to explore: its initial processes and managers, and each process's
/// operations, issued in order.
pub struct SystemModel<M, P> {
    /// The system's size.
    pub config: SystemConfig,
    /// The processes in their initial state, in id order.
    pub processes: Vec<P>,
    /// The managers in their initial state, ids following the processes'.
    pub managers: Vec<M>,
    /// Each process's operations.
    pub workload: Vec<Vec<Operation>>,
    /// How the network may reorder messages.
    pub reordering: Reordering,
}

/// One state of the system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SystemState<M, P> {
    /// The processes.
    pub processes: Vec<P>,
    /// The managers.
    pub managers: Vec<M>,
    /// The messages in flight.
    pub in_flight: InFlight,
    /// How many operations each process has started.
    pub started: Vec<usize>,
    /// Whether every read so far saw the latest write.
    pub reads: ReadsSeeWrites,
}

/// A step: a message arrives, or a process starts its next operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SystemAction {
    /// The message arrives at its node.
    Deliver(Envelope),
    /// The process starts its next operation.
    Start(NodeId),
}

impl<M: ManagerNode, P: ProcessNode> SystemState<M, P> {
    /// The invariants every state must keep.
    pub fn check(&self) -> Result<(), CoherenceViolation> {
        match P::authority(&self.processes) {
            Some(authority) => check_coherence(&self.processes, authority.as_ref())?,
            None => {
                for state in self.managers.iter().filter_map(ManagerNode::state) {
                    check_coherence(&self.processes, state)?;
                }
            }
        }
        P::check_algorithm(&self.processes, None)
    }

    fn all_done(&self, workload: &[Vec<Operation>]) -> bool {
        self.in_flight.is_empty()
            && self.processes.iter().all(P::is_idle)
            && (0..self.started.len()).all(|p| self.started[p] == workload[p].len())
    }
}

/// A manager a model can hold in its states.
pub trait ModelManager:
    ManagerNode + Clone + std::fmt::Debug + Eq + Hash + Send + Sync + 'static
{
}

impl<M> ModelManager for M where
    M: ManagerNode + Clone + std::fmt::Debug + Eq + Hash + Send + Sync + 'static
{
}

/// A process a model can hold in its states.
pub trait ModelProcess: ProcessNode + Eq + Hash + Send + Sync + 'static {}

impl<P: ProcessNode + Eq + Hash + Send + Sync + 'static> ModelProcess for P {}

/// Explores every interleaving of `workload` on `processes` and `managers` (a system
/// of `config`), any message in flight free to arrive next, and returns how many
/// distinct states there are (see [`SystemModel::check_every_interleaving`]).
pub fn check_every_interleaving<M: ModelManager, P: ModelProcess>(
    config: SystemConfig,
    workload: Vec<Vec<Operation>>,
    processes: Vec<P>,
    managers: Vec<M>,
) -> usize {
    let model = SystemModel {
        config,
        processes,
        managers,
        workload,
        reordering: Reordering::Any,
    };
    model.check_every_interleaving()
}

impl<M: ModelManager, P: ModelProcess> SystemModel<M, P> {
    /// Explores every interleaving (breadth first, on one thread: stateright's
    /// parallel search counts states nondeterministically), panics with a
    /// counterexample if a property fails, and returns how many distinct states
    /// there are.
    pub fn check_every_interleaving(self) -> usize {
        use stateright::Checker;
        let checker = self.checker().spawn_bfs().join();
        checker.assert_properties();
        checker.unique_state_count()
    }
}

impl<M: ModelManager, P: ModelProcess> Model for SystemModel<M, P> {
    type State = SystemState<M, P>;
    type Action = SystemAction;

    fn init_states(&self) -> Vec<Self::State> {
        vec![SystemState {
            processes: self.processes.clone(),
            managers: self.managers.clone(),
            in_flight: InFlight::new(self.reordering),
            started: vec![0; self.workload.len()],
            reads: ReadsSeeWrites::new(self.config.pages),
        }]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<SystemAction>) {
        for envelope in state.in_flight.deliverable() {
            actions.push(SystemAction::Deliver(envelope.clone()));
        }
        for (index, process) in state.processes.iter().enumerate() {
            if process.is_idle() && state.started[index] < self.workload[index].len() {
                actions.push(SystemAction::Start(process.id()));
            }
        }
    }

    fn next_state(&self, last: &Self::State, action: SystemAction) -> Option<Self::State> {
        let mut state = last.clone();
        let mut out = Outbox::new();
        match action {
            SystemAction::Deliver(envelope) => {
                if !state.in_flight.take(&envelope) {
                    return None;
                }
                let processes = state.processes.len();
                match envelope.to.index().checked_sub(processes) {
                    Some(manager) => state.managers[manager].handle_message(envelope, 0, &mut out),
                    None => {
                        state.processes[envelope.to.index()].handle_message(envelope, 0, &mut out)
                    }
                }
            }
            SystemAction::Start(id) => {
                let operation = self.workload[id.index()][state.started[id.index()]];
                state.started[id.index()] += 1;
                state.processes[id.index()]
                    .start(operation, 0, &mut out)
                    .ok()?;
            }
        }
        state.reads.observe(&out.completions);
        state.in_flight.send(out.messages);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("coherent", |_, state: &Self::State| state.check().is_ok()),
            Property::always("reads see the latest write", |_, state: &Self::State| {
                state.reads.hold()
            }),
            Property::eventually("every operation completes", |model, state: &Self::State| {
                state.all_done(&model.workload)
            }),
            Property::sometimes("a run completes", |model, state: &Self::State| {
                state.all_done(&model.workload)
            }),
        ]
    }
}

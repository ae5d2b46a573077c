//! Exhaustive model check (stateright) of the basic protocol, over the real `Process`
//! and `CentralManager` state machines: every interleaving of message deliveries and
//! operation starts on three processes and two pages, two operations each.
//!
//! Messages in flight are a multiset (kept sorted), so any message may be delivered
//! next: the network reorders freely. The properties:
//! - the coherence invariant (`check_coherence`) holds in every reachable state;
//! - every read returns the value of the latest completed write to its page;
//! - from every state, all operations eventually complete (no deadlock, no lost fault).
//!
//! The number of distinct states is pinned: a change to the protocol that changes it
//! must say why.

use ivy_basic::CentralManager;
use ivy_core::sim::model::{InFlight, ReadsSeeWrites, Reordering};
use ivy_core::{
    check_coherence, Envelope, Node, NodeId, Operation, Outbox, Process, ProcessOptions,
    SystemConfig,
};
use stateright::{Checker, Model, Property};

/// The workload: process 0 reads then writes page 1 (a writer holding a Read copy);
/// process 1 writes page 1, which it owns but may hold only Read by then (an upgrade
/// in place), then reads page 0; process 2 reads then writes page 0.
fn workload() -> Vec<Vec<Operation>> {
    let (read, write) = (Operation::read, Operation::write);
    vec![
        vec![read(1), write(1, 1)],
        vec![write(1, 2), read(0)],
        vec![read(0), write(0, 3)],
    ]
}

struct BasicIvy {
    config: SystemConfig,
    workload: Vec<Vec<Operation>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    processes: Vec<Process>,
    manager: CentralManager,
    /// A multiset: any message may arrive next.
    in_flight: InFlight,
    /// How many operations each process has started.
    started: Vec<usize>,
    reads: ReadsSeeWrites,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Deliver(Envelope),
    Start(NodeId),
}

impl State {
    fn all_done(&self, model: &BasicIvy) -> bool {
        self.in_flight.is_empty()
            && self.processes.iter().all(Process::is_idle)
            && (0..self.started.len()).all(|p| self.started[p] == model.workload[p].len())
    }

    fn apply(&mut self, out: Outbox) {
        self.reads.observe(&out.completions);
        self.in_flight.send(out.messages);
    }
}

impl Model for BasicIvy {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let options = ProcessOptions::single_manager(&self.config);
        vec![State {
            processes: Process::all(&self.config, &options),
            manager: CentralManager::new(&self.config),
            in_flight: InFlight::new(Reordering::Any),
            started: vec![0; self.workload.len()],
            reads: ReadsSeeWrites::new(self.config.pages),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        for envelope in state.in_flight.deliverable() {
            actions.push(Action::Deliver(envelope.clone()));
        }
        for id in self.config.process_ids() {
            let process = &state.processes[id.index()];
            if process.is_idle() && state.started[id.index()] < self.workload[id.index()].len() {
                actions.push(Action::Start(id));
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        let mut out = Outbox::new();
        match action {
            Action::Deliver(envelope) => {
                if !state.in_flight.take(&envelope) {
                    return None;
                }
                if envelope.to == state.manager.id() {
                    state.manager.handle_message(envelope, 0, &mut out);
                } else {
                    state.processes[envelope.to.index()].handle_message(envelope, 0, &mut out);
                }
            }
            Action::Start(id) => {
                let operation = self.workload[id.index()][state.started[id.index()]];
                state.started[id.index()] += 1;
                state.processes[id.index()]
                    .start(operation, 0, &mut out)
                    .ok()?;
            }
        }
        state.apply(out);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("coherent", |_, state: &State| {
                check_coherence(&state.processes, &state.manager).is_ok()
            }),
            Property::always("reads see the latest write", |_, state: &State| {
                state.reads.hold()
            }),
            Property::eventually("every operation completes", |model, state: &State| {
                state.all_done(model)
            }),
            Property::sometimes("a run completes", |model, state: &State| {
                state.all_done(model)
            }),
        ]
    }
}

#[test]
fn the_basic_protocol_is_coherent_in_every_interleaving() {
    let model = BasicIvy {
        config: SystemConfig::new(3, 2, 8).expect("a valid configuration"),
        workload: workload(),
    };
    // One thread: stateright's parallel search counts states nondeterministically.
    let checker = model.checker().spawn_bfs().join();
    checker.assert_properties();
    // Pinned: the protocol's reachable state space on this configuration.
    assert_eq!(checker.unique_state_count(), 2418);
}

//! Exhaustive model check (stateright) of the primary/backup protocol over the real
//! `Process` and `FtManager` state machines: two processes share one page and process 1
//! writes it (a fault that moves ownership, the one a double grant would break), while
//! either manager may crash at any point (once, and only while the other holds as much
//! state) and time may jump past every timeout once (so failover, a primary going on
//! alone, and both at once are explored). Messages in flight are a multiset: any may
//! arrive next. (A read and a write together exceed 8 million states: the simulator's
//! seed sweep covers larger workloads.)
//!
//! Properties: coherence (`check_coherence` against the most authoritative live
//! manager) in every state, so a page never has two owners and nothing is granted
//! twice; every read returns the latest completed write; and a run can complete.
//! The number of distinct states is pinned.

use ivy_core::sim::{crash_keeps_state, SimManager};
use ivy_core::{
    check_coherence, Envelope, Node, NodeId, Operation, OperationKind, Outbox, PageId, Process,
    ProcessOptions, SystemConfig,
};
use ivy_ft::{FtManager, FtOptions};
use stateright::{Checker, Model, Property};
use std::hash::{Hash, Hasher};

/// How many times time may jump forward (each jump passes every timeout).
const TIME_JUMPS: u8 = 1;
/// The length of a jump, in ticks: above the failover and retry timeouts.
const JUMP_TICKS: u64 = 100;

struct FtIvy {
    config: SystemConfig,
    workload: Vec<Vec<Operation>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    processes: Vec<Process>,
    managers: Vec<FtManager>,
    down: Vec<bool>,
    crashed: bool,
    in_flight: Vec<Envelope>,
    started: Vec<usize>,
    jumps: u8,
    latest_write: u64,
    stale_read: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Deliver(Envelope),
    Start(NodeId),
    JumpTime,
    Crash(usize),
}

/// A total order on messages (by their fields, then a fixed hash), so that a multiset
/// of messages has one representation and identical messages are adjacent.
fn sort_key(envelope: &Envelope) -> impl Ord {
    let message = &envelope.message;
    let mut hasher = std::hash::DefaultHasher::new();
    envelope.hash(&mut hasher);
    (
        envelope.to,
        envelope.from,
        envelope.view,
        message.kind(),
        message.request(),
        hasher.finish(),
    )
}

impl State {
    fn now_ticks(&self) -> u64 {
        u64::from(self.jumps) * JUMP_TICKS
    }

    fn authority(&self) -> Option<&FtManager> {
        (0..self.managers.len())
            .filter(|&m| !self.down[m])
            .filter_map(|m| Some((self.managers[m].authority()?, m)))
            .max()
            .map(|(_, m)| &self.managers[m])
    }

    fn all_done(&self, model: &FtIvy) -> bool {
        self.processes.iter().all(Process::is_idle)
            && (0..self.started.len()).all(|p| self.started[p] == model.workload[p].len())
    }

    fn apply(&mut self, out: Outbox) {
        for completion in out.completions {
            match completion.kind {
                OperationKind::Write => self.latest_write = completion.value,
                OperationKind::Read => self.stale_read |= completion.value != self.latest_write,
            }
        }
        // Identical messages in flight merge: a duplicate may be lost, which the
        // network may do anyway, and the state space stays finite and small.
        self.in_flight.extend(out.messages);
        self.in_flight.sort_by_key(sort_key);
        self.in_flight.dedup();
    }

    /// Whether crashing manager `m` keeps the state: the other is up and holds as much.
    fn may_crash(&self, m: usize) -> bool {
        let other = 1 - m;
        let other_held = (!self.down[other]).then(|| self.managers[other].held_view());
        !self.crashed && crash_keeps_state(self.managers[m].held_view(), [other_held.flatten()])
    }
}

impl Model for FtIvy {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let options = ProcessOptions::replicated(&self.config, 60);
        let ft = FtOptions::default();
        vec![State {
            processes: self
                .config
                .process_ids()
                .map(|id| Process::new(id, &self.config, options.clone()))
                .collect(),
            managers: vec![
                FtManager::new(&self.config, self.config.manager(), ft),
                FtManager::new(&self.config, self.config.backup_manager(), ft),
            ],
            down: vec![false, false],
            crashed: false,
            in_flight: Vec::new(),
            started: vec![0; self.workload.len()],
            jumps: 0,
            latest_write: 0,
            stale_read: false,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        let mut previous: Option<&Envelope> = None;
        for envelope in &state.in_flight {
            if previous != Some(envelope) {
                actions.push(Action::Deliver(envelope.clone()));
            }
            previous = Some(envelope);
        }
        for id in self.config.process_ids() {
            let index = id.index();
            if state.processes[index].is_idle() && state.started[index] < self.workload[index].len()
            {
                actions.push(Action::Start(id));
            }
        }
        if state.jumps < TIME_JUMPS {
            actions.push(Action::JumpTime);
        }
        for m in 0..2 {
            if state.may_crash(m) {
                actions.push(Action::Crash(m));
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        let mut out = Outbox::new();
        let processes = self.config.processes as usize;
        match action {
            Action::Deliver(envelope) => {
                let index = state.in_flight.iter().position(|e| *e == envelope)?;
                state.in_flight.remove(index);
                let now = state.now_ticks();
                let to = envelope.to.index();
                match to.checked_sub(processes) {
                    Some(m) if state.down[m] => {}
                    Some(m) => {
                        state.managers[m].handle_message(envelope, now, &mut out);
                        state.managers[m].handle_idle(now, &mut out);
                    }
                    None => state.processes[to].handle_message(envelope, now, &mut out),
                }
            }
            Action::Start(id) => {
                let operation = self.workload[id.index()][state.started[id.index()]];
                state.started[id.index()] += 1;
                let now = state.now_ticks();
                state.processes[id.index()]
                    .start(operation, now, &mut out)
                    .ok()?;
            }
            Action::JumpTime => {
                state.jumps += 1;
                let now = state.now_ticks();
                for process in &mut state.processes {
                    process.handle_tick(now, &mut out);
                }
                for m in 0..2 {
                    if !state.down[m] {
                        state.managers[m].handle_tick(now, &mut out);
                    }
                }
            }
            Action::Crash(m) => {
                state.managers[m] = state.managers[m].crashed();
                state.down[m] = true;
                state.crashed = true;
            }
        }
        out.events.clear();
        state.apply(out);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("coherent", |_, state: &State| match state.authority() {
                Some(manager) => check_coherence(&state.processes, manager).is_ok(),
                None => false,
            }),
            Property::always("reads see the latest write", |_, state: &State| {
                !state.stale_read
            }),
            Property::sometimes("a run with a crash completes", |model, state: &State| {
                state.crashed && state.all_done(model)
            }),
        ]
    }
}

#[test]
fn the_replicated_protocol_survives_a_crash_anywhere() {
    let config = SystemConfig::new(2, 1, 8).expect("a valid configuration");
    let model = FtIvy {
        config,
        workload: vec![
            vec![],
            vec![Operation::Write {
                page: PageId(0),
                value: 1,
            }],
        ],
    };
    // One thread: stateright's parallel search counts states nondeterministically.
    let checker = model.checker().spawn_bfs().join();
    checker.assert_properties();
    // Pinned: the reachable state space of this configuration.
    assert_eq!(checker.unique_state_count(), 232_175);
}

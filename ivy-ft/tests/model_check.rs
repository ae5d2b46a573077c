//! Exhaustive model check (stateright) of the primary/backup protocol over the real
//! `Process` and `FtManager` state machines: two processes share one page and process 1
//! writes it (a fault that moves ownership, the one a double grant would break), while
//! either manager may crash in any state, with no filter, be revived in any later
//! state (blank, a new incarnation), and, in the larger model, either crashes again in
//! any later state (never both down at once). Time jumps
//! past every timeout once after each crash and each revival (failover and rejoining
//! need time), at any moment. Each channel (a pair of nodes) is FIFO, as over one TCP
//! connection, and channels interleave in any order; a message identical to the one
//! queued just before it on its channel merges with it. (The simulator's seed sweep
//! covers loss, duplication, reordering within a channel and larger workloads.)
//!
//! Properties: coherence (`check_coherence` against the live manager of greatest
//! reach) in every state where a live manager still holds what the processes acted on
//! (`ActedOn`, and a log that reaches every viewstamp they obeyed), so a page never
//! has two owners and nothing is granted twice; every read returns the latest
//! completed write, whatever was lost; one crash alone never loses the state; a run
//! with every crash and a revival can complete; and every run that ends with no message in flight and no move left,
//! while a live manager holds the latest state, has completed (progress).
//! The number of distinct states is pinned.

use ivy_core::sim::model::{InFlight, ReadsSeeWrites, Reordering};
use ivy_core::ManagerNode;
use ivy_core::{
    check_coherence, ActedOn, Envelope, LogPosition, Node, NodeId, Operation, Outbox, PageId,
    Process, ProcessOptions, SystemConfig,
};
use ivy_ft::{FtManager, FtOptions};
use stateright::{Checker, Model, Property};

/// The length of a jump, in ticks: a process's retry timeout plus the re-drive
/// interval, so that one jump passes every timeout (the silence that starts a
/// failover, a process's retry, a re-drive, a heartbeat). 100 ticks with the default
/// timing, which the pinned state counts assume.
fn jump_ticks(timing: &FtOptions) -> u64 {
    timing.process_retry_ticks() + timing.redrive_ticks
}

struct FtIvy {
    config: SystemConfig,
    /// The managers' timing, and the processes' retry timeout that follows from it.
    timing: FtOptions,
    /// How far time moves at each jump (see [`jump_ticks`]).
    jump_ticks: u64,
    workload: Vec<Vec<Operation>>,
    /// How many crashes a run may have (never of both managers at once).
    crashes: u8,
    /// How many revivals a run may have.
    revivals: u8,
    /// How many times time may jump forward (each jump passes every timeout) besides
    /// one more after each crash and each revival (failover and rejoining need time).
    free_jumps: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    processes: Vec<Process>,
    managers: Vec<FtManager>,
    down: Vec<bool>,
    crashes: u8,
    revivals: u8,
    acted_on: ActedOn,
    /// FIFO per channel, channels interleaved in any order.
    in_flight: InFlight,
    started: Vec<usize>,
    jumps: u8,
    reads: ReadsSeeWrites,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Deliver(Envelope),
    Start(NodeId),
    JumpTime,
    Crash(usize),
    Revive(usize),
}

impl State {
    fn now_ticks(&self, model: &FtIvy) -> u64 {
        u64::from(self.jumps) * model.jump_ticks
    }

    fn authority(&self) -> Option<&FtManager> {
        (0..self.managers.len())
            .filter(|&m| !self.down[m])
            .filter_map(|m| Some((self.managers[m].rank()?, m)))
            .max()
            .map(|(_, m)| &self.managers[m])
    }

    fn all_done(&self, model: &FtIvy) -> bool {
        self.processes.iter().all(Process::is_idle)
            && (0..self.started.len()).all(|p| self.started[p] == model.workload[p].len())
    }

    fn apply(&mut self, out: Outbox) {
        let processes = self.processes.len();
        for envelope in &out.messages {
            if envelope.from.index() < processes {
                self.acted_on.observe(&envelope.message);
            }
        }
        self.reads.observe(&out.completions);
        self.in_flight.send(out.messages);
    }

    /// Whether some live manager holds every transaction processes have answered,
    /// with a log that reaches every viewstamp they accepted.
    fn state_is_held(&self) -> bool {
        let newest_accepted = self.processes.iter().map(Process::accepted).max();
        let newest_accepted = newest_accepted.unwrap_or(LogPosition::ZERO);
        (0..self.managers.len()).any(|m| {
            let manager = &self.managers[m];
            let (Some(last), Some(held)) = (manager.reach(), manager.state()) else {
                return false;
            };
            !self.down[m]
                && self
                    .acted_on
                    .first_unheld(held, last, newest_accepted)
                    .is_none()
        })
    }
}

impl Model for FtIvy {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let options = ProcessOptions::replicated(&self.config, self.timing.process_retry_ticks());
        let ft = self.timing;
        vec![State {
            processes: Process::all(&self.config, &options),
            managers: vec![
                FtManager::new(&self.config, self.config.manager(), ft),
                FtManager::new(&self.config, self.config.backup_manager(), ft),
            ],
            down: vec![false, false],
            crashes: 0,
            revivals: 0,
            acted_on: ActedOn::new(self.config.pages),
            in_flight: InFlight::new(Reordering::FifoPerChannel),
            started: vec![0; self.workload.len()],
            jumps: 0,
            reads: ReadsSeeWrites::new(self.config.pages),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        for envelope in state.in_flight.deliverable() {
            actions.push(Action::Deliver(envelope.clone())); // a channel's oldest
        }
        for id in self.config.process_ids() {
            let index = id.index();
            if state.processes[index].is_idle() && state.started[index] < self.workload[index].len()
            {
                actions.push(Action::Start(id));
            }
        }
        if state.jumps < self.free_jumps + state.crashes + state.revivals {
            actions.push(Action::JumpTime);
        }
        for m in 0..2 {
            // With both down nothing is held and nothing can happen but a blank
            // revival; the simulator's sweep covers that, the model need not.
            if !state.down.contains(&true) && state.crashes < self.crashes {
                actions.push(Action::Crash(m));
            }
            if state.down[m] && state.revivals < self.revivals {
                actions.push(Action::Revive(m));
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        let mut out = Outbox::new();
        let processes = self.config.processes as usize;
        match action {
            Action::Deliver(envelope) => {
                if !state.in_flight.take(&envelope) {
                    return None;
                }
                let now = state.now_ticks(self);
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
                let now = state.now_ticks(self);
                state.processes[id.index()]
                    .start(operation, now, &mut out)
                    .ok()?;
            }
            Action::JumpTime => {
                state.jumps += 1;
                let now = state.now_ticks(self);
                for process in &mut state.processes {
                    process.handle_due_timers(now, &mut out);
                }
                for m in 0..2 {
                    if !state.down[m] {
                        state.managers[m].handle_due_timers(now, &mut out);
                    }
                }
            }
            Action::Crash(m) => {
                state.managers[m] = state.managers[m].crashed();
                state.down[m] = true;
                state.crashes += 1;
            }
            Action::Revive(m) => {
                state.down[m] = false;
                state.revivals += 1;
            }
        }
        out.events.clear();
        state.apply(out);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("coherent while the state is held", |_, state: &State| {
                !state.state_is_held()
                    || state
                        .authority()
                        .and_then(ManagerNode::state)
                        .is_some_and(|held| check_coherence(&state.processes, held).is_ok())
            }),
            Property::always("reads see the latest write", |_, state: &State| {
                state.reads.hold()
            }),
            // The point of a backup: one crash, at any instant, loses nothing (a
            // primary acts only on what its backup holds, or alone when it has none).
            Property::always("one crash never loses the state", |_, state: &State| {
                state.crashes > 1 || state.state_is_held()
            }),
            Property::sometimes(
                "a run with every crash and a revival completes",
                |model, state: &State| {
                    state.crashes == model.crashes && state.revivals > 0 && state.all_done(model)
                },
            ),
            Property::always(
                "a quiet end with the state held is complete",
                |model, state: &State| {
                    let mut moves = Vec::new();
                    model.actions(state, &mut moves);
                    let quiet_end = moves
                        .iter()
                        .all(|action| matches!(action, Action::Crash(_)))
                        && state.down.iter().all(|down| !down);
                    !(quiet_end && state.state_is_held()) || state.all_done(model)
                },
            ),
        ]
    }
}

fn model(crashes: u8, revivals: u8, free_jumps: u8) -> FtIvy {
    let timing = FtOptions::default();
    let jump_ticks = jump_ticks(&timing);
    let timeouts = [
        timing.silence_ticks(),
        timing.process_retry_ticks(),
        timing.redrive_ticks,
        timing.heartbeat_ticks,
    ];
    assert!(
        timeouts.iter().all(|&timeout| jump_ticks > timeout),
        "a jump of {jump_ticks} ticks must pass every timeout: {timeouts:?}"
    );
    FtIvy {
        config: SystemConfig::new(2, 1, 8).expect("a valid configuration"),
        timing,
        jump_ticks,
        workload: vec![
            vec![],
            vec![Operation::Write {
                page: PageId(0),
                value: 1,
            }],
        ],
        crashes,
        revivals,
        free_jumps,
    }
}

/// Explores `IVY_MC_CRASHES` crashes, `IVY_MC_REVIVALS` revivals and `IVY_MC_JUMPS` free time jumps for at most
/// `IVY_MC_SECONDS`, and prints how far it got: to size the pinned models.
#[test]
#[ignore = "a measuring aid: cargo test --release -p ivy-ft --test model_check -- --ignored --nocapture measure"]
fn measure() {
    let number = |name: &str, default: u64| {
        std::env::var(name).map_or(default, |value| value.parse().expect("a number"))
    };
    let model = model(
        number("IVY_MC_CRASHES", 1) as u8,
        number("IVY_MC_REVIVALS", 1) as u8,
        number("IVY_MC_JUMPS", 0) as u8,
    );
    let start = std::time::Instant::now();
    let limit = std::time::Duration::from_secs(number("IVY_MC_SECONDS", 60));
    let checker = model.checker().spawn_dfs();
    while !checker.is_done() && start.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_secs(5));
        eprintln!(
            "{:?}: {} states",
            start.elapsed(),
            checker.unique_state_count()
        );
    }
    eprintln!(
        "{} states, done {}, {:?}",
        checker.unique_state_count(),
        checker.is_done(),
        start.elapsed()
    );
    if checker.is_done() {
        checker.assert_properties();
    }
}

/// One crash of either manager in any state, its revival in any later state.
#[test]
fn a_crash_anywhere_and_a_revival_keep_the_protocol_coherent_and_live() {
    // Depth first on one thread: the count is deterministic and memory stays small.
    let checker = model(1, 1, 0).checker().spawn_dfs().join();
    checker.assert_properties();
    assert_eq!(checker.unique_state_count(), 566_143);
}

/// Crash, revive, crash again: either manager crashes in any state, is revived
/// (blank) in any later state, and then either manager (the same one, or the one
/// that took over) crashes in any later state, never both down at once.
#[test]
fn a_crash_anywhere_a_revival_and_another_crash_keep_the_protocol_coherent_and_live() {
    // 155 s in the default test profile on this 2-core machine; 11 million states.
    let checker = model(2, 1, 0).checker().spawn_dfs().join();
    checker.assert_properties();
    assert_eq!(checker.unique_state_count(), 11_191_889);
}

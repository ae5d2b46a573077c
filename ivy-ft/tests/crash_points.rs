//! Crash a manager at every message of a fault: for a read fault, a write fault that
//! invalidates a copy, and an owner's upgrade, crash the primary, or the backup, just
//! before each message is delivered (so also between a replication and its
//! acknowledgement), with and without a later revival, and with and without losing
//! the messages it had sent. Messages travel in FIFO order
//! and time passes only when none is in flight. Every run must complete every
//! operation exactly once, stay coherent after every step, end with the live managers
//! settled and agreeing with the processes, and be linearizable.

use ivy_core::sim::SimManager;
use ivy_core::{
    check_coherence, check_linearizable, Envelope, HistoryEntry, Node, Operation, Outbox, PageId,
    Process, ProcessOptions, SystemConfig, View,
};
use ivy_ft::{FtManager, FtOptions};
use std::collections::VecDeque;

const STEP_LIMIT: usize = 100_000;

/// Where to crash: before the `delivery`th delivery, manager `manager` (0: the
/// original primary, 1: the original backup); revive it so many ticks later. With
/// `loses_sent`, the messages it sent that are still in flight are lost with it.
#[derive(Clone, Copy, Debug)]
struct Crash {
    delivery: usize,
    manager: usize,
    revive_after_ticks: Option<u64>,
    loses_sent: bool,
}

struct Network {
    processes: Vec<Process>,
    managers: Vec<FtManager>,
    down_since_tick: Vec<Option<u64>>,
    queue: VecDeque<Envelope>,
    remaining: Vec<VecDeque<Operation>>,
    invoked_at: Vec<usize>,
    history: Vec<HistoryEntry>,
    now_ticks: u64,
    deliveries: usize,
    steps: usize,
    crashed: bool,
}

impl Network {
    fn new(workload: &[Vec<Operation>]) -> Network {
        let config = SystemConfig::new(workload.len() as u32, 1, 8).expect("a valid size");
        let options = ProcessOptions::replicated(&config, 60);
        let ft = FtOptions::default();
        Network {
            processes: config
                .process_ids()
                .map(|id| Process::new(id, &config, options.clone()))
                .collect(),
            managers: vec![
                FtManager::new(&config, config.manager(), ft),
                FtManager::new(&config, config.backup_manager(), ft),
            ],
            down_since_tick: vec![None, None],
            queue: VecDeque::new(),
            remaining: workload
                .iter()
                .map(|ops| ops.iter().copied().collect())
                .collect(),
            invoked_at: vec![0; workload.len()],
            history: Vec::new(),
            now_ticks: 0,
            deliveries: 0,
            steps: 0,
            crashed: false,
        }
    }

    fn absorb(&mut self, out: &mut Outbox) {
        self.queue.extend(out.messages.drain(..));
        for completion in out.completions.drain(..) {
            let process = completion.process.index();
            self.history.push(HistoryEntry {
                process: completion.process,
                op: completion.kind,
                page: completion.page,
                value: completion.value,
                invoked_at: self.invoked_at[process] as u64,
                completed_at: self.steps as u64,
            });
        }
        out.events.clear();
    }

    fn start_idle_processes(&mut self, out: &mut Outbox) {
        for index in 0..self.processes.len() {
            while self.processes[index].is_idle() {
                let Some(operation) = self.remaining[index].pop_front() else {
                    break;
                };
                self.invoked_at[index] = self.steps;
                self.processes[index]
                    .start(operation, self.now_ticks, out)
                    .expect("an idle process");
                self.absorb(out);
            }
        }
    }

    fn is_done(&self) -> bool {
        let settled: Vec<_> = (0..2)
            .filter(|&m| self.down_since_tick[m].is_none())
            .map(|m| self.managers[m].settled_view())
            .collect();
        let has_primary = (0..2).any(|m| {
            self.down_since_tick[m].is_none()
                && self.managers[m]
                    .authority()
                    .is_some_and(|(_, primary)| primary)
        });
        has_primary
            && self.queue.is_empty()
            && self.remaining.iter().all(VecDeque::is_empty)
            && self.processes.iter().all(Process::is_idle)
            && settled[0].is_some()
            && settled.iter().all(|view| *view == settled[0])
    }

    fn step(&mut self, crash: Option<Crash>, out: &mut Outbox) {
        self.steps += 1;
        if let Some(crash) = crash {
            if crash.delivery == self.deliveries && !self.crashed {
                let manager = &mut self.managers[crash.manager];
                *manager = manager.crashed();
                if crash.loses_sent {
                    let id = manager.id();
                    self.queue.retain(|envelope| envelope.from != id);
                }
                self.down_since_tick[crash.manager] = Some(self.now_ticks);
                self.crashed = true;
            }
            if let (Some(after), Some(since)) = (
                crash.revive_after_ticks,
                self.down_since_tick[crash.manager],
            ) {
                if self.now_ticks >= since + after {
                    self.down_since_tick[crash.manager] = None;
                }
            }
        }
        match self.queue.pop_front() {
            Some(envelope) => self.deliver(envelope, out),
            None => self.tick(out),
        }
    }

    fn deliver(&mut self, envelope: Envelope, out: &mut Outbox) {
        self.deliveries += 1;
        let to = envelope.to.index();
        match to.checked_sub(self.processes.len()) {
            Some(m) if self.down_since_tick[m].is_some() => {} // lost
            Some(m) => {
                self.managers[m].handle_message(envelope, self.now_ticks, out);
                self.managers[m].handle_idle(self.now_ticks, out);
            }
            None => self.processes[to].handle_message(envelope, self.now_ticks, out),
        }
        self.absorb(out);
    }

    fn tick(&mut self, out: &mut Outbox) {
        self.now_ticks += 1;
        for process in &mut self.processes {
            process.handle_tick(self.now_ticks, out);
        }
        for m in 0..2 {
            if self.down_since_tick[m].is_none() {
                self.managers[m].handle_tick(self.now_ticks, out);
            }
        }
        self.absorb(out);
    }

    fn check(&self) -> Result<(), String> {
        let authority = (0..2)
            .filter(|&m| self.down_since_tick[m].is_none())
            .filter_map(|m| Some((self.managers[m].rank()?, m)))
            .max()
            .map(|(_, m)| m)
            .ok_or("no live manager holds state")?;
        check_coherence(&self.processes, &self.managers[authority]).map_err(|v| v.to_string())
    }
}

/// What a run ended with.
#[derive(Debug, PartialEq, Eq)]
struct Ending {
    deliveries: usize,
    /// The newest view of a live manager.
    view: View,
}

/// Runs `workload` with `crash`.
fn run(workload: &[Vec<Operation>], crash: Option<Crash>) -> Result<Ending, String> {
    let mut network = Network::new(workload);
    let mut out = Outbox::new();
    while !network.is_done() {
        if network.steps > STEP_LIMIT {
            return Err("did not finish".to_string());
        }
        network.start_idle_processes(&mut out);
        network.step(crash, &mut out);
        network.check()?;
    }
    let operations: usize = workload.iter().map(Vec::len).sum();
    if network.history.len() != operations {
        return Err(format!(
            "{} of {operations} completed",
            network.history.len()
        ));
    }
    for m in (0..2).filter(|&m| network.down_since_tick[m].is_none()) {
        if network.managers[m].log_view().is_some() {
            check_coherence(&network.processes, &network.managers[m])
                .map_err(|v| format!("manager {m} disagrees at the end: {v}"))?;
        }
    }
    check_linearizable(&network.history).map_err(|v| v.to_string())?;
    let view = network.managers.iter().map(FtManager::view).max();
    Ok(Ending {
        deliveries: network.deliveries,
        view: view.expect("two managers"),
    })
}

fn read(page: u32) -> Operation {
    Operation::Read { page: PageId(page) }
}

fn write(page: u32, value: u64) -> Operation {
    Operation::Write {
        page: PageId(page),
        value,
    }
}

/// Runs `workload` with a crash of each manager before every message of its
/// fault-free run, with and without revival.
fn crash_everywhere(workload: &[Vec<Operation>]) {
    let messages = run(workload, None)
        .expect("the fault-free run succeeds")
        .deliveries;
    let mut runs = 0;
    for delivery in 0..=messages {
        for manager in 0..2 {
            for (revive_after_ticks, loses_sent) in revivals_and_losses() {
                let crash = Crash {
                    delivery,
                    manager,
                    revive_after_ticks,
                    loses_sent,
                };
                let ending = run(workload, Some(crash))
                    .unwrap_or_else(|problem| panic!("{crash:?}: {problem}"));
                if manager == 0 && revive_after_ticks.is_none() && delivery < messages {
                    assert!(
                        ending.view > View(0),
                        "{crash:?}: the backup never took over"
                    );
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, (messages + 1) * 2 * 6);
}

fn revivals_and_losses() -> impl Iterator<Item = (Option<u64>, bool)> {
    [None, Some(5), Some(200)]
        .into_iter()
        .flat_map(|revive| [(revive, false), (revive, true)])
}

#[test]
fn a_crash_anywhere_in_a_read_fault_loses_nothing() {
    crash_everywhere(&[vec![], vec![read(0)], vec![]]);
}

#[test]
fn a_crash_anywhere_in_a_write_fault_with_a_copy_loses_nothing() {
    // Process 1 reads (a copy), then process 2 writes: invalidation and transfer.
    crash_everywhere(&[vec![], vec![read(0)], vec![read(0), write(0, 7)]]);
}

#[test]
fn a_crash_anywhere_in_an_upgrade_loses_nothing() {
    crash_everywhere(&[vec![write(0, 3)], vec![read(0)], vec![]]);
}

#[test]
fn a_crash_anywhere_in_racing_writes_loses_nothing() {
    crash_everywhere(&[vec![write(0, 1)], vec![write(0, 2)], vec![write(0, 3)]]);
}

#[test]
fn the_fault_free_runs_use_the_messages_they_should() {
    // Request, replication and its acknowledgement, forward, page, confirmation,
    // replication of the confirmation and its acknowledgement.
    let ending = run(&[vec![], vec![read(0)], vec![]], None);
    assert_eq!(
        ending,
        Ok(Ending {
            deliveries: 8,
            view: View(0)
        })
    );
}

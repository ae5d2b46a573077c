//! Collecting a run's result from its workers.

use super::worker::Finished;
use super::{MissedKill, RunOutcome, RuntimeError};
use ivy_core::Node;
use std::thread::JoinHandle;
use std::time::Duration;

/// What a run counted, summed over its workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Messages handled, heartbeats (and their acknowledgements) apart.
    pub messages: u64,
    /// Heartbeats and heartbeat acknowledgements handled.
    pub heartbeats: u64,
    /// Operations that completed without a fault.
    pub local_hits: u64,
    /// Timers fired: the times a node was woken by a deadline rather than a message
    /// (none in a basic run: nothing there waits for time).
    pub timer_firings: u64,
    /// Times a worker woke because a timed wait ran out rather than for an input (a
    /// deadline, or polling while a process waits for a fault to be injected).
    pub timed_wakeups: u64,
}

impl std::ops::AddAssign for RunCounts {
    fn add_assign(&mut self, other: RunCounts) {
        self.messages += other.messages;
        self.heartbeats += other.heartbeats;
        self.local_hits += other.local_hits;
        self.timer_firings += other.timer_firings;
        self.timed_wakeups += other.timed_wakeups;
    }
}

pub(super) fn join_all<M, P>(
    threads: Vec<JoinHandle<Finished<M, P>>>,
) -> Result<Vec<Finished<M, P>>, RuntimeError> {
    let mut finished = Vec::with_capacity(threads.len());
    let mut failed = None;
    for (index, thread) in threads.into_iter().enumerate() {
        match thread.join() {
            Ok(worker) => finished.push(worker),
            Err(_) => failed = failed.or(Some(index)),
        }
    }
    match failed {
        None => Ok(finished),
        Some(index) => Err(RuntimeError::WorkerFailed(index)),
    }
}

pub(super) fn assemble<M, P: Node>(
    workers: Vec<Finished<M, P>>,
    elapsed: Duration,
    failovers: Vec<Option<Duration>>,
    missed_kills: Vec<MissedKill>,
) -> RunOutcome<M, P> {
    let mut trace = Vec::new();
    let mut history = Vec::new();
    let mut counts = RunCounts::default();
    let mut processes = Vec::new();
    let mut managers = Vec::new();
    for worker in workers {
        trace.extend(worker.trace);
        history.extend(worker.history);
        counts += worker.counts;
        processes.extend(worker.processes.into_iter().map(|slot| slot.client.process));
        managers.extend(
            worker
                .managers
                .into_iter()
                .map(|slot| (slot.index, slot.node, slot.down)),
        );
    }
    processes.sort_by_key(|process| process.id());
    managers.sort_by_key(|(index, _, _)| *index);
    trace.sort_unstable_by_key(|(sequence, _)| *sequence);
    history.sort_by_key(|entry| (entry.completed_at, entry.invoked_at));
    RunOutcome {
        processes,
        managers: managers
            .into_iter()
            .map(|(_, node, down)| (node, down))
            .collect(),
        trace: trace.into_iter().map(|(_, item)| item).collect(),
        history,
        counts,
        elapsed,
        failovers,
        missed_kills,
    }
}

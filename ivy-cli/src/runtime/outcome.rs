//! Collecting a run's result from its workers.

use super::worker::Finished;
use super::{MissedKill, RunOutcome, RuntimeError};
use ivy_core::Node;
use std::thread::JoinHandle;
use std::time::Duration;

pub(super) fn join_all<M>(
    threads: Vec<JoinHandle<Finished<M>>>,
) -> Result<Vec<Finished<M>>, RuntimeError> {
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

pub(super) fn assemble<M>(
    workers: Vec<Finished<M>>,
    elapsed: Duration,
    failovers: Vec<Option<Duration>>,
    missed_kills: Vec<MissedKill>,
) -> RunOutcome<M> {
    let mut trace = Vec::new();
    let mut history = Vec::new();
    let (mut messages, mut heartbeats, mut local_hits) = (0, 0, 0);
    let mut processes = Vec::new();
    let mut managers = Vec::new();
    for worker in workers {
        trace.extend(worker.trace);
        history.extend(worker.history);
        messages += worker.messages;
        heartbeats += worker.heartbeats;
        local_hits += worker.local_hits;
        processes.extend(worker.processes.into_iter().map(|slot| slot.node));
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
        messages,
        heartbeats,
        local_hits,
        elapsed,
        failovers,
        missed_kills,
    }
}

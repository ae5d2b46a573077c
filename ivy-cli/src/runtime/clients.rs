//! A worker's processes: each issues its operations one after another through the
//! driver kit's `Client`, injecting the faults due at each request first, and tells
//! the runtime once it has completed them all.

use super::worker::{Hosted, Worker};
use super::RuntimeManager;
use ivy_core::driver::TraceItem;
use ivy_core::Completion;
use ivy_core::ProcessNode;
use std::sync::atomic::Ordering;

impl<M: RuntimeManager, P: ProcessNode> Worker<M, P> {
    /// Issues the next operation of every idle process whose turn has come; returns
    /// whether a process waits for an earlier request's fault to be injected.
    /// The clock is read once per operation: the reading after one operation is both
    /// when it completed (if it hit) and when the next one is invoked.
    pub(super) fn start_operations(&mut self) -> bool {
        let mut waiting = false;
        let mut now_ns = self.shared.now_ns();
        for slot in 0..self.hosted.len() {
            while let Hosted::Process(process) = &mut self.hosted[slot] {
                let Some(request) = process.client.next_request() else {
                    break;
                };
                if !self.shared.faults_ready(request) {
                    waiting = true;
                    break;
                }
                let events = self.shared.inject_faults_at(request);
                let issued =
                    process
                        .client
                        .issue_next(now_ns, now_ns / 1_000_000, &mut self.outbox);
                issued.expect("workload operations name existing pages");
                for event in events {
                    self.record(TraceItem::Event(event));
                }
                now_ns = self.shared.now_ns();
                self.completion_clock = Some(now_ns);
                self.route(slot);
                self.completion_clock = None;
            }
            self.report_done(slot);
        }
        waiting
    }

    /// Whether a local message waits, or a process can issue an operation now.
    pub(super) fn can_start_more(&self) -> bool {
        let ready = |hosted: &Hosted<M, P>| match hosted {
            Hosted::Process(process) => process
                .client
                .next_request()
                .is_some_and(|request| self.shared.faults_ready(request)),
            Hosted::Manager(_) => false,
        };
        !self.local.is_empty() || self.hosted.iter().any(ready)
    }

    /// Tells the runtime, once, that the process in `slot` completed everything (its
    /// completions counted first).
    pub(super) fn report_done(&mut self, slot: usize) {
        let Hosted::Process(process) = &mut self.hosted[slot] else {
            return;
        };
        if !process.client.is_finished() || process.reported_done {
            return;
        }
        process.reported_done = true;
        let id = process.client.id();
        self.publish_completed();
        let _ = self.done.send(id);
    }

    /// Records what the node in `slot` completed (it is a process), then tells the
    /// runtime if it is done. The count the watchdog reads is published once per loop
    /// turn (`publish_completed`): every worker writes that counter, and writing it
    /// per completion made the workers contend for its cache line.
    pub(super) fn record_completions(&mut self, slot: usize, completions: &[Completion]) {
        let Hosted::Process(process) = &self.hosted[slot] else {
            return;
        };
        let complete_ns = match self.completion_clock {
            Some(read_after_completing) => read_after_completing,
            None => self.shared.now_ns(),
        };
        for completion in completions {
            if completion.fault.is_none() {
                self.counts.local_hits += 1;
            }
            if self.shared.options.record_history {
                let entry = process.client.history_entry(completion, complete_ns);
                self.history.push(entry);
            }
        }
        self.unpublished_completions += completions.len() as u64;
        self.report_done(slot);
    }

    /// Adds this turn's completions to the count the watchdog reads.
    pub(super) fn publish_completed(&mut self) {
        let completed = std::mem::take(&mut self.unpublished_completions);
        if completed > 0 {
            self.shared
                .completed
                .fetch_add(completed, Ordering::Relaxed);
        }
    }
}

//! A worker's processes: each issues its operations one after another through the
//! driver kit's `Client`, injecting the faults due at each request first, and tells
//! the runtime once it has completed them all.

use super::worker::{Hosted, Worker};
use super::RuntimeManager;
use ivy_core::driver::TraceItem;
use ivy_core::Completion;
use std::sync::atomic::Ordering;

impl<M: RuntimeManager> Worker<M> {
    /// Issues the next operation of every idle process whose turn has come; returns
    /// whether a process waits for an earlier request's fault to be injected.
    pub(super) fn start_operations(&mut self) -> bool {
        let mut waiting = false;
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
                let now_ns = self.shared.now_ns();
                let issued =
                    process
                        .client
                        .issue_next(now_ns, now_ns / 1_000_000, &mut self.outbox);
                issued.expect("workload operations name existing pages");
                for event in events {
                    self.record(TraceItem::Event(event));
                }
                self.route(slot);
            }
            self.report_done(slot);
        }
        waiting
    }

    /// Whether a local message waits, or a process can issue an operation now.
    pub(super) fn can_start_more(&self) -> bool {
        let ready = |hosted: &Hosted<M>| match hosted {
            Hosted::Process(process) => process
                .client
                .next_request()
                .is_some_and(|request| self.shared.faults_ready(request)),
            Hosted::Manager(_) => false,
        };
        !self.local.is_empty() || self.hosted.iter().any(ready)
    }

    /// Tells the runtime, once, that the process in `slot` completed everything.
    pub(super) fn report_done(&mut self, slot: usize) {
        if let Hosted::Process(process) = &mut self.hosted[slot] {
            if process.client.is_finished() && !process.reported_done {
                process.reported_done = true;
                let _ = self.done.send(process.client.id());
            }
        }
    }

    /// Records what the node in `slot` completed (it is a process), then tells the
    /// runtime if it is done.
    pub(super) fn record_completions(&mut self, slot: usize, completions: &[Completion]) {
        let Hosted::Process(process) = &self.hosted[slot] else {
            return;
        };
        let complete_ns = self.shared.now_ns();
        for completion in completions {
            if completion.fault.is_none() {
                self.counts.local_hits += 1;
            }
            if self.shared.options.record_history {
                let entry = process.client.history_entry(completion, complete_ns);
                self.history.push(entry);
            }
        }
        let completed = completions.len() as u64;
        self.shared
            .completed
            .fetch_add(completed, Ordering::Relaxed);
        self.report_done(slot);
    }
}

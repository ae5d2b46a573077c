//! The runtime's watchdog: it waits until every process has completed its
//! operations, stops a run that passes its deadline or makes no progress, and tells a
//! progress hook how far the run is.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use ivy_core::NodeId;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A function told `(completed, total, finished)`: how many operations have completed
/// of how many, a few times a second while the run is under way (`finished` false),
/// and once when the processes are done or the run stops.
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn Fn(u64, u64, bool) + Send + Sync>);

impl fmt::Debug for ProgressHook {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ProgressHook")
    }
}

/// How often the hook hears of progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// When to give up waiting for the processes, and whom to tell how far they are.
pub(super) struct Watch<'a> {
    pub(super) deadline: Instant,
    pub(super) stall_after: Option<Duration>,
    pub(super) completed: &'a AtomicU64,
    pub(super) total: u64,
    pub(super) progress: Option<ProgressHook>,
}

impl Watch<'_> {
    /// Waits until every process has reported all its operations done; returns
    /// whether the deadline passed first, or no operation completed for
    /// `stall_after`.
    pub(super) fn wait_for_processes(&self, done: &Receiver<NodeId>, processes: usize) -> bool {
        let stalled = self.wait(done, processes);
        if let Some(ProgressHook(hook)) = &self.progress {
            hook(self.completed.load(Ordering::Relaxed), self.total, true);
        }
        stalled
    }

    fn wait(&self, done: &Receiver<NodeId>, processes: usize) -> bool {
        let mut remaining = processes;
        let mut progress = (self.completed.load(Ordering::Relaxed), Instant::now());
        while remaining > 0 {
            let now = Instant::now();
            let completed = self.completed.load(Ordering::Relaxed);
            let mut wake = self.deadline;
            if let Some(stall_after) = self.stall_after {
                if completed != progress.0 {
                    progress = (completed, now);
                }
                if now >= progress.1 + stall_after {
                    return true;
                }
                wake = wake.min(now + stall_after.min(Duration::from_millis(50)));
            }
            if let Some(ProgressHook(hook)) = &self.progress {
                hook(completed, self.total, false);
                wake = wake.min(now + PROGRESS_EVERY);
            }
            match done.recv_deadline(wake) {
                Ok(_) => remaining -= 1,
                Err(RecvTimeoutError::Timeout) if Instant::now() < self.deadline => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return true,
            }
        }
        false
    }
}

//! How a worker waits for its next input, and sends what it batched. Messages for
//! another worker's nodes travel in batches: one hand-off per destination worker for
//! each input handled (a batch of messages) and each round of operations started,
//! not one per message, and never held longer, since the other worker may be waiting.
//! When the workers are no more than the cores, an idle worker first polls its inbox for up to a millisecond, or until its earliest
//! deadline if that is sooner (crossbeam's `Backoff`: a few spins, then yields, so a
//! loaded machine gets the core back), since a reply often comes within microseconds
//! and parking and waking a thread costs more (a futex wake-up was 31% of a two-worker
//! run's time); then it parks until an input or its earliest deadline.

use super::worker::Worker;
use super::{Input, RuntimeManager};
use crossbeam_channel::{RecvTimeoutError, TryRecvError};
use crossbeam_utils::Backoff;
use ivy_core::ProcessNode;
use std::time::{Duration, Instant};

/// Why a worker woke.
pub(super) enum Wake {
    /// An input arrived.
    Input(Input),
    /// The runtime stopped it (or every sender is gone).
    Stop,
    /// The wait ran out: a deadline is due, or faults may have been injected.
    TimedOut,
}

/// How long an idle worker polls its inbox before it parks, when it has a core.
const SPIN_BEFORE_PARKING: Duration = Duration::from_millis(1);

impl<M: RuntimeManager, P: ProcessNode> Worker<M, P> {
    /// Hands each destination worker the messages produced for it since the last
    /// hand-off.
    pub(super) fn flush_outgoing(&mut self) {
        for worker in 0..self.outgoing.len() {
            if self.outgoing[worker].is_empty() {
                continue;
            }
            let batch = std::mem::take(&mut self.outgoing[worker]);
            // A worker that already stopped needs nothing more.
            let _ = self.shared.workers[worker].send(Input::Deliver(batch));
        }
    }

    /// Waits for the next input: polling briefly first if the workers have a core
    /// each (never past the earliest deadline), then parked until an input arrives or
    /// the earliest deadline (sooner, every 200 µs, while a process waits for a fault
    /// to be injected).
    pub(super) fn next_input(&mut self, waiting_for_faults: bool) -> Wake {
        let deadline = self.next_deadline();
        if self.shared.spin_before_parking {
            let spin_until = Instant::now() + SPIN_BEFORE_PARKING;
            let spin_until = deadline.map_or(spin_until, |due| due.min(spin_until));
            let backoff = Backoff::new();
            loop {
                match self.inbox.try_recv() {
                    Ok(input) => return Wake::of(input),
                    Err(TryRecvError::Disconnected) => return Wake::Stop,
                    Err(TryRecvError::Empty) => {}
                }
                if backoff.is_completed() && Instant::now() >= spin_until {
                    break;
                }
                backoff.snooze();
            }
        }
        let wake = match waiting_for_faults {
            true => {
                let soon = Instant::now() + Duration::from_micros(200);
                Some(deadline.map_or(soon, |deadline| deadline.min(soon)))
            }
            false => deadline,
        };
        let received = match wake {
            None => self
                .inbox
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(wake) => self.inbox.recv_deadline(wake),
        };
        match received {
            Ok(input) => Wake::of(input),
            Err(RecvTimeoutError::Disconnected) => Wake::Stop,
            Err(RecvTimeoutError::Timeout) => Wake::TimedOut,
        }
    }

    /// Handles `input` and the inputs queued behind it, up to `inputs_per_turn` in
    /// all (so that timers and operations get their turn); returns false once told to
    /// stop. What each input makes for other workers leaves at once: a fault's
    /// messages form a chain, and a reply held back until the end of the turn would
    /// keep the other worker waiting (holding them made two workers 1.8 times slower
    /// than one on writes; per input, about 1.3).
    pub(super) fn handle_inputs(&mut self, input: Input) -> bool {
        // The wait may have been long: the inputs are handled at their own time.
        self.now_ticks = self.shared.now_ns() / 1_000_000;
        let mut next = Some(input);
        let mut handled = 0;
        while let Some(input) = next.take() {
            if let Input::Stop = input {
                return false;
            }
            self.handle_input(input);
            self.flush_outgoing();
            self.drain_local();
            self.flush_outgoing();
            handled += 1;
            if handled < self.shared.options.inputs_per_turn {
                next = self.inbox.try_recv().ok();
            }
        }
        true
    }
}

impl Wake {
    fn of(input: Input) -> Wake {
        match input {
            Input::Stop => Wake::Stop,
            input => Wake::Input(input),
        }
    }
}

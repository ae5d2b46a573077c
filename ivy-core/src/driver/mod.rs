//! The driver kit: what every driver of the nodes needs besides moving bytes and
//! reading the clock, written once for the threaded runtime, the OS-process cluster
//! and any later driver. Like the rest of this crate it does no I/O and reads no
//! clock: times are numbers in whatever unit the driver counts (the threaded runtime
//! uses nanoseconds since the start).
//!
//! - [`Client`]: a process and the numbered operations it has left to issue, one
//!   after another, each recorded in the history when it completes;
//! - [`schedule`]: faults due when a request is issued, and the [`KillBook`] that
//!   decides each kill and revival (the manager in the role it names, a kill that
//!   waits for its peer, a kill that finds no manager) and reports what did not
//!   happen;
//! - [`FailoverClocks`]: each crash of a primary to the first request a new primary
//!   serves;
//! - [`lost_state`]: after a stalled run, what no live manager holds and which kill
//!   lost it;
//! - [`TraceItem`] and [`RunEvent`]: the rows of a run's trace;
//! - [`check_outcome`]: the final check of a finished run.
//!
//! Settling (every live manager in one view, one of them primary) is
//! [`crate::settled_together`], shared with the simulator, as is
//! [`crate::HistoryEntry::of`].

mod client;
mod events;
mod failover;
mod lost;
mod outcome;
pub mod schedule;

pub use client::Client;
pub use events::{RunEvent, TraceItem};
pub use failover::FailoverClocks;
pub use lost::{
    knowledge, knowledge_of, lost_state, lost_state_among, Holder, LostState, Missing,
    PerformedKill,
};
pub use outcome::{check_outcome, check_run, OutcomeViolation};
pub use schedule::{
    Decision, FaultAction, FaultSchedule, KillBook, KillRole, MissReason, MissedKill, Roles,
};

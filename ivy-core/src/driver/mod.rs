//! The driver kit: what every driver of the nodes needs besides moving bytes and
//! reading the clock, written once. Like the rest of this crate it does no I/O and
//! reads no clock.
//!
//! - [`check_outcome`]: the final check of a finished run.

mod outcome;

pub use outcome::{check_outcome, OutcomeViolation};

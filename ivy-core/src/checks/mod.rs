//! What every driver checks: the coherence invariant ([`invariants`], one function
//! used after every simulator step, in property tests and in the model checkers,
//! against each page's [`authority`]),
//! operation histories and their linearizability checker ([`history`]), and the
//! oracle that tells whether a live manager still holds what processes acted on
//! ([`held_state`]).

pub mod authority;
pub mod held_state;
pub mod history;
pub mod invariants;
pub mod process_view;

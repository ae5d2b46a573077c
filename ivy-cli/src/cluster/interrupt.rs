//! Ctrl-C (SIGINT) and SIGTERM during an `ivy cluster` run: the launcher notes them and
//! ends the run itself, so that its children are stopped and what it made (the scratch
//! directory, the network namespaces) is removed. Children reset the handler when
//! they start `ivy node` (a caught signal's handler does not survive exec).

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note(_signal: std::ffi::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// From now on SIGINT and SIGTERM ask the launcher to stop instead of killing it.
pub fn catch() {
    let action = SigAction::new(
        SigHandler::Handler(note),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// Whether SIGINT or SIGTERM has arrived since `catch`.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

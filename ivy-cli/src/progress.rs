//! A progress bar on standard error for long runs: shown only when standard error is
//! a terminal, the run is not `--quiet` and its output is not JSON, and only once the
//! run has taken more than a second; cleared when the processes are done, so that it
//! never mixes with the output.

use crate::args::{RunArgs, TraceFormat};
use crate::runtime::ProgressHook;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a run goes before it shows a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The hook that draws the bar for a run of `args`, if it should have one.
pub fn hook_for(args: &RunArgs) -> Option<ProgressHook> {
    let shown = !args.quiet && args.trace != TraceFormat::Json && std::io::stderr().is_terminal();
    shown.then(|| bar_hook(Instant::now() + SHOW_AFTER))
}

/// A hook that draws a bar from `show_at` on, until the run is finished.
fn bar_hook(show_at: Instant) -> ProgressHook {
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    ProgressHook(Arc::new(move |completed, total, finished| {
        let mut bar = bar.lock().expect("no panics while locked");
        if finished {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
            return;
        }
        if bar.is_none() && Instant::now() >= show_at {
            let style = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} operations, {elapsed} so far, about {eta} left",
            )
            .expect("a valid template");
            let shown = ProgressBar::new(total).with_style(style);
            shown.set_position(completed);
            shown.reset_eta(); // the rate counts from now, not from the jump to `completed`
            *bar = Some(shown);
        }
        if let Some(bar) = bar.as_ref() {
            bar.set_position(completed);
        }
    }))
}

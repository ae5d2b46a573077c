//! The `ivy` command's library: the threaded runtime that drives the sans-IO state
//! machines of `ivy-core`, `ivy-basic` and `ivy-ft` (one thread per node, crossbeam
//! channels, one tick per millisecond), argument parsing, readouts, traces and the two
//! systems the binary runs. The benchmarks drive the runtime through this library.

pub mod args;
pub mod basic;
pub mod budget;
pub mod cluster;
pub mod error;
pub mod ft;
pub mod history_file;
pub mod node;
pub mod output;
pub mod progress;
pub mod readout;
pub mod report_line;
pub mod run;
pub mod runtime;
pub mod sink;

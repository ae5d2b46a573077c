//! The CLI's errors and their exit codes.

use std::io;
use thiserror::Error;

/// Why `ivy` stopped.
#[derive(Debug, Error)]
pub enum CliError {
    /// Bad or inconsistent input: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The run itself failed (stalled, or a check found a violation): exit code 1.
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C or SIGTERM stopped the run: exit code 130.
    #[error("interrupted")]
    Interrupted,
    /// Standard output could not be written.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Interrupted => 130,
            CliError::Failed(_) | CliError::Output(_) => 1,
        }
    }
}

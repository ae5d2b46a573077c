//! `ivy`: runs Ivy distributed shared memory on threads, one per node, and prints the
//! page tables before and after, the message trace and a summary.
//!
//! The protocol lives in the sans-IO crates (`ivy-core`, `ivy-basic`, `ivy-ft`); this crate owns
//! the threaded runtime that drives them, argument parsing and output.

use clap::Parser;
use ivy_cli::args::{Cli, ClusterCommand, Command};
use ivy_cli::error::CliError;
use ivy_cli::sink::{stdout_file, Sink};
use ivy_cli::{basic, cluster, ft, node};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return report_usage_error(error),
    };
    // Output never cuts a run short: the history and the checks happen whatever
    // becomes of standard output, and its first error is reported at the end.
    let mut out: Sink<Box<dyn Write>> = match stdout_file() {
        Ok(file) => Sink::new(Box::new(BufWriter::new(file))),
        Err(error) => Sink::failed(Box::new(io::sink()), error),
    };
    let result = match &cli.command {
        Command::Basic(args) => basic::run(args, &mut out),
        Command::Ft(args) => ft::run(args, &mut out),
        Command::Node(args) => node::run(args, &mut out),
        Command::Cluster(ClusterCommand::Basic(args)) => cluster::run_basic(args, &mut out),
        Command::Cluster(ClusterCommand::Ft(args)) => cluster::run_ft(args, &mut out),
    };
    let output = out.finish();
    let error = match (result, output) {
        (Err(error), _) => error,
        (Ok(()), Ok(())) => return ExitCode::SUCCESS,
        // The reader stopped reading (`ivy basic | head`): not worth a word, and the
        // run itself succeeded.
        (Ok(()), Err(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
            return ExitCode::SUCCESS
        }
        (Ok(()), Err(error)) => CliError::Output(error),
    };
    eprintln!("error: {error}");
    ExitCode::from(error.exit_code() as u8)
}

/// Prints `--help` and `--version` as clap does; any other parse error as one line
/// (clap's message and its hint, without the usage block) with exit code 2.
fn report_usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = error.print();
        let code = if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        };
        return ExitCode::from(code);
    }
    let rendered = error.render().to_string();
    let line: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("For more information")
                && !line.starts_with("Usage:")
        })
        .collect();
    eprintln!("{} (see 'ivy --help')", line.join(" "));
    ExitCode::from(2)
}

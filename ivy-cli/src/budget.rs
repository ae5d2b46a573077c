//! What a run will need in memory, estimated before anything is allocated, and what
//! the machine can give it: a run that cannot fit is refused with one line (exit 2)
//! instead of dying of a failed allocation halfway.
//!
//! The estimate is an upper bound from the sizes of what a run keeps: per request, the
//! drawn operation, its history entry and (with a trace) the messages of its fault; per
//! page, a record in each manager's directory; and the page contents processes hold,
//! at most one page per request. Page tables cost nothing per page (they are sparse).

use crate::args::{RunArgs, TraceFormat};
use ivy_core::driver::TraceItem;
use ivy_core::{HistoryEntry, Operation, PageRecord};
use std::mem::size_of;

/// Messages recorded per request, at most, on average: a write fault that invalidates
/// copies takes 6 plus 2 per copy, a read fault 4, a hit none.
const TRACED_MESSAGES_PER_REQUEST: u64 = 8;

/// Memory every run needs besides what grows with its size: threads, buffers, code.
const BASE_BYTES: u64 = 64 << 20;

/// What a run of `args` with `managers` managers may need, in bytes.
pub fn estimate_bytes(args: &RunArgs, managers: u64) -> u64 {
    estimate_without_trace(args, managers) + trace_bytes(args)
}

/// What recording the trace of a run of `args` may need, in bytes.
fn trace_bytes(args: &RunArgs) -> u64 {
    match args.trace {
        TraceFormat::None => 0,
        _ if args.quiet => 0,
        _ => args.requests * TRACED_MESSAGES_PER_REQUEST * size_of::<(u64, TraceItem)>() as u64,
    }
}

fn estimate_without_trace(args: &RunArgs, managers: u64) -> u64 {
    let requests = args.requests;
    // Drawn, then numbered per process: two copies of each operation at the peak.
    let workload = requests * 2 * (size_of::<Operation>() + size_of::<u64>()) as u64;
    let history = requests * size_of::<HistoryEntry>() as u64;
    // Each manager's directory, and for a replicated pair a snapshot in flight.
    let directories = u64::from(args.pages) * size_of::<PageRecord>() as u64 * managers * 2;
    // Page contents exist only once written or copied: a page per request at most.
    let touched_pages = requests.min(u64::from(args.pages) * u64::from(args.processes));
    let contents = touched_pages * args.page_size as u64;
    BASE_BYTES + workload + history + directories + contents
}

/// The bytes this process may still allocate: the memory the kernel reports
/// available, and the address-space limit (`ulimit -v`) if one is set, whichever is
/// less; `None` where neither can be read (then nothing is refused).
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo
        .as_deref()
        .and_then(|text| kib_field(text, "MemAvailable:"));
    let limits = std::fs::read_to_string("/proc/self/limits").ok();
    let address_space = limits.as_deref().and_then(address_space_limit);
    match (available, address_space) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuses a run whose estimate exceeds what is available, with the one line to print.
pub fn check(args: &RunArgs, managers: u64) -> Result<(), String> {
    let needed = estimate_bytes(args, managers);
    match available_bytes() {
        Some(available) if needed > available => {
            let trace = trace_bytes(args);
            let remedy = match trace > needed / 2 {
                true => format!(
                    "the trace alone needs {}: --trace none or --quiet records none",
                    show(trace)
                ),
                false => "lower --requests or --pages".to_string(),
            };
            Err(format!(
                "this run needs about {} of memory ({} requests, {} pages of {} bytes) but \
                 {} is available; {remedy}",
                show(needed),
                args.requests,
                args.pages,
                args.page_size,
                show(available)
            ))
        }
        _ => Ok(()),
    }
}

/// A `kB` field of /proc/meminfo, in bytes.
fn kib_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The soft address-space limit from /proc/self/limits, in bytes; `None` if unlimited.
fn address_space_limit(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|line| line.starts_with("Max address space"))?;
    let soft = line["Max address space".len()..]
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

fn show(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    match bytes {
        b if b >= 10 * 1024 * MIB => format!("{} GB", b / (1024 * MIB)),
        b => format!("{} MB", b.div_ceil(MIB)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_kernel_reports() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:   1000 kB\n";
        assert_eq!(kib_field(meminfo, "MemAvailable:"), Some(1_024_000));
        let limited = "Max stack size            8388608   unlimited  bytes\n\
                       Max address space         6000000000  unlimited  bytes\n";
        assert_eq!(address_space_limit(limited), Some(6_000_000_000));
        let unlimited = "Max address space         unlimited  unlimited  bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
    }

    #[test]
    fn the_estimate_grows_with_requests_pages_and_the_trace() {
        use clap::Parser;
        let args = |extra: &[&str]| {
            let mut argv = vec!["ivy", "basic"];
            argv.extend_from_slice(extra);
            match crate::args::Cli::parse_from(argv).command {
                crate::args::Command::Basic(basic) => basic.run,
                _ => unreachable!("basic"),
            }
        };
        let small = estimate_bytes(&args(&[]), 1);
        assert!(small < BASE_BYTES + (1 << 20), "{small}");
        let many_pages = estimate_bytes(&args(&["--pages", "100000000"]), 1);
        assert!(many_pages > 4_000_000_000, "{many_pages}");
        let quiet = estimate_bytes(&args(&["--requests", "100000000", "--quiet"]), 1);
        let traced = estimate_bytes(&args(&["--requests", "100000000"]), 1);
        assert!(traced > quiet + 10_000_000_000, "{quiet} {traced}");
    }
}

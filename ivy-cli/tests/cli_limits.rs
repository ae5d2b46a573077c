//! Sizes bounded by the machine: a run that cannot fit in the memory the process may
//! use is refused up front with one line and exit code 2 (never an allocation
//! failure), and a large system (64 processes, a million pages) fits in little memory
//! because page tables are sparse. Limits are set with `ulimit -v`, so the tests do
//! not depend on the machine's own memory.

use std::process::Output;

/// Runs `ivy ARGS` in a shell whose address space is limited to `limit_kib`.
fn ivy_limited(limit_kib: u64, args: &str) -> Output {
    let ivy = env!("CARGO_BIN_EXE_ivy");
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib} && exec {ivy} {args}"))
        .output()
        .expect("sh runs")
}

fn assert_refused(output: &Output, args: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
    assert!(stderr.contains("this run needs about"), "{args}: {stderr}");
    assert!(!stderr.contains("memory allocation"), "{args}: {stderr}");
}

#[test]
fn a_hundred_million_pages_are_refused_before_anything_is_allocated() {
    let args = "basic --pages 100000000 --quiet";
    assert_refused(&ivy_limited(6_000_000, args), args);
}

#[test]
fn a_traced_run_of_a_hundred_million_requests_is_refused() {
    let args = "basic --requests 100000000";
    assert_refused(&ivy_limited(8_000_000, args), args);
}

#[test]
fn sixty_four_processes_and_a_million_pages_fit_in_a_small_address_space() {
    // The dense tables of 64 x 1,000,000 entries took 2.77 GB; sparse ones need
    // a few megabytes.
    let args = "basic --processes 64 --pages 1000000 --requests 2000 --quiet";
    let output = ivy_limited(2_000_000, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args}: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("2000 requests"), "{stdout}");
}
